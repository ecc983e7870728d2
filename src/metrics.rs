//! Prometheus metrics. Labels are bounded: route names come from the
//! configuration, reasons and kinds from fixed lists; never caller data.

use std::sync::LazyLock;

use prometheus::{
    register_histogram_vec, register_int_counter_vec, register_int_gauge, register_int_gauge_vec,
    HistogramVec, IntCounterVec, IntGauge, IntGaugeVec,
};

/// Buckets from 1 ms to 10 s: token exchanges are small and slow upstreams matter.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
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
            "Upstream attempts made again, by route and reason (connect, stale_connection, unsent, after_send)",
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
    };
    metrics
        .build_info
        .with_label_values(&[env!("CARGO_PKG_VERSION"), env!("QUIRKGATE_GIT_REVISION")])
        .set(1);
    metrics
});

/// One route's most used metric series, looked up once when the plan is
/// compiled instead of by label on every request.
pub struct RouteMetrics {
    pub request_duration: prometheus::Histogram,
    pub upstream_duration: prometheus::Histogram,
    pub new_connections: prometheus::IntCounter,
    pub reused_connections: prometheus::IntCounter,
    pub upstream_2xx: prometheus::IntCounter,
    /// `requests_total{method="POST",status="200"}`: the answer most requests get.
    pub post_200: prometheus::IntCounter,
}

impl RouteMetrics {
    pub fn new(route: &str) -> Self {
        RouteMetrics {
            request_duration: METRICS.request_duration.with_label_values(&[route]),
            upstream_duration: METRICS.upstream_duration.with_label_values(&[route]),
            new_connections: METRICS
                .upstream_connections
                .with_label_values(&[route, "false"]),
            reused_connections: METRICS
                .upstream_connections
                .with_label_values(&[route, "true"]),
            upstream_2xx: METRICS
                .upstream_responses
                .with_label_values(&[route, "2xx"]),
            post_200: METRICS.requests.with_label_values(&[route, "POST", "200"]),
        }
    }
}

/// Method label with a bounded set of values.
pub fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "HEAD" => "HEAD",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// Status label: the three digits, from a bounded set.
pub fn status_label(status: u16) -> &'static str {
    const LABELS: &[(u16, &str)] = &[
        (200, "200"),
        (201, "201"),
        (204, "204"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (405, "405"),
        (408, "408"),
        (413, "413"),
        (415, "415"),
        (429, "429"),
        (431, "431"),
        (500, "500"),
        (502, "502"),
        (503, "503"),
        (504, "504"),
    ];
    LABELS
        .iter()
        .find(|(code, _)| *code == status)
        .map(|(_, label)| *label)
        .unwrap_or(match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        })
}

pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
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
