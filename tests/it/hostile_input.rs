//! Hostile input, black box: malformed forms, smuggling, dripping bodies,
//! oversized heads and requests that are not HTTP. Every refusal is a clear
//! answer, never reaches the provider, and leaves the gateway serving the
//! next request.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::support::*;

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
