//! Hostile TLS callers against the real gateway (one worker thread, so a
//! connection that spins or blocks the thread would starve the others):
//! truncated and oversized records, garbage for a ClientHello, alerts in the
//! middle of a request, a caller that never reads, KeyUpdate floods, a
//! request dripped one byte per TCP write. After each, a fresh caller must
//! get a correct answer.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use crate::edge_tls::read_one_answer;
use crate::support::*;

type ClientTls<S> = tokio_rustls::client::TlsStream<S>;

/// A gateway with edge TLS in front of the TikTok mock.
pub(crate) struct Edge {
    pub(crate) pki: TestPki,
    pub(crate) tiktok: MockProvider,
    pub(crate) gateway: Gateway,
}

async fn edge() -> Edge {
    edge_with("").await
}

/// [`edge`], with `extra` top-level keys before `tls:`.
pub(crate) async fn edge_with(extra: &str) -> Edge {
    let pki = TestPki::new();
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start_with(
        &route("/token/proxy", "tiktok", &tiktok_token_url(tiktok.addr), ""),
        &format!(
            "{extra}tls:\n  cert_file: {}\n  key_file: {}\n",
            pki.leaf_cert_path.display(),
            pki.leaf_key_path.display()
        ),
        "info",
    );
    Edge {
        pki,
        tiktok,
        gateway,
    }
}

