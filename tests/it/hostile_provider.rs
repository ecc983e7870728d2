//! A hostile provider, black box: the real gateway binary (`threads: 1`, plain
//! HTTP upstream) in front of scripted providers that flood trailers, send
//! odd status codes, never finish their interim answers, or close idle
//! connections; and a caller that pipelines without ever reading. Each one
//! must get a bounded, clear answer and leave the gateway serving others.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

fn token_route(path: &str, upstream: SocketAddr, extra: &str) -> String {
    route(path, "tiktok", &tiktok_token_url(upstream), extra)
}

/// A token request over a raw connection, on the fast path or (with a chunked
/// body) on Pingora's stack; the whole answer, read until the gateway closes.
async fn raw_exchange(gateway: &Gateway, path: &str, pingora_stack: bool) -> String {
    let request = if pingora_stack {
        format!(
            "POST {path} HTTP/1.1\r\nHost: gw\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{GOOD}\r\n0\r\n\r\n",
            GOOD.len()
        )
    } else {
        format!(
            "POST {path} HTTP/1.1\r\nHost: gw\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{GOOD}",
            GOOD.len()
        )
    };
    let mut stream = TcpStream::connect(gateway.addr()).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// The gateway's resident memory, in KiB.
fn rss_kib(gateway: &Gateway) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", gateway.child.id())).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap()
}

/// A provider that starts a chunked answer with `preamble`, then writes
/// `filler` for as long as the gateway reads it.
async fn flooding_provider(preamble: &'static [u8], filler: Vec<u8>) -> SocketAddr {
    let (addr, _) = scripted_upstream(move |mut stream, _| {
        let filler = filler.clone();
        async move {
            stream.write_all(preamble).await.ok()?;
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline && stream.write_all(&filler).await.is_ok() {}
            None
        }
    })
    .await;
    addr
}

// ------------------------------------------------------- 1. unbounded answers

#[tokio::test]
async fn endless_trailers_extensions_and_unfinished_lines_are_bounded() {
    let trailer_line = format!("X-T: {}\r\n", "t".repeat(1000)).into_bytes();
    let trailers = flooding_provider(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n",
        trailer_line.repeat(16),
    )
    .await;
    let endless_line = flooding_provider(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n",
        vec![b'x'; 16 * 1024],
    )
    .await;
    let extension_chunk = format!("1;e={}\r\n \r\n", "e".repeat(1000)).into_bytes();
    let extensions = flooding_provider(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        extension_chunk.repeat(16),
    )
    .await;
    let calm = slow_tiktok_upstream(Duration::ZERO).await.0;
    let routes = [
        token_route("/trailers", trailers, "timeout: 8s"),
        token_route("/endless-line", endless_line, "timeout: 8s"),
        token_route("/extensions", extensions, "timeout: 8s"),
        token_route("/calm", calm, ""),
    ]
    .concat();
    let gateway = Gateway::start(&routes);
    assert_eq!(
        raw_status(&raw_exchange(&gateway, "/calm", false).await),
        200
    );
    let rss_before = rss_kib(&gateway);

    for path in ["/trailers", "/endless-line", "/extensions"] {
        let started = Instant::now();
        // Meanwhile another route on the same (only) worker keeps answering promptly.
        let flood = raw_exchange(&gateway, path, false);
        let neighbour = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let started = Instant::now();
            let answer = raw_exchange(&gateway, "/calm", false).await;
            (raw_status(&answer), started.elapsed())
        };
        let (answer, (calm_status, calm_took)) = tokio::join!(flood, neighbour);
        let took = started.elapsed();
        let rss_after = rss_kib(&gateway);
        println!(
            "{path}: {} in {took:?}; VmRSS {rss_before} KiB before, {rss_after} KiB after; /calm took {calm_took:?}",
            raw_status(&answer)
        );
        assert_eq!(raw_status(&answer), 502, "{path}: {answer}");
        assert_eq!(
            raw_json(&answer)["error"],
            "temporarily_unavailable",
            "{path}"
        );
        assert!(took < Duration::from_secs(4), "{path} took {took:?}");
        assert!(
            rss_after < rss_before + 16 * 1024,
            "{path}: VmRSS {rss_before} KiB -> {rss_after} KiB"
        );
        assert_eq!(calm_status, 200, "{path}");
        assert!(
            calm_took < Duration::from_millis(150),
            "{path}: /calm took {calm_took:?}"
        );
    }
    let log = gateway.log();
    assert!(
        log.contains("route=/trailers method=POST status=502"),
        "{log}"
    );
}

