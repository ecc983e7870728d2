//! Client credentials that are signed JWTs rather than fixed secrets: Sign in
//! with Apple's `client_secret` (ES256, at most six months) and RFC 7523
//! `private_key_jwt` client assertions (RS256 or ES256). A token is minted
//! when the plan is built (so a bad key is a load error), served from a cache,
//! and minted again well before it expires, without a restart; one that has
//! expired is never served.

use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, EcdsaKeyPair, RsaKeyPair};

use crate::oauth_error::{FailureKind, OAuthError};

/// The JWS algorithms offered (RFC 7518 §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwtAlgorithm {
    Es256,
    Rs256,
}

impl JwtAlgorithm {
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "ES256" => Ok(JwtAlgorithm::Es256),
            "RS256" => Ok(JwtAlgorithm::Rs256),
            other => Err(format!(
                "algorithm '{other}' is not supported (ES256 or RS256)"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JwtAlgorithm::Es256 => "ES256",
            JwtAlgorithm::Rs256 => "RS256",
        }
    }
}

/// A private key ready to sign.
pub enum SigningKey {
    Es256(EcdsaKeyPair),
    Rs256(RsaKeyPair),
}

impl SigningKey {
    /// Reads a PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`, as Apple's `.p8`)
    /// for either algorithm, or PKCS#1 (`BEGIN RSA PRIVATE KEY`) for RS256.
    pub fn from_pem(pem: &[u8], algorithm: JwtAlgorithm) -> Result<Self, String> {
        use rustls_pemfile::Item;
        let item = rustls_pemfile::read_one(&mut &pem[..])
            .map_err(|_| "the key file is not PEM".to_owned())?
            .ok_or_else(|| "the key file holds no PEM private key".to_owned())?;
        let rng = SystemRandom::new();
        match (algorithm, item) {
            (JwtAlgorithm::Es256, Item::Pkcs8Key(der)) => EcdsaKeyPair::from_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                der.secret_pkcs8_der(),
                &rng,
            )
            .map(SigningKey::Es256)
            .map_err(|why| format!("not a P-256 PKCS#8 key with its public key ({why})")),
            (JwtAlgorithm::Rs256, Item::Pkcs8Key(der)) => {
                RsaKeyPair::from_pkcs8(der.secret_pkcs8_der())
                    .map(SigningKey::Rs256)
                    .map_err(|why| format!("not an RSA PKCS#8 key ({why})"))
            }
            (JwtAlgorithm::Rs256, Item::Pkcs1Key(der)) => {
                RsaKeyPair::from_der(der.secret_pkcs1_der())
                    .map(SigningKey::Rs256)
                    .map_err(|why| format!("not an RSA key ({why})"))
            }
            (algorithm, _) => Err(format!(
                "the key file does not hold a private key for {}",
                algorithm.as_str()
            )),
        }
    }

    pub fn algorithm(&self) -> JwtAlgorithm {
        match self {
            SigningKey::Es256(_) => JwtAlgorithm::Es256,
            SigningKey::Rs256(_) => JwtAlgorithm::Rs256,
        }
    }

    /// The public half as a JSON Web Key (RFC 7517 §4, RFC 7518 §6), for a JWKS.
    pub fn public_jwk(&self, key_id: &str) -> serde_json::Value {
        use ring::signature::KeyPair;
        match self {
            SigningKey::Es256(key) => {
                // An uncompressed P-256 point: 0x04, then x and y, 32 bytes each.
                let point = key.public_key().as_ref();
                serde_json::json!({
                    "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": key_id,
                    "x": base64url(&point[1..33]), "y": base64url(&point[33..65]),
                })
            }
            SigningKey::Rs256(key) => {
                let public = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(key.public());
                serde_json::json!({
                    "kty": "RSA", "use": "sig", "alg": "RS256", "kid": key_id,
                    "n": base64url(&public.n), "e": base64url(&public.e),
                })
            }
        }
    }

    /// A compact JWS (RFC 7515 §7.1) over `claims`, with `kid` when given.
    pub fn sign_jwt(
        &self,
        key_id: Option<&str>,
        claims: &serde_json::Value,
    ) -> Result<String, ring::error::Unspecified> {
        let mut header = serde_json::json!({"alg": self.algorithm().as_str(), "typ": "JWT"});
        if let Some(kid) = key_id {
            header["kid"] = kid.into();
        }
        let signing_input = format!(
            "{}.{}",
            base64url(header.to_string().as_bytes()),
            base64url(claims.to_string().as_bytes())
        );
        let signature = self.sign(signing_input.as_bytes())?;
        Ok(format!("{signing_input}.{}", base64url(&signature)))
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, ring::error::Unspecified> {
        let rng = SystemRandom::new();
        match self {
            SigningKey::Es256(key) => Ok(key.sign(&rng, message)?.as_ref().to_vec()),
            SigningKey::Rs256(key) => {
                let mut signature = vec![0; key.public().modulus_len()];
                key.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut signature)?;
                Ok(signature)
            }
        }
    }
}

