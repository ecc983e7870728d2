//! What operators deploy with, checked here because it cannot be run here:
//! the Kubernetes manifests validate offline against the Kubernetes schemas
//! (`kubernetes-validate --strict`; the Prometheus Operator's kinds, which it
//! has no schema for, are checked structurally and with promtool), probe the
//! paths and ports the shipped config serves, and the PrometheusRule is the
//! alert file; the Dockerfile has the structure it needs (no image is built);
//! the systemd unit passes `systemd-analyze verify`; `quirkgate healthcheck`
//! tells a healthy gateway from a dead one.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;

use crate::support::{free_port, route, Gateway};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn yaml(path: &str) -> Value {
    serde_yaml::from_str(&std::fs::read_to_string(repo(path)).unwrap()).unwrap()
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value:?}"))
}

fn port_of(address: &str) -> u64 {
    address.rsplit(':').next().unwrap().parse().unwrap()
}

/// The seconds of `grace_period` in a config file (Pingora's default when absent).
fn grace_seconds(config: &Value) -> u64 {
    match &config["grace_period"] {
        Value::Null => quirkgate::config::DEFAULT_GRACE_PERIOD.as_secs(),
        Value::Number(n) => n.as_u64().unwrap(),
        other => quirkgate::config::parse_duration(text(other))
            .unwrap()
            .as_secs(),
    }
}

/// Kinds `kubernetes-validate` has no schema for, each checked by a test below.
const CHECKED_STRUCTURALLY: [&str; 3] = ["ServiceMonitor", "PrometheusRule", "Kustomization"];

fn manifests() -> Vec<(String, Value)> {
    let mut files: Vec<String> = std::fs::read_dir(repo("deploy/kubernetes"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|name| {
            let value = yaml(&format!("deploy/kubernetes/{name}"));
            (name, value)
        })
        .collect()
}

/// Run as a Python module, so no console-script shim on PATH is needed
/// (pyenv, for one, makes shims only on `pyenv rehash`).
fn kubernetes_validate(files: &[PathBuf]) -> std::process::Output {
    Command::new("python3")
        .args(["-m", "kubernetes_validate", "--strict"])
        .args(files)
        .output()
        .expect("kubernetes-validate (PyPI) is missing: run ./scripts/setup.sh")
}

#[test]
fn every_kubernetes_manifest_validates_offline_against_the_schemas() {
    let mut validated = Vec::new();
    for (name, manifest) in manifests() {
        let kind = text(&manifest["kind"]);
        if CHECKED_STRUCTURALLY.contains(&kind) {
            continue;
        }
        validated.push(repo(&format!("deploy/kubernetes/{name}")));
    }
    assert!(validated.len() >= 6, "{validated:?}");
    let output = kubernetes_validate(&validated);
    let report = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{report}");
    assert!(
        !report.contains("WARN") && !report.contains("ERROR"),
        "{report}"
    );
    assert_eq!(
        report.matches(" passed for resource ").count(),
        validated.len(),
        "{report}"
    );

    // The validator is strict: a misspelled field fails.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("deployment.yaml");
    let deployment = std::fs::read_to_string(repo("deploy/kubernetes/deployment.yaml")).unwrap();
    std::fs::write(
        &broken,
        deployment.replace("readOnlyRootFilesystem", "readOnlyRootFilesytem"),
    )
    .unwrap();
    assert!(!kubernetes_validate(&[broken]).status.success());
}

fn find<'a>(manifests: &'a [(String, Value)], kind: &str) -> &'a Value {
    &manifests
        .iter()
        .find(|(_, m)| m["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in deploy/kubernetes"))
        .1
}

/// The ConfigMap's quirkgate.yaml, parsed.
fn pod_config(manifests: &[(String, Value)]) -> (String, Value) {
    let raw = text(&find(manifests, "ConfigMap")["data"]["quirkgate.yaml"]).to_owned();
    let parsed = serde_yaml::from_str(&raw).unwrap();
    (raw, parsed)
}

#[test]
fn the_configmap_is_the_shipped_config_with_only_the_documented_changes() {
    let manifests = manifests();
    let (_, mut in_pod) = pod_config(&manifests);
    let shipped = yaml("conf/quirkgate.yaml");
    assert_eq!(
        in_pod["metrics_listen"], "0.0.0.0:9091",
        "probes and Prometheus come from outside the pod"
    );
    assert_eq!(
        port_of(text(&in_pod["metrics_listen"])),
        port_of(text(&shipped["metrics_listen"]))
    );
    assert_eq!(
        text(&in_pod["routes"][0]["shared_secret"]["value"]),
        "${QUIRKGATE_SHARED_SECRET}"
    );
    // Undo the two documented changes: what is left is the shipped file.
    in_pod["metrics_listen"] = shipped["metrics_listen"].clone();
    in_pod["routes"][0]
        .as_mapping_mut()
        .unwrap()
        .remove("shared_secret");
    assert_eq!(in_pod, shipped);
}

