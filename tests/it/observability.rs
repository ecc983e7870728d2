//! Observability: the shipped Grafana dashboard and Prometheus alert rules
//! against the metrics the real gateway exports (and a real Prometheus
//! server scraping it), health endpoints, graceful shutdown, and the retry
//! policy as the metrics tell it. Everything stays on 127.0.0.1.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::*;
use tokio::io::AsyncWriteExt;

const DASHBOARD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/conf/grafana-dashboard.json");
const ALERTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/conf/prometheus-alerts.yaml");
const PROMTOOL: &str = "/usr/bin/promtool";
const PROMETHEUS: &str = "/usr/bin/prometheus";

// ---------------------------------------------------------------------------
// The expressions shipped in conf/
// ---------------------------------------------------------------------------

/// Where an expression comes from, for messages.
#[derive(Debug, Clone)]
struct Expr {
    origin: String,
    text: String,
    /// Alert rules: evaluate the measures (comparisons stripped) too.
    is_rule: bool,
}

fn dashboard() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(DASHBOARD).unwrap())
        .expect("conf/grafana-dashboard.json is valid JSON")
}

fn all_panels(dashboard: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        out.push(panel.clone());
        if let Some(inner) = panel["panels"].as_array() {
            out.extend(inner.iter().cloned());
        }
    }
    out
}

fn dashboard_exprs() -> Vec<Expr> {
    let dashboard = dashboard();
    let mut out = Vec::new();
    for panel in all_panels(&dashboard) {
        for target in panel["targets"].as_array().into_iter().flatten() {
            out.push(Expr {
                origin: format!(
                    "dashboard panel '{}' target {}",
                    panel["title"].as_str().unwrap_or("?"),
                    target["refId"].as_str().unwrap_or("?")
                ),
                text: target["expr"].as_str().unwrap().to_owned(),
                is_rule: false,
            });
        }
    }
    out
}

fn rule_exprs() -> Vec<Expr> {
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(ALERTS).unwrap()).unwrap();
    let mut out = Vec::new();
    for group in yaml["groups"].as_sequence().unwrap() {
        for rule in group["rules"].as_sequence().unwrap() {
            let name = rule["alert"]
                .as_str()
                .or(rule["record"].as_str())
                .unwrap()
                .to_owned();
            out.push(Expr {
                origin: format!("rule {name}"),
                text: rule["expr"].as_str().unwrap().trim().to_owned(),
                is_rule: rule["alert"].is_string(),
            });
        }
    }
    out
}

