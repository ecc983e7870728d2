//! User-info routes: Twitch, VK, DingTalk, Facebook.

use super::*;

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
        (401, &serde_json::json!("invalid_token")),
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
        (401, &serde_json::json!("invalid_token")),
        "{body}"
    );
    assert!(
        !gateway.log().contains(MOCK_FACEBOOK_APP_SECRET),
        "the app secret is never logged"
    );
}
