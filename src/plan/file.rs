//! The file operators edit: YAML, every key documented in docs/configuration.md, unknown
//! keys refused, `${VAR}` / `${VAR:-default}` expanded in string values.
//! Nothing here is read on the request path: `plan` compiles it once.

use serde::Deserialize;

pub use crate::plan::duration::{parse_duration, DurationText};
use crate::plan::error::{ConfigError, ConfigErrorKind as Kind, FileError, KeyPath, VariableError};
use crate::plan::rule_specs::{RequestRuleSpec, ResponseRuleSpec};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayFile {
    /// Pingora worker threads; default: the number of cores.
    pub threads: Option<usize>,
    /// Let idle workers steal tasks from busy ones (Pingora's default is on).
    pub work_stealing: Option<bool>,
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Prometheus `/metrics`, `/healthz`, `/readyz`; off when absent.
    pub metrics_listen: Option<String>,
    /// How long in-flight exchanges may finish after SIGTERM.
    pub grace_period: Option<DurationText>,
    /// Idle upstream connections kept per worker thread.
    pub upstream_keepalive_pool_size: Option<usize>,
    /// How often upstream host names are resolved again, off the request path.
    pub dns_refresh: Option<DurationText>,
    /// How long an idle keep-alive client connection stays open.
    pub client_idle_timeout: Option<DurationText>,
    /// Proxies whose `X-Forwarded-For` is believed (CIDR blocks); none by default.
    pub trusted_proxies: Option<Vec<String>>,
    /// TLS termination on `listen` (HTTP/2 offered); plain HTTP when absent.
    pub tls: Option<EdgeTlsFile>,
    pub routes: Vec<RouteFile>,
    /// OpenID Connect bridges in front of routes (see `plan::oidc`).
    #[serde(default)]
    pub oidc: Vec<OidcFile>,
    /// The shared store replicas agree through (see `plan::store`); none by default.
    pub store: Option<crate::plan::store::StoreFile>,
}

fn default_listen() -> String {
    "0.0.0.0:8080".to_owned()
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RouteFile {
    pub path: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub preset: Option<String>,
    pub upstream: Option<String>,
    pub ca_file: Option<String>,
    pub methods: Option<Vec<String>>,
    pub connect_timeout: Option<DurationText>,
    pub timeout: Option<DurationText>,
    pub body_timeout: Option<DurationText>,
    pub upstream_idle_timeout: Option<DurationText>,
    pub max_body_bytes: Option<usize>,
    pub retries: Option<u32>,
    /// Grant types whose exchange may be sent again after it was written in full.
    pub retry_after_send: Option<Vec<String>>,
    /// OAuth client ids the route serves (body `client_id` or Basic id); any when absent.
    pub allowed_client_ids: Option<Vec<String>>,
    /// A header every caller must send with a fixed value.
    pub shared_secret: Option<SharedSecretFile>,
    /// Caller addresses (CIDR blocks) the route serves; any when absent.
    pub allow_sources: Option<Vec<String>>,
    pub rate_limit: Option<RateLimitFile>,
    /// Upstream exchanges the route runs at once; no cap when absent.
    pub max_concurrent_exchanges: Option<usize>,
    /// Exchanges the route has with its provider at once; the others wait
    /// their turn, first come first served, within `timeout`. No cap when absent.
    pub provider_concurrency: Option<usize>,
    #[serde(default, with = "serde_yaml::with::singleton_map_recursive")]
    pub request: Vec<RequestRuleSpec>,
    #[serde(default, with = "serde_yaml::with::singleton_map_recursive")]
    pub response: Vec<ResponseRuleSpec>,
    /// Broker facts for `quirkgate auth0` (a printed preset pasted into a
    /// route keeps its block); each key set here wins over the preset's.
    pub broker: Option<BrokerFile>,
    /// The OpenID Connect bridge's provider facts (a printed preset pasted
    /// into a route keeps its block); wins over the preset's.
    pub oidc: Option<OidcPresetFile>,
    /// A two-step corp login (WeCom): its keys win over the preset's.
    pub corp_login: Option<crate::plan::corp_login_file::CorpLoginFile>,
}

/// `shared_secret: { header: X-Quirkgate-Secret, value: "${QUIRKGATE_SHARED_SECRET}" }`.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct SharedSecretFile {
    pub header: String,
    pub value: String,
}