/// Grafana's variables replaced by what Prometheus alone understands.
fn substitute(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m")
        .replace("$__interval", "15s")
        .replace("${route}", ".*")
        .replace("$route", ".*")
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

/// Byte index of the parenthesis closing the one at `open`.
fn matching_paren(text: &str, open: usize) -> usize {
    let bytes = text.as_bytes();
    let mut depth = 0;
    let mut quote: Option<u8> = None;
    for (i, &c) in bytes.iter().enumerate().skip(open) {
        if let Some(q) = quote {
            if c == q && bytes[i - 1] != b'\\' {
                quote = None;
            }
            continue;
        }
        match c {
            b'"' | b'\'' | b'`' => quote = Some(c),
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses in {text}");
}

/// Splits at top-level comparison (`> < >= <= == !=`, with optional `bool`)
/// and set operators (`and or unless`), unwraps parentheses and `absent()`, and
/// keeps the operands that select a quirkgate metric: the measures an alert
/// compares with its thresholds.
fn measures(expr: &str) -> Vec<String> {
    let expr = expr.trim();
    let bytes = expr.as_bytes();
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == q && bytes[i - 1] != b'\\' {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' | b'\'' | b'`' => quote = Some(c),
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ if depth == 0 => {
                let rest = &expr[i..];
                let op_len = ["==", "!=", ">=", "<=", ">", "<"]
                    .iter()
                    .find(|op| rest.starts_with(**op))
                    .map(|op| op.len())
                    .or_else(|| {
                        let boundary = i == 0 || !is_ident_char(bytes[i - 1]);
                        ["and", "or", "unless"]
                            .iter()
                            .find(|w| {
                                boundary
                                    && rest.starts_with(**w)
                                    && rest
                                        .as_bytes()
                                        .get(w.len())
                                        .is_none_or(|c| !is_ident_char(*c))
                            })
                            .map(|w| w.len())
                    });
                if let Some(len) = op_len {
                    parts.push(expr[start..i].to_owned());
                    i += len;
                    let after = expr[i..].trim_start();
                    if let Some(stripped) = after.strip_prefix("bool ") {
                        i = expr.len() - stripped.len();
                    }
                    start = i;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(expr[start..].to_owned());
    if parts.len() == 1 {
        let part = parts[0].trim();
        if part.starts_with('(') && matching_paren(part, 0) == part.len() - 1 {
            return measures(&part[1..part.len() - 1]);
        }
        if let Some(inner) = part.strip_prefix("absent") {
            let inner = inner.trim_start();
            if inner.starts_with('(') && matching_paren(inner, 0) == inner.len() - 1 {
                return measures(&inner[1..inner.len() - 1]);
            }
        }
        return if part.contains("quirkgate_") {
            vec![part.to_owned()]
        } else {
            Vec::new()
        };
    }
    parts.iter().flat_map(|p| measures(p)).collect()
}

/// Every identifier starting with `quirkgate_` outside quotes (recording
/// rule names, which carry a colon, excluded).
fn metric_names(expr: &str) -> Vec<(usize, String)> {
    let bytes = expr.as_bytes();
    let mut out = Vec::new();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == q && bytes[i - 1] != b'\\' {
                quote = None;
            }
            i += 1;
            continue;
        }
        if c == b'"' || c == b'\'' || c == b'`' {
            quote = Some(c);
            i += 1;
            continue;
        }
        if is_ident_char(c) && (i == 0 || !is_ident_char(bytes[i - 1])) {
            let end = (i..bytes.len())
                .find(|&j| !is_ident_char(bytes[j]))
                .unwrap_or(bytes.len());
            let ident = &expr[i..end];
            if ident.starts_with("quirkgate_") && !ident.contains(':') {
                out.push((end, ident.to_owned()));
            }
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

/// Label names in the `{...}` matchers right after each metric name.
fn selector_labels(expr: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for (end, name) in metric_names(expr) {
        let rest = expr[end..].trim_start();
        let mut labels = Vec::new();
        if let Some(body) = rest.strip_prefix('{') {
            let close = body.find('}').expect("closed matcher");
            let mut in_quote = false;
            let mut current = String::new();
            let mut matchers = Vec::new();
            for c in body[..close].chars() {
                match c {
                    '"' => in_quote = !in_quote,
                    ',' if !in_quote => matchers.push(std::mem::take(&mut current)),
                    _ => current.push(c),
                }
            }
            matchers.push(current);
            for m in matchers {
                let label: String = m
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !label.is_empty() {
                    labels.push(label);
                }
            }
        }
        out.push((name, labels));
    }
    out
}

/// For each `by (labels) (argument)` (and `by (labels)` after the argument):
/// the labels and the metrics inside the aggregated argument.
fn by_clauses(expr: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    let bytes = expr.as_bytes();
    let mut search = 0;
    while let Some(found) = expr[search..].find("by") {
        let at = search + found;
        search = at + 2;
        let before_ok = at == 0 || !is_ident_char(bytes[at - 1]);
        let after = expr[at + 2..].trim_start();
        if !before_ok || !after.starts_with('(') {
            continue;
        }
        let open = expr.len() - after.len();
        let close = matching_paren(expr, open);
        let labels: Vec<String> = expr[open + 1..close]
            .split(',')
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect();
        let rest = expr[close + 1..].trim_start();
        let argument = if rest.starts_with('(') {
            let arg_open = expr.len() - rest.len();
            expr[arg_open..=matching_paren(expr, arg_open)].to_owned()
        } else {
            // `sum(argument) by (labels)`: the parenthesis just before `by`.
            let head = expr[..at].trim_end();
            assert!(
                head.ends_with(')'),
                "cannot find the argument of by() in {expr}"
            );
            let close_at = head.len() - 1;
            let mut depth = 0;
            let mut open_at = close_at;
            for (i, c) in head.bytes().enumerate().rev() {
                match c {
                    b')' => depth += 1,
                    b'(' => {
                        depth -= 1;
                        if depth == 0 {
                            open_at = i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            head[open_at..=close_at].to_owned()
        };
        let metrics = metric_names(&argument)
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        out.push((labels, metrics));
    }
    out
}

/// The exposition as metric name -> label names seen, and family -> type.
struct Exposition {
    labels: BTreeMap<String, BTreeSet<String>>,
    types: BTreeMap<String, String>,
}

fn parse_exposition(text: &str) -> Exposition {
    let mut labels: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut types = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split_whitespace();
            if let (Some(name), Some(kind)) = (it.next(), it.next()) {
                types.insert(name.to_owned(), kind.to_owned());
            }
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let name_end = line.find(['{', ' ']).unwrap();
        let name = &line[..name_end];
        let entry = labels.entry(name.to_owned()).or_default();
        if line[name_end..].starts_with('{') {
            let body = &line[name_end + 1..];
            let mut in_quote = false;
            let mut escaped = false;
            let mut key = String::new();
            let mut reading_key = true;
            for c in body.chars() {
                if in_quote {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        in_quote = false;
                    }
                    continue;
                }
                match c {
                    '}' => break,
                    '"' => in_quote = true,
                    '=' => {
                        entry.insert(std::mem::take(&mut key).trim().to_owned());
                        reading_key = false;
                    }
                    ',' => reading_key = true,
                    _ if reading_key => key.push(c),
                    _ => {}
                }
            }
        }
    }
    Exposition { labels, types }
}

impl Exposition {
    /// Checks a metric name from an expression; histogram series names are
    /// resolved to their family, whose type must then be a histogram.
    fn check_name(&self, name: &str) -> Result<(), String> {
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(family) = name.strip_suffix(suffix) {
                if let Some(kind) = self.types.get(family) {
                    if kind != "histogram" && kind != "summary" {
                        return Err(format!("{name}: {family} is a {kind}, not a histogram"));
                    }
                    if suffix == "_bucket" && kind != "histogram" {
                        return Err(format!("{name}: {family} has no buckets"));
                    }
                    return if self.labels.contains_key(name) {
                        Ok(())
                    } else {
                        Err(format!("{name}: no {family} sample exported"))
                    };
                }
            }
        }
        if !self.types.contains_key(name) {
            return Err(format!("{name}: no such metric family is exported"));
        }
        if !self.labels.contains_key(name) {
            return Err(format!("{name}: family declared but no sample exported"));
        }
        Ok(())
    }

    fn check_label(&self, name: &str, label: &str) -> Result<(), String> {
        match self.labels.get(name) {
            Some(labels) if labels.contains(label) => Ok(()),
            Some(labels) => Err(format!("{name} has no label '{label}' (it has {labels:?})")),
            None => Err(format!("{name}: not exported")),
        }
    }
}

// ---------------------------------------------------------------------------
// A gateway with a bit of everything
// ---------------------------------------------------------------------------

struct Scene {
    gateway: Gateway,
    _tiktok: MockProvider,
}

async fn scene() -> Scene {
    let tiktok = mock(ProviderKind::TikTok).await;
    let closed_port = free_port();
    let routes = [
        route("/token/proxy", "tiktok", &tiktok_token_url(tiktok.addr), ""),
        route(
            "/refused",
            "tiktok",
            &format!("http://127.0.0.1:{closed_port}/"),
            "retries: 2\nconnect_timeout: 500ms",
        ),
    ]
    .concat();
    let gateway = Gateway::start(&routes);
    // The SIGHUP handler is installed right after the first resolution, which
    // sets quirkgate_upstream_addresses.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gateway
        .metrics()
        .await
        .contains("quirkgate_upstream_addresses{")
    {
        assert!(Instant::now() < deadline, "addresses never resolved");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    Scene {
        gateway,
        _tiktok: tiktok,
    }
}

/// One round of the mix: successes, a 400 (expired code), a 405 GET, a 404,
/// and a 502 after two connect retries.
async fn traffic_round(gateway: &Gateway, round: usize) {
    for i in 0..3 {
        assert_eq!(
            post_status(gateway, "/token/proxy", good_body(&format!("r{round}-{i}"))).await,
            200
        );
    }
    assert_eq!(
        post_status(
            gateway,
            "/token/proxy",
            good_body(&format!("expired-{round}"))
        )
        .await,
        400
    );
    let get = http_client()
        .get(gateway.url("/token/proxy"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(post_status(gateway, "/nope", good_body("x")).await, 404);
    assert_eq!(post_status(gateway, "/refused", good_body("y")).await, 502);
}

/// One refused reload (broken file) and one accepted, so both results exist.
async fn reloads(gateway: &Gateway) {
    let original = std::fs::read_to_string(&gateway.config_path).unwrap();
    std::fs::write(&gateway.config_path, "routes: [this is: not valid\n").unwrap();
    gateway.signal("HUP");
    wait_metric(
        gateway,
        "quirkgate_config_reloads_total",
        &[("result", "error")],
    )
    .await;
    std::fs::write(&gateway.config_path, original).unwrap();
    gateway.signal("HUP");
    wait_metric(
        gateway,
        "quirkgate_config_reloads_total",
        &[("result", "ok")],
    )
    .await;
}

async fn wait_metric(gateway: &Gateway, name: &str, labels: &[(&str, &str)]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while gateway.metric_if_present(name, labels).await.unwrap_or(0.0) < 1.0 {
        assert!(
            Instant::now() < deadline,
            "{name}{labels:?} never appeared; log:\n{}",
            gateway.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------
// a. promtool
// ---------------------------------------------------------------------------

#[test]
fn alert_rules_pass_promtool_check() {
    assert!(
        std::path::Path::new(PROMTOOL).exists(),
        "{PROMTOOL} is required (Debian package `prometheus`)"
    );
    let out = Command::new(PROMTOOL)
        .args(["check", "rules", ALERTS])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool check rules failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(ALERTS).unwrap()).unwrap();
    let mut alerts = BTreeSet::new();
    for group in yaml["groups"].as_sequence().unwrap() {
        for rule in group["rules"].as_sequence().unwrap() {
            if let Some(name) = rule["alert"].as_str() {
                assert!(rule["for"].is_string(), "{name} has no `for:`");
                assert!(
                    rule["labels"]["severity"].is_string(),
                    "{name} has no severity label"
                );
                assert!(
                    rule["annotations"]["summary"].is_string()
                        && rule["annotations"]["description"].is_string(),
                    "{name} needs summary and description annotations"
                );
                alerts.insert(name.to_owned());
            }
        }
    }
    assert!(alerts.len() >= 5, "{alerts:?}");
}

#[test]
fn dashboard_is_importable_and_every_panel_uses_the_datasource_variable() {
    let dashboard = dashboard();
    assert!(dashboard["title"].is_string() && dashboard["panels"].is_array());
    assert!(
        dashboard["id"].is_null(),
        "an importable dashboard has no id"
    );
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    let ds = variables
        .iter()
        .find(|v| v["name"] == "DS_PROMETHEUS")
        .expect("a DS_PROMETHEUS variable");
    assert_eq!(
        (ds["type"].as_str(), ds["query"].as_str()),
        (Some("datasource"), Some("prometheus"))
    );
    let route = variables
        .iter()
        .find(|v| v["name"] == "route")
        .expect("a route variable");
    let definition = route["query"]["query"]
        .as_str()
        .or(route["query"].as_str())
        .unwrap();
    assert_eq!(definition, "label_values(quirkgate_requests_total, route)");
    assert_eq!(route["datasource"]["uid"], "${DS_PROMETHEUS}");

    let mut ids = BTreeSet::new();
    let mut titles = Vec::new();
    for panel in all_panels(&dashboard) {
        assert!(
            ids.insert(panel["id"].as_u64().unwrap()),
            "duplicate panel id"
        );
        if panel["type"] == "row" {
            continue;
        }
        let title = panel["title"].as_str().unwrap().to_owned();
        assert_eq!(panel["datasource"]["uid"], "${DS_PROMETHEUS}", "{title}");
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title} has no query");
        for target in targets {
            assert_eq!(target["datasource"]["uid"], "${DS_PROMETHEUS}", "{title}");
            let expr = target["expr"].as_str().unwrap();
            if expr.contains("route") && !title.contains("Build") {
                assert!(
                    !expr.contains("route=") || expr.contains("route=~\"$route\""),
                    "{title}: route matchers use the variable: {expr}"
                );
            }
        }
        titles.push(title.to_lowercase());
    }
    for wanted in [
        "request rate",
        "error ratio",
        "request duration",
        "upstream latency",
        "upstream errors",
        "retries",
        "reuse",
        "refusals",
        "in flight",
        "reloads",
        "build info",
    ] {
        assert!(
            titles.iter().any(|t| t.contains(wanted)),
            "no panel about {wanted}: {titles:?}"
        );
    }
    let text = std::fs::read_to_string(DASHBOARD).unwrap();
    for quantile in ["0.5", "0.95", "0.99"] {
        assert!(text.contains(&format!(
            "histogram_quantile({quantile}, sum by (le, route) (rate(quirkgate_upstream_duration_seconds_bucket"
        )));
    }
}

#[test]
fn measure_extraction_strips_thresholds_and_absent() {
    assert_eq!(
        measures("sum by (route) (rate(quirkgate_x_total[5m])) / sum(quirkgate_y) > 0.05"),
        vec!["sum by (route) (rate(quirkgate_x_total[5m])) / sum(quirkgate_y)"]
    );
    assert_eq!(
        measures(
            "(sum(rate(quirkgate_a{route!=\"u\"}[5m])) or vector(0)) == 0 or absent(quirkgate_a)"
        ),
        vec!["sum(rate(quirkgate_a{route!=\"u\"}[5m]))", "quirkgate_a"]
    );
    assert_eq!(
        measures("a_quirkgate_b > bool 1 and quirkgate_c < 2"),
        vec!["a_quirkgate_b", "quirkgate_c"]
    );
    assert_eq!(
        selector_labels("rate(quirkgate_a_bucket{route=~\"$route\", status=~\"5..\"}[1m])"),
        vec![(
            "quirkgate_a_bucket".to_owned(),
            vec!["route".to_owned(), "status".to_owned()]
        )]
    );
    assert_eq!(
        by_clauses(
            "sum by (le, route) (rate(quirkgate_a_bucket[1m])) / sum(quirkgate_b) by (kind)"
        ),
        vec![
            (
                vec!["le".to_owned(), "route".to_owned()],
                vec!["quirkgate_a_bucket".to_owned()]
            ),
            (vec!["kind".to_owned()], vec!["quirkgate_b".to_owned()]),
        ]
    );
}

// ---------------------------------------------------------------------------
// b. every metric and label the dashboard and rules use is exported
// ---------------------------------------------------------------------------

#[tokio::test]
async fn every_metric_and_label_in_dashboard_and_rules_is_exported() {
    let scene = scene().await;
    let gateway = &scene.gateway;
    traffic_round(gateway, 0).await;
    traffic_round(gateway, 1).await;
    reloads(gateway).await;
    let exposition = parse_exposition(&gateway.metrics().await);

    let mut problems = Vec::new();
    let mut used = BTreeSet::new();
    let mut exprs = dashboard_exprs();
    exprs.extend(rule_exprs());
    // The route variable's query (Grafana syntax, not PromQL).
    exprs.push(Expr {
        origin: "dashboard variable route".into(),
        text: "sum by (route) (quirkgate_requests_total)".into(),
        is_rule: false,
    });
    for expr in &exprs {
        let text = substitute(&expr.text);
        let names = metric_names(&text);
        if names.is_empty() {
            problems.push(format!("{}: no quirkgate metric in {text}", expr.origin));
        }
        for (_, name) in names {
            used.insert(name.clone());
            if let Err(e) = exposition.check_name(&name) {
                problems.push(format!("{}: {e}", expr.origin));
            }
        }
        for (name, labels) in selector_labels(&text) {
            for label in labels {
                if let Err(e) = exposition.check_label(&name, &label) {
                    problems.push(format!("{}: matcher: {e}", expr.origin));
                }
            }
        }
        for (labels, metrics) in by_clauses(&text) {
            for metric in &metrics {
                for label in &labels {
                    if label == "instance" || label == "job" {
                        continue; // added by the scrape
                    }
                    if let Err(e) = exposition.check_label(metric, label) {
                        problems.push(format!("{}: by(): {e}", expr.origin));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");

    // Every family the gateway exports is on the dashboard.
    for family in exposition
        .types
        .keys()
        .filter(|f| f.starts_with("quirkgate_"))
    {
        assert!(
            used.iter()
                .any(|u| u == family || u.starts_with(&format!("{family}_"))),
            "{family} is exported but used by no panel or rule"
        );
    }
}

// ---------------------------------------------------------------------------
// c. a real Prometheus evaluates every expression
// ---------------------------------------------------------------------------

struct Prometheus {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    fn start(metrics_port: u16) -> Prometheus {
        assert!(
            std::path::Path::new(PROMETHEUS).exists(),
            "{PROMETHEUS} is required (Debian package `prometheus`)"
        );
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("alerts.yaml");
        std::fs::copy(ALERTS, &rules).unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: quirkgate\n    static_configs:\n      - targets: [\"127.0.0.1:{metrics_port}\"]\n",
                rules.display()
            ),
        )
        .unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Prometheus {
            child,
            port,
            _dir: dir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("prometheus.log")).unwrap_or_default()
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("prometheus exited ({status}):\n{}", self.log());
            }
            if let Ok(r) = http_client()
                .get(format!("http://127.0.0.1:{}/-/ready", self.port))
                .timeout(Duration::from_secs(1))
                .send()
                .await
            {
                if r.status() == 200 {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "prometheus not ready:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn api(&self, path: &str, query: &[(&str, &str)]) -> serde_json::Value {
        let response = http_client()
            .get(format!("http://127.0.0.1:{}/api/v1/{path}", self.port))
            .query(query)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    /// Instant query; (status, number of samples, body).
    async fn query(&self, expr: &str) -> (String, usize, serde_json::Value) {
        let body = self.api("query", &[("query", expr)]).await;
        let status = body["status"].as_str().unwrap_or("?").to_owned();
        let count = match body["data"]["resultType"].as_str() {
            Some("vector") | Some("matrix") => {
                body["data"]["result"].as_array().map_or(0, Vec::len)
            }
            Some("scalar") | Some("string") => 1,
            _ => 0,
        };
        (status, count, body)
    }
}

#[tokio::test]
async fn a_real_prometheus_gets_data_from_every_dashboard_and_rule_expression() {
    let started = Instant::now();
    let scene = scene().await;
    let gateway = &scene.gateway;
    let mut prometheus = Prometheus::start(gateway.metrics_port);
    prometheus.wait_ready().await;

    // ~10 s of traffic, scraped every second.
    let traffic_until = Instant::now() + Duration::from_secs(10);
    let mut round = 0;
    while Instant::now() < traffic_until {
        traffic_round(gateway, round).await;
        if round == 2 {
            reloads(gateway).await;
        }
        round += 1;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    if round <= 2 {
        reloads(gateway).await;
    }
    // Two more scrapes after the last request, and the target is up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, up, body) = prometheus.query("up{job=\"quirkgate\"} == 1").await;
    assert_eq!(
        up,
        1,
        "the gateway target is not up: {body}\n{}",
        prometheus.log()
    );

    let mut problems = Vec::new();
    let mut evaluated = 0;
    let mut exprs = dashboard_exprs();
    exprs.extend(rule_exprs());
    exprs.push(Expr {
        origin: "dashboard variable route (label_values)".into(),
        text: "group by (route) (quirkgate_requests_total)".into(),
        is_rule: false,
    });
    for expr in &exprs {
        let text = substitute(&expr.text);
        let (status, count, body) = prometheus.query(&text).await;
        evaluated += 1;
        if status != "success" {
            problems.push(format!("{}: {text}: {body}", expr.origin));
            continue;
        }
        if !expr.is_rule {
            if count == 0 {
                problems.push(format!("{}: no sample for {text}", expr.origin));
            }
            continue;
        }
        let parts = measures(&text);
        if parts.is_empty() {
            problems.push(format!("{}: no measure found in {text}", expr.origin));
        }
        for part in parts {
            let (status, count, body) = prometheus.query(&part).await;
            evaluated += 1;
            if status != "success" || count == 0 {
                problems.push(format!(
                    "{} measure: no sample for {part}: {body}",
                    expr.origin
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    eprintln!("{evaluated} queries answered with data");

    // The rule file loaded in the server and every rule evaluated cleanly.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rules = prometheus.api("rules", &[]).await;
        let all: Vec<&serde_json::Value> = rules["data"]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().unwrap().iter())
            .collect();
        let healthy = !all.is_empty()
            && all.len() == rule_exprs().len()
            && all.iter().all(|r| r["health"] == "ok");
        if healthy {
            break;
        }
        assert!(Instant::now() < deadline, "rules not healthy: {rules}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------
// d. health, readiness, graceful shutdown
// ---------------------------------------------------------------------------

#[tokio::test]
async fn healthz_and_readyz_answer_200_with_an_ip_literal_upstream() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&route(
        "/token/proxy",
        "tiktok",
        &tiktok_token_url(tiktok.addr),
        "",
    ));
    let base = format!("http://127.0.0.1:{}", gateway.metrics_port);
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
        if ready.status() == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz stays {} with an IP literal upstream",
            ready.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert_eq!(
        metric_value(
            &text,
            "quirkgate_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    assert_eq!(
        reqwest::get(format!("{base}/nothing"))
            .await
            .unwrap()
            .status(),
        404
    );
}

/// Like `Gateway::start`, with another `grace_period`.
fn gateway_with_grace(routes_yaml: &str, grace: &str) -> Gateway {
    Gateway::start_with(routes_yaml, &format!("grace_period: {grace}"), "info")
}

#[tokio::test]
async fn sigterm_lets_the_in_flight_exchange_finish_and_exits_zero() {
    let (slow, count) = slow_tiktok_upstream(Duration::from_millis(1500)).await;
    let mut gateway = gateway_with_grace(
        &route(
            "/token/proxy",
            "tiktok",
            &format!("http://{slow}/"),
            "timeout: 10s",
        ),
        "3s",
    );
    let url = gateway.url("/token/proxy");
    let exchange = tokio::spawn(async move {
        let response = http_client()
            .post(url)
            .header("content-type", FORM)
            .body(good_body("graceful"))
            .timeout(Duration::from_secs(10))
            .send()
            .await?;
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await?;
        Ok::<_, reqwest::Error>((status, body))
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while count.load(SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "the exchange never reached the upstream"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(count.load(SeqCst), 1, "the exchange reached the upstream");
    let signalled = Instant::now();
    gateway.signal("TERM");

    let (status, body) = exchange.await.unwrap().unwrap_or_else(|e| {
        panic!(
            "in-flight exchange cut by SIGTERM: {e}; log:\n{}",
            gateway.log()
        )
    });
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["access_token"], "act.graceful");

    let deadline = signalled + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = gateway.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "gateway still running 10 s after SIGTERM; log:\n{}",
            gateway.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(exit.code(), Some(0), "log:\n{}", gateway.log());
    let took = signalled.elapsed();
    // Pingora waits out `grace_period` (3 s here) before it exits; the default
    // would be 5 s.
    assert!(
        took >= Duration::from_millis(2500) && took < Duration::from_millis(4500),
        "exited {took:?} after SIGTERM with a 3 s grace period"
    );
}

// ---------------------------------------------------------------------------
// e. the retry policy, as the metrics tell it
// ---------------------------------------------------------------------------

/// Serves exactly one request (keep-alive answer), then closes the listener
/// and the connection server-side.
async fn one_shot_upstream() -> (SocketAddr, tokio::task::JoinHandle<usize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        drop(listener);
        let mut buf = Vec::new();
        let Some(request) = quirkgate_mocks::provider::read_request(&mut stream, &mut buf).await
        else {
            return 0;
        };
        let (status, content_type, body) =
            quirkgate_mocks::provider::answer(ProviderKind::TikTok, &request);
        let answer = format!(
            "HTTP/1.1 {status} OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(answer.as_bytes()).await.unwrap();
        stream.flush().await.unwrap();
        // Let the gateway pool the connection, then close it from this side.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = stream.shutdown().await;
        drop(stream);
        1
    });
    (addr, task)
}

#[tokio::test]
async fn a_pooled_connection_closed_by_the_provider_is_not_fatal() {
    let (addr, first) = one_shot_upstream().await;
    let gateway = Gateway::start(&route(
        "/token/proxy",
        "tiktok",
        &tiktok_token_url(addr),
        "",
    ));
    assert_eq!(
        post_status(&gateway, "/token/proxy", good_body("first")).await,
        200
    );
    assert_eq!(
        first.await.unwrap(),
        1,
        "the first upstream served the request"
    );
    // A new provider process on the same port.
    let second = MockProvider::start(ProviderKind::TikTok, &addr.to_string(), None)
        .await
        .expect("rebinding the same port");
    let response = http_client()
        .post(gateway.url("/token/proxy"))
        .header("content-type", FORM)
        .body(good_body("second"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "log:\n{}", gateway.log());
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["access_token"], "act.second");
    let seen = second.requests();
    assert_eq!(
        seen.len(),
        1,
        "the new provider saw the exchange exactly once"
    );
    assert_eq!(seen[0].body_param("code"), Some("second"));
    // The idle liveness check found the connection closed and dropped it:
    // the second exchange went out on a new connection, with no retry.
    let metrics = gateway.metrics().await;
    let connections = |reused: &str| {
        metric_series(
            &metrics,
            "quirkgate_upstream_connections_total",
            &[("route", "/token/proxy"), ("reused", reused)],
        )
    };
    assert_eq!(connections("false"), Some(2.0), "{metrics}");
    assert_no_series(
        &metrics,
        "quirkgate_upstream_connections_total",
        &[("reused", "true")],
    );
    // No attempt was made again, for any reason.
    assert_zero(&metrics, "quirkgate_retries_total", &[]);
}

/// Serves one keep-alive exchange on its first connection; when the next
/// request starts arriving on that pooled connection, resets it while the
/// gateway is still writing (a small advertised MSS and receive buffer keep
/// a large request from fitting in the socket buffers). Later connections
/// are served normally. Counts the answers it sent.
async fn resetting_upstream() -> (SocketAddr, Arc<AtomicUsize>) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.set_tcp_mss(536).unwrap();
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    socket.listen(16).unwrap();
    socket.set_nonblocking(true).unwrap();
    let listener = tokio::net::TcpListener::from_std(socket.into()).unwrap();
    let addr = listener.local_addr().unwrap();
    let answered = Arc::new(AtomicUsize::new(0));
    let counter = answered.clone();
    tokio::spawn(async move {
        let mut accepted = 0;
        while let Ok((mut stream, _)) = listener.accept().await {
            accepted += 1;
            let first = accepted == 1;
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let Some(request) =
                    quirkgate_mocks::provider::read_request(&mut stream, &mut buf).await
                else {
                    return;
                };
                let (status, content_type, body) =
                    quirkgate_mocks::provider::answer(ProviderKind::TikTok, &request);
                let mut stream = write_answer(stream, status, content_type, &body)
                    .await
                    .unwrap();
                counter.fetch_add(1, SeqCst);
                if first {
                    // The next request starts arriving: reset mid-write.
                    stream.readable().await.unwrap();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    socket2::SockRef::from(&stream)
                        .set_linger(Some(Duration::ZERO))
                        .unwrap();
                    drop(stream);
                } else {
                    let mut buf = Vec::new();
                    while let Some(request) =
                        quirkgate_mocks::provider::read_request(&mut stream, &mut buf).await
                    {
                        let (status, content_type, body) =
                            quirkgate_mocks::provider::answer(ProviderKind::TikTok, &request);
                        stream = write_answer(stream, status, content_type, &body)
                            .await
                            .unwrap();
                        counter.fetch_add(1, SeqCst);
                    }
                }
            });
        }
    });
    (addr, answered)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pooled_connection_reset_before_the_request_is_written_is_retried_once_on_a_fresh_one() {
    let (addr, answered) = resetting_upstream().await;
    // retries: 0, so only the stale-connection rule can save the exchange.
    let gateway = Gateway::start(&route(
        "/token/proxy",
        "tiktok",
        &tiktok_token_url(addr),
        "retries: 0\nmax_body_bytes: 1048576",
    ));
    assert_eq!(
        post_status(&gateway, "/token/proxy", good_body("first")).await,
        200
    );
    // Too large for the socket buffers: the write is still going on when the
    // provider resets the pooled connection.
    let big = format!("{}&pad={}", good_body("second"), "p".repeat(1_000_000));
    let response = http_client()
        .post(gateway.url("/token/proxy"))
        .header("content-type", FORM)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "log:\n{}", gateway.log());
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["access_token"], "act.second");
    assert_eq!(answered.load(SeqCst), 2, "each code was answered once");
    let metrics = gateway.metrics().await;
    let value = |name: &str, labels: &[(&str, &str)]| metric_value(&metrics, name, labels);
    assert_eq!(
        value(
            "quirkgate_retries_total",
            &[("route", "/token/proxy"), ("reason", "stale_connection")]
        ),
        1.0
    );
    assert_zero(
        &metrics,
        "quirkgate_retries_total",
        &[("reason", "after_send")],
    );
    assert_eq!(
        value(
            "quirkgate_upstream_connections_total",
            &[("route", "/token/proxy"), ("reused", "true")]
        ),
        1.0,
        "the second exchange started on the pooled connection"
    );
    assert_eq!(
        value(
            "quirkgate_upstream_connections_total",
            &[("route", "/token/proxy"), ("reused", "false")]
        ),
        2.0,
        "and finished on a fresh one"
    );
}

/// Answers headers announcing 100 bytes, sends 10, and closes.
async fn truncating_upstream() -> (SocketAddr, Arc<AtomicUsize>) {
    scripted_upstream(|mut stream, _request| async move {
        // A Content-Length of 100 and 10 bytes of it, then the connection ends.
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"access_t")
            .await;
        let _ = stream.flush().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        None
    })
    .await
}

#[tokio::test]
async fn a_reset_in_the_middle_of_the_answer_is_a_502_and_never_retried() {
    let (addr, count) = truncating_upstream().await;
    let closed_port = free_port();
    let gateway = Gateway::start(
        &[
            route(
                "/truncated",
                "tiktok",
                &format!("http://{addr}/"),
                "retries: 2",
            ),
            // Retried connects, so the retries family exists to be looked at.
            route(
                "/refused",
                "tiktok",
                &format!("http://127.0.0.1:{closed_port}/"),
                "retries: 1",
            ),
        ]
        .concat(),
    );
    assert_eq!(post_status(&gateway, "/refused", good_body("r")).await, 502);
    assert_eq!(
        post_status(&gateway, "/truncated", good_body("once")).await,
        502
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(count.load(SeqCst), 1, "the code reached the provider once");
    let metrics = gateway.metrics().await;
    assert_eq!(
        metric_value(
            &metrics,
            "quirkgate_retries_total",
            &[("route", "/refused")]
        ),
        1.0
    );
    assert_zero(
        &metrics,
        "quirkgate_retries_total",
        &[("route", "/truncated")],
    );
    let reset = metric_value(
        &metrics,
        "quirkgate_upstream_errors_total",
        &[("route", "/truncated"), ("kind", "reset")],
    );
    assert!(
        reset >= 1.0,
        "upstream_errors_total{{kind=\"reset\"}} did not move; errors: {:?}",
        metrics
            .lines()
            .filter(|l| l.starts_with("quirkgate_upstream_errors_total"))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        metric_value(
            &metrics,
            "quirkgate_requests_total",
            &[("route", "/truncated"), ("status", "502")]
        ),
        1.0
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried_exactly_retries_times() {
    let closed_port = free_port();
    let gateway = Gateway::start(&route(
        "/refused",
        "tiktok",
        &format!("http://127.0.0.1:{closed_port}/"),
        "retries: 2",
    ));
    assert_eq!(post_status(&gateway, "/refused", good_body("c")).await, 502);
    let metrics = gateway.metrics().await;
    assert_eq!(
        metric_value(
            &metrics,
            "quirkgate_retries_total",
            &[("route", "/refused"), ("reason", "connect")]
        ),
        2.0
    );
    assert_eq!(
        metric_value(
            &metrics,
            "quirkgate_upstream_errors_total",
            &[("route", "/refused"), ("kind", "connect")]
        ),
        3.0,
        "three attempts failed to connect"
    );
}

// ---------------------------------------------------------------------------
// f. series values after known traffic, readiness, bounded labels
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn series_values_follow_the_traffic_sent() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let (slow, slow_count) = slow_tiktok_upstream(Duration::from_millis(1500)).await;
    let gateway = Gateway::start(
        &[
            route("/token/proxy", "tiktok", &tiktok_token_url(tiktok.addr), ""),
            route(
                "/slow",
                "tiktok",
                &format!("http://{slow}/"),
                "timeout: 10s",
            ),
        ]
        .concat(),
    );
    for i in 0..4 {
        assert_eq!(
            post_status(&gateway, "/token/proxy", good_body(&format!("v{i}"))).await,
            200
        );
    }
    // An unknown path: counted as `unmatched`, never under the caller's path.
    assert_eq!(
        post_status(&gateway, "/caller-chosen-path-31337", good_body("u")).await,
        404
    );
    gateway
        .wait_for_metric("quirkgate_requests_in_flight", &[], 0.0)
        .await;
    let metrics = gateway.metrics().await;
    let value = |name: &str, labels: &[(&str, &str)]| metric_value(&metrics, name, labels);
    let route = [("route", "/token/proxy")];
    assert_eq!(
        value(
            "quirkgate_requests_total",
            &[
                ("route", "/token/proxy"),
                ("method", "POST"),
                ("status", "200")
            ]
        ),
        4.0
    );
    assert_eq!(
        value("quirkgate_request_duration_seconds_count", &route),
        4.0
    );
    assert_eq!(
        value("quirkgate_upstream_duration_seconds_count", &route),
        4.0
    );
    assert_eq!(
        value(
            "quirkgate_upstream_responses_total",
            &[("route", "/token/proxy"), ("class", "2xx")]
        ),
        4.0
    );
    assert_eq!(
        value(
            "quirkgate_upstream_connections_total",
            &[("route", "/token/proxy"), ("reused", "false")]
        ),
        1.0
    );
    assert_eq!(
        value(
            "quirkgate_upstream_connections_total",
            &[("route", "/token/proxy"), ("reused", "true")]
        ),
        3.0
    );
    assert_eq!(value("quirkgate_requests_in_flight", &[]), 0.0);
    // An IP literal is one address.
    assert_eq!(value("quirkgate_upstream_addresses", &route), 1.0);
    assert_eq!(
        value(
            "quirkgate_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    assert_eq!(
        value(
            "quirkgate_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ),
        1.0
    );
    assert_eq!(
        value(
            "quirkgate_refused_total",
            &[("route", "unmatched"), ("reason", "not_found")]
        ),
        1.0
    );
    assert_eq!(
        value(
            "quirkgate_request_duration_seconds_count",
            &[("route", "unmatched")]
        ),
        1.0
    );
    assert!(
        !metrics.contains("caller-chosen-path"),
        "a caller's path never becomes a label:\n{metrics}"
    );

    // Three exchanges held by a slow provider are three in flight, then none.
    let held: Vec<_> = (0..3)
        .map(|i| {
            let url = gateway.url("/slow");
            tokio::spawn(async move {
                http_client()
                    .post(url)
                    .header("content-type", FORM)
                    .body(good_body(&format!("held{i}")))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    gateway
        .wait_for_metric("quirkgate_requests_in_flight", &[], 3.0)
        .await;
    assert!(slow_count.load(SeqCst) <= 3);
    for exchange in held {
        assert_eq!(exchange.await.unwrap(), 200);
    }
    gateway
        .wait_for_metric("quirkgate_requests_in_flight", &[], 0.0)
        .await;
    assert_eq!(
        gateway
            .metric(
                "quirkgate_upstream_duration_seconds_count",
                &[("route", "/slow")]
            )
            .await,
        3.0
    );
}

#[tokio::test]
async fn readyz_answers_503_while_an_upstream_host_has_not_resolved() {
    // `.invalid` never resolves (RFC 6761): the lookup fails locally.
    let gateway = Gateway::start(&route(
        "/token/proxy",
        "tiktok",
        "http://nonexistent.invalid/v2/oauth/token/",
        "",
    ));
    let base = format!("http://127.0.0.1:{}", gateway.metrics_port);
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .status(),
        200,
        "alive, though not ready"
    );
    assert_eq!(
        post_status(&gateway, "/token/proxy", good_body("unresolved")).await,
        502
    );
    assert_eq!(
        gateway
            .metric(
                "quirkgate_upstream_errors_total",
                &[("route", "/token/proxy"), ("kind", "resolve")]
            )
            .await,
        1.0
    );
    // Still not ready after the request.
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503);
}
