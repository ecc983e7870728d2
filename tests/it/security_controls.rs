//! Security controls, black box: the real gateway binary in front of a mock
//! TikTok. Allowed client ids, the shared secret, allowed sources and trusted
//! proxies, rate limits and the concurrency cap: every refusal is a clear
//! answer, never reaches the provider, and leaves the gateway serving.

use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

use crate::support::*;

#[tokio::test]
async fn allowed_client_ids_refuse_other_clients_before_the_provider() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&route(
        "/token",
        "tiktok",
        &tiktok_token_url(tiktok.addr),
        "allowed_client_ids: [auth0-app, backup-app]",
    ));

    let (status, body) = post(
        &gateway,
        "/token",
        "grant_type=authorization_code&code=c&client_id=intruder&client_secret=b",
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("not allowed"));
    assert!(
        !body.to_string().contains("intruder"),
        "the refused id is not echoed"
    );

    // The same check applies to the id inside Basic credentials.
    let intruder = basic("intruder", "b");
    let (status, _, _) = post_with(
        &gateway,
        "/token",
        &[("authorization", &intruder)],
        "grant_type=authorization_code&code=c",
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        tiktok.requests().is_empty(),
        "a refused client never reaches the provider"
    );
    assert_eq!(refused(&gateway, "/token", "client_not_allowed").await, 2.0);

    // Still serving, and listed clients pass by body and by Basic.
    let (status, _) = post(
        &gateway,
        "/token",
        "grant_type=authorization_code&code=c&client_id=auth0-app&client_secret=b",
    )
    .await;
    assert_eq!(status, 200);
    let listed = basic("backup-app", "b");
    let (status, _, _) = post_with(
        &gateway,
        "/token",
        &[("authorization", &listed)],
        "grant_type=authorization_code&code=c2",
    )
    .await;
    assert_eq!(status, 200);
    let seen = tiktok.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].body_param("client_key"), Some("auth0-app"));
    assert_eq!(seen[1].body_param("client_key"), Some("backup-app"));
}

#[tokio::test]
async fn shared_secret_is_required_and_never_forwarded_or_logged() {
    const SECRET: &str = "gw-shared-SECRET-7c1e5a";
    let tiktok = mock(ProviderKind::TikTok).await;
    // `${VAR:-default}`: the documented env form, with a default so the test sets no variable.
    let gateway = Gateway::start_with(
        &route(
            "/token",
            "tiktok",
            &tiktok_token_url(tiktok.addr),
            &format!(
                "shared_secret: {{ header: X-Quirkgate-Secret, value: \"${{QUIRKGATE_TEST_UNSET_SECRET:-{SECRET}}}\" }}"
            ),
        ),
        "",
        "trace",
    );

    let wrong_same_length = "x".repeat(SECRET.len());
    let prefix = &SECRET[..SECRET.len() - 1];
    let longer = format!("{SECRET}x");
    for headers in [
        vec![],
        vec![("x-quirkgate-secret", "wrong")],
        vec![("x-quirkgate-secret", wrong_same_length.as_str())],
        vec![("x-quirkgate-secret", prefix)],
        vec![("x-quirkgate-secret", longer.as_str())],
        vec![("x-other-header", SECRET)],
    ] {
        let (status, body, _) = post_with(&gateway, "/token", &headers, GOOD).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client")),
            "{headers:?}"
        );
    }
    assert!(tiktok.requests().is_empty());
    assert_eq!(refused(&gateway, "/token", "shared_secret").await, 6.0);

    let (status, body, _) =
        post_with(&gateway, "/token", &[("x-quirkgate-secret", SECRET)], GOOD).await;
    assert_eq!(
        (status, body["access_token"].as_str()),
        (200, Some("act.c"))
    );
    let seen = tiktok.requests();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0]
            .headers
            .iter()
            .all(|(name, value)| name != "x-quirkgate-secret" && !value.contains(SECRET)),
        "the secret header is not forwarded: {:?}",
        seen[0].headers
    );
    // The access-log line of the last request: the lines before it are written.
    let log = gateway.wait_for_log(
        "route=/token method=POST status=200",
        Duration::from_secs(10),
    );
    assert_eq!(log.matches("refused=shared_secret").count(), 6, "{log}");
    assert_no_secret(&log, "the log", &[SECRET.to_owned()]);
}

