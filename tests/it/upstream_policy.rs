//! The provider leg's settings, black box: `retry_after_send` replays a listed
//! grant after a full write, `connect_timeout` bounds a connect that hangs,
//! `upstream_keepalive_pool_size` bounds the idle connections kept, and
//! `provider_concurrency` makes exchanges over its figure wait their turn.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;

/// A route without preset: the form goes through as sent.
fn plain_route(path: &str, upstream: SocketAddr, extra: &str) -> String {
    let mut block = format!("  - path: {path}\n    upstream: \"http://{upstream}/token\"\n");
    for line in extra.lines() {
        block.push_str(&format!("    {line}\n"));
    }
    block
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_send_replays_a_listed_grant_and_nothing_else() {
    // Every first request of a grant is read in full, then the connection is
    // reset without an answer; the next one is answered.
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let noted = seen.clone();
    let (upstream, _) = scripted_upstream(move |stream, request| {
        let grant = request.body_param("grant_type").unwrap_or("-").to_owned();
        let first = {
            let mut seen = noted.lock().unwrap();
            seen.push(grant.clone());
            seen.iter().filter(|g| **g == grant).count() == 1
        };
        async move {
            if first {
                socket2::SockRef::from(&stream)
                    .set_linger(Some(Duration::ZERO))
                    .unwrap();
                return None;
            }
            let body = format!(
                "{{\"access_token\":\"act.{grant}\",\"expires_in\":7200,\"token_type\":\"Bearer\"}}"
            );
            write_answer(stream, 200, "application/json", &body).await
        }
    })
    .await;
    let gateway = Gateway::start(&plain_route(
        "/token",
        upstream,
        "retries: 2\nretry_after_send: [client_credentials]",
    ));

    let (status, body) = post(
        &gateway,
        "/token",
        "grant_type=client_credentials&client_id=a&client_secret=b",
    )
    .await;
    assert_eq!(status, 200, "{body}; log:\n{}", gateway.log());
    assert_eq!(body["access_token"], "act.client_credentials");
    assert_eq!(
        *seen.lock().unwrap(),
        ["client_credentials", "client_credentials"],
        "the listed grant reached the provider twice"
    );
    assert_eq!(
        gateway
            .metric(
                "quirkgate_retries_total",
                &[("route", "/token"), ("reason", "after_send")]
            )
            .await,
        1.0
    );

    // Not listed: sent once, never again, whatever `retries` says.
    let (status, body) = post(
        &gateway,
        "/token",
        "grant_type=authorization_code&code=once&client_id=a&client_secret=b",
    )
    .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(
        seen.lock()
            .unwrap()
            .iter()
            .filter(|g| *g == "authorization_code")
            .count(),
        1
    );
    gateway.wait_for_log(
        "route=/token method=POST status=502",
        Duration::from_secs(10),
    );
    assert_eq!(
        gateway
            .metric("quirkgate_retries_total", &[("route", "/token")])
            .await,
        1.0,
        "no retry for the unlisted grant"
    );
}

/// A listener whose accept queue is full: the next connect hangs (the kernel
/// drops its SYN), on loopback, with nothing leaving the machine.
fn hanging_listener() -> (SocketAddr, socket2::Socket, Vec<std::net::TcpStream>) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let mut held = Vec::new();
    for _ in 0..16 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            Ok(stream) => held.push(stream),
            Err(_) => return (addr, socket, held),
        }
    }
    panic!("the accept queue never filled");
}

#[tokio::test]
async fn connect_timeout_bounds_a_connect_that_hangs() {
    let (addr, _listener, _held) = hanging_listener();
    let gateway = Gateway::start(&plain_route(
        "/token",
        addr,
        "connect_timeout: 300ms\ntimeout: 8s\nretries: 1",
    ));
    let started = Instant::now();
    let (status, body) = post(
        &gateway,
        "/token",
        "grant_type=authorization_code&code=c&client_id=a&client_secret=b",
    )
    .await;
    let took = started.elapsed();
    // Two connects of 300 ms and a backoff: a 502 well before `timeout` (504).
    assert_eq!(status, 502, "{body}; log:\n{}", gateway.log());
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(3),
        "answered after {took:?}"
    );
    assert_eq!(
        gateway
            .metric(
                "quirkgate_upstream_errors_total",
                &[("route", "/token"), ("kind", "connect")]
            )
            .await,
        2.0
    );
    assert_eq!(
        gateway
            .metric(
                "quirkgate_retries_total",
                &[("route", "/token"), ("reason", "connect")]
            )
            .await,
        1.0
    );
}

