//! QQ Connect's two user calls as gateway routes: `qq-me` (the open id of a
//! Bearer token) and `qq-userinfo` (the user, with the app id as
//! `oauth_consumer_key`), against the strict QQ mock; in-band errors become
//! RFC 6749 errors, a refused token RFC 6750 `invalid_token` with its challenge.

use super::*;
use quirkgate_mocks::qq::{MOCK_QQ_APP_ID, MOCK_QQ_NICKNAME, MOCK_QQ_OPENID, MOCK_QQ_UNIONID};

const ME: &str = "/oauth2.0/me";
const USER: &str = "/user/get_user_info";

async fn qq_gateway() -> (MockProvider, Gateway) {
    let qq = mock(ProviderKind::Qq).await;
    let routes = format!(
        "{}{}",
        route("/qq/me", "qq-me", &format!("http://{}{ME}", qq.addr), ""),
        route(
            "/qq/user",
            "qq-userinfo",
            &format!("http://{}{USER}", qq.addr),
            ""
        )
    );
    (qq, Gateway::start(&routes))
}

/// Every request the mock saw passes its own endpoint check.
fn assert_all_accepted(qq: &MockProvider) {
    for request in qq.requests() {
        let endpoint = ProviderKind::Qq
            .endpoints()
            .iter()
            .find(|e| e.path == request.path)
            .unwrap();
        assert_eq!(endpoint.check(&request), Ok(()), "{}", request.path);
    }
}

fn challenge(headers: &reqwest::header::HeaderMap) -> String {
    headers["www-authenticate"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn qq_me_sends_the_bearer_token_in_the_query_and_asks_for_the_union_id_as_json() {
    let (qq, gateway) = qq_gateway().await;
    let (status, body) = bearer_get(&gateway, "/qq/me", "qq.code-1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["openid"], MOCK_QQ_OPENID);
    assert_eq!(body["unionid"], MOCK_QQ_UNIONID);
    assert_eq!(body["client_id"], MOCK_QQ_APP_ID);
    let seen = &qq.requests()[0];
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.query_param("access_token"), Some("qq.code-1"));
    assert_eq!(seen.query_param("unionid"), Some("1"));
    assert_eq!(seen.query_param("fmt"), Some("json"));
    assert_eq!(seen.header("authorization"), None);

    // QQ refuses the token in-band (HTTP 200, error 100016).
    let response = get_with_bearer(&gateway, "/qq/me", "expired").await;
    assert_eq!(response.status(), 401);
    assert!(challenge(response.headers()).contains("error=\"invalid_token\""));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");

    // No token: refused before QQ.
    let before = qq.requests().len();
    let response = http_client()
        .get(gateway.url("/qq/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(qq.requests().len(), before);
    assert_all_accepted(&qq);
}

#[tokio::test]
async fn qq_userinfo_sends_the_app_id_as_oauth_consumer_key_and_turns_ret_into_errors() {
    let (qq, gateway) = qq_gateway().await;
    let bearer = [("authorization", "Bearer qq.code-1")];
    let form = format!("openid={MOCK_QQ_OPENID}&client_id={MOCK_QQ_APP_ID}");
    let (status, body, _) = post_with(&gateway, "/qq/user", &bearer, form.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["nickname"], MOCK_QQ_NICKNAME);
    assert_eq!(body["ret"], 0);
    let seen = &qq.requests()[0];
    assert_eq!((seen.method.as_str(), seen.raw_body.len()), ("GET", 0));
    assert_eq!(seen.query_param("access_token"), Some("qq.code-1"));
    assert_eq!(seen.query_param("oauth_consumer_key"), Some(MOCK_QQ_APP_ID));
    assert_eq!(seen.query_param("openid"), Some(MOCK_QQ_OPENID));
    assert_eq!(seen.query_param("client_id"), None);

    // ret -1 (an open id that is not the token's): an RFC 6749 error, not a 200.
    let other = format!("openid=someone-else&client_id={MOCK_QQ_APP_ID}");
    let (status, body, _) = post_with(&gateway, "/qq/user", &bearer, other).await;
    assert_eq!(
        (status, &body["error"]),
        (400, &serde_json::json!("invalid_request")),
        "{body}"
    );
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("openid"));

    // ret 100016 (a refused token): RFC 6750 invalid_token with its challenge.
    let expired = [("authorization", "Bearer expired")];
    let (status, body, headers) = post_with(&gateway, "/qq/user", &expired, form).await;
    assert_eq!(
        (status, &body["error"]),
        (401, &serde_json::json!("invalid_token")),
        "{body}"
    );
    assert!(
        challenge(&headers).starts_with("Bearer ") && challenge(&headers).contains("invalid_token")
    );

    // Without the open id or the app id: refused before QQ.
    let before = qq.requests().len();
    for missing in [
        format!("client_id={MOCK_QQ_APP_ID}"),
        format!("openid={MOCK_QQ_OPENID}"),
    ] {
        let (status, body, _) = post_with(&gateway, "/qq/user", &bearer, missing).await;
        assert_eq!(
            (status, &body["error"]),
            (400, &serde_json::json!("invalid_request")),
            "{body}"
        );
    }
    assert_eq!(qq.requests().len(), before);
    assert_all_accepted(&qq);
}
