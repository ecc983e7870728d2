//! A provider's own ID token (Apple, LINE, Twitch, LinkedIn), verified
//! before the bridge takes a single claim from it (OIDC Core §3.1.3.7): the
//! signature against the provider's JWKS (RS256 with an RSA key, ES256 with
//! a P-256 key; `none`, HS* and anything else refused, so a public key can
//! never be used as an HMAC secret), or, for a provider that keys its ID
//! tokens with the client secret (LINE's web login, OIDC Core §10.1), HS256
//! with that secret and nothing else; then `iss`, `aud` (the client id),
//! `exp` with a small leeway and, when the bridge sent one, `nonce`. Pure:
//! the JWKS text, the secret and the clock come from the caller.

use base64::Engine;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::{Map, Value};

/// How far past `exp` a token still passes: clocks drift.
pub const EXPIRY_LEEWAY_SECONDS: u64 = 60;

/// A JWKS that gave no key the bridge can verify with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwksRefusal {
    NotJson,
    NoUsableKey,
}

/// Why a provider ID token is refused; each is a 502 to the broker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdTokenRefusal {
    /// Not three base64url parts of JSON, or a claim of the wrong type.
    Malformed,
    /// `alg` is not the one the key source takes (RS256 or ES256 against a
    /// JWKS, HS256 with the client secret), or `crit` is set.
    AlgorithmRefused,
    /// No published key has the token's `kid`.
    UnknownKey,
    /// The key named is not of the algorithm's type.
    KeyTypeMismatch,
    BadSignature,
    WrongIssuer,
    WrongAudience,
    Expired,
    WrongNonce,
}

impl IdTokenRefusal {
    /// The broker's `error_description`: names the check, never the token.
    pub fn description(self) -> &'static str {
        match self {
            IdTokenRefusal::Malformed => "the provider's ID token is malformed",
            IdTokenRefusal::AlgorithmRefused => {
                "the provider's ID token is not signed with an algorithm its bridge takes"
            }
            IdTokenRefusal::UnknownKey => "the provider's ID token names a key its JWKS lacks",
            IdTokenRefusal::KeyTypeMismatch => {
                "the provider's ID token names a key of another type than its alg"
            }
            IdTokenRefusal::BadSignature => "the provider's ID token signature does not verify",
            IdTokenRefusal::WrongIssuer => "the provider's ID token has the wrong iss",
            IdTokenRefusal::WrongAudience => "the provider's ID token is not for this client",
            IdTokenRefusal::Expired => "the provider's ID token has expired",
            IdTokenRefusal::WrongNonce => "the provider's ID token has the wrong nonce",
        }
    }

    /// A short closed name, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            IdTokenRefusal::Malformed => "malformed",
            IdTokenRefusal::AlgorithmRefused => "algorithm_refused",
            IdTokenRefusal::UnknownKey => "unknown_key",
            IdTokenRefusal::KeyTypeMismatch => "key_type_mismatch",
            IdTokenRefusal::BadSignature => "bad_signature",
            IdTokenRefusal::WrongIssuer => "wrong_issuer",
            IdTokenRefusal::WrongAudience => "wrong_audience",
            IdTokenRefusal::Expired => "expired",
            IdTokenRefusal::WrongNonce => "wrong_nonce",
        }
    }
}

/// The algorithms accepted: two with a published key type, and HS256 with
/// the client secret only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Algorithm {
    Rs256,
    Es256,
    Hs256,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PublicKey {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// An uncompressed P-256 point (0x04 ‖ x ‖ y).
    P256(Vec<u8>),
}

impl PublicKey {
    fn verifies(&self, algorithm: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        match (self, algorithm) {
            (PublicKey::Rsa { n, e }, Algorithm::Rs256) => RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
            (PublicKey::P256(point), Algorithm::Es256) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
            _ => false,
        }
    }

    fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Rsa { .. } => Algorithm::Rs256,
            PublicKey::P256(_) => Algorithm::Es256,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct ProviderKey {
    kid: Option<String>,
    key: PublicKey,
}

/// The provider's published signing keys, read from its JWKS (RFC 7517 §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderKeys {
    keys: Vec<ProviderKey>,
}

fn decode(part: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()
}

