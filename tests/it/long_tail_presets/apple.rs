//! The `apple` preset: a client secret JWT signed with the operator's key.

use super::*;

#[tokio::test]
async fn apple_preset_injects_a_client_secret_jwt_signed_with_the_operators_key() {
    let key = apple_key();
    let env = apple_env(&key);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let apple = mock(ProviderKind::Apple).await;
    let upstream = format!("http://{}/auth/token", apple.addr);
    let gateway =
        Gateway::start_with_env(&route("/apple", "apple", &upstream, ""), "", "debug", &env);
    // The broker holds only a placeholder secret: the gateway signs the real one.
    for (i, auth_type) in both_auth_types().into_iter().enumerate() {
        let client = oauth_client(&gateway.url("/apple"), APPLE_CLIENT_ID, "unused", auth_type);
        let code = format!("apcode{i}");
        let token = exchange(&client, &code).await;
        assert_eq!(token.access_token().secret(), &format!("ap.{code}"));
        let seen = apple.requests();
        let request = seen.last().unwrap();
        assert_eq!(request.body_param("client_id"), Some(APPLE_CLIENT_ID));
        assert_eq!(request.header("authorization"), None);
        let claims = verify_apple_secret(request.body_param("client_secret").unwrap(), &key);
        assert_eq!(claims["iss"], "TEAM123456");
        assert_eq!(claims["aud"], "https://appleid.apple.com");
        let lifetime = claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap();
        assert_eq!(lifetime, 30 * 86400);
    }
    // The same cached secret serves every exchange until it is renewed.
    let seen = apple.requests();
    assert_eq!(
        seen[0].body_param("client_secret"),
        seen[1].body_param("client_secret")
    );
    // Another client id cannot borrow the route's signature.
    let before = apple.requests().len();
    assert_oauth_error_answer(
        &post_answer(
            &gateway,
            "/apple",
            "grant_type=authorization_code&code=c&client_id=com.other.app&client_secret=x",
        )
        .await,
        401,
        "invalid_client",
    );
    assert_eq!(apple.requests().len(), before);
    let client = oauth_client(
        &gateway.url("/apple"),
        APPLE_CLIENT_ID,
        "unused",
        AuthType::RequestBody,
    );
    assert_eq!(
        exchange_error(&client, "expired-1").await.0,
        "invalid_grant"
    );
    let secret = seen[0].body_param("client_secret").unwrap();
    assert!(
        !gateway.log().contains(secret),
        "the signed secret is never logged"
    );
}

#[test]
fn config_test_refuses_the_apple_preset_without_a_usable_key_naming_the_route() {
    let key = apple_key();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("q.yaml");
    std::fs::write(&config, "routes:\n  - path: /apple\n    preset: apple\n").unwrap();
    let run = |env: &[(&str, String)]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_quirkgate"))
            .arg("--config")
            .arg(&config)
            .arg("--test")
            .env_remove("APPLE_KEY_FILE")
            .env_remove("APPLE_KEY_ID")
            .env_remove("APPLE_TEAM_ID")
            .env_remove("APPLE_CLIENT_ID")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = run(&[]);
    assert_eq!(code, Some(1));
    for var in [
        "APPLE_KEY_FILE",
        "APPLE_KEY_ID",
        "APPLE_TEAM_ID",
        "APPLE_CLIENT_ID",
    ] {
        assert!(
            stderr.contains("routes[0] (/apple)") && stderr.contains(var),
            "{var}: {stderr}"
        );
    }
    let mut env = apple_env(&key);
    env[0].1 = dir.path().join("missing.p8").to_str().unwrap().to_owned();
    let (code, stderr) = run(&env);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("routes[0] (/apple)") && stderr.contains("missing.p8"),
        "{stderr}"
    );
    let (code, stderr) = run(&apple_env(&key));
    assert_eq!(code, Some(0), "{stderr}");
}
