//! The provider's JWKS as the bridge keeps it: compiled from
//! `provider_id_token:` once per load, cached per (`jwks_uri`, cooldown) for
//! the life of the process (a reload with the same facts keeps the keys),
//! fetched on first use, again when older than [`MAX_AGE`] or when a token
//! names an unknown `kid`, and never more often than the cooldown, so a
//! stream of unknown kids cannot make the bridge fetch per request.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use quirkgate_core::oidc::provider_id_token::ProviderKeys;

use crate::plan::error::{BridgeRefusal as Refusal, ConfigError, ConfigErrorKind, KeyPath};
use crate::plan::file::ProviderIdTokenFile;

/// Keys older than this are fetched again on their next use.
pub const MAX_AGE: Duration = Duration::from_secs(3600);
const DEFAULT_COOLDOWN: Duration = Duration::from_secs(60);

/// What the bridge checks a provider's own ID token against.
pub struct ProviderIdTokens {
    /// The `iss` its tokens carry.
    pub issuer: String,
    /// Whether the broker's nonce goes to the provider (and must come back).
    pub send_nonce: bool,
    pub keys: ProviderIdTokenKeys,
}

/// Where the key that verifies the provider's ID tokens comes from.
pub enum ProviderIdTokenKeys {
    /// The provider's published JWKS (RS256, ES256).
    Jwks(Arc<ProviderJwks>),
    /// HS256 keyed with the client secret the broker sends to `/token`
    /// (LINE's web login).
    ClientSecret,
}

/// One provider's published keys, fetched lazily.
pub struct ProviderJwks {
    pub uri: String,
    cooldown: Duration,
    state: tokio::sync::Mutex<Fetched>,
}

#[derive(Default)]
struct Fetched {
    keys: Option<Arc<ProviderKeys>>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
}

impl ProviderJwks {
    fn new(uri: &str, cooldown: Duration) -> Self {
        ProviderJwks {
            uri: uri.to_owned(),
            cooldown,
            state: Default::default(),
        }
    }

    /// The keys to verify a token naming `kid` with: the cached ones when
    /// fresh and knowing `kid`, else what `fetch` gives (if the cooldown
    /// allows a fetch; a failed fetch keeps the old keys). One fetch at a
    /// time: concurrent callers wait for it rather than fetch again.
    pub async fn keys_for<F, Fut>(
        &self,
        kid: Option<&str>,
        now: Instant,
        fetch: F,
    ) -> Option<Arc<ProviderKeys>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Option<ProviderKeys>>,
    {
        let mut state = self.state.lock().await;
        let fresh = state
            .fetched_at
            .is_some_and(|at| now.saturating_duration_since(at) < MAX_AGE);
        if let Some(keys) = state.keys.as_ref().filter(|k| fresh && k.knows(kid)) {
            return Some(keys.clone());
        }
        let may_fetch = state
            .last_attempt
            .is_none_or(|at| now.saturating_duration_since(at) >= self.cooldown);
        if may_fetch {
            state.last_attempt = Some(now);
            if let Some(keys) = fetch().await {
                state.keys = Some(Arc::new(keys));
                state.fetched_at = Some(now);
            }
        }
        state.keys.clone()
    }
}

/// Compiles `provider_id_token:`; the cache is shared with any earlier load
/// of the same `jwks_uri` and cooldown.
pub(super) fn compile(file: &ProviderIdTokenFile) -> Result<ProviderIdTokens, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let at = |key: &'static str| KeyPath::key("provider_id_token").then(key);
    let cooldown = file.refresh_cooldown.map_or(DEFAULT_COOLDOWN, |d| d.0);
    let keys = match (&file.jwks_uri, file.signed_with.as_deref()) {
        (Some(uri), None) if https_or_loopback(uri) => {
            Some(ProviderIdTokenKeys::Jwks(shared_jwks(uri, cooldown)))
        }
        (Some(_), None) => {
            errors.push(refused(at("jwks_uri"), Refusal::ProviderJwksUri));
            None
        }
        (None, Some("client_secret")) => Some(ProviderIdTokenKeys::ClientSecret),
        (None, Some(other)) => {
            errors.push(refused(
                at("signed_with"),
                Refusal::UnknownSignedWith(other.to_owned()),
            ));
            None
        }
        (None, None) | (Some(_), Some(_)) => {
            errors.push(refused(
                KeyPath::key("provider_id_token"),
                Refusal::ProviderKeySource,
            ));
            None
        }
    };
    if file.issuer.is_empty() {
        errors.push(refused(at("issuer"), Refusal::ProviderIssuerEmpty));
    }
    match keys {
        Some(keys) if errors.is_empty() => Ok(ProviderIdTokens {
            issuer: file.issuer.clone(),
            send_nonce: file.nonce.unwrap_or(true),
            keys,
        }),
        _ => Err(errors),
    }
}

