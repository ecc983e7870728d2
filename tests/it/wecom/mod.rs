//! WeCom's two-step login through the gateway (`wecom`, `wecom-userinfo`):
//! a standard OAuth client redeems a code, a Bearer call reads the member;
//! the corp token is fetched once per route and replica, renewed when WeCom
//! refuses it, and never reaches a caller, the log or the metrics.

mod bridge;
mod refusals;

use crate::support::*;
use oauth2::{AuthType, TokenResponse};
use quirkgate_mocks::wecom::{
    WecomMock, MEMBER_CODE, MOCK_CORP_ID, MOCK_CORP_SECRET, MOCK_USER_ID, STRANGER_CODE,
};

const SEAL_KEY: &str = "6a1f0b2c3d4e5f60718293a4b5c6d7e8f9011223344556677889900aabbccdde";

/// The token and user routes in front of `mock`; `extra` joins both `corp_login:` blocks.
fn wecom_routes(mock: &WecomMock, extra: &str) -> String {
    let upstream = format!("http://{}", mock.addr);
    let block = format!(
        "{{ corp_id: \"{MOCK_CORP_ID}\", corp_secret: \"{MOCK_CORP_SECRET}\", seal_keys: [\"{SEAL_KEY}\"]{extra} }}"
    );
    format!(
        "  - path: /wecom/token\n    preset: wecom\n    upstream: \"{upstream}\"\n    corp_login: {block}\n  - path: /wecom/user\n    preset: wecom-userinfo\n    upstream: \"{upstream}\"\n    corp_login: {block}\n"
    )
}

/// What the presets read from the environment.
const ENV: &[(&str, &str)] = &[
    ("WECOM_CORP_ID", MOCK_CORP_ID),
    ("WECOM_CORP_SECRET", MOCK_CORP_SECRET),
    ("QUIRKGATE_WECOM_SEAL_KEY", SEAL_KEY),
];

async fn wecom_gateway(extra: &str, rust_log: &str) -> (WecomMock, Gateway) {
    let mock = WecomMock::start().await.unwrap();
    let gateway = Gateway::start_with_env(&wecom_routes(&mock, extra), "", rust_log, ENV);
    (mock, gateway)
}

fn corp_client(gateway: &Gateway, auth_type: AuthType) -> OAuthClient {
    oauth_client(
        &gateway.url("/wecom/token"),
        MOCK_CORP_ID,
        MOCK_CORP_SECRET,
        auth_type,
    )
}

/// The corp tokens the mock issued, as the gateway must never show them.
fn corp_tokens(mock: &WecomMock) -> Vec<String> {
    (1..=mock.corp_token_calls())
        .map(|n| format!("corptoken-{n}-mock"))
        .collect()
}

#[tokio::test]
async fn a_standard_client_logs_in_and_reads_the_member_with_the_gateways_own_token() {
    let (mock, gateway) = wecom_gateway("", "info").await;
    for (i, auth_type) in [AuthType::RequestBody, AuthType::BasicAuth]
        .into_iter()
        .enumerate()
    {
        let code = format!("{MEMBER_CODE}-{i}");
        let answer = exchange(&corp_client(&gateway, auth_type), &code).await;
        let token = answer.access_token().secret().clone();
        assert!(
            !corp_tokens(&mock).contains(&token),
            "the corp token reached the client"
        );
        assert_eq!(answer.token_type().as_ref().to_ascii_lowercase(), "bearer");
        assert!(answer.expires_in().is_some());
        let (status, member) = bearer_get(&gateway, "/wecom/user", &token).await;
        assert_eq!(status, 200, "{member}");
        assert_eq!(member["userid"], MOCK_USER_ID);
        assert_eq!(member["name"], "Zhang San");
        assert!(member.get("errcode").is_none(), "{member}");
        assert_eq!(mock.code_reached(&code), 1);
    }
    // WeCom saw only its own names, in the query of GETs.
    for request in mock.requests() {
        assert_eq!(request.method, "GET");
        assert!(request.raw_body.is_empty() && request.header("authorization").is_none());
        for standard in ["client_id", "client_secret", "grant_type", "redirect_uri"] {
            assert!(request.query_param(standard).is_none(), "{request:?}");
        }
    }
    // One gettoken per route (token and user legs), for all the calls.
    assert_eq!(mock.corp_token_calls(), 2);
}

