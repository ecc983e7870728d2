//! `withings`: `action=requesttoken`, and the `{status, body}` answer unwrapped.

use super::*;

#[tokio::test]
async fn withings_preset_adds_the_action_and_unwraps_status_0() {
    let (withings, gateway) = preset_route(
        "/withings",
        "withings",
        ProviderKind::Withings,
        "/v2/oauth2",
    )
    .await;
    for (i, auth_type) in both_auth_types().into_iter().enumerate() {
        let client = oauth_client(
            &gateway.url("/withings"),
            "wi-client",
            ODD_SECRET,
            auth_type,
        );
        let code = format!("wicode{i}");
        let token = exchange(&client, &code).await;
        assert_eq!(token.access_token().secret(), &format!("wi.{code}"));
        assert_eq!(
            token.expires_in(),
            Some(std::time::Duration::from_secs(10800))
        );
        let seen = withings.requests();
        let request = seen.last().unwrap();
        assert_eq!(request.body_param("action"), Some("requesttoken"));
        assert_eq!(request.body_param("client_secret"), Some(ODD_SECRET));
        assert_eq!(request.header("authorization"), None);
        let renewed = refresh(&client, &format!("wir.{code}")).await;
        assert_eq!(renewed.access_token().secret(), &format!("wi.wir.{code}"));
    }
    // The user's id rides in the unwrapped answer, as a string.
    let (status, body) = post(
        &gateway,
        "/withings",
        "grant_type=authorization_code&code=raw&redirect_uri=https%3A%2F%2Fx&client_id=a&client_secret=b",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["userid"], "363");
    assert!(
        body.get("status").is_none() && body.get("body").is_none(),
        "{body}"
    );

    let client = oauth_client(
        &gateway.url("/withings"),
        "wi-client",
        ODD_SECRET,
        AuthType::RequestBody,
    );
    let (error, description, (status, provider)) =
        bad_code_is_an_rfc_error_sent_once(&withings, ProviderKind::Withings, &client).await;
    assert_eq!(error, "invalid_grant");
    assert_eq!(description.as_deref(), Some("Invalid Params: invalid code"));
    assert_eq!(
        (status, &provider["status"]),
        (200, &serde_json::json!(503))
    );
}
