//! The ID token's claims (OIDC Core §2, §3.1.3.6): the user's claims, then
//! who issued it, for whom, when, for how long, and what binds it to its
//! login (`nonce`) and its access token (`at_hash`). Signing is the bridge's.

use serde_json::{Map, Value};

use super::authorize::at_hash;
use super::sealed::SealedCode;

/// What an ID token says beyond the user's claims.
pub struct IdToken<'a> {
    pub issuer: &'a str,
    /// The broker's client id.
    pub audience: &'a str,
    /// Unix seconds.
    pub issued_at: u64,
    pub lifetime_seconds: u64,
    /// The code redeemed: `auth_time` and `nonce`.
    pub code: &'a SealedCode,
    /// The access token issued with it.
    pub access_token: &'a str,
}

impl IdToken<'_> {
    /// The claims to sign: the user's, with the token's own set over them.
    pub fn claims(&self, user: Map<String, Value>) -> Map<String, Value> {
        let mut body = user;
        body.insert("iss".into(), self.issuer.into());
        body.insert("aud".into(), self.audience.into());
        body.insert("iat".into(), self.issued_at.into());
        body.insert(
            "exp".into(),
            (self.issued_at + self.lifetime_seconds).into(),
        );
        body.insert("auth_time".into(), self.code.authenticated_at.into());
        body.insert("at_hash".into(), at_hash(self.access_token).into());
        if let Some(nonce) = &self.code.nonce {
            body.insert("nonce".into(), nonce.clone().into());
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code(nonce: Option<&str>) -> SealedCode {
        SealedCode {
            provider_code: "pc".into(),
            client_id: "ck_1".into(),
            redirect_uri: "https://broker.example/callback".into(),
            nonce: nonce.map(str::to_owned),
            code_challenge: None,
            authenticated_at: 1_000,
            provider_verifier: None,
            callback_user: None,
        }
    }

    fn token(code: &SealedCode) -> IdToken<'_> {
        IdToken {
            issuer: "https://gw.example/oidc/tiktok",
            audience: "ck_1",
            issued_at: 1_030,
            lifetime_seconds: 3600,
            code,
            access_token: "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y",
        }
    }

    #[test]
    fn the_token_names_issuer_audience_times_and_its_access_token() {
        let code = code(Some("n1"));
        let claims = token(&code).claims(
            json!({"sub": "u1", "name": "Ann"})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(
            Value::Object(claims),
            json!({
                "sub": "u1", "name": "Ann",
                "iss": "https://gw.example/oidc/tiktok", "aud": "ck_1",
                "iat": 1_030, "exp": 4_630, "auth_time": 1_000,
                "at_hash": "77QmUPtjPfzWtF2AnpK9RQ", "nonce": "n1",
            })
        );
    }

    #[test]
    fn the_users_claims_cannot_override_the_tokens_own_and_no_nonce_is_invented() {
        let code = code(None);
        let user = json!({"sub": "u1", "iss": "https://evil.example", "aud": "other", "exp": 1});
        let claims = token(&code).claims(user.as_object().unwrap().clone());
        assert_eq!(claims["iss"], "https://gw.example/oidc/tiktok");
        assert_eq!(claims["aud"], "ck_1");
        assert_eq!(claims["exp"], 4_630);
        assert!(
            !claims.contains_key("nonce"),
            "no nonce the broker did not send"
        );
    }
}
