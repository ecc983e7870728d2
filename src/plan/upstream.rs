//! Where a route sends its exchange: the parsed upstream URL, its addresses
//! (resolved off the request path and refreshed in the background), its trust
//! anchors and timeouts.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use pingora::protocols::tls::CaType;
use pingora::utils::tls::WrappedX509;

/// A parsed `http(s)://host[:port]/path?query` upstream.
#[derive(Debug, Clone)]
pub struct UpstreamTarget {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// `Host` header value: the host, with the port only when it is not the default.
    pub authority: String,
    pub path: String,
    /// The URL's own query, kept ahead of parameters that rules move there.
    pub query: String,
}

/// Why an `upstream` URL is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamUrlError {
    /// Not a URL at all (the URL and the parser's reason).
    NotAUrl { url: String, why: String },
    /// A scheme other than http and https.
    Scheme(String),
    /// No host.
    NoHost(String),
    /// `user:password@` in the URL.
    Credentials(String),
}

impl std::fmt::Display for UpstreamUrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAUrl { url, why } => write!(f, "invalid upstream URL '{url}': {why}"),
            Self::Scheme(url) => write!(f, "upstream '{url}' must start with http:// or https://"),
            Self::NoHost(url) => write!(f, "upstream '{url}' has no host"),
            Self::Credentials(url) => write!(f, "upstream '{url}' must not carry credentials"),
        }
    }
}

/// Why a `ca_file` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaFileError {
    /// Unreadable, or not PEM (the reason).
    Unreadable(String),
    /// PEM with no certificate in it.
    NoCertificate,
    /// Certificate `n` (from 1) is not X.509.
    NotX509(usize),
}

impl std::fmt::Display for CaFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreadable(why) => f.write_str(why),
            Self::NoCertificate => f.write_str("no PEM certificate in it"),
            Self::NotX509(n) => write!(f, "certificate {n} is not valid X.509"),
        }
    }
}

impl UpstreamTarget {
    pub fn parse(url: &str) -> Result<Self, UpstreamUrlError> {
        let uri: http::Uri =
            url.parse()
                .map_err(|e: http::uri::InvalidUri| UpstreamUrlError::NotAUrl {
                    url: url.to_owned(),
                    why: e.to_string(),
                })?;
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(UpstreamUrlError::Scheme(url.to_owned())),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| UpstreamUrlError::NoHost(url.to_owned()))?;
        if authority.as_str().contains('@') {
            return Err(UpstreamUrlError::Credentials(url.to_owned()));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let default_port = if tls { 443 } else { 80 };
        let authority = if port == default_port {
            authority.host().to_owned()
        } else {
            format!("{}:{port}", authority.host())
        };
        Ok(UpstreamTarget {
            tls,
            host,
            port,
            authority,
            path: uri.path().to_owned(),
            query: uri.query().unwrap_or("").to_owned(),
        })
    }

    /// A literal IP address needs no DNS.
    pub fn literal_address(&self) -> Option<SocketAddr> {
        self.host
            .parse::<std::net::IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, self.port))
    }
}

/// The addresses an upstream host resolves to, swapped atomically by the
/// background refresher; the request path only loads them.
#[derive(Debug)]
pub struct UpstreamAddresses {
    addresses: ArcSwap<Vec<SocketAddr>>,
    next: AtomicUsize,
}

impl UpstreamAddresses {
    pub fn new(initial: Vec<SocketAddr>) -> Self {
        UpstreamAddresses {
            addresses: ArcSwap::from_pointee(initial),
            next: AtomicUsize::new(0),
        }
    }

    pub fn is_resolved(&self) -> bool {
        !self.addresses.load().is_empty()
    }

