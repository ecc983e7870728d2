//! The OpenID Connect bridge's part of the plan: an `oidc:` block compiled
//! once per load into what its endpoints read (keys, seal, the provider's
//! authorize facts, claim paths, and the discovery and JWKS documents,
//! rendered here). Keys are read from their files at each load, so SIGHUP
//! picks up a rotation.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::plan::error::{BridgeRefusal as Refusal, ConfigError, ConfigErrorKind, KeyPath};
use crate::plan::file::{load_preset_with, BrokerFile, GatewayFile, OidcFile, OidcPresetFile};
use crate::plan::TokenRoute;
use crate::telemetry::metrics::RouteMetrics;
use quirkgate_core::oidc::authorize::ProviderAuthorize;
use quirkgate_core::oidc::claims::{ClaimPath, ClaimPaths, NOT_FROM_CALLBACK_USER};
use quirkgate_core::oidc::provider_pkce::ProviderPkce;
use quirkgate_core::oidc::redeemed::RedeemedCodes;
use quirkgate_core::oidc::seal::{parse_seal_key, Sealer};
use quirkgate_core::oidc::state::{StateAlphabet, StateShape};
use quirkgate_core::signed_jwt::{JwtAlgorithm, SigningKey};

mod documents;
pub mod provider_jwks;
mod shape;
pub mod steps;
mod token_claims;

use documents::{discovery_document, jwks_document};
use provider_jwks::ProviderIdTokens;

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
#[derive(Clone)]
pub(crate) enum LongLogins {
    /// No store: the broker hears the cap, and the login is never truncated.
    Refuse,
    /// With a `store:`: the sealed login is kept there for the login's
    /// lifetime, the provider gets a short handle, and `/callback` takes it
    /// once (`GETDEL`).
    Keep(Arc<crate::store::Store>),
}

/// One compiled bridge.
pub struct OidcBridge {
    pub issuer: String,
    /// The issuer's path, without a trailing `/` (empty at the root).
    pub prefix: String,
    /// Where the provider sends the browser back: `{issuer}/callback`.
    pub callback_url: String,
    /// The `redirect_uri` sent to the provider's page and token endpoint:
    /// `callback_url`, or the name the provider registered it under (eBay's RuName).
    pub provider_redirect_uri: String,
    /// The callback's code parameter (`code`; Alipay: `auth_code`).
    pub callback_code_param: String,
    /// The first signs.
    pub keys: Vec<PublishedKey>,
    pub sealer: Sealer,
    pub token_route: Arc<TokenRoute>,
    /// The user leg: one route, or a few whose answers feed the next (QQ);
    /// none when the provider's verified ID token gives the claims (Apple).
    pub user_steps: Vec<steps::UserStep<Arc<TokenRoute>>>,
    /// The provider's own ID token, verified before its claims are used.
    pub provider_id_token: Option<ProviderIdTokens>,
    pub authorize: ProviderAuthorize,
    pub claims: ClaimPaths,
    /// Token-answer fields sealed into the broker's access token: those the
    /// user-info call needs (WeChat's `openid`) and, with a `/userinfo`,
    /// those the claims read (`token.open_id`).
    pub userinfo_params: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub client_ids: Option<Vec<String>>,
    /// The provider's `state`: its alphabet and cap.
    pub state_alphabet: StateAlphabet,
    pub state_max_bytes: Option<usize>,
    /// PKCE towards the provider, when the preset says `provider_pkce: S256`.
    pub provider_pkce: Option<ProviderPkce>,
    pub(crate) long_logins: LongLogins,
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
    store: Option<&Arc<crate::store::Store>>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<BridgePaths, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut paths = HashMap::new();
    for (index, block) in file.oidc.iter().enumerate() {
        let label = KeyPath::root().labeled("oidc", index, &block.issuer);
        match compile_bridge(file, block, routes, env) {
            Ok(mut bridge) => {
                if let Some(store) = store {
                    bridge.long_logins = LongLogins::Keep(store.clone());
                }
                let bridge = Arc::new(bridge);
                for endpoint in BridgeEndpoint::ALL {
                    let path = bridge.endpoint_path(endpoint);
                    if routes.contains_key(&path) {
                        errors.push(refused(label.clone(), Refusal::PathIsRoute(path)));
                    } else if paths
                        .insert(path.clone(), (bridge.clone(), endpoint))
                        .is_some()
                    {
                        errors.push(refused(label.clone(), Refusal::PathServedTwice(path)));
                    }
                }
            }
            Err(e) => errors.extend(e.into_iter().map(|e| e.under(&label))),
        }
    }
    if errors.is_empty() {
        Ok(paths)
    } else {
        Err(errors)
    }
}

