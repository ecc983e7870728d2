//! Codes this replica has already redeemed: RFC 6749 §4.1.2 says a code is
//! used once. The provider enforces that for its own code, but only after
//! receiving it a second time; the bridge refuses a replayed code before it
//! reaches the provider. Sealed codes expire within minutes, so the set only
//! holds those still alive. Per replica: across replicas, the provider's own
//! single use is the backstop.

use std::collections::HashMap;
use std::sync::Mutex;

use ring::digest::{digest, SHA256};

#[derive(Default)]
pub struct RedeemedCodes {
    /// SHA-256 of the sealed code → when it stops mattering (Unix seconds).
    seen: Mutex<HashMap<[u8; 32], u64>>,
}

/// Expired entries are swept when the set has grown past this since the last sweep.
const SWEEP_AFTER: usize = 4096;

impl RedeemedCodes {
    /// `true` the first time `code` is seen (it is then remembered until
    /// `forget_after`), `false` for a replay.
    pub fn first_use(&self, code: &str, forget_after: u64, now: u64) -> bool {
        let key: [u8; 32] = digest(&SHA256, code.as_bytes())
            .as_ref()
            .try_into()
            .expect("SHA-256 is 32 bytes");
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.get(&key).is_some_and(|&until| until > now) {
            return false;
        }
        if seen.len() >= SWEEP_AFTER && seen.len().is_power_of_two() {
            seen.retain(|_, until| *until > now);
        }
        seen.insert(key, forget_after);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_redeemed_once_until_it_would_have_expired() {
        let redeemed = RedeemedCodes::default();
        assert!(redeemed.first_use("code-a", 100, 10));
        assert!(!redeemed.first_use("code-a", 100, 11));
        assert!(redeemed.first_use("code-b", 100, 11));
        // Past its expiry the seal itself refuses it; the set may forget it.
        assert!(redeemed.first_use("code-a", 200, 100));
    }

    #[test]
    fn expired_entries_are_swept_as_the_set_grows() {
        let redeemed = RedeemedCodes::default();
        assert!(redeemed.first_use("alive", 500, 1));
        for i in 1..SWEEP_AFTER {
            assert!(redeemed.first_use(&format!("old-{i}"), 10, 1));
        }
        // At their forget-after second the old ones are swept (the seal refuses them from then on).
        assert!(redeemed.first_use("new", 500, 10));
        assert_eq!(
            redeemed.seen.lock().unwrap().len(),
            2,
            "the expired were swept"
        );
        assert!(
            !redeemed.first_use("alive", 500, 11),
            "a live code survives the sweep"
        );
        assert!(!redeemed.first_use("new", 500, 11));
    }
}
