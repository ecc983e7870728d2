//! Prometheus metrics. Labels are bounded: route names come from the
//! configuration, reasons and kinds from fixed lists; never caller data.

use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use prometheus::{
    register_histogram_vec, register_int_counter_vec, register_int_gauge, register_int_gauge_vec,
    Histogram, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
};

/// Buckets from 1 ms to 10 s: token exchanges are small and slow upstreams matter.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Buckets from 0.1 ms to 1 s: a store round trip on the local network.
const STORE_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

pub struct GatewayMetrics {
    pub requests: IntCounterVec,
    pub request_duration: HistogramVec,
    pub upstream_duration: HistogramVec,
    pub upstream_responses: IntCounterVec,
    pub upstream_errors: IntCounterVec,
    pub retries: IntCounterVec,
    pub refused: IntCounterVec,
    pub upstream_connections: IntCounterVec,
    pub in_flight: IntGauge,
    pub build_info: IntGaugeVec,
    pub config_reloads: IntCounterVec,
    pub upstream_addresses: IntGaugeVec,
    pub store_duration: HistogramVec,
    pub store_errors: IntCounterVec,
    pub store_fallbacks: IntCounterVec,
}

pub static METRICS: LazyLock<GatewayMetrics> = LazyLock::new(|| {
    let metrics = GatewayMetrics {
        requests: register_int_counter_vec!(
            "quirkgate_requests_total",
            "Token requests answered, by route, method and HTTP status",
            &["route", "method", "status"]
        )
        .unwrap(),
        request_duration: register_histogram_vec!(
            "quirkgate_request_duration_seconds",
            "Time from request to answer, by route",
            &["route"],
            LATENCY_BUCKETS.to_vec()
        )
        .unwrap(),
        upstream_duration: register_histogram_vec!(
            "quirkgate_upstream_duration_seconds",
            "Time of the upstream exchange (all attempts), by route",
            &["route"],
            LATENCY_BUCKETS.to_vec()
        )
        .unwrap(),
        upstream_responses: register_int_counter_vec!(
            "quirkgate_upstream_responses_total",
            "Answers received from providers, by route and status class (2xx, 4xx, 5xx…)",
            &["route", "class"]
        )
        .unwrap(),
        upstream_errors: register_int_counter_vec!(
            "quirkgate_upstream_errors_total",
            "Failed upstream attempts, by route and kind (connect, tls, timeout, reset, protocol, resolve)",
            &["route", "kind"]
        )
        .unwrap(),
        retries: register_int_counter_vec!(
            "quirkgate_retries_total",
            "Upstream attempts made again, by route and reason (connect; stale_connection: a pooled connection whose write failed, rare because a provider's close usually shows only on the read, which is never retried for codes; unsent; after_send)",
            &["route", "reason"]
        )
        .unwrap(),
        refused: register_int_counter_vec!(
            "quirkgate_refused_total",
            "Requests answered by the gateway without contacting the provider, by route and reason",
            &["route", "reason"]
        )
        .unwrap(),
        upstream_connections: register_int_counter_vec!(
            "quirkgate_upstream_connections_total",
            "Upstream connections used, by route and whether they came from the pool",
            &["route", "reused"]
        )
        .unwrap(),
        in_flight: register_int_gauge!(
            "quirkgate_requests_in_flight",
            "Token requests being handled now"
        )
        .unwrap(),
        build_info: register_int_gauge_vec!(
            "quirkgate_build_info",
            "Always 1; labels carry the version and git revision",
            &["version", "revision"]
        )
        .unwrap(),
        config_reloads: register_int_counter_vec!(
            "quirkgate_config_reloads_total",
            "Configuration reloads by result (ok, error)",
            &["result"]
        )
        .unwrap(),
        upstream_addresses: register_int_gauge_vec!(
            "quirkgate_upstream_addresses",
            "Resolved addresses per route's upstream",
            &["route"]
        )
        .unwrap(),
        store_duration: register_histogram_vec!(
            "quirkgate_store_duration_seconds",
            "Time of one store call (connect included), by op (claim_code, rate_limit, put_context, take_context, ping)",
            &["op"],
            STORE_BUCKETS.to_vec()
        )
        .unwrap(),
        store_errors: register_int_counter_vec!(
            "quirkgate_store_errors_total",
            "Failed store calls, by op and kind (timeout, connection, refused)",
            &["op", "kind"]
        )
        .unwrap(),
        store_fallbacks: register_int_counter_vec!(
            "quirkgate_store_fallbacks_total",
            "Decisions made without the store, by use (claim_code, rate_limit) and outcome (refused; replica_memory or replica_count: this replica alone decided)",
            &["use", "outcome"]
        )
        .unwrap(),
    };
    metrics
        .build_info
        .with_label_values(&[env!("CARGO_PKG_VERSION"), env!("QUIRKGATE_GIT_REVISION")])
        .set(1);
    metrics
});

