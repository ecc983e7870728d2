//! JSONP and form answers (QQ), and value transforms (Douyin, Kuaishou).

use super::*;

#[tokio::test]
async fn qq_preset_sends_a_get_and_answers_json_for_form_and_jsonp_answers() {
    let (qq, gateway) = preset_route("/qq", "qq", ProviderKind::Qq, "/oauth2.0/token").await;
    for (i, auth_type) in both_auth_types().into_iter().enumerate() {
        let client = oauth_client(&gateway.url("/qq"), "qq-app", ODD_SECRET, auth_type);
        let code = format!("qqcode{i}");
        let token = exchange(&client, &code).await;
        assert_eq!(token.access_token().secret(), &format!("qq.{code}"));
        assert_eq!(
            token.refresh_token().unwrap().secret(),
            &format!("qqr.{code}")
        );
        assert_eq!(
            token.expires_in(),
            Some(std::time::Duration::from_secs(7_776_000))
        );
        assert_eq!(*token.token_type(), BasicTokenType::Bearer);
        let seen = qq.requests();
        let request = seen.last().unwrap();
        assert_eq!(request.method, "GET");
        assert!(request.raw_body.is_empty());
        assert_eq!(request.query_param("client_id"), Some("qq-app"));
        assert_eq!(request.query_param("client_secret"), Some(ODD_SECRET));
        assert_eq!(request.query_param("code"), Some(code.as_str()));
    }
    let client = oauth_client(
        &gateway.url("/qq"),
        "qq-app",
        ODD_SECRET,
        AuthType::RequestBody,
    );
    let (code, description) = exchange_error(&client, "expired-1").await;
    assert_eq!(code, "invalid_grant", "JSONP error 100019");
    assert_eq!(description.as_deref(), Some("code to access token error"));
}

#[tokio::test]
async fn douyin_preset_unwraps_data_and_turns_string_numbers_into_numbers() {
    let (douyin, gateway) = preset_route(
        "/douyin",
        "douyin",
        ProviderKind::Douyin,
        "/oauth/access_token/",
    )
    .await;
    let client = oauth_client(
        &gateway.url("/douyin"),
        "dy-key",
        ODD_SECRET,
        AuthType::BasicAuth,
    );
    // A standard client refuses "expires_in": "1296000": it must arrive a number.
    let token = exchange(&client, "dycode").await;
    assert_eq!(token.access_token().secret(), "dy.dycode");
    assert_eq!(
        token.expires_in(),
        Some(std::time::Duration::from_secs(1_296_000))
    );
    assert_eq!(*token.token_type(), BasicTokenType::Bearer);
    let seen = douyin.requests();
    assert_eq!(seen[0].body_param("client_key"), Some("dy-key"));
    assert_eq!(seen[0].body_param("client_id"), None);
    let (status, body, _) = post_answer(
        &gateway,
        "/douyin",
        "grant_type=authorization_code&code=raw&client_id=a&client_secret=b",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["open_id"], "dy-open-1");
    assert_eq!(body["refresh_expires_in"], 2_592_000);
    assert!(
        body.get("error_code").is_none() && body.get("data").is_none(),
        "{body}"
    );
    let (code, description) = exchange_error(&client, "expired-1").await;
    assert_eq!(code, "invalid_grant");
    assert_eq!(
        description.as_deref(),
        Some("the authorization code is expired")
    );
}

#[tokio::test]
async fn kuaishou_preset_sends_app_credentials_in_a_get_and_joins_the_scopes() {
    let (kuaishou, gateway) = preset_route(
        "/kuaishou",
        "kuaishou",
        ProviderKind::Kuaishou,
        "/oauth2/access_token",
    )
    .await;
    let client = oauth_client(
        &gateway.url("/kuaishou"),
        "ks-app",
        ODD_SECRET,
        AuthType::RequestBody,
    );
    let token = exchange(&client, "kscode").await;
    assert_eq!(token.access_token().secret(), "ks.kscode");
    assert_eq!(
        scopes(&token),
        Some(vec!["user_info".to_owned(), "user_base".to_owned()])
    );
    let seen = kuaishou.requests();
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].query_param("app_id"), Some("ks-app"));
    assert_eq!(seen[0].query_param("app_secret"), Some(ODD_SECRET));
    let (_, body, _) = post_answer(
        &gateway,
        "/kuaishou",
        "grant_type=authorization_code&code=raw&client_id=a&client_secret=b",
    )
    .await;
    assert_eq!(body["scope"], "user_info user_base");
    assert!(
        body.get("result").is_none() && body.get("scopes").is_none(),
        "{body}"
    );
    let (code, description) = exchange_error(&client, "expired-1").await;
    assert_eq!(code, "invalid_grant");
    assert_eq!(
        description.as_deref(),
        Some("the authorization code is invalid")
    );
}