/// What every token a [`JwtMinter`] mints says.
#[derive(Clone, Debug)]
pub struct JwtClaims {
    /// `kid` in the header (Apple's Key ID), when the provider wants one.
    pub key_id: Option<String>,
    pub issuer: String,
    pub subject: String,
    pub audience: String,
    /// From `iat` to `exp`.
    pub lifetime: Duration,
    /// A fresh `jti` in each token (RFC 7523 assertions).
    pub with_jti: bool,
}

/// A minted token and when to mint the next.
struct Minted {
    token: Arc<str>,
    renew_at: SystemTime,
    expires_at: SystemTime,
}

/// Mints, caches and renews one signed JWT.
pub struct JwtMinter {
    key: SigningKey,
    algorithm: JwtAlgorithm,
    claims: JwtClaims,
    /// Names the route in renewal log lines.
    label: String,
    current: RwLock<Minted>,
}

/// Keys and tokens never print.
impl std::fmt::Debug for JwtMinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "JwtMinter {{ {} for {:?}, key: <redacted> }}",
            self.algorithm.as_str(),
            self.label
        )
    }
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

pub fn base64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl JwtMinter {
    /// Reads the key and mints the first token now: a key that cannot sign
    /// is an error at load, not at the first login.
    pub fn new(
        key_pem: &[u8],
        algorithm: JwtAlgorithm,
        claims: JwtClaims,
        label: &str,
        now: SystemTime,
    ) -> Result<Self, String> {
        if claims.lifetime < Duration::from_secs(60) {
            return Err("lifetime must be at least 1m".into());
        }
        let key = SigningKey::from_pem(key_pem, algorithm)?;
        let first = mint(&key, algorithm, &claims, now)
            .map_err(|_| "the key could not sign a token".to_owned())?;
        Ok(JwtMinter {
            key,
            algorithm,
            claims,
            label: label.to_owned(),
            current: RwLock::new(first),
        })
    }

    /// The token to send at `now`: the cached one until half its lifetime has
    /// passed, then a new one. An expired token is never served.
    pub fn token(&self, now: SystemTime) -> Result<Arc<str>, OAuthError> {
        {
            let current = self.current.read().unwrap_or_else(|e| e.into_inner());
            if now < current.renew_at {
                return Ok(current.token.clone());
            }
        }
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        if now < current.renew_at {
            return Ok(current.token.clone());
        }
        match mint(&self.key, self.algorithm, &self.claims, now) {
            Ok(next) => {
                log::info!(
                    "route {}: signed client credential renewed, valid until {} (unix time)",
                    self.label,
                    unix_seconds(next.expires_at)
                );
                *current = next;
                Ok(current.token.clone())
            }
            Err(_) if now < current.expires_at => {
                log::warn!(
                    "route {}: renewing the signed client credential failed; the current one stays valid until {} (unix time)",
                    self.label,
                    unix_seconds(current.expires_at)
                );
                Ok(current.token.clone())
            }
            Err(_) => Err(OAuthError::bad_gateway(
                "the gateway could not sign its client credential",
                FailureKind::Protocol,
            )),
        }
    }
}

fn mint(
    key: &SigningKey,
    algorithm: JwtAlgorithm,
    claims: &JwtClaims,
    now: SystemTime,
) -> Result<Minted, ring::error::Unspecified> {
    let iat = unix_seconds(now);
    let exp = iat + claims.lifetime.as_secs();
    let mut body = serde_json::json!({
        "iss": claims.issuer,
        "sub": claims.subject,
        "aud": claims.audience,
        "iat": iat,
        "exp": exp,
    });
    if claims.with_jti {
        let mut nonce = [0u8; 16];
        SystemRandom::new().fill(&mut nonce)?;
        body["jti"] = base64url(&nonce).into();
    }
    debug_assert_eq!(key.algorithm(), algorithm);
    let token = key.sign_jwt(claims.key_id.as_deref(), &body)?;
    Ok(Minted {
        token: token.into(),
        renew_at: now + claims.lifetime / 2,
        expires_at: now + claims.lifetime,
    })
}