/// The value is a secret: no `{:?}` of the file may print it.
impl std::fmt::Debug for SharedSecretFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SharedSecretFile {{ header: {:?}, value: <redacted> }}",
            self.header
        )
    }
}

/// `rate_limit: { per_client_address_per_second: 20, per_route_per_second: 500 }`.
#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct RateLimitFile {
    /// Requests per second from one caller address (after `trusted_proxies`).
    pub per_client_address_per_second: Option<u32>,
    /// Requests per second for the whole route.
    pub per_route_per_second: Option<u32>,
    /// `replica` (the default): each replica counts its own; `fleet`: the
    /// store counts for every replica.
    #[serde(default)]
    pub scope: crate::plan::store::RateScope,
}

/// A shipped preset: a route fragment in the same vocabulary (`conf/presets/*.yaml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetFile {
    pub description: String,
    pub upstream: Option<String>,
    /// The host the preset's own upstream must have once its `${VAR}`s are
    /// filled in (`*.myshopify.com`: one label before the suffix).
    pub upstream_host: Option<String>,
    pub methods: Option<Vec<String>>,
    #[serde(default, with = "serde_yaml::with::singleton_map_recursive")]
    pub request: Vec<RequestRuleSpec>,
    #[serde(default, with = "serde_yaml::with::singleton_map_recursive")]
    pub response: Vec<ResponseRuleSpec>,
    /// What an identity broker needs to send users to this provider; only
    /// `quirkgate auth0` reads it, never the gateway.
    pub broker: Option<BrokerFile>,
    /// What the OpenID Connect bridge needs beyond `broker:`.
    pub oidc: Option<OidcPresetFile>,
    /// A two-step corp login (WeCom): the leg and the provider's paths.
    pub corp_login: Option<crate::plan::corp_login_file::CorpLoginFile>,
}

/// A preset's `oidc:` block: the provider facts an OpenID Connect bridge
/// needs beyond the authorize URL and parameter names in `broker:`.
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct OidcPresetFile {
    /// Broker scope → the provider's scope(s); an empty value drops it.
    #[serde(default)]
    pub scope_map: std::collections::BTreeMap<String, String>,
    /// How the provider joins scopes (TikTok: `,`); a space by default.
    pub scope_separator: Option<String>,
    /// A fragment the authorize URL needs (`wechat_redirect`).
    pub fragment: Option<String>,
    /// Claim → paths into the user-info route's answer, first present wins.
    #[serde(default)]
    pub claims: std::collections::BTreeMap<String, Vec<String>>,
    /// Token-answer fields the user-info call needs (WeChat's `openid`):
    /// sent to the user-info route as form parameters.
    #[serde(default)]
    pub userinfo_params: Vec<String>,
    /// The provider's cap on `state`, in bytes (WeChat: 128).
    pub state_max_bytes: Option<usize>,
    /// The characters the provider takes in `state`: `base64url` (the
    /// default) or `alphanumeric` (WeChat).
    pub state_alphabet: Option<String>,
    /// The provider returns an ID token of its own (Apple, LINE, Twitch,
    /// LinkedIn): verified against its JWKS, its claims under `id_token.`.
    pub provider_id_token: Option<ProviderIdTokenFile>,
    /// A user leg of several calls (QQ), one per route the block's
    /// `userinfo_route` lists: what each is sent and what its answer gives.
    #[serde(default)]
    pub user_steps: Vec<UserStepFile>,
    /// PKCE towards the provider (X, VK ID): `S256`.
    pub provider_pkce: Option<String>,
    /// The query parameter the provider's callback carries the code in
    /// (Alipay: `auth_code`); `code` by default.
    pub callback_code_param: Option<String>,
    /// Fixed parameters the provider's authorize page wants beyond the
    /// standard ones (WeCom: `{ login_type: CorpApp, agentid: "" }`); an
    /// empty value is one the bridge block must give.
    #[serde(default)]
    pub authorize_extra: std::collections::BTreeMap<String, String>,
    /// The `redirect_uri` the provider is sent, when it names the redirect
    /// by a registered name rather than by URL (eBay's RuName, whose
    /// accepted URL the operator registers as `{issuer}/callback`); the
    /// bridge's `{issuer}/callback` by default.
    pub provider_redirect_uri: Option<String>,
}

