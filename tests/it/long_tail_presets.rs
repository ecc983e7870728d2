//! The long-tail presets end to end: a standard OAuth 2.0 client (the
//! `oauth2` crate), or a plain bearer call for user-info routes, through the
//! real gateway to each provider's strict mock, which refuses what the real
//! provider refuses.

use crate::support::*;
use oauth2::basic::BasicTokenType;
use oauth2::{AuthType, AuthorizationCode, PkceCodeVerifier, RefreshToken, TokenResponse};

fn scopes(token: &oauth2::basic::BasicTokenResponse) -> Option<Vec<String>> {
    token
        .scopes()
        .map(|s| s.iter().map(|s| (**s).clone()).collect())
}

async fn refresh(client: &OAuthClient, refresh_token: &str) -> oauth2::basic::BasicTokenResponse {
    client
        .exchange_refresh_token(&RefreshToken::new(refresh_token.into()))
        .request_async(&http_client())
        .await
        .unwrap_or_else(|e| panic!("refresh failed: {e:?}"))
}

/// A bearer GET through the gateway: (status, JSON body).
async fn bearer_get(gateway: &Gateway, path: &str, token: &str) -> (u16, serde_json::Value) {
    let response = http_client()
        .get(gateway.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (status, response.json().await.unwrap())
}

fn both_auth_types() -> [AuthType; 2] {
    [AuthType::RequestBody, AuthType::BasicAuth]
}

// ---------------------------------------------------------------- JSON request bodies

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

// ---------------------------------------------------------------- JSONP and forms

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

// ---------------------------------------------------------------- value transforms

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

// ---------------------------------------------------------------- user-info routes

#[tokio::test]
async fn twitch_userinfo_preset_adds_the_client_id_and_answers_the_first_user() {
    let twitch = mock(ProviderKind::TwitchUserInfo).await;
    let upstream = format!("http://{}/helix/users", twitch.addr);
    let gateway = Gateway::start_with_env(
        &route("/twitch/userinfo", "twitch-userinfo", &upstream, ""),
        "",
        "info",
        &[("TWITCH_CLIENT_ID", "twitch-app-id")],
    );
    let (status, body) = bearer_get(&gateway, "/twitch/userinfo", "tw-token").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["login"], "twitchdev");
    assert_eq!(body["id"], "141981764");
    let seen = twitch.requests();
    assert_eq!(seen[0].header("client-id"), Some("twitch-app-id"));
    assert_eq!(seen[0].header("authorization"), Some("Bearer tw-token"));
    let (status, body) = bearer_get(&gateway, "/twitch/userinfo", "expired").await;
    assert_eq!(
        (status, &body["error"]),
        (401, &serde_json::json!("invalid_token"))
    );
    assert_eq!(body["error_description"], "Invalid OAuth token");
}

#[tokio::test]
async fn vk_userinfo_preset_moves_the_token_to_the_query_and_answers_response_0() {
    let vk = mock(ProviderKind::VkUserInfo).await;
    let upstream = format!("http://{}/method/users.get", vk.addr);
    let gateway = Gateway::start(&route("/vk/userinfo", "vk-userinfo", &upstream, ""));
    let (status, body) = bearer_get(&gateway, "/vk/userinfo", "vk1.a.token").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], "210700286", "the numeric id arrives a string");
    assert_eq!(body["screen_name"], "lindseystirling");
    let seen = vk.requests();
    assert_eq!(seen[0].query_param("access_token"), Some("vk1.a.token"));
    assert_eq!(seen[0].query_param("v"), Some("5.199"));
    assert_eq!(seen[0].header("authorization"), None);
    // VK's HTTP 200 error: code 5 is a bad token.
    let (status, body) = bearer_get(&gateway, "/vk/userinfo", "expired").await;
    assert_eq!(
        (status, &body["error"]),
        (400, &serde_json::json!("invalid_token")),
        "{body}"
    );
    // A Basic header is not a bearer token: refused before VK.
    let response = http_client()
        .get(gateway.url("/vk/userinfo"))
        .basic_auth("a", Some("b"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");
    assert_eq!(vk.requests().len(), 2);
}

#[tokio::test]
async fn dingtalk_userinfo_preset_puts_the_token_in_dingtalks_header() {
    let dingtalk = mock(ProviderKind::DingTalkUserInfo).await;
    let upstream = format!("http://{}/v1.0/contact/users/me", dingtalk.addr);
    let gateway = Gateway::start(&route("/dingtalk/me", "dingtalk-userinfo", &upstream, ""));
    let (status, body) = bearer_get(&gateway, "/dingtalk/me", "dt.abc").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["unionId"], "ding-union-1");
    let seen = dingtalk.requests();
    assert_eq!(
        seen[0].header("x-acs-dingtalk-access-token"),
        Some("dt.abc")
    );
    assert_eq!(seen[0].header("authorization"), None);
}

