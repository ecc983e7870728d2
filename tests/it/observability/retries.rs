//! The retry policy as the metrics tell it: a reset mid-answer is never
//! retried, a refused connection is retried exactly `retries` times.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use crate::support::*;
use tokio::io::AsyncWriteExt;

/// Answers headers announcing 100 bytes, sends 10, and closes.
async fn truncating_upstream() -> (SocketAddr, Arc<AtomicUsize>) {
    scripted_upstream(|mut stream, _request| async move {
        // A Content-Length of 100 and 10 bytes of it, then the connection ends.
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"access_t")
            .await;
        let _ = stream.flush().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        None
    })
    .await
}

#[tokio::test]
async fn a_reset_in_the_middle_of_the_answer_is_a_502_and_never_retried() {
    let (addr, count) = truncating_upstream().await;
    let closed_port = free_port();
    let gateway = Gateway::start(
        &[
            route(
                "/truncated",
                "tiktok",
                &format!("http://{addr}/"),
                "retries: 2",
            ),
            // Retried connects, so the retries family exists to be looked at.
            route(
                "/refused",
                "tiktok",
                &format!("http://127.0.0.1:{closed_port}/"),
                "retries: 1",
            ),
        ]
        .concat(),
    );
    assert_eq!(post_status(&gateway, "/refused", good_body("r")).await, 502);
    assert_eq!(
        post_status(&gateway, "/truncated", good_body("once")).await,
        502
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(count.load(SeqCst), 1, "the code reached the provider once");
    let metrics = gateway.metrics().await;
    assert_eq!(
        metric_value(
            &metrics,
            "quirkgate_retries_total",
            &[("route", "/refused")]
        ),
        1.0
    );
    assert_zero(
        &metrics,
        "quirkgate_retries_total",
        &[("route", "/truncated")],
    );
    let reset = metric_value(
        &metrics,
        "quirkgate_upstream_errors_total",
        &[("route", "/truncated"), ("kind", "reset")],
    );
    assert!(
        reset >= 1.0,
        "upstream_errors_total{{kind=\"reset\"}} did not move; errors: {:?}",
        metrics
            .lines()
            .filter(|l| l.starts_with("quirkgate_upstream_errors_total"))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        metric_value(
            &metrics,
            "quirkgate_requests_total",
            &[("route", "/truncated"), ("status", "502")]
        ),
        1.0
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried_exactly_retries_times() {
    let closed_port = free_port();
    let gateway = Gateway::start(&route(
        "/refused",
        "tiktok",
        &format!("http://127.0.0.1:{closed_port}/"),
        "retries: 2",
    ));
    assert_eq!(post_status(&gateway, "/refused", good_body("c")).await, 502);
    let metrics = gateway.metrics().await;
    assert_eq!(
        metric_value(
            &metrics,
            "quirkgate_retries_total",
            &[("route", "/refused"), ("reason", "connect")]
        ),
        2.0
    );
    assert_eq!(
        metric_value(
            &metrics,
            "quirkgate_upstream_errors_total",
            &[("route", "/refused"), ("kind", "connect")]
        ),
        3.0,
        "three attempts failed to connect"
    );
}