fn refused(key: KeyPath, why: Refusal) -> ConfigError {
    ConfigError::new(key, ConfigErrorKind::Bridge(why))
}

fn https_or_loopback(uri: &str) -> bool {
    let Ok(parsed) = http::Uri::try_from(uri) else {
        return false;
    };
    let host = parsed.host().unwrap_or("");
    match parsed.scheme_str() {
        Some("https") => !host.is_empty(),
        Some("http") => matches!(host, "localhost" | "127.0.0.1" | "[::1]"),
        _ => false,
    }
}

fn shared_jwks(uri: &str, cooldown: Duration) -> Arc<ProviderJwks> {
    type Shared = Mutex<HashMap<(String, Duration), Arc<ProviderJwks>>>;
    static BY_URI: LazyLock<Shared> = LazyLock::new(Default::default);
    BY_URI
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry((uri.to_owned(), cooldown))
        .or_insert_with(|| Arc::new(ProviderJwks::new(uri, cooldown)))
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use quirkgate_core::signed_jwt::{test_es256_key, JwtAlgorithm, SigningKey};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn keys(kids: &[&str]) -> ProviderKeys {
        let jwks: Vec<_> = kids
            .iter()
            .map(|kid| {
                SigningKey::from_pem(test_es256_key().0.as_bytes(), JwtAlgorithm::Es256)
                    .unwrap()
                    .public_jwk(kid)
            })
            .collect();
        ProviderKeys::from_jwks(serde_json::json!({ "keys": jwks }).to_string().as_bytes()).unwrap()
    }

    /// Asks `jwks` for `kid` at `now`; the fetch (counted) answers `published`.
    async fn ask(
        jwks: &ProviderJwks,
        kid: &str,
        now: Instant,
        published: &[&str],
        fetches: &AtomicUsize,
    ) -> bool {
        let found = jwks
            .keys_for(Some(kid), now, || async {
                fetches.fetch_add(1, Ordering::SeqCst);
                Some(keys(published))
            })
            .await;
        found.is_some_and(|k| k.knows(Some(kid)))
    }

    #[tokio::test]
    async fn an_unknown_kid_refetches_once_per_cooldown_and_known_kids_never() {
        let jwks = ProviderJwks::new("https://p.example/keys", Duration::from_secs(60));
        let fetches = AtomicUsize::new(0);
        let t0 = Instant::now();
        assert!(ask(&jwks, "k1", t0, &["k1"], &fetches).await);
        for i in 0..5 {
            assert!(ask(&jwks, "k1", t0 + Duration::from_secs(i), &["k1"], &fetches).await);
        }
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            1,
            "a known kid is served from the cache"
        );
        // The provider rotated within the cooldown: a stream of unknown kids fetches nothing.
        for i in 1..20 {
            assert!(
                !ask(
                    &jwks,
                    "k2",
                    t0 + Duration::from_secs(i),
                    &["k1", "k2"],
                    &fetches
                )
                .await
            );
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        // After it, one fetch finds the new key, and the old one still verifies.
        let later = t0 + Duration::from_secs(61);
        assert!(ask(&jwks, "k2", later, &["k1", "k2"], &fetches).await);
        assert!(ask(&jwks, "k1", later, &["k1", "k2"], &fetches).await);
        assert!(
            !ask(
                &jwks,
                "k9",
                later + Duration::from_secs(1),
                &["k1", "k2"],
                &fetches
            )
            .await
        );
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn old_keys_are_fetched_again_and_kept_when_the_fetch_fails() {
        let jwks = ProviderJwks::new("https://p.example/keys", Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(jwks
            .keys_for(Some("k1"), t0, || async { None })
            .await
            .is_none());
        let t1 = t0 + Duration::from_secs(60);
        assert!(jwks
            .keys_for(Some("k1"), t1, || async { Some(keys(&["k1"])) })
            .await
            .is_some());
        let stale = t1 + MAX_AGE;
        let kept = jwks.keys_for(Some("k1"), stale, || async { None }).await;
        assert!(
            kept.is_some_and(|k| k.knows(Some("k1"))),
            "a failed refresh keeps the keys"
        );
    }

    #[test]
    fn the_jwks_uri_is_https_and_the_cache_survives_a_reload_of_the_same_facts() {
        let file = |uri: &str, issuer: &str| ProviderIdTokenFile {
            jwks_uri: Some(uri.into()),
            signed_with: None,
            issuer: issuer.into(),
            nonce: None,
            refresh_cooldown: None,
        };
        let jwks = |compiled: &ProviderIdTokens| match &compiled.keys {
            ProviderIdTokenKeys::Jwks(jwks) => jwks.clone(),
            ProviderIdTokenKeys::ClientSecret => panic!("not a JWKS"),
        };
        let first = compile(&file(
            "https://appleid.apple.com/auth/keys",
            "https://appleid.apple.com",
        ))
        .unwrap();
        let again = compile(&file(
            "https://appleid.apple.com/auth/keys",
            "https://appleid.apple.com",
        ))
        .unwrap();
        assert!(Arc::ptr_eq(&jwks(&first), &jwks(&again)));
        assert!(first.send_nonce);
        let other = compile(&file(
            "https://id.twitch.tv/oauth2/keys",
            "https://id.twitch.tv/oauth2",
        ))
        .unwrap();
        assert!(!Arc::ptr_eq(&jwks(&first), &jwks(&other)));
        assert!(compile(&file("http://127.0.0.1:9/keys", "x")).is_ok());
        let errors = compile(&file("http://keys.example/jwks", ""))
            .err()
            .unwrap();
        let kinds: Vec<_> = errors
            .iter()
            .map(|e| (e.key.to_string(), e.kind.clone()))
            .collect();
        assert_eq!(
            kinds,
            [
                (
                    "provider_id_token.jwks_uri".to_owned(),
                    ConfigErrorKind::Bridge(Refusal::ProviderJwksUri)
                ),
                (
                    "provider_id_token.issuer".to_owned(),
                    ConfigErrorKind::Bridge(Refusal::ProviderIssuerEmpty)
                ),
            ]
        );
    }

    #[test]
    fn a_provider_id_token_is_keyed_by_a_jwks_or_by_the_client_secret_never_both() {
        let file = |uri: Option<&str>, signed_with: Option<&str>| ProviderIdTokenFile {
            jwks_uri: uri.map(str::to_owned),
            signed_with: signed_with.map(str::to_owned),
            issuer: "https://access.line.me".into(),
            nonce: None,
            refresh_cooldown: None,
        };
        let line = compile(&file(None, Some("client_secret"))).unwrap();
        assert!(matches!(line.keys, ProviderIdTokenKeys::ClientSecret));
        let refusal = |f: ProviderIdTokenFile| {
            let errors = compile(&f).err().unwrap();
            errors
                .into_iter()
                .map(|e| (e.key.to_string(), e.kind))
                .collect::<Vec<_>>()
        };
        let source = || {
            vec![(
                "provider_id_token".to_owned(),
                ConfigErrorKind::Bridge(Refusal::ProviderKeySource),
            )]
        };
        assert_eq!(refusal(file(None, None)), source());
        assert_eq!(
            refusal(file(
                Some("https://api.line.me/oauth2/v2.1/certs"),
                Some("client_secret")
            )),
            source()
        );
        assert_eq!(
            refusal(file(None, Some("channel_secret"))),
            [(
                "provider_id_token.signed_with".to_owned(),
                ConfigErrorKind::Bridge(Refusal::UnknownSignedWith("channel_secret".into()))
            )]
        );
    }
}
