//! Optional TLS termination on `listen`: the certificate is served through a
//! resolver whose key pair is swapped on SIGHUP, so a renewed certificate is
//! picked up without a restart. HTTP/2 is offered through ALPN.
//!
//! The handshake is the listener app's, not Pingora's listener's: Pingora's
//! TLS stream keeps room for a client and a server handshake next to the
//! connection for the connection's whole life (about 4.7 KB), where the
//! connection itself needs a third of that.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use pingora::protocols::raw_connect::ProxyDigest;
use pingora::protocols::tls::{SslDigest, TlsRef};
use pingora::protocols::{
    GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, SocketDigest, Ssl, Stream,
    TimingDigest, UniqueID, UniqueIDType, ALPN,
};
use pingora::tls::sign::CertifiedKey;
use pingora::tls::{
    version, ClientHello, CryptoProvider, ResolvesServerCert, ServerConfig, ServerTlsStream,
    TlsAcceptor,
};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::plan::file::EdgeTlsFile;

/// The edge certificate in use; `reload` swaps it atomically.
#[derive(Debug)]
pub struct EdgeCertificate {
    current: ArcSwap<CertifiedKey>,
}

impl EdgeCertificate {
    pub fn load(files: &EdgeTlsFile) -> Result<Self, String> {
        Ok(EdgeCertificate {
            current: ArcSwap::from_pointee(certified_key(files)?),
        })
    }

    /// Reads the files again; on error the certificate in use stays.
    pub fn reload(&self, files: &EdgeTlsFile) -> Result<(), String> {
        self.current.store(Arc::new(certified_key(files)?));
        Ok(())
    }
}

impl ResolvesServerCert for EdgeCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

fn certified_key(files: &EdgeTlsFile) -> Result<CertifiedKey, String> {
    pingora::tls::install_default_crypto_provider();
    let cert_pem = std::fs::read(&files.cert_file)
        .map_err(|e| format!("tls.cert_file {}: {e}", files.cert_file))?;
    let certs = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("tls.cert_file {}: {e}", files.cert_file))?;
    if certs.is_empty() {
        return Err(format!(
            "tls.cert_file {}: no PEM certificate in it",
            files.cert_file
        ));
    }
    let key_pem = std::fs::read(&files.key_file)
        .map_err(|e| format!("tls.key_file {}: {e}", files.key_file))?;
    let key = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| format!("tls.key_file {}: {e}", files.key_file))?
        .ok_or_else(|| format!("tls.key_file {}: no PEM private key in it", files.key_file))?;
    let provider = CryptoProvider::get_default().ok_or("no TLS crypto provider installed")?;
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| format!("tls.key_file {}: {e}", files.key_file))?;
    let certified = CertifiedKey::new(certs, signing_key);
    certified
        .keys_match()
        .map_err(|e| format!("tls: the key does not match the certificate: {e}"))?;
    Ok(certified)
}

/// The edge's TLS acceptor: TLS 1.2 and 1.3, no client certificates, the
/// certificate from [`EdgeCertificate`], HTTP/2 preferred over HTTP/1.1
/// (what Pingora's `TlsSettings::intermediate` with `enable_h2` configures).
pub struct EdgeTls {
    acceptor: TlsAcceptor,
}

impl EdgeTls {
    pub fn new(certificate: Arc<EdgeCertificate>) -> Self {
        pingora::tls::install_default_crypto_provider();
        let mut config =
            ServerConfig::builder_with_protocol_versions(&[&version::TLS12, &version::TLS13])
                .with_no_client_auth()
                .with_cert_resolver(certificate);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        EdgeTls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
        }
    }

    /// The handshake, within `within`; `None` (logged) when it fails or
    /// takes longer. The handshake's state is boxed, so the connection's
    /// task does not keep room for it afterwards.
    pub async fn accept(&self, stream: Stream, within: Duration) -> Option<Stream> {
        let peer = stream
            .get_socket_digest()
            .and_then(|d| d.peer_addr().cloned());
        let handshake = Box::pin(self.acceptor.accept(stream));
        match tokio::time::timeout(within, handshake).await {
            Ok(Ok(tls)) => Some(Box::new(EdgeTlsStream {
                tls,
                digest: OnceLock::new(),
            })),
            Ok(Err(e)) => {
                match peer {
                    Some(addr) => log::error!("Downstream handshake error from {addr}: {e}"),
                    None => log::error!("Downstream handshake error: {e}"),
                }
                None
            }
            Err(_) => {
                log::error!("Downstream handshake timeout");
                None
            }
        }
    }
}

/// An accepted edge TLS connection, as Pingora's HTTP stack takes it.
#[derive(Debug)]
pub struct EdgeTlsStream {
    tls: ServerTlsStream<Stream>,
    /// Made when Pingora's stack first asks (the fast path never does).
    digest: OnceLock<Arc<SslDigest>>,
}

impl AsyncRead for EdgeTlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_read(cx, buf)
    }
}

impl AsyncWrite for EdgeTlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tls).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tls).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tls.is_write_vectored()
    }
}

/// Sends close_notify, then closes the socket.
#[async_trait]
impl Shutdown for EdgeTlsStream {
    async fn shutdown(&mut self) {
        if let Err(e) = AsyncWriteExt::shutdown(self).await {
            log::warn!("TLS shutdown failed, {e}");
        }
    }
}

impl UniqueID for EdgeTlsStream {
    fn id(&self) -> UniqueIDType {
        self.tls.get_ref().0.id()
    }
}

impl Ssl for EdgeTlsStream {
    fn get_ssl(&self) -> Option<&TlsRef> {
        None
    }

    fn get_ssl_digest(&self) -> Option<Arc<SslDigest>> {
        let digest = self.digest.get_or_init(|| {
            let session = self.tls.get_ref().1;
            let cipher = session
                .negotiated_cipher_suite()
                .and_then(|suite| suite.suite().as_str())
                .unwrap_or_default();
            let version = session
                .protocol_version()
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            // No client certificates are asked for: nothing to digest of theirs.
            Arc::new(SslDigest::new(cipher, version, None, None, Vec::new()))
        });
        Some(digest.clone())
    }

    fn selected_alpn_proto(&self) -> Option<ALPN> {
        match self.tls.get_ref().1.alpn_protocol()? {
            b"h2" => Some(ALPN::H2),
            b"http/1.1" => Some(ALPN::H1),
            _ => None,
        }
    }
}

impl GetTimingDigest for EdgeTlsStream {
    fn get_timing_digest(&self) -> Vec<Option<TimingDigest>> {
        self.tls.get_ref().0.get_timing_digest()
    }
}

impl GetProxyDigest for EdgeTlsStream {
    fn get_proxy_digest(&self) -> Option<Arc<ProxyDigest>> {
        self.tls.get_ref().0.get_proxy_digest()
    }
}

impl GetSocketDigest for EdgeTlsStream {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        self.tls.get_ref().0.get_socket_digest()
    }
}

/// Peeking would see TLS records, not the request; Pingora then reads instead.
impl Peek for EdgeTlsStream {}
