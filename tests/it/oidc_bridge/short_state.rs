//! A provider that caps and filters `state` (WeChat's in-app page: at most
//! 128 bytes of `[a-zA-Z0-9]`): the bridge's state fits it, and a broker
//! context that cannot fit is refused back to the broker with the cap named,
//! never truncated, and never sent to the provider.

use super::*;

async fn capped_bridge() -> (MockProvider, Gateway, tempfile::TempDir) {
    let mock = mock(ProviderKind::TikTok).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "k.pem", "ES256");
    let (routes, oidc) = bridge_config(&TIKTOK, &mock, &[("k1", &key, "ES256")]);
    let oidc = format!("{oidc}    state_max_bytes: 128\n    state_alphabet: alphanumeric\n");
    let gateway = Gateway::start_with(&routes, &oidc, "info");
    (mock, gateway, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capped_alphanumeric_state_carries_a_whole_login() {
    let (mock, gateway, _dir) = capped_bridge().await;
    let http = http_client();
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let to_provider = location(
        &http
            .get(format!(
                "{}?{}",
                gateway.url("/oidc/tiktok/authorize"),
                authorize_query(
                    BROKER_CALLBACK,
                    &format!("&code_challenge={challenge}&code_challenge_method=S256")
                )
            ))
            .send()
            .await
            .unwrap(),
    );
    let state = get_param(&query_of(&to_provider), "state").unwrap();
    assert!(
        state.len() <= 128 && state.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{} {state}",
        state.len()
    );
    let to_callback = location(&http.get(&to_provider).send().await.unwrap());
    let to_broker = location(&http.get(&to_callback).send().await.unwrap());
    let params = query_of(&to_broker);
    assert_eq!(get_param(&params, "state").as_deref(), Some("st-1"));
    let form = serde_urlencoded::to_string([
        ("grant_type", "authorization_code"),
        ("code", get_param(&params, "code").unwrap().as_str()),
        ("redirect_uri", BROKER_CALLBACK),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        (
            "code_verifier",
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        ),
    ])
    .unwrap();
    let (status, body) = post_url(&gateway.url("/oidc/tiktok/token"), form).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string());

    // One altered character of the state is refused at the callback.
    let mut altered = state.into_bytes();
    altered[40] = if altered[40] == b'a' { b'b' } else { b'a' };
    let altered = String::from_utf8(altered).unwrap();
    let response = http
        .get(format!(
            "{}?code=mockcode-1&state={altered}",
            gateway.url("/oidc/tiktok/callback")
        ))
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("location").is_none());
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        mock.requests()
            .iter()
            .filter(|r| r.path == TIKTOK.token_path)
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_context_too_long_for_the_cap_goes_back_to_the_broker_naming_it() {
    let (mock, gateway, _dir) = capped_bridge().await;
    let long_state = "s".repeat(300);
    let query =
        authorize_query(BROKER_CALLBACK, "").replace("state=st-1", &format!("state={long_state}"));
    let response = http_client()
        .get(format!("{}?{query}", gateway.url("/oidc/tiktok/authorize")))
        .send()
        .await
        .unwrap();
    let back = location(&response);
    assert!(back.starts_with(BROKER_CALLBACK), "{back}");
    let params = query_of(&back);
    assert_eq!(
        get_param(&params, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(
        get_param(&params, "state"),
        Some(long_state),
        "the broker's own state, whole"
    );
    let description = get_param(&params, "error_description").unwrap();
    assert!(description.contains("at most 128"), "{description}");
    assert!(mock.requests().is_empty(), "nothing reached the provider");
    gateway
        .wait_for_metric(
            "quirkgate_refused_total",
            &[("route", "/oidc/tiktok/authorize"), ("reason", "malformed")],
            1.0,
        )
        .await;
}
