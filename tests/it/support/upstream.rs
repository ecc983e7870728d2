//! Upstreams for the gateway: the mock providers on free loopback ports, and
//! upstreams scripted by the test itself.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::pki::TestPki;
use quirkgate_mocks::provider::{MockProvider, ProviderKind, SeenRequest};

/// Starts a mock provider on a free loopback port.
pub async fn mock(kind: ProviderKind) -> MockProvider {
    MockProvider::start(kind, "127.0.0.1:0", None)
        .await
        .unwrap()
}

pub async fn mock_tls(kind: ProviderKind, pki: &TestPki) -> MockProvider {
    MockProvider::start(kind, "127.0.0.1:0", Some(pki.acceptor.clone()))
        .await
        .unwrap()
}

/// A loopback upstream scripted by the test. Every request it reads is
/// counted, then `behaviour` gets the connection and the request: returning
/// the stream keeps serving that connection, `None` ends it.
pub async fn scripted_upstream<F, Fut>(
    behaviour: F,
) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>)
where
    F: Fn(tokio::net::TcpStream, SeenRequest) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Option<tokio::net::TcpStream>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let behaviour = Arc::new(behaviour);
    let counter = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (counter, behaviour) = (counter.clone(), behaviour.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                while let Some(request) =
                    quirkgate_mocks::provider::read_request(&mut stream, &mut buf).await
                {
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    match behaviour(stream, request).await {
                        Some(kept) => stream = kept,
                        None => return,
                    }
                }
            });
        }
    });
    (addr, requests)
}

/// Writes a complete HTTP/1.1 answer; `None` when the peer is gone.
pub async fn write_answer(
    mut stream: tokio::net::TcpStream,
    status: u16,
    content_type: &str,
    body: &str,
) -> Option<tokio::net::TcpStream> {
    use tokio::io::AsyncWriteExt;
    let answer = format!(
        "HTTP/1.1 {status} OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(answer.as_bytes()).await.ok()?;
    Some(stream)
}

/// An upstream that answers each request like TikTok, after `delay`.
pub async fn slow_tiktok_upstream(
    delay: Duration,
) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    scripted_upstream(move |stream, request| async move {
        tokio::time::sleep(delay).await;
        let (status, content_type, body) =
            quirkgate_mocks::provider::answer(ProviderKind::TikTok, &request);
        write_answer(stream, status, content_type, &body).await
    })
    .await
}

/// The token URL of a TikTok (mock or scripted) listening on `addr`.
pub fn tiktok_token_url(addr: SocketAddr) -> String {
    format!("http://{addr}/v2/oauth/token/")
}
