//! The first long tail's user-info routes (Douyin, Feishu, Zoom, Pinterest,
//! Strava) against their strict mocks: the token goes where the provider
//! wants it, and the user comes back as the bridge's claims read it.

use super::*;

/// (preset, mock, the mock's path, a token the mock issues, a field and its value in the answer)
const BEARER_ROUTES: &[(&str, ProviderKind, &str, &str, &str, &str)] = &[
    (
        "feishu-userinfo",
        ProviderKind::Feishu,
        "/open-apis/authen/v1/user_info",
        "fs.code-1",
        "union_id",
        "on_feishu1",
    ),
    (
        "zoom-userinfo",
        ProviderKind::Zoom,
        "/v2/users/me",
        "zm.code-1",
        "display_name",
        "Jill Chill",
    ),
    (
        "pinterest-userinfo",
        ProviderKind::Pinterest,
        "/v5/user_account",
        "pin.code-1",
        "username",
        "mockpinner",
    ),
    (
        "strava-userinfo",
        ProviderKind::Strava,
        "/api/v3/athlete",
        "st.code-1",
        "username",
        "marianne_t",
    ),
];

#[tokio::test]
async fn bearer_userinfo_presets_forward_the_token_and_answer_the_user() {
    for (preset, kind, path, token, field, value) in BEARER_ROUTES {
        let provider = mock(*kind).await;
        let upstream = format!("http://{}{path}", provider.addr);
        let gateway = Gateway::start(&route("/me", preset, &upstream, ""));
        let (status, body) = bearer_get(&gateway, "/me", token).await;
        assert_eq!(status, 200, "{preset}: {body}");
        assert_eq!(body[field], *value, "{preset}: {body}");
        assert!(body.get("code").is_none(), "{preset}: unwrapped: {body}");
        let seen = provider.requests();
        assert_eq!(seen.len(), 1, "{preset}");
        assert_eq!(seen[0].method, "GET", "{preset}");
        assert_eq!(
            seen[0].header("authorization"),
            Some(format!("Bearer {token}").as_str()),
            "{preset}"
        );
    }
}

#[tokio::test]
async fn douyin_userinfo_preset_posts_the_token_and_open_id_in_the_form() {
    let douyin = mock(ProviderKind::Douyin).await;
    let upstream = format!("http://{}/oauth/userinfo/", douyin.addr);
    let gateway = Gateway::start(&route("/douyin/me", "douyin-userinfo", &upstream, ""));
    let post = |token: &'static str, form: &'static str| {
        http_client()
            .post(gateway.url("/douyin/me"))
            .header("content-type", "application/x-www-form-urlencoded")
            .bearer_auth(token)
            .body(form)
            .send()
    };
    let response = post("dy.code-1", "open_id=dy-open-1").await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["union_id"], "dy-union-1", "{body}");
    assert_eq!(body["nickname"], "Mock Douyin");
    assert!(body.get("error_code").is_none(), "{body}");
    let seen = douyin.requests();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].body_param("access_token"), Some("dy.code-1"));
    assert_eq!(seen[0].body_param("open_id"), Some("dy-open-1"));
    assert_eq!(seen[0].header("authorization"), None);
    assert!(seen[0].query.is_empty(), "{:?}", seen[0].query);

    // Without the open_id the call is refused before Douyin.
    let response = post("dy.code-1", "").await.unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(douyin.requests().len(), 1);
}
