//! Signing keys rotate on SIGHUP; old tokens validate while their key is published.

use super::*;

/// Replaces the `oidc:` block of the gateway's file and reloads it with SIGHUP.
async fn rotate(gateway: &Gateway, oidc: &str, reloads: f64) {
    let text = std::fs::read_to_string(&gateway.config_path).unwrap();
    let (head, routes) = text.split_once("\noidc:\n").unwrap();
    let routes = &routes[routes.find("\nroutes:\n").unwrap()..];
    let oidc = oidc.replace("{{gateway_port}}", &gateway.port.to_string());
    std::fs::write(&gateway.config_path, format!("{head}\n{oidc}{routes}")).unwrap();
    gateway.signal("HUP");
    gateway
        .wait_for_metric(
            "quirkgate_config_reloads_total",
            &[("result", "ok")],
            reloads,
        )
        .await;
}

fn kids(jwks: &serde_json::Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_on_sighup_and_old_tokens_validate_while_their_key_is_published() {
    let mock = mock(ProviderKind::TikTok).await;
    let dir = tempfile::tempdir().unwrap();
    let old_key = key_file(dir.path(), "old.pem", "ES256");
    let new_key = key_file(dir.path(), "new.pem", "RS256");
    let (routes, oidc) = bridge_config(&TIKTOK, &mock, &[("old", &old_key, "ES256")]);
    let gateway = Gateway::start_with(&routes, &oidc, "info");
    let issuer = issuer(&gateway, &TIKTOK);
    let jwks_url = format!("{issuer}/jwks");
    let client = discover(&issuer).await;
    let before = login(&client, &gateway, &TIKTOK, &mock).await;
    verified_claims(&client, &before);
    assert_eq!(
        before
            .tokens
            .id_token()
            .unwrap()
            .to_string()
            .split('.')
            .count(),
        3
    );

    // Step 1: the new key signs, the old one stays published.
    rotate(
        &gateway,
        &oidc_block(
            &TIKTOK,
            &mock,
            &[("new", &new_key, "RS256"), ("old", &old_key, "ES256")],
        ),
        1.0,
    )
    .await;
    let response = http_client().get(&jwks_url).send().await.unwrap();
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let jwks: serde_json::Value = response.json().await.unwrap();
    assert_eq!(kids(&jwks), ["new", "old"]);
    let refreshed = discover(&issuer).await;
    verified_claims(&refreshed, &before);
    let after = login(&refreshed, &gateway, &TIKTOK, &mock).await;
    verified_claims(&refreshed, &after);
    let header = |token: &CoreIdToken| {
        let text = token.to_string();
        let head = text.split('.').next().unwrap().to_owned();
        serde_json::from_slice::<serde_json::Value>(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, head)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(header(after.tokens.id_token().unwrap())["kid"], "new");
    assert_eq!(header(after.tokens.id_token().unwrap())["alg"], "RS256");
    assert_eq!(header(before.tokens.id_token().unwrap())["kid"], "old");

    // Step 2: the old key is withdrawn; tokens it signed no longer validate.
    rotate(
        &gateway,
        &oidc_block(&TIKTOK, &mock, &[("new", &new_key, "RS256")]),
        2.0,
    )
    .await;
    let retired = discover(&issuer).await;
    assert!(before
        .tokens
        .id_token()
        .unwrap()
        .claims(&retired.id_token_verifier(), &before.nonce)
        .is_err());
    verified_claims(&retired, &after);

    // A reload with a key file that is not there is refused; the running keys stay.
    let missing = dir.path().join("missing.pem");
    let text = std::fs::read_to_string(&gateway.config_path).unwrap();
    std::fs::write(
        &gateway.config_path,
        text.replace(
            &new_key.display().to_string(),
            &missing.display().to_string(),
        ),
    )
    .unwrap();
    gateway.signal("HUP");
    gateway
        .wait_for_metric(
            "quirkgate_config_reloads_total",
            &[("result", "error")],
            1.0,
        )
        .await;
    let jwks: serde_json::Value = http_client()
        .get(&jwks_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kids(&jwks), ["new"]);
}
