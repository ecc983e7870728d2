//! `--test` on a TikTok route: the shipped file passes, bad keys are named.

#[test]
fn config_test_flag_accepts_the_shipped_file_and_names_bad_keys() {
    let binary = env!("CARGO_BIN_EXE_quirkgate");
    let ok = std::process::Command::new(binary)
        .args([
            "--config",
            concat!(env!("CARGO_MANIFEST_DIR"), "/conf/quirkgate.yaml"),
            "--test",
        ])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "listen: \"127.0.0.1:1\"\nroutes:\n  - path: /t\n    preset: tiktok\n    timeuot: 2s\n",
    )
    .unwrap();
    let out = std::process::Command::new(binary)
        .arg("--config")
        .arg(&bad)
        .arg("--test")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("timeuot") && stderr.contains("line 5"),
        "{stderr}"
    );
}

#[test]
fn config_test_flag_refuses_refresh_token_in_retry_after_send() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("replay.yaml");
    std::fs::write(
        &file,
        "listen: \"127.0.0.1:1\"\nroutes:\n  - path: /t\n    preset: tiktok\n    upstream: \"http://127.0.0.1:1/\"\n    retry_after_send: [client_credentials, refresh_token]\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quirkgate"))
        .arg("--config")
        .arg(&file)
        .arg("--test")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("retry_after_send") && stderr.contains("'refresh_token'"),
        "{stderr}"
    );
    assert!(!stderr.contains("'client_credentials'"), "{stderr}");
}
