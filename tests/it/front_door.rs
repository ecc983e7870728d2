//! The listener's HTTP/1.1 fast path and the provider leg's answer framing,
//! black box: raw loopback sockets against the real gateway binary, in front
//! of a TikTok mock or a scripted upstream.

use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

/// Every socket operation a test waits on is bounded by this.
const WAIT: Duration = Duration::from_secs(5);

fn form(code: &str) -> String {
    format!("grant_type=authorization_code&code={code}&client_id=a&client_secret=b")
}

/// A token request as an OAuth client writes it, with `extra_headers` (each
/// ending in CRLF) before the blank line.
fn request(path: &str, body: &str, extra_headers: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: gw\r\nContent-Type: {FORM}\r\nContent-Length: {}\r\n{extra_headers}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One HTTP/1.1 answer read off a raw connection.
#[derive(Debug)]
struct RawAnswer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawAnswer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "answer body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads exactly one answer framed by its Content-Length (the gateway always
/// sends one), within `WAIT`. Anything read past the answer is an error: the
/// tests below never have two answers in flight.
async fn read_answer(stream: &mut TcpStream) -> RawAnswer {
    tokio::time::timeout(WAIT, read_answer_unbounded(stream))
        .await
        .expect("no complete answer within the time limit")
}

async fn read_answer_unbounded(stream: &mut TcpStream) -> RawAnswer {
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await.expect("reading the answer");
        assert!(
            n > 0,
            "the gateway closed the connection before a full answer head: {:?}",
            String::from_utf8_lossy(&received)
        );
        received.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&received[..head_end - 4])
        .expect("answer head is text")
        .to_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    assert!(
        status_line.starts_with("HTTP/1.1 "),
        "status line: {status_line:?}"
    );
    let status: u16 = status_line[9..12].parse().expect("status code");
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').expect("header line has a colon");
            (name.to_owned(), value.trim().to_owned())
        })
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().expect("numeric Content-Length"))
        .unwrap_or_else(|| panic!("the gateway's answer has no Content-Length: {head}"));
    while received.len() < head_end + length {
        let n = stream.read(&mut chunk).await.expect("reading the body");
        assert!(n > 0, "the gateway closed the connection mid-body");
        received.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(
        received.len(),
        head_end + length,
        "bytes after the answer: {:?}",
        String::from_utf8_lossy(&received[head_end + length..])
    );
    RawAnswer {
        status,
        headers,
        body: received[head_end..].to_vec(),
    }
}

async fn connect(gateway: &Gateway) -> TcpStream {
    let stream = tokio::time::timeout(WAIT, TcpStream::connect(gateway.addr()))
        .await
        .expect("connect timed out")
        .expect("connect to the gateway");
    // Each write below is its own segment, as a slow client's would be.
    stream.set_nodelay(true).unwrap();
    stream
}

/// One request on a fresh connection, and its answer.
async fn exchange(gateway: &Gateway, bytes: &[u8]) -> RawAnswer {
    let mut stream = connect(gateway).await;
    stream.write_all(bytes).await.unwrap();
    read_answer(&mut stream).await
}

/// Upstream connections of route `/token`; an absent series (never used) is 0,
/// as long as the family exists (the other `reused` value was counted).
async fn upstream_connections(gateway: &Gateway, reused: &str) -> f64 {
    let metrics = gateway.metrics().await;
    let name = "quirkgate_upstream_connections_total";
    match metric_series(&metrics, name, &[("route", "/token"), ("reused", reused)]) {
        Some(value) => value,
        None => {
            assert_no_series(&metrics, name, &[("route", "/token"), ("reused", reused)]);
            assert!(
                metric_series(&metrics, name, &[("route", "/token")]).is_some(),
                "no upstream connection of /token counted at all:\n{metrics}"
            );
            0.0
        }
    }
}

/// The token JSON a scripted upstream answers for `code`.
fn token_json(code: &str) -> String {
    format!(
        "{{\"access_token\":\"act.{code}\",\"expires_in\":86400,\"open_id\":\"open-1\",\"refresh_token\":\"rft.{code}\",\"scope\":\"user.info.basic\",\"token_type\":\"Bearer\"}}"
    )
}

