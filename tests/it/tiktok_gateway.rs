//! The TikTok token route end to end: a standard OAuth 2.0 client (the
//! `oauth2` crate) through the real gateway binary to a mock TikTok.

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

#[tokio::test]
async fn client_secret_post_exchange_renames_client_id_and_keeps_every_other_parameter() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&tiktok_route(&tiktok_token_url(tiktok.addr), ""));
    let client = tiktok_client(&gateway.url("/token/proxy"), AuthType::RequestBody);
    let token = client
        .exchange_code(AuthorizationCode::new("code*with!odd~chars".into()))
        .add_extra_param("code_verifier", "verifier-123")
        .add_extra_param("state", "opaque state")
        .request_async(&http_client())
        .await
        .unwrap();
    assert_eq!(token.access_token().secret(), "act.code*with!odd~chars");
    assert_eq!(
        token.refresh_token().unwrap().secret(),
        "rft.code*with!odd~chars"
    );

    let seen = tiktok.requests();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/v2/oauth/token/")
    );
    assert_eq!(request.body_param("client_key"), Some("tiktok-client-key"));
    assert_eq!(request.body_param("client_id"), None);
    assert_eq!(
        request.body_param("client_secret"),
        Some("s3cret+value/with=chars")
    );
    assert_eq!(request.body_param("code"), Some("code*with!odd~chars"));
    assert_eq!(request.body_param("redirect_uri"), Some(REDIRECT));
    assert_eq!(request.body_param("grant_type"), Some("authorization_code"));
    assert_eq!(request.body_param("code_verifier"), Some("verifier-123"));
    assert_eq!(request.body_param("state"), Some("opaque state"));
    assert_eq!(
        request.header("host"),
        Some(tiktok.addr.to_string().as_str())
    );
    assert_eq!(
        request.header("content-length"),
        Some(request.raw_body.len().to_string().as_str())
    );
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
}

#[tokio::test]
async fn basic_auth_credentials_become_body_parameters_and_the_header_is_not_forwarded() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&tiktok_route(&tiktok_token_url(tiktok.addr), ""));
    let client = tiktok_client(&gateway.url("/proxy/token"), AuthType::BasicAuth);
    let token = client
        .exchange_code(AuthorizationCode::new("basic-code".into()))
        .request_async(&http_client())
        .await
        .unwrap();
    assert_eq!(token.access_token().secret(), "act.basic-code");
    let request = &tiktok.requests()[0];
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.body_param("client_key"), Some("tiktok-client-key"));
    assert_eq!(
        request.body_param("client_secret"),
        Some("s3cret+value/with=chars")
    );
}

#[tokio::test]
async fn refresh_token_grant_works_like_a_code_grant() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&tiktok_route(&tiktok_token_url(tiktok.addr), ""));
    let client = tiktok_client(&gateway.url("/token/proxy"), AuthType::RequestBody);
    let token = client
        .exchange_refresh_token(&RefreshToken::new("rft.old".into()))
        .request_async(&http_client())
        .await
        .unwrap();
    assert_eq!(token.access_token().secret(), "act.rft.old.next");
    let request = &tiktok.requests()[0];
    assert_eq!(request.body_param("grant_type"), Some("refresh_token"));
    assert_eq!(request.body_param("refresh_token"), Some("rft.old"));
    assert_eq!(request.body_param("client_key"), Some("tiktok-client-key"));
}

