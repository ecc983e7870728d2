//! Pooled provider connections: one the provider closed or reset is not
//! fatal, and a reset before the request is written is retried once on a
//! fresh connection.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use crate::support::*;
use tokio::io::AsyncWriteExt;

/// Serves exactly one request (keep-alive answer), then closes the listener
/// and the connection server-side.
async fn one_shot_upstream() -> (SocketAddr, tokio::task::JoinHandle<usize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        drop(listener);
        let mut buf = Vec::new();
        let Some(request) = quirkgate_mocks::provider::read_request(&mut stream, &mut buf).await
        else {
            return 0;
        };
        let (status, content_type, body) =
            quirkgate_mocks::provider::answer(ProviderKind::TikTok, &request);
        let answer = format!(
            "HTTP/1.1 {status} OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(answer.as_bytes()).await.unwrap();
        stream.flush().await.unwrap();
        // Let the gateway pool the connection, then close it from this side.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = stream.shutdown().await;
        drop(stream);
        1
    });
    (addr, task)
}

#[tokio::test]
async fn a_pooled_connection_closed_by_the_provider_is_not_fatal() {
    let (addr, first) = one_shot_upstream().await;
    let gateway = Gateway::start(&route(
        "/token/proxy",
        "tiktok",
        &tiktok_token_url(addr),
        "",
    ));
    assert_eq!(
        post_status(&gateway, "/token/proxy", good_body("first")).await,
        200
    );
    assert_eq!(
        first.await.unwrap(),
        1,
        "the first upstream served the request"
    );
    // A new provider process on the same port.
    let second = MockProvider::start(ProviderKind::TikTok, &addr.to_string(), None)
        .await
        .expect("rebinding the same port");
    let response = http_client()
        .post(gateway.url("/token/proxy"))
        .header("content-type", FORM)
        .body(good_body("second"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "log:\n{}", gateway.log());
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["access_token"], "act.second");
    let seen = second.requests();
    assert_eq!(
        seen.len(),
        1,
        "the new provider saw the exchange exactly once"
    );
    assert_eq!(seen[0].body_param("code"), Some("second"));
    // The idle liveness check found the connection closed and dropped it:
    // the second exchange went out on a new connection, with no retry.
    let metrics = gateway.metrics().await;
    let connections = |reused: &str| {
        metric_series(
            &metrics,
            "quirkgate_upstream_connections_total",
            &[("route", "/token/proxy"), ("reused", reused)],
        )
    };
    assert_eq!(connections("false"), Some(2.0), "{metrics}");
    assert_no_series(
        &metrics,
        "quirkgate_upstream_connections_total",
        &[("reused", "true")],
    );
    // No attempt was made again, for any reason.
    assert_zero(&metrics, "quirkgate_retries_total", &[]);
}

/// Serves one keep-alive exchange on its first connection; when the next
/// request starts arriving on that pooled connection, resets it while the
/// gateway is still writing (a small advertised MSS and receive buffer keep
/// a large request from fitting in the socket buffers). Later connections
/// are served normally. Counts the answers it sent.
async fn resetting_upstream() -> (SocketAddr, Arc<AtomicUsize>) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.set_tcp_mss(536).unwrap();
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    socket.listen(16).unwrap();
    socket.set_nonblocking(true).unwrap();
    let listener = tokio::net::TcpListener::from_std(socket.into()).unwrap();
    let addr = listener.local_addr().unwrap();
    let answered = Arc::new(AtomicUsize::new(0));
    let counter = answered.clone();
    tokio::spawn(async move {
        let mut accepted = 0;
        while let Ok((mut stream, _)) = listener.accept().await {
            accepted += 1;
            let first = accepted == 1;
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let Some(request) =
                    quirkgate_mocks::provider::read_request(&mut stream, &mut buf).await
                else {
                    return;
                };
                let (status, content_type, body) =
                    quirkgate_mocks::provider::answer(ProviderKind::TikTok, &request);
                let mut stream = write_answer(stream, status, content_type, &body)
                    .await
                    .unwrap();
                counter.fetch_add(1, SeqCst);
                if first {
                    // The next request starts arriving: reset mid-write.
                    stream.readable().await.unwrap();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    socket2::SockRef::from(&stream)
                        .set_linger(Some(Duration::ZERO))
                        .unwrap();
                    drop(stream);
                } else {
                    let mut buf = Vec::new();
                    while let Some(request) =
                        quirkgate_mocks::provider::read_request(&mut stream, &mut buf).await
                    {
                        let (status, content_type, body) =
                            quirkgate_mocks::provider::answer(ProviderKind::TikTok, &request);
                        stream = write_answer(stream, status, content_type, &body)
                            .await
                            .unwrap();
                        counter.fetch_add(1, SeqCst);
                    }
                }
            });
        }
    });
    (addr, answered)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pooled_connection_reset_before_the_request_is_written_is_retried_once_on_a_fresh_one() {
    let (addr, answered) = resetting_upstream().await;
    // retries: 0, so only the stale-connection rule can save the exchange.
    let gateway = Gateway::start(&route(
        "/token/proxy",
        "tiktok",
        &tiktok_token_url(addr),
        "retries: 0\nmax_body_bytes: 1048576",
    ));
    assert_eq!(
        post_status(&gateway, "/token/proxy", good_body("first")).await,
        200
    );
    // Too large for the socket buffers: the write is still going on when the
    // provider resets the pooled connection.
    let big = format!("{}&pad={}", good_body("second"), "p".repeat(1_000_000));
    let response = http_client()
        .post(gateway.url("/token/proxy"))
        .header("content-type", FORM)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "log:\n{}", gateway.log());
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["access_token"], "act.second");
    assert_eq!(answered.load(SeqCst), 2, "each code was answered once");
    let metrics = gateway.metrics().await;
    let value = |name: &str, labels: &[(&str, &str)]| metric_value(&metrics, name, labels);
    assert_eq!(
        value(
            "quirkgate_retries_total",
            &[("route", "/token/proxy"), ("reason", "stale_connection")]
        ),
        1.0
    );
    assert_zero(
        &metrics,
        "quirkgate_retries_total",
        &[("reason", "after_send")],
    );
    assert_eq!(
        value(
            "quirkgate_upstream_connections_total",
            &[("route", "/token/proxy"), ("reused", "true")]
        ),
        1.0,
        "the second exchange started on the pooled connection"
    );
    assert_eq!(
        value(
            "quirkgate_upstream_connections_total",
            &[("route", "/token/proxy"), ("reused", "false")]
        ),
        2.0,
        "and finished on a fresh one"
    );
}