// ------------------------------------------------------ 2. odd status codes

/// A provider that answers `status_line` with a JSON `error` body.
async fn status_line_provider(status_line: &'static str) -> SocketAddr {
    let (addr, _) = scripted_upstream(move |mut stream, _| async move {
        let body = r#"{"error":"invalid_grant"}"#;
        let answer = format!(
            "{status_line}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(answer.as_bytes()).await.ok()?;
        Some(stream)
    })
    .await;
    addr
}

#[tokio::test]
async fn status_codes_outside_the_final_range_are_protocol_errors() {
    let odd = status_line_provider("HTTP/1.1 042 Odd").await;
    let huge = status_line_provider("HTTP/1.1 999 Huge").await;
    let (endless_interim, _) = scripted_upstream(|mut stream, _| async move {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline
            && stream
                .write_all(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
                .await
                .is_ok()
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        None
    })
    .await;
    let routes = [
        token_route("/odd", odd, ""),
        token_route("/huge", huge, ""),
        token_route("/interim", endless_interim, "timeout: 8s"),
    ]
    .concat();
    let gateway = Gateway::start(&routes);
    for path in ["/odd", "/huge", "/interim"] {
        for pingora_stack in [false, true] {
            let started = Instant::now();
            let answer = raw_exchange(&gateway, path, pingora_stack).await;
            let took = started.elapsed();
            assert_eq!(
                raw_status(&answer),
                502,
                "{path} (Pingora's stack: {pingora_stack}): {answer}"
            );
            assert!(answer.starts_with("HTTP/1.1 502 "), "{answer}");
            assert_eq!(
                raw_json(&answer)["error"],
                "temporarily_unavailable",
                "{answer}"
            );
            assert!(took < Duration::from_secs(4), "{path} took {took:?}");
        }
        assert!(
            gateway
                .metric(
                    "quirkgate_upstream_errors_total",
                    &[("route", path), ("kind", "protocol")]
                )
                .await
                >= 2.0,
            "{path}"
        );
    }
    let log = gateway.log();
    for path in ["/odd", "/huge", "/interim"] {
        assert!(
            log.contains(&format!("route={path} method=POST status=502")),
            "{log}"
        );
    }
    assert!(!log.contains("status=42 "), "{log}");
}

// -------------------------------------------------- 3. dead idle connections

/// The gateway's sockets to `provider` by TCP state ("01" established,
/// "08" close-wait), from the kernel's table: the provider's only client is
/// the gateway, so every socket whose remote port is the provider's is the gateway's.
fn gateway_sockets_to(gateway: &Gateway, provider: SocketAddr, state: &str) -> usize {
    let mut count = 0;
    for table in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("/proc/{}/net/{table}", gateway.child.id()))
            .unwrap_or_default();
        for line in text.lines().skip(1) {
            let columns: Vec<&str> = line.split_whitespace().collect();
            let remote_port = columns
                .get(2)
                .and_then(|remote| remote.rsplit(':').next())
                .and_then(|port| u16::from_str_radix(port, 16).ok());
            if remote_port == Some(provider.port()) && columns.get(3) == Some(&state) {
                count += 1;
            }
        }
    }
    count
}

