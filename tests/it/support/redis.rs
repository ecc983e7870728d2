//! Real `redis-server` processes for the store tests (Debian's package;
//! `scripts/setup.sh` installs it): standalone, TLS, and a 3-master Cluster
//! made with `redis-cli --cluster create`, each on free loopback ports with
//! its own directory, killed when dropped. Never a mock.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::free_port;
use super::pki::TestPki;

/// Fails the test, saying how to get Redis, when it is not installed: the
/// store tests are never skipped silently.
fn require_redis() {
    for tool in ["redis-server", "redis-cli"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "{tool} is not installed: run scripts/setup.sh (the store tests start real Redis servers)"
        );
    }
}

/// A port whose Cluster bus port (+10000) is a valid port too.
fn redis_port() -> u16 {
    loop {
        let port = free_port();
        if port < 50_000 {
            return port;
        }
    }
}

/// One `redis-server` process, started again on the same port by `restart`.
pub struct Redis {
    child: Option<Child>,
    pub port: u16,
    args: Vec<String>,
    /// The TLS client flags redis-cli needs (empty for plain TCP).
    cli_tls: Vec<String>,
    dir: tempfile::TempDir,
}

impl Redis {
    /// A standalone server (no persistence; `DEBUG` enabled for the slow-store test).
    pub fn start() -> Redis {
        Self::start_with(&[], Vec::new())
    }

    /// A server speaking only TLS, with the test CA's certificate for 127.0.0.1.
    pub fn start_tls(pki: &TestPki) -> Redis {
        let path = |p: &PathBuf| p.display().to_string();
        let tls = vec![
            "--tls-cert-file".to_owned(),
            path(&pki.leaf_cert_path),
            "--tls-key-file".to_owned(),
            path(&pki.leaf_key_path),
            "--tls-ca-cert-file".to_owned(),
            path(&pki.ca_path),
            "--tls-auth-clients".to_owned(),
            "no".to_owned(),
        ];
        let args: Vec<&str> = tls.iter().map(String::as_str).collect();
        Self::start_with(
            &args,
            vec![
                "--tls".to_owned(),
                "--cacert".to_owned(),
                path(&pki.ca_path),
            ],
        )
    }

    fn start_with(extra: &[&str], cli_tls: Vec<String>) -> Redis {
        require_redis();
        let port = redis_port();
        let dir = tempfile::tempdir().unwrap();
        let listen: Vec<String> = if cli_tls.is_empty() {
            vec!["--port".into(), port.to_string()]
        } else {
            vec![
                "--port".into(),
                "0".into(),
                "--tls-port".into(),
                port.to_string(),
            ]
        };
        let mut args: Vec<String> = listen;
        args.extend(
            [
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--enable-debug-command",
                "yes",
                "--dir",
            ]
            .map(String::from),
        );
        args.push(dir.path().display().to_string());
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut redis = Redis {
            child: None,
            port,
            args,
            cli_tls,
            dir,
        };
        redis.restart();
        redis
    }