#[tokio::test]
async fn facebook_userinfo_preset_adds_the_appsecret_proof() {
    use quirkgate_mocks::long_tail::{facebook_proof, MOCK_FACEBOOK_APP_SECRET};
    let facebook = mock(ProviderKind::FacebookUserInfo).await;
    let upstream = format!("http://{}/v19.0/me", facebook.addr);
    let gateway = Gateway::start_with_env(
        &route("/facebook/me", "facebook-userinfo", &upstream, ""),
        "",
        "debug",
        &[("FACEBOOK_APP_SECRET", MOCK_FACEBOOK_APP_SECRET)],
    );
    let (status, body) = bearer_get(&gateway, "/facebook/me", "EAAB.token").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], "10001");
    let seen = facebook.requests();
    assert_eq!(seen[0].query_param("access_token"), Some("EAAB.token"));
    assert_eq!(
        seen[0].query_param("appsecret_proof"),
        Some(facebook_proof(MOCK_FACEBOOK_APP_SECRET, "EAAB.token").as_str())
    );
    assert_eq!(seen[0].query_param("fields"), Some("id,name,email"));
    let (status, body) = bearer_get(&gateway, "/facebook/me", "expired").await;
    assert_eq!(
        (status, &body["error"]),
        (400, &serde_json::json!("invalid_token")),
        "{body}"
    );
    assert!(
        !gateway.log().contains(MOCK_FACEBOOK_APP_SECRET),
        "the app secret is never logged"
    );
}

// ---------------------------------------------------------------- plain presets

/// Zoom and Pinterest take Basic only; LinkedIn, Strava and LINE the body
/// only. Each mock refuses the other way, so each preset is proven by a
/// client of either kind succeeding.
#[tokio::test]
async fn plain_presets_put_client_credentials_where_each_provider_takes_them() {
    for (preset, kind, prefix, basic_only) in [
        ("zoom", ProviderKind::Zoom, "zm", true),
        ("pinterest", ProviderKind::Pinterest, "pin", true),
        ("linkedin", ProviderKind::LinkedIn, "li", false),
        ("strava", ProviderKind::Strava, "st", false),
        ("line", ProviderKind::Line, "line", false),
    ] {
        let path = format!("/{preset}");
        let (provider, gateway) = preset_route(&path, preset, kind, "/oauth/token").await;
        for (i, auth_type) in both_auth_types().into_iter().enumerate() {
            let client = oauth_client(&gateway.url(&path), "app id", ODD_SECRET, auth_type);
            let code = format!("{preset}{i}");
            let token = exchange(&client, &code).await;
            assert_eq!(
                token.access_token().secret(),
                &format!("{prefix}.{code}"),
                "{preset}"
            );
            let seen = provider.requests();
            let request = seen.last().unwrap();
            assert_eq!(
                request.header("authorization").is_some(),
                basic_only,
                "{preset}"
            );
            assert_eq!(
                request.body_param("client_id").is_some(),
                !basic_only,
                "{preset}"
            );
            assert_eq!(
                request.body_param("client_secret").is_some(),
                !basic_only,
                "{preset}"
            );
        }
        let client = oauth_client(
            &gateway.url(&path),
            "app",
            ODD_SECRET,
            AuthType::RequestBody,
        );
        assert_eq!(
            exchange_error(&client, "expired-1").await.0,
            "invalid_grant",
            "{preset}"
        );
    }
}