#[tokio::test]
async fn allow_sources_refuse_outside_addresses_and_ignore_untrusted_forwarding() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let upstream = tiktok_token_url(tiktok.addr);
    let routes = [
        route(
            "/inside",
            "tiktok",
            &upstream,
            "allow_sources: [127.0.0.0/8, \"::1\"]",
        ),
        route(
            "/outside",
            "tiktok",
            &upstream,
            "allow_sources: [192.0.2.0/24]",
        ),
    ]
    .concat();
    let gateway = Gateway::start(&routes);

    let (status, body) = post(&gateway, "/outside", GOOD).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("access_denied"))
    );
    // No trusted proxy is configured: a forged X-Forwarded-For changes nothing.
    let (status, _, _) = post_with(
        &gateway,
        "/outside",
        &[("x-forwarded-for", "192.0.2.1")],
        GOOD,
    )
    .await;
    assert_eq!(status, 403);
    assert!(tiktok.requests().is_empty());
    assert_eq!(refused(&gateway, "/outside", "source").await, 2.0);

    let (status, _) = post(&gateway, "/inside", GOOD).await;
    assert_eq!(status, 200);
    assert_eq!(tiktok.requests().len(), 1);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_caller() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start_with(
        &route(
            "/token",
            "tiktok",
            &tiktok_token_url(tiktok.addr),
            "allow_sources: [198.51.100.0/24]",
        ),
        "trusted_proxies: [127.0.0.1, 10.0.0.0/8]",
        "info",
    );
    let cases = [
        // (X-Forwarded-For, expected status)
        (None, 403),                              // the proxy itself is not allowed
        (Some("198.51.100.7"), 200),              // the proxy vouches for an allowed caller
        (Some("198.51.100.7, 10.1.2.3"), 200),    // through a second trusted hop
        (Some("198.51.100.7, 203.0.113.9"), 403), // caller forged the allowed address
        (Some("not-an-address"), 403),            // unreadable hop: caller unknown
    ];
    let mut served = 0;
    for (forwarded, expected) in cases {
        let headers: Vec<(&str, &str)> = forwarded
            .map(|f| ("x-forwarded-for", f))
            .into_iter()
            .collect();
        let (status, body, _) = post_with(&gateway, "/token", &headers, GOOD).await;
        assert_eq!(status, expected, "{forwarded:?}: {body}");
        if status == 200 {
            served += 1;
        } else {
            assert_eq!(body["error"], "access_denied");
        }
        assert_eq!(tiktok.requests().len(), served, "{forwarded:?}");
    }
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_and_recover() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let upstream = tiktok_token_url(tiktok.addr);
    let routes = [
        route(
            "/per-client",
            "tiktok",
            &upstream,
            "rate_limit: { per_client_address_per_second: 3 }",
        ),
        route(
            "/per-route",
            "tiktok",
            &upstream,
            "rate_limit: { per_route_per_second: 2 }",
        ),
    ]
    .concat();
    let gateway = Gateway::start(&routes);

    // Pingora's `Rate` starts a new one-second window at the first request
    // that comes a second or more after the window began: after this pause,
    // each burst below opens a window of its own and is counted exactly.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let callers: [std::net::IpAddr; 2] =
        ["127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap()];
    // (path, per caller: how many get through)
    for (path, served) in [("/per-client", [3, 3]), ("/per-route", [2, 0])] {
        let before = tiktok.requests().len();
        let mut limited_total = 0;
        let started = Instant::now();
        for (caller, expected_ok) in callers.iter().zip(served) {
            let client = reqwest::Client::builder()
                .local_address(*caller)
                .build()
                .unwrap();
            let (mut ok, mut limited) = (0, 0);
            for _ in 0..6 {
                let response = client
                    .post(gateway.url(path))
                    .header("content-type", FORM)
                    .body(GOOD)
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let retry_after = response.headers().get("retry-after").cloned();
                let body: serde_json::Value = response.json().await.unwrap();
                match status {
                    200 => ok += 1,
                    429 => {
                        limited += 1;
                        assert_eq!(body["error"], "temporarily_unavailable");
                        assert_eq!(retry_after.unwrap(), "1");
                    }
                    other => panic!("{path}: unexpected {other}"),
                }
            }
            assert_eq!(
                (ok, limited),
                (expected_ok, 6 - expected_ok),
                "{path} from {caller}"
            );
            limited_total += limited;
        }
        assert!(
            started.elapsed() < Duration::from_millis(900),
            "the burst must fit in one window to be counted exactly; it took {:?}",
            started.elapsed()
        );
        assert_eq!(
            tiktok.requests().len() - before,
            12 - limited_total,
            "{path}: limited requests never reach the provider"
        );
        assert_eq!(
            refused(&gateway, path, "rate_limited").await,
            limited_total as f64
        );
    }

    // Two windows later the budget is back.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(post(&gateway, "/per-client", GOOD).await.0, 200);
    assert_eq!(post(&gateway, "/per-route", GOOD).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn max_concurrent_exchanges_answers_503_while_full() {
    let (slow, count) = slow_tiktok_upstream(Duration::from_millis(1500)).await;
    let gateway = Gateway::start(&route(
        "/token",
        "tiktok",
        &format!("http://{slow}/"),
        "max_concurrent_exchanges: 2\ntimeout: 5s",
    ));
    let url = gateway.url("/token");
    let in_flight: Vec<_> = (0..2)
        .map(|i| {
            let url = url.clone();
            tokio::spawn(async move {
                post_url(
                    &url,
                    format!(
                        "grant_type=authorization_code&code=slow{i}&client_id=a&client_secret=b"
                    ),
                )
                .await
                .0
            })
        })
        .collect();
    // Wait until both exchanges hold their slot at the provider.
    let deadline = Instant::now() + Duration::from_secs(5);
    while count.load(SeqCst) < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(count.load(SeqCst), 2);

    let (status, body, headers) = post_with(&gateway, "/token", &[], GOOD).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("temporarily_unavailable"))
    );
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(
        count.load(SeqCst),
        2,
        "the refused exchange never reached the provider"
    );
    assert_eq!(refused(&gateway, "/token", "overloaded").await, 1.0);

    for task in in_flight {
        assert_eq!(task.await.unwrap(), 200);
    }
    // Slots are given back: the next exchange runs.
    let (status, _, _) = post_with(&gateway, "/token", &[], GOOD).await;
    assert_eq!(status, 200);
    assert_eq!(count.load(SeqCst), 3);
}
