//! No secret in the log or the metrics, even at trace level.

use super::*;

#[tokio::test]
async fn no_secret_appears_in_logs_even_at_trace_level() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let (close, _) = fault_upstream("close").await;
    let routes = format!(
        "{}{}",
        tiktok_route(&tiktok_token_url(tiktok.addr), ""),
        route("/close", "tiktok", &format!("http://{close}/"), "")
    );
    let gateway = Gateway::start_with(&routes, "", "trace");
    let secret = "SECRET-client-secret-9f8e7d";
    let code = "CODE-single-use-1a2b3c";
    let refresh = "REFRESH-token-4d5e6f";
    let ok_body =
        format!("grant_type=authorization_code&code={code}&client_id=app&client_secret={secret}");
    let (status, body, _) = post_as(&gateway, "/token/proxy", FORM, ok_body.clone()).await;
    assert_eq!(status, 200);
    let access_token = body["access_token"].as_str().unwrap().to_owned();
    let (status, _, _) = post_as(
        &gateway,
        "/token/proxy",
        FORM,
        format!(
            "grant_type=refresh_token&refresh_token={refresh}&client_id=app&client_secret={secret}"
        ),
    )
    .await;
    assert_eq!(status, 200);
    let basic = format!("Basic {}", base64_encode(&format!("app:{secret}")));
    let response = http_client()
        .post(gateway.url("/token/proxy"))
        .header("content-type", FORM)
        .header("authorization", &basic)
        .body(format!("grant_type=authorization_code&code={code}x"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, _, _) = post_as(&gateway, "/close", FORM, ok_body.clone()).await;
    assert_eq!(status, 502);
    let (status, _, _) = post_as(
        &gateway,
        "/token/proxy",
        FORM,
        format!("{ok_body}&code=dup"),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _, _) = post_as(
        &gateway,
        "/token/proxy?code={code}",
        FORM,
        format!("grant_type=authorization_code&code={code}&client_secret={secret}"),
    )
    .await;
    assert_eq!(status, 401);
    // The last request's access-log line: every earlier line is written.
    let log = gateway.wait_for_log(
        "route=/token/proxy method=POST status=401",
        Duration::from_secs(10),
    );
    assert!(
        log.contains("quirkgate::access"),
        "the access log is written:\n{log}"
    );
    assert!(log.lines().count() > 10, "trace logging is on");
    let needles = [
        secret,
        code,
        refresh,
        access_token.as_str(),
        basic.as_str(),
        &basic[6..],
    ];
    let needles: Vec<String> = needles.iter().map(|n| n.to_string()).collect();
    assert_no_secret(&log, "the log", &needles);
    let metrics = gateway.metrics().await;
    for needle in [secret, code, refresh, access_token.as_str()] {
        assert!(!metrics.contains(needle), "metrics leak {needle}");
    }
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
