//! Every mock refuses what its provider refuses: for every endpoint of every
//! kind, the request the provider takes is accepted, and each wrong variant
//! its declaration implies (a wrong method, content type, credential
//! placement, a missing header, a renamed or missing parameter) gets the
//! provider's own refusal. The variants come from the endpoint tables, so a
//! check removed from `strict::Endpoint::check` lets one through and fails
//! here; `the_tables_say_what_the_providers_documentation_says` keeps the
//! tables from losing a fact.

use quirkgate_mocks::long_tail::{facebook_proof, MOCK_FACEBOOK_APP_SECRET};
use quirkgate_mocks::provider::{MockProvider, ProviderKind, SeenRequest, PROVIDER_NAMES};
use quirkgate_mocks::strict::{Credentials, Endpoint, Header, MOCK_CLIENT_ID};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A mock's answer: status, headers (lower-case names), body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `request` on a fresh connection and reads the (Content-Length) answer.
async fn send(mock: &MockProvider, request: &SeenRequest) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(mock.addr).await.unwrap();
    stream
        .write_all(&request.to_wire(&mock.addr.to_string()))
        .await
        .unwrap();
    let mut buf = Vec::new();
    let (head_end, length) = loop {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("the mock answers")
            .unwrap();
        assert!(n > 0, "the mock closed without an answer");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            break (end, length);
        }
    };
    while buf.len() < head_end + 4 + length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = String::from_utf8_lossy(&buf[head_end + 4..head_end + 4 + length]).into_owned();
    Answer {
        status,
        headers,
        body,
    }
}

/// The access token a kind's user endpoint takes (its logic checks the prefix).
fn access_token(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::TikTok | ProviderKind::TikTokUserInfo => "act.mockcode-1",
        ProviderKind::WeChat => "wx.mockcode-1",
        ProviderKind::GitHub => "gho_mockcode-1",
        ProviderKind::DingTalk | ProviderKind::DingTalkUserInfo => "dt.mockcode-1",
        // The first long tail's user endpoints take their token endpoint's tokens.
        ProviderKind::Douyin => "dy.mockcode-1",
        ProviderKind::Feishu => "fs.mockcode-1",
        ProviderKind::Zoom => "zm.mockcode-1",
        ProviderKind::Pinterest => "pin.mockcode-1",
        ProviderKind::Strava => "st.mockcode-1",
        ProviderKind::Qq => "qq.mockcode-1",
        ProviderKind::Kuaishou => "ks.mockcode-1",
        _ => "mock-access-token",
    }
}

/// The value the accepted request carries for parameter `name`.
fn value(kind: ProviderKind, name: &str) -> String {
    match name {
        "grant_type" | "grantType" => "authorization_code".into(),
        "code" => "mockcode-1".into(),
        "response_type" => "code".into(),
        "redirect_uri" => "https://rp.example/callback".into(),
        "scope" => "user.info.basic".into(),
        "fields" => "open_id,union_id,display_name".into(),
        "openid" if kind == ProviderKind::Qq => quirkgate_mocks::qq::MOCK_QQ_OPENID.into(),
        "openid" => "openid-1".into(),
        "oauth_consumer_key" => quirkgate_mocks::qq::MOCK_QQ_APP_ID.into(),
        "v" => "5.199".into(),
        // Kuaishou's user info takes only its app's id.
        "app_id" => quirkgate_mocks::long_tail_two::MOCK_KUAISHOU_APP_ID.into(),
        "access_token" => access_token(kind).into(),
        "appsecret_proof" => facebook_proof(MOCK_FACEBOOK_APP_SECRET, access_token(kind)),
        _ => "mock".into(),
    }
}

/// An Apple client secret the mock reads as valid (it cannot check the signature).
fn apple_client_secret() -> String {
    use base64::Engine;
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!(
        "{}.{}.{}",
        b64(serde_json::json!({"alg": "ES256", "kid": "K1"})),
        b64(
            serde_json::json!({"iss": "TEAM", "iat": now, "exp": now + 3600, "aud": "https://appleid.apple.com", "sub": MOCK_CLIENT_ID})
        ),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 64])
    )
}

