//! One file fronts TikTok, Apple, Notion, DingTalk and QQ.

use super::*;

#[tokio::test]
async fn one_file_fronts_tiktok_apple_notion_dingtalk_and_qq() {
    let key = apple_key();
    let env = apple_env(&key);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let tiktok = mock(ProviderKind::TikTok).await;
    let apple = mock(ProviderKind::Apple).await;
    let notion = mock(ProviderKind::Notion).await;
    let dingtalk = mock(ProviderKind::DingTalk).await;
    let qq = mock(ProviderKind::Qq).await;
    let routes = [
        route(
            "/tiktok/token",
            "tiktok",
            &tiktok_token_url(tiktok.addr),
            "",
        ),
        route(
            "/apple/token",
            "apple",
            &format!("http://{}/auth/token", apple.addr),
            "",
        ),
        route(
            "/notion/token",
            "notion",
            &format!("http://{}/v1/oauth/token", notion.addr),
            "",
        ),
        route(
            "/dingtalk/token",
            "dingtalk",
            &format!("http://{}/v1.0/oauth2/userAccessToken", dingtalk.addr),
            "",
        ),
        route(
            "/qq/token",
            "qq",
            &format!("http://{}/oauth2.0/token", qq.addr),
            "",
        ),
    ]
    .concat();
    let gateway = Gateway::start_with_env(&routes, "", "info", &env);

    let client = |path: &str, id: &str, auth_type| {
        oauth_client(&gateway.url(path), id, ODD_SECRET, auth_type)
    };
    let tiktok_client = client("/tiktok/token", "tt", AuthType::RequestBody);
    let apple_client = client("/apple/token", APPLE_CLIENT_ID, AuthType::BasicAuth);
    let notion_client = client("/notion/token", "nt", AuthType::RequestBody);
    let dingtalk_client = client("/dingtalk/token", "dt", AuthType::BasicAuth);
    let qq_client = client("/qq/token", "qq", AuthType::RequestBody);
    let (t, a, n, d, q) = tokio::join!(
        exchange(&tiktok_client, "one"),
        exchange(&apple_client, "two"),
        exchange(&notion_client, "three"),
        exchange(&dingtalk_client, "four"),
        exchange(&qq_client, "five"),
    );
    assert_eq!(t.access_token().secret(), "act.one");
    assert_eq!(a.access_token().secret(), "ap.two");
    assert_eq!(n.access_token().secret(), "secret_three");
    assert_eq!(d.access_token().secret(), "dt.four");
    assert_eq!(q.access_token().secret(), "qq.five");
    for token in [&t, &a, &n, &d, &q] {
        assert_eq!(*token.token_type(), BasicTokenType::Bearer);
    }
    // Each provider got its own shape, and only its own requests.
    assert_eq!(tiktok.requests()[0].body_param("client_key"), Some("tt"));
    verify_apple_secret(
        apple.requests()[0].body_param("client_secret").unwrap(),
        &key,
    );
    assert_eq!(
        notion.requests()[0].header("content-type"),
        Some("application/json")
    );
    assert_eq!(
        dingtalk.requests()[0].json_body().unwrap()["clientId"],
        "dt"
    );
    assert_eq!(qq.requests()[0].method, "GET");

    // Each provider's errors mapped by its own route.
    for (client, code) in [
        (&tiktok_client, "invalid_grant"),
        (&apple_client, "invalid_grant"),
        (&notion_client, "invalid_grant"),
        (&dingtalk_client, "invalid_request"),
        (&qq_client, "invalid_grant"),
    ] {
        assert_eq!(exchange_error(client, "expired-x").await.0, code);
    }
    for (provider, name) in [
        (&tiktok, "tiktok"),
        (&apple, "apple"),
        (&notion, "notion"),
        (&dingtalk, "dingtalk"),
        (&qq, "qq"),
    ] {
        assert_eq!(provider.requests().len(), 2, "{name}");
    }
}