#[tokio::test]
async fn https_upstream_is_verified_against_ca_file_and_refused_without_it() {
    let pki = TestPki::new();
    let tiktok = mock_tls(ProviderKind::TikTok, &pki).await;
    let url = format!("https://127.0.0.1:{}/v2/oauth/token/", tiktok.addr.port());
    let trusted = tiktok_route(&url, &format!("ca_file: {}", pki.ca_path.display()));
    let untrusted = route("/untrusted", "tiktok", &url, "retries: 0");
    let gateway = Gateway::start(&format!("{trusted}{untrusted}"));

    let client = tiktok_client(&gateway.url("/token/proxy"), AuthType::RequestBody);
    let token = client
        .exchange_code(AuthorizationCode::new("tls-code".into()))
        .request_async(&http_client())
        .await
        .unwrap();
    assert_eq!(token.access_token().secret(), "act.tls-code");

    let refused = http_client()
        .post(gateway.url("/untrusted"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=authorization_code&code=c2&client_id=a&client_secret=b")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 502);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(body["error"].is_string() && body["error_description"].is_string());
    assert_eq!(
        tiktok.requests().len(),
        1,
        "the unverified upstream must not get the code"
    );
    assert!(
        gateway
            .metric(
                "quirkgate_upstream_errors_total",
                &[("route", "/untrusted"), ("kind", "tls")]
            )
            .await
            >= 1.0
    );
}

#[tokio::test]
async fn upstream_connections_are_pooled_and_reused() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&tiktok_route(&tiktok_token_url(tiktok.addr), ""));
    let client = tiktok_client(&gateway.url("/token/proxy"), AuthType::RequestBody);
    for i in 0..5 {
        let token = client
            .exchange_code(AuthorizationCode::new(format!("pooled-{i}")))
            .request_async(&http_client())
            .await
            .unwrap();
        assert_eq!(token.access_token().secret(), &format!("act.pooled-{i}"));
    }
    assert_eq!(
        tiktok.connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one upstream connection for five exchanges"
    );
    assert_eq!(
        gateway
            .metric(
                "quirkgate_upstream_connections_total",
                &[("reused", "true")]
            )
            .await,
        4.0
    );
}

#[tokio::test]
async fn concurrent_exchanges_each_get_their_own_token() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&tiktok_route(&tiktok_token_url(tiktok.addr), ""));
    let url = gateway.url("/token/proxy");
    let http = http_client();
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let (url, http) = (url.clone(), http.clone());
            tokio::spawn(async move {
                let client = tiktok_client(
                    &url,
                    if i % 2 == 0 {
                        AuthType::RequestBody
                    } else {
                        AuthType::BasicAuth
                    },
                );
                let token = client
                    .exchange_code(AuthorizationCode::new(format!("c{i}")))
                    .request_async(&http)
                    .await
                    .unwrap();
                (i, token.access_token().secret().clone())
            })
        })
        .collect();
    for task in tasks {
        let (i, token) = task.await.unwrap();
        assert_eq!(token, format!("act.c{i}"));
    }
    assert_eq!(tiktok.requests().len(), 300);
}