#[tokio::test]
async fn x_preset_sends_basic_and_the_client_id_in_the_body() {
    let (x, gateway) = preset_route("/x", "x", ProviderKind::X, "/2/oauth2/token").await;
    for (i, auth_type) in both_auth_types().into_iter().enumerate() {
        let client = oauth_client(&gateway.url("/x"), "x-client", ODD_SECRET, auth_type);
        let code = format!("xcode{i}");
        let token = client
            .exchange_code(AuthorizationCode::new(code.clone()))
            .set_pkce_verifier(PkceCodeVerifier::new("v".repeat(43)))
            .request_async(&http_client())
            .await
            .unwrap();
        assert_eq!(token.access_token().secret(), &format!("x.{code}"));
        let seen = x.requests();
        let request = seen.last().unwrap();
        assert_eq!(request.body_param("client_id"), Some("x-client"));
        assert_eq!(request.body_param("client_secret"), None);
        assert!(request
            .header("authorization")
            .unwrap()
            .starts_with("Basic "));
        assert_eq!(
            request.body_param("code_verifier"),
            Some("v".repeat(43).as_str())
        );
    }
    // A public client (PKCE, no secret) passes as it is: no Basic header.
    let (status, body, _) = post_answer(
        &gateway,
        "/x",
        &format!(
            "grant_type=authorization_code&code=pub&client_id=x-public&code_verifier={}",
            "w".repeat(43)
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let seen = x.requests();
    assert_eq!(seen.last().unwrap().header("authorization"), None);
}

// ---------------------------------------------------------------- values a preset needs

#[test]
fn config_test_refuses_a_preset_whose_value_is_missing_naming_route_and_variable() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("q.yaml");
    std::fs::write(
        &config,
        "routes:\n  - path: /twitch/userinfo\n    preset: twitch-userinfo\n  - path: /facebook/me\n    preset: facebook-userinfo\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quirkgate"))
        .arg("--config")
        .arg(&config)
        .arg("--test")
        .env_remove("TWITCH_CLIENT_ID")
        .env_remove("FACEBOOK_APP_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "routes[0] (/twitch/userinfo)",
        "TWITCH_CLIENT_ID",
        "routes[1] (/facebook/me)",
        "FACEBOOK_APP_SECRET",
    ] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quirkgate"))
        .arg("--config")
        .arg(&config)
        .arg("--test")
        .env("TWITCH_CLIENT_ID", "id")
        .env("FACEBOOK_APP_SECRET", "secret")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------- signed client secrets

/// A fresh P-256 key as Apple hands it out (a PKCS#8 `.p8` PEM file), and
/// its public half to verify signatures with.
pub(crate) struct AppleKey {
    pub path: std::path::PathBuf,
    pub public: Vec<u8>,
    _dir: tempfile::TempDir,
}

pub(crate) fn apple_key() -> AppleKey {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("AuthKey_KEY1234567.p8");
    std::fs::write(&path, key.serialize_pem()).unwrap();
    AppleKey {
        path,
        public: key.public_key_raw().to_vec(),
        _dir: dir,
    }
}

pub(crate) const APPLE_CLIENT_ID: &str = "com.example.signin";

pub(crate) fn apple_env(key: &AppleKey) -> Vec<(&'static str, String)> {
    vec![
        ("APPLE_KEY_FILE", key.path.to_str().unwrap().to_owned()),
        ("APPLE_KEY_ID", "KEY1234567".to_owned()),
        ("APPLE_TEAM_ID", "TEAM123456".to_owned()),
        ("APPLE_CLIENT_ID", APPLE_CLIENT_ID.to_owned()),
    ]
}

/// Checks a client secret the way Apple does, signature included.
pub(crate) fn verify_apple_secret(
    secret: &str,
    key: &AppleKey,
) -> serde_json::Map<String, serde_json::Value> {
    use base64::Engine;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims =
        quirkgate_mocks::long_tail::check_apple_client_secret(secret, APPLE_CLIENT_ID, now)
            .unwrap_or_else(|why| panic!("Apple would refuse the secret: {why}"));
    let (signed, signature) = secret.rsplit_once('.').unwrap();
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .unwrap();
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &key.public)
        .verify(signed.as_bytes(), &signature)
        .expect("signed with the operator's key");
    claims
}