fn code_of(request: &SeenRequest) -> String {
    request
        .body_param("code")
        .expect("the gateway forwarded the code")
        .to_owned()
}

fn gateway_on(upstream: &str, extra: &str) -> Gateway {
    Gateway::start(&route("/token", "tiktok", upstream, extra))
}

// ------------------------------------------------------------ caller side

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_arriving_in_pieces_is_answered_once_whole() {
    // The provider notes when each request arrives.
    let arrivals = Arc::new(std::sync::Mutex::new(Vec::new()));
    let noted = arrivals.clone();
    let (upstream, _) = scripted_upstream(move |stream, request| {
        noted
            .lock()
            .unwrap()
            .push((Instant::now(), request.clone()));
        async move {
            let json = token_json(&code_of(&request));
            write_answer(stream, 200, "application/json", &json).await
        }
    })
    .await;
    let gateway = gateway_on(&tiktok_token_url(upstream), "");
    let bytes = request("/token", &form("pieces"), "");
    let head_len = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    // Cut inside the Content-Type line: "Content-Ty" | "pe: application/...".
    let cut = std::str::from_utf8(&bytes)
        .unwrap()
        .find("Content-Ty")
        .unwrap()
        + 10;
    assert!(cut < head_len);

    let mut stream = connect(&gateway).await;
    stream.write_all(&bytes[..cut]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    stream.write_all(&bytes[cut..head_len]).await.unwrap();
    // The head is complete; the body follows a moment later.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let body_sent = Instant::now();
    stream.write_all(&bytes[head_len..]).await.unwrap();
    let answer = read_answer(&mut stream).await;

    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["access_token"], "act.pieces");
    let seen = arrivals.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "the provider saw the request once");
    assert_eq!(seen[0].1.body_param("code"), Some("pieces"));
    assert!(
        seen[0].0 >= body_sent,
        "nothing is forwarded before the body is complete"
    );
    assert_eq!(seen[0].1.body_param("client_key"), Some("a"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_serves_three_requests_then_closes_when_asked() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = gateway_on(&tiktok_token_url(tiktok.addr), "");
    let mut stream = connect(&gateway).await;
    for (i, code) in ["one", "two", "three"].into_iter().enumerate() {
        let last = i == 2;
        let extra = if last { "Connection: close\r\n" } else { "" };
        stream
            .write_all(&request("/token", &form(code), extra))
            .await
            .unwrap();
        let answer = read_answer(&mut stream).await;
        assert_eq!(answer.status, 200, "request {code}: {}", answer.text());
        assert_eq!(
            answer.json()["access_token"],
            format!("act.{code}"),
            "each request gets its own token"
        );
        assert_eq!(
            answer.header("content-type"),
            Some("application/json;charset=UTF-8")
        );
        assert_eq!(answer.header("cache-control"), Some("no-store"));
        assert_eq!(answer.header("pragma"), Some("no-cache"));
        let date = answer.header("date").expect("a Date header");
        assert!(date.ends_with(" GMT"), "Date: {date:?}");
        if last {
            assert_eq!(
                answer.header("connection").map(str::to_ascii_lowercase),
                Some("close".to_owned()),
                "the answer to a `Connection: close` request says so"
            );
        } else {
            assert_eq!(
                answer.header("connection"),
                None,
                "keep-alive answers carry no Connection: close"
            );
        }
    }
    // The gateway closes after the answer it announced as the last.
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(WAIT, stream.read(&mut byte))
        .await
        .expect("the gateway did not close the connection after `Connection: close`");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "expected end of stream, got {read:?}"
    );
    let codes: Vec<String> = tiktok.requests().iter().map(code_of).collect();
    assert_eq!(codes, ["one", "two", "three"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipelined_request_cut_across_an_answer_is_answered_once_whole_after_it() {
    // The connection's exchange state lives only while a request is served,
    // and an idle connection keeps no buffer: the start of a second request
    // that came with the first must survive both, and its rest, dripped in
    // after the first answer, must join it.
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = gateway_on(&tiktok_token_url(tiktok.addr), "");
    let first = request("/token", &form("first"), "");
    let second = request("/token", &form("second"), "");
    let head_len = second.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    // "POST /tok" | "en HTTP/1.1 ... Content-Ty" | "pe: ...\r\n\r\n" | body
    let cuts = [9, head_len - 30, head_len];

    let mut stream = connect(&gateway).await;
    let mut together = first.clone();
    together.extend_from_slice(&second[..cuts[0]]);
    stream.write_all(&together).await.unwrap();
    let answer = read_answer(&mut stream).await;
    assert_eq!(answer.status, 200, "first: {}", answer.text());
    assert_eq!(answer.json()["access_token"], "act.first");

    for piece in [&second[cuts[0]..cuts[1]], &second[cuts[1]..cuts[2]]] {
        tokio::time::sleep(Duration::from_millis(50)).await;
        stream.write_all(piece).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    stream.write_all(&second[cuts[2]..]).await.unwrap();
    let answer = read_answer(&mut stream).await;
    assert_eq!(answer.status, 200, "second: {}", answer.text());
    assert_eq!(answer.json()["access_token"], "act.second");

    // Still in step: a third request on the same connection is answered too.
    stream
        .write_all(&request("/token", &form("third"), ""))
        .await
        .unwrap();
    let answer = read_answer(&mut stream).await;
    assert_eq!(answer.json()["access_token"], "act.third");
    let codes: Vec<String> = tiktok.requests().iter().map(code_of).collect();
    assert_eq!(
        codes,
        ["first", "second", "third"],
        "each code reached the provider once, in order"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_short_of_its_content_length_gets_408_at_the_body_timeout() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = gateway_on(&tiktok_token_url(tiktok.addr), "body_timeout: 1s");
    let body = form("short");
    let head = format!(
        "POST /token HTTP/1.1\r\nHost: gw\r\nContent-Type: {FORM}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut stream = connect(&gateway).await;
    let started = Instant::now();
    stream.write_all(head.as_bytes()).await.unwrap();
    // Only half of the body ever comes.
    stream
        .write_all(&body.as_bytes()[..body.len() / 2])
        .await
        .unwrap();
    let answer = read_answer(&mut stream).await;
    let elapsed = started.elapsed();
    eprintln!("observed: {} after {elapsed:?}", answer.status);

    assert_eq!(answer.status, 408, "{}", answer.text());
    let json = answer.json();
    assert!(json["error"].is_string(), "a JSON error body: {json}");
    assert!(
        elapsed >= Duration::from_millis(900),
        "the gateway waited for the rest of the body: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(3),
        "answered at the 1s body timeout, not later: {elapsed:?}"
    );
    assert!(
        tiktok.requests().is_empty(),
        "an incomplete body never reaches the provider"
    );
}

// ---------------------------------------------------------- provider side

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_provider_answer_is_passed_on_and_its_connection_reused() {
    let (upstream, seen) = scripted_upstream(|mut stream, request| async move {
        let json = token_json(&code_of(&request));
        let (first, second) = json.split_at(json.len() / 2);
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x};ext=\"v\"\r\n{first}\r\n{:x}\r\n{second}\r\n0\r\nx-trailer: t\r\n\r\n",
            first.len(),
            second.len()
        );
        stream.write_all(answer.as_bytes()).await.ok()?;
        Some(stream)
    })
    .await;
    let gateway = gateway_on(&format!("http://{upstream}/"), "");

    for code in ["chunk1", "chunk2"] {
        let answer = exchange(&gateway, &request("/token", &form(code), "")).await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(
            answer.text(),
            token_json(code),
            "the caller gets exactly the JSON the provider sent, de-chunked"
        );
    }
    assert_eq!(seen.load(SeqCst), 2);
    let reused = upstream_connections(&gateway, "true").await;
    let fresh = upstream_connections(&gateway, "false").await;
    eprintln!("observed: upstream connections reused={reused} fresh={fresh}");
    assert!(
        reused >= 1.0,
        "the connection was pooled after a complete chunked answer (reused={reused}, fresh={fresh})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_connection_close_answer_is_never_reused() {
    let (upstream, seen) = scripted_upstream(|mut stream, request| async move {
        let json = token_json(&code_of(&request));
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{json}",
            json.len()
        );
        stream.write_all(answer.as_bytes()).await.ok()?;
        // The socket stays open: only the header says the connection is done.
        Some(stream)
    })
    .await;
    let gateway = gateway_on(&format!("http://{upstream}/"), "");

    for code in ["close1", "close2"] {
        let answer = exchange(&gateway, &request("/token", &form(code), "")).await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(answer.text(), token_json(code));
    }
    assert_eq!(seen.load(SeqCst), 2);
    assert_eq!(upstream_connections(&gateway, "false").await, 2.0);
    assert_eq!(
        upstream_connections(&gateway, "true").await,
        0.0,
        "a connection the provider said it closes is not used again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_answer_delimited_by_close_is_read_to_the_end() {
    let (upstream, seen) = scripted_upstream(|mut stream, request| async move {
        let json = token_json(&code_of(&request));
        let (first, second) = json.split_at(json.len() / 2);
        stream
            .write_all(
                format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{first}")
                    .as_bytes(),
            )
            .await
            .ok()?;
        stream.flush().await.ok()?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        stream.write_all(second.as_bytes()).await.ok()?;
        stream.flush().await.ok()?;
        // Dropping the stream closes it: that ends the body.
        None
    })
    .await;
    let gateway = gateway_on(&format!("http://{upstream}/"), "");

    let answer = exchange(&gateway, &request("/token", &form("eof"), "")).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.text(),
        token_json("eof"),
        "the whole body up to the close"
    );
    assert_eq!(seen.load(SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interim_100_continue_from_the_provider_is_skipped() {
    let (upstream, seen) = scripted_upstream(|mut stream, request| async move {
        let code = code_of(&request);
        let json = token_json(&code);
        let interim = "HTTP/1.1 100 Continue\r\n\r\n";
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{json}",
            json.len()
        );
        if code == "apart" {
            // The interim answer on its own, the real one a little later.
            stream.write_all(interim.as_bytes()).await.ok()?;
            stream.flush().await.ok()?;
            tokio::time::sleep(Duration::from_millis(50)).await;
            stream.write_all(answer.as_bytes()).await.ok()?;
        } else {
            // Both in one write.
            stream
                .write_all(format!("{interim}{answer}").as_bytes())
                .await
                .ok()?;
        }
        Some(stream)
    })
    .await;
    let gateway = gateway_on(&format!("http://{upstream}/"), "");

    for code in ["apart", "together"] {
        let answer = exchange(&gateway, &request("/token", &form(code), "")).await;
        assert_eq!(answer.status, 200, "{code}: {}", answer.text());
        assert_eq!(answer.json()["access_token"], format!("act.{code}"));
        assert_eq!(answer.text(), token_json(code));
    }
    assert_eq!(seen.load(SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_after_a_provider_answer_keep_its_connection_out_of_the_pool() {
    let (upstream, seen) = scripted_upstream(|mut stream, request| async move {
        let json = token_json(&code_of(&request));
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{json}HTTP/1.1 200 OK\r\njunk",
            json.len()
        );
        stream.write_all(answer.as_bytes()).await.ok()?;
        Some(stream)
    })
    .await;
    let gateway = gateway_on(&format!("http://{upstream}/"), "");

    let answer = exchange(&gateway, &request("/token", &form("extra1"), "")).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.text(),
        token_json("extra1"),
        "the body ends at its Content-Length"
    );
    // Let any stray bytes land before the next exchange looks at the pool.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let answer = exchange(&gateway, &request("/token", &form("extra2"), "")).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.text(), token_json("extra2"));

    assert_eq!(seen.load(SeqCst), 2);
    let fresh = upstream_connections(&gateway, "false").await;
    let reused = upstream_connections(&gateway, "true").await;
    eprintln!("observed: upstream connections reused={reused} fresh={fresh}");
    assert_eq!(
        (fresh, reused),
        (2.0, 0.0),
        "a connection with bytes after the answer is not used again"
    );
}
