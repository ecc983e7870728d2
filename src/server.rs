//! Builds the Pingora server a configuration describes: the gateway service,
//! the metrics/health listener, and the background resolver and reloader.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use pingora::apps::http_app::ServeHttp;
use pingora::connectors::{ConnectorOptions, TransportConnector};
use pingora::listeners::ListenerConfig;
use pingora::protocols::http::ServerSession;
use pingora::protocols::l4::stream::L4BufferSettings;
use pingora::server::configuration::{Opt, ServerConf};
use pingora::server::{Server, ShutdownWatch};
use pingora::services::background::{background_service, BackgroundService};
use pingora::services::listening::Service;

use crate::front::edge_tls::{EdgeCertificate, EdgeTls};
use crate::front::front_door::FrontDoor;
use crate::front::pingora_front_end::PingoraFrontEnd;
use crate::gateway::TokenGateway;
use crate::plan::file::{load_file, GatewayFile};
use crate::plan::upstream::resolve;
use crate::plan::{compile, GatewayPlan, Resolution};
use crate::telemetry::metrics::{render, METRICS};
use crate::upstream::exchange::{ProviderConnector, RetryReason};
use quirkgate_core::oauth_error::{FailureKind, Reason};

pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(5);
pub const DEFAULT_DNS_REFRESH: Duration = Duration::from_secs(30);
pub const DEFAULT_UPSTREAM_POOL: usize = 128;

/// Loads and compiles a file; every error is listed.
pub fn load_plan(
    path: &str,
    resolution: Resolution,
) -> Result<(GatewayFile, GatewayPlan), Vec<String>> {
    let file = load_file(path).map_err(|e| vec![e.to_string()])?;
    let plan = compile(&file, resolution)
        .map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    Ok((file, plan))
}

/// Pingora's server settings from ours.
pub fn server_conf(file: &GatewayFile, base: Option<ServerConf>) -> ServerConf {
    let mut conf = base.unwrap_or_default();
    conf.threads = file
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    conf.work_stealing = file.work_stealing.unwrap_or(false);
    let grace = file
        .grace_period
        .map_or(DEFAULT_GRACE_PERIOD, |d| d.0)
        .as_secs();
    conf.grace_period_seconds = Some(grace);
    conf.graceful_shutdown_timeout_seconds = Some(grace.max(1));
    conf.upstream_keepalive_pool_size = file
        .upstream_keepalive_pool_size
        .unwrap_or(DEFAULT_UPSTREAM_POOL);
    conf
}

/// Logged once SIGHUP reloads instead of ending the process.
pub const RELOAD_READY: &str = "SIGHUP reloads";

/// Builds the whole server. `config_path` is read again on SIGHUP.
pub fn build_server(
    opt: Opt,
    config_path: String,
    file: GatewayFile,
    plan: GatewayPlan,
) -> Result<Server, String> {
    let edge_certificate = file
        .tls
        .as_ref()
        .map(EdgeCertificate::load)
        .transpose()?
        .map(Arc::new);
    let base = opt
        .conf
        .as_deref()
        .map(|p| ServerConf::load_from_yaml(p).unwrap_or_else(|e| panic!("--conf {p}: {e}")));
    let conf = server_conf(&file, base);
    // New connections only: idle ones live in `idle_connections`, per thread.
    let connector_options = ConnectorOptions::from_server_conf(&conf);
    let mut server = Server::new_with_opt_and_conf(opt, conf);
    server.bootstrap();
    export_known_series(&plan);

    let plan = Arc::new(ArcSwap::from_pointee(plan));
    let gateway = Arc::new(TokenGateway::new(
        plan.clone(),
        ProviderConnector {
            transport: TransportConnector::new(Some(connector_options)),
            idle_per_thread: server.configuration.upstream_keepalive_pool_size,
        },
    ));
    let pingora_stack = pingora_proxy::http_proxy(
        &server.configuration,
        PingoraFrontEnd {
            gateway: gateway.clone(),
        },
    );
    // TLS, when configured, is terminated by the listener app (see `edge_tls`).
    let edge_tls = edge_certificate.clone().map(EdgeTls::new);
    let mut proxy = Service::new(
        "quirkgate token gateway".to_owned(),
        FrontDoor::new(gateway, pingora_stack, edge_tls),
    );
    // No socket-level buffers: the fast path reads through a per-thread buffer
    // and writes each answer in one piece, so an idle keep-alive connection
    // owns no buffer at all (Pingora's default is 64 KiB for reads).
    let listener =
        ListenerConfig::tcp(file.listen.clone()).l4_buffer(L4BufferSettings::unbuffered());
    proxy.add_listener(listener);
    server.add_service(proxy);

    if let Some(metrics_listen) = &file.metrics_listen {
        let mut endpoint =
            Service::new("metrics".to_owned(), MetricsEndpoint { plan: plan.clone() });
        endpoint.add_tcp(metrics_listen);
        server.add_service(endpoint);
    }
    let refresh = file.dns_refresh.map_or(DEFAULT_DNS_REFRESH, |d| d.0);
    server.add_service(background_service(
        "upstream resolver and reloader",
        PlanKeeper {
            plan,
            config_path,
            refresh,
            edge_certificate,
        },
    ));
    Ok(server)
}

