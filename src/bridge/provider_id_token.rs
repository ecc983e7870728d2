//! A provider's own ID token (Apple, LINE, Twitch, LinkedIn): the broker's
//! nonce goes to the provider's authorize page, and the token answer's
//! `id_token` is verified against the provider's JWKS (fetched here, cached
//! in the plan), or with the broker's client secret where the provider keys
//! it so (LINE's HS256), before any claim is read from it. A token that fails is a
//! 502 `server_error`: no claims, no ID token, and the provider's code, spent
//! on this one redemption, is never sent again.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::plan::oidc::provider_jwks::ProviderIdTokenKeys;
use crate::plan::oidc::OidcBridge;
use quirkgate_core::oauth_error::OAuthError;
use quirkgate_core::oidc::authorize::with_query;
use quirkgate_core::oidc::provider_id_token::{
    Expected, IdTokenRefusal, ProviderKeys, UnverifiedIdToken,
};
use quirkgate_core::oidc::token_answer::upstream_failed;

/// Largest JWKS read: a provider publishes a handful of keys.
const MAX_JWKS_BYTES: usize = 64 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Where the verified claims sit in the user the claim paths read (`id_token.sub`).
pub const CLAIMS_KEY: &str = "id_token";

/// The provider's authorize URL, with the broker's nonce when the provider
/// echoes it in its own ID token.
pub fn with_nonce(bridge: &OidcBridge, url: String, nonce: Option<&str>) -> String {
    match (&bridge.provider_id_token, nonce) {
        (Some(facts), Some(nonce)) if facts.send_nonce => with_query(&url, &[("nonce", nonce)]),
        _ => url,
    }
}

/// The claims of the token answer's `id_token`, verified; `None` when this
/// bridge takes none from the provider's ID token. `client_secret` is the
/// broker's, for a provider that keys its tokens with it (LINE).
pub async fn verified_claims(
    bridge: &OidcBridge,
    tokens: &Map<String, Value>,
    client_id: &str,
    client_secret: Option<&str>,
    nonce: Option<&str>,
    now: u64,
) -> Result<Option<Map<String, Value>>, OAuthError> {
    let Some(facts) = &bridge.provider_id_token else {
        return Ok(None);
    };
    let token = tokens
        .get("id_token")
        .and_then(Value::as_str)
        .ok_or_else(|| upstream_failed("the provider's token answer has no id_token"))?;
    let unverified = UnverifiedIdToken::parse(token).map_err(refused)?;
    let expected = Expected {
        issuer: &facts.issuer,
        audience: client_id,
        nonce: nonce.filter(|_| facts.send_nonce),
        now,
    };
    let verified = match &facts.keys {
        ProviderIdTokenKeys::Jwks(jwks) => {
            let keys = jwks
                .keys_for(unverified.kid(), Instant::now(), || fetch(&jwks.uri))
                .await
                .ok_or_else(|| upstream_failed("the provider's JWKS could not be read"))?;
            unverified.verify(&keys, &expected)
        }
        // No secret sent (a public client): nothing can verify it.
        ProviderIdTokenKeys::ClientSecret => {
            unverified.verify_with_client_secret(client_secret.unwrap_or("").as_bytes(), &expected)
        }
    };
    verified.map(Some).map_err(refused)
}

/// The user the claim paths read: the user-info route's answer (if any),
/// with the verified claims under [`CLAIMS_KEY`].
pub fn with_claims(user: Value, claims: Option<Map<String, Value>>) -> Value {
    let Some(claims) = claims else {
        return user;
    };
    let mut user = match user {
        Value::Object(user) => user,
        _ => Map::new(),
    };
    user.insert(CLAIMS_KEY.into(), Value::Object(claims));
    Value::Object(user)
}

fn refused(why: IdTokenRefusal) -> OAuthError {
    log::warn!(
        "oidc: the provider's ID token was refused: {}",
        why.as_str()
    );
    upstream_failed(why.description())
}

/// GETs the JWKS: no proxy (as every upstream leg), no redirects, a time
/// limit and a size cap; `None` (logged) for anything but a 200 of usable keys.
async fn fetch(uri: &str) -> Option<ProviderKeys> {
    static CLIENT: LazyLock<Option<reqwest::Client>> = LazyLock::new(|| {
        reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(FETCH_TIMEOUT)
            .build()
            .ok()
    });
    let outcome = async {
        let client = CLIENT.as_ref().ok_or("no HTTP client")?;
        let mut response = client.get(uri).send().await.map_err(|_| "unreachable")?;
        if response.status() != reqwest::StatusCode::OK {
            return Err("not a 200");
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|_| "broken body")? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_JWKS_BYTES {
                return Err("too large");
            }
        }
        ProviderKeys::from_jwks(&body).map_err(|_| "no usable key")
    }
    .await;
    match outcome {
        Ok(keys) => {
            log::info!("oidc: fetched the provider's JWKS from {uri}");
            Some(keys)
        }
        Err(why) => {
            log::warn!("oidc: the provider's JWKS at {uri} could not be read: {why}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn verified_claims_sit_beside_the_user_info_answer() {
        let claims = json!({"sub": "001.abc", "email": "a@example.com"});
        let claims = || Some(claims.as_object().unwrap().clone());
        assert_eq!(
            with_claims(json!({"id": "u1"}), claims()),
            json!({"id": "u1", "id_token": {"sub": "001.abc", "email": "a@example.com"}})
        );
        assert_eq!(
            with_claims(Value::Null, claims()),
            json!({"id_token": {"sub": "001.abc", "email": "a@example.com"}})
        );
        assert_eq!(with_claims(json!({"id": "u1"}), None), json!({"id": "u1"}));
    }
}
