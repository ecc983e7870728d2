//! `mode: sentinel`: the gateway asks the Sentinel for the master by name,
//! claims codes there, and after a failover (the master killed, its replica
//! promoted) finds the new master on its own, with no restart.

use std::time::Duration;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_store_claims_at_the_master_and_follows_a_failover() {
    let mut sentinels = RedisSentinel::start();
    let block = store_block(
        &[sentinels.url()],
        &format!(
            "  mode: sentinel\n  master_name: {SENTINEL_MASTER}\n  connect_timeout: 500ms\n  command_timeout: 500ms\n"
        ),
    );
    let fleet = fleet(&block).await;

    let code = broker_code(&fleet.a).await;
    assert_eq!(redeem(&fleet.a, &code).await.0, 200, "{}", fleet.a.log());
    assert_invalid_grant(
        &redeem(&fleet.b, &code).await,
        "replayed at the other replica",
    );
    assert!(
        sentinels.master.contents().contains("qg:code:"),
        "the claim is at the master the Sentinel named"
    );

    sentinels.fail_over();
    assert_eq!(sentinels.master_port(), sentinels.replica.port);
    // The promoted replica has the claim (replicated before the failover)…
    assert!(sentinels.replica.contents().contains("qg:code:"));
    // …and both replicas use the new master once they reconnect.
    let recovered = eventually(Duration::from_secs(15), || async {
        let code = broker_code(&fleet.b).await;
        (redeem(&fleet.b, &code).await.0 == 200).then_some(code)
    })
    .await
    .expect("a login is redeemed at the new master, unrestarted");
    assert_invalid_grant(
        &redeem(&fleet.a, &recovered).await,
        "replayed after the failover",
    );
    assert_eq!(token_calls(&fleet.mock), 2);
}