/// Every counter series whose labels are known at load, at 0: a fresh
/// gateway's scrape already shows them, so dashboards have data and
/// `increase()` sees the first event. Routes × refusal reasons, × upstream
/// failure kinds, × retry reasons, × methods answered 200; reload results.
fn export_known_series(plan: &GatewayPlan) {
    for route in &plan.route_list {
        let name = route.name.as_str();
        for reason in Reason::REFUSALS {
            METRICS.refused.with_label_values(&[name, reason.as_str()]);
        }
        for kind in FailureKind::ALL {
            METRICS
                .upstream_errors
                .with_label_values(&[name, kind.as_str()]);
        }
        for reason in RetryReason::ALL {
            METRICS.retries.with_label_values(&[name, reason.as_str()]);
        }
        for method in &route.caller.methods {
            METRICS
                .requests
                .with_label_values(&[name, method.as_str(), "200"]);
        }
    }
    // OpenID Connect bridge endpoints: their refusals, at 0.
    for path in plan.bridges.keys() {
        for reason in Reason::REFUSALS {
            METRICS.refused.with_label_values(&[path, reason.as_str()]);
        }
    }
    METRICS
        .refused
        .with_label_values(&["unmatched", Reason::NotFound.as_str()]);

    for result in ["ok", "error"] {
        METRICS.config_reloads.with_label_values(&[result]);
    }
}

/// `/metrics`, `/healthz` (alive), `/readyz` (plan loaded, upstreams resolved, the store answering).
pub struct MetricsEndpoint {
    plan: Arc<ArcSwap<GatewayPlan>>,
}

#[async_trait]
impl ServeHttp for MetricsEndpoint {
    async fn response(&self, session: &mut ServerSession) -> http::Response<Vec<u8>> {
        let path = session.req_header().uri.path();
        let plan = self.plan.load_full();
        let store_answers = match (path, &plan.store) {
            ("/readyz", Some(store)) => store.ping().await.is_ok(),
            _ => true,
        };
        let (status, content_type, body) = match path {
            "/metrics" => (200, "text/plain; version=0.0.4", render()),
            "/healthz" => (200, "text/plain", b"ok\n".to_vec()),
            "/readyz" if !plan.is_ready() => (
                503,
                "text/plain",
                b"upstream addresses not resolved\n".to_vec(),
            ),
            "/readyz" if !store_answers => (
                503,
                "text/plain",
                b"the store (store:) cannot be reached\n".to_vec(),
            ),
            "/readyz" => (200, "text/plain", b"ready\n".to_vec()),
            _ => (404, "text/plain", b"not found\n".to_vec()),
        };
        http::Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, content_type)
            .header(http::header::CONTENT_LENGTH, body.len())
            .body(body)
            .expect("static response parts are valid")
    }
}

/// Keeps the plan current: re-resolves upstream hosts every `refresh`, off the
/// request path, and reloads the file on SIGHUP (an invalid file is refused
/// and the running plan stays).
pub struct PlanKeeper {
    plan: Arc<ArcSwap<GatewayPlan>>,
    config_path: String,
    refresh: Duration,
    edge_certificate: Option<Arc<EdgeCertificate>>,
}

impl PlanKeeper {
    async fn refresh_addresses(&self) {
        let plan = self.plan.load_full();
        for route in &plan.route_list {
            let fresh = resolve(&route.provider.upstream).await;
            route.provider.addresses.replace(fresh);
            METRICS
                .upstream_addresses
                .with_label_values(&[&route.name])
                .set(route.provider.addresses.len() as i64);
        }
    }

    async fn reload(&self) {
        let path = self.config_path.clone();
        // Compiling may read files and resolve hosts: keep it off the async workers.
        let loaded = tokio::task::spawn_blocking(move || load_plan(&path, Resolution::Now)).await;
        match loaded {
            Ok(Ok((file, plan))) => {
                if let (Some(certificate), Some(files)) = (&self.edge_certificate, &file.tls) {
                    if let Err(e) = certificate.reload(files) {
                        METRICS.config_reloads.with_label_values(&["error"]).inc();
                        log::error!("configuration reload refused, the running plan stays: {e}");
                        return;
                    }
                }
                export_known_series(&plan);
                self.plan.store(Arc::new(plan));
                METRICS.config_reloads.with_label_values(&["ok"]).inc();
                log::info!("configuration reloaded from {}", self.config_path);
            }
            Ok(Err(errors)) => {
                METRICS.config_reloads.with_label_values(&["error"]).inc();
                log::error!(
                    "configuration reload refused, the running plan stays: {}",
                    errors.join("; ")
                );
            }
            Err(e) => {
                METRICS.config_reloads.with_label_values(&["error"]).inc();
                log::error!("configuration reload failed: {e}");
            }
        }
    }
}

#[async_trait]
impl BackgroundService for PlanKeeper {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let mut hangups =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
                Ok(s) => Some(s),
                Err(e) => {
                    log::error!("SIGHUP reload unavailable: {e}");
                    None
                }
            };
        if hangups.is_some() {
            // Operators and tests may signal from here on: the default action (exit) is gone.
            log::info!("{RELOAD_READY} {}", self.config_path);
        }
        // Installed before anything slow, so an early SIGHUP reloads instead of killing the process.
        self.refresh_addresses().await;
        let mut ticker = tokio::time::interval(self.refresh);
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = ticker.tick() => self.refresh_addresses().await,
                Some(()) = async { match hangups.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => self.reload().await,
            }
        }
    }
}
