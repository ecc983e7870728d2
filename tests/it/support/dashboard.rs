//! What the shipped Grafana dashboard and Prometheus alert rules query: every
//! expression in `conf/`, with where it comes from, and the tools that check
//! them.

pub const DASHBOARD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/conf/grafana-dashboard.json");
pub const ALERTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/conf/prometheus-alerts.yaml");
pub const PROMTOOL: &str = "/usr/bin/promtool";
pub const PROMETHEUS: &str = "/usr/bin/prometheus";

/// Where an expression comes from, for messages.
#[derive(Debug, Clone)]
pub struct Expr {
    pub origin: String,
    pub text: String,
    /// Alert rules: evaluate the measures (comparisons stripped) too.
    pub is_rule: bool,
}

pub fn dashboard() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(DASHBOARD).unwrap())
        .expect("conf/grafana-dashboard.json is valid JSON")
}

pub fn all_panels(dashboard: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        out.push(panel.clone());
        if let Some(inner) = panel["panels"].as_array() {
            out.extend(inner.iter().cloned());
        }
    }
    out
}

pub fn dashboard_exprs() -> Vec<Expr> {
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

pub fn rule_exprs() -> Vec<Expr> {
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
