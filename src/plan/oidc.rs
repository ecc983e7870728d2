//! The OpenID Connect bridge's part of the plan: an `oidc:` block compiled
//! once per load into what its endpoints read (keys, seal, the provider's
//! authorize facts, claim paths, and the discovery and JWKS documents,
//! rendered here). Keys are read from their files at each load, so SIGHUP
//! picks up a rotation.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::core::oidc::authorize::ProviderAuthorize;
use crate::core::oidc::claims::ClaimPaths;
use crate::core::oidc::seal::{parse_seal_key, Sealer};
use crate::core::signed_jwt::{JwtAlgorithm, SigningKey};
use crate::plan::file::{load_preset_with, BrokerFile, DurationText, GatewayFile, OidcPresetFile};
use crate::plan::TokenRoute;
use crate::telemetry::metrics::RouteMetrics;

const DEFAULT_ID_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// `oidc:` in the file: one bridge, an issuer of its own.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct OidcFile {
    /// The issuer brokers are told (`https://gw.example.com/oidc/tiktok`):
    /// its path is where this bridge's endpoints are served.
    pub issuer: String,
    /// The route (its `path`) the token leg runs through.
    pub token_route: String,
    /// The route (its `path`) that reads the provider's user.
    pub userinfo_route: String,
    /// ID-token signing keys: the first signs, all are published.
    pub signing_keys: Vec<SigningKeyFile>,
    /// AES-256 keys sealing what a login carries: the first seals, all open.
    pub seal_keys: Vec<SealKey>,
    /// The brokers' callback URLs users may be sent back to (exact match).
    pub redirect_uris: Vec<String>,
    /// Broker client ids (the provider's client ids) served; any when absent.
    pub client_ids: Option<Vec<String>>,
    pub id_token_lifetime: Option<DurationText>,
    /// Overrides the token route preset's authorize URL (a mock, a region).
    pub authorize_url: Option<String>,
    /// Overrides the preset's scope map.
    pub scope_map: Option<BTreeMap<String, String>>,
    /// Overrides the preset's claim paths, claim by claim.
    pub claims: Option<BTreeMap<String, Vec<String>>>,
}

/// `{ kid: 2026-11, key_file: /etc/quirkgate/oidc.pem, algorithm: ES256 }`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct SigningKeyFile {
    pub kid: String,
    pub key_file: String,
    pub algorithm: String,
}

/// A seal key's text: a secret, never printed.
#[derive(Deserialize, Clone)]
#[serde(transparent)]
pub struct SealKey(pub String);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The endpoints a bridge serves under its issuer's path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BridgeEndpoint {
    Discovery,
    Jwks,
    Authorize,
    Callback,
    Token,
    UserInfo,
}

impl BridgeEndpoint {
    pub const ALL: [BridgeEndpoint; 6] = [
        BridgeEndpoint::Discovery,
        BridgeEndpoint::Jwks,
        BridgeEndpoint::Authorize,
        BridgeEndpoint::Callback,
        BridgeEndpoint::Token,
        BridgeEndpoint::UserInfo,
    ];

