//! The shared store (`store:`), against real `redis-server` processes: two
//! gateway replicas in front of one TikTok mock share one Redis (standalone,
//! Cluster or TLS). A bridge code is sent to the provider once fleet-wide;
//! a fleet rate limit holds across replicas; a store that dies, stalls or
//! comes back is met with bounded, fail-closed answers and recovery.

mod fleet_limit;
mod long_logins;
mod outage;
mod replay;
mod sentinel;
mod tls_and_secrets;

use quirkgate_mocks::provider::{MockProvider, ProviderKind};

use crate::oidc_bridge::{authorize_query, json_of};
use crate::support::*;

/// Two replicas of one bridge (same issuer, keys and seals) sharing a store.
struct Fleet {
    mock: MockProvider,
    a: Gateway,
    b: Gateway,
    _dir: tempfile::TempDir,
}

/// A `store:` block with `urls` and any further keys (one per line, indented by 2).
fn store_block(urls: &[String], extra: &str) -> String {
    format!("store:\n  urls: [{}]\n{extra}", urls.join(", "))
}

/// Two replicas of a TikTok bridge with `store` (a top-level block).
async fn fleet(store: &str) -> Fleet {
    fleet_with(store, "").await
}

/// Two replicas whose `oidc:` block has `oidc_extra` too (keys indented by 4).
async fn fleet_with(store: &str, oidc_extra: &str) -> Fleet {
    let mock = mock(ProviderKind::TikTok).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "k.pem", "ES256");
    let (routes, oidc) = bridge_config(&TIKTOK, &mock, &[("k1", &key, "ES256")]);
    let oidc = format!("{oidc}{oidc_extra}");
    let a = Gateway::start_with(&routes, &format!("{oidc}{store}"), "info");
    // Replica B serves A's issuer: one issuer, any replica.
    let oidc_b = oidc.replace("{{gateway_port}}", &a.port.to_string());
    let b = Gateway::start_with(&routes, &format!("{oidc_b}{store}"), "info");
    Fleet {
        mock,
        a,
        b,
        _dir: dir,
    }
}

/// A login up to the broker's code, through `gateway`'s authorize and callback.
async fn broker_code(gateway: &Gateway) -> String {
    crate::oidc_bridge::broker_code(gateway, "").await
}

/// The broker's token request for `code` at `gateway`: status, `Retry-After`, JSON body.
async fn redeem(gateway: &Gateway, code: &str) -> (u16, Option<String>, serde_json::Value) {
    let form = serde_urlencoded::to_string([
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", BROKER_CALLBACK),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ])
    .unwrap();
    let response = http_client()
        .post(gateway.url("/oidc/tiktok/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let (status, body) = json_of(response).await;
    (status, retry_after, body)
}

/// How many token requests reached the provider.
fn token_calls(mock: &MockProvider) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.path == TIKTOK.token_path)
        .count()
}

/// `/readyz`'s status.
async fn readyz(gateway: &Gateway) -> u16 {
    http_client()
        .get(format!("http://127.0.0.1:{}/readyz", gateway.metrics_port))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn assert_invalid_grant(answer: &(u16, Option<String>, serde_json::Value), why: &str) {
    assert_eq!(
        (answer.0, answer.2["error"].as_str()),
        (400, Some("invalid_grant")),
        "{why}: {answer:?}"
    );
}
