//! The secrets of signing stay out of logs and metrics at trace level: the
//! key files' contents, OK.ru's secret key and the session key derived from
//! it, and the codes and tokens that went through the signed routes.

use super::*;
use quirkgate_mocks::signed::{
    okru_session_key, MOCK_ALIPAY_APP_ID, MOCK_OKRU_APPLICATION_KEY, MOCK_OKRU_SECRET,
};

/// The base64 lines of a PEM file: each is key material.
fn pem_lines(path: &str) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with("-----") && line.len() >= 16)
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn no_key_file_content_or_signing_secret_reaches_logs_or_metrics_at_trace_level() {
    let alipay = mock(ProviderKind::Alipay).await;
    let okru = mock(ProviderKind::OkRu).await;
    let alipay_url = format!("http://{}/gateway.do", alipay.addr);
    let routes = route("/alipay", "alipay", &alipay_url, "")
        + &route("/alipay/userinfo", "alipay-userinfo", &alipay_url, "")
        + &route(
            "/okru",
            "okru",
            &format!("http://{}/oauth/token.do", okru.addr),
            "",
        )
        + &route(
            "/okru/userinfo",
            "okru-userinfo",
            &format!("http://{}/fb.do", okru.addr),
            "",
        );
    let owned = alipay_env();
    let mut env = env_refs(&owned);
    env.push(("OKRU_APPLICATION_KEY", MOCK_OKRU_APPLICATION_KEY));
    env.push(("OKRU_CLIENT_SECRET", MOCK_OKRU_SECRET));
    let gateway = Gateway::start_with_env(&routes, "", "trace", &env);

    let mut secrets: Vec<String> = vec![MOCK_OKRU_SECRET.into(), ODD_SECRET.into()];
    secrets.extend(pem_lines(&mock_key("app_private.pem")));
    let alipay_client = oauth_client(
        &gateway.url("/alipay"),
        MOCK_ALIPAY_APP_ID,
        ODD_SECRET,
        AuthType::BasicAuth,
    );
    let token = exchange(&alipay_client, "CODE-alipay-secret-1").await;
    secrets.push("CODE-alipay-secret-1".into());
    secrets.push(token.access_token().secret().clone());
    secrets.push(token.refresh_token().unwrap().secret().clone());
    let (status, _) = bearer_get(&gateway, "/alipay/userinfo", token.access_token().secret()).await;
    assert_eq!(status, 200);
    exchange_error(&alipay_client, "bad-CODE-alipay-2").await;
    secrets.push("bad-CODE-alipay-2".into());

    let okru_client = oauth_client(
        &gateway.url("/okru"),
        "512000000001",
        ODD_SECRET,
        AuthType::RequestBody,
    );
    let token = exchange(&okru_client, "CODE-okru-secret-3").await;
    secrets.push("CODE-okru-secret-3".into());
    secrets.push(token.access_token().secret().clone());
    let (status, _) = bearer_get(&gateway, "/okru/userinfo", token.access_token().secret()).await;
    assert_eq!(status, 200);
    // The session secret key OK.ru's sig is built from is as secret as the token.
    secrets.push(okru_session_key(token.access_token().secret()));
    assert!(okru.requests().last().unwrap().query_param("sig").is_some());

    // Something was logged at all: the check below reads a real log.
    let log = gateway.wait_for_log("/okru/userinfo", std::time::Duration::from_secs(5));
    let metrics = gateway.metrics().await;
    assert_no_secret(&log, "the log", &secrets);
    assert_no_secret(&metrics, "the metrics", &secrets);
}