fn client_config(
    pki: &TestPki,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    let ca = rustls_pemfile::certs(&mut pki.ca_pem.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    roots.add(ca).unwrap();
    let mut config = rustls::ClientConfig::builder_with_protocol_versions(versions)
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

async fn connect_over<S: AsyncRead + AsyncWrite + Unpin>(
    pki: &TestPki,
    versions: &[&'static rustls::SupportedProtocolVersion],
    io: S,
) -> ClientTls<S> {
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    tokio::time::timeout(
        Duration::from_secs(5),
        tokio_rustls::TlsConnector::from(client_config(pki, versions)).connect(name, io),
    )
    .await
    .expect("a handshake within 5 s")
    .expect("TLS handshake with the gateway")
}

async fn tcp(edge: &Edge) -> TcpStream {
    let tcp = TcpStream::connect(("127.0.0.1", edge.gateway.port))
        .await
        .unwrap();
    tcp.set_nodelay(true).unwrap();
    tcp
}

async fn tls13(edge: &Edge) -> ClientTls<TcpStream> {
    connect_over(&edge.pki, &[&rustls::version::TLS13], tcp(edge).await).await
}

fn token_request(code: &str) -> Vec<u8> {
    let body = format!("grant_type=authorization_code&code={code}&client_id=a&client_secret=b");
    format!(
        "POST /token/proxy HTTP/1.1\r\nHost: gw\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn exchange_on<S: AsyncRead + AsyncWrite + Unpin>(tls: &mut S, code: &str) {
    tls.write_all(&token_request(code)).await.unwrap();
    // tokio-rustls may keep sealed bytes until a flush (over one-byte writes, it does).
    tls.flush().await.unwrap();
    let (status, body) = read_one_answer(tls, &mut Vec::new()).await;
    assert_eq!(status, 200, "{code}: {body}");
    assert_eq!(body["access_token"], format!("act.{code}"));
}

/// A fresh TLS caller gets a correct answer, within 5 s.
async fn fresh_caller_is_served(edge: &Edge, code: &str) {
    let mut tls = tls13(edge).await;
    exchange_on(&mut tls, code).await;
}

/// Everything the gateway sends until it closes the connection (within 5 s).
async fn until_closed(tcp: &mut TcpStream) -> Vec<u8> {
    let mut rest = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut chunk = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, tcp.read(&mut chunk)).await {
            Err(_) => panic!(
                "the gateway kept the connection open: {} bytes so far",
                rest.len()
            ),
            Ok(Ok(0)) | Ok(Err(_)) => return rest,
            Ok(Ok(n)) => rest.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The gateway's CPU time (user + system), in clock ticks.
fn cpu_ticks(gateway: &Gateway) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", gateway.child.id())).unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// The gateway's resident memory, in kB.
fn rss_kb(gateway: &Gateway) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", gateway.child.id())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Asserts the gateway is not busy: under a fifth of a core over `over`.
fn assert_idle(gateway: &Gateway, over: Duration) {
    let before = cpu_ticks(gateway);
    std::thread::sleep(over);
    let used = cpu_ticks(gateway) - before;
    // 100 ticks a second on Linux.
    let allowed = (over.as_millis() as u64 / 10) / 5;
    assert!(
        used <= allowed,
        "the gateway used {used} ticks in {over:?} with nothing to do: it spins"
    );
}

#[tokio::test]
async fn a_truncated_record_then_eof_closes_only_that_connection() {
    let edge = edge().await;
    // Before the handshake: the start of a ClientHello, then EOF.
    let mut raw = tcp(&edge).await;
    raw.write_all(&[0x16, 0x03, 0x01, 0x01, 0x00, 0x01, 0x00])
        .await
        .unwrap();
    raw.shutdown().await.unwrap();
    let sent = until_closed(&mut raw).await;
    assert!(
        sent.is_empty() || sent[0] == 0x15,
        "only an alert, if anything: {sent:?}"
    );

    // After the handshake: a record header announcing 200 bytes, 20 of them, EOF.
    let mut tls = tls13(&edge).await;
    exchange_on(&mut tls, "before").await;
    let (socket, _) = tls.get_mut();
    let mut truncated = vec![0x17, 0x03, 0x03, 0x00, 200];
    truncated.extend_from_slice(&[0x42; 20]);
    socket.write_all(&truncated).await.unwrap();
    socket.shutdown().await.unwrap();
    let sent = until_closed(socket).await;
    assert!(
        !String::from_utf8_lossy(&sent).contains("HTTP/1.1"),
        "no plaintext answer to a truncated record"
    );

    fresh_caller_is_served(&edge, "after").await;
    assert!(
        edge.gateway.log().contains("handshake"),
        "the failed handshake is logged"
    );
}

#[tokio::test]
async fn garbage_instead_of_a_client_hello_gets_an_alert_and_a_close() {
    let edge = edge().await;
    for garbage in [
        b"GET /token/proxy HTTP/1.1\r\nHost: gw\r\n\r\n".to_vec(),
        vec![0u8; 64],
        // A handshake record holding no ClientHello.
        vec![0x16, 0x03, 0x01, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff],
        // A well-formed record header of an alert, first thing.
        vec![0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28],
    ] {
        let mut raw = tcp(&edge).await;
        raw.write_all(&garbage).await.unwrap();
        let sent = until_closed(&mut raw).await;
        assert!(
            sent.is_empty() || sent[0] == 0x15,
            "{garbage:?}: only an alert, if anything: {sent:?}"
        );
        assert!(!String::from_utf8_lossy(&sent).contains("HTTP/1.1"));
    }
    fresh_caller_is_served(&edge, "fresh").await;
    let log = edge.gateway.log();
    assert!(log.contains("Downstream handshake error"), "{log}");
    assert!(
        !log.contains("client_secret"),
        "no plaintext in the log:\n{log}"
    );
}

#[tokio::test]
async fn an_alert_in_the_middle_of_a_request_ends_that_connection_unanswered() {
    let edge = edge().await;
    let request = token_request("half");
    let head_end = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;

    // close_notify after the head, before the body: the request is not answered.
    let mut tls = tls13(&edge).await;
    tls.write_all(&request[..head_end]).await.unwrap();
    tls.flush().await.unwrap();
    tls.get_mut().1.send_close_notify();
    tls.flush().await.unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut rest))
        .await
        .expect("the gateway closes after close_notify");
    assert!(
        !String::from_utf8_lossy(&rest).contains("act.half"),
        "a half request is not answered: {read:?}"
    );

    // A fatal alert record, unprotected, in the middle of the body: to the
    // gateway it is a record that fails to decrypt.
    let mut tls = tls13(&edge).await;
    tls.write_all(&request[..head_end + 5]).await.unwrap();
    tls.flush().await.unwrap();
    let (socket, _) = tls.get_mut();
    socket
        .write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])
        .await
        .unwrap();
    let sent = until_closed(socket).await;
    assert!(
        sent.is_empty() || sent[0] == 0x17 || sent[0] == 0x15,
        "at most an alert: {sent:?}"
    );

    // TLS 1.2: the same, with the legacy record protection.
    let mut tls = connect_over(&edge.pki, &[&rustls::version::TLS12], tcp(&edge).await).await;
    tls.write_all(&request[..head_end + 5]).await.unwrap();
    tls.flush().await.unwrap();
    let (socket, _) = tls.get_mut();
    socket
        .write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])
        .await
        .unwrap();
    let sent = until_closed(socket).await;
    assert!(
        sent.is_empty() || sent[0] == 0x15,
        "at most an alert: {sent:?}"
    );

    fresh_caller_is_served(&edge, "fresh").await;
    assert!(edge
        .tiktok
        .requests()
        .iter()
        .all(|r| r.body_param("code") != Some("half")));
}

