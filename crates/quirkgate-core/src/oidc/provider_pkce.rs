//! PKCE from the bridge to the provider (RFC 7636), for providers that
//! require it (X, VK ID), with no state kept: the verifier of a login is
//! base64url(HMAC-SHA256(a key derived from the first seal key, the sealed
//! state the provider is given)). `/authorize` sends its S256 challenge; the
//! state comes back to `/callback`, which derives the verifier again and
//! seals it into the broker's code for the token leg. The sealed state
//! starts with a random AES-GCM nonce, so every login has its own verifier,
//! and no one without the seal key can compute it.

use base64::Engine;
use ring::{digest, hmac};

/// What the derived key is for, so it is never the seal key itself.
const PURPOSE: &[u8] = b"quirkgate-oidc/provider-pkce/v1";

/// Derives a login's verifier and challenge.
pub struct ProviderPkce {
    key: hmac::Key,
}

impl std::fmt::Debug for ProviderPkce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProviderPkce(S256)")
    }
}

fn base64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// base64url(SHA-256(verifier)), the S256 challenge (RFC 7636 §4.2).
pub fn s256_challenge(verifier: &str) -> String {
    base64url(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref())
}

impl ProviderPkce {
    pub fn new(seal_key: &[u8; 32]) -> Self {
        let derived = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, seal_key), PURPOSE);
        ProviderPkce {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    /// The login's verifier: 43 characters of `[A-Za-z0-9_-]` (RFC 7636 §4.1).
    pub fn verifier(&self, sealed_state: &str) -> String {
        base64url(hmac::sign(&self.key, sealed_state.as_bytes()).as_ref())
    }

    /// The challenge `/authorize` sends with `code_challenge_method=S256`.
    pub fn challenge(&self, sealed_state: &str) -> String {
        s256_challenge(&self.verifier(sealed_state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_s256_challenge_is_rfc_7636s() {
        // RFC 7636 Appendix B.
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn each_login_has_its_own_verifier_which_only_the_seal_key_gives() {
        let pkce = ProviderPkce::new(&[7; 32]);
        let verifier = pkce.verifier("sealed-state-1");
        assert_eq!(verifier.len(), 43);
        assert!(verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        // The same state gives the same verifier at /callback, and its challenge.
        assert_eq!(pkce.verifier("sealed-state-1"), verifier);
        assert_eq!(pkce.challenge("sealed-state-1"), s256_challenge(&verifier));
        assert_ne!(pkce.challenge("sealed-state-1"), verifier);
        assert_ne!(pkce.verifier("sealed-state-2"), verifier);
        // Another key, another verifier; and never the plain HMAC of the seal key.
        assert_ne!(
            ProviderPkce::new(&[8; 32]).verifier("sealed-state-1"),
            verifier
        );
        let plain = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &[7; 32]),
            b"sealed-state-1",
        );
        assert_ne!(base64url(plain.as_ref()), verifier);
    }
}