/// A fresh P-256 key as PKCS#8 PEM, and its public point: for tests that
/// sign (here, and in crates that enable the `test-util` feature).
#[cfg(any(test, feature = "test-util"))]
pub fn test_es256_key() -> (String, Vec<u8>) {
    use ring::signature::KeyPair;
    let rng = SystemRandom::new();
    let algorithm = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(algorithm, &rng).unwrap();
    let key = EcdsaKeyPair::from_pkcs8(algorithm, pkcs8.as_ref(), &rng).unwrap();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref())
    );
    (pem, key.public_key().as_ref().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn es256_key() -> (String, Vec<u8>) {
        test_es256_key()
    }

    fn apple_claims() -> JwtClaims {
        JwtClaims {
            key_id: Some("KEY123".into()),
            issuer: "TEAM123456".into(),
            subject: "com.example.web".into(),
            audience: "https://appleid.apple.com".into(),
            lifetime: Duration::from_secs(30 * 86400),
            with_jti: false,
        }
    }

    fn decode_part(part: &str) -> serde_json::Value {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn apple_client_secret_is_a_verifiable_es256_jwt_with_apples_claims() {
        let (pem, public) = es256_key();
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let minter = JwtMinter::new(
            pem.as_bytes(),
            JwtAlgorithm::Es256,
            apple_claims(),
            "/apple",
            now,
        )
        .unwrap();
        let token = minter.token(now).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(
            decode_part(parts[0]),
            serde_json::json!({"alg": "ES256", "kid": "KEY123", "typ": "JWT"})
        );
        assert_eq!(
            decode_part(parts[1]),
            serde_json::json!({"iss": "TEAM123456", "sub": "com.example.web", "aud": "https://appleid.apple.com", "iat": 1_800_000_000u64, "exp": 1_800_000_000u64 + 30 * 86400})
        );
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[2])
            .unwrap();
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &public)
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .expect("the signature verifies with the key's public half");
        assert!(!format!("{minter:?}").contains(&pem[30..60]));
    }

    #[test]
    fn the_token_is_cached_then_renewed_at_half_its_lifetime() {
        let (pem, _) = es256_key();
        let start = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let minter = JwtMinter::new(
            pem.as_bytes(),
            JwtAlgorithm::Es256,
            apple_claims(),
            "/apple",
            start,
        )
        .unwrap();
        let first = minter.token(start).unwrap();
        let day = Duration::from_secs(86400);
        assert!(Arc::ptr_eq(
            &first,
            &minter.token(start + 14 * day).unwrap()
        ));
        let renewed = minter.token(start + 15 * day).unwrap();
        assert_ne!(first, renewed);
        let claims = decode_part(renewed.split('.').nth(1).unwrap());
        assert_eq!(claims["iat"], 1_800_000_000u64 + 15 * 86400);
        assert!(Arc::ptr_eq(
            &renewed,
            &minter.token(start + 16 * day).unwrap()
        ));
    }

    #[test]
    fn assertions_carry_a_fresh_jti() {
        let (pem, _) = es256_key();
        let claims = JwtClaims {
            with_jti: true,
            lifetime: Duration::from_secs(120),
            ..apple_claims()
        };
        let now = SystemTime::now();
        let minter =
            JwtMinter::new(pem.as_bytes(), JwtAlgorithm::Es256, claims, "/t", now).unwrap();
        let first = decode_part(minter.token(now).unwrap().split('.').nth(1).unwrap());
        let later = now + Duration::from_secs(61);
        let second = decode_part(minter.token(later).unwrap().split('.').nth(1).unwrap());
        assert_eq!(first["jti"].as_str().unwrap().len(), 22);
        assert_ne!(first["jti"], second["jti"]);
    }

    #[test]
    fn keys_that_cannot_sign_are_refused_with_the_reason() {
        let (pem, _) = es256_key();
        let now = SystemTime::now();
        let err = |pem: &[u8], algorithm| {
            JwtMinter::new(pem, algorithm, apple_claims(), "/t", now).unwrap_err()
        };
        assert!(err(b"not pem", JwtAlgorithm::Es256).contains("no PEM private key"));
        assert!(err(pem.as_bytes(), JwtAlgorithm::Rs256).contains("not an RSA"));
        let broken = pem.replace("MIG", "MIH");
        assert!(!err(broken.as_bytes(), JwtAlgorithm::Es256).is_empty());
        let short = JwtClaims {
            lifetime: Duration::from_secs(5),
            ..apple_claims()
        };
        assert!(
            JwtMinter::new(pem.as_bytes(), JwtAlgorithm::Es256, short, "/t", now)
                .unwrap_err()
                .contains("lifetime")
        );
        assert_eq!(
            JwtAlgorithm::parse("HS256").unwrap_err(),
            "algorithm 'HS256' is not supported (ES256 or RS256)"
        );
    }
}
