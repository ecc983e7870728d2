//! `/healthz` and `/readyz`, and SIGTERM letting the exchange in flight finish.

use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

use crate::support::*;

#[tokio::test]
async fn healthz_and_readyz_answer_200_with_an_ip_literal_upstream() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&route(
        "/token/proxy",
        "tiktok",
        &tiktok_token_url(tiktok.addr),
        "",
    ));
    let base = format!("http://127.0.0.1:{}", gateway.metrics_port);
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
        if ready.status() == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz stays {} with an IP literal upstream",
            ready.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert_eq!(
        metric_value(
            &text,
            "quirkgate_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    assert_eq!(
        reqwest::get(format!("{base}/nothing"))
            .await
            .unwrap()
            .status(),
        404
    );
}

/// Like `Gateway::start`, with another `grace_period`.
fn gateway_with_grace(routes_yaml: &str, grace: &str) -> Gateway {
    Gateway::start_with(routes_yaml, &format!("grace_period: {grace}"), "info")
}

#[tokio::test]
async fn sigterm_lets_the_in_flight_exchange_finish_and_exits_zero() {
    let (slow, count) = slow_tiktok_upstream(Duration::from_millis(1500)).await;
    let mut gateway = gateway_with_grace(
        &route(
            "/token/proxy",
            "tiktok",
            &format!("http://{slow}/"),
            "timeout: 10s",
        ),
        "3s",
    );
    let url = gateway.url("/token/proxy");
    let exchange = tokio::spawn(async move {
        let response = http_client()
            .post(url)
            .header("content-type", FORM)
            .body(good_body("graceful"))
            .timeout(Duration::from_secs(10))
            .send()
            .await?;
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await?;
        Ok::<_, reqwest::Error>((status, body))
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while count.load(SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "the exchange never reached the upstream"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(count.load(SeqCst), 1, "the exchange reached the upstream");
    let signalled = Instant::now();
    gateway.signal("TERM");

    let (status, body) = exchange.await.unwrap().unwrap_or_else(|e| {
        panic!(
            "in-flight exchange cut by SIGTERM: {e}; log:\n{}",
            gateway.log()
        )
    });
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["access_token"], "act.graceful");

    let deadline = signalled + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = gateway.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "gateway still running 10 s after SIGTERM; log:\n{}",
            gateway.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(exit.code(), Some(0), "log:\n{}", gateway.log());
    let took = signalled.elapsed();
    // Pingora waits out `grace_period` (3 s here) before it exits; the default
    // would be 5 s.
    assert!(
        took >= Duration::from_millis(2500) && took < Duration::from_millis(4500),
        "exited {took:?} after SIGTERM with a 3 s grace period"
    );
}

#[tokio::test]
async fn readyz_answers_503_while_an_upstream_host_has_not_resolved() {
    // `.invalid` never resolves (RFC 6761): the lookup fails locally.
    let gateway = Gateway::start(&route(
        "/token/proxy",
        "tiktok",
        "http://nonexistent.invalid/v2/oauth/token/",
        "",
    ));
    let base = format!("http://127.0.0.1:{}", gateway.metrics_port);
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .status(),
        200,
        "alive, though not ready"
    );
    assert_eq!(
        post_status(&gateway, "/token/proxy", good_body("unresolved")).await,
        502
    );
    assert_eq!(
        gateway
            .metric(
                "quirkgate_upstream_errors_total",
                &[("route", "/token/proxy"), ("kind", "resolve")]
            )
            .await,
        1.0
    );
    // Still not ready after the request.
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503);
}
