//! TLS termination at the edge: HTTPS and HTTP/2 to callers, the certificate
//! swapped on SIGHUP without a restart.

use std::time::{Duration, Instant};

use crate::common::*;

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
        &route(
            "/token/proxy",
            "tiktok",
            &format!("http://{}/", tiktok.addr),
            "",
        ),
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