#[tokio::test]
async fn tls_1_2_serves_requests_and_a_closing_answer_ends_with_close_notify() {
    let edge = edge().await;
    for versions in [
        &[&rustls::version::TLS12][..],
        &[&rustls::version::TLS13][..],
    ] {
        let mut tls = connect_over(&edge.pki, versions, tcp(&edge).await).await;
        exchange_on(&mut tls, "one").await;
        exchange_on(&mut tls, "two").await;
        let mut closing = token_request("three");
        let at = closing.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
        closing.splice(at..at, b"Connection: close\r\n".iter().copied());
        tls.write_all(&closing).await.unwrap();
        let mut buffer = Vec::new();
        let (status, body) = read_one_answer(&mut tls, &mut buffer).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["access_token"], "act.three");
        // A clean end: close_notify, not a bare TCP close (which rustls
        // reports as an UnexpectedEof error).
        let mut rest = Vec::new();
        let end = tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut rest))
            .await
            .expect("the gateway closes after a closing answer");
        assert!(end.is_ok(), "{versions:?}: not a clean TLS close: {end:?}");
        assert!(rest.is_empty());
    }
}

#[tokio::test]
async fn a_caller_that_never_reads_does_not_hold_up_the_others() {
    let edge = edge_with("client_idle_timeout: 2s\n").await;
    let rss_before = rss_kb(&edge.gateway);
    // Many pipelined requests, answers never read: the gateway's writes
    // block once the socket buffers fill, and with them its reads.
    let mut stalled = Vec::new();
    for n in 0..3 {
        let mut tls = tls13(&edge).await;
        let mut requests = Vec::new();
        for i in 0..1500 {
            requests.extend_from_slice(&token_request(&format!("s{n}x{i}")));
        }
        stalled.push(tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(8), tls.write_all(&requests)).await;
            // Hold the connection, still not reading.
            tokio::time::sleep(Duration::from_secs(3)).await;
            drop(tls);
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    for i in 0..5 {
        fresh_caller_is_served(&edge, &format!("fresh{i}")).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the others were held up: {:?}",
        started.elapsed()
    );
    let grown = rss_kb(&edge.gateway).saturating_sub(rss_before);
    assert!(grown < 32 * 1024, "the gateway grew by {grown} kB");
    for task in stalled {
        task.await.unwrap();
    }
    fresh_caller_is_served(&edge, "after").await;
}

#[tokio::test]
async fn a_flood_of_key_updates_is_cut_off_without_spinning_or_growing() {
    let edge = edge().await;
    let rss_before = rss_kb(&edge.gateway);
    let mut tls = tls13(&edge).await;
    exchange_on(&mut tls, "first").await;
    // KeyUpdates with no data between them: rustls allows 32.
    let mut refused = false;
    for _ in 0..200 {
        tls.get_mut().1.refresh_traffic_keys().unwrap();
        if tls.flush().await.is_err() {
            refused = true;
            break;
        }
    }
    let mut rest = Vec::new();
    let end = tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut rest))
        .await
        .expect("the gateway ends a KeyUpdate flood");
    assert!(
        refused || end.is_err() || rest.is_empty(),
        "the flood was refused: {end:?}"
    );
    assert_idle(&edge.gateway, Duration::from_secs(1));
    let grown = rss_kb(&edge.gateway).saturating_sub(rss_before);
    assert!(grown < 16 * 1024, "the gateway grew by {grown} kB");
    fresh_caller_is_served(&edge, "fresh").await;
}

