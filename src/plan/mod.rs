//! The compiled plan the request path reads: routes by path with their rules,
//! limits, upstream and addresses. Built once per load; swapped whole on reload.

pub mod corp_login;
mod corp_login_file;
mod corp_login_refusal;
pub mod duration;
pub mod error;
pub mod file;
pub mod oidc;
mod oidc_refusal;
#[cfg(test)]
mod preset_rewrites;
pub mod rule_specs;
pub mod store;
mod store_refusal;
mod tenant_host;
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
/// Compiled once per load; only `provider.addresses` and the semaphore and
/// limiters inside change while it serves.
pub struct TokenRoute {
    /// The configured path: the `route` label of every metric and log line.
    pub name: String,
    pub caller: CallerLimits,
    pub admission: Admission,
    pub rewrite: RouteRewrite,
    pub provider: ProviderLeg,
    pub metrics: RouteMetrics,
    /// `corp_login:` (WeCom): the route answers from its own legs, not by forwarding.
    pub corp_login: Option<corp_login::CorpLogin>,
}

/// What a caller's request may be: its method, its body's size and time.
pub struct CallerLimits {
    pub methods: Vec<TokenMethod>,
    /// `Allow` header for 405 answers.
    pub allow: String,
    pub max_body_bytes: usize,
    pub body_timeout: Duration,
}

/// Who may call, and how often: checked in this order before any rewrite.
pub struct Admission {
    /// Source, shared secret and concurrency checks.
    pub access: RouteAccess,
    /// `rate_limit`: checked after `access` admits the caller.
    pub rate_limits: RateLimits,
}

/// The rewrite, both ways.
pub struct RouteRewrite {
    /// Runs first when `allowed_client_ids` is set (see `RequireClientId`).
    pub request_rules: Vec<Box<dyn RequestRule>>,
    pub response: ResponsePlan,
}

/// The provider leg: where, for how long, how often again, how many at once.
pub struct ProviderLeg {
    pub upstream: UpstreamTarget,
    /// Refreshed in place by the background resolver.
    pub addresses: Arc<UpstreamAddresses>,
    pub peer: PeerSettings,
    /// The whole exchange, retries included.
    pub timeout: Duration,
    pub retries: u32,
    /// Grant types safe to send again after a full write (`client_credentials`).
    pub retry_after_send: Vec<String>,
    /// `provider_concurrency`: turns at the provider, waited for in order.
    pub turns: Option<tokio::sync::Semaphore>,
}

impl TokenRoute {
    /// Routes whose callers send a form body (POST); GET routes read none.
    pub fn reads_form(&self) -> bool {
        self.caller.methods.contains(&TokenMethod::Post)
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
        self.route_list
            .iter()
            .all(|r| r.provider.addresses.is_resolved())
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
                e.into_iter().map(|e| {
                    ConfigError::new(KeyPath::key("trusted_proxies"), Kind::AddressBlock(e))
                }),
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
        oidc::compile_bridges(file, &routes, store.as_ref(), env).unwrap_or_else(|e| {
            errors.extend(e);
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
        Err(e) => return Err(vec![e.under(&KeyPath::key("preset"))]),
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
        Some(Ok(target)) => {
            let pattern = preset.as_ref().and_then(|p| p.upstream_host.as_deref());
            tenant_host::check_tenant_host(pattern, file.upstream.as_deref(), &target)
                .map_err(|e| errors.push(e))
                .ok()
                .map(|()| target)
        }
        Some(Err(e)) => {
            errors.push(ConfigError::new(
                KeyPath::key("upstream"),
                Kind::Upstream(e),
            ));
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
            Err(_) => errors.push(ConfigError::new(
                KeyPath::key("methods"),
                Kind::UnknownMethod(name.to_ascii_uppercase()),
            )),
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
                errors.push(ConfigError::new(
                    KeyPath::root(),
                    Kind::CaFile {
                        path: path.clone(),
                        why: e,
                    },
                ));
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
    let corp_login = upstream.as_ref().and_then(|target| {
        corp_login::compile_corp_login(
            preset.as_ref().and_then(|p| p.corp_login.as_ref()),
            file.corp_login.as_ref(),
            &target.path,
        )
        .map_err(|e| errors.extend(e))
        .ok()
        .flatten()
    });
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
    let allow = methods
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Ok(TokenRoute {
        corp_login,
        metrics: RouteMetrics::new(&file.path),
        name: file.path.clone(),
        caller: CallerLimits {
            methods,
            allow,
            max_body_bytes,
            body_timeout: file.body_timeout.map_or(DEFAULT_BODY_TIMEOUT, |d| d.0),
        },
        admission: Admission {
            access,
            rate_limits,
        },
        rewrite: RouteRewrite {
            request_rules,
            response,
        },
        provider: ProviderLeg {
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
            retries: file.retries.unwrap_or(DEFAULT_RETRIES),
            retry_after_send,
            turns: file.provider_concurrency.map(tokio::sync::Semaphore::new),
        },
    })
}

/// The route's `allow_sources`, `shared_secret`, `rate_limit` and `max_concurrent_exchanges`.
fn compile_access(
    file: &RouteFile,
    store: Option<&Arc<crate::store::Store>>,
) -> Result<(RouteAccess, RateLimits), Vec<ConfigError>> {
    let mut errors = Vec::new();
    let allow_sources =
        match file.allow_sources.as_deref() {
            Some([]) => {
                errors.push(ConfigError::new(
                    KeyPath::key("allow_sources"),
                    Kind::NoAllowSources,
                ));
                Vec::new()
            }
            Some(list) => parse_list(list).unwrap_or_else(|e| {
                errors.extend(e.into_iter().map(|e| {
                    ConfigError::new(KeyPath::key("allow_sources"), Kind::AddressBlock(e))
                }));
                Vec::new()
            }),
            None => Vec::new(),
        };
    let shared_secret = file.shared_secret.as_ref().and_then(|s| {
        SharedSecret::new(&s.header, &s.value)
            .map_err(|e| errors.push(ConfigError::new(KeyPath::root(), Kind::SharedSecret(e))))
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
    let preset = load_preset(name)?;
    compile_request_rules(&preset.request)
}

#[cfg(test)]
mod tests;
