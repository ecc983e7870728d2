//! `--test` names the route and the variable of a value a preset needs.

#[test]
fn config_test_refuses_a_preset_whose_value_is_missing_naming_route_and_variable() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("q.yaml");
    std::fs::write(
        &config,
        "routes:\n  - path: /twitch/userinfo\n    preset: twitch-userinfo\n  - path: /facebook/me\n    preset: facebook-userinfo\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quirkgate"))
        .arg("--config")
        .arg(&config)
        .arg("--test")
        .env_remove("TWITCH_CLIENT_ID")
        .env_remove("FACEBOOK_APP_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "routes[0] (/twitch/userinfo)",
        "TWITCH_CLIENT_ID",
        "routes[1] (/facebook/me)",
        "FACEBOOK_APP_SECRET",
    ] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quirkgate"))
        .arg("--config")
        .arg(&config)
        .arg("--test")
        .env("TWITCH_CLIENT_ID", "id")
        .env("FACEBOOK_APP_SECRET", "secret")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