/// The request `endpoint` accepts, with what the kind's logic also wants.
fn accepted(kind: ProviderKind, endpoint: &Endpoint) -> quirkgate_mocks::strict::Draft {
    use quirkgate_mocks::strict::At;
    let mut draft = endpoint.accepted(|name| value(kind, name));
    let grant = ["grant_type", "grantType"];
    if endpoint.params.required.iter().any(|n| grant.contains(n)) {
        let code = ("code".to_owned(), value(kind, "code"));
        match endpoint.params.at {
            At::Query => draft.query.push(code),
            At::Body => draft.body_params.push(code),
        }
    }
    match kind {
        // Without fmt=json QQ's open id is JSONP, which `served` reads as a refusal.
        ProviderKind::Qq if endpoint.path == "/oauth2.0/me" => {
            draft.query.push(("fmt".into(), "json".into()))
        }
        // Douyin's user call carries its token as a body parameter.
        ProviderKind::Douyin if endpoint.path == "/oauth/userinfo/" => {
            for (name, value) in &mut draft.body_params {
                if name == "access_token" {
                    *value = access_token(kind).into();
                }
            }
        }
        // X's token call: the verifier of the challenge the page's code carries.
        ProviderKind::X if endpoint.path == "/2/oauth2/token" => {
            let verifier = "v".repeat(43);
            let code = format!(
                "mockcode-1.{}",
                quirkgate_mocks::login_legs::s256_challenge(&verifier)
            );
            for (name, value) in &mut draft.body_params {
                if name == "code" {
                    *value = code.clone();
                }
            }
            draft.body_params.push(("code_verifier".into(), verifier));
        }
        ProviderKind::Apple => {
            for (name, value) in &mut draft.body_params {
                if name == "client_secret" {
                    *value = apple_client_secret();
                }
            }
        }
        _ => {}
    }
    draft
}

/// What the accepted request's answer shows when the mock's logic served it.
fn served(endpoint: &Endpoint, answer: &Answer) -> bool {
    if endpoint.credentials == Credentials::None {
        return answer.status == 302
            && answer
                .header("location")
                .is_some_and(|l| l.contains("code=mockcode-1"));
    }
    let refused_markers = [
        "\"error\":\"",
        "errcode",
        "\"ok\":false",
        "error_msg",
        "\"message\":\"Bad",
        "callback(",
        "\"code\":\"Invalid",
        "\"error\":{\"message",
        "\"error\":{\"error_code",
        "access_token_invalid",
    ];
    answer.status == 200 && !refused_markers.iter().any(|m| answer.body.contains(m))
}

#[tokio::test]
async fn every_mock_accepts_its_providers_request_and_refuses_each_wrong_variant() {
    let mut checked = 0;
    for (name, kind) in PROVIDER_NAMES {
        // Part two's mocks need their logic's values (a code's redirect_uri, a
        // token's prefix): tests/it/long_tail_two/wrong_variants.rs runs the
        // same check over them.
        // The signing and per-tenant mocks need signed requests and their keys:
        // their own tests (signed.rs, tenant.rs) send each wrong variant.
        if matches!(
            kind,
            ProviderKind::TailTwo(_)
                | ProviderKind::Alipay
                | ProviderKind::OkRu
                | ProviderKind::Withings
                | ProviderKind::Shopify
                | ProviderKind::GitLab
        ) {
            continue;
        }
        let mock = MockProvider::start(*kind, "127.0.0.1:0", None)
            .await
            .unwrap();
        for endpoint in kind.endpoints() {
            let draft = accepted(*kind, endpoint);
            let answer = send(&mock, &draft.request()).await;
            assert!(
                served(endpoint, &answer),
                "{name} {}: the provider's own request was refused: {} {}",
                endpoint.path,
                answer.status,
                answer.body
            );
            let variants = endpoint.wrong_variants(&draft);
            assert!(variants.len() >= 3, "{name} {}", endpoint.path);
            for variant in variants {
                let answer = send(&mock, &variant.request).await;
                let (status, content_type, body) = endpoint.refusal.answer(&variant.violation);
                assert_eq!(
                    (answer.status, answer.body.as_str()),
                    (status, body.as_str()),
                    "{name} {}: {:?} was not refused as the provider refuses it",
                    endpoint.path,
                    variant.violation
                );
                assert_eq!(answer.header("content-type"), Some(content_type));
                checked += 1;
            }
        }
    }
    assert!(checked > 150, "{checked} variants");
}

