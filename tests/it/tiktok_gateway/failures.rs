//! Refusals and failures: RFC 6749 JSON that never reaches the provider,
//! upstream faults as 502 and 504 and never replayed, idle clients closed.

use super::*;

#[tokio::test]
async fn refusals_are_rfc6749_json_and_never_reach_the_provider() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&tiktok_route(
        &tiktok_token_url(tiktok.addr),
        "max_body_bytes: 512",
    ));

    let (status, body, _) = post_as(&gateway, "/nope", FORM, GOOD).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("invalid_request"))
    );

    let response = http_client()
        .get(gateway.url("/token/proxy"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");

    let (status, body, _) = post_as(
        &gateway,
        "/token/proxy",
        "application/json",
        r#"{"code":"c"}"#,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (415, Some("invalid_request"))
    );

    let (status, _, _) = post_as(
        &gateway,
        "/token/proxy",
        "application/x-www-form-urlencoded; charset=UTF-8",
        "grant_type=authorization_code&code=%zz&client_id=a&client_secret=b",
    )
    .await;
    assert_eq!(status, 400);

    let (status, body, _) = post_as(
        &gateway,
        "/token/proxy",
        FORM,
        b"grant_type=authorization_code&code=\xff\xfe&client_id=a&client_secret=b".to_vec(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );

    let (status, body, headers) = post_as(
        &gateway,
        "/token/proxy",
        FORM,
        "grant_type=authorization_code&code=c",
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(headers["cache-control"], "no-store");

    let (status, _, _) = post_as(
        &gateway,
        "/token/proxy",
        FORM,
        format!("{GOOD}&pad={}", "x".repeat(600)),
    )
    .await;
    assert_eq!(status, 413);

    // Chunked, with no Content-Length to refuse it early.
    let chunks = futures_stream(vec![GOOD.to_owned(), format!("&pad={}", "y".repeat(600))]);
    let (status, _, _) = post_as(
        &gateway,
        "/token/proxy",
        FORM,
        reqwest::Body::wrap_stream(chunks),
    )
    .await;
    assert_eq!(status, 413);

    assert!(
        tiktok.requests().is_empty(),
        "no refused request may reach the provider"
    );
    assert!(
        gateway
            .metric("quirkgate_refused_total", &[("reason", "too_large")])
            .await
            >= 2.0
    );

    // Still serving.
    let (status, body, _) = post_as(&gateway, "/token/proxy", FORM, GOOD).await;
    assert_eq!(
        (status, body["access_token"].as_str()),
        (200, Some("act.c"))
    );
}

#[tokio::test]
async fn upstream_failures_map_to_502_and_504_and_are_never_replayed() {
    let (html, html_count) = fault_upstream("html").await;
    let (stall, stall_count) = fault_upstream("stall").await;
    let (close, close_count) = fault_upstream("close").await;
    let (garbage, garbage_count) = fault_upstream("garbage").await;
    let closed_port = free_port();
    let routes = [
        route("/html", "tiktok", &format!("http://{html}/"), ""),
        route(
            "/stall",
            "tiktok",
            &format!("http://{stall}/"),
            "timeout: 1s\nconnect_timeout: 500ms",
        ),
        route("/close", "tiktok", &format!("http://{close}/"), ""),
        route("/garbage", "tiktok", &format!("http://{garbage}/"), ""),
        route(
            "/refused",
            "tiktok",
            &format!("http://127.0.0.1:{closed_port}/"),
            "retries: 2",
        ),
    ]
    .concat();
    let gateway = Gateway::start(&routes);

    let (status, body, _) = post_as(&gateway, "/html", FORM, GOOD).await;
    assert_eq!(status, 502);
    assert_eq!(body["error"], "temporarily_unavailable");

    let started = std::time::Instant::now();
    let (status, _, _) = post_as(&gateway, "/stall", FORM, GOOD).await;
    assert_eq!(status, 504);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "504 must come within the route timeout"
    );

    let (status, body, _) = post_as(&gateway, "/close", FORM, GOOD).await;
    assert_eq!(status, 502);
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("not sent again"));

    let (status, _, _) = post_as(&gateway, "/garbage", FORM, GOOD).await;
    assert_eq!(status, 502);

    let (status, _, _) = post_as(&gateway, "/refused", FORM, GOOD).await;
    assert_eq!(status, 502);

    use std::sync::atomic::Ordering::SeqCst;
    assert_eq!(html_count.load(SeqCst), 1);
    assert_eq!(stall_count.load(SeqCst), 1);
    assert_eq!(
        close_count.load(SeqCst),
        1,
        "a code that reached the provider is never sent twice"
    );
    assert_eq!(garbage_count.load(SeqCst), 1);
    assert_eq!(
        gateway
            .metric(
                "quirkgate_retries_total",
                &[("route", "/refused"), ("reason", "connect")]
            )
            .await,
        2.0
    );
    assert_zero(
        &gateway.metrics().await,
        "quirkgate_retries_total",
        &[("route", "/close")],
    );
    assert!(
        gateway
            .metric(
                "quirkgate_upstream_errors_total",
                &[("route", "/stall"), ("kind", "timeout")]
            )
            .await
            >= 1.0
    );

    let tiktok = mock(ProviderKind::TikTok).await;
    drop(tiktok);
    // The gateway is still up after every failure.
    let (status, _, _) = post_as(&gateway, "/nope", FORM, GOOD).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn idle_keep_alive_clients_are_closed_after_client_idle_timeout() {
    use std::io::{Read, Write};
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start_with(
        &tiktok_route(&tiktok_token_url(tiktok.addr), ""),
        "client_idle_timeout: 1s",
        "info",
    );
    let addr = gateway.addr();
    let closed_after = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        let request = format!("POST /token/proxy HTTP/1.1\r\nhost: gw\r\ncontent-type: {FORM}\r\ncontent-length: {}\r\n\r\n{GOOD}", GOOD.len());
        stream.write_all(request.as_bytes()).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let started = std::time::Instant::now();
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => return (String::from_utf8_lossy(&answer).into_owned(), started.elapsed()),
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(e) => panic!("connection still open after 5 s: {e}"),
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(
        raw_status(&closed_after.0),
        200,
        "the request on the connection was answered"
    );
    assert!(
        closed_after.1 >= Duration::from_millis(800),
        "kept alive until idle: {:?}",
        closed_after.1
    );
}
