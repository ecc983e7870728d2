//! TLS termination at the edge: HTTPS and HTTP/2 to callers, the certificate
//! swapped on SIGHUP without a restart.

use std::time::{Duration, Instant};

use crate::support::*;

fn https_client(ca_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap()
}

async fn exchange(
    client: &reqwest::Client,
    url: &str,
) -> Result<reqwest::Response, reqwest::Error> {
    client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=authorization_code&code=edge&client_id=a&client_secret=b")
        .send()
        .await
}

#[tokio::test]
async fn serves_https_with_http2_and_reloads_the_certificate_on_sighup() {
    let first = TestPki::new();
    let tiktok = mock(ProviderKind::TikTok).await;
    let tls = format!(
        "tls:\n  cert_file: {}\n  key_file: {}\n",
        first.leaf_cert_path.display(),
        first.leaf_key_path.display()
    );
    // Copy the files so the test can replace them under the running gateway.
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("edge.pem");
    let key = dir.path().join("edge.key");
    std::fs::copy(&first.leaf_cert_path, &cert).unwrap();
    std::fs::copy(&first.leaf_key_path, &key).unwrap();
    let tls = tls
        .replace(
            &first.leaf_cert_path.display().to_string(),
            &cert.display().to_string(),
        )
        .replace(
            &first.leaf_key_path.display().to_string(),
            &key.display().to_string(),
        );
    let gateway = Gateway::start_with(
        &route("/token/proxy", "tiktok", &tiktok_token_url(tiktok.addr), ""),
        &tls,
        "info",
    );
    let url = format!("https://127.0.0.1:{}/token/proxy", gateway.port);

    let response = exchange(&https_client(&first.ca_pem), &url).await.unwrap();
    assert_eq!(
        response.version(),
        reqwest::Version::HTTP_2,
        "HTTP/2 is offered through ALPN"
    );
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["access_token"], "act.edge");

    // Plain HTTP on a TLS listener is not served.
    assert!(
        reqwest::get(format!("http://127.0.0.1:{}/token/proxy", gateway.port))
            .await
            .is_err()
    );

    // A renewed certificate from another CA: picked up on SIGHUP.
    let second = TestPki::new();
    std::fs::copy(&second.leaf_cert_path, &cert).unwrap();
    std::fs::copy(&second.leaf_key_path, &key).unwrap();
    gateway.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match exchange(&https_client(&second.ca_pem), &url).await {
            Ok(response) if response.status() == 200 => break,
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!("the new certificate was not served: {other:?}"),
        }
    }
    assert!(
        exchange(&https_client(&first.ca_pem), &url).await.is_err(),
        "the old certificate is gone"
    );
    assert_eq!(
        gateway
            .metric("quirkgate_config_reloads_total", &[("result", "ok")])
            .await,
        1.0
    );
}

/// A raw TLS connection to the gateway, HTTP/1.1 negotiated through ALPN.
async fn tls_connect(
    pki: &TestPki,
    port: u16,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut roots = pingora::tls::RootCertStore::empty();
    let ca = rustls_pemfile::certs(&mut pki.ca_pem.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    roots.add(ca).unwrap();
    let mut config = pingora::tls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let name = pingora::tls::ServerName::try_from("localhost").unwrap();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("TLS handshake with the gateway")
}

fn token_request(code: &str) -> Vec<u8> {
    let body = format!("grant_type=authorization_code&code={code}&client_id=a&client_secret=b");
    format!(
        "POST /token/proxy HTTP/1.1\r\nHost: gw\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads one answer framed by its Content-Length off `stream` (with what is
/// already in `buffer`); returns its status and body, leaving the rest.
pub(crate) async fn read_one_answer<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
    buffer: &mut Vec<u8>,
) -> (u16, serde_json::Value) {
    use tokio::io::AsyncReadExt;
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .expect("a Content-Length");
            if buffer.len() >= end + 4 + length {
                let status = head[9..12].parse().unwrap();
                let body = serde_json::from_slice(&buffer[end + 4..end + 4 + length]).unwrap();
                buffer.drain(..end + 4 + length);
                return (status, body);
            }
        }
        let mut chunk = [0u8; 4096];
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("an answer within 5 s")
            .unwrap();
        assert!(read > 0, "the gateway closed before answering");
        buffer.extend_from_slice(&chunk[..read]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_pipelined_requests_are_answered_in_order_and_a_stalled_handshake_is_dropped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let crate::edge_tls_hostile::Edge {
        pki,
        tiktok,
        gateway,
    } = crate::edge_tls_hostile::edge_with("client_idle_timeout: 1s\n").await;

    // A caller that opens a connection and stalls in the handshake: the first
    // bytes of a TLS record, then nothing.
    let mut stalled = tokio::net::TcpStream::connect(("127.0.0.1", gateway.port))
        .await
        .unwrap();
    stalled.write_all(&[0x16, 0x03, 0x01, 0x02]).await.unwrap();

    // Meanwhile: two requests and the start of a third in one write, the
    // third's rest after the first two answers.
    let mut tls = tls_connect(&pki, gateway.port).await;
    let third = token_request("three");
    let mut first_write = token_request("one");
    first_write.extend_from_slice(&token_request("two"));
    first_write.extend_from_slice(&third[..20]);
    tls.write_all(&first_write).await.unwrap();
    let mut buffer = Vec::new();
    for code in ["one", "two"] {
        let (status, body) = read_one_answer(&mut tls, &mut buffer).await;
        assert_eq!(status, 200, "{code}: {body}");
        assert_eq!(body["access_token"], format!("act.{code}"));
    }
    tls.write_all(&third[20..]).await.unwrap();
    let (status, body) = read_one_answer(&mut tls, &mut buffer).await;
    assert_eq!(status, 200, "three: {body}");
    assert_eq!(body["access_token"], "act.three");
    assert!(buffer.is_empty(), "nothing past the third answer");
    let codes: Vec<String> = tiktok
        .requests()
        .iter()
        .map(|r| r.body_param("code").unwrap().to_owned())
        .collect();
    assert_eq!(
        codes,
        ["one", "two", "three"],
        "each code sent once, in order"
    );

    // The stalled handshake is closed (at the idle timeout), with no answer.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), stalled.read_to_end(&mut rest))
        .await
        .expect("a stalled handshake is closed");
    assert!(
        closed.is_err() || rest.is_empty() || rest[0] == 0x15,
        "no answer but an alert to a stalled handshake: {rest:?}"
    );
}
