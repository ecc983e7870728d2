//! Every shipped preset end to end: a standard OAuth 2.0 client (the `oauth2`
//! crate) through the real gateway binary to the matching mock provider, and
//! the `quirkgate presets` command whose output can be pasted as a route.

use std::collections::BTreeMap;

use crate::support::*;
use oauth2::basic::BasicTokenType;
use oauth2::{AuthType, TokenResponse};

fn params(list: &[(String, String)]) -> BTreeMap<String, String> {
    list.iter().cloned().collect()
}

fn url_decode(text: &str) -> String {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("x={text}")).unwrap();
    pairs[0].1.clone()
}

// ---------------------------------------------------------------- tiktok

#[tokio::test]
async fn tiktok_preset_renames_client_id_and_maps_200_errors() {
    let (tiktok, gateway) = preset_route(
        "/tiktok",
        "tiktok",
        ProviderKind::TikTok,
        "/v2/oauth/token/",
    )
    .await;
    let client = oauth_client(
        &gateway.url("/tiktok"),
        "tt-key",
        ODD_SECRET,
        AuthType::RequestBody,
    );

    let token = exchange(&client, "c1").await;
    assert_eq!(token.access_token().secret(), "act.c1");
    assert_eq!(token.refresh_token().unwrap().secret(), "rft.c1");
    assert_eq!(*token.token_type(), BasicTokenType::Bearer);

    let seen = tiktok.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].body_param("client_key"), Some("tt-key"));
    assert_eq!(seen[0].body_param("client_id"), None);
    assert_eq!(seen[0].body_param("client_secret"), Some(ODD_SECRET));
    assert_eq!(seen[0].body_param("code"), Some("c1"));
    assert_eq!(seen[0].body_param("grant_type"), Some("authorization_code"));

    let (code, description) = exchange_error(&client, "expired-1").await;
    assert_eq!(code, "invalid_grant");
    assert_eq!(
        description.as_deref(),
        Some("Authorization code is expired.")
    );
    assert_oauth_error_answer(
        &post_answer(
            &gateway,
            "/tiktok",
            "grant_type=authorization_code&code=expired-2&client_id=a&client_secret=b",
        )
        .await,
        400,
        "invalid_grant",
    );
    // No credentials: refused by the gateway as invalid_client (401), never forwarded.
    let before = tiktok.requests().len();
    assert_oauth_error_answer(
        &post_answer(&gateway, "/tiktok", "grant_type=authorization_code&code=c").await,
        401,
        "invalid_client",
    );
    assert_eq!(tiktok.requests().len(), before);
}

// ---------------------------------------------------------------- tiktok-v1