#[tokio::test]
async fn every_mock_answers_an_unknown_path_with_404() {
    for (name, kind) in PROVIDER_NAMES {
        let mock = MockProvider::start(*kind, "127.0.0.1:0", None)
            .await
            .unwrap();
        // Yandex's and Mail.ru's token endpoint really is /token.
        let unknown = if kind.endpoints().iter().any(|e| e.path == "/token") {
            "/oauth/unknown"
        } else {
            "/token"
        };
        for (method, path) in [("DELETE", "/unknown"), ("GET", "/"), ("POST", unknown)] {
            let request = SeenRequest {
                method: method.into(),
                path: path.into(),
                query: vec![],
                headers: vec![],
                body: vec![],
                raw_body: vec![],
            };
            let answer = send(&mock, &request).await;
            assert_eq!(
                answer.status, 404,
                "{name}: {method} {path}: {}",
                answer.body
            );
        }
        // The mock records what it refused, too: a test can see nothing was served.
        assert_eq!(mock.requests().len(), 3, "{name}");
    }
}

fn endpoint(kind: ProviderKind, path: &str) -> Endpoint {
    *kind
        .endpoints()
        .iter()
        .find(|e| e.path == path)
        .unwrap_or_else(|| panic!("{kind:?} serves {path}"))
}

/// The facts of `oauth-quirks.md` each table must keep (a fact deleted from a
/// table would also delete its variant above).
#[test]
fn the_tables_say_what_the_providers_documentation_says() {
    use quirkgate_mocks::strict::{At, Body};
    use ProviderKind::*;
    // Every kind serves at least one endpoint, and every path is absolute.
    for (name, kind) in PROVIDER_NAMES {
        assert!(!kind.endpoints().is_empty(), "{name}");
        assert!(kind.endpoints().iter().all(|e| e.path.starts_with('/')));
    }
    let github_user = endpoint(GitHub, "/user");
    assert_eq!(github_user.methods, ["GET"]);
    assert!(github_user.headers.contains(&Header::named("user-agent")));
    assert_eq!(github_user.credentials, Credentials::Bearer);

    let tiktok = endpoint(TikTok, "/v2/oauth/token/");
    assert_eq!(tiktok.methods, ["POST"]);
    assert_eq!(tiktok.body, Body::Form);
    assert!(tiktok.params.forbidden.contains(&"client_id"));
    assert!(matches!(
        tiktok.credentials,
        Credentials::Params {
            id: "client_key",
            ..
        }
    ));
    assert!(endpoint(TikTok, "/v2/auth/authorize/")
        .params
        .forbidden
        .contains(&"client_id"));
    assert!(endpoint(TikTok, "/v2/user/info/")
        .params
        .required
        .contains(&"fields"));

    let v1 = endpoint(TikTokV1, "/oauth/access_token/");
    assert_eq!(v1.params.at, At::Query);

    for (kind, path) in [
        (WeChat, "/sns/oauth2/access_token"),
        (Qq, "/oauth2.0/token"),
        (Kuaishou, "/oauth2/access_token"),
    ] {
        let e = endpoint(kind, path);
        assert_eq!(
            (e.methods, e.body, e.params.at),
            (&["GET"][..], Body::None, At::Query),
            "{kind:?}"
        );
    }
    assert!(matches!(
        endpoint(WeChat, "/sns/oauth2/access_token").credentials,
        Credentials::Params {
            id: "appid",
            secret: Some("secret")
        }
    ));
    assert!(matches!(
        endpoint(Kuaishou, "/oauth2/access_token").credentials,
        Credentials::Params {
            id: "app_id",
            secret: Some("app_secret")
        }
    ));
    for (kind, path) in [
        (Reddit, "/api/v1/access_token"),
        (Zoom, "/oauth/token"),
        (Pinterest, "/v5/oauth/token"),
        (Notion, "/v1/oauth/token"),
    ] {
        assert!(
            matches!(endpoint(kind, path).credentials, Credentials::Basic { refused } if refused.contains(&"client_secret")),
            "{kind:?}: Basic only"
        );
    }
    for (kind, path) in [
        (LinkedIn, "/oauth/v2/accessToken"),
        (Strava, "/oauth/token"),
        (Line, "/oauth2/v2.1/token"),
    ] {
        assert!(
            matches!(
                endpoint(kind, path).credentials,
                Credentials::Params {
                    id: "client_id",
                    secret: Some("client_secret")
                }
            ),
            "{kind:?}: body only"
        );
    }
    let notion = endpoint(Notion, "/v1/oauth/token");
    assert_eq!(notion.body, Body::Json);
    assert!(notion.headers.contains(&Header::named("notion-version")));
    let dingtalk = endpoint(DingTalk, "/v1.0/oauth2/userAccessToken");
    assert_eq!(dingtalk.body, Body::Json);
    assert!(dingtalk.params.forbidden.contains(&"client_id"));
    assert_eq!(
        endpoint(DingTalkUserInfo, "/v1.0/contact/users/me").credentials,
        Credentials::TokenHeader("x-acs-dingtalk-access-token")
    );
    assert_eq!(
        endpoint(Feishu, "/open-apis/authen/v2/oauth/token").body,
        Body::Json
    );
    assert!(endpoint(Douyin, "/oauth/access_token/")
        .params
        .forbidden
        .contains(&"client_id"));
    assert!(endpoint(TwitchUserInfo, "/helix/users")
        .headers
        .contains(&Header::named("client-id")));
    assert_eq!(
        endpoint(VkUserInfo, "/method/users.get").credentials,
        Credentials::TokenQuery("access_token")
    );
    assert!(endpoint(VkUserInfo, "/method/users.get")
        .params
        .required
        .contains(&"v"));
    assert!(endpoint(FacebookUserInfo, "/v19.0/me")
        .params
        .required
        .contains(&"appsecret_proof"));
    assert!(matches!(
        endpoint(X, "/2/oauth2/token").credentials,
        Credentials::BasicWithId {
            id: "client_id",
            ..
        }
    ));
}

