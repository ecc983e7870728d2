//! The `github`, `slack` and `basic-auth` (Reddit) presets.

use super::*;

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