    /// `redis://127.0.0.1:PORT` (or `rediss://` for a TLS server).
    pub fn url(&self) -> String {
        let scheme = if self.cli_tls.is_empty() {
            "redis"
        } else {
            "rediss"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again, on the same port) and waits until it answers.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is running");
        let log = std::fs::File::create(self.dir.path().join("redis.log")).unwrap();
        self.child = Some(
            Command::new("redis-server")
                .args(&self.args)
                .stdout(log)
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.cli(&["PING"]).trim() != "PONG" {
            assert!(
                Instant::now() < deadline,
                "redis-server on {} did not start: {}",
                self.port,
                std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server at once (SIGKILL), as a crashed store would go.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// `redis-cli` against this server; its standard output.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(&self.cli_tls)
            .args(args)
            .stderr(Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Blocks the server for `seconds` (`DEBUG SLEEP`), from another thread.
    pub fn sleep_in_background(&self, seconds: f64) -> std::thread::JoinHandle<String> {
        let (port, tls) = (self.port, self.cli_tls.clone());
        std::thread::spawn(move || {
            let output = Command::new("redis-cli")
                .args(["-h", "127.0.0.1", "-p", &port.to_string()])
                .args(&tls)
                .args(["DEBUG", "SLEEP", &seconds.to_string()])
                .output()
                .unwrap();
            String::from_utf8_lossy(&output.stdout).into_owned()
        })
    }

    /// Every key (`redis-cli --scan`) and its value, as text (`DUMP` for non-strings).
    pub fn contents(&self) -> String {
        let mut out = String::new();
        for key in self.cli(&["--scan"]).lines().filter(|k| !k.is_empty()) {
            let kind = self.cli(&["TYPE", key]);
            let value = if kind.trim() == "string" {
                self.cli(&["GET", key])
            } else {
                self.cli(&["DUMP", key])
            };
            out.push_str(&format!("{key} = {}", value));
        }
        out
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A Redis Cluster of three masters (no replicas), its slots all served.
pub struct RedisCluster {
    pub nodes: Vec<Redis>,
}

impl RedisCluster {
    pub fn start() -> RedisCluster {
        let nodes: Vec<Redis> = (0..3)
            .map(|_| {
                Redis::start_with(
                    &[
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        "nodes.conf",
                        "--cluster-node-timeout",
                        "2000",
                    ],
                    Vec::new(),
                )
            })
            .collect();
        let addresses: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let created = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .unwrap();
        assert!(
            created.status.success(),
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&created.stdout)
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while !nodes
            .iter()
            .all(|n| n.cli(&["CLUSTER", "INFO"]).contains("cluster_state:ok"))
        {
            assert!(
                Instant::now() < deadline,
                "the cluster never reached cluster_state:ok"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        RedisCluster { nodes }
    }

    /// The seed nodes, as `store.urls` lists them.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(Redis::url).collect()
    }

    /// Every node's keys and values.
    pub fn contents(&self) -> String {
        self.nodes.iter().map(Redis::contents).collect()
    }
}

/// A master, its replica and one Sentinel watching them (quorum 1, a master
/// is down after 1 s), so a test can kill the master and see the replica
/// promoted.
pub struct RedisSentinel {
    pub master: Redis,
    pub replica: Redis,
    sentinel: Option<Child>,
    pub port: u16,
    _dir: tempfile::TempDir,
}

/// The master's name, as the Sentinel knows it.
pub const SENTINEL_MASTER: &str = "qgmaster";

impl RedisSentinel {
    pub fn start() -> RedisSentinel {
        let master = Redis::start();
        let replica = Redis::start_with(
            &["--replicaof", "127.0.0.1", &master.port.to_string()],
            Vec::new(),
        );
        let port = redis_port();
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {}\nsentinel monitor {SENTINEL_MASTER} 127.0.0.1 {} 1\nsentinel down-after-milliseconds {SENTINEL_MASTER} 1000\nsentinel failover-timeout {SENTINEL_MASTER} 5000\n",
                dir.path().display(),
                master.port
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("sentinel.log")).unwrap();
        let sentinel = Command::new("redis-server")
            .arg(&conf)
            .arg("--sentinel")
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let sentinels = RedisSentinel {
            master,
            replica,
            sentinel: Some(sentinel),
            port,
            _dir: dir,
        };
        // Ready once the Sentinel knows the replica and the replica follows the master.
        let replica_port = sentinels.replica.port.to_string();
        sentinels.wait_until("the Sentinel never saw the replica", |s| {
            s.ask(&["SENTINEL", "REPLICAS", SENTINEL_MASTER])
                .contains(&replica_port)
                && s.replica
                    .cli(&["INFO", "replication"])
                    .contains("master_link_status:up")
        });
        sentinels
    }

    /// The Sentinel's URL, as `store.urls` lists it.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The port of the master the Sentinel names now.
    pub fn master_port(&self) -> u16 {
        let answer = self.ask(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", SENTINEL_MASTER]);
        answer
            .lines()
            .nth(1)
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Kills the master and waits until the Sentinel has promoted the replica.
    pub fn fail_over(&mut self) {
        self.master.kill();
        let replica = self.replica.port;
        self.wait_until("the Sentinel never promoted the replica", |s| {
            s.master_port() == replica && s.replica.cli(&["ROLE"]).starts_with("master")
        });
    }

    fn ask(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .stderr(Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn wait_until(&self, why: &str, ready: impl Fn(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ready(self) {
            assert!(Instant::now() < deadline, "{why}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for RedisSentinel {
    fn drop(&mut self) {
        if let Some(mut child) = self.sentinel.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
