//! The long tail of presets end to end: JSON bodies, JSONP, value
//! transforms, user-info routes, plain presets, values a preset needs and
//! signed client secrets, through the real gateway to the matching mocks.

mod apple;
mod json_bodies;
mod jsonp_and_value_transforms;
mod long_tail_a_users;
mod missing_values;
mod one_file;
mod plain;
mod qq_user;
mod refused_tokens;
mod userinfo;

use crate::support::*;
use oauth2::basic::BasicTokenType;
use oauth2::{AuthType, AuthorizationCode, PkceCodeVerifier, TokenResponse};

fn scopes(token: &oauth2::basic::BasicTokenResponse) -> Option<Vec<String>> {
    token
        .scopes()
        .map(|s| s.iter().map(|s| (**s).clone()).collect())
}

fn both_auth_types() -> [AuthType; 2] {
    [AuthType::RequestBody, AuthType::BasicAuth]
}

/// A fresh P-256 key as Apple hands it out (a PKCS#8 `.p8` PEM file), and
/// its public half to verify signatures with.
pub(crate) struct AppleKey {
    pub path: std::path::PathBuf,
    pub public: Vec<u8>,
    _dir: tempfile::TempDir,
}

pub(crate) fn apple_key() -> AppleKey {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("AuthKey_KEY1234567.p8");
    std::fs::write(&path, key.serialize_pem()).unwrap();
    AppleKey {
        path,
        public: key.public_key_raw().to_vec(),
        _dir: dir,
    }
}

pub(crate) const APPLE_CLIENT_ID: &str = "com.example.signin";

pub(crate) fn apple_env(key: &AppleKey) -> Vec<(&'static str, String)> {
    vec![
        ("APPLE_KEY_FILE", key.path.to_str().unwrap().to_owned()),
        ("APPLE_KEY_ID", "KEY1234567".to_owned()),
        ("APPLE_TEAM_ID", "TEAM123456".to_owned()),
        ("APPLE_CLIENT_ID", APPLE_CLIENT_ID.to_owned()),
    ]
}

/// Checks a client secret the way Apple does, signature included.
pub(crate) fn verify_apple_secret(
    secret: &str,
    key: &AppleKey,
) -> serde_json::Map<String, serde_json::Value> {
    use base64::Engine;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims =
        quirkgate_mocks::long_tail::check_apple_client_secret(secret, APPLE_CLIENT_ID, now)
            .unwrap_or_else(|why| panic!("Apple would refuse the secret: {why}"));
    let (signed, signature) = secret.rsplit_once('.').unwrap();
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .unwrap();
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &key.public)
        .verify(signed.as_bytes(), &signature)
        .expect("signed with the operator's key");
    claims
}
