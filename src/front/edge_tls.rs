//! Optional TLS termination on `listen`: the certificate is served through a
//! resolver whose key pair is swapped on SIGHUP, so a renewed certificate is
//! picked up without a restart. HTTP/2 is offered through ALPN.
//!
//! The handshake is the listener app's, not Pingora's listener's: Pingora's
//! TLS stream keeps room for a client and a server handshake next to the
//! connection for the connection's whole life (about 4.7 KB), where the
//! connection itself needs a third of that.
//!
//! The stream is built on rustls's unbuffered API: records are read into a
//! per-thread buffer, decrypted there, and the plaintext copied out to the
//! caller; answers are sealed into a per-thread buffer and written from it.
//! Between polls a connection keeps only what is in flight (a record still
//! arriving, plaintext the caller has not taken, sealed bytes the socket has
//! not taken), each sized exactly: an idle connection holds no buffer, where
//! rustls's buffered connection keeps a 4 KB one for its life. The byte
//! handling is in `records`, rustls's state machine in `session`.

mod records;
mod session;

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{ready, Context, Poll};
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
use pingora::tls::{version, ClientHello, CryptoProvider, ResolvesServerCert, ServerConfig};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

use records::{
    coalesce, single_slice, NoRoom, OutBuffer, PendingTls, PlaintextSink, MAX_PLAINTEXT_PER_RECORD,
    MAX_RECORD_ON_WIRE,
};
use session::{SessionError, TlsSession};

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

