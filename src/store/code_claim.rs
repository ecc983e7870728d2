//! A bridge code claimed fleet-wide before its provider code is sent: one
//! `SET NX PX` decides which replica calls the provider. When the store
//! cannot answer, `on_store_error` decides: refuse (the default, no code
//! sent twice), or fall back to this replica's memory (a replay at another
//! replica would then reach the provider).

use std::time::Duration;

use quirkgate_core::oauth_error::{OAuthError, Reason};
use quirkgate_core::oidc::redeemed::RedeemedCodes;

use super::{keys, OnStoreError, Store};
use crate::telemetry::metrics::METRICS;

/// Claims `sealed_code` of `issuer` for `lifetime` (the code's own): `Ok`
/// for the one caller that may send its provider code.
pub(crate) async fn claim_code(
    store: &Store,
    memory: &RedeemedCodes,
    issuer: &str,
    sealed_code: &str,
    lifetime: Duration,
    now: u64,
) -> Result<(), OAuthError> {
    let key = keys::code_claim(issuer, sealed_code);
    match store.claim(&key, lifetime).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(already_redeemed()),
        Err(_) => match store.on_error() {
            OnStoreError::Refuse => {
                METRICS
                    .store_fallbacks
                    .with_label_values(&["claim_code", "refused"])
                    .inc();
                Err(store_unavailable())
            }
            OnStoreError::Allow => {
                METRICS
                    .store_fallbacks
                    .with_label_values(&["claim_code", "replica_memory"])
                    .inc();
                log::warn!(target: "quirkgate::store", "store unavailable: this replica's memory decides whether a code was redeemed");
                if memory.first_use(sealed_code, now + lifetime.as_secs(), now) {
                    Ok(())
                } else {
                    Err(already_redeemed())
                }
            }
        },
    }
}

fn already_redeemed() -> OAuthError {
    OAuthError::new(
        400,
        "invalid_grant",
        "the code has already been redeemed",
        Reason::InvalidGrant,
    )
}

/// 503 with `Retry-After`: the code is kept, and may be redeemed when the store answers.
pub(crate) fn store_unavailable() -> OAuthError {
    OAuthError {
        retry_after_seconds: Some(1),
        ..OAuthError::new(
            503,
            "temporarily_unavailable",
            "the gateway's store cannot be reached; retry after a second",
            Reason::Overloaded,
        )
    }
}
