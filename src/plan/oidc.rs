//! The OpenID Connect bridge's part of the plan: an `oidc:` block compiled
//! once per load into what its endpoints read (keys, seal, the provider's
//! authorize facts, claim paths, and the discovery and JWKS documents,
//! rendered here). Keys are read from their files at each load, so SIGHUP
//! picks up a rotation.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::plan::file::{load_preset_with, BrokerFile, GatewayFile, OidcFile, OidcPresetFile};
use crate::plan::TokenRoute;
use crate::telemetry::metrics::RouteMetrics;
use quirkgate_core::oidc::authorize::ProviderAuthorize;
use quirkgate_core::oidc::claims::ClaimPaths;
use quirkgate_core::oidc::redeemed::RedeemedCodes;
use quirkgate_core::oidc::seal::{parse_seal_key, Sealer};
use quirkgate_core::oidc::state::{StateAlphabet, StateShape};
use quirkgate_core::signed_jwt::{JwtAlgorithm, SigningKey};

mod documents;
mod shape;

use documents::{discovery_document, jwks_document};

const DEFAULT_ID_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// Largest form a bridge endpoint reads: token and authorize forms are small.
const MAX_BODY_BYTES: usize = 16 * 1024;
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

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

/// What `/authorize` does with a login whose sealed state is longer than
/// the provider takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LongLogins {
    /// No store: the broker hears the cap, and the login is never truncated.
    Refuse,
    // The `store:` block (issue 25) adds `Keep(..)` here: the sealed login is
    // kept with the seal's lifetime, the provider gets a short handle, and
    // `/callback` takes it once (GETDEL).
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
    /// The provider's `state`: its alphabet and cap.
    pub state_alphabet: StateAlphabet,
    pub state_max_bytes: Option<usize>,
    pub long_logins: LongLogins,
    pub id_token_lifetime: Duration,
    pub discovery: bytes::Bytes,
    pub jwks: bytes::Bytes,
    /// Codes redeemed here, refused if replayed (kept across reloads).
    pub redeemed: Arc<RedeemedCodes>,
    /// The body limits of every endpoint that reads a form.
    pub max_body_bytes: usize,
    pub body_timeout: Duration,
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

    /// How this bridge packs the provider's `state`.
    pub fn state_shape(&self) -> StateShape<'_> {
        StateShape {
            redirect_uris: &self.redirect_uris,
            client_ids: self.client_ids.as_deref(),
            alphabet: self.state_alphabet,
            max_bytes: self.state_max_bytes,
        }
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
    let facts: OidcPresetFile = route_file
        .and_then(|r| r.oidc.clone())
        .or_else(|| preset.as_ref().and_then(|p| p.oidc.clone()))
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
    let subject_prefix = shape::subject_prefix(block.subject_prefix.as_deref())
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    if claim_paths.keys().any(|name| name.is_empty()) {
        errors.push("claims: a claim needs a name".to_owned());
    }
    let claims = ClaimPaths {
        subject,
        subject_prefix,
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
    let seal_keys: Result<Vec<[u8; 32]>, String> = block
        .seal_keys
        .iter()
        .enumerate()
        .map(|(i, key)| parse_seal_key(&key.0).map_err(|e| format!("seal_keys[{i}]: {e}")))
        .collect();
    let sealer = seal_keys
        .and_then(|keys| Sealer::new(&keys, &block.issuer).map_err(|e| format!("seal_keys: {e}")))
        .map_err(|e| errors.push(e))
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
    let (state_alphabet, state_max_bytes) = shape::provider_state(
        block.state_max_bytes.or(facts.state_max_bytes),
        block
            .state_alphabet
            .as_deref()
            .or(facts.state_alphabet.as_deref()),
    )
    .map_err(|e| errors.extend(e))
    .unwrap_or_default();
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
        state_alphabet,
        state_max_bytes,
        long_logins: LongLogins::Refuse,
        id_token_lifetime,
        discovery: bytes::Bytes::new(),
        jwks: bytes::Bytes::new(),
        redeemed: redeemed_codes(&block.issuer),
        max_body_bytes: MAX_BODY_BYTES,
        body_timeout: BODY_TIMEOUT,
    };
    bridge.discovery = discovery_document(&bridge).into();
    bridge.jwks = jwks_document(&bridge).into();
    Ok(bridge)
}