/// `provider_id_token: { jwks_uri, issuer }`: where the provider publishes
/// its keys (or `signed_with: client_secret`, LINE's HS256) and what its
/// tokens' `iss` is.
#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProviderIdTokenFile {
    pub jwks_uri: Option<String>,
    /// `client_secret`: the tokens are HS256, keyed with the secret the
    /// broker sends to `/token` (LINE's web login); instead of `jwks_uri`.
    pub signed_with: Option<String>,
    pub issuer: String,
    /// Send the broker's nonce to the provider and check it comes back (default true).
    pub nonce: Option<bool>,
    /// Least time between two fetches of the JWKS (default 60s): an unknown
    /// `kid` refetches at most this often.
    pub refresh_cooldown: Option<DurationText>,
}

/// One call of a multi-step user leg (see `plan::oidc::steps`).
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct UserStepFile {
    /// Form parameters the call is sent: fields an earlier step gives, or
    /// token-answer fields `userinfo_params` names.
    #[serde(default)]
    pub params: Vec<String>,
    /// Fields of this call's answer later steps may be sent.
    #[serde(default)]
    pub gives: Vec<String>,
}

/// A preset's `broker:` block: the provider facts a broker connection needs
/// (the authorize leg and the user profile never pass through the gateway).
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct BrokerFile {
    /// The provider's authorization endpoint.
    pub authorization_url: Option<String>,
    /// The scope to ask for by default.
    pub scope: Option<String>,
    /// Authorize-leg parameters the provider wants under its own name, and
    /// the connection value each carries: `{ client_key: client_id }`.
    #[serde(default)]
    pub authorize_params: std::collections::BTreeMap<String, String>,
    /// The provider's user-info URL the profile script calls.
    pub userinfo_url: Option<String>,
    /// A preset whose route answers the user flat: when the file has a route
    /// with it, that preset's script (calling the route) is used instead.
    pub userinfo_route_preset: Option<String>,
    /// The broker's Fetch User Profile script; `{{userinfo_url}}` and
    /// `{{headers}}` are filled in as JavaScript literals.
    pub fetch_user_profile: Option<String>,
}

/// `oidc:` in the file: one bridge, an issuer of its own.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct OidcFile {
    /// The issuer brokers are told (`https://gw.example.com/oidc/tiktok`):
    /// its path is where this bridge's endpoints are served.
    pub issuer: String,
    /// The route (its `path`) the token leg runs through.
    pub token_route: String,
    /// The route (its `path`) that reads the provider's user, or the routes
    /// of its steps in order (QQ: `[/qq/me, /qq/userinfo]`, see `user_steps`);
    /// optional when the provider's verified ID token gives the claims (Apple).
    #[serde(default)]
    pub userinfo_route: Option<crate::plan::rule_specs::OneOrMany>,
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
    pub scope_map: Option<std::collections::BTreeMap<String, String>>,
    /// Overrides the preset's claim paths, claim by claim.
    pub claims: Option<std::collections::BTreeMap<String, Vec<String>>>,
    /// Put in front of every `sub` (`tiktok|`), so that subjects stay unique
    /// when a broker links several bridges.
    pub subject_prefix: Option<String>,
    /// Override the preset's cap on the provider's `state`, and its alphabet.
    pub state_max_bytes: Option<usize>,
    pub state_alphabet: Option<String>,
    /// Overrides the preset's `provider_id_token` (a mock's JWKS, a region).
    pub provider_id_token: Option<ProviderIdTokenFile>,
    /// Overrides the preset's `provider_redirect_uri` (a sandbox RuName).
    pub provider_redirect_uri: Option<String>,
    /// Written over the preset's `authorize_extra`, parameter by parameter:
    /// the values a preset leaves empty are the operator's (WeCom's `agentid`).
    pub authorize_extra: Option<std::collections::BTreeMap<String, String>>,
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

/// Paths of the edge certificate chain and its private key (PEM).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeTlsFile {
    pub cert_file: String,
    pub key_file: String,
}

/// One shipped preset: its name and its file under `conf/presets/`.
macro_rules! preset {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/conf/presets/",
                $name,
                ".yaml"
            )),
        )
    };
}

