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

#[test]
fn config_test_reads_the_edge_certificate_as_a_start_would() {
    let dir = tempfile::tempdir().unwrap();
    let config = |cert: &std::path::Path, key: &std::path::Path| {
        let path = dir.path().join("quirkgate.yaml");
        std::fs::write(
            &path,
            format!(
                "listen: \"127.0.0.1:0\"\ntls:\n  cert_file: {}\n  key_file: {}\nroutes:\n  - path: /token\n    preset: tiktok\n    upstream: \"http://127.0.0.1:9/v2/oauth/token/\"\n",
                cert.display(),
                key.display()
            ),
        )
        .unwrap();
        path
    };
    let missing = dir.path().join("missing.pem");
    let out = quirkgate()
        .args(["--test", "--config"])
        .arg(config(&missing, &missing))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: tls: ") && stderr.contains("missing.pem"),
        "{stderr}"
    );

    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.path().join("edge.crt"), dir.path().join("edge.key"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
    let out = quirkgate()
        .args(["--test", "--config"])
        .arg(config(&cert, &key))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