/// One set per issuer for the life of the process, so a reload does not
/// forget which codes were redeemed.
fn redeemed_codes(issuer: &str) -> Arc<RedeemedCodes> {
    static BY_ISSUER: std::sync::LazyLock<std::sync::Mutex<HashMap<String, Arc<RedeemedCodes>>>> =
        std::sync::LazyLock::new(Default::default);
    BY_ISSUER
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(issuer.to_owned())
        .or_default()
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::file::parse_text;
    use crate::plan::{compile_with_env, Resolution};

    const SEAL: &str = "0707070707070707070707070707070707070707070707070707070707070707";

    fn es256_pem(dir: &std::path::Path) -> String {
        let path = dir.join("k.pem");
        std::fs::write(&path, quirkgate_core::signed_jwt::test_es256_key().0).unwrap();
        path.display().to_string()
    }

    /// A file with a TikTok token route, its user-info route and `oidc` (indented as a list item).
    fn compile_oidc(
        oidc: &str,
    ) -> Result<crate::plan::GatewayPlan, Vec<crate::plan::error::ConfigError>> {
        let text = format!(
            "routes:\n  - path: /token/tiktok\n    preset: tiktok\n  - path: /userinfo/tiktok\n    preset: tiktok-userinfo\noidc:\n{oidc}"
        );
        let file = parse_text(&text, &|_| None).unwrap_or_else(|e| panic!("{e}"));
        compile_with_env(&file, Resolution::Skip, &|_| None)
    }

    fn block(key_file: &str, issuer: &str, extra: &str) -> String {
        format!(
            "  - issuer: \"{issuer}\"\n    token_route: /token/tiktok\n    userinfo_route: /userinfo/tiktok\n    signing_keys: [{{ kid: k1, key_file: \"{key_file}\", algorithm: ES256 }}]\n    seal_keys: [\"{SEAL}\"]\n    redirect_uris: [\"https://broker.example/cb\"]\n{extra}"
        )
    }

    fn errors_of(oidc: &str) -> String {
        compile_oidc(oidc)
            .err()
            .expect("refused")
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_bridge_serves_its_endpoints_under_the_issuer_path_with_the_presets_facts() {
        let dir = tempfile::tempdir().unwrap();
        let key = es256_pem(dir.path());
        let plan = compile_oidc(&block(&key, "https://gw.example/oidc/tiktok", "")).unwrap();
        let (bridge, endpoint) = plan.bridge("/oidc/tiktok/token").unwrap();
        assert_eq!(*endpoint, BridgeEndpoint::Token);
        assert_eq!(plan.bridges.len(), 6);
        assert!(plan.bridge("/oidc/tiktok").is_none() && plan.bridge("/token").is_none());
        assert_eq!(
            bridge.callback_url,
            "https://gw.example/oidc/tiktok/callback"
        );
        assert_eq!(
            bridge.authorize.url,
            "https://www.tiktok.com/v2/auth/authorize/"
        );
        assert_eq!(bridge.authorize.client_id_param, "client_key");
        assert_eq!(bridge.authorize.scope_separator, ",");
        assert_eq!(bridge.claims.subject, ["union_id", "open_id"]);
        let discovery: serde_json::Value = serde_json::from_slice(&bridge.discovery).unwrap();
        assert_eq!(discovery["issuer"], "https://gw.example/oidc/tiktok");
        assert_eq!(discovery["jwks_uri"], "https://gw.example/oidc/tiktok/jwks");
        assert_eq!(
            discovery["id_token_signing_alg_values_supported"],
            serde_json::json!(["ES256"])
        );
        assert_eq!(
            discovery["scopes_supported"],
            serde_json::json!(["openid", "profile"])
        );
        let jwks: serde_json::Value = serde_json::from_slice(&bridge.jwks).unwrap();
        assert_eq!(jwks["keys"][0]["kid"], "k1");
        assert_eq!(jwks["keys"][0]["crv"], "P-256");
        assert!(jwks["keys"][0].get("d").is_none(), "never the private part");
        // At the root, the endpoints are at the root.
        let root = compile_oidc(&block(&key, "https://gw.example", "")).unwrap();
        assert!(root.bridge("/authorize").is_some());
    }

    #[test]
    fn issuers_must_be_https_urls_without_trailing_slash_query_or_fragment() {
        let dir = tempfile::tempdir().unwrap();
        let key = es256_pem(dir.path());
        for issuer in [
            "http://gw.example/oidc",
            "https://gw.example/oidc/",
            "https://gw.example/oidc?x=1",
            "https://gw.example/oidc#f",
            "ftp://gw.example",
            "not a url",
        ] {
            assert!(
                errors_of(&block(&key, issuer, "")).contains("issuer"),
                "{issuer}"
            );
        }
        assert!(compile_oidc(&block(&key, "http://127.0.0.1:8080/oidc", "")).is_ok());
    }

    #[test]
    fn each_mistake_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let key = es256_pem(dir.path());
        let issuer = "https://gw.example/oidc/tiktok";
        let cases = [
            (
                block(&key, issuer, "").replace("token_route: /token/tiktok", "token_route: /nope"),
                "token_route: no route has path '/nope'",
            ),
            (
                block("/no/such/key.pem", issuer, ""),
                "signing_keys[0] (k1): /no/such/key.pem",
            ),
            (
                block(&key, issuer, "").replace("ES256 }", "HS256 }"),
                "HS256",
            ),
            (
                block(&key, issuer, "").replace(SEAL, "c2hvcnQ="),
                "seal_keys[0]",
            ),
            (
                block(&key, issuer, "").replace("[\"https://broker.example/cb\"]", "[]"),
                "redirect_uris",
            ),
            (block(&key, issuer, "    claims: { sub: [] }\n"), "'sub'"),
            (
                block(&key, issuer, "    claims: { nonce: [x] }\n"),
                "'nonce' is set by the bridge",
            ),
            (block(&key, issuer, "    client_ids: []\n"), "client_ids"),
            (
                block(&key, issuer, "    state_max_bytes: 32\n"),
                "state_max_bytes",
            ),
            (
                block(&key, issuer, "    subject_prefix: \" \"\n"),
                "subject_prefix",
            ),
            (
                block(&key, issuer, "    id_token_lifetime: 30s\n"),
                "id_token_lifetime",
            ),
        ];
        for (oidc, expected) in cases {
            let errors = errors_of(&oidc);
            assert!(
                errors.contains(expected) && errors.contains("oidc[0]"),
                "{expected}: {errors}"
            );
        }
        let two = format!("{}{}", block(&key, issuer, ""), block(&key, issuer, ""));
        assert!(errors_of(&two).contains("served by another oidc block"));
        // The issuer's own /token endpoint lands on the route `/token`.
        let clash = block(&key, "https://gw.example/token", "")
            .replace("https://gw.example/token", "https://gw.example");
        let text = format!(
            "routes:\n  - path: /token\n    preset: tiktok\n  - path: /token/tiktok\n    preset: tiktok\n  - path: /userinfo/tiktok\n    preset: tiktok-userinfo\noidc:\n{clash}"
        );
        let file = parse_text(&text, &|_| None).unwrap();
        let errors = compile_with_env(&file, Resolution::Skip, &|_| None)
            .err()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(errors.contains("/token is also a route's path"), "{errors}");
    }

    #[test]
    fn a_route_without_an_authorize_url_needs_one_in_the_block() {
        let dir = tempfile::tempdir().unwrap();
        let key = es256_pem(dir.path());
        let text = format!(
            "routes:\n  - path: /token/tiktok\n    upstream: https://p.example/t\n  - path: /userinfo/tiktok\n    preset: tiktok-userinfo\noidc:\n{}",
            block(&key, "https://gw.example/o", "    claims: { sub: [id] }\n")
        );
        let file = parse_text(&text, &|_| None).unwrap();
        let errors = compile_with_env(&file, Resolution::Skip, &|_| None)
            .err()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(errors.contains("authorize_url: missing"), "{errors}");
        let with_url = text.replace(
            "    claims:",
            "    authorize_url: https://p.example/auth\n    claims:",
        );
        let file = parse_text(&with_url, &|_| None).unwrap();
        let plan = compile_with_env(&file, Resolution::Skip, &|_| None).unwrap();
        let (bridge, _) = plan.bridge("/o/authorize").unwrap();
        assert_eq!(bridge.authorize.client_id_param, "client_id");
        assert_eq!(bridge.claims.subject, ["id"]);
    }

    #[test]
    fn each_endpoint_counts_under_its_own_path() {
        let dir = tempfile::tempdir().unwrap();
        let key = es256_pem(dir.path());
        let plan = compile_oidc(&block(&key, "https://gw.example/oidc/tiktok", "")).unwrap();
        for (path, (bridge, endpoint)) in &plan.bridges {
            assert_eq!(bridge.metrics(*endpoint).label(), path);
        }
    }

    #[test]
    fn keys_need_distinct_kids_and_uris_must_be_plain_http_urls() {
        let dir = tempfile::tempdir().unwrap();
        let key = es256_pem(dir.path());
        let issuer = "https://gw.example/oidc/tiktok";
        let twice = block(&key, issuer, "").replace(
            "algorithm: ES256 }]",
            &format!("algorithm: ES256 }}, {{ kid: k1, key_file: \"{key}\", algorithm: ES256 }}]"),
        );
        assert!(errors_of(&twice).contains("signing_keys[1] (k1): each key needs a kid of its own"));
        let unnamed = block(&key, issuer, "").replace("kid: k1", "kid: \"\"");
        assert!(errors_of(&unnamed).contains("each key needs a kid of its own"));
        for uri in [
            "ftp://broker.example/cb",
            "https://broker.example/cb#x",
            "broker.example/cb",
        ] {
            let oidc = block(&key, issuer, "").replace("https://broker.example/cb", uri);
            assert!(errors_of(&oidc).contains("is not an http(s) URL"), "{uri}");
        }
        let minute = block(&key, issuer, "    id_token_lifetime: 1m\n");
        assert_eq!(
            compile_oidc(&minute).unwrap().bridges["/oidc/tiktok/token"]
                .0
                .id_token_lifetime,
            Duration::from_secs(60)
        );
    }

    #[test]
    fn a_reload_keeps_the_codes_already_redeemed() {
        let dir = tempfile::tempdir().unwrap();
        let key = es256_pem(dir.path());
        let first = compile_oidc(&block(&key, "https://gw.example/oidc/reload", "")).unwrap();
        let again = compile_oidc(&block(&key, "https://gw.example/oidc/reload", "")).unwrap();
        let redeemed =
            |plan: &crate::plan::GatewayPlan| plan.bridges["/oidc/reload/token"].0.redeemed.clone();
        assert!(Arc::ptr_eq(&redeemed(&first), &redeemed(&again)));
        assert!(redeemed(&first).first_use("code", 100, 1));
        assert!(!redeemed(&again).first_use("code", 100, 2));
    }

    #[test]
    fn seal_keys_never_print() {
        let key = crate::plan::file::SealKey(SEAL.to_owned());
        assert!(!format!("{key:?}").contains("0707"));
    }
}
