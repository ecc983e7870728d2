//! The `store:` block: the shared Redis (or Valkey) that lets replicas agree
//! (see `crate::store`). Compiled once per load into a [`Store`] that
//! connects on first use; a file without `store:` compiles to no store.

use std::sync::Arc;
use std::time::Duration;

use redis::cluster::ClusterClientBuilder;
use redis::sentinel::{SentinelClientBuilder, SentinelServerType};
use redis::{Client, ConnectionAddr, ConnectionInfo, IntoConnectionInfo, TlsCertificates, TlsMode};
use serde::Deserialize;

use crate::plan::duration::DurationText;
use crate::plan::error::{ConfigError, ConfigErrorKind, KeyPath, StoreRefusal};
use crate::store::{OnStoreError, Store, StoreSettings, StoreTarget};

pub(crate) const DEFAULT_STORE_CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
pub(crate) const DEFAULT_STORE_COMMAND_TIMEOUT: Duration = Duration::from_millis(250);
pub(crate) const DEFAULT_STORE_POOL_SIZE: usize = 4;
const MAX_STORE_POOL_SIZE: usize = 64;

/// `store: { urls: [redis://redis:6379], mode: standalone, … }`.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct StoreFile {
    /// `redis://` or `rediss://` (TLS, verified): the server (standalone),
    /// the Sentinels (sentinel) or the Cluster's seed nodes (cluster).
    pub urls: Vec<String>,
    #[serde(default)]
    pub mode: StoreMode,
    /// The master's name, as the Sentinels know it (sentinel mode).
    pub master_name: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// PEM trust anchors for `rediss://` in place of the system's.
    pub ca_file: Option<String>,
    pub connect_timeout: Option<DurationText>,
    pub command_timeout: Option<DurationText>,
    /// Connections per replica (each pipelines many requests).
    pub pool_size: Option<usize>,
    /// What a code claim does when the store cannot answer: `refuse` (the
    /// default) or `allow` (this replica's memory decides).
    #[serde(default)]
    pub on_store_error: OnStoreErrorWord,
}

/// The password is a secret: no `{:?}` of the file may print it.
impl std::fmt::Debug for StoreFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreFile")
            .field("urls", &self.urls.len())
            .field("mode", &self.mode)
            .field("master_name", &self.master_name)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StoreMode {
    #[default]
    Standalone,
    Sentinel,
    Cluster,
}

#[derive(Debug, Deserialize, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnStoreErrorWord {
    #[default]
    Refuse,
    Allow,
}

/// `rate_limit.scope`: who counts a route's budget.
#[derive(Debug, Deserialize, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RateScope {
    /// Each replica counts its own (the default).
    #[default]
    Replica,
    /// The store counts for every replica.
    Fleet,
}

fn refused(key: KeyPath, why: StoreRefusal) -> ConfigError {
    ConfigError::new(key, ConfigErrorKind::Store(why))
}

fn key(name: &'static str) -> KeyPath {
    KeyPath::key("store").then(name)
}

