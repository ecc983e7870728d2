//! Observability, black box: the shipped Grafana dashboard and Prometheus
//! alert rules against the metrics the real gateway exports (and a real
//! Prometheus server scraping it), health endpoints, graceful shutdown, and
//! the retry policy and the pool as the metrics tell them. Everything stays on
//! 127.0.0.1.

mod dashboard_and_rules;
mod health_and_shutdown;
mod pool;
mod prometheus_scrape;
mod retries;
mod series_values;

use std::time::{Duration, Instant};

use crate::support::*;

// A gateway with a bit of everything

pub(super) struct Scene {
    pub(super) gateway: Gateway,
    pub(super) _tiktok: MockProvider,
}

pub(super) async fn scene() -> Scene {
    let tiktok = mock(ProviderKind::TikTok).await;
    let closed_port = free_port();
    let routes = [
        route("/token/proxy", "tiktok", &tiktok_token_url(tiktok.addr), ""),
        route(
            "/refused",
            "tiktok",
            &format!("http://127.0.0.1:{closed_port}/"),
            "retries: 2\nconnect_timeout: 500ms",
        ),
    ]
    .concat();
    let gateway = Gateway::start(&routes);
    // Every upstream resolved once (and `Gateway::signal` waits for the
    // SIGHUP handler itself).
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gateway
        .metrics()
        .await
        .contains("quirkgate_upstream_addresses{")
    {
        assert!(Instant::now() < deadline, "addresses never resolved");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Scene {
        gateway,
        _tiktok: tiktok,
    }
}

/// One round of the mix: successes, a 400 (expired code), a 405 GET, a 404,
/// and a 502 after two connect retries.
pub(super) async fn traffic_round(gateway: &Gateway, round: usize) {
    for i in 0..3 {
        assert_eq!(
            post_status(gateway, "/token/proxy", good_body(&format!("r{round}-{i}"))).await,
            200
        );
    }
    assert_eq!(
        post_status(
            gateway,
            "/token/proxy",
            good_body(&format!("expired-{round}"))
        )
        .await,
        400
    );
    let get = http_client()
        .get(gateway.url("/token/proxy"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(post_status(gateway, "/nope", good_body("x")).await, 404);
    assert_eq!(post_status(gateway, "/refused", good_body("y")).await, 502);
}

/// One refused reload (broken file) and one accepted, so both results exist.
pub(super) async fn reloads(gateway: &Gateway) {
    let original = std::fs::read_to_string(&gateway.config_path).unwrap();
    std::fs::write(&gateway.config_path, "routes: [this is: not valid\n").unwrap();
    gateway.signal("HUP");
    wait_metric(
        gateway,
        "quirkgate_config_reloads_total",
        &[("result", "error")],
    )
    .await;
    std::fs::write(&gateway.config_path, original).unwrap();
    gateway.signal("HUP");
    wait_metric(
        gateway,
        "quirkgate_config_reloads_total",
        &[("result", "ok")],
    )
    .await;
}

pub(super) async fn wait_metric(gateway: &Gateway, name: &str, labels: &[(&str, &str)]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while gateway.metric_if_present(name, labels).await.unwrap_or(0.0) < 1.0 {
        assert!(
            Instant::now() < deadline,
            "{name}{labels:?} never appeared; log:\n{}",
            gateway.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
