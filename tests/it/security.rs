//! Security controls and hostile input, black box: the real gateway binary in
//! front of a mock TikTok. Every refusal must be a clear answer, must never
//! reach the provider, and must leave the gateway serving the next request.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

use crate::support::*;

async fn refused(gateway: &Gateway, route: &str, reason: &str) -> f64 {
    gateway
        .metric(
            "quirkgate_refused_total",
            &[("route", route), ("reason", reason)],
        )
        .await
}

// ---------------------------------------------------------------- controls

#[tokio::test]
async fn allowed_client_ids_refuse_other_clients_before_the_provider() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&route(
        "/token",
        "tiktok",
        &tiktok_token_url(tiktok.addr),
        "allowed_client_ids: [auth0-app, backup-app]",
    ));

    let (status, body) = post(
        &gateway,
        "/token",
        "grant_type=authorization_code&code=c&client_id=intruder&client_secret=b",
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("not allowed"));
    assert!(
        !body.to_string().contains("intruder"),
        "the refused id is not echoed"
    );

    // The same check applies to the id inside Basic credentials.
    let intruder = basic("intruder", "b");
    let (status, _, _) = post_with(
        &gateway,
        "/token",
        &[("authorization", &intruder)],
        "grant_type=authorization_code&code=c",
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        tiktok.requests().is_empty(),
        "a refused client never reaches the provider"
    );
    assert_eq!(refused(&gateway, "/token", "client_not_allowed").await, 2.0);

    // Still serving, and listed clients pass by body and by Basic.
    let (status, _) = post(
        &gateway,
        "/token",
        "grant_type=authorization_code&code=c&client_id=auth0-app&client_secret=b",
    )
    .await;
    assert_eq!(status, 200);
    let listed = basic("backup-app", "b");
    let (status, _, _) = post_with(
        &gateway,
        "/token",
        &[("authorization", &listed)],
        "grant_type=authorization_code&code=c2",
    )
    .await;
    assert_eq!(status, 200);
    let seen = tiktok.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].body_param("client_key"), Some("auth0-app"));
    assert_eq!(seen[1].body_param("client_key"), Some("backup-app"));
}

#[tokio::test]
async fn shared_secret_is_required_and_never_forwarded_or_logged() {
    const SECRET: &str = "gw-shared-SECRET-7c1e5a";
    let tiktok = mock(ProviderKind::TikTok).await;
    // `${VAR:-default}`: the documented env form, with a default so the test sets no variable.
    let gateway = Gateway::start_with(
        &route(
            "/token",
            "tiktok",
            &tiktok_token_url(tiktok.addr),
            &format!(
                "shared_secret: {{ header: X-Quirkgate-Secret, value: \"${{QUIRKGATE_TEST_UNSET_SECRET:-{SECRET}}}\" }}"
            ),
        ),
        "",
        "trace",
    );

    let wrong_same_length = "x".repeat(SECRET.len());
    let prefix = &SECRET[..SECRET.len() - 1];
    let longer = format!("{SECRET}x");
    for headers in [
        vec![],
        vec![("x-quirkgate-secret", "wrong")],
        vec![("x-quirkgate-secret", wrong_same_length.as_str())],
        vec![("x-quirkgate-secret", prefix)],
        vec![("x-quirkgate-secret", longer.as_str())],
        vec![("x-other-header", SECRET)],
    ] {
        let (status, body, _) = post_with(&gateway, "/token", &headers, GOOD).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client")),
            "{headers:?}"
        );
    }
    assert!(tiktok.requests().is_empty());
    assert_eq!(refused(&gateway, "/token", "shared_secret").await, 6.0);

    let (status, body, _) =
        post_with(&gateway, "/token", &[("x-quirkgate-secret", SECRET)], GOOD).await;
    assert_eq!(
        (status, body["access_token"].as_str()),
        (200, Some("act.c"))
    );
    let seen = tiktok.requests();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0]
            .headers
            .iter()
            .all(|(name, value)| name != "x-quirkgate-secret" && !value.contains(SECRET)),
        "the secret header is not forwarded: {:?}",
        seen[0].headers
    );
    // The access-log line of the last request: the lines before it are written.
    let log = gateway.wait_for_log(
        "route=/token method=POST status=200",
        Duration::from_secs(10),
    );
    assert_eq!(log.matches("refused=shared_secret").count(), 6, "{log}");
    assert_no_secret(&log, "the log", &[SECRET.to_owned()]);
}