#[tokio::test]
async fn a_hundred_parallel_logins_cause_one_gettoken() {
    let (mock, gateway) = wecom_gateway("", "info").await;
    let client = corp_client(&gateway, AuthType::RequestBody);
    let logins = (0..100).map(|i| {
        let client = client.clone();
        async move { exchange(&client, &format!("{MEMBER_CODE}-p{i}")).await }
    });
    let answers = futures_util::future::join_all(logins).await;
    assert_eq!(answers.len(), 100);
    assert_eq!(
        mock.corp_token_calls(),
        1,
        "the corp token is cached and shared"
    );
}

#[tokio::test]
async fn an_expired_corp_token_is_renewed_and_a_code_is_never_sent_twice() {
    let (mock, gateway) = wecom_gateway("", "info").await;
    let client = corp_client(&gateway, AuthType::RequestBody);
    let first = exchange(&client, &format!("{MEMBER_CODE}-1")).await;
    let token = first.access_token().secret().clone();
    assert_eq!(bearer_get(&gateway, "/wecom/user", &token).await.0, 200);
    let before = mock.corp_token_calls();
    mock.expire_corp_tokens();
    // The user leg consumes nothing: renewed, then read again, transparently.
    let (status, member) = bearer_get(&gateway, "/wecom/user", &token).await;
    assert_eq!(status, 200, "{member}");
    assert_eq!(member["userid"], MOCK_USER_ID);
    assert_eq!(mock.corp_token_calls(), before + 1);
    // The token leg's code reached WeCom with the expired token: it is not resent.
    let code = format!("{MEMBER_CODE}-2");
    let (error, _) = exchange_error(&client, &code).await;
    assert_eq!(error, "server_error");
    assert_eq!(mock.code_reached(&code), 1, "the code was sent once");
    assert_eq!(
        mock.corp_token_calls(),
        before + 2,
        "the token leg renewed its token"
    );
    // The next login finds the renewed token.
    exchange(&client, &format!("{MEMBER_CODE}-3")).await;
    assert_eq!(mock.corp_token_calls(), before + 2);
}

#[tokio::test]
async fn a_bad_code_gets_invalid_grant_and_reached_wecom_once() {
    let (mock, gateway) = wecom_gateway("", "info").await;
    let client = corp_client(&gateway, AuthType::RequestBody);
    let (error, description) = exchange_error(&client, "bad-wecom-code").await;
    assert_eq!(error, "invalid_grant");
    assert!(description.unwrap_or_default().contains("40029"));
    assert_eq!(mock.code_reached("bad-wecom-code"), 1);
    // A person outside the corp has no user id: refused.
    let (error, _) = exchange_error(&client, STRANGER_CODE).await;
    assert_eq!(error, "invalid_grant");
    // A code used once is refused by WeCom the second time; the gateway says so.
    exchange(&client, MEMBER_CODE).await;
    assert_eq!(
        exchange_error(&client, MEMBER_CODE).await.0,
        "invalid_grant"
    );
}

#[tokio::test]
async fn the_corp_token_and_secret_never_show_in_the_log_answers_or_metrics() {
    let (mock, gateway) = wecom_gateway("", "trace").await;
    let client = corp_client(&gateway, AuthType::BasicAuth);
    let mut answers = Vec::new();
    let token = exchange(&client, MEMBER_CODE).await;
    answers.push(serde_json::to_string(&token).unwrap());
    let token = token.access_token().secret().clone();
    answers.push(
        bearer_get(&gateway, "/wecom/user", &token)
            .await
            .1
            .to_string(),
    );
    mock.expire_corp_tokens();
    answers.push(
        bearer_get(&gateway, "/wecom/user", &token)
            .await
            .1
            .to_string(),
    );
    answers.push(format!("{:?}", exchange_error(&client, "bad-code").await));
    let wrong = oauth_client(
        &gateway.url("/wecom/token"),
        MOCK_CORP_ID,
        "guess",
        AuthType::RequestBody,
    );
    answers.push(format!("{:?}", exchange_error(&wrong, MEMBER_CODE).await));
    let log = gateway.wait_for_log(
        "route=/wecom/token method=POST status=401",
        std::time::Duration::from_secs(5),
    );
    let mut secrets = corp_tokens(&mock);
    assert!(
        secrets.len() >= 3,
        "the scan looks for every corp token issued"
    );
    secrets.push(MOCK_CORP_SECRET.to_owned());
    assert_no_secret(&log, "the trace log", &secrets);
    assert_no_secret(&gateway.metrics().await, "the metrics", &secrets);
    for answer in &answers {
        assert_no_secret(answer, "an answer", &secrets);
    }
}
