//! The shipped alert rules pass promtool, the dashboard imports with its
//! datasource variable, and every metric and label they use is exported.

use std::collections::BTreeSet;
use std::process::Command;

use super::{reloads, scene, traffic_round};
use crate::support::*;

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