/// One JWK as a verifying key; `None` for a key not for signatures, of
/// another algorithm or type, or malformed (skipped, as RFC 7517 §5 allows).
fn jwk_key(jwk: &Value) -> Option<ProviderKey> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    if text("use").is_some_and(|u| u != "sig") {
        return None;
    }
    let key = match (text("kty")?, text("alg")) {
        ("RSA", None | Some("RS256")) => {
            let n = decode(text("n")?)?;
            let e = decode(text("e")?)?;
            (n.len() >= 256).then_some(PublicKey::Rsa { n, e })?
        }
        ("EC", None | Some("ES256")) if text("crv") == Some("P-256") => {
            let (x, y) = (decode(text("x")?)?, decode(text("y")?)?);
            if x.len() != 32 || y.len() != 32 {
                return None;
            }
            PublicKey::P256([&[4u8][..], &x, &y].concat())
        }
        _ => return None,
    };
    Some(ProviderKey {
        kid: text("kid").map(str::to_owned),
        key,
    })
}

impl ProviderKeys {
    /// The usable keys of a JWKS document.
    pub fn from_jwks(body: &[u8]) -> Result<Self, JwksRefusal> {
        let document: Value = serde_json::from_slice(body).map_err(|_| JwksRefusal::NotJson)?;
        let keys: Vec<ProviderKey> = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(JwksRefusal::NotJson)?
            .iter()
            .filter_map(jwk_key)
            .collect();
        if keys.is_empty() {
            return Err(JwksRefusal::NoUsableKey);
        }
        Ok(ProviderKeys { keys })
    }

    /// Whether a token naming `kid` has a key here to try (without a `kid`, any key).
    pub fn knows(&self, kid: Option<&str>) -> bool {
        kid.is_none_or(|kid| self.keys.iter().any(|k| k.kid.as_deref() == Some(kid)))
    }
}

/// What the token must say.
pub struct Expected<'a> {
    pub issuer: &'a str,
    /// The client id the bridge redeemed the code with.
    pub audience: &'a str,
    /// The nonce the bridge sent to the provider, if it sent one.
    pub nonce: Option<&'a str>,
    /// Unix seconds.
    pub now: u64,
}

/// A provider ID token split and decoded, not yet trusted.
pub struct UnverifiedIdToken<'t> {
    algorithm: Algorithm,
    kid: Option<String>,
    signing_input: &'t str,
    signature: Vec<u8>,
    claims: Map<String, Value>,
}

impl<'t> UnverifiedIdToken<'t> {
    /// Splits a compact JWS and reads its header; refuses any `alg` but
    /// RS256, ES256 and HS256 (which only [`Self::verify_with_client_secret`] takes).
    pub fn parse(token: &'t str) -> Result<Self, IdTokenRefusal> {
        let malformed = IdTokenRefusal::Malformed;
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed);
        };
        let header: Map<String, Value> =
            serde_json::from_slice(&decode(header).ok_or(malformed)?).map_err(|_| malformed)?;
        let algorithm = match header.get("alg").and_then(Value::as_str) {
            Some("RS256") => Algorithm::Rs256,
            Some("ES256") => Algorithm::Es256,
            Some("HS256") => Algorithm::Hs256,
            _ => return Err(IdTokenRefusal::AlgorithmRefused),
        };
        // RFC 7515 §4.1.11: an extension this verifier does not know must fail it.
        if header.contains_key("crit") {
            return Err(IdTokenRefusal::AlgorithmRefused);
        }
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(malformed),
        };
        let claims =
            serde_json::from_slice(&decode(payload).ok_or(malformed)?).map_err(|_| malformed)?;
        Ok(UnverifiedIdToken {
            algorithm,
            kid,
            signing_input: &token[..header_and_payload_len(token)],
            signature: decode(signature).ok_or(malformed)?,
            claims,
        })
    }

    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The claims, once the signature, `iss`, `aud`, `exp` and `nonce` pass.
    pub fn verify(
        self,
        keys: &ProviderKeys,
        expected: &Expected<'_>,
    ) -> Result<Map<String, Value>, IdTokenRefusal> {
        // A JWKS never keys an HMAC: a public key is no secret.
        if self.algorithm == Algorithm::Hs256 {
            return Err(IdTokenRefusal::AlgorithmRefused);
        }
        let named: Vec<&ProviderKey> = keys
            .keys
            .iter()
            .filter(|k| self.kid.is_none() || k.kid == self.kid)
            .collect();
        if named.is_empty() {
            return Err(IdTokenRefusal::UnknownKey);
        }
        let typed: Vec<&&ProviderKey> = named
            .iter()
            .filter(|k| k.key.algorithm() == self.algorithm)
            .collect();
        if typed.is_empty() {
            return Err(IdTokenRefusal::KeyTypeMismatch);
        }
        let message = self.signing_input.as_bytes();
        if !typed
            .iter()
            .any(|k| k.key.verifies(self.algorithm, message, &self.signature))
        {
            return Err(IdTokenRefusal::BadSignature);
        }
        check_claims(&self.claims, expected)?;
        Ok(self.claims)
    }
}

