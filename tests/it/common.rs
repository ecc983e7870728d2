//! Black-box test harness: the real `quirkgate` binary on free loopback ports,
//! in front of mock providers the test starts itself (HTTP, or HTTPS with a CA
//! generated here). Nothing leaves 127.0.0.1.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use quirkgate_mocks::provider::{MockProvider, ProviderKind, SeenRequest};

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

    pub fn signal(&self, signal: &str) {
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

/// The samples of `name` whose labels contain every `label="value"` given.
fn matching_samples<'a>(
    text: &'a str,
    name: &'a str,
    labels: &'a [(&'a str, &'a str)],
) -> impl Iterator<Item = f64> + 'a {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(move |l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(move |l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|l| {
            l.rsplit(' ')
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or_else(|| panic!("unreadable sample: {l}"))
        })
}

/// Sum of the matching samples, `None` when no series matches.
pub fn metric_series(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut samples = matching_samples(text, name, labels).peekable();
    samples.peek()?;
    Some(samples.sum())
}

/// Sum of the matching samples; panics (with the metrics text) when no series
/// matches, so a renamed metric or label fails instead of reading 0.
pub fn metric_value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    metric_series(text, name, labels)
        .unwrap_or_else(|| panic!("no series {name}{labels:?} in the metrics:\n{text}"))
}

/// For callers that expect a series to be absent (a counter never touched):
/// the metric family itself must exist, so a rename still fails.
pub fn assert_no_series(text: &str, name: &str, labels: &[(&str, &str)]) {
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("# TYPE {name} "))),
        "no metric family {name} at all:\n{text}"
    );
    assert_eq!(
        metric_series(text, name, labels),
        None,
        "{name}{labels:?} should have no series:\n{text}"
    );
}

/// For counters exported at 0 from load (`quirkgate_retries_total`,
/// `quirkgate_refused_total`, …): the series exists and never counted.
pub fn assert_zero(text: &str, name: &str, labels: &[(&str, &str)]) {
    assert_eq!(
        metric_value(text, name, labels),
        0.0,
        "{name}{labels:?} counted:\n{text}"
    );
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

/// A test CA and a server certificate for 127.0.0.1 / localhost signed by it.
pub struct TestPki {
    pub ca_pem: String,
    pub ca_path: PathBuf,
    /// The server certificate chain and key, for serving TLS from the gateway itself.
    pub leaf_cert_path: PathBuf,
    pub leaf_key_path: PathBuf,
    pub acceptor: pingora::tls::TlsAcceptor,
    _dir: tempfile::TempDir,
}

impl TestPki {
    pub fn new() -> TestPki {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
        pingora::tls::install_default_crypto_provider();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "quirkgate test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf_params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        leaf_params
            .subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        let leaf = leaf_params.signed_by(&leaf_key, &ca_cert, &ca_key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca_path = dir.path().join("ca.pem");
        std::fs::File::create(&ca_path)
            .unwrap()
            .write_all(ca_cert.pem().as_bytes())
            .unwrap();
        let leaf_cert_path = dir.path().join("leaf.pem");
        std::fs::write(&leaf_cert_path, format!("{}{}", leaf.pem(), ca_cert.pem())).unwrap();
        let leaf_key_path = dir.path().join("leaf.key");
        std::fs::write(&leaf_key_path, leaf_key.serialize_pem()).unwrap();
        let key = pingora::tls::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
        let config = pingora::tls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone(), ca_cert.der().clone()], key)
            .unwrap();
        TestPki {
            ca_pem: ca_cert.pem(),
            ca_path,
            leaf_cert_path,
            leaf_key_path,
            acceptor: pingora::tls::TlsAcceptor::from(Arc::new(config)),
            _dir: dir,
        }
    }
}

/// Starts a mock provider on a free loopback port.
pub async fn mock(kind: ProviderKind) -> MockProvider {
    MockProvider::start(kind, "127.0.0.1:0", None)
        .await
        .unwrap()
}

pub async fn mock_tls(kind: ProviderKind, pki: &TestPki) -> MockProvider {
    MockProvider::start(kind, "127.0.0.1:0", Some(pki.acceptor.clone()))
        .await
        .unwrap()
}

