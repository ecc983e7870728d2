//! Presets that send JSON request bodies: Notion, DingTalk, Feishu.

use super::*;

#[tokio::test]
async fn notion_preset_sends_basic_a_json_body_and_the_version_header() {
    let (notion, gateway) =
        preset_route("/notion", "notion", ProviderKind::Notion, "/v1/oauth/token").await;
    for (i, auth_type) in both_auth_types().into_iter().enumerate() {
        let client = oauth_client(&gateway.url("/notion"), "nt-id", ODD_SECRET, auth_type);
        let code = format!("ntcode{i}");
        let token = exchange(&client, &code).await;
        assert_eq!(token.access_token().secret(), &format!("secret_{code}"));
        assert_eq!(*token.token_type(), BasicTokenType::Bearer);

        let seen = notion.requests();
        let request = seen.last().unwrap();
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("notion-version"), Some("2022-06-28"));
        assert!(request
            .header("authorization")
            .unwrap()
            .starts_with("Basic "));
        let body = request.json_body().expect("a JSON body");
        assert_eq!(body["grant_type"], "authorization_code");
        assert_eq!(body["code"], code.as_str());
        assert_eq!(body["redirect_uri"], REDIRECT);
        assert!(body.get("client_secret").is_none() && body.get("client_id").is_none());
    }
    // The owner comes in the token answer, untouched.
    let (status, body, _) = post_answer(
        &gateway,
        "/notion",
        "grant_type=authorization_code&code=raw&client_id=a&client_secret=b",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["owner"]["user"]["id"], "notion-user-1");
    let client = oauth_client(
        &gateway.url("/notion"),
        "nt-id",
        ODD_SECRET,
        AuthType::BasicAuth,
    );
    assert_eq!(
        exchange_error(&client, "expired-1").await.0,
        "invalid_grant"
    );
    // No credentials at all: refused before Notion.
    let before = notion.requests().len();
    assert_oauth_error_answer(
        &post_answer(&gateway, "/notion", "grant_type=authorization_code&code=c").await,
        401,
        "invalid_client",
    );
    assert_eq!(notion.requests().len(), before);
}

#[tokio::test]
async fn dingtalk_preset_speaks_camel_case_json_both_ways() {
    let (dingtalk, gateway) = preset_route(
        "/dingtalk",
        "dingtalk",
        ProviderKind::DingTalk,
        "/v1.0/oauth2/userAccessToken",
    )
    .await;
    for (i, auth_type) in both_auth_types().into_iter().enumerate() {
        let client = oauth_client(&gateway.url("/dingtalk"), "ding-app", ODD_SECRET, auth_type);
        let code = format!("dtcode{i}");
        let token = exchange(&client, &code).await;
        assert_eq!(token.access_token().secret(), &format!("dt.{code}"));
        assert_eq!(
            token.refresh_token().unwrap().secret(),
            &format!("dtr.{code}")
        );
        assert_eq!(
            token.expires_in(),
            Some(std::time::Duration::from_secs(7200))
        );
        assert_eq!(*token.token_type(), BasicTokenType::Bearer);
        let seen = dingtalk.requests();
        let body = seen.last().unwrap().json_body().unwrap();
        assert_eq!(
            serde_json::Value::Object(body),
            serde_json::json!({"clientId": "ding-app", "clientSecret": ODD_SECRET, "code": code, "grantType": "authorization_code"})
        );
        let renewed = refresh(&client, &format!("dtr.{code}")).await;
        assert_eq!(renewed.access_token().secret(), &format!("dt.dtr.{code}"));
        let seen = dingtalk.requests();
        let body = seen.last().unwrap().json_body().unwrap();
        assert_eq!(body["grantType"], "refresh_token");
        assert_eq!(body["refreshToken"], format!("dtr.{code}").as_str());
    }
    // DingTalk's own error shape becomes an RFC 6749 error with its message.
    let client = oauth_client(
        &gateway.url("/dingtalk"),
        "ding-app",
        ODD_SECRET,
        AuthType::RequestBody,
    );
    let (code, description) = exchange_error(&client, "expired-1").await;
    assert_eq!(code, "invalid_request");
    assert_eq!(description.as_deref(), Some("the auth code is expired"));
}

#[tokio::test]
async fn feishu_preset_sends_a_json_body_and_maps_coded_errors() {
    let (feishu, gateway) = preset_route(
        "/feishu",
        "feishu",
        ProviderKind::Feishu,
        "/open-apis/authen/v2/oauth/token",
    )
    .await;
    let client = oauth_client(
        &gateway.url("/feishu"),
        "cli_a1",
        ODD_SECRET,
        AuthType::BasicAuth,
    );
    let token = exchange(&client, "fscode").await;
    assert_eq!(token.access_token().secret(), "fs.fscode");
    let seen = feishu.requests();
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    let body = seen[0].json_body().unwrap();
    assert_eq!(body["client_id"], "cli_a1");
    assert_eq!(body["client_secret"], ODD_SECRET);
    assert_eq!(body["redirect_uri"], REDIRECT);
    let (_, raw, _) = post_answer(
        &gateway,
        "/feishu",
        "grant_type=authorization_code&code=raw&client_id=a&client_secret=b",
    )
    .await;
    assert!(raw.get("code").is_none(), "{raw}");
    let (code, description) = exchange_error(&client, "expired-1").await;
    assert_eq!(code, "invalid_grant");
    assert_eq!(
        description.as_deref(),
        Some("the authorization code is invalid or expired")
    );
}
