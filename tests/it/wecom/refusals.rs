//! What the WeCom routes refuse, before or without WeCom: a client that is
//! not the corp app, a grant they do not serve, and a Bearer token of ours
//! that is missing, altered, foreign or expired (RFC 6750 invalid_token).

use super::*;

#[tokio::test]
async fn a_client_that_is_not_the_corp_app_is_refused_before_wecom_is_asked() {
    let (mock, gateway) = wecom_gateway("", "info").await;
    for (id, secret) in [
        (MOCK_CORP_ID, "wrong-secret"),
        ("ww-other", MOCK_CORP_SECRET),
    ] {
        let client = oauth_client(
            &gateway.url("/wecom/token"),
            id,
            secret,
            AuthType::BasicAuth,
        );
        assert_eq!(
            exchange_error(&client, MEMBER_CODE).await.0,
            "invalid_client"
        );
    }
    let answer = post_answer(
        &gateway,
        "/wecom/token",
        "grant_type=authorization_code&code=x",
    )
    .await;
    assert_oauth_error_answer(&answer, 401, "invalid_client");
    let body = format!(
        "grant_type=refresh_token&refresh_token=r&client_id={MOCK_CORP_ID}&client_secret={MOCK_CORP_SECRET}"
    );
    let answer = post_answer(&gateway, "/wecom/token", &body).await;
    assert_oauth_error_answer(&answer, 400, "unsupported_grant_type");
    assert!(mock.requests().is_empty(), "nothing reached WeCom");
}

#[tokio::test]
async fn a_missing_altered_or_expired_bearer_token_is_invalid_token_with_its_challenge() {
    let (mock, gateway) = wecom_gateway(", token_lifetime: 1s", "info").await;
    let response = http_client()
        .get(gateway.url("/wecom/user"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let token = exchange(&corp_client(&gateway, AuthType::RequestBody), MEMBER_CODE)
        .await
        .access_token()
        .secret()
        .clone();
    let mut altered = token.clone().into_bytes();
    let last = altered.len() - 2;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    for (what, bad) in [
        ("altered", altered.as_str()),
        ("expired", token.as_str()),
        ("foreign", "corptoken-1-mock"),
    ] {
        let response = get_with_bearer(&gateway, "/wecom/user", bad).await;
        assert_eq!(response.status().as_u16(), 401, "{what}");
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(challenge.contains("invalid_token"), "{what}: {challenge}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_token", "{what}");
    }
    assert_eq!(
        mock.requests()
            .iter()
            .filter(|r| r.path == "/cgi-bin/user/get")
            .count(),
        0,
        "no refused token made a WeCom call"
    );
}
