//! The TikTok token route end to end: a standard OAuth 2.0 client (the
//! `oauth2` crate) through the real gateway binary to a mock TikTok.

mod config_test;
mod exchanges;
mod failures;
mod no_secret_in_logs;

use std::time::Duration;

use crate::support::*;
use oauth2::{AuthType, AuthorizationCode, RefreshToken, TokenResponse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn tiktok_route(upstream: &str, extra: &str) -> String {
    route(
        "/token/proxy",
        "tiktok",
        upstream,
        &format!("aliases: [/proxy/token]\n{extra}"),
    )
}

fn tiktok_client(token_url: &str, auth_type: AuthType) -> OAuthClient {
    oauth_client(
        token_url,
        "tiktok-client-key",
        "s3cret+value/with=chars",
        auth_type,
    )
}

fn futures_stream(
    parts: Vec<String>,
) -> impl futures_core::Stream<Item = Result<String, std::io::Error>> {
    let mut parts = parts.into_iter();
    futures_util::stream::poll_fn(move |_| std::task::Poll::Ready(parts.next().map(Ok)))
}

/// A fake upstream that does one thing to every request.
async fn fault_upstream(
    fault: &'static str,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    scripted_upstream(move |mut stream, _request| async move {
        match fault {
            "html" => {
                let page = "<html><body>500 Internal Server Error</body></html>";
                let mut stream = write_answer(stream, 500, "text/html", page).await?;
                let _ = stream.read(&mut [0u8; 1]).await;
            }
            "stall" => tokio::time::sleep(Duration::from_secs(30)).await,
            "close" => drop(stream),
            "garbage" => {
                let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.0\r\n").await;
            }
            _ => unreachable!(),
        }
        None
    })
    .await
}