/// The presets shipped in the binary, as the YAML text operators can read and copy.
pub const PRESETS: &[(&str, &str)] = &[
    preset!("tiktok"),
    preset!("tiktok-v1"),
    preset!("tiktok-userinfo"),
    preset!("wechat"),
    preset!("wechat-userinfo"),
    preset!("github"),
    preset!("github-userinfo"),
    preset!("slack"),
    preset!("basic-auth"),
    preset!("apple"),
    preset!("notion"),
    preset!("dingtalk"),
    preset!("feishu"),
    preset!("qq"),
    preset!("douyin"),
    preset!("kuaishou"),
    preset!("twitch-userinfo"),
    preset!("vk-userinfo"),
    preset!("dingtalk-userinfo"),
    preset!("facebook-userinfo"),
    preset!("zoom"),
    preset!("pinterest"),
    preset!("linkedin"),
    preset!("strava"),
    preset!("line"),
    preset!("x"),
    preset!("alipay"),
    preset!("alipay-userinfo"),
    preset!("okru"),
    preset!("okru-userinfo"),
    preset!("withings"),
    preset!("shopify"),
    preset!("shopify-userinfo"),
    preset!("gitlab"),
    preset!("gitlab-userinfo"),
    preset!("kakao"),
    preset!("kakao-userinfo"),
    preset!("naver"),
    preset!("naver-userinfo"),
    preset!("weibo"),
    preset!("weibo-userinfo"),
    preset!("baidu"),
    preset!("baidu-userinfo"),
    preset!("lark"),
    preset!("lark-userinfo"),
    preset!("huawei"),
    preset!("huawei-userinfo"),
    preset!("kuaishou-userinfo"),
    preset!("yandex"),
    preset!("yandex-userinfo"),
    preset!("mailru"),
    preset!("mailru-userinfo"),
    preset!("twitch"),
    preset!("discord"),
    preset!("discord-userinfo"),
    preset!("spotify"),
    preset!("spotify-userinfo"),
    preset!("bitbucket"),
    preset!("bitbucket-userinfo"),
    preset!("fitbit"),
    preset!("fitbit-userinfo"),
    preset!("ebay"),
    preset!("ebay-userinfo"),
    preset!("paypal"),
    preset!("paypal-userinfo"),
    preset!("douyin-userinfo"),
    preset!("feishu-userinfo"),
    preset!("zoom-userinfo"),
    preset!("pinterest-userinfo"),
    preset!("strava-userinfo"),
    preset!("qq-me"),
    preset!("qq-userinfo"),
    preset!("notion-userinfo"),
    preset!("slack-userinfo"),
    preset!("reddit"),
    preset!("reddit-userinfo"),
    preset!("facebook"),
    preset!("vk"),
    preset!("x-userinfo"),
    preset!("wecom"),
    preset!("wecom-userinfo"),
];

pub fn preset_text(name: &str) -> Option<&'static str> {
    PRESETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// A preset as shipped, its `${VAR}`s left as written (for reading its
/// description or shape; routes use [`load_preset_with`]).
pub fn load_preset(name: &str) -> Result<PresetFile, ConfigError> {
    let text = preset_text(name).ok_or_else(|| unknown_preset(name))?;
    let de = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| preset_unreadable(name, syntax(&e)))
}

fn unknown_preset(name: &str) -> ConfigError {
    ConfigError::new(
        KeyPath::root(),
        Kind::UnknownPreset {
            name: name.to_owned(),
            known: PRESETS.iter().map(|(n, _)| *n).collect(),
        },
    )
}

fn preset_unreadable(name: &str, error: ConfigError) -> ConfigError {
    ConfigError::new(
        KeyPath::root(),
        Kind::PresetUnreadable {
            preset: name.to_owned(),
            error: Box::new(error),
        },
    )
}

/// A preset with its `${VAR}`s expanded from `env`, as a route uses it: a
/// preset that needs a value (Apple's key file, Twitch's client id) is
/// refused at load, and by `--test`, while the variable is unset.
pub fn load_preset_with(
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<PresetFile, ConfigError> {
    let text = preset_text(name).ok_or_else(|| unknown_preset(name))?;
    // Every value missing at once, so one `--test` run lists them all.
    let missing: Vec<String> = preset_variables(name)
        .into_iter()
        .filter(|var| env(var).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(ConfigError::new(
            KeyPath::root(),
            Kind::PresetNeedsVariables {
                preset: name.to_owned(),
                missing,
            },
        ));
    }
    let mut value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| {
        preset_unreadable(
            name,
            ConfigError::new(KeyPath::root(), Kind::Syntax(e.to_string())),
        )
    })?;
    expand_env(&mut value, "", env).map_err(|e| preset_unreadable(name, e))?;
    serde_path_to_error::deserialize(value).map_err(|e| preset_unreadable(name, syntax(&e)))
}