#[tokio::test]
async fn provider_error_in_a_200_reaches_the_client_as_an_oauth_error() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&tiktok_route(&tiktok_token_url(tiktok.addr), ""));
    let client = tiktok_client(&gateway.url("/token/proxy"), AuthType::RequestBody);
    let err = client
        .exchange_code(AuthorizationCode::new("expired-1".into()))
        .request_async(&http_client())
        .await
        .unwrap_err();
    match err {
        oauth2::RequestTokenError::ServerResponse(response) => {
            assert_eq!(response.error().as_ref(), "invalid_grant");
            assert_eq!(
                response.error_description().map(String::as_str),
                Some("Authorization code is expired.")
            );
        }
        other => panic!("expected an OAuth error, got {other:?}"),
    }
    let raw = http_client()
        .post(gateway.url("/token/proxy"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=authorization_code&code=expired-2&client_id=a&client_secret=b")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert_eq!(raw.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn refusals_are_rfc6749_json_and_never_reach_the_provider() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&tiktok_route(
        &tiktok_token_url(tiktok.addr),
        "max_body_bytes: 512",
    ));

    let (status, body, _) = post_as(&gateway, "/nope", FORM, GOOD).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("invalid_request"))
    );

    let response = http_client()
        .get(gateway.url("/token/proxy"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");

    let (status, body, _) = post_as(
        &gateway,
        "/token/proxy",
        "application/json",
        r#"{"code":"c"}"#,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (415, Some("invalid_request"))
    );

    let (status, _, _) = post_as(
        &gateway,
        "/token/proxy",
        "application/x-www-form-urlencoded; charset=UTF-8",
        "grant_type=authorization_code&code=%zz&client_id=a&client_secret=b",
    )
    .await;
    assert_eq!(status, 400);

    let (status, body, _) = post_as(
        &gateway,
        "/token/proxy",
        FORM,
        b"grant_type=authorization_code&code=\xff\xfe&client_id=a&client_secret=b".to_vec(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );

    let (status, body, headers) = post_as(
        &gateway,
        "/token/proxy",
        FORM,
        "grant_type=authorization_code&code=c",
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(headers["cache-control"], "no-store");

    let (status, _, _) = post_as(
        &gateway,
        "/token/proxy",
        FORM,
        format!("{GOOD}&pad={}", "x".repeat(600)),
    )
    .await;
    assert_eq!(status, 413);

    // Chunked, with no Content-Length to refuse it early.
    let chunks = futures_stream(vec![GOOD.to_owned(), format!("&pad={}", "y".repeat(600))]);
    let (status, _, _) = post_as(
        &gateway,
        "/token/proxy",
        FORM,
        reqwest::Body::wrap_stream(chunks),
    )
    .await;
    assert_eq!(status, 413);

    assert!(
        tiktok.requests().is_empty(),
        "no refused request may reach the provider"
    );
    assert!(
        gateway
            .metric("quirkgate_refused_total", &[("reason", "too_large")])
            .await
            >= 2.0
    );

    // Still serving.
    let (status, body, _) = post_as(&gateway, "/token/proxy", FORM, GOOD).await;
    assert_eq!(
        (status, body["access_token"].as_str()),
        (200, Some("act.c"))
    );
}

fn futures_stream(
    parts: Vec<String>,
) -> impl futures_core::Stream<Item = Result<String, std::io::Error>> {
    let mut parts = parts.into_iter();
    futures_util::stream::poll_fn(move |_| std::task::Poll::Ready(parts.next().map(Ok)))
}

#[tokio::test]
async fn chunked_request_bodies_are_accepted() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&tiktok_route(&tiktok_token_url(tiktok.addr), ""));
    let chunks = futures_stream(vec![
        "grant_type=authorization_code&co".into(),
        "de=chunky&client_id=a&client_secret=b".into(),
    ]);
    let (status, body, _) = post_as(
        &gateway,
        "/token/proxy",
        FORM,
        reqwest::Body::wrap_stream(chunks),
    )
    .await;
    assert_eq!(
        (status, body["access_token"].as_str()),
        (200, Some("act.chunky"))
    );
    let request = &tiktok.requests()[0];
    assert_eq!(
        request.header("content-length"),
        Some(request.raw_body.len().to_string().as_str())
    );
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

#[tokio::test]
async fn upstream_failures_map_to_502_and_504_and_are_never_replayed() {
    let (html, html_count) = fault_upstream("html").await;
    let (stall, stall_count) = fault_upstream("stall").await;
    let (close, close_count) = fault_upstream("close").await;
    let (garbage, garbage_count) = fault_upstream("garbage").await;
    let closed_port = free_port();
    let routes = [
        route("/html", "tiktok", &format!("http://{html}/"), ""),
        route(
            "/stall",
            "tiktok",
            &format!("http://{stall}/"),
            "timeout: 1s\nconnect_timeout: 500ms",
        ),
        route("/close", "tiktok", &format!("http://{close}/"), ""),
        route("/garbage", "tiktok", &format!("http://{garbage}/"), ""),
        route(
            "/refused",
            "tiktok",
            &format!("http://127.0.0.1:{closed_port}/"),
            "retries: 2",
        ),
    ]
    .concat();
    let gateway = Gateway::start(&routes);

    let (status, body, _) = post_as(&gateway, "/html", FORM, GOOD).await;
    assert_eq!(status, 502);
    assert_eq!(body["error"], "temporarily_unavailable");

    let started = std::time::Instant::now();
    let (status, _, _) = post_as(&gateway, "/stall", FORM, GOOD).await;
    assert_eq!(status, 504);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "504 must come within the route timeout"
    );

    let (status, body, _) = post_as(&gateway, "/close", FORM, GOOD).await;
    assert_eq!(status, 502);
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("not sent again"));

    let (status, _, _) = post_as(&gateway, "/garbage", FORM, GOOD).await;
    assert_eq!(status, 502);

    let (status, _, _) = post_as(&gateway, "/refused", FORM, GOOD).await;
    assert_eq!(status, 502);

    use std::sync::atomic::Ordering::SeqCst;
    assert_eq!(html_count.load(SeqCst), 1);
    assert_eq!(stall_count.load(SeqCst), 1);
    assert_eq!(
        close_count.load(SeqCst),
        1,
        "a code that reached the provider is never sent twice"
    );
    assert_eq!(garbage_count.load(SeqCst), 1);
    assert_eq!(
        gateway
            .metric(
                "quirkgate_retries_total",
                &[("route", "/refused"), ("reason", "connect")]
            )
            .await,
        2.0
    );
    assert_zero(
        &gateway.metrics().await,
        "quirkgate_retries_total",
        &[("route", "/close")],
    );
    assert!(
        gateway
            .metric(
                "quirkgate_upstream_errors_total",
                &[("route", "/stall"), ("kind", "timeout")]
            )
            .await
            >= 1.0
    );

    let tiktok = mock(ProviderKind::TikTok).await;
    drop(tiktok);
    // The gateway is still up after every failure.
    let (status, _, _) = post_as(&gateway, "/nope", FORM, GOOD).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn no_secret_appears_in_logs_even_at_trace_level() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let (close, _) = fault_upstream("close").await;
    let routes = format!(
        "{}{}",
        tiktok_route(&tiktok_token_url(tiktok.addr), ""),
        route("/close", "tiktok", &format!("http://{close}/"), "")
    );
    let gateway = Gateway::start_with(&routes, "", "trace");
    let secret = "SECRET-client-secret-9f8e7d";
    let code = "CODE-single-use-1a2b3c";
    let refresh = "REFRESH-token-4d5e6f";
    let ok_body =
        format!("grant_type=authorization_code&code={code}&client_id=app&client_secret={secret}");
    let (status, body, _) = post_as(&gateway, "/token/proxy", FORM, ok_body.clone()).await;
    assert_eq!(status, 200);
    let access_token = body["access_token"].as_str().unwrap().to_owned();
    let (status, _, _) = post_as(
        &gateway,
        "/token/proxy",
        FORM,
        format!(
            "grant_type=refresh_token&refresh_token={refresh}&client_id=app&client_secret={secret}"
        ),
    )
    .await;
    assert_eq!(status, 200);
    let basic = format!("Basic {}", base64_encode(&format!("app:{secret}")));
    let response = http_client()
        .post(gateway.url("/token/proxy"))
        .header("content-type", FORM)
        .header("authorization", &basic)
        .body(format!("grant_type=authorization_code&code={code}x"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, _, _) = post_as(&gateway, "/close", FORM, ok_body.clone()).await;
    assert_eq!(status, 502);
    let (status, _, _) = post_as(
        &gateway,
        "/token/proxy",
        FORM,
        format!("{ok_body}&code=dup"),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _, _) = post_as(
        &gateway,
        "/token/proxy?code={code}",
        FORM,
        format!("grant_type=authorization_code&code={code}&client_secret={secret}"),
    )
    .await;
    assert_eq!(status, 401);
    // The last request's access-log line: every earlier line is written.
    let log = gateway.wait_for_log(
        "route=/token/proxy method=POST status=401",
        Duration::from_secs(10),
    );
    assert!(
        log.contains("quirkgate::access"),
        "the access log is written:\n{log}"
    );
    assert!(log.lines().count() > 10, "trace logging is on");
    let needles = [
        secret,
        code,
        refresh,
        access_token.as_str(),
        basic.as_str(),
        &basic[6..],
    ];
    let needles: Vec<String> = needles.iter().map(|n| n.to_string()).collect();
    assert_no_secret(&log, "the log", &needles);
    let metrics = gateway.metrics().await;
    for needle in [secret, code, refresh, access_token.as_str()] {
        assert!(!metrics.contains(needle), "metrics leak {needle}");
    }
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn config_test_flag_accepts_the_shipped_file_and_names_bad_keys() {
    let binary = env!("CARGO_BIN_EXE_quirkgate");
    let ok = std::process::Command::new(binary)
        .args([
            "--config",
            concat!(env!("CARGO_MANIFEST_DIR"), "/conf/quirkgate.yaml"),
            "--test",
        ])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "listen: \"127.0.0.1:1\"\nroutes:\n  - path: /t\n    preset: tiktok\n    timeuot: 2s\n",
    )
    .unwrap();
    let out = std::process::Command::new(binary)
        .arg("--config")
        .arg(&bad)
        .arg("--test")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("timeuot") && stderr.contains("line 5"),
        "{stderr}"
    );
}