#[tokio::test]
async fn allow_sources_refuse_outside_addresses_and_ignore_untrusted_forwarding() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let upstream = tiktok_token_url(tiktok.addr);
    let routes = [
        route(
            "/inside",
            "tiktok",
            &upstream,
            "allow_sources: [127.0.0.0/8, \"::1\"]",
        ),
        route(
            "/outside",
            "tiktok",
            &upstream,
            "allow_sources: [192.0.2.0/24]",
        ),
    ]
    .concat();
    let gateway = Gateway::start(&routes);

    let (status, body) = post(&gateway, "/outside", GOOD).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("access_denied"))
    );
    // No trusted proxy is configured: a forged X-Forwarded-For changes nothing.
    let (status, _, _) = post_with(
        &gateway,
        "/outside",
        &[("x-forwarded-for", "192.0.2.1")],
        GOOD,
    )
    .await;
    assert_eq!(status, 403);
    assert!(tiktok.requests().is_empty());
    assert_eq!(refused(&gateway, "/outside", "source").await, 2.0);

    let (status, _) = post(&gateway, "/inside", GOOD).await;
    assert_eq!(status, 200);
    assert_eq!(tiktok.requests().len(), 1);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_caller() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start_with(
        &route(
            "/token",
            "tiktok",
            &tiktok_token_url(tiktok.addr),
            "allow_sources: [198.51.100.0/24]",
        ),
        "trusted_proxies: [127.0.0.1, 10.0.0.0/8]",
        "info",
    );
    let cases = [
        // (X-Forwarded-For, expected status)
        (None, 403),                              // the proxy itself is not allowed
        (Some("198.51.100.7"), 200),              // the proxy vouches for an allowed caller
        (Some("198.51.100.7, 10.1.2.3"), 200),    // through a second trusted hop
        (Some("198.51.100.7, 203.0.113.9"), 403), // caller forged the allowed address
        (Some("not-an-address"), 403),            // unreadable hop: caller unknown
    ];
    let mut served = 0;
    for (forwarded, expected) in cases {
        let headers: Vec<(&str, &str)> = forwarded
            .map(|f| ("x-forwarded-for", f))
            .into_iter()
            .collect();
        let (status, body, _) = post_with(&gateway, "/token", &headers, GOOD).await;
        assert_eq!(status, expected, "{forwarded:?}: {body}");
        if status == 200 {
            served += 1;
        } else {
            assert_eq!(body["error"], "access_denied");
        }
        assert_eq!(tiktok.requests().len(), served, "{forwarded:?}");
    }
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_and_recover() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let upstream = tiktok_token_url(tiktok.addr);
    let routes = [
        route(
            "/per-client",
            "tiktok",
            &upstream,
            "rate_limit: { per_client_address_per_second: 3 }",
        ),
        route(
            "/per-route",
            "tiktok",
            &upstream,
            "rate_limit: { per_route_per_second: 2 }",
        ),
    ]
    .concat();
    let gateway = Gateway::start(&routes);

    // Pingora's `Rate` starts a new one-second window at the first request
    // that comes a second or more after the window began: after this pause,
    // each burst below opens a window of its own and is counted exactly.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let callers: [std::net::IpAddr; 2] =
        ["127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap()];
    // (path, per caller: how many get through)
    for (path, served) in [("/per-client", [3, 3]), ("/per-route", [2, 0])] {
        let before = tiktok.requests().len();
        let mut limited_total = 0;
        let started = Instant::now();
        for (caller, expected_ok) in callers.iter().zip(served) {
            let client = reqwest::Client::builder()
                .local_address(*caller)
                .build()
                .unwrap();
            let (mut ok, mut limited) = (0, 0);
            for _ in 0..6 {
                let response = client
                    .post(gateway.url(path))
                    .header("content-type", FORM)
                    .body(GOOD)
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let retry_after = response.headers().get("retry-after").cloned();
                let body: serde_json::Value = response.json().await.unwrap();
                match status {
                    200 => ok += 1,
                    429 => {
                        limited += 1;
                        assert_eq!(body["error"], "temporarily_unavailable");
                        assert_eq!(retry_after.unwrap(), "1");
                    }
                    other => panic!("{path}: unexpected {other}"),
                }
            }
            assert_eq!(
                (ok, limited),
                (expected_ok, 6 - expected_ok),
                "{path} from {caller}"
            );
            limited_total += limited;
        }
        assert!(
            started.elapsed() < Duration::from_millis(900),
            "the burst must fit in one window to be counted exactly; it took {:?}",
            started.elapsed()
        );
        assert_eq!(
            tiktok.requests().len() - before,
            12 - limited_total,
            "{path}: limited requests never reach the provider"
        );
        assert_eq!(
            refused(&gateway, path, "rate_limited").await,
            limited_total as f64
        );
    }

    // Two windows later the budget is back.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(post(&gateway, "/per-client", GOOD).await.0, 200);
    assert_eq!(post(&gateway, "/per-route", GOOD).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn max_concurrent_exchanges_answers_503_while_full() {
    let (slow, count) = slow_tiktok_upstream(Duration::from_millis(1500)).await;
    let gateway = Gateway::start(&route(
        "/token",
        "tiktok",
        &format!("http://{slow}/"),
        "max_concurrent_exchanges: 2\ntimeout: 5s",
    ));
    let url = gateway.url("/token");
    let in_flight: Vec<_> = (0..2)
        .map(|i| {
            let url = url.clone();
            tokio::spawn(async move {
                http_client()
                    .post(url)
                    .header("content-type", FORM)
                    .body(format!(
                        "grant_type=authorization_code&code=slow{i}&client_id=a&client_secret=b"
                    ))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    // Wait until both exchanges hold their slot at the provider.
    let deadline = Instant::now() + Duration::from_secs(5);
    while count.load(SeqCst) < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(count.load(SeqCst), 2);

    let (status, body, headers) = post_with(&gateway, "/token", &[], GOOD).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("temporarily_unavailable"))
    );
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(
        count.load(SeqCst),
        2,
        "the refused exchange never reached the provider"
    );
    assert_eq!(refused(&gateway, "/token", "overloaded").await, 1.0);

    for task in in_flight {
        assert_eq!(task.await.unwrap(), 200);
    }
    // Slots are given back: the next exchange runs.
    let (status, _, _) = post_with(&gateway, "/token", &[], GOOD).await;
    assert_eq!(status, 200);
    assert_eq!(count.load(SeqCst), 3);
}

// ----------------------------------------------------------- hostile input

/// A gateway on a TikTok mock with `body_timeout: 1s`, for raw-TCP abuse.
struct Target {
    tiktok: MockProvider,
    gateway: Gateway,
}

impl Target {
    async fn start() -> Target {
        let tiktok = mock(ProviderKind::TikTok).await;
        let upstream = tiktok_token_url(tiktok.addr);
        let routes = [
            route("/token", "tiktok", &upstream, "body_timeout: 1s"),
            route("/big", "tiktok", &upstream, "max_body_bytes: 262144"),
        ]
        .concat();
        let gateway = Gateway::start(&routes);
        Target { tiktok, gateway }
    }

    /// Raw bytes on a fresh connection, off the async workers (the mock runs there).
    async fn raw(&self, bytes: Vec<u8>, wait: Duration) -> String {
        let addr = self.gateway.addr();
        let answer = tokio::task::spawn_blocking(move || raw_lenient(addr, &bytes, wait))
            .await
            .unwrap();
        eprintln!(
            "observed: {:?}",
            answer
                .lines()
                .next()
                .unwrap_or("<connection closed, no answer>")
        );
        answer
    }

    /// The provider saw exactly `expected` requests, and a valid one still gets 200.
    async fn assert_untouched_and_alive(&self, expected: usize) {
        assert_eq!(
            self.tiktok.requests().len(),
            expected,
            "requests that reached the provider"
        );
        let (status, body) = post(&self.gateway, "/token", GOOD).await;
        assert_eq!(
            (status, body["access_token"].as_str()),
            (200, Some("act.c"))
        );
        assert_eq!(self.tiktok.requests().len(), expected + 1);
    }
}

/// Like `raw_exchange`, but a server that stops reading mid-write (as it may on
/// a 2 MB header) is an outcome to record, not a test failure.
fn raw_lenient(addr: SocketAddr, bytes: &[u8], wait: Duration) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    let _ = stream.write_all(bytes);
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn request(path: &str, body: &[u8], extra_headers: &str) -> Vec<u8> {
    let mut out = format!(
        "POST {path} HTTP/1.1\r\nHost: gw\r\nContent-Type: {FORM}\r\nContent-Length: {}\r\n{extra_headers}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

const QUICK: Duration = Duration::from_millis(1500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_invalid_percent_encoding_is_400() {
    let target = Target::start().await;
    let answer = target
        .raw(
            request(
                "/token",
                b"grant_type=authorization_code&code=%G1%2&client_id=a&client_secret=b",
                "",
            ),
            QUICK,
        )
        .await;
    assert_eq!(raw_status(&answer), 400);
    assert_eq!(raw_json(&answer)["error"], "invalid_request");
    target.assert_untouched_and_alive(0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_non_utf8_is_400() {
    let target = Target::start().await;
    for body in [
        &b"grant_type=authorization_code&code=\xc3\x28&client_id=a&client_secret=b"[..],
        &b"grant_type=authorization_code&code=%C3%28&client_id=a&client_secret=b"[..],
    ] {
        let answer = target.raw(request("/token", body, ""), QUICK).await;
        assert_eq!(raw_status(&answer), 400);
        assert_eq!(raw_json(&answer)["error"], "invalid_request");
    }
    target.assert_untouched_and_alive(0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_ten_thousand_parameters_are_refused() {
    let target = Target::start().await;
    let body: String = (0..10_000).map(|i| format!("p{i}=v&")).collect();
    // Over the default 16 KiB body cap: refused from Content-Length alone.
    let answer = target
        .raw(request("/token", body.as_bytes(), ""), QUICK)
        .await;
    assert_eq!(raw_status(&answer), 413);
    // Within a 256 KiB cap: the parameter count cap refuses it.
    let answer = target
        .raw(request("/big", body.as_bytes(), ""), QUICK)
        .await;
    assert_eq!(raw_status(&answer), 400);
    assert!(raw_json(&answer)["error_description"]
        .as_str()
        .unwrap()
        .contains("more than 64 parameters"));
    target.assert_untouched_and_alive(0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_repeated_credential_is_400() {
    let target = Target::start().await;
    for body in [
        "grant_type=authorization_code&code=c&client_id=a&client_secret=b&client_secret=evil",
        "grant_type=authorization_code&code=c&client_id=a&client_id=a&client_secret=b",
        "grant_type=authorization_code&code=c&client_id=a&client%5Fid=evil&client_secret=b",
    ] {
        let answer = target
            .raw(request("/token", body.as_bytes(), ""), QUICK)
            .await;
        assert_eq!(raw_status(&answer), 400, "{body}");
        assert!(raw_json(&answer)["error_description"]
            .as_str()
            .unwrap()
            .contains("repeated"));
    }
    target.assert_untouched_and_alive(0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_client_id_and_client_key_that_disagree_are_400() {
    let target = Target::start().await;
    let body = "grant_type=authorization_code&code=c&client_id=a&client_key=other&client_secret=b";
    let answer = target
        .raw(request("/token", body.as_bytes(), ""), QUICK)
        .await;
    assert_eq!(raw_status(&answer), 400);
    assert!(raw_json(&answer)["error_description"]
        .as_str()
        .unwrap()
        .contains("both 'client_id' and 'client_key'"));
    target.assert_untouched_and_alive(0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_content_length_with_transfer_encoding_never_smuggles_a_second_request() {
    let target = Target::start().await;
    // Chunked framing wins (RFC 9112 §6.3): the body is the one chunk; the
    // "smuggled" request after it would be a second request to a parser that
    // believed Content-Length. Pingora closes the connection after such a
    // request, so the trailing bytes are never read as a request.
    let smuggled = request(
        "/token",
        b"grant_type=authorization_code&code=smuggled&client_id=a&client_secret=b",
        "",
    );
    let chunk = GOOD.as_bytes();
    let mut bytes = format!(
        "POST /token HTTP/1.1\r\nHost: gw\r\nContent-Type: {FORM}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{GOOD}\r\n0\r\n\r\n",
        chunk.len()
    )
    .into_bytes();
    bytes.extend_from_slice(&smuggled);
    let answer = target.raw(bytes, QUICK).await;
    assert_eq!(raw_status(&answer), 200, "{answer}");
    assert_eq!(
        answer.matches("HTTP/1.1 ").count(),
        1,
        "one answer only: {answer}"
    );
    let seen = target.tiktok.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body_param("code"), Some("c"));
    target.assert_untouched_and_alive(1).await;
    assert!(target
        .tiktok
        .requests()
        .iter()
        .all(|r| r.body_param("code") != Some("smuggled")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_two_different_content_lengths_are_refused_by_pingora() {
    let target = Target::start().await;
    let bytes = format!(
        "POST /token HTTP/1.1\r\nHost: gw\r\nContent-Type: {FORM}\r\nContent-Length: {}\r\nContent-Length: 5\r\n\r\n{GOOD}",
        GOOD.len()
    );
    let answer = target.raw(bytes.into_bytes(), QUICK).await;
    assert_eq!(raw_status(&answer), 400, "{answer}");
    target.assert_untouched_and_alive(0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_dripping_body_gets_408_at_the_body_timeout() {
    use std::io::{Read, Write};
    let target = Target::start().await;
    let addr = target.gateway.addr();
    let (status, elapsed) = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let started = Instant::now();
        stream
            .write_all(
                format!("POST /token HTTP/1.1\r\nHost: gw\r\nContent-Type: {FORM}\r\nContent-Length: {}\r\n\r\n", GOOD.len())
                    .as_bytes(),
            )
            .unwrap();
        let mut answer = Vec::new();
        let mut next_byte = Instant::now();
        for &byte in GOOD.as_bytes() {
            while Instant::now() < next_byte {
                let mut buf = [0u8; 1024];
                match stream.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => answer.extend_from_slice(&buf[..n]),
                    Err(_) => {}
                }
                if !answer.is_empty() || started.elapsed() > Duration::from_secs(6) {
                    let text = String::from_utf8_lossy(&answer).into_owned();
                    return (raw_status(&text), started.elapsed());
                }
            }
            let _ = stream.write_all(&[byte]);
            next_byte = Instant::now() + Duration::from_secs(1);
        }
        (0, started.elapsed())
    })
    .await
    .unwrap();
    eprintln!("observed: {status} after {elapsed:?}");
    assert_eq!(status, 408);
    assert!(
        elapsed < Duration::from_secs(3),
        "answered at the 1s body timeout, not later: {elapsed:?}"
    );
    target.assert_untouched_and_alive(0).await;
    assert_eq!(
        refused(&target.gateway, "/token", "body_timeout").await,
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_oversized_headers() {
    let target = Target::start().await;
    // 100 KB: within Pingora's 1 MiB header limit, over the gateway's 32 KiB.
    let big = format!("X-Padding: {}\r\n", "a".repeat(100 * 1024));
    let answer = target
        .raw(request("/token", GOOD.as_bytes(), &big), QUICK)
        .await;
    assert_eq!(raw_status(&answer), 431, "{answer}");
    assert_eq!(raw_json(&answer)["error"], "invalid_request");
    // 2 MB: over Pingora's own limit; Pingora answers 400 before any route is chosen.
    let huge = format!("X-Padding: {}\r\n", "a".repeat(2 * 1024 * 1024));
    let answer = target
        .raw(
            request("/token", GOOD.as_bytes(), &huge),
            Duration::from_secs(3),
        )
        .await;
    assert!(answer.is_empty() || raw_status(&answer) == 400, "{answer}");
    // Ordinary headers of a few KB pass.
    let fine = format!("X-Padding: {}\r\n", "a".repeat(4 * 1024));
    let answer = target
        .raw(
            request(
                "/token",
                GOOD.as_bytes(),
                &format!("{fine}Connection: close\r\n"),
            ),
            QUICK,
        )
        .await;
    assert_eq!(raw_status(&answer), 200, "{answer}");
    target.assert_untouched_and_alive(1).await;
    assert_eq!(
        refused(&target.gateway, "/token", "headers_too_large").await,
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_http10_request_is_served_and_closed() {
    let target = Target::start().await;
    let bytes = format!(
        "POST /token HTTP/1.0\r\nContent-Type: {FORM}\r\nContent-Length: {}\r\n\r\n{GOOD}",
        GOOD.len()
    );
    let started = Instant::now();
    let answer = target.raw(bytes.into_bytes(), Duration::from_secs(3)).await;
    assert_eq!(raw_status(&answer), 200, "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "an HTTP/1.0 answer closes the connection"
    );
    assert_eq!(raw_json(&answer)["access_token"], "act.c");
    target.assert_untouched_and_alive(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_pipelined_requests_are_answered_in_order() {
    let target = Target::start().await;
    let mut bytes = request(
        "/token",
        b"grant_type=authorization_code&code=first&client_id=a&client_secret=b",
        "",
    );
    bytes.extend(request(
        "/token",
        b"grant_type=authorization_code&code=second&client_id=a&client_secret=b",
        "Connection: close\r\n",
    ));
    let answer = target.raw(bytes, Duration::from_secs(3)).await;
    assert_eq!(answer.matches("HTTP/1.1 200").count(), 2, "{answer}");
    let first = answer.find("act.first").expect("first answered");
    let second = answer.find("act.second").expect("second answered");
    assert!(first < second, "answers in request order");
    let seen = target.tiktok.requests();
    assert_eq!(
        seen.iter()
            .map(|r| r.body_param("code").unwrap().to_owned())
            .collect::<Vec<_>>(),
        ["first", "second"]
    );
    target.assert_untouched_and_alive(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_request_line_that_is_not_http() {
    let target = Target::start().await;
    for bytes in [
        &b"SSH-2.0-OpenSSH_9.6\r\n\r\n"[..],
        &b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"[..], // a TLS ClientHello on the plain port
        &b"GET\r\n\r\n"[..],
    ] {
        let answer = target.raw(bytes.to_vec(), QUICK).await;
        // Pingora answers its own plain 400 and closes; no route runs.
        assert_eq!(raw_status(&answer), 400, "{answer}");
    }
    target.assert_untouched_and_alive(0).await;
}