impl UnverifiedIdToken<'_> {
    /// The claims of an HS256 token keyed with the client `secret` (LINE's
    /// web login), once the signature, `iss`, `aud`, `exp` and `nonce` pass.
    /// Any other `alg` is refused: this key source takes HS256 only.
    pub fn verify_with_client_secret(
        self,
        secret: &[u8],
        expected: &Expected<'_>,
    ) -> Result<Map<String, Value>, IdTokenRefusal> {
        if self.algorithm != Algorithm::Hs256 {
            return Err(IdTokenRefusal::AlgorithmRefused);
        }
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
        let signed = !secret.is_empty()
            && ring::hmac::verify(&key, self.signing_input.as_bytes(), &self.signature).is_ok();
        if !signed {
            return Err(IdTokenRefusal::BadSignature);
        }
        check_claims(&self.claims, expected)?;
        Ok(self.claims)
    }
}

fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(0)
}

/// OIDC Core §3.1.3.7, items 2, 3, 9 and 11.
fn check_claims(
    claims: &Map<String, Value>,
    expected: &Expected<'_>,
) -> Result<(), IdTokenRefusal> {
    if claims.get("iss").and_then(Value::as_str) != Some(expected.issuer) {
        return Err(IdTokenRefusal::WrongIssuer);
    }
    let for_us = match claims.get("aud") {
        Some(Value::String(aud)) => aud == expected.audience,
        Some(Value::Array(auds)) => {
            auds.iter().any(|a| a.as_str() == Some(expected.audience))
                // Item 5: with several audiences, `azp` (if present) is the client.
                && claims
                    .get("azp")
                    .is_none_or(|azp| azp.as_str() == Some(expected.audience))
        }
        _ => false,
    };
    if !for_us {
        return Err(IdTokenRefusal::WrongAudience);
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or(IdTokenRefusal::Malformed)?;
    if expected.now > exp.saturating_add(EXPIRY_LEEWAY_SECONDS) {
        return Err(IdTokenRefusal::Expired);
    }
    if let Some(nonce) = expected.nonce {
        if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
            return Err(IdTokenRefusal::WrongNonce);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signed_jwt::{test_es256_key, JwtAlgorithm, SigningKey};
    use serde_json::json;

    const RSA_PEM: &str = include_str!("../../testdata/signed/app_private_pkcs8.pem");
    const ISSUER: &str = "https://appleid.apple.com";
    const CLIENT: &str = "com.example.web";
    const NOW: u64 = 1_800_000_000;

    fn rsa() -> SigningKey {
        SigningKey::from_pem(RSA_PEM.as_bytes(), JwtAlgorithm::Rs256).unwrap()
    }

    fn es() -> SigningKey {
        SigningKey::from_pem(test_es256_key().0.as_bytes(), JwtAlgorithm::Es256).unwrap()
    }

    fn jwks(keys: &[(&SigningKey, &str)]) -> ProviderKeys {
        let keys: Vec<Value> = keys.iter().map(|(k, kid)| k.public_jwk(kid)).collect();
        ProviderKeys::from_jwks(json!({ "keys": keys }).to_string().as_bytes()).unwrap()
    }

    fn claims() -> Value {
        json!({"iss": ISSUER, "aud": CLIENT, "sub": "001.abc", "exp": NOW + 600, "iat": NOW, "nonce": "n-1", "email": "a@example.com"})
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: ISSUER,
            audience: CLIENT,
            nonce: Some("n-1"),
            now: NOW,
        }
    }

    fn verify(token: &str, keys: &ProviderKeys) -> Result<Map<String, Value>, IdTokenRefusal> {
        UnverifiedIdToken::parse(token)?.verify(keys, &expected())
    }

    #[test]
    fn rs256_and_es256_tokens_verify_against_their_published_keys() {
        let (rsa, es) = (rsa(), es());
        let keys = jwks(&[(&rsa, "r1"), (&es, "e1")]);
        for (key, kid) in [(&rsa, "r1"), (&es, "e1")] {
            let token = key.sign_jwt(Some(kid), &claims()).unwrap();
            let verified = verify(&token, &keys).unwrap();
            assert_eq!(verified["sub"], "001.abc");
            assert_eq!(verified["email"], "a@example.com");
        }
        assert!(keys.knows(Some("r1")) && keys.knows(None) && !keys.knows(Some("r2")));
    }

    #[test]
    fn a_token_signed_by_another_key_or_naming_an_unknown_kid_is_refused() {
        let (published, stray) = (rsa(), es());
        let keys = jwks(&[(&published, "r1")]);
        let stray_token = es().sign_jwt(Some("e1"), &claims()).unwrap();
        assert_eq!(verify(&stray_token, &keys), Err(IdTokenRefusal::UnknownKey));
        // ES256 under the RSA key's kid: the key type decides, not the header.
        let confused = stray.sign_jwt(Some("r1"), &claims()).unwrap();
        assert_eq!(
            verify(&confused, &keys),
            Err(IdTokenRefusal::KeyTypeMismatch)
        );
        let other_es = jwks(&[(&es(), "e1")]);
        assert_eq!(
            verify(&stray_token, &other_es),
            Err(IdTokenRefusal::BadSignature)
        );
        // A claim changed after signing breaks the signature.
        let token = published.sign_jwt(Some("r1"), &claims()).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let mut forged = claims();
        forged["sub"] = "someone-else".into();
        let payload = crate::signed_jwt::base64url(forged.to_string().as_bytes());
        let forged = format!("{}.{payload}.{}", parts[0], parts[2]);
        assert_eq!(verify(&forged, &keys), Err(IdTokenRefusal::BadSignature));
    }

    fn unsigned(header: Value, claims: &Value, signature: &[u8]) -> String {
        use crate::signed_jwt::base64url;
        format!(
            "{}.{}.{}",
            base64url(header.to_string().as_bytes()),
            base64url(claims.to_string().as_bytes()),
            base64url(signature)
        )
    }

    #[test]
    fn alg_none_hmac_and_crit_are_refused_before_any_key_is_tried() {
        let keys = jwks(&[(&rsa(), "r1")]);
        for alg in ["none", "HS256", "HS384", "HS512", "PS256", "RS512", "ES384"] {
            let token = unsigned(json!({"alg": alg, "kid": "r1"}), &claims(), b"");
            assert_eq!(
                verify(&token, &keys),
                Err(IdTokenRefusal::AlgorithmRefused),
                "{alg}"
            );
        }
        let no_alg = unsigned(json!({"kid": "r1"}), &claims(), b"x");
        assert_eq!(
            verify(&no_alg, &keys),
            Err(IdTokenRefusal::AlgorithmRefused)
        );
        let crit = unsigned(json!({"alg": "RS256", "crit": ["b64"]}), &claims(), b"x");
        assert_eq!(verify(&crit, &keys), Err(IdTokenRefusal::AlgorithmRefused));
        for malformed in ["", "a.b", "a.b.c.d", "!!.??.**"] {
            assert_eq!(
                UnverifiedIdToken::parse(malformed).err(),
                Some(IdTokenRefusal::Malformed),
                "{malformed}"
            );
        }
    }

    #[test]
    fn issuer_audience_expiry_and_nonce_are_checked_after_the_signature() {
        let key = rsa();
        let keys = jwks(&[(&key, "r1")]);
        let with = |change: &dyn Fn(&mut Value)| {
            let mut body = claims();
            change(&mut body);
            verify(&key.sign_jwt(Some("r1"), &body).unwrap(), &keys)
        };
        assert_eq!(
            with(&|c| c["iss"] = "https://evil.example".into()),
            Err(IdTokenRefusal::WrongIssuer)
        );
        assert_eq!(
            with(&|c| c["aud"] = "other-client".into()),
            Err(IdTokenRefusal::WrongAudience)
        );
        assert_eq!(
            with(&|c| c["aud"] = json!(["other", CLIENT])),
            Ok(claims_with_aud(json!(["other", CLIENT])))
        );
        assert_eq!(
            with(&|c| {
                c["aud"] = json!(["other", CLIENT]);
                c["azp"] = "other".into();
            }),
            Err(IdTokenRefusal::WrongAudience)
        );
        assert_eq!(
            with(&|c| c["nonce"] = "n-2".into()),
            Err(IdTokenRefusal::WrongNonce)
        );
        assert_eq!(
            with(&|c| {
                c.as_object_mut().unwrap().remove("nonce");
            }),
            Err(IdTokenRefusal::WrongNonce)
        );
        assert_eq!(
            with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
            Err(IdTokenRefusal::Malformed)
        );
        // A small leeway past exp, not more.
        assert!(with(&|c| c["exp"] = (NOW - EXPIRY_LEEWAY_SECONDS).into()).is_ok());
        assert_eq!(
            with(&|c| c["exp"] = (NOW - EXPIRY_LEEWAY_SECONDS - 1).into()),
            Err(IdTokenRefusal::Expired)
        );
        // No nonce sent, none checked.
        let token = key
            .sign_jwt(
                Some("r1"),
                &json!({"iss": ISSUER, "aud": CLIENT, "exp": NOW}),
            )
            .unwrap();
        let no_nonce = Expected {
            nonce: None,
            ..expected()
        };
        assert!(UnverifiedIdToken::parse(&token)
            .unwrap()
            .verify(&keys, &no_nonce)
            .is_ok());
    }

    fn hs256(secret: &[u8], header: Value, body: &Value) -> String {
        use crate::signed_jwt::base64url;
        let input = format!(
            "{}.{}",
            base64url(header.to_string().as_bytes()),
            base64url(body.to_string().as_bytes())
        );
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
        let tag = ring::hmac::sign(&key, input.as_bytes());
        format!("{input}.{}", base64url(tag.as_ref()))
    }

    fn with_secret(token: &str, secret: &[u8]) -> Result<Map<String, Value>, IdTokenRefusal> {
        UnverifiedIdToken::parse(token)?.verify_with_client_secret(secret, &expected())
    }

    #[test]
    fn hs256_tokens_verify_with_the_client_secret_and_nothing_else() {
        let secret = b"line-channel-secret";
        let header = json!({"alg": "HS256", "typ": "JWT"});
        let token = hs256(secret, header.clone(), &claims());
        assert_eq!(with_secret(&token, secret).unwrap()["sub"], "001.abc");
        // Another secret, an empty one, or a changed claim: the signature fails.
        assert_eq!(
            with_secret(&token, b"another-secret"),
            Err(IdTokenRefusal::BadSignature)
        );
        assert_eq!(
            with_secret(&hs256(b"", header.clone(), &claims()), b""),
            Err(IdTokenRefusal::BadSignature)
        );
        let parts: Vec<&str> = token.split('.').collect();
        let mut forged = claims();
        forged["sub"] = "someone-else".into();
        let payload = crate::signed_jwt::base64url(forged.to_string().as_bytes());
        let forged = format!("{}.{payload}.{}", parts[0], parts[2]);
        assert_eq!(
            with_secret(&forged, secret),
            Err(IdTokenRefusal::BadSignature)
        );
        // The claims are checked as for any provider ID token.
        let mut other = claims();
        other["aud"] = "other-client".into();
        assert_eq!(
            with_secret(&hs256(secret, header.clone(), &other), secret),
            Err(IdTokenRefusal::WrongAudience)
        );
        // This key source takes HS256 only: an RS256 or unsigned token is refused.
        let rs = rsa().sign_jwt(Some("r1"), &claims()).unwrap();
        assert_eq!(
            with_secret(&rs, secret),
            Err(IdTokenRefusal::AlgorithmRefused)
        );
        let none = unsigned(json!({"alg": "none"}), &claims(), b"");
        assert_eq!(
            with_secret(&none, secret),
            Err(IdTokenRefusal::AlgorithmRefused)
        );
        // And a JWKS never verifies an HS256 token, whatever it publishes.
        let keys = jwks(&[(&rsa(), "r1")]);
        assert_eq!(verify(&token, &keys), Err(IdTokenRefusal::AlgorithmRefused));
    }

    fn claims_with_aud(aud: Value) -> Map<String, Value> {
        let mut body = claims();
        body["aud"] = aud;
        body.as_object().unwrap().clone()
    }

    #[test]
    fn a_jwks_keeps_only_signature_keys_it_can_use() {
        let rsa = rsa();
        let mut encryption = rsa.public_jwk("enc");
        encryption["use"] = "enc".into();
        let mut short = rsa.public_jwk("short");
        short["n"] = "AQAB".into();
        let document = json!({"keys": [
            encryption, short,
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA", "kid": "p384"},
            rsa.public_jwk("r1"),
        ]});
        let keys = ProviderKeys::from_jwks(document.to_string().as_bytes()).unwrap();
        assert!(keys.knows(Some("r1")));
        for skipped in ["enc", "short", "hmac", "p384"] {
            assert!(!keys.knows(Some(skipped)), "{skipped}");
        }
        assert_eq!(ProviderKeys::from_jwks(b"nope"), Err(JwksRefusal::NotJson));
        assert_eq!(
            ProviderKeys::from_jwks(b"{\"keys\":{}}"),
            Err(JwksRefusal::NotJson)
        );
        assert_eq!(
            ProviderKeys::from_jwks(b"{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}"),
            Err(JwksRefusal::NoUsableKey)
        );
    }
}