#[tokio::test]
async fn apple_preset_injects_a_client_secret_jwt_signed_with_the_operators_key() {
    let key = apple_key();
    let env = apple_env(&key);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let apple = mock(ProviderKind::Apple).await;
    let upstream = format!("http://{}/auth/token", apple.addr);
    let gateway =
        Gateway::start_with_env(&route("/apple", "apple", &upstream, ""), "", "debug", &env);
    // The broker holds only a placeholder secret: the gateway signs the real one.
    for (i, auth_type) in both_auth_types().into_iter().enumerate() {
        let client = oauth_client(&gateway.url("/apple"), APPLE_CLIENT_ID, "unused", auth_type);
        let code = format!("apcode{i}");
        let token = exchange(&client, &code).await;
        assert_eq!(token.access_token().secret(), &format!("ap.{code}"));
        let seen = apple.requests();
        let request = seen.last().unwrap();
        assert_eq!(request.body_param("client_id"), Some(APPLE_CLIENT_ID));
        assert_eq!(request.header("authorization"), None);
        let claims = verify_apple_secret(request.body_param("client_secret").unwrap(), &key);
        assert_eq!(claims["iss"], "TEAM123456");
        assert_eq!(claims["aud"], "https://appleid.apple.com");
        let lifetime = claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap();
        assert_eq!(lifetime, 30 * 86400);
    }
    // The same cached secret serves every exchange until it is renewed.
    let seen = apple.requests();
    assert_eq!(
        seen[0].body_param("client_secret"),
        seen[1].body_param("client_secret")
    );
    // Another client id cannot borrow the route's signature.
    let before = apple.requests().len();
    assert_oauth_error_answer(
        &post_answer(
            &gateway,
            "/apple",
            "grant_type=authorization_code&code=c&client_id=com.other.app&client_secret=x",
        )
        .await,
        401,
        "invalid_client",
    );
    assert_eq!(apple.requests().len(), before);
    let client = oauth_client(
        &gateway.url("/apple"),
        APPLE_CLIENT_ID,
        "unused",
        AuthType::RequestBody,
    );
    assert_eq!(
        exchange_error(&client, "expired-1").await.0,
        "invalid_grant"
    );
    let secret = seen[0].body_param("client_secret").unwrap();
    assert!(
        !gateway.log().contains(secret),
        "the signed secret is never logged"
    );
}

#[test]
fn config_test_refuses_the_apple_preset_without_a_usable_key_naming_the_route() {
    let key = apple_key();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("q.yaml");
    std::fs::write(&config, "routes:\n  - path: /apple\n    preset: apple\n").unwrap();
    let run = |env: &[(&str, String)]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_quirkgate"))
            .arg("--config")
            .arg(&config)
            .arg("--test")
            .env_remove("APPLE_KEY_FILE")
            .env_remove("APPLE_KEY_ID")
            .env_remove("APPLE_TEAM_ID")
            .env_remove("APPLE_CLIENT_ID")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = run(&[]);
    assert_eq!(code, Some(1));
    for var in [
        "APPLE_KEY_FILE",
        "APPLE_KEY_ID",
        "APPLE_TEAM_ID",
        "APPLE_CLIENT_ID",
    ] {
        assert!(
            stderr.contains("routes[0] (/apple)") && stderr.contains(var),
            "{var}: {stderr}"
        );
    }
    let mut env = apple_env(&key);
    env[0].1 = dir.path().join("missing.p8").to_str().unwrap().to_owned();
    let (code, stderr) = run(&env);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("routes[0] (/apple)") && stderr.contains("missing.p8"),
        "{stderr}"
    );
    let (code, stderr) = run(&apple_env(&key));
    assert_eq!(code, Some(0), "{stderr}");
}

// ---------------------------------------------------------------- one file, five providers

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
