//! The compiled plan the request path reads: routes by path with their rules,
//! limits, upstream and addresses. Built once per load; swapped whole on reload.

pub mod duration;
pub mod error;
pub mod file;
pub mod oidc;
#[cfg(test)]
mod preset_rewrites;
pub mod rule_specs;
pub mod store;
pub mod upstream;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use quirkgate_core::access::{ExchangeSlots, RequireClientId, RouteAccess, SharedSecret};

use crate::plan::error::{ConfigError, ConfigErrorKind as Kind, KeyPath};
use crate::plan::file::{load_preset, load_preset_with, GatewayFile, RouteFile};
use crate::plan::rule_specs::{
    compile_request_rules, compile_response_rules, compile_route_request_rules,
};
use crate::plan::upstream::{
    pool_identity, resolve_blocking, trust_anchors_with, PeerSettings, UpstreamAddresses,
    UpstreamTarget,
};
use crate::rate_limit::RateLimits;
use crate::telemetry::metrics::RouteMetrics;
use quirkgate_core::client_address::{parse_list, Cidr};
use quirkgate_core::rules::request::{RequestRule, TokenMethod};
use quirkgate_core::rules::response::ResponsePlan;

pub const DEFAULT_CLIENT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_UPSTREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024;
pub const MAX_BODY_BYTES_LIMIT: usize = 1024 * 1024;
pub const DEFAULT_RETRIES: u32 = 2;
/// Largest request header block served: OAuth clients send a few hundred bytes,
/// and Pingora alone would take up to 1 MiB.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The largest `provider_concurrency` a route may set.
pub const MAX_PROVIDER_CONCURRENCY: usize = 1 << 20;

/// One token route: what it accepts, how it rewrites, where it forwards.
pub struct TokenRoute {
    /// The configured path: the `route` label of every metric and log line.
    pub name: String,
    pub methods: Vec<TokenMethod>,
    /// `Allow` header for 405 answers.
    pub allow: String,
    pub upstream: UpstreamTarget,
    pub addresses: Arc<UpstreamAddresses>,
    pub peer: PeerSettings,
    pub timeout: Duration,
    pub body_timeout: Duration,
    pub max_body_bytes: usize,
    pub retries: u32,
    /// Grant types safe to send again after a full write (`client_credentials`).
    pub retry_after_send: Vec<String>,
    /// Runs first when `allowed_client_ids` is set (see `RequireClientId`).
    pub request_rules: Vec<Box<dyn RequestRule>>,
    pub response: ResponsePlan,
    /// Source, shared secret and concurrency checks.
    pub access: RouteAccess,
    /// `rate_limit`: checked after `access` admits the caller.
    pub rate_limits: RateLimits,
    /// `provider_concurrency`: turns at the provider, waited for in order.
    pub provider_turns: Option<tokio::sync::Semaphore>,
    pub metrics: RouteMetrics,
}

impl TokenRoute {
    /// Routes whose callers send a form body (POST); GET routes read none.
    pub fn reads_form(&self) -> bool {
        self.methods.contains(&TokenMethod::Post)
    }
}

/// Everything the request path needs. A reload swaps it whole; in place,
/// only each route's resolved addresses change (the background resolver
/// refreshes them) and its metric series are created on first use.
pub struct GatewayPlan {
    pub routes: HashMap<String, Arc<TokenRoute>>,
    /// Each distinct route once, in file order (for the resolver and readiness).
    pub route_list: Vec<Arc<TokenRoute>>,
    /// Peers whose `X-Forwarded-For` names the caller.
    pub trusted_proxies: Vec<Cidr>,
    /// Seconds an idle keep-alive client connection is kept open.
    pub client_idle_timeout_secs: u64,
    /// OpenID Connect bridge endpoints, by path.
    pub bridges: oidc::BridgePaths,
    /// `store:`, when configured: what the replicas share.
    pub(crate) store: Option<Arc<crate::store::Store>>,
}

impl GatewayPlan {
    pub fn route(&self, path: &str) -> Option<&Arc<TokenRoute>> {
        self.routes.get(path)
    }

