//! Exchanges that succeed: credentials in the body or in Basic, refresh
//! grants, a verified HTTPS upstream, pooling, concurrency, chunked bodies.

use super::*;

#[tokio::test]
async fn client_secret_post_exchange_renames_client_id_and_keeps_every_other_parameter() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&tiktok_route(&tiktok_token_url(tiktok.addr), ""));
    let client = tiktok_client(&gateway.url("/token/proxy"), AuthType::RequestBody);
    let token = client
        .exchange_code(AuthorizationCode::new("code*with!odd~chars".into()))
        .add_extra_param("code_verifier", "verifier-123")
        .add_extra_param("state", "opaque state")
        .request_async(&http_client())
        .await
        .unwrap();
    assert_eq!(token.access_token().secret(), "act.code*with!odd~chars");
    assert_eq!(
        token.refresh_token().unwrap().secret(),
        "rft.code*with!odd~chars"
    );

    let seen = tiktok.requests();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/v2/oauth/token/")
    );
    assert_eq!(request.body_param("client_key"), Some("tiktok-client-key"));
    assert_eq!(request.body_param("client_id"), None);
    assert_eq!(
        request.body_param("client_secret"),
        Some("s3cret+value/with=chars")
    );
    assert_eq!(request.body_param("code"), Some("code*with!odd~chars"));
    assert_eq!(request.body_param("redirect_uri"), Some(REDIRECT));
    assert_eq!(request.body_param("grant_type"), Some("authorization_code"));
    assert_eq!(request.body_param("code_verifier"), Some("verifier-123"));
    assert_eq!(request.body_param("state"), Some("opaque state"));
    assert_eq!(
        request.header("host"),
        Some(tiktok.addr.to_string().as_str())
    );
    assert_eq!(
        request.header("content-length"),
        Some(request.raw_body.len().to_string().as_str())
    );
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
}

#[tokio::test]
async fn basic_auth_credentials_become_body_parameters_and_the_header_is_not_forwarded() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&tiktok_route(&tiktok_token_url(tiktok.addr), ""));
    let client = tiktok_client(&gateway.url("/proxy/token"), AuthType::BasicAuth);
    let token = client
        .exchange_code(AuthorizationCode::new("basic-code".into()))
        .request_async(&http_client())
        .await
        .unwrap();
    assert_eq!(token.access_token().secret(), "act.basic-code");
    let request = &tiktok.requests()[0];
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.body_param("client_key"), Some("tiktok-client-key"));
    assert_eq!(
        request.body_param("client_secret"),
        Some("s3cret+value/with=chars")
    );
}

#[tokio::test]
async fn refresh_token_grant_works_like_a_code_grant() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&tiktok_route(&tiktok_token_url(tiktok.addr), ""));
    let client = tiktok_client(&gateway.url("/token/proxy"), AuthType::RequestBody);
    let token = client
        .exchange_refresh_token(&RefreshToken::new("rft.old".into()))
        .request_async(&http_client())
        .await
        .unwrap();
    assert_eq!(token.access_token().secret(), "act.rft.old.next");
    let request = &tiktok.requests()[0];
    assert_eq!(request.body_param("grant_type"), Some("refresh_token"));
    assert_eq!(request.body_param("refresh_token"), Some("rft.old"));
    assert_eq!(request.body_param("client_key"), Some("tiktok-client-key"));
}

#[tokio::test]
async fn https_upstream_is_verified_against_ca_file_and_refused_without_it() {
    let pki = TestPki::new();
    let tiktok = mock_tls(ProviderKind::TikTok, &pki).await;
    let url = format!("https://127.0.0.1:{}/v2/oauth/token/", tiktok.addr.port());
    let trusted = tiktok_route(&url, &format!("ca_file: {}", pki.ca_path.display()));
    let untrusted = route("/untrusted", "tiktok", &url, "retries: 0");
    let gateway = Gateway::start(&format!("{trusted}{untrusted}"));

    let client = tiktok_client(&gateway.url("/token/proxy"), AuthType::RequestBody);
    let token = client
        .exchange_code(AuthorizationCode::new("tls-code".into()))
        .request_async(&http_client())
        .await
        .unwrap();
    assert_eq!(token.access_token().secret(), "act.tls-code");

    let refused = http_client()
        .post(gateway.url("/untrusted"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=authorization_code&code=c2&client_id=a&client_secret=b")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 502);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(body["error"].is_string() && body["error_description"].is_string());
    assert_eq!(
        tiktok.requests().len(),
        1,
        "the unverified upstream must not get the code"
    );
    assert!(
        gateway
            .metric(
                "quirkgate_upstream_errors_total",
                &[("route", "/untrusted"), ("kind", "tls")]
            )
            .await
            >= 1.0
    );
}

#[tokio::test]
async fn upstream_connections_are_pooled_and_reused() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&tiktok_route(&tiktok_token_url(tiktok.addr), ""));
    let client = tiktok_client(&gateway.url("/token/proxy"), AuthType::RequestBody);
    for i in 0..5 {
        let token = client
            .exchange_code(AuthorizationCode::new(format!("pooled-{i}")))
            .request_async(&http_client())
            .await
            .unwrap();
        assert_eq!(token.access_token().secret(), &format!("act.pooled-{i}"));
    }
    assert_eq!(
        tiktok.connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one upstream connection for five exchanges"
    );
    assert_eq!(
        gateway
            .metric(
                "quirkgate_upstream_connections_total",
                &[("reused", "true")]
            )
            .await,
        4.0
    );
}

