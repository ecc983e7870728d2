//! A route's `corp_login:` block (WeCom's two-step login), compiled once per
//! load: which leg the route serves, WeCom's paths, the corp app's
//! credentials, the seal of the gateway's own access tokens, and the route's
//! corp-token cache (per route and replica, shared by all its callers).
//! The preset gives the leg and paths; the route gives credentials and keys.

use std::fmt;
use std::time::Duration;

pub use crate::plan::corp_login_file::{CorpLeg, CorpLoginFile};
pub use crate::plan::corp_login_refusal::CorpLoginRefusal;
use crate::plan::error::{ConfigError, ConfigErrorKind as Kind, KeyPath};
use quirkgate_core::oidc::seal::{parse_seal_key, Sealer};
use quirkgate_core::rules::two_step::wecom::seal_issuer;
use quirkgate_core::rules::two_step::CorpTokenCache;

/// How long the gateway's access tokens last, unless `token_lifetime` says.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(2 * 3600);
/// How long before its expiry the corp token is renewed, unless `refresh_before` says.
pub const DEFAULT_REFRESH_BEFORE: Duration = Duration::from_secs(300);

/// The corp token of one route on this replica, and the wake-up of those
/// waiting while one caller fetches it.
pub struct CorpTokens {
    pub cache: CorpTokenCache,
    pub fetched: tokio::sync::Notify,
}

/// A compiled `corp_login:`: what the request path reads.
pub struct CorpLogin {
    pub leg: CorpLeg,
    /// Full paths at the upstream (its own path in front).
    pub corp_token_path: String,
    pub member_path: String,
    pub corp_id: String,
    corp_secret: String,
    pub sealer: Sealer,
    pub token_lifetime: Duration,
    pub corp_tokens: CorpTokens,
}

impl CorpLogin {
    /// The corp secret: only `gettoken` and the caller check read it.
    pub fn corp_secret(&self) -> &str {
        &self.corp_secret
    }
}

/// Secrets never print.
impl fmt::Debug for CorpLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CorpLogin {{ leg: {:?}, corp_id: {:?}, corp_secret: <redacted> }}",
            self.leg, self.corp_id
        )
    }
}

