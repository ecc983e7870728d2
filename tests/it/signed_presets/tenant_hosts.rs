//! Per-tenant hosts from configuration: Shopify's shop and a self-managed
//! GitLab's base URL. The host is the operator's, never the caller's.

use super::*;

/// A Shopify mock and a gateway whose route uses `preset` (SHOPIFY_SHOP set,
/// the mock as the route's own upstream).
async fn shopify_route(
    route_path: &str,
    preset: &str,
    provider_path: &str,
) -> (MockProvider, Gateway) {
    let shopify = mock(ProviderKind::Shopify).await;
    let upstream = format!("http://{}{provider_path}", shopify.addr);
    let gateway = Gateway::start_with_env(
        &route(route_path, preset, &upstream, ""),
        "",
        "info",
        &[("SHOPIFY_SHOP", "mock-shop")],
    );
    (shopify, gateway)
}

#[tokio::test]
async fn shopify_preset_sends_the_code_with_body_credentials_and_adds_bearer() {
    let (shopify, gateway) =
        shopify_route("/shopify", "shopify", "/admin/oauth/access_token").await;
    for (i, auth_type) in both_auth_types().into_iter().enumerate() {
        let client = oauth_client(&gateway.url("/shopify"), "shop-app", ODD_SECRET, auth_type);
        let code = format!("shcode{i}");
        let token = exchange(&client, &code).await;
        assert_eq!(token.access_token().secret(), &format!("shpat_{code}"));
        assert_eq!(*token.token_type(), oauth2::basic::BasicTokenType::Bearer);
        let seen = shopify.requests();
        let request = seen.last().unwrap();
        assert_eq!(request.body_param("client_secret"), Some(ODD_SECRET));
        assert_eq!(request.body_param("grant_type"), None);
        assert_eq!(request.body_param("redirect_uri"), None);
    }
    let client = oauth_client(
        &gateway.url("/shopify"),
        "shop-app",
        ODD_SECRET,
        AuthType::RequestBody,
    );
    let (error, _, (status, _)) =
        bad_code_is_an_rfc_error_sent_once(&shopify, ProviderKind::Shopify, &client).await;
    assert_eq!((error.as_str(), status), ("invalid_request", 400));
}

#[tokio::test]
async fn a_caller_cannot_steer_the_tenant_host() {
    let (shopify, gateway) =
        shopify_route("/shopify", "shopify", "/admin/oauth/access_token").await;
    let decoy = mock(ProviderKind::Shopify).await;
    let elsewhere = decoy.addr.to_string();
    let body = format!(
        "grant_type=authorization_code&code=steer1&client_id=a&client_secret=b&shop={elsewhere}&host={elsewhere}"
    );
    let (status, answer, _) = post_with(
        &gateway,
        "/shopify",
        &[
            ("x-forwarded-host", &elsewhere),
            ("forwarded", &format!("host={elsewhere}")),
        ],
        body,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(seen_with(&shopify, "code", "steer1"), 1);
    // The Host header is the caller's too.
    let answer = http_client()
        .post(gateway.url("/shopify"))
        .header("host", &elsewhere)
        .header("content-type", FORM)
        .body("grant_type=authorization_code&code=steer2&client_id=a&client_secret=b")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(seen_with(&shopify, "code", "steer2"), 1);
    assert!(
        decoy.requests().is_empty(),
        "the decoy heard {:?}",
        decoy.requests()
    );
}

#[test]
fn the_shop_must_be_one_label_of_myshopify_com() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("quirkgate.yaml");
    // No upstream on the route: the preset's own, built from SHOPIFY_SHOP.
    std::fs::write(
        &config,
        "listen: \"127.0.0.1:0\"\nroutes:\n  - path: /shopify\n    preset: shopify\n",
    )
    .unwrap();
    let check = |shop: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_quirkgate"))
            .args(["--test", "--config"])
            .arg(&config)
            .env("SHOPIFY_SHOP", shop)
            .output()
            .unwrap()
    };
    assert!(check("mock-shop").status.success());
    for steered in [
        "evil.example/x?",
        "evil.example#",
        "a.b",
        "evil.example:443/",
    ] {
        let out = check(steered);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{steered}: {stderr}");
        assert!(
            stderr.contains("(/shopify)") && stderr.contains("upstream"),
            "{stderr}"
        );
        assert!(stderr.contains("*.myshopify.com"), "{stderr}");
    }
}

