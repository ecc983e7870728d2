//! A bridge code sent to the provider at most once, fleet-wide: the replica
//! that wins the store's claim calls the provider; every other replay, at
//! any replica, is `invalid_grant` before the provider hears of it.

use super::*;

/// Redeemed at A, replayed at B and at A: one provider call.
async fn replay_across_replicas_is_refused(store: &str) {
    let fleet = fleet(store).await;
    let code = broker_code(&fleet.a).await;
    let first = redeem(&fleet.a, &code).await;
    assert_eq!(first.0, 200, "{first:?}\n{}", fleet.a.log());
    assert!(first.2["id_token"].is_string());
    assert_invalid_grant(
        &redeem(&fleet.b, &code).await,
        "replayed at the other replica",
    );
    assert_invalid_grant(
        &redeem(&fleet.a, &code).await,
        "replayed at the same replica",
    );
    assert_eq!(
        token_calls(&fleet.mock),
        1,
        "the provider saw the code once"
    );
    // A fresh login still works at either replica.
    let second = broker_code(&fleet.b).await;
    assert_eq!(redeem(&fleet.b, &second).await.0, 200);
    assert_eq!(token_calls(&fleet.mock), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_replayed_at_another_replica_is_refused_with_a_standalone_store() {
    let redis = Redis::start();
    replay_across_replicas_is_refused(&store_block(&[redis.url()], "")).await;
    assert!(
        redis.contents().contains("qg:code:"),
        "the claims are in the store"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_replayed_at_another_replica_is_refused_with_a_cluster_store() {
    let cluster = RedisCluster::start();
    replay_across_replicas_is_refused(&store_block(&cluster.urls(), "  mode: cluster\n")).await;
    assert!(cluster.contents().contains("qg:code:"));
}

/// 100 replays of one code at once, half at each replica: one success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_replays_across_two_replicas_give_one_success() {
    let redis = Redis::start();
    let fleet = std::sync::Arc::new(fleet(&store_block(&[redis.url()], "")).await);
    let code = broker_code(&fleet.a).await;
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let (fleet, code) = (fleet.clone(), code.clone());
            tokio::spawn(async move {
                let replica = if i % 2 == 0 { &fleet.a } else { &fleet.b };
                redeem(replica, &code).await
            })
        })
        .collect();
    let mut successes = 0;
    for task in tasks {
        let answer = task.await.unwrap();
        match answer.0 {
            200 => successes += 1,
            _ => assert_invalid_grant(&answer, "a concurrent replay"),
        }
    }
    assert_eq!(successes, 1);
    assert_eq!(
        token_calls(&fleet.mock),
        1,
        "the provider saw the code once"
    );
}
