//! Claims an operator shapes: a per-bridge `sub` prefix and any claim name
//! mapped to a path, in the ID token and at `/userinfo` alike; a user without
//! the configured subject still gets no ID token.

use super::*;

/// A TikTok bridge whose `oidc:` block ends with `extra` (keys of the block).
async fn shaped_bridge(extra: &str) -> (MockProvider, Gateway, tempfile::TempDir) {
    let mock = mock(ProviderKind::TikTok).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "k.pem", "ES256");
    let (routes, oidc) = bridge_config(&TIKTOK, &mock, &[("k1", &key, "ES256")]);
    let gateway = Gateway::start_with(&routes, &format!("{oidc}{extra}"), "info");
    (mock, gateway, dir)
}

/// A JWT's claims (its signature is checked elsewhere).
fn payload_of(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subject_carries_the_bridges_prefix_and_operators_name_their_own_claims() {
    let (mock, gateway, _dir) = shaped_bridge(
        "    subject_prefix: \"tiktok|\"\n    claims: { tiktok_open_id: [open_id], nickname: [display_name] }\n",
    )
    .await;
    let client = discover(&issuer(&gateway, &TIKTOK)).await;
    let login = login(&client, &gateway, &TIKTOK, &mock).await;
    let claims = verified_claims(&client, &login);
    assert_eq!(claims["sub"], "tiktok|union-1");
    // The library keeps only the standard claims: the operator's are read off the verified token.
    let claims = payload_of(&login.tokens.id_token().unwrap().to_string());
    assert_eq!(claims["tiktok_open_id"], "open-1");
    assert_eq!(claims["nickname"], "Mock User");
    assert_eq!(claims["name"], "Mock User", "the preset's claims stay");

    // /userinfo says the same of the same user.
    let response = get_with_bearer(
        &gateway,
        "/oidc/tiktok/userinfo",
        login.tokens.access_token().secret(),
    )
    .await;
    let (status, user) = json_of(response).await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["sub"], "tiktok|union-1");
    assert_eq!(user["tiktok_open_id"], "open-1");
    // Discovery lists the claims the bridge can issue.
    let discovery: serde_json::Value = http_client()
        .get(format!(
            "{}/.well-known/openid-configuration",
            issuer(&gateway, &TIKTOK)
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let supported = discovery["claims_supported"].as_array().unwrap();
    assert!(
        supported.contains(&"tiktok_open_id".into()),
        "{supported:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_the_configured_subject_gets_no_id_token() {
    let (mock, gateway, _dir) =
        shaped_bridge("    subject_prefix: \"tiktok|\"\n    claims: { sub: [no_such_field] }\n")
            .await;
    let code = broker_code(&gateway, "").await;
    let form = broker_token_form(&code);
    let (status, body) = post_url(&gateway.url("/oidc/tiktok/token"), form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (502, Some("server_error")),
        "{body}"
    );
    assert!(body.get("id_token").is_none() && body.get("access_token").is_none());
    let token_calls = mock
        .requests()
        .iter()
        .filter(|r| r.path == TIKTOK.token_path)
        .count();
    assert_eq!(token_calls, 1, "the provider's code was sent once");
}