/// Runs `n` exchanges at once against a slow provider (so each needs a
/// connection of its own), waiting for all.
async fn concurrent(gateway: &Gateway, n: usize, round: usize) {
    let exchanges: Vec<_> = (0..n)
        .map(|i| {
            let url = gateway.url("/token/proxy");
            tokio::spawn(async move {
                post_url(&url, format!(
                        "grant_type=authorization_code&code=p{round}-{i}&client_id=a&client_secret=b"
                    )).await.0
            })
        })
        .collect();
    for exchange in exchanges {
        assert_eq!(exchange.await.unwrap(), 200);
    }
}

async fn pool_run(pool_size: Option<usize>) -> (Gateway, Arc<AtomicUsize>) {
    let (slow, count) = slow_tiktok_upstream(Duration::from_millis(400)).await;
    let top = pool_size.map_or(String::new(), |n| {
        format!("upstream_keepalive_pool_size: {n}")
    });
    let gateway = Gateway::start_with(
        &route("/token/proxy", "tiktok", &format!("http://{slow}/"), ""),
        &top,
        "info",
    );
    concurrent(&gateway, 3, 0).await;
    concurrent(&gateway, 3, 1).await;
    assert_eq!(count.load(SeqCst), 6);
    (gateway, count)
}

async fn connections(gateway: &Gateway, reused: &str) -> Option<f64> {
    gateway
        .metric_if_present(
            "quirkgate_upstream_connections_total",
            &[("route", "/token/proxy"), ("reused", reused)],
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn upstream_keepalive_pool_size_bounds_the_idle_connections_kept() {
    // Default (128): the three connections of the first round serve the second.
    let (gateway, _) = pool_run(None).await;
    assert_eq!(connections(&gateway, "false").await, Some(3.0));
    assert_eq!(connections(&gateway, "true").await, Some(3.0));

    // One kept: the second round reuses one and opens two.
    let (gateway, _) = pool_run(Some(1)).await;
    assert_eq!(connections(&gateway, "false").await, Some(5.0));
    assert_eq!(connections(&gateway, "true").await, Some(1.0));

    // None kept: never reused.
    let (gateway, _) = pool_run(Some(0)).await;
    assert_eq!(connections(&gateway, "false").await, Some(6.0));
    assert_no_series(
        &gateway.metrics().await,
        "quirkgate_upstream_connections_total",
        &[("reused", "true")],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn provider_concurrency_queues_exchanges_and_sends_each_code_once() {
    // The provider notes how many exchanges it holds at once, and holds each a moment.
    let (in_flight, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let (now, peak, noted) = (in_flight.clone(), most.clone(), seen.clone());
    let (upstream, _) = scripted_upstream(move |stream, request| {
        let held = now.fetch_add(1, SeqCst) + 1;
        peak.fetch_max(held, SeqCst);
        let code = request.body_param("code").unwrap_or_default().to_owned();
        noted.lock().unwrap().push(code.clone());
        let now = now.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            now.fetch_sub(1, SeqCst);
            let json = format!(
                "{{\"access_token\":\"act.{code}\",\"expires_in\":86400,\"open_id\":\"o\",\"scope\":\"s\",\"token_type\":\"Bearer\"}}"
            );
            write_answer(stream, 200, "application/json", &json).await
        }
    })
    .await;
    let gateway = Gateway::start(&route(
        "/token/proxy",
        "tiktok",
        &format!("http://{upstream}/"),
        "provider_concurrency: 2",
    ));
    // Six callers at once: all answered, the provider never holding more than two.
    concurrent(&gateway, 6, 0).await;
    assert_eq!(
        most.load(SeqCst),
        2,
        "at most two exchanges at the provider at once"
    );
    let mut codes = seen.lock().unwrap().clone();
    codes.sort();
    assert_eq!(
        codes,
        ["p0-0", "p0-1", "p0-2", "p0-3", "p0-4", "p0-5"],
        "each code reached the provider once"
    );
}
