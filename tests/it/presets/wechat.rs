//! The `wechat` preset: a GET with the credentials in the query.

use super::*;

#[tokio::test]
async fn wechat_preset_sends_a_get_with_query_credentials_and_adds_token_type() {
    let (wechat, gateway) = preset_route(
        "/wechat",
        "wechat",
        ProviderKind::WeChat,
        "/sns/oauth2/access_token",
    )
    .await;

    for (i, auth_type) in [AuthType::RequestBody, AuthType::BasicAuth]
        .into_iter()
        .enumerate()
    {
        let client = oauth_client(&gateway.url("/wechat"), "wx-appid", ODD_SECRET, auth_type);
        let code = format!("wxcode{i}");
        let token = exchange(&client, &code).await;
        assert_eq!(token.access_token().secret(), &format!("wx.{code}"));
        assert_eq!(*token.token_type(), BasicTokenType::Bearer);
        assert_eq!(token.refresh_token().unwrap().secret(), "wxr");

        let seen = wechat.requests();
        let request = seen.last().unwrap();
        assert_eq!(request.method, "GET");
        assert_eq!(request.path, "/sns/oauth2/access_token");
        assert_eq!(request.query_param("appid"), Some("wx-appid"));
        assert_eq!(request.query_param("secret"), Some(ODD_SECRET));
        assert_eq!(request.query_param("code"), Some(code.as_str()));
        assert_eq!(
            request.query_param("grant_type"),
            Some("authorization_code")
        );
        assert_eq!(request.query_param("client_id"), None);
        assert_eq!(request.query_param("client_secret"), None);
        assert!(
            request.raw_body.is_empty(),
            "a GET carries no body: {:?}",
            String::from_utf8_lossy(&request.raw_body)
        );
        assert_eq!(request.header("authorization"), None);
        assert_eq!(request.header("content-type"), None);
    }

    let (status, body, headers) = post_answer(
        &gateway,
        "/wechat",
        "grant_type=authorization_code&code=raw&client_id=a&client_secret=b",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["access_token"], "wx.raw");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["openid"], "openid-1");
    assert_eq!(body["unionid"], "union-1");

    let client = oauth_client(
        &gateway.url("/wechat"),
        "wx-appid",
        ODD_SECRET,
        AuthType::RequestBody,
    );
    let (code, description) = exchange_error(&client, "expired-1").await;
    assert_eq!(code, "invalid_grant", "errcode 40029 maps to invalid_grant");
    assert_eq!(description.as_deref(), Some("invalid code"));
    assert_oauth_error_answer(
        &post_answer(
            &gateway,
            "/wechat",
            "grant_type=authorization_code&code=expired-2&client_id=a&client_secret=b",
        )
        .await,
        400,
        "invalid_grant",
    );
    let before = wechat.requests().len();
    assert_oauth_error_answer(
        &post_answer(
            &gateway,
            "/wechat",
            "grant_type=authorization_code&code=c&client_secret=b",
        )
        .await,
        401,
        "invalid_client",
    );
    assert_eq!(wechat.requests().len(), before);
}