#[tokio::test]
async fn tiktok_v1_preset_moves_credentials_to_the_query_and_unwraps_data() {
    let (v1, gateway) = preset_route(
        "/v1",
        "tiktok-v1",
        ProviderKind::TikTokV1,
        "/oauth/access_token/",
    )
    .await;

    for (i, auth_type) in [AuthType::RequestBody, AuthType::BasicAuth]
        .into_iter()
        .enumerate()
    {
        let client = oauth_client(&gateway.url("/v1"), "v1-key", ODD_SECRET, auth_type);
        let code = format!("v1code{i}");
        let token = exchange(&client, &code).await;
        assert_eq!(token.access_token().secret(), &format!("act.{code}"));
        assert_eq!(
            token.refresh_token().unwrap().secret(),
            &format!("rft.{code}")
        );
        assert_eq!(*token.token_type(), BasicTokenType::Bearer);
        assert_eq!(
            token.expires_in(),
            Some(std::time::Duration::from_secs(86400))
        );

        let seen = v1.requests();
        let request = seen.last().unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/oauth/access_token/");
        assert_eq!(request.query_param("client_key"), Some("v1-key"));
        assert_eq!(request.query_param("client_secret"), Some(ODD_SECRET));
        assert_eq!(request.query_param("code"), Some(code.as_str()));
        assert_eq!(
            request.query_param("grant_type"),
            Some("authorization_code")
        );
        assert_eq!(request.query_param("client_id"), None);
        for moved in [
            "client_id",
            "client_key",
            "client_secret",
            "code",
            "grant_type",
        ] {
            assert_eq!(request.body_param(moved), None, "{moved} left in the body");
        }
        assert_eq!(request.header("authorization"), None);
    }

    // The caller sees the inner object, without TikTok's envelope fields.
    let (status, body, headers) = post_answer(
        &gateway,
        "/v1",
        "grant_type=authorization_code&code=raw&client_id=a&client_secret=b",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["access_token"], "act.raw");
    assert_eq!(body["open_id"], "open-1");
    assert_eq!(body["token_type"], "Bearer");
    for gone in ["data", "error_code", "description", "message"] {
        assert!(body.get(gone).is_none(), "{gone} in {body}");
    }

    let client = oauth_client(
        &gateway.url("/v1"),
        "v1-key",
        ODD_SECRET,
        AuthType::RequestBody,
    );
    let (code, description) = exchange_error(&client, "expired-1").await;
    assert_eq!(code, "invalid_grant");
    assert_eq!(
        description.as_deref(),
        Some("Authorization code is expired")
    );
    assert_oauth_error_answer(
        &post_answer(
            &gateway,
            "/v1",
            "grant_type=authorization_code&code=expired-2&client_id=a&client_secret=b",
        )
        .await,
        400,
        "invalid_grant",
    );
    let before = v1.requests().len();
    assert_oauth_error_answer(
        &post_answer(
            &gateway,
            "/v1",
            "grant_type=authorization_code&code=c&client_id=a",
        )
        .await,
        401,
        "invalid_client",
    );
    assert_eq!(v1.requests().len(), before, "refused before the provider");
}

// ---------------------------------------------------------------- wechat

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

// ---------------------------------------------------------------- github

#[tokio::test]
async fn github_preset_asks_for_json_converts_form_answers_and_maps_errors() {
    let github = mock(ProviderKind::GitHub).await;
    let upstream = format!("http://{}/login/oauth/access_token", github.addr);
    // `/github-form` makes the mock answer form-encoded, as GitHub does when
    // the Accept header does not ask for JSON. `remove: { headers: [accept] }`
    // cannot do it (the gateway always sends its own `Accept: application/json`
    // upstream), so the route replaces the preset's header value instead.
    let routes = [
        route("/github", "github", &upstream, ""),
        route(
            "/github-form",
            "github",
            &upstream,
            "request:\n  - replace: { headers: { accept: \"text/html\" } }",
        ),
    ]
    .concat();
    let gateway = Gateway::start(&routes);

    let client = oauth_client(
        &gateway.url("/github"),
        "gh-id",
        ODD_SECRET,
        AuthType::RequestBody,
    );
    let token = exchange(&client, "ghcode").await;
    assert_eq!(token.access_token().secret(), "gho_ghcode");
    assert_eq!(*token.token_type(), BasicTokenType::Bearer);
    let seen = github.requests();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0]
            .header("accept")
            .is_some_and(|a| a.contains("application/json")),
        "{:?}",
        seen[0].headers
    );
    assert_eq!(seen[0].body_param("client_id"), Some("gh-id"));
    assert_eq!(seen[0].body_param("client_secret"), Some(ODD_SECRET));
    assert_eq!(seen[0].body_param("code"), Some("ghcode"));
    // A caller that asks for something else still makes the gateway ask for JSON.
    let response = http_client()
        .post(gateway.url("/github"))
        .header("content-type", FORM)
        .header("accept", "*/*")
        .body("grant_type=authorization_code&code=star&client_id=a&client_secret=b")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = github.requests();
    assert!(seen[1]
        .header("accept")
        .is_some_and(|a| a.contains("application/json")));

    // Form-encoded answer converted to JSON.
    let form_client = oauth_client(
        &gateway.url("/github-form"),
        "gh-id",
        ODD_SECRET,
        AuthType::RequestBody,
    );
    let token = exchange(&form_client, "formcode").await;
    assert_eq!(token.access_token().secret(), "gho_formcode");
    assert_eq!(*token.token_type(), BasicTokenType::Bearer);
    assert_eq!(
        token
            .scopes()
            .map(|s| s.iter().map(|s| (**s).clone()).collect::<Vec<String>>()),
        Some(vec!["read:user".to_owned()])
    );
    let seen = github.requests();
    let request = seen.last().unwrap();
    assert_eq!(request.header("accept"), Some("text/html"));
    let (status, body, headers) = post_answer(
        &gateway,
        "/github-form",
        "grant_type=authorization_code&code=f2&client_id=a&client_secret=b",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(
        body,
        serde_json::json!({"access_token": "gho_f2", "scope": "read:user", "token_type": "bearer"})
    );

    let (code, description) = exchange_error(&client, "expired-1").await;
    assert_eq!(
        code, "invalid_grant",
        "bad_verification_code maps to invalid_grant"
    );
    assert_eq!(
        description.as_deref(),
        Some("The code passed is incorrect or expired.")
    );
    assert_eq!(
        exchange_error(&form_client, "expired-2").await.0,
        "invalid_grant"
    );
    assert_oauth_error_answer(
        &post_answer(
            &gateway,
            "/github",
            "grant_type=authorization_code&code=expired-3&client_id=a&client_secret=b",
        )
        .await,
        400,
        "invalid_grant",
    );
}

