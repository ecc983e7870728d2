//! `okru` and `okru-userinfo`: the code exchange, and API calls signed with `sig`.

use super::*;
use quirkgate_mocks::signed::{okru_expected_sig, MOCK_OKRU_APPLICATION_KEY, MOCK_OKRU_SECRET};

async fn okru_gateway(secret: &str) -> (MockProvider, Gateway) {
    let okru = mock(ProviderKind::OkRu).await;
    let routes = route(
        "/okru",
        "okru",
        &format!("http://{}/oauth/token.do", okru.addr),
        "",
    ) + &route(
        "/okru/userinfo",
        "okru-userinfo",
        &format!("http://{}/fb.do", okru.addr),
        "",
    );
    let gateway = Gateway::start_with_env(
        &routes,
        "",
        "info",
        &[
            ("OKRU_APPLICATION_KEY", MOCK_OKRU_APPLICATION_KEY),
            ("OKRU_CLIENT_SECRET", secret),
        ],
    );
    (okru, gateway)
}

#[tokio::test]
async fn okru_preset_exchanges_with_body_credentials_and_answers_bearer() {
    let (okru, gateway) = okru_gateway(MOCK_OKRU_SECRET).await;
    for (i, auth_type) in both_auth_types().into_iter().enumerate() {
        let client = oauth_client(&gateway.url("/okru"), "512000000001", ODD_SECRET, auth_type);
        let code = format!("okcode{i}");
        let token = exchange(&client, &code).await;
        assert_eq!(token.access_token().secret(), &format!("ok.{code}"));
        // OK.ru says "session"; the standard client is told Bearer.
        assert_eq!(*token.token_type(), oauth2::basic::BasicTokenType::Bearer);
        let seen = okru.requests();
        let request = seen.last().unwrap();
        assert_eq!(request.body_param("client_id"), Some("512000000001"));
        assert_eq!(request.body_param("client_secret"), Some(ODD_SECRET));
        assert_eq!(request.header("authorization"), None);
        let renewed = refresh(&client, &format!("okr.{code}")).await;
        assert_eq!(renewed.access_token().secret(), &format!("ok.okr.{code}"));
    }
    let client = oauth_client(
        &gateway.url("/okru"),
        "512000000001",
        ODD_SECRET,
        AuthType::BasicAuth,
    );
    let (error, description, (status, provider)) =
        bad_code_is_an_rfc_error_sent_once(&okru, ProviderKind::OkRu, &client).await;
    assert_eq!(
        (error.as_str(), description.as_deref()),
        ("invalid_grant", Some("Expired code"))
    );
    // OK.ru's own answer: HTTP 200 with its error code.
    assert_eq!(
        (status, &provider["error"]),
        (200, &serde_json::json!("invalid_code"))
    );
}

#[tokio::test]
async fn okru_userinfo_signs_the_call_with_the_apps_secret_key() {
    let (okru, gateway) = okru_gateway(MOCK_OKRU_SECRET).await;
    let (status, body) = bearer_get(&gateway, "/okru/userinfo", "ok.okcode0").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["uid"], "575662066926");
    let seen = okru.requests();
    let request = seen.last().unwrap();
    assert_eq!(request.method, "GET");
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.query_param("access_token"), Some("ok.okcode0"));
    assert_eq!(
        request.query_param("application_key"),
        Some(MOCK_OKRU_APPLICATION_KEY)
    );
    assert_eq!(request.query_param("method"), Some("users.getCurrentUser"));
    assert_eq!(
        request.query_param("sig").map(str::to_owned),
        Some(okru_expected_sig(&request.query, "ok.okcode0"))
    );
    // OK.ru's HTTP 200 errors: an expired session is invalid_token.
    let (status, body) = bearer_get(&gateway, "/okru/userinfo", "bad-session").await;
    assert_eq!(
        (status, &body["error"]),
        (401, &serde_json::json!("invalid_token")),
        "{body}"
    );
}

#[tokio::test]
async fn okru_userinfo_with_the_wrong_secret_key_is_refused_by_okru_as_a_client_error() {
    let (okru, gateway) = okru_gateway("not-the-apps-secret").await;
    let (status, body) = bearer_get(&gateway, "/okru/userinfo", "ok.okcode0").await;
    assert_eq!(
        (status, &body["error"]),
        (401, &serde_json::json!("invalid_client")),
        "{body}"
    );
    assert_eq!(okru.requests().len(), 1);
}
