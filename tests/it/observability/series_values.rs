//! Series values after known traffic, and bounded label sets.

use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn series_values_follow_the_traffic_sent() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let (slow, slow_count) = slow_tiktok_upstream(Duration::from_millis(1500)).await;
    let gateway = Gateway::start(
        &[
            route("/token/proxy", "tiktok", &tiktok_token_url(tiktok.addr), ""),
            route(
                "/slow",
                "tiktok",
                &format!("http://{slow}/"),
                "timeout: 10s",
            ),
        ]
        .concat(),
    );
    for i in 0..4 {
        assert_eq!(
            post_status(&gateway, "/token/proxy", good_body(&format!("v{i}"))).await,
            200
        );
    }
    // An unknown path: counted as `unmatched`, never under the caller's path.
    assert_eq!(
        post_status(&gateway, "/caller-chosen-path-31337", good_body("u")).await,
        404
    );
    gateway
        .wait_for_metric("quirkgate_requests_in_flight", &[], 0.0)
        .await;
    let metrics = gateway.metrics().await;
    let value = |name: &str, labels: &[(&str, &str)]| metric_value(&metrics, name, labels);
    let route = [("route", "/token/proxy")];
    assert_eq!(
        value(
            "quirkgate_requests_total",
            &[
                ("route", "/token/proxy"),
                ("method", "POST"),
                ("status", "200")
            ]
        ),
        4.0
    );
    assert_eq!(
        value("quirkgate_request_duration_seconds_count", &route),
        4.0
    );
    assert_eq!(
        value("quirkgate_upstream_duration_seconds_count", &route),
        4.0
    );
    assert_eq!(
        value(
            "quirkgate_upstream_responses_total",
            &[("route", "/token/proxy"), ("class", "2xx")]
        ),
        4.0
    );
    assert_eq!(
        value(
            "quirkgate_upstream_connections_total",
            &[("route", "/token/proxy"), ("reused", "false")]
        ),
        1.0
    );
    assert_eq!(
        value(
            "quirkgate_upstream_connections_total",
            &[("route", "/token/proxy"), ("reused", "true")]
        ),
        3.0
    );
    assert_eq!(value("quirkgate_requests_in_flight", &[]), 0.0);
    // An IP literal is one address.
    assert_eq!(value("quirkgate_upstream_addresses", &route), 1.0);
    assert_eq!(
        value(
            "quirkgate_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    assert_eq!(
        value(
            "quirkgate_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ),
        1.0
    );
    assert_eq!(
        value(
            "quirkgate_refused_total",
            &[("route", "unmatched"), ("reason", "not_found")]
        ),
        1.0
    );
    assert_eq!(
        value(
            "quirkgate_request_duration_seconds_count",
            &[("route", "unmatched")]
        ),
        1.0
    );
    assert!(
        !metrics.contains("caller-chosen-path"),
        "a caller's path never becomes a label:\n{metrics}"
    );

    // Three exchanges held by a slow provider are three in flight, then none.
    let held: Vec<_> = (0..3)
        .map(|i| {
            let url = gateway.url("/slow");
            tokio::spawn(async move { post_url(&url, good_body(&format!("held{i}"))).await.0 })
        })
        .collect();
    gateway
        .wait_for_metric("quirkgate_requests_in_flight", &[], 3.0)
        .await;
    assert!(slow_count.load(SeqCst) <= 3);
    for exchange in held {
        assert_eq!(exchange.await.unwrap(), 200);
    }
    gateway
        .wait_for_metric("quirkgate_requests_in_flight", &[], 0.0)
        .await;
    assert_eq!(
        gateway
            .metric(
                "quirkgate_upstream_duration_seconds_count",
                &[("route", "/slow")]
            )
            .await,
        3.0
    );
}