fn refused(key: KeyPath, why: Refusal) -> ConfigError {
    ConfigError::new(key, ConfigErrorKind::Bridge(why))
}

/// `https://host[:port][/path]`, or `http://` on loopback (tests, a local try).
fn issuer_prefix(issuer: &str) -> Result<String, Refusal> {
    let parsed = http::Uri::try_from(issuer).map_err(|e| Refusal::IssuerNotUrl(e.to_string()))?;
    let host = parsed.host().unwrap_or("");
    let loopback = host == "localhost" || host == "127.0.0.1" || host == "[::1]";
    match parsed.scheme_str() {
        Some("https") => {}
        Some("http") if loopback => {}
        _ => return Err(Refusal::IssuerNotHttps),
    }
    if host.is_empty() || parsed.query().is_some() || issuer.contains('#') {
        return Err(Refusal::IssuerShape);
    }
    if issuer.ends_with('/') {
        return Err(Refusal::IssuerTrailingSlash);
    }
    Ok(parsed.path().trim_end_matches('/').to_owned())
}

fn compile_bridge(
    file: &GatewayFile,
    block: &OidcFile,
    routes: &HashMap<String, Arc<TokenRoute>>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<OidcBridge, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let at = KeyPath::key;
    let prefix = issuer_prefix(&block.issuer)
        .map_err(|e| errors.push(refused(at("issuer"), e)))
        .unwrap_or_default();
    let route = |path: &str, key: &'static str, errors: &mut Vec<ConfigError>| {
        let found = routes.get(path).cloned();
        if found.is_none() {
            errors.push(refused(at(key), Refusal::NoSuchRoute(path.to_owned())));
        }
        found
    };
    let token_route = route(&block.token_route, "token_route", &mut errors);
    // The provider facts come with the token route's preset.
    let route_file = file
        .routes
        .iter()
        .find(|r| r.path == block.token_route || r.aliases.contains(&block.token_route));
    let preset = route_file
        .and_then(|r| r.preset.as_deref())
        .map(|name| load_preset_with(name, env))
        .transpose()
        .map_err(|e| errors.push(e.under(&at("token_route preset"))))
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
        errors.push(refused(at("authorize_url"), Refusal::AuthorizeUrlMissing));
        return Err(errors);
    };
    if !(authorize_url.starts_with("https://") || authorize_url.starts_with("http://")) {
        errors.push(refused(at("authorize_url"), Refusal::AuthorizeUrlNotHttp));
    }
    let client_id_param = broker
        .authorize_params
        .iter()
        .find(|(_, standard)| standard.as_str() == "client_id")
        .map_or("client_id", |(provider, _)| provider.as_str())
        .to_owned();
    let mut authorize_extra = facts.authorize_extra.clone();
    authorize_extra.extend(block.authorize_extra.clone().unwrap_or_default());
    let extra_params = shape::authorize_extra(&authorize_extra, &client_id_param)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let authorize = ProviderAuthorize {
        url: authorize_url,
        client_id_param,
        extra_params,
        scope_map: block.scope_map.clone().unwrap_or(facts.scope_map.clone()),
        scope_separator: facts.scope_separator.clone().unwrap_or_else(|| " ".into()),
        default_scope: broker.scope.clone().unwrap_or_default(),
        fragment: facts.fragment.clone(),
    };

    let provider_id_token = block
        .provider_id_token
        .as_ref()
        .or(facts.provider_id_token.as_ref())
        .map(provider_jwks::compile)
        .transpose()
        .map_err(|e| errors.extend(e))
        .ok()
        .flatten();
    let user_steps = match &block.userinfo_route {
        None => Some(Vec::new()),
        Some(paths) => steps::compile_user_steps(
            &paths.0,
            &facts.user_steps,
            &facts.userinfo_params,
            |path| routes.get(path).cloned(),
        )
        .map_err(|e| errors.extend(e))
        .ok(),
    };

    let mut claim_paths = facts.claims.clone();
    for (claim, paths) in block.claims.clone().unwrap_or_default() {
        claim_paths.insert(claim, paths);
    }
    let subject = claim_paths.remove("sub").unwrap_or_default();
    if subject.is_empty() {
        errors.push(refused(at("claims"), Refusal::NoSubject));
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
            errors.push(refused(at("claims"), Refusal::ReservedClaim(reserved)));
        }
    }
    let subject_prefix = shape::subject_prefix(block.subject_prefix.as_deref())
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    if claim_paths.keys().any(|name| name.is_empty()) {
        errors.push(refused(at("claims"), Refusal::UnnamedClaim));
    }
    let claims = ClaimPaths {
        subject: token_claims::claim_paths(&subject),
        subject_prefix,
        others: claim_paths
            .into_iter()
            .map(|(name, paths)| (name, token_claims::claim_paths(&paths)))
            .collect(),
    };
    // What a page posts beside the code is not signed: no identity from it.
    let unsigned_identity = std::iter::once(("sub", &claims.subject))
        .chain(
            claims
                .others
                .iter()
                .map(|(name, paths)| (name.as_str(), paths)),
        )
        .filter(|(name, paths)| {
            NOT_FROM_CALLBACK_USER.contains(name)
                && paths.iter().any(ClaimPath::reads_callback_user)
        });
    for (name, _) in unsigned_identity {
        errors.push(refused(
            at("claims"),
            Refusal::ClaimFromCallbackUser(name.to_owned()),
        ));
    }
    errors.extend(token_claims::refused_token_fields(
        &claims,
        &facts.userinfo_params,
    ));
    // Withings names its user only in the token answer: no user call is needed.
    if block.userinfo_route.is_none()
        && provider_id_token.is_none()
        && !claims.subject_from_token_answer()
    {
        errors.push(refused(at("userinfo_route"), Refusal::NoUserSource));
    }
    let sealed_token_fields = token_claims::sealed_token_fields(
        &claims,
        &facts.userinfo_params,
        block.userinfo_route.is_some(),
    );

    let mut keys = Vec::new();
    if block.signing_keys.is_empty() {
        errors.push(refused(at("signing_keys"), Refusal::NoSigningKeys));
    }
    for (i, key) in block.signing_keys.iter().enumerate() {
        let where_ = KeyPath::root().labeled("signing_keys", i, &key.kid);
        if key.kid.is_empty() || keys.iter().any(|k: &PublishedKey| k.kid == key.kid) {
            errors.push(refused(where_, Refusal::KidNotUnique));
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
            Err(e) => errors.push(refused(where_, Refusal::SigningKey(e))),
        }
    }
    let seal_keys: Result<Vec<[u8; 32]>, ConfigError> = block
        .seal_keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            parse_seal_key(&key.0).map_err(|e| refused(at("seal_keys").at(i), Refusal::SealKey(e)))
        })
        .collect();
    let callback_url = format!("{}{}", block.issuer, BridgeEndpoint::Callback.path_suffix());
    let provider_redirect_uri = shape::provider_redirect_uri(
        block
            .provider_redirect_uri
            .as_deref()
            .or(facts.provider_redirect_uri.as_deref()),
        &callback_url,
    )
    .map_err(|e| errors.push(e))
    .unwrap_or_default();
    let callback_code_param = shape::callback_code_param(facts.callback_code_param.as_deref())
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let provider_pkce = shape::provider_pkce(
        facts.provider_pkce.as_deref(),
        seal_keys.as_ref().ok().and_then(|keys| keys.first()),
    )
    .map_err(|e| errors.push(e))
    .unwrap_or_default();
    let sealer = seal_keys
        .and_then(|keys| {
            Sealer::new(&keys, &block.issuer)
                .map_err(|e| refused(at("seal_keys"), Refusal::SealKey(e)))
        })
        .map_err(|e| errors.push(e))
        .ok();
    if block.redirect_uris.is_empty() {
        errors.push(refused(at("redirect_uris"), Refusal::NoRedirectUris));
    }
    for uri in &block.redirect_uris {
        if !(uri.starts_with("https://") || uri.starts_with("http://")) || uri.contains('#') {
            errors.push(refused(
                at("redirect_uris"),
                Refusal::BadRedirectUri(uri.clone()),
            ));
        }
    }
    if block.client_ids.as_ref().is_some_and(|ids| ids.is_empty()) {
        errors.push(refused(at("client_ids"), Refusal::NoClientIds));
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
        errors.push(refused(
            at("id_token_lifetime"),
            Refusal::LifetimeUnderMinute,
        ));
    }
    let (Some(token_route), Some(user_steps), Some(sealer), true) =
        (token_route, user_steps, sealer, errors.is_empty())
    else {
        return Err(errors);
    };

    let mut bridge = OidcBridge {
        issuer: block.issuer.clone(),
        callback_url,
        provider_redirect_uri,
        callback_code_param,
        metrics: BridgeEndpoint::ALL
            .map(|endpoint| RouteMetrics::new(&format!("{prefix}{}", endpoint.path_suffix()))),
        prefix,
        keys,
        sealer,
        token_route,
        user_steps,
        provider_id_token,
        authorize,
        claims,
        userinfo_params: sealed_token_fields,
        redirect_uris: block.redirect_uris.clone(),
        client_ids: block.client_ids.clone(),
        state_alphabet,
        state_max_bytes,
        provider_pkce,
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
#[path = "oidc_tests.rs"]
mod tests;