/// Compiles the preset's and the route's blocks (either may be absent; none: no corp login).
pub fn compile_corp_login(
    preset: Option<&CorpLoginFile>,
    route: Option<&CorpLoginFile>,
    upstream_path: &str,
) -> Result<Option<CorpLogin>, Vec<ConfigError>> {
    let block = match (preset, route) {
        (None, None) => return Ok(None),
        (Some(p), Some(r)) => p.clone().with(r),
        (Some(only), None) | (None, Some(only)) => only.clone(),
    };
    let mut errors = Vec::new();
    let at = |key: &'static str| KeyPath::key("corp_login").then(key);
    let mut refuse = |key: &'static str, why: CorpLoginRefusal| {
        errors.push(ConfigError::new(at(key), Kind::CorpLogin(why)));
    };
    let prefix = upstream_path.trim_end_matches('/');
    let mut path = |key: &'static str, value: &Option<String>| match value {
        None => {
            refuse(key, CorpLoginRefusal::Missing(key));
            None
        }
        Some(p) if !p.starts_with('/') => {
            refuse(key, CorpLoginRefusal::PathNotAbsolute(key));
            None
        }
        Some(p) => Some(format!("{prefix}{p}")),
    };
    let corp_token_path = path("corp_token_path", &block.corp_token_path);
    let member_path = path("member_path", &block.member_path);
    let leg = block.leg;
    if leg.is_none() {
        refuse("leg", CorpLoginRefusal::Missing("leg"));
    }
    let corp_id = block.corp_id.clone().filter(|id| !id.is_empty());
    if corp_id.is_none() {
        refuse("corp_id", CorpLoginRefusal::Missing("corp_id"));
    }
    let corp_secret = block
        .corp_secret
        .clone()
        .map(|s| s.0)
        .filter(|s| !s.is_empty());
    if corp_secret.is_none() {
        refuse("corp_secret", CorpLoginRefusal::Missing("corp_secret"));
    }
    let token_lifetime = block.token_lifetime.map_or(DEFAULT_TOKEN_LIFETIME, |d| d.0);
    if token_lifetime.as_secs() == 0 {
        refuse("token_lifetime", CorpLoginRefusal::ZeroLifetime);
    }
    let mut keys = Vec::new();
    if block.seal_keys.is_empty() {
        refuse("seal_keys", CorpLoginRefusal::Missing("seal_keys"));
    }
    for key in &block.seal_keys {
        match parse_seal_key(&key.0) {
            Ok(key) => keys.push(key),
            Err(why) => refuse("seal_keys", CorpLoginRefusal::SealKey(why)),
        }
    }
    let sealer = corp_id
        .as_deref()
        .filter(|_| !keys.is_empty())
        .and_then(|id| {
            Sealer::new(&keys, &seal_issuer(id))
                .map_err(|why| refuse("seal_keys", CorpLoginRefusal::SealKey(why)))
                .ok()
        });
    let (
        Some(leg),
        Some(corp_token_path),
        Some(member_path),
        Some(corp_id),
        Some(corp_secret),
        Some(sealer),
        true,
    ) = (
        leg,
        corp_token_path,
        member_path,
        corp_id,
        corp_secret,
        sealer,
        errors.is_empty(),
    )
    else {
        return Err(errors);
    };
    Ok(Some(CorpLogin {
        leg,
        corp_token_path,
        member_path,
        corp_id,
        corp_secret,
        sealer,
        token_lifetime,
        corp_tokens: CorpTokens {
            cache: CorpTokenCache::new(
                block.refresh_before.map_or(DEFAULT_REFRESH_BEFORE, |d| d.0),
            ),
            fetched: tokio::sync::Notify::new(),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0000000000000000000000000000000000000000000000000000000000000000";

    fn block(yaml: &str) -> CorpLoginFile {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn the_routes_keys_join_the_presets_and_paths_go_under_the_upstreams() {
        let preset = block("{ leg: token, corp_token_path: /cgi-bin/gettoken, member_path: /cgi-bin/auth/getuserinfo }");
        let route = block(&format!(
            "{{ corp_id: ww1, corp_secret: s, seal_keys: [\"{KEY}\"], token_lifetime: 10m }}"
        ));
        let login = compile_corp_login(Some(&preset), Some(&route), "/wecom/")
            .unwrap()
            .unwrap();
        assert_eq!(login.leg, CorpLeg::Token);
        assert_eq!(login.corp_token_path, "/wecom/cgi-bin/gettoken");
        assert_eq!(login.member_path, "/wecom/cgi-bin/auth/getuserinfo");
        assert_eq!(login.token_lifetime, Duration::from_secs(600));
        assert!(!format!("{login:?}").contains("corp_secret: \"s\""));
        assert!(compile_corp_login(None, None, "/").unwrap().is_none());
    }

    #[test]
    fn every_missing_or_bad_key_is_named() {
        let errors = compile_corp_login(
            Some(&block("{ leg: token, corp_token_path: cgi-bin/gettoken }")),
            Some(&block("{ seal_keys: [short], token_lifetime: 0 }")),
            "/",
        )
        .unwrap_err();
        let said: Vec<String> = errors.iter().map(|e| format!("{}", e.kind)).collect();
        for expected in [
            "`corp_token_path` must start with '/'",
            "corp_login needs `member_path`",
            "corp_login needs `corp_id`",
            "corp_login needs `corp_secret`",
            "`token_lifetime` must be above zero",
            "seal key refused",
        ] {
            assert!(
                said.iter().any(|s| s.contains(expected)),
                "{expected}: {said:?}"
            );
        }
    }
}