/// Kuaishou's and Withings' login legs (oauth-quirks.md): the pages' own
/// names and Kuaishou's user call; Withings' page, which the signed mocks'
/// own test sends the wrong variants of, takes its provider's request.
#[tokio::test]
async fn kuaishou_and_withings_serve_their_documented_login_legs() {
    use quirkgate_mocks::strict::At;
    use ProviderKind::{Kuaishou, Withings};
    let page = endpoint(Kuaishou, "/oauth2/connect");
    for name in ["app_id", "scope", "response_type", "redirect_uri", "state"] {
        assert!(page.params.required.contains(&name), "{name}");
    }
    assert!(page.params.forbidden.contains(&"client_id"));
    let user = endpoint(Kuaishou, "/openapi/user_info");
    assert_eq!((user.methods, user.params.at), (&["GET"][..], At::Query));
    assert_eq!(user.credentials, Credentials::TokenQuery("access_token"));
    assert!(user.params.required.contains(&"app_id"));

    let page = endpoint(Withings, "/oauth2_user/authorize2");
    for name in [
        "client_id",
        "scope",
        "response_type",
        "redirect_uri",
        "state",
    ] {
        assert!(page.params.required.contains(&name), "{name}");
    }
    let mock = MockProvider::start(Withings, "127.0.0.1:0", None)
        .await
        .unwrap();
    let draft = accepted(Withings, &page);
    let answer = send(&mock, &draft.request()).await;
    assert!(served(&page, &answer), "{} {}", answer.status, answer.body);
    for variant in page.wrong_variants(&draft) {
        let answer = send(&mock, &variant.request).await;
        assert_eq!(answer.status, 400, "{:?}", variant.violation);
        assert!(
            answer.header("location").is_none(),
            "{:?}",
            variant.violation
        );
    }
}

/// Alipay's authorize page (its token gateway needs signed requests, tested
/// in `signed.rs`): `app_id`, `scope` and `redirect_uri`, never `client_id`;
/// it calls back with `auth_code`, and refuses each wrong variant.
#[tokio::test]
async fn alipays_authorize_page_takes_app_id_and_calls_back_with_auth_code() {
    use quirkgate_mocks::signed::ALIPAY_AUTHORIZE;
    let mock = MockProvider::start(ProviderKind::Alipay, "127.0.0.1:0", None)
        .await
        .unwrap();
    let draft = ALIPAY_AUTHORIZE.accepted(|name| match name {
        "redirect_uri" => "https://gw.example/cb".to_owned(),
        _ => "x".to_owned(),
    });
    let answer = send(&mock, &draft.request()).await;
    assert_eq!(answer.status, 302, "{}", answer.body);
    let location = answer.header("location").unwrap();
    assert!(location.starts_with("https://gw.example/cb?"), "{location}");
    assert!(
        location.contains("auth_code=") && !location.contains("&code="),
        "{location}"
    );
    let variants = ALIPAY_AUTHORIZE.wrong_variants(&draft);
    assert!(variants.len() >= 4, "{}", variants.len());
    for variant in variants {
        let answer = send(&mock, &variant.request).await;
        let (status, _, body) = ALIPAY_AUTHORIZE.refusal.answer(&variant.violation);
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (status, body.as_str()),
            "{:?}",
            variant.violation
        );
    }
}