    pub fn path_suffix(self) -> &'static str {
        match self {
            BridgeEndpoint::Discovery => "/.well-known/openid-configuration",
            BridgeEndpoint::Jwks => "/jwks",
            BridgeEndpoint::Authorize => "/authorize",
            BridgeEndpoint::Callback => "/callback",
            BridgeEndpoint::Token => "/token",
            BridgeEndpoint::UserInfo => "/userinfo",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One signing key and the `kid` it is published under.
pub struct PublishedKey {
    pub kid: String,
    pub key: SigningKey,
}

/// One compiled bridge.
pub struct OidcBridge {
    pub issuer: String,
    /// The issuer's path, without a trailing `/` (empty at the root).
    pub prefix: String,
    /// Where the provider sends the browser back: `{issuer}/callback`.
    pub callback_url: String,
    /// The first signs.
    pub keys: Vec<PublishedKey>,
    pub sealer: Sealer,
    pub token_route: Arc<TokenRoute>,
    pub userinfo_route: Arc<TokenRoute>,
    pub authorize: ProviderAuthorize,
    pub claims: ClaimPaths,
    /// Token-answer fields the user-info call needs (WeChat's `openid`).
    pub userinfo_params: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub client_ids: Option<Vec<String>>,
    pub id_token_lifetime: Duration,
    pub discovery: bytes::Bytes,
    pub jwks: bytes::Bytes,
    metrics: [RouteMetrics; 6],
}

impl OidcBridge {
    /// The endpoint's request metrics, labelled with its path.
    pub fn metrics(&self, endpoint: BridgeEndpoint) -> &RouteMetrics {
        &self.metrics[endpoint.index()]
    }

    pub fn endpoint_url(&self, endpoint: BridgeEndpoint) -> String {
        format!("{}{}", self.issuer, endpoint.path_suffix())
    }

    pub fn endpoint_path(&self, endpoint: BridgeEndpoint) -> String {
        format!("{}{}", self.prefix, endpoint.path_suffix())
    }
}

/// Bridges keyed by each endpoint's path.
pub type BridgePaths = HashMap<String, (Arc<OidcBridge>, BridgeEndpoint)>;

/// Compiles every `oidc:` block against the compiled routes (`routes` by path).
pub fn compile_bridges(
    file: &GatewayFile,
    routes: &HashMap<String, Arc<TokenRoute>>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<BridgePaths, Vec<String>> {
    let mut errors = Vec::new();
    let mut paths = HashMap::new();
    for (index, block) in file.oidc.iter().enumerate() {
        let label = format!("oidc[{index}] ({})", block.issuer);
        match compile_bridge(file, block, routes, env) {
            Ok(bridge) => {
                let bridge = Arc::new(bridge);
                for endpoint in BridgeEndpoint::ALL {
                    let path = bridge.endpoint_path(endpoint);
                    if routes.contains_key(&path) {
                        errors.push(format!("{label}: {path} is also a route's path"));
                    } else if paths
                        .insert(path.clone(), (bridge.clone(), endpoint))
                        .is_some()
                    {
                        errors.push(format!("{label}: {path} is served by another oidc block"));
                    }
                }
            }
            Err(e) => errors.extend(e.into_iter().map(|e| format!("{label}: {e}"))),
        }
    }
    if errors.is_empty() {
        Ok(paths)
    } else {
        Err(errors)
    }
}

/// `https://host[:port][/path]`, or `http://` on loopback (tests, a local try).
fn issuer_prefix(issuer: &str) -> Result<String, String> {
    let parsed = http::Uri::try_from(issuer).map_err(|e| format!("issuer: {e}"))?;
    let host = parsed.host().unwrap_or("");
    let loopback = host == "localhost" || host == "127.0.0.1" || host == "[::1]";
    match parsed.scheme_str() {
        Some("https") => {}
        Some("http") if loopback => {}
        _ => return Err("issuer: must be an https:// URL (http:// only on loopback)".to_owned()),
    }
    if host.is_empty() || parsed.query().is_some() || issuer.contains('#') {
        return Err("issuer: a URL with a host, and no query or fragment".to_owned());
    }
    if issuer.ends_with('/') {
        return Err("issuer: no trailing '/' (brokers compare it exactly)".to_owned());
    }
    Ok(parsed.path().trim_end_matches('/').to_owned())
}

fn compile_bridge(
    file: &GatewayFile,
    block: &OidcFile,
    routes: &HashMap<String, Arc<TokenRoute>>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<OidcBridge, Vec<String>> {
    let mut errors = Vec::new();
    let prefix = issuer_prefix(&block.issuer)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let route = |path: &str, key: &str, errors: &mut Vec<String>| {
        let found = routes.get(path).cloned();
        if found.is_none() {
            errors.push(format!("{key}: no route has path '{path}'"));
        }
        found
    };
    let token_route = route(&block.token_route, "token_route", &mut errors);
    let userinfo_route = route(&block.userinfo_route, "userinfo_route", &mut errors);
    // The provider facts come with the token route's preset.
    let route_file = file
        .routes
        .iter()
        .find(|r| r.path == block.token_route || r.aliases.contains(&block.token_route));
    let preset = route_file
        .and_then(|r| r.preset.as_deref())
        .map(|name| load_preset_with(name, env))
        .transpose()
        .map_err(|e| errors.push(format!("token_route preset: {e}")))
        .ok()
        .flatten();
    let broker: BrokerFile = route_file
        .and_then(|r| r.broker.clone())
        .or_else(|| preset.as_ref().and_then(|p| p.broker.clone()))
        .unwrap_or_default();
    let facts: OidcPresetFile = preset
        .as_ref()
        .and_then(|p| p.oidc.clone())
        .unwrap_or_default();

    let authorize_url = block
        .authorize_url
        .clone()
        .or_else(|| broker.authorization_url.clone());
    let Some(authorize_url) = authorize_url else {
        errors.push(
            "authorize_url: missing (the token route's preset names no authorize URL)".to_owned(),
        );
        return Err(errors);
    };
    if !(authorize_url.starts_with("https://") || authorize_url.starts_with("http://")) {
        errors.push("authorize_url: must be an http(s) URL".to_owned());
    }
    let client_id_param = broker
        .authorize_params
        .iter()
        .find(|(_, standard)| standard.as_str() == "client_id")
        .map_or("client_id", |(provider, _)| provider.as_str())
        .to_owned();
    let authorize = ProviderAuthorize {
        url: authorize_url,
        client_id_param,
        scope_map: block.scope_map.clone().unwrap_or(facts.scope_map.clone()),
        scope_separator: facts.scope_separator.clone().unwrap_or_else(|| " ".into()),
        default_scope: broker.scope.clone().unwrap_or_default(),
        fragment: facts.fragment.clone(),
    };

    let mut claim_paths = facts.claims.clone();
    for (claim, paths) in block.claims.clone().unwrap_or_default() {
        claim_paths.insert(claim, paths);
    }
    let subject = claim_paths.remove("sub").unwrap_or_default();
    if subject.is_empty() {
        errors.push("claims: 'sub' needs at least one path into the provider's user".to_owned());
    }
    for reserved in [
        "iss",
        "aud",
        "exp",
        "iat",
        "nonce",
        "auth_time",
        "at_hash",
        "azp",
    ] {
        if claim_paths.contains_key(reserved) {
            errors.push(format!(
                "claims: '{reserved}' is set by the bridge, not the provider"
            ));
        }
    }
    let claims = ClaimPaths {
        subject,
        others: claim_paths.into_iter().collect(),
    };

    let mut keys = Vec::new();
    if block.signing_keys.is_empty() {
        errors.push("signing_keys: list at least one".to_owned());
    }
    for (i, key) in block.signing_keys.iter().enumerate() {
        let where_ = format!("signing_keys[{i}] ({})", key.kid);
        if key.kid.is_empty() || keys.iter().any(|k: &PublishedKey| k.kid == key.kid) {
            errors.push(format!("{where_}: each key needs a kid of its own"));
            continue;
        }
        let loaded = JwtAlgorithm::parse(&key.algorithm).and_then(|algorithm| {
            let pem = std::fs::read(&key.key_file).map_err(|e| format!("{}: {e}", key.key_file))?;
            SigningKey::from_pem(&pem, algorithm)
        });
        match loaded {
            Ok(signing) => keys.push(PublishedKey {
                kid: key.kid.clone(),
                key: signing,
            }),
            Err(e) => errors.push(format!("{where_}: {e}")),
        }
    }
    let seal_keys: Vec<[u8; 32]> = block
        .seal_keys
        .iter()
        .enumerate()
        .filter_map(|(i, key)| {
            parse_seal_key(&key.0)
                .map_err(|e| errors.push(format!("seal_keys[{i}]: {e}")))
                .ok()
        })
        .collect();
    let sealer = Sealer::new(&seal_keys, &block.issuer)
        .map_err(|e| errors.push(format!("seal_keys: {e}")))
        .ok();
    if block.redirect_uris.is_empty() {
        errors.push("redirect_uris: list the brokers' callback URLs".to_owned());
    }
    for uri in &block.redirect_uris {
        if !(uri.starts_with("https://") || uri.starts_with("http://")) || uri.contains('#') {
            errors.push(format!(
                "redirect_uris: '{uri}' is not an http(s) URL without a fragment"
            ));
        }
    }
    if block.client_ids.as_ref().is_some_and(|ids| ids.is_empty()) {
        errors.push("client_ids: list at least one (omit the key to serve any)".to_owned());
    }
    let id_token_lifetime = block
        .id_token_lifetime
        .map_or(DEFAULT_ID_TOKEN_LIFETIME, |d| d.0);
    if id_token_lifetime < Duration::from_secs(60) {
        errors.push("id_token_lifetime: at least 1m".to_owned());
    }
    let (Some(token_route), Some(userinfo_route), Some(sealer), true) =
        (token_route, userinfo_route, sealer, errors.is_empty())
    else {
        return Err(errors);
    };

    let mut bridge = OidcBridge {
        issuer: block.issuer.clone(),
        callback_url: format!("{}{}", block.issuer, BridgeEndpoint::Callback.path_suffix()),
        metrics: BridgeEndpoint::ALL
            .map(|endpoint| RouteMetrics::new(&format!("{prefix}{}", endpoint.path_suffix()))),
        prefix,
        keys,
        sealer,
        token_route,
        userinfo_route,
        authorize,
        claims,
        userinfo_params: facts.userinfo_params.clone(),
        redirect_uris: block.redirect_uris.clone(),
        client_ids: block.client_ids.clone(),
        id_token_lifetime,
        discovery: bytes::Bytes::new(),
        jwks: bytes::Bytes::new(),
    };
    bridge.discovery = discovery_document(&bridge).into();
    bridge.jwks = jwks_document(&bridge).into();
    Ok(bridge)
}

/// OpenID Connect Discovery 1.0 §3.
fn discovery_document(bridge: &OidcBridge) -> Vec<u8> {
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
    let document = serde_json::json!({
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
    serde_json::to_vec(&document).expect("a JSON value serializes")
}

/// RFC 7517 §5: every key's public half.
fn jwks_document(bridge: &OidcBridge) -> Vec<u8> {
    let keys: Vec<_> = bridge
        .keys
        .iter()
        .map(|k| k.key.public_jwk(&k.kid))
        .collect();
    serde_json::to_vec(&serde_json::json!({ "keys": keys })).expect("a JSON value serializes")
}