#[tokio::test]
async fn a_key_update_before_each_request_still_gets_every_answer_right() {
    let edge = edge().await;
    let mut tls = tls13(&edge).await;
    for i in 0..40 {
        // Each asks the gateway to update its keys too: its answer must come
        // under the new ones.
        tls.get_mut().1.refresh_traffic_keys().unwrap();
        exchange_on(&mut tls, &format!("k{i}")).await;
    }
    fresh_caller_is_served(&edge, "fresh").await;
}

/// A stream that writes one byte per write (with TCP_NODELAY, one byte per
/// segment), and flushes after each.
struct OneByteWrites(TcpStream);

impl AsyncRead for OneByteWrites {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for OneByteWrites {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let n = buf.len().min(1);
        Pin::new(&mut self.0).poll_write(cx, &buf[..n])
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn a_handshake_and_request_dripped_one_byte_per_write_are_answered() {
    let edge = edge().await;
    for versions in [
        &[&rustls::version::TLS13][..],
        &[&rustls::version::TLS12][..],
    ] {
        let mut tls = connect_over(&edge.pki, versions, OneByteWrites(tcp(&edge).await)).await;
        exchange_on(&mut tls, "drip").await;
        exchange_on(&mut tls, "drop").await;
    }
    fresh_caller_is_served(&edge, "fresh").await;
}

#[tokio::test]
async fn a_record_longer_than_the_maximum_is_refused_from_its_header() {
    let edge = edge().await;
    // A ClientHello record announcing 65,535 bytes: refused before they come.
    let mut raw = tcp(&edge).await;
    raw.write_all(&[0x16, 0x03, 0x01, 0xff, 0xff])
        .await
        .unwrap();
    let sent = until_closed(&mut raw).await;
    assert!(sent.is_empty() || sent[0] == 0x15, "{sent:?}");

    // After the handshake: an application data record of 18,432 bytes
    // (2^14 + 2,048, one more than any record may carry), sent whole.
    let mut tls = tls13(&edge).await;
    exchange_on(&mut tls, "before").await;
    let (socket, _) = tls.get_mut();
    let mut oversized = vec![0x17, 0x03, 0x03];
    oversized.extend_from_slice(&(16384u16 + 2048).to_be_bytes());
    oversized.extend(std::iter::repeat(0x17).take(16384 + 2048));
    let _ = socket.write_all(&oversized).await;
    let sent = until_closed(socket).await;
    assert!(!String::from_utf8_lossy(&sent).contains("HTTP/1.1"));

    fresh_caller_is_served(&edge, "after").await;
}

#[tokio::test]
async fn a_stalled_handshake_holds_nothing_up_and_idle_callers_stay_served() {
    let edge = edge_with("client_idle_timeout: 2s\n").await;
    // Callers stuck in the middle of a ClientHello record.
    let mut stalled = Vec::new();
    for _ in 0..50 {
        let mut raw = tcp(&edge).await;
        raw.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
            .await
            .unwrap();
        stalled.push(raw);
    }
    // Kept-alive callers between requests, served again after a pause.
    let mut idle = Vec::new();
    for i in 0..20 {
        let mut tls = tls13(&edge).await;
        exchange_on(&mut tls, &format!("idle{i}")).await;
        idle.push(tls);
    }
    assert_idle(&edge.gateway, Duration::from_millis(500));
    for (i, tls) in idle.iter_mut().enumerate() {
        exchange_on(tls, &format!("again{i}")).await;
    }
    for mut raw in stalled {
        until_closed(&mut raw).await;
    }
    fresh_caller_is_served(&edge, "fresh").await;
}