/// The environment variables a preset reads (shipped presets give none a
/// default: each is a value the operator must provide).
pub fn preset_variables(name: &str) -> Vec<String> {
    let needed = std::cell::RefCell::new(Vec::new());
    let text = preset_text(name).unwrap_or_default();
    let _ = expand_string(text, &|var| {
        needed.borrow_mut().push(var.to_owned());
        Some(String::new())
    });
    let mut needed = needed.into_inner();
    needed.sort();
    needed.dedup();
    needed
}

/// A preset's description, whatever the environment holds.
pub fn preset_description(name: &str) -> String {
    load_preset(name).map(|p| p.description).unwrap_or_default()
}

/// Reads and checks a configuration file: YAML syntax and key names first
/// (with line numbers), then environment expansion into the typed file.
pub fn load_file(path: &str) -> Result<GatewayFile, FileError> {
    let in_file = |error| FileError {
        file: path.to_owned(),
        error: Box::new(error),
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        in_file(ConfigError::new(
            KeyPath::root(),
            Kind::Unreadable(e.to_string()),
        ))
    })?;
    parse_text(&text, &|name| std::env::var(name).ok()).map_err(in_file)
}

pub fn parse_text(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<GatewayFile, ConfigError> {
    // First pass on the raw text: the reader knows lines, so its errors name one.
    let de = serde_yaml::Deserializer::from_str(text);
    let with_line = match serde_path_to_error::deserialize::<_, GatewayFile>(de) {
        Ok(_) => None,
        // Without `${`, nothing expansion does can change the verdict.
        Err(e) if !text.contains("${") => return Err(syntax(&e)),
        // With it, the error may be an unexpanded `${VAR}` in a number's place.
        Err(e) => Some(syntax(&e)),
    };
    let mut value: serde_yaml::Value = serde_yaml::from_str(text)
        .map_err(|e| ConfigError::new(KeyPath::root(), Kind::Syntax(e.to_string())))?;
    expand_env(&mut value, "", env)?;
    serde_path_to_error::deserialize::<_, GatewayFile>(value).map_err(|e| {
        let expanded = syntax(&e);
        // The same key refused before expansion: that error knows its line.
        match with_line {
            Some(first) if first.key == expanded.key => first,
            _ => expanded,
        }
    })
}

/// A reader's error at its key. serde_yaml starts its text with the path of
/// the mapping it was in, which the key already says: that prefix goes.
fn syntax(error: &serde_path_to_error::Error<serde_yaml::Error>) -> ConfigError {
    let path = error.path().to_string();
    let text = error.inner().to_string();
    let message = match text.split_once(": ") {
        Some((head, rest)) if !head.contains(' ') && path.starts_with(head) => rest,
        _ => &text,
    };
    ConfigError::new(KeyPath::spelled(&path), Kind::Syntax(message.to_owned()))
}

/// Expands `${VAR}` and `${VAR:-default}` in every string; `$${` is a literal `${`.
fn expand_env(
    value: &mut serde_yaml::Value,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    match value {
        serde_yaml::Value::String(s) => {
            *s = expand_string(s, env)
                .map_err(|e| ConfigError::new(KeyPath::spelled(path), Kind::Variable(e)))?
        }
        serde_yaml::Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                expand_env(item, &format!("{path}[{i}]"), env)?;
            }
        }
        serde_yaml::Value::Mapping(map) => {
            for (key, item) in map.iter_mut() {
                let key = key.as_str().unwrap_or("?");
                let child = if path.is_empty() {
                    key.to_owned()
                } else {
                    format!("{path}.{key}")
                };
                expand_env(item, &child, env)?;
            }
        }
        serde_yaml::Value::Tagged(tagged) => expand_env(&mut tagged.value, path, env)?,
        _ => {}
    }
    Ok(())
}