/// The store a file's `store:` block describes, not yet connected.
pub(crate) fn compile_store(file: &StoreFile) -> Result<Arc<Store>, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut infos = Vec::new();
    if file.urls.is_empty() {
        errors.push(refused(key("urls"), StoreRefusal::NoUrls));
    }
    for url in &file.urls {
        match connection_info(url, file) {
            Ok(info) => infos.push(info),
            Err(why) => errors.push(refused(key("urls"), why)),
        }
    }
    let tls = infos
        .iter()
        .any(|i| matches!(i.addr(), ConnectionAddr::TcpTls { .. }));
    let root_cert = match &file.ca_file {
        Some(path) if !tls => {
            errors.push(refused(
                key("ca_file"),
                StoreRefusal::CaFileWithoutTls(path.clone()),
            ));
            None
        }
        Some(path) => std::fs::read(path)
            .map_err(|e| {
                let why = StoreRefusal::CaFileUnreadable {
                    path: path.clone(),
                    why: e.to_string(),
                };
                errors.push(refused(key("ca_file"), why))
            })
            .ok(),
        None => None,
    };
    let pool_size = file.pool_size.unwrap_or(DEFAULT_STORE_POOL_SIZE);
    if !(1..=MAX_STORE_POOL_SIZE).contains(&pool_size) {
        errors.push(refused(
            key("pool_size"),
            StoreRefusal::PoolSize {
                max: MAX_STORE_POOL_SIZE,
            },
        ));
    }
    let connect_timeout = file
        .connect_timeout
        .map_or(DEFAULT_STORE_CONNECT_TIMEOUT, |d| d.0);
    let command_timeout = file
        .command_timeout
        .map_or(DEFAULT_STORE_COMMAND_TIMEOUT, |d| d.0);
    for (name, value) in [
        ("connect_timeout", connect_timeout),
        ("command_timeout", command_timeout),
    ] {
        if value.is_zero() {
            errors.push(refused(key(name), StoreRefusal::ZeroTimeout));
        }
    }
    match (file.mode, &file.master_name) {
        (StoreMode::Sentinel, None) => {
            errors.push(refused(key("master_name"), StoreRefusal::MasterNameMissing))
        }
        (StoreMode::Standalone | StoreMode::Cluster, Some(_)) => {
            errors.push(refused(key("master_name"), StoreRefusal::MasterNameUnused))
        }
        _ => {}
    }
    if file.mode == StoreMode::Standalone && file.urls.len() > 1 {
        errors.push(refused(key("urls"), StoreRefusal::StandaloneTakesOneUrl));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let certificates = || TlsCertificates {
        client_tls: None,
        root_cert: root_cert.clone(),
    };
    let target = match file.mode {
        StoreMode::Standalone => {
            let info = infos.remove(0);
            if tls && root_cert.is_some() {
                Client::build_with_tls(info, certificates())
            } else {
                Client::open(info)
            }
            .map(StoreTarget::Standalone)
        }
        StoreMode::Sentinel => sentinel(file, &infos, tls, root_cert.is_some().then(certificates)),
        StoreMode::Cluster => {
            let mut builder = ClusterClientBuilder::new(infos)
                .connection_timeout(connect_timeout)
                .response_timeout(command_timeout)
                .retries(1);
            if tls && root_cert.is_some() {
                builder = builder.certs(certificates());
            }
            builder.build().map(StoreTarget::Cluster)
        }
    }
    .map_err(|e| {
        let why = StoreRefusal::NotAStoreUrl(format!("{:?}", e.kind()));
        vec![refused(key("urls"), why)]
    })?;
    Ok(Store::new(StoreSettings {
        target,
        connect_timeout,
        command_timeout,
        pool_size,
        on_error: match file.on_store_error {
            OnStoreErrorWord::Refuse => OnStoreError::Refuse,
            OnStoreErrorWord::Allow => OnStoreError::Allow,
        },
    }))
}

/// The store a route's `rate_limit.scope` counts in: `fleet` needs a `store:`.
pub(crate) fn fleet_scope(
    scope: RateScope,
    store: Option<&Arc<Store>>,
) -> Result<Option<Arc<Store>>, ConfigError> {
    match (scope, store) {
        (RateScope::Replica, _) => Ok(None),
        (RateScope::Fleet, Some(store)) => Ok(Some(store.clone())),
        (RateScope::Fleet, None) => Err(refused(
            KeyPath::key("rate_limit").then("scope"),
            StoreRefusal::FleetNeedsStore,
        )),
    }
}

/// One URL with the block's user and password; TLS is always verified.
fn connection_info(url: &str, file: &StoreFile) -> Result<ConnectionInfo, StoreRefusal> {
    let scheme = url.split("://").next().unwrap_or_default();
    if scheme != "redis" && scheme != "rediss" {
        return Err(StoreRefusal::Scheme(scheme.to_owned()));
    }
    if url.contains('#') {
        return Err(StoreRefusal::Fragment);
    }
    if url.contains('@') {
        return Err(StoreRefusal::CredentialsInUrl);
    }
    let info = url
        .into_connection_info()
        .map_err(|e| StoreRefusal::NotAStoreUrl(format!("{:?}", e.kind())))?;
    let mut redis = info.redis_settings().clone();
    if let Some(username) = &file.username {
        redis = redis.set_username(username);
    }
    if let Some(password) = &file.password {
        redis = redis.set_password(password);
    }
    Ok(info.set_redis_settings(redis))
}