    /// The OpenID Connect bridge endpoint at `path`, if any.
    pub fn bridge(&self, path: &str) -> Option<&(Arc<oidc::OidcBridge>, oidc::BridgeEndpoint)> {
        if self.bridges.is_empty() {
            return None;
        }
        self.bridges.get(path)
    }

    /// Ready when every upstream has at least one address.
    pub fn is_ready(&self) -> bool {
        self.route_list.iter().all(|r| r.addresses.is_resolved())
    }
}

/// How a load treats upstream host names.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Resolve now (startup and reload); a failure leaves the route unready, not the load failed.
    Now,
    /// `--test`: check the file only.
    Skip,
}

/// Compiles a file into a plan, collecting every error (each naming its
/// route); presets read their `${VAR}`s from the process environment.
pub fn compile(
    file: &GatewayFile,
    resolution: Resolution,
) -> Result<GatewayPlan, Vec<ConfigError>> {
    compile_with_env(file, resolution, &|var| std::env::var(var).ok())
}

/// [`compile`] with the environment the presets' `${VAR}`s are read from.
pub fn compile_with_env(
    file: &GatewayFile,
    resolution: Resolution,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<GatewayPlan, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut routes = HashMap::new();
    let mut route_list = Vec::new();
    if file.routes.is_empty() {
        errors.push(ConfigError::new(KeyPath::key("routes"), Kind::NoRoutes));
    }
    let trusted_proxies = parse_list(file.trusted_proxies.as_deref().unwrap_or_default())
        .unwrap_or_else(|e| {
            errors.extend(
                e.into_iter()
                    .map(|e| ConfigError::invalid(KeyPath::key("trusted_proxies"), e)),
            );
            Vec::new()
        });
    let store = file.store.as_ref().and_then(|block| {
        store::compile_store(block)
            .map_err(|e| errors.extend(e))
            .ok()
    });
    for (index, route_file) in file.routes.iter().enumerate() {
        let label = KeyPath::route(index, &route_file.path);
        match compile_route(route_file, resolution, env, store.as_ref()) {
            Ok(route) => {
                let route = Arc::new(route);
                for path in std::iter::once(&route_file.path).chain(&route_file.aliases) {
                    if !path.starts_with('/') {
                        errors.push(ConfigError::new(
                            label.clone(),
                            Kind::PathNotAbsolute(path.clone()),
                        ));
                    } else if routes.insert(path.clone(), route.clone()).is_some() {
                        errors.push(ConfigError::new(
                            label.clone(),
                            Kind::PathTaken(path.clone()),
                        ));
                    }
                }
                route_list.push(route);
            }
            Err(e) => errors.extend(e.into_iter().map(|e| e.under(&label))),
        }
    }
    let bridges = if errors.is_empty() {
        oidc::compile_bridges(file, &routes, env).unwrap_or_else(|e| {
            errors.extend(
                e.into_iter()
                    .map(|e| ConfigError::invalid(KeyPath::root(), e)),
            );
            Default::default()
        })
    } else {
        Default::default()
    };
    if errors.is_empty() {
        Ok(GatewayPlan {
            bridges,
            store,
            routes,
            route_list,
            trusted_proxies,
            client_idle_timeout_secs: file
                .client_idle_timeout
                .map_or(DEFAULT_CLIENT_IDLE_TIMEOUT, |d| d.0)
                .as_secs()
                .max(1),
        })
    } else {
        Err(errors)
    }
}