/// One route's metric series, each looked up by label on its first use and
/// then held: the request path counts without hashing a label. A series
/// appears in `/metrics` on first use, as with a plain label lookup.
pub struct RouteMetrics {
    route: String,
    request_duration: OnceLock<Histogram>,
    upstream_duration: OnceLock<Histogram>,
    /// `requests_total`, by method label × status label.
    answers: Box<[OnceLock<IntCounter>]>,
    /// `upstream_responses_total`, by status class.
    upstream_answers: [OnceLock<IntCounter>; STATUS_CLASSES.len()],
    /// `upstream_connections_total`, new then reused.
    connections: [OnceLock<IntCounter>; 2],
}

impl RouteMetrics {
    pub fn new(route: &str) -> Self {
        RouteMetrics {
            route: route.to_owned(),
            request_duration: OnceLock::new(),
            upstream_duration: OnceLock::new(),
            answers: (0..METHOD_LABELS.len() * STATUS_LABELS.len())
                .map(|_| OnceLock::new())
                .collect(),
            upstream_answers: Default::default(),
            connections: Default::default(),
        }
    }

    /// The `route` label of every series.
    pub fn label(&self) -> &str {
        &self.route
    }

    /// The request metrics of a route the path matched no route of.
    pub fn unmatched() -> &'static RouteMetrics {
        static UNMATCHED: LazyLock<RouteMetrics> = LazyLock::new(|| RouteMetrics::new("unmatched"));
        &UNMATCHED
    }

    pub fn answered(&self, method: &str, status: u16, elapsed: Duration) {
        let (method, status) = (method_index(method), status_index(status));
        self.answers[method * STATUS_LABELS.len() + status]
            .get_or_init(|| {
                METRICS.requests.with_label_values(&[
                    self.route.as_str(),
                    METHOD_LABELS[method],
                    STATUS_LABELS[status],
                ])
            })
            .inc();
        self.request_duration
            .get_or_init(|| METRICS.request_duration.with_label_values(&[&self.route]))
            .observe(elapsed.as_secs_f64());
    }

    pub fn upstream_answered(&self, status: u16) {
        let class = class_index(status);
        self.upstream_answers[class]
            .get_or_init(|| {
                METRICS
                    .upstream_responses
                    .with_label_values(&[self.route.as_str(), STATUS_CLASSES[class]])
            })
            .inc();
    }

    pub fn upstream_exchanged(&self, elapsed: Duration) {
        self.upstream_duration
            .get_or_init(|| METRICS.upstream_duration.with_label_values(&[&self.route]))
            .observe(elapsed.as_secs_f64());
    }

    pub fn connection_used(&self, reused: bool) {
        self.connections[usize::from(reused)]
            .get_or_init(|| {
                METRICS.upstream_connections.with_label_values(&[
                    self.route.as_str(),
                    if reused { "true" } else { "false" },
                ])
            })
            .inc();
    }
}

const METHOD_LABELS: [&str; 7] = ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "other"];
/// Statuses counted by their own label; the rest by class.
const STATUS_CODES: [u16; 17] = [
    200, 201, 204, 400, 401, 403, 404, 405, 408, 413, 415, 429, 431, 500, 502, 503, 504,
];
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
const STATUS_LABELS: [&str; STATUS_CODES.len() + STATUS_CLASSES.len()] = [
    "200", "201", "204", "400", "401", "403", "404", "405", "408", "413", "415", "429", "431",
    "500", "502", "503", "504", "1xx", "2xx", "3xx", "4xx", "5xx",
];

fn method_index(method: &str) -> usize {
    METHOD_LABELS[..METHOD_LABELS.len() - 1]
        .iter()
        .position(|label| *label == method)
        .unwrap_or(METHOD_LABELS.len() - 1)
}

fn class_index(status: u16) -> usize {
    match status {
        100..=199 => 0,
        200..=299 => 1,
        300..=399 => 2,
        400..=499 => 3,
        _ => 4,
    }
}

fn status_index(status: u16) -> usize {
    STATUS_CODES
        .iter()
        .position(|code| *code == status)
        .unwrap_or_else(|| STATUS_CODES.len() + class_index(status))
}

/// Method label with a bounded set of values.
pub fn method_label(method: &str) -> &'static str {
    METHOD_LABELS[method_index(method)]
}

/// The text exposition of every registered metric.
pub fn render() -> Vec<u8> {
    LazyLock::force(&METRICS);
    let mut out = Vec::with_capacity(16 * 1024);
    let encoder = prometheus::TextEncoder::new();
    prometheus::Encoder::encode(&encoder, &prometheus::gather(), &mut out)
        .expect("text encoding to a Vec cannot fail");
    out
}
