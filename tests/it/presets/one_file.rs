//! One file fronts TikTok, WeChat and GitHub at once.

use super::*;

#[tokio::test]
async fn one_file_fronts_tiktok_wechat_and_github() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let wechat = mock(ProviderKind::WeChat).await;
    let github = mock(ProviderKind::GitHub).await;
    let routes = [
        route(
            "/tiktok/token",
            "tiktok",
            &tiktok_token_url(tiktok.addr),
            "",
        ),
        route(
            "/wechat/token",
            "wechat",
            &format!("http://{}/sns/oauth2/access_token", wechat.addr),
            "",
        ),
        route(
            "/github/token",
            "github",
            &format!("http://{}/login/oauth/access_token", github.addr),
            "",
        ),
    ]
    .concat();
    let gateway = Gateway::start(&routes);

    let tiktok_client = oauth_client(
        &gateway.url("/tiktok/token"),
        "tt",
        ODD_SECRET,
        AuthType::RequestBody,
    );
    let wechat_client = oauth_client(
        &gateway.url("/wechat/token"),
        "wx",
        ODD_SECRET,
        AuthType::BasicAuth,
    );
    let github_client = oauth_client(
        &gateway.url("/github/token"),
        "gh",
        ODD_SECRET,
        AuthType::RequestBody,
    );
    let (t, w, g) = tokio::join!(
        exchange(&tiktok_client, "one"),
        exchange(&wechat_client, "two"),
        exchange(&github_client, "three"),
    );
    assert_eq!(t.access_token().secret(), "act.one");
    assert_eq!(w.access_token().secret(), "wx.two");
    assert_eq!(g.access_token().secret(), "gho_three");
    assert_eq!(tiktok.requests().len(), 1);
    assert_eq!(wechat.requests().len(), 1);
    assert_eq!(github.requests().len(), 1);
    assert_eq!(tiktok.requests()[0].body_param("client_key"), Some("tt"));
    assert_eq!(wechat.requests()[0].query_param("appid"), Some("wx"));
    assert_eq!(github.requests()[0].body_param("client_id"), Some("gh"));

    // Each provider's errors mapped by its own route.
    assert_eq!(
        exchange_error(&tiktok_client, "expired-t").await.0,
        "invalid_grant"
    );
    assert_eq!(
        exchange_error(&wechat_client, "expired-w").await.0,
        "invalid_grant"
    );
    assert_eq!(
        exchange_error(&github_client, "expired-g").await.0,
        "invalid_grant"
    );
    for (route, count) in [
        ("/tiktok/token", 2.0),
        ("/wechat/token", 2.0),
        ("/github/token", 2.0),
    ] {
        assert_eq!(
            gateway
                .metric("quirkgate_requests_total", &[("route", route)])
                .await,
            count,
            "{route}"
        );
    }
}