fn compile_route(
    file: &RouteFile,
    resolution: Resolution,
    env: &dyn Fn(&str) -> Option<String>,
    store: Option<&Arc<crate::store::Store>>,
) -> Result<TokenRoute, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let preset = match file
        .preset
        .as_deref()
        .map(|name| load_preset_with(name, env))
        .transpose()
    {
        Ok(p) => p,
        Err(e) => return Err(vec![ConfigError::invalid(KeyPath::key("preset"), e)]),
    };
    let request_specs: Vec<_> = preset
        .iter()
        .flat_map(|p| p.request.clone())
        .chain(file.request.clone())
        .collect();
    let response_specs: Vec<_> = preset
        .iter()
        .flat_map(|p| p.response.clone())
        .chain(file.response.clone())
        .collect();
    let mut request_rules = compile_route_request_rules(&request_specs, &file.path)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    if let Some(allowed) = &file.allowed_client_ids {
        if allowed.is_empty() || allowed.iter().any(|id| id.is_empty()) {
            errors.push(ConfigError::new(
                KeyPath::key("allowed_client_ids"),
                Kind::NoAllowedClientIds,
            ));
        }
        // First, while the body still has the caller's standard names.
        request_rules.insert(
            0,
            Box::new(RequireClientId {
                allowed: allowed.clone(),
            }),
        );
    }
    let (access, rate_limits) = compile_access(file, store)
        .map_err(|e| errors.extend(e))
        .unwrap_or_default();
    let response = compile_response_rules(&response_specs)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();

    let upstream_url = file
        .upstream
        .clone()
        .or_else(|| preset.as_ref().and_then(|p| p.upstream.clone()));
    let upstream = match upstream_url.as_deref().map(UpstreamTarget::parse) {
        Some(Ok(target)) => Some(target),
        Some(Err(e)) => {
            errors.push(ConfigError::invalid(KeyPath::key("upstream"), e));
            None
        }
        None => {
            errors.push(ConfigError::new(
                KeyPath::key("upstream"),
                Kind::UpstreamMissing,
            ));
            None
        }
    };
    let method_names = file
        .methods
        .clone()
        .or_else(|| preset.as_ref().and_then(|p| p.methods.clone()))
        .unwrap_or_else(|| vec!["POST".to_owned()]);
    let mut methods = Vec::new();
    for name in &method_names {
        match TokenMethod::parse(name) {
            Ok(method) => methods.push(method),
            Err(why) => errors.push(ConfigError::invalid(KeyPath::key("methods"), why)),
        }
    }
    let max_body_bytes = file.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES);
    if max_body_bytes == 0 || max_body_bytes > MAX_BODY_BYTES_LIMIT {
        errors.push(ConfigError::new(
            KeyPath::key("max_body_bytes"),
            Kind::BodyLimitOutOfRange {
                value: max_body_bytes,
                limit: MAX_BODY_BYTES_LIMIT,
            },
        ));
    }
    let connect_timeout = file
        .connect_timeout
        .map_or(DEFAULT_CONNECT_TIMEOUT, |d| d.0);
    let timeout = file.timeout.map_or(DEFAULT_TIMEOUT, |d| d.0);
    if connect_timeout.is_zero() || timeout.is_zero() {
        errors.push(ConfigError::new(KeyPath::root(), Kind::ZeroTimeout));
    }
    if connect_timeout > timeout {
        errors.push(ConfigError::new(
            KeyPath::root(),
            Kind::ConnectTimeoutOverTimeout,
        ));
    }
    let (ca, trust_group) = match &file.ca_file {
        Some(path) => match trust_anchors_with(path) {
            Ok((ca, group)) => (Some(ca), group),
            Err(e) => {
                errors.push(ConfigError::invalid(KeyPath::root(), e));
                (None, 0)
            }
        },
        None => (None, 0),
    };
    let retry_after_send = file.retry_after_send.clone().unwrap_or_default();
    for grant in &retry_after_send {
        if grant == "authorization_code" || grant == "refresh_token" {
            errors.push(ConfigError::new(
                KeyPath::key("retry_after_send"),
                Kind::SingleUseGrant(grant.clone()),
            ));
        }
    }
    // Semaphore's own bound is far above any sensible figure.
    if file
        .provider_concurrency
        .is_some_and(|n| !(1..=MAX_PROVIDER_CONCURRENCY).contains(&n))
    {
        errors.push(ConfigError::new(
            KeyPath::key("provider_concurrency"),
            Kind::ConcurrencyOutOfRange {
                max: MAX_PROVIDER_CONCURRENCY,
            },
        ));
    }
    let (Some(upstream), true) = (upstream, errors.is_empty()) else {
        return Err(errors);
    };
    let addresses = match resolution {
        Resolution::Now => resolve_blocking(&upstream),
        Resolution::Skip => Vec::new(),
    };
    if resolution == Resolution::Now && addresses.is_empty() {
        log::warn!(
            "upstream host {} did not resolve yet; the route answers 502 until it does",
            upstream.host
        );
    }
    Ok(TokenRoute {
        metrics: RouteMetrics::new(&file.path),
        name: file.path.clone(),
        allow: methods
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        methods,
        addresses: Arc::new(UpstreamAddresses::new(addresses)),
        peer: PeerSettings {
            connect_timeout,
            io_timeout: timeout,
            idle_timeout: file
                .upstream_idle_timeout
                .map_or(DEFAULT_UPSTREAM_IDLE_TIMEOUT, |d| d.0),
            ca,
            trust_group,
            pool_identity: pool_identity(&upstream, trust_group),
        },
        upstream,
        timeout,
        body_timeout: file.body_timeout.map_or(DEFAULT_BODY_TIMEOUT, |d| d.0),
        max_body_bytes,
        retries: file.retries.unwrap_or(DEFAULT_RETRIES),
        retry_after_send,
        request_rules,
        response,
        access,
        rate_limits,
        provider_turns: file.provider_concurrency.map(tokio::sync::Semaphore::new),
    })
}