#[tokio::test]
async fn dead_and_expired_idle_connections_are_closed_without_new_traffic() {
    // Answers, then closes its end a second later.
    let (closing, _) = scripted_upstream(|stream, request| async move {
        let (status, content_type, body) =
            quirkgate_mocks::provider::answer(ProviderKind::TikTok, &request);
        let stream = write_answer(stream, status, content_type, &body).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        drop(stream);
        None
    })
    .await;
    // Answers and keeps the connection open for good.
    let keeping = slow_tiktok_upstream(Duration::ZERO).await.0;
    let routes = [
        // Long enough that only the provider's close can end the connection.
        token_route("/closing", closing, "upstream_idle_timeout: 60s"),
        token_route("/keeping", keeping, "upstream_idle_timeout: 3s"),
    ]
    .concat();
    let gateway = Gateway::start(&routes);
    let started = Instant::now();
    for path in ["/closing", "/keeping"] {
        assert_eq!(raw_status(&raw_exchange(&gateway, path, false).await), 200);
    }
    let states = |provider| {
        (
            gateway_sockets_to(&gateway, provider, "01"),
            gateway_sockets_to(&gateway, provider, "08"),
        )
    };
    assert_eq!(states(keeping), (1, 0));
    // The provider closed at 1 s; a sweep runs every second.
    tokio::time::sleep(Duration::from_millis(2600).saturating_sub(started.elapsed())).await;
    let closing_at_2_6 = states(closing);
    let keeping_at_2_6 = states(keeping);
    tokio::time::sleep(Duration::from_millis(5200).saturating_sub(started.elapsed())).await;
    let keeping_at_5_2 = states(keeping);
    println!(
        "gateway sockets (established, close-wait): closing provider at 2.6 s {closing_at_2_6:?}; keeping provider at 2.6 s {keeping_at_2_6:?}, at 5.2 s {keeping_at_5_2:?}"
    );
    assert_eq!(
        closing_at_2_6,
        (0, 0),
        "the provider's close is answered by a sweep"
    );
    assert_eq!(
        keeping_at_2_6,
        (1, 0),
        "a live, young connection stays pooled"
    );
    assert_eq!(
        keeping_at_5_2,
        (0, 0),
        "an expired connection is closed by a sweep"
    );
    // And the routes still work, on new connections.
    for path in ["/closing", "/keeping"] {
        assert_eq!(raw_status(&raw_exchange(&gateway, path, false).await), 200);
    }
}

// ---------------------------------------------- 4. callers that never read

/// The gateway's side of the connection from `client` (state "01" while established).
fn gateway_side_state(gateway: &Gateway, client: SocketAddr) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{}/net/tcp", gateway.child.id()))
        .unwrap_or_default();
    text.lines().skip(1).find_map(|line| {
        let columns: Vec<&str> = line.split_whitespace().collect();
        let local_port = u16::from_str_radix(columns.get(1)?.rsplit(':').next()?, 16).ok()?;
        let remote_port = u16::from_str_radix(columns.get(2)?.rsplit(':').next()?, 16).ok()?;
        (local_port == gateway.port && remote_port == client.port())
            .then(|| columns.get(3).map(|s| s.to_string()))
            .flatten()
    })
}