/// The edge's TLS configuration: TLS 1.2 and 1.3, no client certificates,
/// the certificate from [`EdgeCertificate`], HTTP/2 preferred over HTTP/1.1
/// (what Pingora's `TlsSettings::intermediate` with `enable_h2` configures).
pub struct EdgeTls {
    config: Arc<ServerConfig>,
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
            config: Arc::new(config),
        }
    }

    /// The handshake, within `within`; `None` (logged) when it fails or
    /// takes longer. The connection is boxed from the start, so the
    /// connection's task does not keep room for it.
    pub async fn accept(&self, stream: Stream, within: Duration) -> Option<Stream> {
        let peer = stream
            .get_socket_digest()
            .and_then(|d| d.peer_addr().cloned());
        let session = match TlsSession::new(self.config.clone()) {
            Ok(session) => session,
            Err(e) => {
                log::error!("Downstream TLS session error: {e}");
                return None;
            }
        };
        let mut tls = Box::new(EdgeTlsStream::new(stream, session));
        let outcome = {
            let handshake = std::future::poll_fn(|cx| tls.poll_handshake(cx));
            tokio::time::timeout(within, handshake).await
        };
        match outcome {
            Ok(Ok(())) => Some(tls),
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

thread_local! {
    /// Where records are read and decrypted: one per thread, shared by every
    /// connection the thread serves (room for a carry and one whole record;
    /// it grows for a handshake message spread over records, at most
    /// `records::MAX_CARRY` more).
    static RECEIVED: RefCell<Vec<u8>> = RefCell::new(vec![0; 2 * MAX_RECORD_ON_WIRE]);
    /// Where records are sealed before they go to the socket.
    static SEALED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// Where the slices of a vectored write are joined into one record's plaintext.
    static JOINED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` over the thread's buffer in `cell`, or over a buffer of its own
/// should the thread's be in use (it never is: no poll here re-enters another).
fn with_buffer<R>(
    cell: &'static std::thread::LocalKey<RefCell<Vec<u8>>>,
    f: impl FnOnce(&mut Vec<u8>) -> R,
) -> R {
    cell.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffer) => f(&mut buffer),
        Err(_) => f(&mut Vec::new()),
    })
}

/// Socket reads one `poll_read` makes without producing plaintext before it
/// yields to the thread's other tasks (a peer sending only KeyUpdates,
/// empty records, or a record one byte at a time).
const READS_PER_POLL: usize = 16;

/// The caller's read buffer as a plaintext sink.
struct ReadBufSink<'a, 'b>(&'a mut ReadBuf<'b>);

impl PlaintextSink for ReadBufSink<'_, '_> {
    fn room(&self) -> usize {
        self.0.remaining()
    }
    fn put(&mut self, bytes: &[u8]) {
        self.0.put_slice(bytes);
    }
}

/// An accepted edge TLS connection, as Pingora's HTTP stack takes it.
pub struct EdgeTlsStream {
    socket: Stream,
    session: TlsSession,
    /// Sealed bytes the socket has not taken yet.
    unsent: PendingTls,
    /// The socket reported end of stream.
    socket_eof: bool,
    /// A write to the socket failed after a record was sealed: the record
    /// stream is broken, nothing more is written.
    write_broken: bool,
    /// `poll_shutdown` sealed its close_notify (or found the session failed).
    shutdown_started: bool,
    /// Made when Pingora's stack first asks (the fast path never does).
    digest: OnceLock<Arc<SslDigest>>,
}

impl fmt::Debug for EdgeTlsStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Lengths only: the bytes are plaintext or secrets.
        f.debug_struct("EdgeTlsStream")
            .field("socket", &self.socket)
            .field("session", &self.session)
            .field("unsent", &self.unsent.unsent().len())
            .field("socket_eof", &self.socket_eof)
            .finish()
    }
}

impl EdgeTlsStream {
    fn new(socket: Stream, session: TlsSession) -> Self {
        EdgeTlsStream {
            socket,
            session,
            unsent: PendingTls::default(),
            socket_eof: false,
            write_broken: false,
            shutdown_started: false,
            digest: OnceLock::new(),
        }
    }

    /// Drives the handshake to its end, the last flight sent.
    fn poll_handshake(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.poll_send_unsent(cx))?;
            if !self.session.is_handshaking() {
                return Poll::Ready(Ok(()));
            }
            // A request sent with the client's Finished waits in the session.
            match ready!(self.poll_receive(cx, &mut NoRoom)) {
                Ok(true) => {}
                Ok(false) => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "tls handshake eof",
                    )))
                }
                Err(e) => {
                    // The alert, if the socket takes it now.
                    let _ = self.poll_send_unsent(cx);
                    return Poll::Ready(Err(e));
                }
            }
        }
    }

    /// Writes out the sealed bytes the socket has not taken yet.
    fn poll_send_unsent(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.unsent.is_empty() {
            if self.write_broken {
                return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
            }
            match ready!(Pin::new(&mut self.socket).poll_write(cx, self.unsent.unsent())) {
                Ok(0) => {
                    self.write_broken = true;
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                Ok(n) => self.unsent.sent(n),
                Err(e) => {
                    self.write_broken = true;
                    return Poll::Ready(Err(e));
                }
            }
        }
        Poll::Ready(Ok(()))
    }

    /// One read from the socket into the thread's buffer, behind the carry,
    /// taken in by the session: `Ok(false)` at the socket's end of stream.
    fn poll_receive(
        &mut self,
        cx: &mut Context<'_>,
        sink: &mut dyn PlaintextSink,
    ) -> Poll<io::Result<bool>> {
        let carried = self.session.carried().len();
        with_buffer(&RECEIVED, |buffer| {
            let end = carried + MAX_RECORD_ON_WIRE;
            if buffer.len() < end {
                buffer.resize(end, 0);
            }
            let mut read = ReadBuf::new(&mut buffer[carried..end]);
            ready!(Pin::new(&mut self.socket).poll_read(cx, &mut read))?;
            let n = read.filled().len();
            if n == 0 {
                self.socket_eof = true;
                return Poll::Ready(Ok(false));
            }
            buffer[..carried].copy_from_slice(self.session.carried());
            let mut out = self.unsent.out();
            let received = self
                .session
                .receive(&mut buffer[..carried + n], sink, &mut out);
            let used = out.used();
            self.unsent.settle(used);
            received?;
            Poll::Ready(Ok(true))
        })
    }

    /// Seals `plaintext` (one record's worth at most is taken) and writes it.
    /// The count returned is of plaintext sealed: once sealed it cannot be
    /// taken back, so what the socket did not take waits in `unsent`, and the
    /// next write (or flush) waits for it to go first.
    fn poll_seal(&mut self, cx: &mut Context<'_>, plaintext: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_send_unsent(cx))?;
        if plaintext.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if self.write_broken {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let taken = plaintext.len().min(MAX_PLAINTEXT_PER_RECORD);
        with_buffer(&SEALED, |sealed| {
            let mut out = OutBuffer::reuse(sealed);
            self.session.seal(&plaintext[..taken], &mut out)?;
            let used = out.used();
            let mut sent = 0;
            while sent < used {
                match Pin::new(&mut self.socket).poll_write(cx, &sealed[sent..used]) {
                    Poll::Ready(Ok(0)) => {
                        self.write_broken = true;
                        return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                    }
                    Poll::Ready(Ok(n)) => sent += n,
                    Poll::Pending => break,
                    Poll::Ready(Err(e)) => {
                        self.write_broken = true;
                        return Poll::Ready(Err(e));
                    }
                }
            }
            self.unsent.push(&sealed[sent..used]);
            Poll::Ready(Ok(taken))
        })
    }
}

impl AsyncRead for EdgeTlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let mut sink = ReadBufSink(buf);
        for _ in 0..READS_PER_POLL {
            if this.session.has_plaintext() {
                this.session.take_plaintext(&mut sink);
                return Poll::Ready(Ok(()));
            }
            if this.session.peer_closed() || this.socket_eof {
                // After close_notify, or after the error an early end gave.
                return Poll::Ready(Ok(()));
            }
            if this.session.failed() {
                return Poll::Ready(Err(SessionError::Failed.into()));
            }
            // Alerts from an earlier read go first, when the socket takes them.
            if !this.unsent.is_empty() {
                if let Poll::Ready(Err(e)) = this.poll_send_unsent(cx) {
                    return Poll::Ready(Err(e));
                }
            }
            let before = sink.0.filled().len();
            match ready!(this.poll_receive(cx, &mut sink)) {
                Ok(true) if sink.0.filled().len() > before => return Poll::Ready(Ok(())),
                Ok(true) => {}
                Ok(false) if this.session.peer_closed() => return Poll::Ready(Ok(())),
                Ok(false) => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "peer closed connection without sending TLS close_notify",
                    )))
                }
                Err(e) => {
                    let _ = this.poll_send_unsent(cx);
                    return Poll::Ready(Err(e));
                }
            }
        }
        // Bytes keep coming without plaintext: let the thread's other tasks run.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl AsyncWrite for EdgeTlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_seal(cx, buf)
    }

    /// The slices go into one record: copied together first, unless only one
    /// is not empty (an answer's head and body, written together, go out as
    /// one record).
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(single) = single_slice(bufs) {
            return self.poll_seal(cx, single);
        }
        with_buffer(&JOINED, |joined| {
            if joined.len() < MAX_PLAINTEXT_PER_RECORD {
                joined.resize(MAX_PLAINTEXT_PER_RECORD, 0);
            }
            let n = coalesce(bufs, &mut joined[..MAX_PLAINTEXT_PER_RECORD]);
            self.poll_seal(cx, &joined[..n])
        })
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_send_unsent(cx))?;
        Pin::new(&mut self.socket).poll_flush(cx)
    }

    /// Seals close_notify (once), sends what is unsent, then shuts the socket.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if !this.shutdown_started {
            this.shutdown_started = true;
            if !this.session.failed() && !this.write_broken {
                let mut out = this.unsent.out();
                let sealed = this.session.close_notify(&mut out);
                let used = out.used();
                this.unsent.settle(used);
                if let Err(e) = sealed {
                    log::debug!("TLS close_notify not sealed: {e}");
                }
            }
        }
        ready!(this.poll_send_unsent(cx))?;
        Pin::new(&mut this.socket).poll_shutdown(cx)
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
        self.socket.id()
    }
}

impl Ssl for EdgeTlsStream {
    fn get_ssl(&self) -> Option<&TlsRef> {
        None
    }

    fn get_ssl_digest(&self) -> Option<Arc<SslDigest>> {
        let digest = self.digest.get_or_init(|| {
            let cipher = self.session.cipher_suite_name();
            let version = self.session.version_name();
            // No client certificates are asked for: nothing to digest of theirs.
            Arc::new(SslDigest::new(cipher, version, None, None, Vec::new()))
        });
        Some(digest.clone())
    }

    fn selected_alpn_proto(&self) -> Option<ALPN> {
        match self.session.alpn_protocol()? {
            b"h2" => Some(ALPN::H2),
            b"http/1.1" => Some(ALPN::H1),
            _ => None,
        }
    }
}

impl GetTimingDigest for EdgeTlsStream {
    fn get_timing_digest(&self) -> Vec<Option<TimingDigest>> {
        self.socket.get_timing_digest()
    }
}

impl GetProxyDigest for EdgeTlsStream {
    fn get_proxy_digest(&self) -> Option<Arc<ProxyDigest>> {
        self.socket.get_proxy_digest()
    }
}

impl GetSocketDigest for EdgeTlsStream {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        self.socket.get_socket_digest()
    }
}

/// Peeking would see TLS records, not the request; Pingora then reads instead.
impl Peek for EdgeTlsStream {}

/// The fuzz targets' way in (`fuzz/fuzz_targets/edge_tls_records.rs`): the
/// server's session and the record splitter, behind the `fuzzing` feature.
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    use std::sync::Arc;

    use pingora::tls::ServerConfig;

    use super::records::{self, OutBuffer};
    use super::session::TlsSession;

    /// The most unconsumed bytes a connection may carry between reads.
    pub const MAX_CARRY: usize = records::MAX_CARRY;
    /// The largest record on the wire.
    pub const MAX_RECORD_ON_WIRE: usize = records::MAX_RECORD_ON_WIRE;

    /// The server side of one connection, fed bytes as the stream feeds it.
    pub struct ServerSide(TlsSession);

    impl ServerSide {
        pub fn new(config: Arc<ServerConfig>) -> Self {
            ServerSide(TlsSession::new(config).expect("a server session"))
        }

        /// Takes in `received` behind the carry, as one socket read would.
        /// Appends the plaintext to `plaintext` and the TLS bytes to send
        /// to `to_client`; `Err` when the connection fails.
        pub fn receive(
            &mut self,
            received: &[u8],
            plaintext: &mut Vec<u8>,
            to_client: &mut Vec<u8>,
        ) -> Result<(), String> {
            let mut incoming = self.0.carried().to_vec();
            incoming.extend_from_slice(received);
            let mut sealed = Vec::new();
            let mut out = OutBuffer::reuse(&mut sealed);
            let result = self.0.receive(&mut incoming, plaintext, &mut out);
            let used = out.used();
            to_client.extend_from_slice(&sealed[..used]);
            self.0.take_plaintext(plaintext);
            result.map_err(|e| e.to_string())
        }

        /// Seals `plaintext` (one record's worth) into `to_client`.
        pub fn seal(&mut self, plaintext: &[u8], to_client: &mut Vec<u8>) -> Result<(), String> {
            let mut sealed = Vec::new();
            let mut out = OutBuffer::reuse(&mut sealed);
            let result = self.0.seal(plaintext, &mut out);
            let used = out.used();
            to_client.extend_from_slice(&sealed[..used]);
            result.map_err(|e| e.to_string())
        }

        pub fn is_handshaking(&self) -> bool {
            self.0.is_handshaking()
        }

        pub fn carried_len(&self) -> usize {
            self.0.carried().len()
        }

        /// Bytes held outside rustls (carry, plaintext waiting).
        pub fn buffered_bytes(&self) -> usize {
            self.0.buffered_bytes()
        }
    }

    /// The record splitter: (whole records, their bytes, bytes the next one
    /// misses), or the first bad header.
    pub fn complete_records(bytes: &[u8]) -> Result<(usize, usize, usize), String> {
        records::complete_records(bytes)
            .map(|c| (c.count, c.len, c.missing))
            .map_err(|e| e.to_string())
    }
}