pub fn expand_string(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, VariableError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let end = after
                .find('}')
                .ok_or_else(|| VariableError::Unclosed(text.to_owned()))?;
            let expr = &after[..end];
            let (name, default) = match expr.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (expr, None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(VariableError::BadName(name.to_owned()));
            }
            match (env(name), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => return Err(VariableError::Unset(name.to_owned())),
            }
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "TIKTOK_CLIENT_KEY").then(|| "ck_123".to_owned())
    }

    #[test]
    fn expands_variables_defaults_and_escapes() {
        assert_eq!(
            expand_string("k=${TIKTOK_CLIENT_KEY}", &env).unwrap(),
            "k=ck_123"
        );
        assert_eq!(
            expand_string("${MISSING:-fallback}", &env).unwrap(),
            "fallback"
        );
        assert_eq!(
            expand_string("$${LITERAL} costs $5", &env).unwrap(),
            "${LITERAL} costs $5"
        );
        assert_eq!(
            expand_string("${MISSING}", &env),
            Err(VariableError::Unset("MISSING".into()))
        );
        assert_eq!(
            expand_string("${BAD-NAME}", &env),
            Err(VariableError::BadName("BAD-NAME".into()))
        );
        assert_eq!(
            expand_string("a ${OPEN", &env),
            Err(VariableError::Unclosed("a ${OPEN".into()))
        );
    }

    #[test]
    fn unknown_keys_are_named_once_with_their_line_even_beside_variables() {
        for listen in ["\"127.0.0.1:1\"", "\"${LISTEN:-127.0.0.1:1}\""] {
            let err = parse_text(
                &format!("listen: {listen}\nroutes:\n  - path: /t\n    upstreem: x\n"),
                &env,
            )
            .unwrap_err();
            assert_eq!(err.key, KeyPath::spelled("routes[0].upstreem"), "{err}");
            let Kind::Syntax(why) = &err.kind else {
                panic!("{err}")
            };
            assert!(why.starts_with("unknown field `upstreem`"), "{err}");
            assert!(why.ends_with("at line 4 column 5"), "{err}");
        }
    }

    #[test]
    fn a_variable_that_cannot_expand_is_named_by_its_key() {
        let err = parse_text("listen: \"${NOPE}\"\nroutes: []\n", &env).unwrap_err();
        assert_eq!(err.key, KeyPath::spelled("listen"));
        assert_eq!(
            err.kind,
            Kind::Variable(VariableError::Unset("NOPE".into()))
        );
        assert_eq!(
            err.to_string(),
            "listen: environment variable NOPE is not set"
        );
    }

    #[test]
    fn env_applies_inside_rules() {
        let text = "routes:\n  - path: /t\n    upstream: http://127.0.0.1:1/\n    request:\n      - replace: { body: { client_key: \"${TIKTOK_CLIENT_KEY}\" } }\n";
        let file = parse_text(text, &env).unwrap();
        assert!(format!("{:?}", file.routes[0].request).contains("ck_123"));
    }

    #[test]
    fn every_shipped_preset_parses_and_says_what_it_fixes() {
        for (name, _) in PRESETS {
            let preset = load_preset_with(name, &|_| Some("x".to_owned())).unwrap();
            assert!(preset.description.len() > 20, "{name}");
            assert_eq!(preset_description(name), preset.description);
            // As shipped, variables unexpanded, every preset still reads.
            assert!(load_preset(name).is_ok(), "{name}");
            assert!(!preset_text(name).unwrap().contains(":-"), "{name}");
        }
    }

    #[test]
    fn a_preset_needing_an_unset_variable_is_refused_naming_it() {
        assert_eq!(
            preset_variables("twitch-userinfo"),
            vec!["TWITCH_CLIENT_ID"]
        );
        assert!(preset_variables("tiktok").is_empty());
        let err = load_preset_with("twitch-userinfo", &|_| None).unwrap_err();
        assert_eq!(
            err.kind,
            Kind::PresetNeedsVariables {
                preset: "twitch-userinfo".into(),
                missing: vec!["TWITCH_CLIENT_ID".into()]
            }
        );
        assert!(matches!(
            load_preset("nope").unwrap_err().kind,
            Kind::UnknownPreset { name, known } if name == "nope" && known.contains(&"tiktok")
        ));
    }
}