#[tokio::test]
async fn a_caller_that_pipelines_and_never_reads_is_closed_within_the_idle_timeout() {
    // 16 KB answers, so a few hundred fill the socket buffers.
    let (generous, _) = scripted_upstream(|stream, _| async move {
        let body = format!(
            r#"{{"access_token":"{}","token_type":"Bearer","expires_in":60,"open_id":"o"}}"#,
            "a".repeat(16 * 1024)
        );
        write_answer(stream, 200, "application/json", &body).await
    })
    .await;
    let gateway = Gateway::start_with(
        &token_route("/token", generous, ""),
        "client_idle_timeout: 2s\n",
        "info",
    );
    assert_eq!(
        raw_status(&raw_exchange(&gateway, "/token", false).await),
        200
    );
    // Token requests pipelined far past what the socket buffers hold, from a
    // caller that never reads.
    let client = std::net::TcpStream::connect(gateway.addr()).unwrap();
    let client_addr = client.local_addr().unwrap();
    client
        .set_write_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let request = format!(
            "POST /token HTTP/1.1\r\nHost: gw\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{GOOD}",
            GOOD.len()
        )
        .repeat(100)
        .into_bytes();
        let mut client = client;
        let mut sent = 0usize;
        for _ in 0..40 {
            match client.write_all(&request) {
                Ok(()) => sent += request.len(),
                Err(_) => break,
            }
        }
        (client, sent)
    });
    let (client, sent) = writer.join().unwrap();
    let stuck_since = Instant::now();
    assert_eq!(
        gateway_side_state(&gateway, client_addr).as_deref(),
        Some("01"),
        "the gateway is writing to a caller that does not read"
    );
    // Meanwhile others are served.
    assert_eq!(
        raw_status(&raw_exchange(&gateway, "/token", false).await),
        200
    );
    let mut state = gateway_side_state(&gateway, client_addr);
    while state.is_some() && stuck_since.elapsed() < Duration::from_secs(8) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        state = gateway_side_state(&gateway, client_addr);
    }
    let held = stuck_since.elapsed();
    println!("pipelined {sent} bytes; the gateway's side after {held:?}: {state:?}");
    assert!(
        state.is_none(),
        "the gateway still holds the connection after {held:?}: state {state:?}"
    );
    assert!(held < Duration::from_secs(5), "{held:?}");
    let log = gateway.log();
    assert!(log.contains("error=WriteTimedout"), "{log}");
    drop(client);
    assert_eq!(
        raw_status(&raw_exchange(&gateway, "/token", false).await),
        200
    );
}

// ------------------------------------------- 5. token answers that only look like JSON

/// A provider that answers 200 with `body` as `application/json`.
async fn json_body_provider(body: Vec<u8>) -> SocketAddr {
    let (addr, _) = scripted_upstream(move |mut stream, _| {
        let body = body.clone();
        async move {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await.ok()?;
            stream.write_all(&body).await.ok()?;
            Some(stream)
        }
    })
    .await;
    addr
}

#[tokio::test]
async fn a_200_answer_is_read_as_one_utf8_json_object_or_refused() {
    let depth = 100_000;
    let deep = format!(
        r#"{{"access_token":"act.1","x":{}1{}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let cases: [(&str, Vec<u8>, u16); 5] = [
        // Non-UTF-8 inside a string no rule reads: not JSON (RFC 8259 §8.1).
        ("/latin1", b"{\"access_token\":\"act.\xe9\"}".to_vec(), 502),
        ("/trailing", br#"{"access_token":"act.1"} {}"#.to_vec(), 502),
        ("/control", b"{\"access_token\":\"act.\x01\"}".to_vec(), 502),
        // An escaped name is the same field: TikTok's error in a 200 still maps.
        (
            "/escaped",
            br#"{"er\u0072or":"invalid_grant","log_id":"1"}"#.to_vec(),
            400,
        ),
        // Deep nesting in a skipped field is checked without recursion and passes.
        ("/deep", deep.into_bytes(), 200),
    ];
    let mut routes = String::new();
    for (path, body, _) in &cases {
        routes += &token_route(path, json_body_provider(body.clone()).await, "");
    }
    let gateway = Gateway::start(&routes);
    for (path, body, status) in &cases {
        let answer = raw_exchange(&gateway, path, false).await;
        assert_eq!(raw_status(&answer), *status, "{path}: {answer}");
        match status {
            502 => assert_eq!(
                raw_json(&answer)["error"],
                "temporarily_unavailable",
                "{path}"
            ),
            400 => assert_eq!(raw_json(&answer)["error"], "invalid_grant", "{path}"),
            _ => assert!(
                answer.ends_with(std::str::from_utf8(body).unwrap()),
                "{path}: the answer passes byte for byte"
            ),
        }
    }
}
