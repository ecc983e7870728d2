//! A real Prometheus scrapes a real gateway, and every dashboard and rule
//! expression gets data.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{reloads, scene, traffic_round};
use crate::support::*;

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
