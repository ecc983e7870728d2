//! The gateway under test: the real `quirkgate` binary started on free
//! loopback ports with a config written here, its log captured, and the
//! metrics it exports read back.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::prometheus::{metric_series, metric_value};

/// A free loopback port (bound, then released for the gateway to take).
/// Never the same port twice in one run: Pingora's listeners set
/// SO_REUSEPORT, so two gateways given the same port would both bind it and
/// share its connections.
pub fn free_port() -> u16 {
    static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut handed_out = HANDED_OUT.lock().unwrap();
        if !handed_out.contains(&port) {
            handed_out.push(port);
            return port;
        }
    }
}

/// A running gateway process with its config and captured log.
pub struct Gateway {
    pub child: Child,
    pub port: u16,
    pub metrics_port: u16,
    /// Holds the config and log files for the life of the process.
    _dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub log_path: PathBuf,
}

impl Gateway {
    /// Starts the gateway with `routes_yaml` (the `routes:` list, indented as a
    /// top-level key's value) and any extra top-level keys.
    pub fn start(routes_yaml: &str) -> Gateway {
        Self::start_with(routes_yaml, "", "info")
    }

    pub fn start_with(routes_yaml: &str, extra_top_level: &str, rust_log: &str) -> Gateway {
        Self::start_with_env(routes_yaml, extra_top_level, rust_log, &[])
    }

    /// Starts the gateway with `env` added to its environment (the values
    /// presets read, such as `TWITCH_CLIENT_ID`).
    pub fn start_with_env(
        routes_yaml: &str,
        extra_top_level: &str,
        rust_log: &str,
        env: &[(&str, &str)],
    ) -> Gateway {
        // A port another process took between `free_port` and the bind: new ports.
        for _ in 0..3 {
            let gateway = Self::spawn(routes_yaml, extra_top_level, rust_log, env);
            if gateway.wait_listening() {
                return gateway;
            }
        }
        panic!("no free ports for the gateway after 3 tries");
    }

    fn spawn(
        routes_yaml: &str,
        extra_top_level: &str,
        rust_log: &str,
        env: &[(&str, &str)],
    ) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let metrics_port = free_port();
        // A short grace period keeps shutdowns quick, unless the test sets its own.
        let grace = if extra_top_level.contains("grace_period:") {
            ""
        } else {
            "grace_period: 1s\n"
        };
        // A top-level block that names the gateway's own URL (an OIDC issuer) writes `{{gateway_port}}`.
        let extra_top_level = extra_top_level.replace("{{gateway_port}}", &port.to_string());
        let config = format!(
            "threads: 1\nlisten: \"127.0.0.1:{port}\"\nmetrics_listen: \"127.0.0.1:{metrics_port}\"\n{grace}{extra_top_level}\nroutes:\n{routes_yaml}\n"
        );
        let config_path = dir.path().join("quirkgate.yaml");
        std::fs::write(&config_path, config).unwrap();
        let log_path = dir.path().join("gateway.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_quirkgate"))
            .arg("--config")
            .arg(&config_path)
            .env("RUST_LOG", rust_log)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Gateway {
            child,
            port,
            metrics_port,
            _dir: dir,
            config_path,
            log_path,
        }
    }

    /// Waits until this gateway process itself listens on both ports (a
    /// connect alone could reach another process on a port it took first);
    /// `false` when a port is in use elsewhere.
    fn wait_listening(&self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.log().contains("is in use") {
                return false;
            }
            if owns_listener(self.child.id(), self.port)
                && owns_listener(self.child.id(), self.metrics_port)
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("gateway did not start; log:\n{}", self.log());
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("http://127.0.0.1:{}/metrics", self.metrics_port))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Sum of a metric's samples whose labels contain every `label="value"`
    /// given; panics with the metrics text when no series matches, so a
    /// renamed metric or label cannot pass as zero.
    pub async fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        metric_value(&self.metrics().await, name, labels)
    }

    /// Like `metric`, `None` when no series matches (for polling).
    pub async fn metric_if_present(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        metric_series(&self.metrics().await, name, labels)
    }

    /// Waits until the metric's series exists and equals `value`.
    pub async fn wait_for_metric(&self, name: &str, labels: &[(&str, &str)], value: f64) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.metric_if_present(name, labels).await;
            if found == Some(value) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{name}{labels:?} is {found:?}, expected {value}; metrics:\n{}\nlog:\n{}",
                self.metrics().await,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the log holds `needle` (e.g. the access-log line of a
    /// request, `route=/t method=POST status=401`) and returns the log: the
    /// positive signal to wait for before asserting that something is absent.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "the log never held {needle:?}:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the log holds `count` occurrences of `needle`.
    pub fn wait_for_log_count(&self, needle: &str, count: usize, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.log();
            let found = log.matches(needle).count();
            if found >= count {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "the log holds {found} of {count} {needle:?}:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal`; a HUP waits until the gateway says it reloads on one
    /// (before that, the default action would end it).
    pub fn signal(&self, signal: &str) {
        if signal == "HUP" {
            self.wait_for_log("SIGHUP reloads", Duration::from_secs(10));
        }
        Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether process `pid` holds a socket listening on 127.0.0.1:`port`
/// (from `/proc/net/tcp` and the process's file descriptors).
pub fn owns_listener(pid: u32, port: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let local = format!("0100007F:{port:04X}");
    let inodes: Vec<String> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let listening = fields.get(1) == Some(&local.as_str()) && fields.get(3) == Some(&"0A");
            let inode = fields.get(9)?;
            listening.then(|| format!("socket:[{inode}]"))
        })
        .collect();
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(Result::ok)
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .any(|target| {
            inodes
                .iter()
                .any(|inode| target.to_string_lossy() == *inode)
        })
}

/// A route block for `Gateway::start`.
pub fn route(path: &str, preset: &str, upstream: &str, extra: &str) -> String {
    let mut block =
        format!("  - path: {path}\n    preset: {preset}\n    upstream: \"{upstream}\"\n");
    for line in extra.lines().filter(|l| !l.trim().is_empty()) {
        block.push_str("    ");
        block.push_str(line);
        block.push('\n');
    }
    block
}

/// How many requests `route` refused for `reason`.
pub async fn refused(gateway: &Gateway, route: &str, reason: &str) -> f64 {
    gateway
        .metric(
            "quirkgate_refused_total",
            &[("route", route), ("reason", reason)],
        )
        .await
}
