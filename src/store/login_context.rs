//! Logins too long for the provider's `state`, kept in the store behind a
//! short handle: `/authorize` puts the sealed login (the same AES-256-GCM
//! seal the `state` would carry, so the store holds no broker state, nonce
//! or challenge in the clear) under a hash of a random handle, for the
//! login's lifetime; `/callback` takes it once (`GETDEL`). The provider sees
//! only the handle: 32 hexadecimal digits, which every provider alphabet
//! takes and no sealed state (at least 48 characters) is mistaken for.

use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};

use super::{keys, Store, StoreFailure};
use crate::telemetry::metrics::METRICS;
use quirkgate_core::oauth_error::OAuthError;

/// Characters in a handle: 16 random bytes as hexadecimal.
const HANDLE_LEN: usize = 32;

/// A fresh handle: 128 random bits.
fn new_handle() -> String {
    let mut bytes = [0u8; HANDLE_LEN / 2];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system's random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a provider `state` is a handle rather than a sealed login.
pub(crate) fn is_handle(state: &str) -> bool {
    state.len() == HANDLE_LEN
        && state
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Keeps `sealed_login` of `issuer` for `lifetime`: the handle the provider gets.
pub(crate) async fn keep(
    store: &Store,
    issuer: &str,
    sealed_login: &str,
    lifetime: Duration,
) -> Result<String, OAuthError> {
    let handle = new_handle();
    store
        .put_context(
            &keys::login_context(issuer, &handle),
            sealed_login.as_bytes(),
            lifetime,
        )
        .await
        .map_err(|failure| refused("put_context", failure))?;
    Ok(handle)
}

/// The sealed login behind `handle`, taken once: `None` when it was never
/// kept, was taken already, or has expired.
pub(crate) async fn take(
    store: &Store,
    issuer: &str,
    handle: &str,
) -> Result<Option<String>, OAuthError> {
    let value = store
        .take_context(&keys::login_context(issuer, handle))
        .await
        .map_err(|failure| refused("take_context", failure))?;
    Ok(value.and_then(|bytes| String::from_utf8(bytes).ok()))
}

/// A login context needs the store: without it there is no fallback, the
/// login cannot be kept or found, and the answer is 503.
fn refused(use_: &'static str, _failure: StoreFailure) -> OAuthError {
    METRICS
        .store_fallbacks
        .with_label_values(&[use_, "refused"])
        .inc();
    super::code_claim::store_unavailable()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_is_32_hex_digits_and_new_each_time() {
        let (a, b) = (new_handle(), new_handle());
        assert!(is_handle(&a) && is_handle(&b), "{a} {b}");
        assert_ne!(a, b);
    }

    #[test]
    fn a_sealed_state_is_never_taken_for_a_handle() {
        assert!(!is_handle(&"a".repeat(31)));
        assert!(!is_handle(&"a".repeat(33)));
        assert!(!is_handle(&"A".repeat(32)), "upper case is not a handle's");
        assert!(!is_handle(&format!("{}g", "a".repeat(31))));
        assert!(!is_handle(
            &"Qm9vIHRoaXMgaXMgYSBzZWFsZWQgc3RhdGUgb2YgNDggY2hh"
        ));
        assert!(is_handle("0123456789abcdef0123456789abcdef"));
    }
}
