//! Plain presets: client credentials where each provider takes them.

use super::*;

/// Zoom and Pinterest take Basic only; LinkedIn, Strava and LINE the body
/// only. Each mock refuses the other way, so each preset is proven by a
/// client of either kind succeeding.
#[tokio::test]
async fn plain_presets_put_client_credentials_where_each_provider_takes_them() {
    for (preset, kind, prefix, basic_only, provider_path) in [
        ("zoom", ProviderKind::Zoom, "zm", true, "/oauth/token"),
        (
            "pinterest",
            ProviderKind::Pinterest,
            "pin",
            true,
            "/v5/oauth/token",
        ),
        (
            "linkedin",
            ProviderKind::LinkedIn,
            "li",
            false,
            "/oauth/v2/accessToken",
        ),
        ("strava", ProviderKind::Strava, "st", false, "/oauth/token"),
        (
            "line",
            ProviderKind::Line,
            "line",
            false,
            "/oauth2/v2.1/token",
        ),
    ] {
        let path = format!("/{preset}");
        let (provider, gateway) = preset_route(&path, preset, kind, provider_path).await;
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