/// The route's `allow_sources`, `shared_secret`, `rate_limit` and `max_concurrent_exchanges`.
fn compile_access(
    file: &RouteFile,
    store: Option<&Arc<crate::store::Store>>,
) -> Result<(RouteAccess, RateLimits), Vec<ConfigError>> {
    let mut errors = Vec::new();
    let allow_sources = match file.allow_sources.as_deref() {
        Some([]) => {
            errors.push(ConfigError::new(
                KeyPath::key("allow_sources"),
                Kind::NoAllowSources,
            ));
            Vec::new()
        }
        Some(list) => parse_list(list).unwrap_or_else(|e| {
            errors.extend(
                e.into_iter()
                    .map(|e| ConfigError::invalid(KeyPath::key("allow_sources"), e)),
            );
            Vec::new()
        }),
        None => Vec::new(),
    };
    let shared_secret = file.shared_secret.as_ref().and_then(|s| {
        SharedSecret::new(&s.header, &s.value)
            .map_err(|e| errors.push(ConfigError::invalid(KeyPath::root(), e)))
            .ok()
    });
    let rate = file.rate_limit.unwrap_or(crate::plan::file::RateLimitFile {
        per_client_address_per_second: None,
        per_route_per_second: None,
        scope: Default::default(),
    });
    let fleet_store = store::fleet_scope(rate.scope, store).map_err(|e| errors.push(e));
    for (key, value) in [
        (
            "per_client_address_per_second",
            rate.per_client_address_per_second,
        ),
        ("per_route_per_second", rate.per_route_per_second),
    ] {
        if value == Some(0) {
            errors.push(ConfigError::new(
                KeyPath::key("rate_limit").then(key),
                Kind::BelowOne,
            ));
        }
    }
    if file.max_concurrent_exchanges == Some(0) {
        errors.push(ConfigError::new(
            KeyPath::key("max_concurrent_exchanges"),
            Kind::BelowOne,
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let access = RouteAccess {
        allow_sources,
        shared_secret,
        exchange_slots: file.max_concurrent_exchanges.map(ExchangeSlots::new),
    };
    let mut rate_limits = RateLimits::new(
        rate.per_client_address_per_second,
        rate.per_route_per_second,
    );
    if let Ok(Some(store)) = fleet_store {
        rate_limits = rate_limits.fleet_wide(store, &file.path);
    }
    Ok((access, rate_limits))
}

/// A shipped preset's request rules, compiled: what a route naming only that
/// preset rewrites with.
pub fn preset_request_rules(name: &str) -> Result<Vec<Box<dyn RequestRule>>, ConfigError> {
    let preset = load_preset(name).map_err(|e| ConfigError::invalid(KeyPath::root(), e))?;
    compile_request_rules(&preset.request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::file::parse_text;

    use crate::plan::error::{RuleList, Segment};

    fn compile_text(text: &str) -> Result<GatewayPlan, Vec<ConfigError>> {
        compile(&parse_text(text, &|_| None).unwrap(), Resolution::Skip)
    }

    /// The route an error names, by position.
    fn route_of(error: &ConfigError) -> Option<usize> {
        match error.key.segments().first() {
            Some(Segment::Route { index, .. }) => Some(*index),
            _ => None,
        }
    }

    /// The error's key without its route: `rate_limit.per_route_per_second`.
    fn key_in_route(error: &ConfigError) -> String {
        let inner: Vec<_> = error
            .key
            .segments()
            .iter()
            .filter(|s| !matches!(s, Segment::Route { .. }))
            .cloned()
            .collect();
        let mut key = KeyPath::root();
        for segment in inner {
            key = match segment {
                Segment::Key(name) => key.then(name),
                Segment::Index(i) => key.at(i),
                Segment::Route { .. } => key,
            };
        }
        key.to_string()
    }

    #[test]
    fn shipped_config_compiles_with_both_paths() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/quirkgate.yaml"))
                .unwrap();
        let plan = compile_text(&text).unwrap();
        assert!(plan.route("/token/proxy").is_some());
        assert!(plan.route("/proxy/token").is_some());
        assert!(Arc::ptr_eq(
            plan.route("/token/proxy").unwrap(),
            plan.route("/proxy/token").unwrap()
        ));
    }

    #[test]
    fn every_error_names_its_route() {
        let errors = compile_text(
            "routes:\n  - path: /a\n    preset: nope\n  - path: b\n    upstream: http://127.0.0.1:1/\n  - path: /c\n    upstream: http://127.0.0.1:1/\n    retry_after_send: [authorization_code]\n",
        )
        .err()
        .expect("the file must be refused");
        assert!(
            errors.iter().any(|e| route_of(e) == Some(0)
                && key_in_route(e) == "preset"
                && e.kind.to_string().contains("unknown preset")),
            "{errors:?}"
        );
        assert!(
            errors.iter().any(|e| route_of(e) == Some(1)
                && matches!(&e.kind, Kind::PathNotAbsolute(path) if path == "b")),
            "{errors:?}"
        );
        assert!(
            errors.iter().any(|e| route_of(e) == Some(2)
                && matches!(&e.kind, Kind::SingleUseGrant(grant) if grant == "authorization_code")),
            "{errors:?}"
        );
    }

    #[test]
    fn every_shipped_preset_compiles_into_a_route_and_needs_its_variables() {
        let routes: String = crate::plan::file::PRESETS
            .iter()
            .map(|(name, _)| {
                format!("  - path: /{name}\n    preset: {name}\n    upstream: https://provider.example/t\n")
            })
            .collect();
        let file = parse_text(&format!("routes:\n{routes}"), &|_| None).unwrap();
        // A real key for the presets that sign (Apple).
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("AuthKey_TEST.p8");
        std::fs::write(&key_file, quirkgate_core::signed_jwt::test_es256_key().0).unwrap();
        let key_path = key_file.to_str().unwrap().to_owned();
        let env = move |var: &str| {
            Some(if var.ends_with("_KEY_FILE") {
                key_path.clone()
            } else {
                "value".to_owned()
            })
        };
        let plan =
            compile_with_env(&file, Resolution::Skip, &env).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(plan.route_list.len(), crate::plan::file::PRESETS.len());
        let errors = compile_with_env(&file, Resolution::Skip, &|_| None)
            .err()
            .expect("presets that need values are refused without them");
        for (name, _) in crate::plan::file::PRESETS {
            for var in crate::plan::file::preset_variables(name) {
                assert!(
                    errors
                        .iter()
                        .any(|e| e.key.to_string().contains(&format!("(/{name})"))
                            && e.kind.to_string().contains(&var)),
                    "{name} {var}: {errors:?}"
                );
            }
        }
    }

    #[test]
    fn a_missing_or_unusable_key_file_is_a_load_error_naming_the_route() {
        let dir = tempfile::tempdir().unwrap();
        let not_a_key = dir.path().join("not-a-key.p8");
        std::fs::write(&not_a_key, "hello").unwrap();
        for (key_file, needle) in [
            ("/nonexistent/AuthKey.p8".to_owned(), "No such file"),
            (not_a_key.to_str().unwrap().to_owned(), "no PEM private key"),
        ] {
            let text = "routes:\n  - path: /apple\n    preset: apple\n    upstream: https://provider.example/t\n";
            let file = parse_text(text, &|_| None).unwrap();
            let env = |var: &str| {
                Some(if var == "APPLE_KEY_FILE" {
                    key_file.clone()
                } else {
                    "value".to_owned()
                })
            };
            let errors = compile_with_env(&file, Resolution::Skip, &env)
                .err()
                .expect("refused");
            assert!(
                errors.iter().any(|e| route_of(e) == Some(0)
                    && e.to_string().starts_with("routes[0] (/apple)")
                    && e.kind.to_string().contains("signed_client_secret")
                    && e.kind.to_string().contains(needle)),
                "{errors:?}"
            );
        }
    }

    #[test]
    fn duplicate_paths_are_refused() {
        let errors = compile_text(
            "routes:\n  - path: /a\n    preset: tiktok\n  - path: /b\n    aliases: [/a]\n    preset: tiktok\n",
        )
        .err()
        .expect("the file must be refused");
        assert!(
            errors
                .iter()
                .any(|e| route_of(e) == Some(1)
                    && matches!(&e.kind, Kind::PathTaken(p) if p == "/a")),
            "{errors:?}"
        );
    }

    #[test]
    fn access_keys_compile_and_bad_values_are_named() {
        let plan = compile_text(
            "trusted_proxies: [10.0.0.0/8]\nroutes:\n  - path: /a\n    preset: tiktok\n    allowed_client_ids: [app]\n    allow_sources: [192.0.2.0/24, \"::1\"]\n    shared_secret: { header: X-Quirkgate-Secret, value: s3cret }\n    rate_limit: { per_client_address_per_second: 5, per_route_per_second: 50 }\n    max_concurrent_exchanges: 8\n",
        )
        .unwrap();
        let route = plan.route("/a").unwrap();
        assert_eq!(plan.trusted_proxies.len(), 1);
        assert_eq!(route.access.allow_sources.len(), 2);
        assert!(route.access.shared_secret.is_some() && route.access.exchange_slots.is_some());
        assert!(
            format!("{:?}", route.request_rules[0]).starts_with("RequireClientId"),
            "the client id check runs before the preset's rules"
        );

        let errors = compile_text(
            "trusted_proxies: [nope]\nroutes:\n  - path: /a\n    preset: tiktok\n    allowed_client_ids: []\n    allow_sources: [10.0.0.1/8]\n    shared_secret: { header: Authorization, value: x }\n    rate_limit: { per_route_per_second: 0 }\n    max_concurrent_exchanges: 0\n    provider_concurrency: 0\n",
        )
        .err()
        .expect("the file must be refused");
        let has = |key: &str, kind: &dyn Fn(&Kind) -> bool| {
            errors
                .iter()
                .any(|e| key_in_route(e) == key && kind(&e.kind))
        };
        assert!(
            has(
                "trusted_proxies",
                &|k| matches!(k, Kind::Invalid(t) if t.contains("'nope'"))
            ),
            "{errors:?}"
        );
        assert!(
            has("allowed_client_ids", &|k| matches!(
                k,
                Kind::NoAllowedClientIds
            )),
            "{errors:?}"
        );
        assert!(
            has(
                "allow_sources",
                &|k| matches!(k, Kind::Invalid(t) if t.contains("'10.0.0.1/8' has host bits set"))
            ),
            "{errors:?}"
        );
        assert!(
            has(
                "",
                &|k| matches!(k, Kind::Invalid(t) if t.contains("shared_secret.header"))
            ),
            "{errors:?}"
        );
        assert!(
            has("rate_limit.per_route_per_second", &|k| matches!(
                k,
                Kind::BelowOne
            )),
            "{errors:?}"
        );
        assert!(
            has("max_concurrent_exchanges", &|k| matches!(k, Kind::BelowOne)),
            "{errors:?}"
        );
        assert!(
            has("provider_concurrency", &|k| matches!(
                k,
                Kind::ConcurrencyOutOfRange { .. }
            )),
            "{errors:?}"
        );
    }

    #[test]
    fn preset_rules_run_before_the_routes_own() {
        let errors = compile_text(
            "routes:\n  - path: /a\n    preset: tiktok\n    request:\n      - rename: { body: { client_id: other } }\n",
        )
        .err()
        .expect("the file must be refused");
        assert!(
            errors
                .iter()
                .any(|e| matches!(&e.kind, Kind::Rule { list: RuleList::Request, word: "rename", why, .. } if why.contains("can never apply"))),
            "{errors:?}"
        );
    }
}
