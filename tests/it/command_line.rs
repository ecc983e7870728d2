//! The command line as a new user meets it: help texts of its own for every
//! flag, no mock subcommand in the production binary, and a closed pipe that
//! ends the process quietly.

use std::process::{Command, Stdio};

fn quirkgate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_quirkgate"))
}

#[test]
fn help_explains_every_flag_in_its_own_words() {
    let out = quirkgate().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "-c, --config",
        "-t, --test",
        "-d, --daemon",
        "-u, --upgrade",
        "--conf <PINGORA_CONF>",
    ] {
        let line = help
            .lines()
            .find(|line| line.trim_start().starts_with(flag))
            .unwrap_or_else(|| panic!("no {flag} in:\n{help}"));
        let text = line.trim_start()[flag.len()..].trim();
        assert!(
            !text.is_empty() || help.contains(flag),
            "{flag} has no help: {line}"
        );
    }
    // Pingora's doc comments are not ours to show.
    for foreign in [
        "pingora-based service",
        "upgrading service where the user",
        "nocapture",
    ] {
        assert!(!help.contains(foreign), "--help shows '{foreign}':\n{help}");
    }
    assert!(help.contains("Check the configuration and exit"), "{help}");
}

#[test]
fn the_gateway_binary_has_no_mock_subcommand() {
    for mock in ["mock-provider", "mock-auth0"] {
        let out = quirkgate().arg(mock).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{mock} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("unrecognized subcommand"), "{stderr}");
    }
}

#[test]
fn a_closed_pipe_ends_the_listing_quietly_with_status_0() {
    // The reading end is closed before the process writes: every write fails with EPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    for args in [&["presets"][..], &["presets", "tiktok"][..]] {
        let out = quirkgate()
            .args(args)
            .stdout(Stdio::from(writer.try_clone().unwrap()))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?} wrote to stderr: {stderr}");
    }
}