#[tokio::test]
async fn concurrent_exchanges_each_get_their_own_token() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&tiktok_route(&tiktok_token_url(tiktok.addr), ""));
    let url = gateway.url("/token/proxy");
    let http = http_client();
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let (url, http) = (url.clone(), http.clone());
            tokio::spawn(async move {
                let client = tiktok_client(
                    &url,
                    if i % 2 == 0 {
                        AuthType::RequestBody
                    } else {
                        AuthType::BasicAuth
                    },
                );
                let token = client
                    .exchange_code(AuthorizationCode::new(format!("c{i}")))
                    .request_async(&http)
                    .await
                    .unwrap();
                (i, token.access_token().secret().clone())
            })
        })
        .collect();
    for task in tasks {
        let (i, token) = task.await.unwrap();
        assert_eq!(token, format!("act.c{i}"));
    }
    assert_eq!(tiktok.requests().len(), 300);
}

#[tokio::test]
async fn provider_error_in_a_200_reaches_the_client_as_an_oauth_error() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&tiktok_route(&tiktok_token_url(tiktok.addr), ""));
    let client = tiktok_client(&gateway.url("/token/proxy"), AuthType::RequestBody);
    let err = client
        .exchange_code(AuthorizationCode::new("expired-1".into()))
        .request_async(&http_client())
        .await
        .unwrap_err();
    match err {
        oauth2::RequestTokenError::ServerResponse(response) => {
            assert_eq!(response.error().as_ref(), "invalid_grant");
            assert_eq!(
                response.error_description().map(String::as_str),
                Some("Authorization code is expired.")
            );
        }
        other => panic!("expected an OAuth error, got {other:?}"),
    }
    let raw = http_client()
        .post(gateway.url("/token/proxy"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=authorization_code&code=expired-2&client_id=a&client_secret=b")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert_eq!(raw.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn chunked_request_bodies_are_accepted() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&tiktok_route(&tiktok_token_url(tiktok.addr), ""));
    let chunks = futures_stream(vec![
        "grant_type=authorization_code&co".into(),
        "de=chunky&client_id=a&client_secret=b".into(),
    ]);
    let (status, body, _) = post_as(
        &gateway,
        "/token/proxy",
        FORM,
        reqwest::Body::wrap_stream(chunks),
    )
    .await;
    assert_eq!(
        (status, body["access_token"].as_str()),
        (200, Some("act.chunky"))
    );
    let request = &tiktok.requests()[0];
    assert_eq!(
        request.header("content-length"),
        Some(request.raw_body.len().to_string().as_str())
    );
}

#[tokio::test]
async fn move_to_body_carries_a_query_parameter_into_the_body() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let rules = "request:\n  - add: { query: { audience: api-1, keep: yes } }\n  - move_to_body: [audience]";
    let gateway = Gateway::start(&format!(
        "  - path: /token\n    preset: tiktok\n    upstream: \"http://{}/v2/oauth/token/\"\n{}\n",
        tiktok.addr,
        rules
            .lines()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    ));
    let (status, body, _) = post_as(&gateway, "/token", FORM, GOOD.to_owned()).await;
    assert_eq!(status, 200, "{body}");
    let seen = tiktok.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body_param("audience"), Some("api-1"));
    assert_eq!(seen[0].query_param("audience"), None);
    assert_eq!(
        seen[0].query_param("keep"),
        Some("yes"),
        "only the named parameter moves"
    );
    assert_eq!(seen[0].body_param("keep"), None);
    assert_eq!(
        seen[0].body_param("code"),
        Some("c"),
        "the body keeps what it had"
    );
}
