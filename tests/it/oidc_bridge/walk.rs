//! The one-minute walk of docs/oidc-bridge.md ("The bridge in one minute"),
//! run as written: its ```` ```sh walk ```` block under bash with `set -euo
//! pipefail`, on free loopback ports, with the shipped
//! `conf/oidc-example.yaml` and the mocks binary. It must print a verified
//! signature and the claims, and the gateway's log must hold no secret.

use std::path::Path;
use std::process::Command;

use super::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn walk_block() -> String {
    let doc = std::fs::read_to_string(Path::new(ROOT).join("docs/oidc-bridge.md")).unwrap();
    let (_, rest) = doc
        .split_once("```sh walk\n")
        .expect("docs/oidc-bridge.md has a ```sh walk block");
    rest.split_once("```").unwrap().0.to_owned()
}

#[test]
fn the_documented_one_minute_walk_logs_in_and_verifies_the_id_token() {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_quirkgate")).parent().unwrap();
    assert!(
        bin_dir.join("quirkgate-mocks").exists(),
        "the walk needs the mocks binary: cargo build --release -p quirkgate-mocks"
    );
    let keys = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c"])
        .arg(walk_block())
        .current_dir(ROOT)
        .env("QUIRKGATE_BIN_DIR", bin_dir)
        .env("OIDC_KEY_DIR", keys.path())
        .env("QUIRKGATE_LISTEN", &listen)
        .env(
            "QUIRKGATE_METRICS_LISTEN",
            format!("127.0.0.1:{}", free_port()),
        )
        .env("MOCK_ADDR", format!("127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let log = std::fs::read_to_string(keys.path().join("gateway.log")).unwrap_or_default();
    assert!(
        output.status.success(),
        "the walk failed: {}\n{stdout}\n{log}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("Verified OK"), "{stdout}");
    let issuer = format!("\"iss\":\"http://{listen}/oidc/tiktok\"");
    for claim in [
        issuer.as_str(),
        "\"nonce\":\"nc-1\"",
        "\"sub\":\"union-1\"",
        "\"at_hash\":",
    ] {
        assert!(stdout.contains(claim), "{claim} in {stdout}");
    }
    assert!(
        stdout.contains("\"name\":\"Mock User\""),
        "/userinfo: {stdout}"
    );
    assert!(log.contains("SIGHUP reloads"), "the gateway ran: {log}");
    for secret in ["cs_example", "Authorization", "mockcode-1"] {
        assert!(
            !log.contains(secret),
            "{secret} in the gateway's log: {log}"
        );
    }
}
