//! Bridge paths and token requests share one kept-alive connection.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_paths_are_served_on_a_kept_alive_connection_next_to_token_requests() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_mock, gateway, _dir) = tiktok_bridge().await;
    let mut stream = tokio::net::TcpStream::connect(gateway.addr())
        .await
        .unwrap();
    // Pipelined: a discovery request, a token request for the fast path, the JWKS.
    let requests = "GET /oidc/tiktok/.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n\r\n\
POST /token/tiktok HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\ngrant_type=\
GET /oidc/tiktok/jwks?x=%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    stream.write_all(requests.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let statuses: Vec<&str> = answer.matches("HTTP/1.1 ").map(|_| "").collect();
    assert_eq!(statuses.len(), 3, "{answer}");
    let first = answer.find("\"issuer\"").unwrap();
    let second = answer.find("invalid_client").unwrap();
    let third = answer.find("\"keys\"").unwrap();
    assert!(
        first < second && second < third,
        "answered in order:\n{answer}"
    );
}
