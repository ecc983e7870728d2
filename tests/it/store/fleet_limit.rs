//! `rate_limit: { scope: fleet }`: two replicas together admit the rate
//! configured (within 10 %), where per-replica counting admits twice it; a
//! store that goes away leaves each replica counting alone, said by a
//! metric and a log line, until it is back.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;

const LIMIT: u32 = 40;
const OFFERED_PER_SECOND: u32 = 120;
const SECONDS: u32 = 3;

/// Two replicas of a TikTok token route limited to `LIMIT` a second in `scope`.
async fn limited_replicas(mock: &MockProvider, store: &str, scope: &str) -> [Gateway; 2] {
    let routes = route(
        "/token",
        "tiktok",
        &tiktok_token_url(mock.addr),
        &format!("rate_limit: {{ per_route_per_second: {LIMIT}, scope: {scope} }}"),
    );
    [(); 2].map(|_| Gateway::start_with(&routes, store, "warn"))
}

/// Offers `OFFERED_PER_SECOND` requests a second, alternating replicas, over
/// `SECONDS` whole seconds of the clock (the store's windows); the number
/// admitted (200), after checking every other answer was 429.
async fn admitted_over_whole_seconds(replicas: &[Gateway; 2]) -> u32 {
    // Start just after a second turns, so the run covers exactly SECONDS windows.
    let into_second = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    tokio::time::sleep(Duration::from_nanos(
        u64::from(1_000_000_000 - into_second) + 20_000_000,
    ))
    .await;
    let mut ticker = tokio::time::interval(Duration::from_secs(1) / OFFERED_PER_SECOND);
    let mut answers = Vec::new();
    for i in 0..OFFERED_PER_SECOND * SECONDS {
        ticker.tick().await;
        let url = replicas[i as usize % 2].url("/token");
        answers.push(tokio::spawn(async move { post_url(&url, GOOD).await.0 }));
    }
    let mut admitted = 0;
    for answer in answers {
        match answer.await.unwrap() {
            200 => admitted += 1,
            status => assert_eq!(status, 429),
        }
    }
    admitted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_hold_a_fleet_limit_within_ten_percent() {
    let redis = Redis::start();
    let mock = mock(ProviderKind::TikTok).await;
    let store = store_block(&[redis.url()], "");
    let configured = LIMIT * SECONDS;

    let fleet = limited_replicas(&mock, &store, "fleet").await;
    let admitted = admitted_over_whole_seconds(&fleet).await;
    println!("fleet scope: {admitted} admitted over two replicas in {SECONDS} s, {configured} configured");
    let error = (f64::from(admitted) - f64::from(configured)).abs() / f64::from(configured);
    assert!(
        error <= 0.10,
        "fleet scope admitted {admitted}, configured {configured}"
    );

    // The same limit counted per replica admits about twice as many.
    let replicas = limited_replicas(&mock, &store, "replica").await;
    let per_replica = admitted_over_whole_seconds(&replicas).await;
    println!("replica scope: {per_replica} admitted over two replicas in {SECONDS} s");
    assert!(
        f64::from(per_replica) > 1.5 * f64::from(configured),
        "{per_replica}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_limit_counts_per_replica_while_the_store_is_down() {
    let mut redis = Redis::start();
    let mock = mock(ProviderKind::TikTok).await;
    let store = store_block(
        &[redis.url()],
        "  command_timeout: 300ms\n  connect_timeout: 300ms\n",
    );
    let [a, b] = limited_replicas(&mock, &store, "fleet").await;
    assert_eq!(post_url(&a.url("/token"), GOOD).await.0, 200);
    redis.kill();
    for replica in [&a, &b] {
        assert_eq!(
            post_url(&replica.url("/token"), GOOD).await.0,
            200,
            "admitted by this replica's own count"
        );
        replica.wait_for_log(
            "counting per replica until it answers",
            Duration::from_secs(5),
        );
        let fallbacks = replica
            .metric(
                "quirkgate_store_fallbacks_total",
                &[("use", "rate_limit"), ("outcome", "replica_count")],
            )
            .await;
        assert!(fallbacks >= 1.0, "{fallbacks}");
    }
    redis.restart();
    let back = eventually(Duration::from_secs(10), || async {
        post_url(&a.url("/token"), GOOD).await;
        a.log().contains("the store answers again").then_some(())
    })
    .await;
    assert!(back.is_some(), "{}", a.log());
}
