//! The documents a bridge serves as they are, rendered once per load: its
//! discovery document and its JWKS.

use super::{BridgeEndpoint, OidcBridge};

/// OpenID Connect Discovery 1.0 §3.
pub(super) fn discovery_document(bridge: &OidcBridge) -> Vec<u8> {
    let mut algorithms: Vec<&str> = bridge
        .keys
        .iter()
        .map(|k| k.key.algorithm().as_str())
        .collect();
    algorithms.sort_unstable();
    algorithms.dedup();
    let mut scopes = vec!["openid".to_owned()];
    scopes.extend(
        bridge
            .authorize
            .scope_map
            .keys()
            .filter(|s| *s != "openid")
            .cloned(),
    );
    let mut claims = vec![
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "at_hash",
    ];
    claims.extend(bridge.claims.others.iter().map(|(name, _)| name.as_str()));
    let mut document = serde_json::json!({
        "issuer": bridge.issuer,
        "authorization_endpoint": bridge.endpoint_url(BridgeEndpoint::Authorize),
        "token_endpoint": bridge.endpoint_url(BridgeEndpoint::Token),
        "userinfo_endpoint": bridge.endpoint_url(BridgeEndpoint::UserInfo),
        "jwks_uri": bridge.endpoint_url(BridgeEndpoint::Jwks),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algorithms,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": scopes,
        "claims_supported": claims,
        "authorization_response_iss_parameter_supported": true,
    });
    // Without a user-info route the claims are in the ID token only (Apple).
    if bridge.user_steps.is_empty() {
        document
            .as_object_mut()
            .expect("an object")
            .remove("userinfo_endpoint");
    }
    serde_json::to_vec(&document).expect("a JSON value serializes")
}

/// RFC 7517 §5: every key's public half.
pub(super) fn jwks_document(bridge: &OidcBridge) -> Vec<u8> {
    let keys: Vec<_> = bridge
        .keys
        .iter()
        .map(|k| k.key.public_jwk(&k.kid))
        .collect();
    serde_json::to_vec(&serde_json::json!({ "keys": keys })).expect("a JSON value serializes")
}