    pub fn len(&self) -> usize {
        self.addresses.load().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn replace(&self, fresh: Vec<SocketAddr>) {
        if !fresh.is_empty() {
            self.addresses.store(Arc::new(fresh));
        }
    }

    /// Round-robin across addresses; attempt `n` of one exchange moves on to the next one,
    /// so a retry after a failed connect goes to another address when there is one.
    pub fn pick(&self, attempt: u32) -> Option<SocketAddr> {
        let list = self.addresses.load();
        if list.is_empty() {
            return None;
        }
        let base = if attempt == 0 {
            self.next.fetch_add(1, Ordering::Relaxed)
        } else {
            self.next.load(Ordering::Relaxed).wrapping_sub(1)
        };
        Some(list[(base.wrapping_add(attempt as usize)) % list.len()])
    }
}

/// Resolves a host with the system resolver; call only off the request path.
pub fn resolve_blocking(target: &UpstreamTarget) -> Vec<SocketAddr> {
    if let Some(addr) = target.literal_address() {
        return vec![addr];
    }
    (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map(|a| a.collect())
        .unwrap_or_default()
}

pub async fn resolve(target: &UpstreamTarget) -> Vec<SocketAddr> {
    if let Some(addr) = target.literal_address() {
        return vec![addr];
    }
    match tokio::net::lookup_host((target.host.as_str(), target.port)).await {
        Ok(addrs) => addrs.collect(),
        Err(e) => {
            log::warn!("resolving upstream host {}: {e}", target.host);
            Vec::new()
        }
    }
}

/// Trust anchors for a route with `ca_file`: the system's roots plus the file's
/// certificates (a per-peer CA list replaces Pingora's default store, so both go in).
pub fn trust_anchors_with(ca_file: &str) -> Result<(Arc<CaType>, u64), CaFileError> {
    let pem = std::fs::read(ca_file).map_err(|e| CaFileError::Unreadable(e.to_string()))?;
    let trust_group = {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        pem.hash(&mut hasher);
        hasher.finish() | 1 // never 0, the system roots' group
    };
    let extra: Vec<Vec<u8>> = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CaFileError::Unreadable(e.to_string()))?
        .into_iter()
        .map(|c| c.to_vec())
        .collect();
    if extra.is_empty() {
        return Err(CaFileError::NoCertificate);
    }
    let system: Vec<Vec<u8>> = pingora::tls::load_native_certs()
        .map(|certs| certs.into_iter().map(|c| c.to_vec()).collect())
        .unwrap_or_default();
    let mut anchors = Vec::with_capacity(system.len() + extra.len());
    for (index, der) in extra.into_iter().enumerate() {
        anchors.push(wrap_certificate(der).ok_or(CaFileError::NotX509(index + 1))?);
    }
    // A system root the X.509 parser can't read is skipped rather than fatal.
    anchors.extend(system.into_iter().filter_map(wrap_certificate));
    Ok((Arc::from(anchors.into_boxed_slice()), trust_group))
}

fn wrap_certificate(der: Vec<u8>) -> Option<WrappedX509> {
    use x509_parser::prelude::FromDer;
    x509_parser::certificate::X509Certificate::from_der(&der).ok()?;
    Some(WrappedX509::new(der, |raw| {
        pingora::utils::tls::parse_x509(raw)
    }))
}

/// Timeouts and trust for peers of one route.
#[derive(Debug, Clone)]
pub struct PeerSettings {
    pub connect_timeout: Duration,
    pub io_timeout: Duration,
    pub idle_timeout: Duration,
    pub ca: Option<Arc<CaType>>,
    /// Pooled connections are shared only between peers with the same trust
    /// anchors: a connection verified against one route's `ca_file` must never
    /// serve a route that would have refused its certificate.
    pub trust_group: u64,
    /// Which pooled connections may serve this route at a given address,
    /// computed once at load by [`pool_identity`].
    pub pool_identity: u64,
}

/// Everything but the address that decides whether an idle connection may
/// serve a route: TLS, server name and trust group. A fixed-key hash, so the
/// same route hashes alike across reloads and its idle connections stay usable.
pub fn pool_identity(target: &UpstreamTarget, trust_group: u64) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (target.tls, &target.host, trust_group).hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_https_with_default_port_and_query() {
        let t = UpstreamTarget::parse("https://open.tiktokapis.com/v2/user/info/?fields=open_id")
            .unwrap();
        assert!(t.tls);
        assert_eq!(
            (t.host.as_str(), t.port, t.authority.as_str()),
            ("open.tiktokapis.com", 443, "open.tiktokapis.com")
        );
        assert_eq!(
            (t.path.as_str(), t.query.as_str()),
            ("/v2/user/info/", "fields=open_id")
        );
    }

    #[test]
    fn keeps_explicit_port_in_host_header() {
        let t = UpstreamTarget::parse("http://127.0.0.1:9000/token").unwrap();
        assert_eq!((t.port, t.authority.as_str()), (9000, "127.0.0.1:9000"));
        assert_eq!(t.literal_address(), Some("127.0.0.1:9000".parse().unwrap()));
    }

    #[test]
    fn refuses_other_schemes_and_userinfo() {
        assert_eq!(
            UpstreamTarget::parse("ftp://x/").err(),
            Some(UpstreamUrlError::Scheme("ftp://x/".into()))
        );
        assert_eq!(
            UpstreamTarget::parse("https://user:pw@x/").err(),
            Some(UpstreamUrlError::Credentials("https://user:pw@x/".into()))
        );
        assert!(matches!(
            UpstreamTarget::parse("/relative"),
            Err(UpstreamUrlError::Scheme(_))
        ));
    }

    #[test]
    fn retries_move_to_the_next_address() {
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let b: SocketAddr = "127.0.0.2:1".parse().unwrap();
        let pool = UpstreamAddresses::new(vec![a, b]);
        let first = pool.pick(0).unwrap();
        let second = pool.pick(1).unwrap();
        assert_ne!(first, second);
    }
}
