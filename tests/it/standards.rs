//! What standards and operators expect at the edges: RFC 6749 §5.2's
//! `WWW-Authenticate` on a 401 to a caller that authenticated with
//! `Authorization`, and counters that exist, at 0, before they first count.

use std::io::{Read, Write};
use std::time::Duration;

use crate::support::*;

/// Sends `bytes` on a fresh connection; everything read until the gateway
/// closes. Blocking, off the runtime that serves the test's upstreams.
async fn raw_exchange(addr: std::net::SocketAddr, bytes: &[u8], wait: Duration) -> String {
    let bytes = bytes.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(wait)).unwrap();
        stream.write_all(&bytes).unwrap();
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    })
    .await
    .unwrap()
}

/// A provider that refuses every client: 401 `invalid_client`.
async fn refusing_provider() -> std::net::SocketAddr {
    let (addr, _) = scripted_upstream(|stream, _request| async move {
        write_answer(
            stream,
            401,
            "application/json",
            r#"{"error":"invalid_client","error_description":"unknown client"}"#,
        )
        .await
    })
    .await;
    addr
}

const BASIC: &str = "Basic YXcxMjM6czNjcg=="; // aw123:s3cr

async fn raw_request(gateway: &Gateway, head_extra: &str, body: &str, chunked: bool) -> String {
    let framing = if chunked {
        format!(
            "Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
            body.len()
        )
    } else {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    };
    let request = format!(
        "POST /token/proxy HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n{head_extra}{framing}"
    );
    raw_exchange(gateway.addr(), request.as_bytes(), Duration::from_secs(5)).await
}

fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    let head = answer.split("\r\n\r\n").next().unwrap_or("");
    head.lines().skip(1).find_map(|line| {
        let (field, value) = line.split_once(':')?;
        field.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[tokio::test]
async fn a_401_challenges_with_the_scheme_the_caller_used_on_both_front_ends() {
    let provider = refusing_provider().await;
    let gateway = Gateway::start(&route(
        "/token/proxy",
        "tiktok",
        &tiktok_token_url(provider),
        "",
    ));
    let body = "grant_type=authorization_code&code=c1&redirect_uri=https%3A%2F%2Fx%2Fcb";
    for chunked in [false, true] {
        let answer = raw_request(
            &gateway,
            &format!("Authorization: {BASIC}\r\n"),
            body,
            chunked,
        )
        .await;
        assert_eq!(
            raw_status(&answer),
            401,
            "chunked={chunked}: {answer}\n{}",
            gateway.log()
        );
        assert_eq!(raw_json(&answer)["error"], "invalid_client");
        assert_eq!(
            header(&answer, "www-authenticate"),
            Some("Basic realm=\"quirkgate\""),
            "chunked={chunked}: {answer}"
        );
    }
    // Credentials in the body: a 401 without a challenge.
    let answer = raw_request(
        &gateway,
        "",
        &format!("{body}&client_id=aw123&client_secret=s3cr"),
        false,
    )
    .await;
    assert_eq!(raw_status(&answer), 401, "{answer}");
    assert_eq!(header(&answer, "www-authenticate"), None, "{answer}");
}

#[tokio::test]
async fn a_user_info_401_challenges_a_bearer_caller() {
    let info = mock(ProviderKind::TikTokUserInfo).await;
    let gateway = Gateway::start(&route(
        "/userinfo",
        "tiktok-userinfo",
        &format!("http://{}/v2/user/info/", info.addr),
        "",
    ));
    let response = get_with_bearer(&gateway, "/userinfo", "revoked").await;
    assert_eq!(response.status(), 401);
    // RFC 6750 §3.1: a token the provider refused names invalid_token.
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\", error_description=\"the provider refused the access token\""
    );
    // A good token: 200, no challenge.
    let response = get_with_bearer(&gateway, "/userinfo", "act.1").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("www-authenticate").is_none());
}

/// The value of the one sample of `name` whose labels are exactly `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let rest = series.strip_prefix(name)?;
            let inner = rest.strip_prefix('{')?.strip_suffix('}')?;
            let mut found: Vec<(&str, &str)> = inner
                .split(',')
                .filter_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    Some((k, v.trim_matches('"')))
                })
                .collect();
            found.sort_unstable();
            let mut wanted = labels.to_vec();
            wanted.sort_unstable();
            (found == wanted).then(|| value.parse().ok())?
        })
        .next()
}

#[tokio::test]
async fn a_fresh_gateway_exports_every_known_counter_at_zero() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&route(
        "/token/proxy",
        "tiktok",
        &tiktok_token_url(tiktok.addr),
        "",
    ));
    let text = gateway.metrics().await;
    let route = ("route", "/token/proxy");
    for reason in [
        "not_found",
        "method",
        "content_type",
        "too_large",
        "body_timeout",
        "malformed",
        "no_credentials",
        "rate_limited",
        "overloaded",
    ] {
        assert_eq!(
            sample(
                &text,
                "quirkgate_refused_total",
                &[route, ("reason", reason)]
            ),
            Some(0.0),
            "refused {reason}:\n{text}"
        );
    }
    for kind in ["connect", "tls", "timeout", "reset", "protocol", "resolve"] {
        assert_eq!(
            sample(
                &text,
                "quirkgate_upstream_errors_total",
                &[route, ("kind", kind)]
            ),
            Some(0.0),
            "upstream error {kind}"
        );
    }
    for reason in ["connect", "stale_connection", "unsent", "after_send"] {
        assert_eq!(
            sample(
                &text,
                "quirkgate_retries_total",
                &[route, ("reason", reason)]
            ),
            Some(0.0),
            "retry {reason}"
        );
    }
    assert_eq!(
        sample(
            &text,
            "quirkgate_requests_total",
            &[route, ("method", "POST"), ("status", "200")]
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &text,
            "quirkgate_refused_total",
            &[("route", "unmatched"), ("reason", "not_found")]
        ),
        Some(0.0)
    );
    for result in ["ok", "error"] {
        assert_eq!(
            sample(
                &text,
                "quirkgate_config_reloads_total",
                &[("result", result)]
            ),
            Some(0.0),
            "reloads {result}"
        );
    }

    // The first event counts from that 0.
    let answer = raw_exchange(
        gateway.addr(),
        b"POST /token/proxy HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nx",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(raw_status(&answer), 415, "{answer}");
    let text = gateway.metrics().await;
    assert_eq!(
        sample(
            &text,
            "quirkgate_refused_total",
            &[route, ("reason", "content_type")]
        ),
        Some(1.0)
    );
}