#[test]
fn the_pods_config_loads_with_the_secrets_values() {
    let manifests = manifests();
    let (raw, _) = pod_config(&manifests);
    let secret = find(&manifests, "Secret");
    let values = secret["stringData"].as_mapping().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quirkgate.yaml");
    std::fs::write(&path, &raw).unwrap();
    let mut check = Command::new(env!("CARGO_BIN_EXE_quirkgate"));
    check.arg("--config").arg(&path).arg("--test");
    for (name, value) in values {
        check.env(text(name), text(value));
    }
    let output = check.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Each key of the Secret is a variable the file reads.
    for name in values.keys() {
        assert!(
            raw.contains(&format!("${{{}}}", text(name))),
            "{name:?} is not read by the config"
        );
    }
    // …and the file reads nothing else without a default.
    let output = Command::new(env!("CARGO_BIN_EXE_quirkgate"))
        .arg("--config")
        .arg(&path)
        .arg("--test")
        .env_remove("QUIRKGATE_SHARED_SECRET")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("QUIRKGATE_SHARED_SECRET"));
}

#[test]
fn the_deployment_probes_the_paths_and_ports_the_config_serves() {
    let manifests = manifests();
    let (_, config) = pod_config(&manifests);
    let deployment = find(&manifests, "Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let port = |name: &str| -> u64 {
        container["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no container port {name}"))["containerPort"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(port("http"), port_of(text(&config["listen"])));
    assert_eq!(port("metrics"), port_of(text(&config["metrics_listen"])));
    for (probe, path) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
        assert_eq!(container[probe]["httpGet"]["path"], path, "{probe}");
        assert_eq!(container[probe]["httpGet"]["port"], "metrics", "{probe}");
    }
    let mounted = container["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "config")
        .unwrap();
    assert_eq!(
        container["args"],
        serde_yaml::from_str::<Value>(&format!(
            "[--config, {}/quirkgate.yaml]",
            text(&mounted["mountPath"])
        ))
        .unwrap()
    );

    // SIGTERM comes after the preStop sleep; then grace_period, then SIGKILL.
    let pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        .as_u64()
        .unwrap_or(0);
    let termination = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(
        termination > pre_stop + grace_seconds(&config),
        "{termination} s"
    );

    // Non-root, read-only, no capabilities.
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_ne!(pod["securityContext"]["runAsUser"], 0);
    let security = &container["securityContext"];
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(
        security["capabilities"]["drop"],
        serde_yaml::from_str::<Value>("[ALL]").unwrap()
    );

    // Requests from the measured RSS: 19 MiB idle + 4.2 KB per idle connection,
    // for at least the 5,000 connections the README's memory target names.
    let memory = text(&container["resources"]["requests"]["memory"]);
    let mebibytes: f64 = memory.strip_suffix("Mi").unwrap().parse().unwrap();
    assert!(
        mebibytes >= 19.0 + 5_000.0 * 4_200.0 / 1_048_576.0,
        "{memory}"
    );
    assert!(container["resources"]["limits"]["memory"].is_string());
    assert!(
        container["resources"]["requests"]["cpu"].is_string(),
        "the HPA scales on CPU utilisation"
    );
}

#[test]
fn the_service_autoscaler_budget_and_monitor_point_at_the_deployment() {
    let manifests = manifests();
    let deployment = find(&manifests, "Deployment");
    let labels = &deployment["spec"]["template"]["metadata"]["labels"];
    let container_ports: Vec<&Value> = deployment["spec"]["template"]["spec"]["containers"][0]
        ["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| &p["name"])
        .collect();
    let service = find(&manifests, "Service");
    assert_eq!(&service["spec"]["selector"], labels);
    for port in service["spec"]["ports"].as_sequence().unwrap() {
        assert!(container_ports.contains(&&port["targetPort"]), "{port:?}");
    }
    let hpa = find(&manifests, "HorizontalPodAutoscaler");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Deployment");
    assert_eq!(
        hpa["spec"]["scaleTargetRef"]["name"],
        deployment["metadata"]["name"]
    );
    assert!(hpa["spec"]["minReplicas"].as_u64().unwrap() >= 2);
    let pdb = find(&manifests, "PodDisruptionBudget");
    assert_eq!(&pdb["spec"]["selector"]["matchLabels"], labels);
    assert!(
        pdb["spec"]["minAvailable"].as_u64().unwrap()
            < hpa["spec"]["minReplicas"].as_u64().unwrap()
    );

    // ServiceMonitor (no schema offline): its shape, and that it names the Service's metrics port.
    let monitor = find(&manifests, "ServiceMonitor");
    assert_eq!(monitor["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(
        &monitor["spec"]["selector"]["matchLabels"],
        &service["metadata"]["labels"]
    );
    let endpoint = &monitor["spec"]["endpoints"][0];
    assert!(service["spec"]["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .any(|p| p["name"] == endpoint["port"]));
    assert_eq!(endpoint["path"], "/metrics");
    let allowed = [
        "port",
        "path",
        "interval",
        "scrapeTimeout",
        "scheme",
        "relabelings",
        "metricRelabelings",
    ];
    for key in endpoint.as_mapping().unwrap().keys() {
        assert!(
            allowed.contains(&text(key)),
            "unexpected endpoint field {key:?}"
        );
    }

    // The kustomization lists every manifest.
    let kustomization = find(&manifests, "Kustomization");
    let mut listed: Vec<&str> = kustomization["resources"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(text)
        .collect();
    listed.sort();
    let mut files: Vec<String> = manifests
        .iter()
        .filter(|(_, m)| m["kind"] != "Kustomization")
        .map(|(name, _)| name.clone())
        .collect();
    files.sort();
    assert_eq!(listed, files);
}

#[test]
fn the_prometheus_rule_is_generated_from_the_alert_rules() {
    let generated = Command::new(repo("deploy/kubernetes/generate-prometheus-rule.sh"))
        .output()
        .unwrap();
    assert!(generated.status.success());
    assert_eq!(
        String::from_utf8(generated.stdout).unwrap(),
        std::fs::read_to_string(repo("deploy/kubernetes/prometheusrule.yaml")).unwrap(),
        "run deploy/kubernetes/generate-prometheus-rule.sh > deploy/kubernetes/prometheusrule.yaml"
    );
    let rule = yaml("deploy/kubernetes/prometheusrule.yaml");
    assert_eq!(rule["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(rule["kind"], "PrometheusRule");
    assert_eq!(
        rule["spec"]["groups"],
        yaml("conf/prometheus-alerts.yaml")["groups"]
    );
    assert_eq!(
        rule["spec"].as_mapping().unwrap().len(),
        1,
        "spec holds only groups"
    );

    // The spec is a Prometheus rule file: promtool checks it as one.
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yaml");
    std::fs::write(&rules, serde_yaml::to_string(&rule["spec"]).unwrap()).unwrap();
    let output = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&rules)
        .output()
        .expect("promtool is missing: run ./scripts/setup.sh");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

/// Dockerfile instructions, continuation lines joined, with the stage each is in.
fn dockerfile() -> Vec<(usize, String, String)> {
    let text = std::fs::read_to_string(repo("Dockerfile")).unwrap();
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        match line.strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(line);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    let mut stage = 0;
    joined
        .into_iter()
        .map(|line| {
            let (word, rest) = line.split_once(' ').unwrap_or((&line, ""));
            if word == "FROM" {
                stage += 1;
            }
            (stage, word.to_owned(), rest.trim().to_owned())
        })
        .collect()
}

#[test]
fn the_dockerfile_builds_in_one_stage_and_runs_without_a_shell_as_non_root() {
    let lines = dockerfile();
    let froms: Vec<&String> = lines
        .iter()
        .filter(|(_, w, _)| w == "FROM")
        .map(|(_, _, r)| r)
        .collect();
    assert!(froms.len() >= 2, "multi-stage: {froms:?}");
    let last = froms.len();
    assert!(
        froms[last - 1].starts_with("gcr.io/distroless/"),
        "{froms:?}"
    );
    let runtime: Vec<(&str, &str)> = lines
        .iter()
        .filter(|(stage, _, _)| *stage == last)
        .map(|(_, w, r)| (w.as_str(), r.as_str()))
        .collect();
    let only = |word: &str| -> &str {
        let found: Vec<&str> = runtime
            .iter()
            .filter(|(w, _)| *w == word)
            .map(|(_, r)| *r)
            .collect();
        assert_eq!(found.len(), 1, "one {word} in the runtime stage: {found:?}");
        found[0]
    };
    assert!(
        !runtime.iter().any(|(w, _)| *w == "RUN"),
        "the runtime stage has no shell to RUN with"
    );
    let user = only("USER");
    assert!(
        !user.starts_with('0') && !user.starts_with("root"),
        "{user}"
    );
    // Exec forms: no shell at run time.
    let exec = |rest: &str| -> Vec<String> {
        serde_json::from_str(rest).unwrap_or_else(|_| panic!("not exec form: {rest}"))
    };
    let entrypoint = exec(only("ENTRYPOINT"));
    let binary = &entrypoint[0];
    assert!(runtime
        .iter()
        .any(|(w, r)| *w == "COPY" && r.starts_with("--from=") && r.ends_with(binary.as_str())));
    let healthcheck = only("HEALTHCHECK");
    let probe = exec(healthcheck.split_once("CMD ").unwrap().1);
    let shipped = yaml("conf/quirkgate.yaml");
    assert_eq!(
        probe,
        vec![
            binary.clone(),
            "healthcheck".to_owned(),
            format!(
                "http://127.0.0.1:{}/healthz",
                port_of(text(&shipped["metrics_listen"]))
            )
        ]
    );
    let cmd = exec(only("CMD"));
    assert_eq!(cmd[0], "--config");
    assert!(runtime
        .iter()
        .any(|(w, r)| *w == "COPY" && *r == format!("conf/quirkgate.yaml {}", cmd[1])));
    let exposed = only("EXPOSE");
    for address in [&shipped["listen"], &shipped["metrics_listen"]] {
        assert!(
            exposed
                .split(' ')
                .any(|p| p == port_of(text(address)).to_string()),
            "{exposed}"
        );
    }
    // The build stage has what Pingora's build needs, and builds from the lock file.
    let build: Vec<&str> = lines
        .iter()
        .filter(|(s, _, _)| *s < last)
        .map(|(_, _, r)| r.as_str())
        .collect();
    assert!(build.iter().any(|r| r.contains("cmake")));
    assert!(build
        .iter()
        .any(|r| r.contains("cargo build --release --locked")));
}

#[test]
fn healthcheck_exits_zero_only_for_a_healthy_gateway() {
    let gateway = Gateway::start(&route("/token", "tiktok", "http://127.0.0.1:9/", ""));
    let probe = |url: String| {
        Command::new(env!("CARGO_BIN_EXE_quirkgate"))
            .args(["healthcheck", &url])
            .output()
            .unwrap()
    };
    let healthy = probe(format!("http://127.0.0.1:{}/healthz", gateway.metrics_port));
    assert!(
        healthy.status.success(),
        "{}",
        String::from_utf8_lossy(&healthy.stderr)
    );
    let missing = probe(format!("http://127.0.0.1:{}/nope", gateway.metrics_port));
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("status 404"));
    let dead = probe(format!("http://127.0.0.1:{}/healthz", free_port()));
    assert!(!dead.status.success());
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let unit = std::fs::read_to_string(repo("deploy/systemd/quirkgate.service")).unwrap();
    let directive = |name: &str| -> Vec<&str> {
        unit.lines()
            .filter_map(|l| l.strip_prefix(&format!("{name}=")))
            .collect()
    };
    assert_eq!(directive("ExecReload"), vec!["/bin/kill -HUP $MAINPID"]);
    assert_eq!(directive("KillSignal"), vec!["SIGTERM"]);
    let stop: u64 = directive("TimeoutStopSec")[0]
        .trim_end_matches('s')
        .parse()
        .unwrap();
    assert!(stop > grace_seconds(&yaml("conf/quirkgate.yaml")), "{stop}");
    for (name, value) in [
        ("DynamicUser", "yes"),
        ("ProtectSystem", "strict"),
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", ""),
    ] {
        assert_eq!(directive(name), vec![value], "{name}");
    }

    // verify checks that ExecStart's binary exists: point a copy at the one just built.
    let exec_start = directive("ExecStart");
    assert_eq!(exec_start.len(), 1);
    let shipped_binary = exec_start[0].split(' ').next().unwrap();
    assert_eq!(shipped_binary, "/usr/local/bin/quirkgate");
    let verify = |text: &str| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("quirkgate.service");
        std::fs::write(
            &path,
            text.replace(shipped_binary, env!("CARGO_BIN_EXE_quirkgate")),
        )
        .unwrap();
        let output = Command::new("systemd-analyze")
            .arg("verify")
            .arg(&path)
            .output()
            .expect("systemd-analyze is missing: run ./scripts/setup.sh");
        let report = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        // verify only warns about a bad line; any word about this unit is a failure.
        let about_unit: Vec<&str> = report.lines().filter(|l| l.contains("quirkgate")).collect();
        (output.status.success() && about_unit.is_empty(), report)
    };
    let (ok, report) = verify(&unit);
    assert!(ok, "{report}");
    let (ok, _) = verify(&unit.replace("KillSignal=SIGTERM", "KillSignal=SIGTERN"));
    assert!(!ok, "the check sees a bad directive");
}
