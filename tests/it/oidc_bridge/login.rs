//! A relying party logs in through each provider behind the bridge.

use super::*;

async fn run_provider(provider: &Provider, algorithm: &str) {
    let mock = mock(provider.kind).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "signing.pem", algorithm);
    let (routes, oidc) = bridge_config(provider, &mock, &[("k1", &key, algorithm)]);
    let gateway = Gateway::start_with(&routes, &oidc, "info");
    let client = discover(&issuer(&gateway, provider)).await;
    let login = login(&client, &gateway, provider, &mock).await;
    let claims = verified_claims(&client, &login);
    assert_eq!(claims["iss"], issuer(&gateway, provider));
    assert!(
        claims["aud"] == CLIENT_ID || claims["aud"] == serde_json::json!([CLIENT_ID]),
        "{claims}"
    );
    assert_eq!(claims["sub"], provider.sub);
    assert_eq!(claims["name"], provider.name_claim);
    assert!(claims["picture"].as_str().unwrap().starts_with("https://"));
    let (iat, exp) = (
        claims["iat"].as_f64().unwrap(),
        claims["exp"].as_f64().unwrap(),
    );
    assert_eq!(exp - iat, 3600.0, "the default ID token lifetime");
    assert!(claims["auth_time"].as_f64().unwrap() <= iat);
    if provider.name == "github" {
        assert_eq!(claims["email"], "octocat@example.com");
        assert_eq!(claims["preferred_username"], "octocat");
    }

    // The provider saw its own names, the bridge's callback, and the code once.
    let token_calls: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|r| r.path == provider.token_path)
        .collect();
    assert_eq!(token_calls.len(), 1);
    let call = &token_calls[0];
    let sent = |name: &str| {
        call.body_param(name)
            .or_else(|| call.query_param(name))
            .map(str::to_owned)
    };
    assert_eq!(sent("code").as_deref(), Some("mockcode-1"));
    // WeChat's token call takes no redirect_uri (its preset leaves it out).
    let expected_redirect =
        (provider.name != "wechat").then(|| format!("{}/callback", issuer(&gateway, provider)));
    assert_eq!(sent("redirect_uri"), expected_redirect);
    assert_eq!(
        sent("code_verifier"),
        None,
        "PKCE is checked by the bridge, not forwarded"
    );

    // /userinfo answers the same subject (the library checks it against the ID token's).
    let user = user_info(&client, &login, &gateway).await;
    assert_eq!(user["sub"], provider.sub);
    assert_eq!(user["name"], provider.name_claim);

    // Each endpoint is counted under its own path, like a route (counted
    // once the answer is written, so poll until the last one is).
    let endpoints = [
        ("/.well-known/openid-configuration", "GET", "200"),
        ("/authorize", "GET", "3xx"),
        ("/callback", "GET", "3xx"),
        ("/token", "POST", "200"),
        ("/userinfo", "GET", "200"),
    ];
    let all_counted = |metrics: &str| {
        endpoints.iter().all(|(endpoint, method, _)| {
            let path = format!("/oidc/{}{endpoint}", provider.name);
            metric_series(
                metrics,
                "quirkgate_requests_total",
                &[("route", &path), ("method", method)],
            )
            .is_some_and(|n| n >= 1.0)
        })
    };
    let metrics = match eventually(Duration::from_secs(10), || async {
        let metrics = gateway.metrics().await;
        all_counted(&metrics).then_some(metrics)
    })
    .await
    {
        Some(metrics) => metrics,
        None => gateway.metrics().await,
    };
    for (endpoint, method, status) in endpoints {
        let path = format!("/oidc/{}{endpoint}", provider.name);
        let counted = metric_series(
            &metrics,
            "quirkgate_requests_total",
            &[("route", &path), ("method", method)],
        );
        assert!(
            counted.is_some_and(|n| n >= 1.0),
            "{path} {method} {status}:\n{metrics}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oidc_relying_party_logs_in_through_tiktok() {
    run_provider(&TIKTOK, "ES256").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oidc_relying_party_logs_in_through_wechat() {
    run_provider(&WECHAT, "ES256").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oidc_relying_party_logs_in_through_github_with_an_rs256_key() {
    run_provider(&GITHUB, "RS256").await;
}
