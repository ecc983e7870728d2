//! Black-box test harness: the real `quirkgate` binary on free loopback ports,
//! in front of mock providers the test starts itself (HTTP, or HTTPS with a CA
//! generated here). Nothing leaves 127.0.0.1.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use quirkgate::mocks::provider::{MockProvider, ProviderKind, SeenRequest};

/// A free loopback port (bound, then released for the gateway to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let metrics_port = free_port();
        // A short grace period keeps shutdowns quick, unless the test sets its own.
        let grace = if extra_top_level.contains("grace_period:") {
            ""
        } else {
            "grace_period: 1s\n"
        };
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
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let gateway = Gateway {
            child,
            port,
            metrics_port,
            _dir: dir,
            config_path,
            log_path,
        };
        gateway.wait_listening();
        gateway
    }

    fn wait_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && TcpStream::connect(("127.0.0.1", self.metrics_port)).is_ok()
            {
                return;
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

    /// Sum of a metric's samples whose labels contain every `label="value"` given.
    pub async fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        metric_value(&self.metrics().await, name, labels)
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

pub fn metric_value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
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
                    quirkgate::mocks::provider::read_request(&mut stream, &mut buf).await
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
            quirkgate::mocks::provider::answer(ProviderKind::TikTok, &request);
        write_answer(stream, status, content_type, &body).await
    })
    .await
}