/// A reqwest client that neither follows redirects nor pools across tests.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Status code of the first response in a raw answer.
pub fn raw_status(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The JSON body of the first response in a raw answer.
pub fn raw_json(answer: &str) -> serde_json::Value {
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    let end = body.rfind('}').map_or(0, |i| i + 1);
    serde_json::from_str(&body[..end]).unwrap_or(serde_json::Value::Null)
}

/// Where the mock identity broker says it is redirected back to.
pub const REDIRECT: &str = "https://tenant.auth0.com/login/callback";

/// A standard OAuth 2.0 client with only its token endpoint set.
pub type OAuthClient = oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    oauth2::basic::BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

/// The client Auth0 is: `auth_type` picks client-secret-post or Basic.
pub fn oauth_client(
    token_url: &str,
    id: &str,
    secret: &str,
    auth_type: oauth2::AuthType,
) -> OAuthClient {
    oauth2::basic::BasicClient::new(oauth2::ClientId::new(id.into()))
        .set_client_secret(oauth2::ClientSecret::new(secret.into()))
        .set_token_uri(oauth2::TokenUrl::new(token_url.into()).unwrap())
        .set_auth_type(auth_type)
        .set_redirect_uri(oauth2::RedirectUrl::new(REDIRECT.into()).unwrap())
}

/// A loopback upstream scripted by the test. Every request it reads is
/// counted, then `behaviour` gets the connection and the request: returning
/// the stream keeps serving that connection, `None` ends it.
pub async fn scripted_upstream<F, Fut>(
    behaviour: F,
) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>)
where
    F: Fn(tokio::net::TcpStream, SeenRequest) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Option<tokio::net::TcpStream>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let behaviour = Arc::new(behaviour);
    let counter = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (counter, behaviour) = (counter.clone(), behaviour.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                while let Some(request) =
                    quirkgate_mocks::provider::read_request(&mut stream, &mut buf).await
                {
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    match behaviour(stream, request).await {
                        Some(kept) => stream = kept,
                        None => return,
                    }
                }
            });
        }
    });
    (addr, requests)
}

/// Writes a complete HTTP/1.1 answer; `None` when the peer is gone.
pub async fn write_answer(
    mut stream: tokio::net::TcpStream,
    status: u16,
    content_type: &str,
    body: &str,
) -> Option<tokio::net::TcpStream> {
    use tokio::io::AsyncWriteExt;
    let answer = format!(
        "HTTP/1.1 {status} OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(answer.as_bytes()).await.ok()?;
    Some(stream)
}

/// An upstream that answers each request like TikTok, after `delay`.
pub async fn slow_tiktok_upstream(
    delay: Duration,
) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    scripted_upstream(move |stream, request| async move {
        tokio::time::sleep(delay).await;
        let (status, content_type, body) =
            quirkgate_mocks::provider::answer(ProviderKind::TikTok, &request);
        write_answer(stream, status, content_type, &body).await
    })
    .await
}

/// Every form a logger or formatter may give `secret`: as is, percent-encoded,
/// base64, hex, Debug-escaped, and the `'a', 'b'` / `[97, 98` list forms a
/// `Debug` of chars or bytes prints. Each half of a long secret is included
/// too, so a secret cut across two chunks is still found.
pub fn secret_forms(secret: &str) -> Vec<String> {
    use base64::Engine;
    let mut pieces = vec![secret.to_owned()];
    if secret.len() >= 16 {
        let half = secret.len() / 2;
        pieces.push(secret[..half].to_owned());
        pieces.push(secret[half..].to_owned());
    }
    let mut forms = Vec::new();
    for piece in &pieces {
        let bytes = piece.as_bytes();
        forms.push(piece.clone());
        let escaped = format!("{piece:?}");
        forms.push(escaped[1..escaped.len() - 1].to_owned());
        forms.push(
            bytes
                .iter()
                .map(|b| format!("%{b:02X}"))
                .collect::<String>(),
        );
        forms.push(
            bytes
                .iter()
                .map(|b| format!("%{b:02x}"))
                .collect::<String>(),
        );
        for engine in [
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            // Base64 of the piece at each of the three alignments it can have
            // inside a longer value (e.g. `id:secret` in a Basic header).
            for pad in 0..3 {
                let mut shifted = vec![b'x'; pad];
                shifted.extend_from_slice(bytes);
                let encoded = engine.encode(&shifted);
                // Drop the characters that depend on the padding bytes or on
                // what follows.
                let skip = if pad == 0 { 0 } else { 4 };
                let keep = encoded.len().saturating_sub(4);
                if keep > skip + 8 {
                    forms.push(encoded[skip..keep].to_owned());
                }
            }
        }
        forms.push(bytes.iter().map(|b| format!("{b:02x}")).collect());
        forms.push(bytes.iter().map(|b| format!("{b:02X}")).collect());
        forms.push(
            bytes
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" "),
        );
        forms.push(
            piece
                .chars()
                .map(|c| format!("{c:?}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        forms.push(
            piece
                .chars()
                .map(|c| format!("{c:?}"))
                .collect::<Vec<_>>()
                .join(","),
        );
        forms.push(
            bytes
                .iter()
                .map(|b| b.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        );
        forms.push(
            bytes
                .iter()
                .map(|b| b.to_string())
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    forms.sort();
    forms.dedup();
    forms
}

/// Panics when `haystack` holds any form (see `secret_forms`) of any secret.
pub fn assert_no_secret(haystack: &str, place: &str, secrets: &[String]) {
    for secret in secrets {
        for form in secret_forms(secret) {
            if let Some(at) = haystack.find(&form) {
                let start = haystack[..at].rfind('\n').map_or(0, |i| i + 1);
                let end = haystack[at..].find('\n').map_or(haystack.len(), |i| at + i);
                panic!(
                    "{place} leaks {secret:?} as {form:?} in:\n{}",
                    &haystack[start..end]
                );
            }
        }
    }
}