// ---------------------------------------------------------------- slack

#[tokio::test]
async fn slack_preset_passes_ok_answers_and_maps_ok_false_to_invalid_grant() {
    let (slack, gateway) = preset_route(
        "/slack",
        "slack",
        ProviderKind::Slack,
        "/api/oauth.v2.access",
    )
    .await;
    let client = oauth_client(
        &gateway.url("/slack"),
        "sl-id",
        ODD_SECRET,
        AuthType::RequestBody,
    );

    let token = exchange(&client, "slcode").await;
    assert_eq!(token.access_token().secret(), "xoxb-slcode");
    assert_eq!(
        *token.token_type(),
        BasicTokenType::Extension("bot".to_owned())
    );
    let seen = slack.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].body_param("client_id"), Some("sl-id"));
    assert_eq!(seen[0].body_param("client_secret"), Some(ODD_SECRET));
    assert_eq!(seen[0].body_param("code"), Some("slcode"));

    let (status, body, headers) = post_answer(
        &gateway,
        "/slack",
        "grant_type=authorization_code&code=raw&client_id=a&client_secret=b",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["ok"], true);
    assert_eq!(body["access_token"], "xoxb-raw");
    assert_eq!(body["team"]["id"], "T1");

    let (code, _) = exchange_error(&client, "expired-1").await;
    assert_eq!(code, "invalid_grant", "invalid_code maps to invalid_grant");
    let answer = post_answer(
        &gateway,
        "/slack",
        "grant_type=authorization_code&code=expired-2&client_id=a&client_secret=b",
    )
    .await;
    assert_oauth_error_answer(&answer, 400, "invalid_grant");
    assert!(answer.1.get("ok").is_none(), "{}", answer.1);
}

// ---------------------------------------------------------------- basic-auth (Reddit)

