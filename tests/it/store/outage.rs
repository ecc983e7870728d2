//! A store that dies, stalls or comes back. While it cannot answer, a code
//! claim fails closed (503 `temporarily_unavailable`, `Retry-After`,
//! counted) within the store's timeouts, unless `on_store_error: allow`
//! lets this replica's memory decide; `/readyz` says so. When it answers
//! again the gateway uses it, with no restart.

use std::time::{Duration, Instant};

use super::*;

/// Short timeouts, so a dead or stalled store is met quickly.
const TIMEOUTS: &str = "  connect_timeout: 300ms\n  command_timeout: 300ms\n";

fn assert_fails_closed(answer: &(u16, Option<String>, serde_json::Value), why: &str) {
    assert_eq!(
        (answer.0, answer.2["error"].as_str(), answer.1.as_deref()),
        (503, Some("temporarily_unavailable"), Some("1")),
        "{why}: {answer:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_store_fails_closed_within_its_timeout_and_recovers_when_restarted() {
    let mut redis = Redis::start();
    let fleet = fleet(&store_block(&[redis.url()], TIMEOUTS)).await;
    let before = broker_code(&fleet.a).await;
    assert_eq!(redeem(&fleet.a, &before).await.0, 200, "the store works");
    assert_eq!(readyz(&fleet.a).await, 200);
    let code = broker_code(&fleet.a).await;

    redis.kill();
    for replica in [&fleet.a, &fleet.b, &fleet.a] {
        let started = Instant::now();
        let answer = redeem(replica, &code).await;
        assert_fails_closed(&answer, "the store is down");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "answered within the store's timeouts, not hung: {:?}",
            started.elapsed()
        );
    }
    assert_eq!(
        token_calls(&fleet.mock),
        1,
        "no code reached the provider unclaimed"
    );
    assert_eq!(readyz(&fleet.a).await, 503, "/readyz reports the store");
    let refused = fleet
        .a
        .metric(
            "quirkgate_store_fallbacks_total",
            &[("use", "claim_code"), ("outcome", "refused")],
        )
        .await;
    assert!(
        refused >= 2.0,
        "fail-closed refusals are counted: {refused}"
    );
    let errors = fleet
        .a
        .metric(
            "quirkgate_store_errors_total",
            &[("op", "claim_code"), ("kind", "connection")],
        )
        .await;
    assert!(errors >= 1.0, "store errors are counted: {errors}");

    redis.restart();
    let ready = eventually(Duration::from_secs(10), || async {
        (readyz(&fleet.a).await == 200 && readyz(&fleet.b).await == 200).then_some(())
    })
    .await;
    assert!(
        ready.is_some(),
        "both replicas find the store again, unrestarted"
    );
    // The refused attempts did not burn the code: it is redeemed once, now.
    assert_eq!(redeem(&fleet.b, &code).await.0, 200);
    assert_invalid_grant(&redeem(&fleet.a, &code).await, "replayed after recovery");
    assert_eq!(token_calls(&fleet.mock), 2);
    for replica in [&fleet.a, &fleet.b] {
        assert!(!replica.log().contains("panicked"), "{}", replica.log());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_store_is_bounded_by_the_command_timeout() {
    let redis = Redis::start();
    let fleet = fleet(&store_block(&[redis.url()], TIMEOUTS)).await;
    let code = broker_code(&fleet.a).await;
    let sleeper = redis.sleep_in_background(4.0);
    // The stall has begun once the store's ping stops answering.
    let stalled = eventually(Duration::from_secs(3), || async {
        (readyz(&fleet.a).await == 503).then_some(())
    })
    .await;
    assert!(stalled.is_some(), "DEBUG SLEEP stalls the store");
    let started = Instant::now();
    let answer = redeem(&fleet.b, &code).await;
    let took = started.elapsed();
    assert_fails_closed(&answer, "the store is stalled");
    assert!(
        took < Duration::from_millis(1500),
        "bounded by the 300 ms command timeout (and connect), not the 4 s stall: {took:?}"
    );
    assert!(sleeper.join().unwrap().contains("OK"));
    let answers = eventually(Duration::from_secs(5), || async {
        (readyz(&fleet.b).await == 200).then_some(())
    })
    .await;
    assert!(answers.is_some());
    assert_eq!(redeem(&fleet.b, &code).await.0, 200, "the code was kept");
    let timeouts = fleet
        .b
        .metric(
            "quirkgate_store_errors_total",
            &[("op", "claim_code"), ("kind", "timeout")],
        )
        .await;
    assert!(timeouts >= 1.0, "{timeouts}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_store_error_allow_falls_back_to_each_replicas_memory() {
    let mut redis = Redis::start();
    let fleet = fleet(&store_block(
        &[redis.url()],
        &format!("{TIMEOUTS}  on_store_error: allow\n"),
    ))
    .await;
    let code = broker_code(&fleet.a).await;
    redis.kill();
    assert_eq!(
        redeem(&fleet.a, &code).await.0,
        200,
        "this replica's memory decides"
    );
    assert_invalid_grant(
        &redeem(&fleet.a, &code).await,
        "replayed at the same replica",
    );
    // What `allow` gives up: another replica does not know the code was redeemed.
    assert_eq!(redeem(&fleet.b, &code).await.0, 200);
    assert_eq!(token_calls(&fleet.mock), 2);
    let fallbacks = fleet
        .a
        .metric(
            "quirkgate_store_fallbacks_total",
            &[("use", "claim_code"), ("outcome", "replica_memory")],
        )
        .await;
    assert!(fallbacks >= 2.0, "{fallbacks}");
}
