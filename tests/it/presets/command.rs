//! `quirkgate presets`: every preset listed, each printed as YAML that,
//! pasted as rules, behaves like the preset.

use super::*;

#[test]
fn presets_command_lists_every_preset() {
    let out = quirkgate(&["presets"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        names,
        [
            "tiktok",
            "tiktok-v1",
            "tiktok-userinfo",
            "wechat",
            "wechat-userinfo",
            "github",
            "github-userinfo",
            "slack",
            "basic-auth",
            "apple",
            "notion",
            "dingtalk",
            "feishu",
            "qq",
            "douyin",
            "kuaishou",
            "twitch-userinfo",
            "vk-userinfo",
            "dingtalk-userinfo",
            "facebook-userinfo",
            "zoom",
            "pinterest",
            "linkedin",
            "strava",
            "line",
            "x",
            "alipay",
            "alipay-userinfo",
            "okru",
            "okru-userinfo",
            "withings",
            "shopify",
            "shopify-userinfo",
            "gitlab",
            "gitlab-userinfo",
            "kakao",
            "kakao-userinfo",
            "naver",
            "naver-userinfo",
            "weibo",
            "weibo-userinfo",
            "baidu",
            "baidu-userinfo",
            "lark",
            "lark-userinfo",
            "huawei",
            "huawei-userinfo",
            "kuaishou-userinfo",
            "yandex",
            "yandex-userinfo",
            "mailru",
            "mailru-userinfo",
            "twitch",
            "discord",
            "discord-userinfo",
            "spotify",
            "spotify-userinfo",
            "bitbucket",
            "bitbucket-userinfo",
            "fitbit",
            "fitbit-userinfo",
            "ebay",
            "ebay-userinfo",
            "paypal",
            "paypal-userinfo",
            "douyin-userinfo",
            "feishu-userinfo",
            "zoom-userinfo",
            "pinterest-userinfo",
            "strava-userinfo",
            "qq-me",
            "qq-userinfo",
            "notion-userinfo",
            "slack-userinfo",
            "reddit",
            "reddit-userinfo",
            "facebook",
            "vk",
            "x-userinfo",
            "wecom",
            "wecom-userinfo",
        ],
        "{text}"
    );
    for line in text.lines() {
        assert!(
            line.split_whitespace().count() > 1,
            "each preset has a summary: {line:?}"
        );
    }

    let unknown = quirkgate(&["presets", "nope"]);
    assert_eq!(unknown.status.code(), Some(1));
}

#[test]
fn presets_command_prints_each_preset_as_its_yaml() {
    for name in [
        "tiktok",
        "tiktok-v1",
        "tiktok-userinfo",
        "wechat",
        "github",
        "slack",
        "basic-auth",
    ] {
        let out = quirkgate(&["presets", name]);
        assert!(out.status.success(), "{name}");
        let printed = String::from_utf8(out.stdout).unwrap();
        let shipped = std::fs::read_to_string(format!(
            "{}/conf/presets/{name}.yaml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        assert_eq!(printed, shipped, "{name}");
    }
}

/// What one WeChat exchange looked like from both sides.
#[derive(Debug, PartialEq)]
struct Observed {
    token: Option<(String, String)>,
    expired: (u16, serde_json::Value),
    missing_secret: (u16, serde_json::Value),
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    body: Vec<u8>,
}

async fn observe_wechat(gateway: &Gateway, path: &str, wechat: &MockProvider) -> Observed {
    let before = wechat.requests().len();
    let client = oauth_client(
        &gateway.url(path),
        "wx-appid",
        ODD_SECRET,
        AuthType::BasicAuth,
    );
    let token = exchange(&client, "same-code").await;
    let seen = wechat.requests();
    assert_eq!(seen.len(), before + 1);
    let request = seen.last().unwrap().clone();
    let (status, body, _) = post_answer(
        gateway,
        path,
        "grant_type=authorization_code&code=expired-x&client_id=a&client_secret=b",
    )
    .await;
    let (missing_status, missing_body, _) = post_answer(
        gateway,
        path,
        "grant_type=authorization_code&code=c&client_id=a",
    )
    .await;
    Observed {
        token: Some((
            token.access_token().secret().clone(),
            token.token_type().as_ref().to_owned(),
        )),
        expired: (status, body),
        missing_secret: (missing_status, missing_body),
        method: request.method,
        path: request.path,
        query: params(&request.query),
        body: request.raw_body,
    }
}

#[tokio::test]
async fn printed_wechat_preset_pasted_as_rules_behaves_like_the_preset() {
    let out = quirkgate(&["presets", "wechat"]);
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();

    let wechat = mock(ProviderKind::WeChat).await;
    let upstream = format!("http://{}/sns/oauth2/access_token", wechat.addr);

    // The printed fragment, as an operator would paste it: no description,
    // the upstream pointed at the mock, methods/request/response kept.
    let mut fragment: serde_yaml::Mapping = serde_yaml::from_str(&printed).unwrap();
    assert!(fragment.remove("description").is_some());
    assert!(fragment.contains_key("upstream"));
    assert!(fragment.contains_key("methods"));
    assert!(fragment.contains_key("request"));
    assert!(fragment.contains_key("response"));
    fragment.insert("upstream".into(), upstream.clone().into());
    let mut pasted = serde_yaml::Mapping::new();
    pasted.insert("path".into(), "/pasted".into());
    for (key, value) in fragment {
        pasted.insert(key, value);
    }
    let pasted_yaml =
        serde_yaml::to_string(&serde_yaml::Value::Sequence(vec![pasted.into()])).unwrap();
    assert!(!pasted_yaml.contains("preset"));
    let pasted_route: String = pasted_yaml.lines().map(|l| format!("  {l}\n")).collect();

    let routes = format!(
        "{}{pasted_route}",
        route("/preset", "wechat", &upstream, "")
    );
    let gateway = Gateway::start(&routes);

    let with_preset = observe_wechat(&gateway, "/preset", &wechat).await;
    let with_rules = observe_wechat(&gateway, "/pasted", &wechat).await;
    assert_eq!(with_preset, with_rules, "pasted route:\n{pasted_route}");
    // And it is the WeChat behaviour, not two identical failures.
    assert_eq!(
        with_rules.token,
        Some(("wx.same-code".to_owned(), "bearer".to_owned()))
    );
    assert_eq!(with_rules.method, "GET");
    assert_eq!(
        with_rules.query.get("appid").map(String::as_str),
        Some("wx-appid")
    );
    assert_eq!(with_rules.expired.0, 400);
    assert_eq!(with_rules.expired.1["error"], "invalid_grant");
    assert_eq!(with_rules.missing_secret.0, 401);
}