#[tokio::test]
async fn basic_auth_preset_moves_body_credentials_into_a_basic_header() {
    let (reddit, gateway) = preset_route(
        "/reddit",
        "basic-auth",
        ProviderKind::Reddit,
        "/api/v1/access_token",
    )
    .await;

    for (i, auth_type) in [AuthType::RequestBody, AuthType::BasicAuth]
        .into_iter()
        .enumerate()
    {
        let client = oauth_client(&gateway.url("/reddit"), "reddit app", ODD_SECRET, auth_type);
        let code = format!("rdcode{i}");
        let token = exchange(&client, &code).await;
        assert_eq!(token.access_token().secret(), &format!("rd.{code}"));
        assert_eq!(*token.token_type(), BasicTokenType::Bearer);

        let seen = reddit.requests();
        let request = seen.last().unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(request.body_param("client_id"), None);
        assert_eq!(request.body_param("client_secret"), None);
        assert_eq!(request.body_param("code"), Some(code.as_str()));
        assert_eq!(request.body_param("grant_type"), Some("authorization_code"));
        assert_eq!(request.body_param("redirect_uri"), Some(REDIRECT));
        let header = request.header("authorization").expect("a Basic header");
        let encoded = header.strip_prefix("Basic ").expect("Basic scheme");
        use base64::Engine;
        let pair = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap(),
        )
        .unwrap();
        let (id, secret) = pair.split_once(':').unwrap();
        // RFC 6749 §2.3.1: each part form-encoded before base64.
        assert_eq!(url_decode(id), "reddit app");
        assert_eq!(url_decode(secret), ODD_SECRET);
    }

    // Credentials in both places: refused, not forwarded.
    let before = reddit.requests().len();
    let response = http_client()
        .post(gateway.url("/reddit"))
        .header("content-type", FORM)
        .basic_auth("a", Some("b"))
        .body("grant_type=authorization_code&code=c&client_id=a&client_secret=b")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(reddit.requests().len(), before);
}

/// Reddit refuses missing/bad client credentials with HTTP 401 and
/// `{"message": "Unauthorized", "error": 401}`: a numeric `error` that no
/// standard client can parse. The preset should turn it into `invalid_client`.
#[tokio::test]
async fn basic_auth_preset_provider_refusal_is_an_rfc6749_invalid_client() {
    let (reddit, gateway) = preset_route(
        "/reddit",
        "basic-auth",
        ProviderKind::Reddit,
        "/api/v1/access_token",
    )
    .await;
    let answer = post_answer(
        &gateway,
        "/reddit",
        "grant_type=authorization_code&code=expired-1",
    )
    .await;
    assert_eq!(reddit.requests().len(), 1, "the mock was asked");
    assert_oauth_error_answer(&answer, 401, "invalid_client");
}

// ---------------------------------------------------------------- tiktok-userinfo

#[tokio::test]
async fn tiktok_userinfo_preset_forwards_the_bearer_and_answers_the_flat_user() {
    let info = mock(ProviderKind::TikTokUserInfo).await;
    // The operator's own upstream, with no query: the preset's rules ask for the fields.
    let upstream = format!("http://{}/v2/user/info/", info.addr);
    let gateway = Gateway::start(&route("/userinfo", "tiktok-userinfo", &upstream, ""));

    let response = http_client()
        .get(gateway.url("/userinfo"))
        .bearer_auth("act.x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"open_id": "open-1", "union_id": "union-1", "avatar_url": "https://p16.example/a.jpg", "display_name": "Mock User"})
    );
    let seen = info.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, "/v2/user/info/");
    assert_eq!(
        seen[0].query_param("fields"),
        Some("open_id,union_id,avatar_url,display_name")
    );
    assert_eq!(seen[0].header("authorization"), Some("Bearer act.x"));

    // A token the provider refuses: 401.
    let response = http_client()
        .get(gateway.url("/userinfo"))
        .bearer_auth("revoked")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body.is_object(), "{body}");
    assert_eq!(info.requests().len(), 2);

    // No token at all: refused by the gateway (invalid_client, 401), not forwarded.
    let response = http_client()
        .get(gateway.url("/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(info.requests().len(), 2);

    // POST is not a method of this route.
    let (status, _, headers) = post_answer(&gateway, "/userinfo", "a=b").await;
    assert_eq!(status, 405);
    assert_eq!(headers["allow"], "GET");
}

// ---------------------------------------------------------------- presets command

pub(crate) fn quirkgate(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_quirkgate"))
        .args(args)
        .output()
        .unwrap()
}

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

// ---------------------------------------------------------------- one file, three providers

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