fn sentinel(
    file: &StoreFile,
    infos: &[ConnectionInfo],
    tls: bool,
    certificates: Option<TlsCertificates>,
) -> redis::RedisResult<StoreTarget> {
    let master = file.master_name.as_deref().unwrap_or_default();
    let mut builder = SentinelClientBuilder::new(
        infos.iter().map(|i| i.addr().clone()),
        master,
        SentinelServerType::Master,
    )?;
    if let Some(username) = &file.username {
        builder = builder.set_client_to_redis_username(username);
    }
    if let Some(password) = &file.password {
        builder = builder.set_client_to_redis_password(password);
    }
    if tls {
        builder = builder
            .set_client_to_redis_tls_mode(TlsMode::Secure)
            .set_client_to_sentinel_tls_mode(TlsMode::Secure);
        if let Some(certificates) = certificates {
            builder = builder
                .set_client_to_redis_certificates(certificates.clone())
                .set_client_to_sentinel_certificates(certificates);
        }
    }
    let client = builder.build()?;
    Ok(StoreTarget::Sentinel(tokio::sync::Mutex::new(client)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(yaml: &str) -> Result<Arc<Store>, Vec<String>> {
        let file: StoreFile = serde_yaml::from_str(yaml).unwrap();
        compile_store(&file).map_err(|e| e.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn a_store_block_compiles_in_each_mode() {
        assert!(compile("urls: [redis://127.0.0.1:6379]").is_ok());
        assert!(compile(
            "urls: [redis://a:26379, redis://b:26379]\nmode: sentinel\nmaster_name: m"
        )
        .is_ok());
        assert!(compile(
            "urls: [redis://a:7000, redis://b:7000]\nmode: cluster\nusername: u\npassword: p"
        )
        .is_ok());
        assert!(compile(
            "urls: [rediss://redis.example:6380]\ncommand_timeout: 100ms\npool_size: 2"
        )
        .is_ok());
    }

    #[test]
    fn a_store_block_is_refused_with_its_key() {
        let refused = |yaml: &str, what: &str| {
            let errors = compile(yaml).err().unwrap_or_default();
            assert!(
                errors.iter().any(|e| e.contains(what)),
                "{yaml}: {errors:?}"
            );
        };
        refused("urls: []", "store.urls");
        refused("urls: [http://redis:6379]", "redis:// or rediss://");
        refused(
            "urls: [\"rediss://redis:6380/#insecure\"]",
            "always verified",
        );
        refused("urls: [\"redis://user:pw@redis:6379\"]", "password:");
        refused(
            "urls: [redis://a:1, redis://b:1]",
            "standalone mode takes one URL",
        );
        refused("urls: [redis://a:1]\nmode: sentinel", "store.master_name");
        refused("urls: [redis://a:1]\nmaster_name: m", "only sentinel");
        refused("urls: [redis://a:1]\nca_file: /x.pem", "only rediss://");
        refused("urls: [redis://a:1]\npool_size: 0", "store.pool_size");
        refused(
            "urls: [redis://a:1]\ncommand_timeout: 0s",
            "store.command_timeout",
        );
    }

    #[test]
    fn a_fleet_scope_needs_a_store() {
        let routes = "routes:\n  - path: /t\n    preset: tiktok\n    rate_limit: { per_route_per_second: 5, scope: fleet }\n";
        let load = |text: &str| {
            let file: crate::plan::file::GatewayFile = serde_yaml::from_str(text).unwrap();
            crate::plan::compile(&file, crate::plan::Resolution::Skip)
                .map(|plan| plan.route_list[0].admission.rate_limits.is_fleet_wide())
                .map_err(|e| e.iter().map(ToString::to_string).collect::<Vec<_>>())
        };
        let errors = load(routes).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.contains("rate_limit.scope") && e.contains("store:")),
            "{errors:?}"
        );
        let with_store = format!("store: {{ urls: [\"redis://127.0.0.1:6379\"] }}\n{routes}");
        assert_eq!(load(&with_store), Ok(true));
        assert_eq!(load(&routes.replace("fleet", "replica")), Ok(false));
    }

    #[test]
    fn the_password_is_never_in_the_debug_text() {
        let file: StoreFile =
            serde_yaml::from_str("urls: [redis://a:1]\npassword: hunter2-secret").unwrap();
        assert!(!format!("{file:?}").contains("hunter2"));
    }
}