#[tokio::test]
async fn idle_keep_alive_clients_are_closed_after_client_idle_timeout() {
    use std::io::{Read, Write};
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start_with(
        &tiktok_route(&tiktok_token_url(tiktok.addr), ""),
        "client_idle_timeout: 1s",
        "info",
    );
    let addr = gateway.addr();
    let closed_after = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        let request = format!("POST /token/proxy HTTP/1.1\r\nhost: gw\r\ncontent-type: {FORM}\r\ncontent-length: {}\r\n\r\n{GOOD}", GOOD.len());
        stream.write_all(request.as_bytes()).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let started = std::time::Instant::now();
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => return (String::from_utf8_lossy(&answer).into_owned(), started.elapsed()),
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(e) => panic!("connection still open after 5 s: {e}"),
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(
        raw_status(&closed_after.0),
        200,
        "the request on the connection was answered"
    );
    assert!(
        closed_after.1 >= Duration::from_millis(800),
        "kept alive until idle: {:?}",
        closed_after.1
    );
}

#[test]
fn config_test_flag_refuses_refresh_token_in_retry_after_send() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("replay.yaml");
    std::fs::write(
        &file,
        "listen: \"127.0.0.1:1\"\nroutes:\n  - path: /t\n    preset: tiktok\n    upstream: \"http://127.0.0.1:1/\"\n    retry_after_send: [client_credentials, refresh_token]\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quirkgate"))
        .arg("--config")
        .arg(&file)
        .arg("--test")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("retry_after_send") && stderr.contains("'refresh_token'"),
        "{stderr}"
    );
    assert!(!stderr.contains("'client_credentials'"), "{stderr}");
}

#[tokio::test]
async fn move_to_body_carries_a_query_parameter_into_the_body() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let rules = "request:\n  - add: { query: { audience: api-1, keep: yes } }\n  - move_to_body: [audience]";
    let gateway = Gateway::start(&format!(
        "  - path: /token\n    preset: tiktok\n    upstream: \"http://{}/v2/oauth/token/\"\n{}\n",
        tiktok.addr,
        rules
            .lines()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    ));
    let (status, body, _) = post_as(&gateway, "/token", FORM, GOOD.to_owned()).await;
    assert_eq!(status, 200, "{body}");
    let seen = tiktok.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body_param("audience"), Some("api-1"));
    assert_eq!(seen[0].query_param("audience"), None);
    assert_eq!(
        seen[0].query_param("keep"),
        Some("yes"),
        "only the named parameter moves"
    );
    assert_eq!(seen[0].body_param("keep"), None);
    assert_eq!(
        seen[0].body_param("code"),
        Some("c"),
        "the body keeps what it had"
    );
}
