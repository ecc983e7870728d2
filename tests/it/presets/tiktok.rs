//! The `tiktok`, `tiktok-v1` and `tiktok-userinfo` presets.

use super::*;

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

#[tokio::test]
async fn tiktok_userinfo_preset_forwards_the_bearer_and_answers_the_flat_user() {
    let info = mock(ProviderKind::TikTokUserInfo).await;
    // The operator's own upstream, with no query: the preset's rules ask for the fields.
    let upstream = format!("http://{}/v2/user/info/", info.addr);
    let gateway = Gateway::start(&route("/userinfo", "tiktok-userinfo", &upstream, ""));

    let response = get_with_bearer(&gateway, "/userinfo", "act.x").await;
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
    let response = get_with_bearer(&gateway, "/userinfo", "revoked").await;
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