#[tokio::test]
async fn shopify_userinfo_sends_the_token_in_shopifys_header_and_answers_the_shop_flat() {
    let (shopify, gateway) = shopify_route(
        "/shopify/userinfo",
        "shopify-userinfo",
        "/admin/api/2024-10/shop.json",
    )
    .await;
    let (status, body) = bearer_get(&gateway, "/shopify/userinfo", "shpat_shcode0").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], "548380009");
    assert_eq!(body["email"], "owner@shop.example");
    let seen = shopify.requests();
    assert_eq!(
        seen[0].header("x-shopify-access-token"),
        Some("shpat_shcode0")
    );
    assert_eq!(seen[0].header("authorization"), None);
    let (status, body) = bearer_get(&gateway, "/shopify/userinfo", "expired").await;
    assert_eq!(
        (status, &body["error"]),
        (401, &serde_json::json!("invalid_client")),
        "{body}"
    );
}

#[tokio::test]
async fn gitlab_presets_hang_off_the_configured_base_url() {
    let gitlab = mock(ProviderKind::GitLab).await;
    let base = format!("http://{}", gitlab.addr);
    // No upstream on the routes: both come from GITLAB_URL.
    let routes = "  - path: /gitlab\n    preset: gitlab\n  - path: /gitlab/user\n    preset: gitlab-userinfo\n";
    let gateway = Gateway::start_with_env(routes, "", "info", &[("GITLAB_URL", &base)]);
    for (i, auth_type) in both_auth_types().into_iter().enumerate() {
        let client = oauth_client(&gateway.url("/gitlab"), "gl-app", ODD_SECRET, auth_type);
        let code = format!("glcode{i}");
        let token = exchange(&client, &code).await;
        assert_eq!(token.access_token().secret(), &format!("gl.{code}"));
        let seen = gitlab.requests();
        let request = seen.last().unwrap();
        assert_eq!(request.path, "/oauth/token");
        assert_eq!(request.body_param("client_secret"), Some(ODD_SECRET));
        assert_eq!(request.header("authorization"), None);
        let renewed = refresh(&client, &format!("glr.{code}")).await;
        assert_eq!(renewed.access_token().secret(), &format!("gl.glr.{code}"));
    }
    let (status, body) = post(
        &gateway,
        "/gitlab",
        "grant_type=authorization_code&code=raw&redirect_uri=https%3A%2F%2Fx&client_id=a&client_secret=b",
    )
    .await;
    assert_eq!(
        (status, &body["created_at"]),
        (200, &serde_json::json!(1_796_176_800u64))
    );
    let client = oauth_client(
        &gateway.url("/gitlab"),
        "gl-app",
        ODD_SECRET,
        AuthType::BasicAuth,
    );
    let (error, _, (status, _)) =
        bad_code_is_an_rfc_error_sent_once(&gitlab, ProviderKind::GitLab, &client).await;
    assert_eq!((error.as_str(), status), ("invalid_grant", 400));

    let (status, body) = bearer_get(&gateway, "/gitlab/user", "gl.glcode0").await;
    assert_eq!(
        (status, &body["username"]),
        (200, &serde_json::json!("mock")),
        "{body}"
    );
    assert_eq!(gitlab.requests().last().unwrap().path, "/api/v4/user");
    let (status, body) = bearer_get(&gateway, "/gitlab/user", "expired").await;
    assert_eq!(
        (status, &body["error"]),
        (401, &serde_json::json!("invalid_client")),
        "{body}"
    );
}
