//! The server side of one edge TLS connection over rustls's unbuffered
//! API, with no socket: received bytes go in, decrypted bytes come out to a
//! [`PlaintextSink`], sealed records are appended to an output buffer. The
//! stream (`super::EdgeTlsStream`) moves the bytes between this and the
//! socket; the unit tests and the fuzz target drive it against a rustls
//! client in memory.
//!
//! rustls's state machine is driven in one place, [`TlsSession::drive`],
//! whatever the caller wants (to read, to seal, to close), so every state is
//! handled the same way wherever it turns up: a peer's KeyUpdate or alert
//! met while sealing, plaintext met while handshaking.

use std::fmt;
use std::sync::Arc;

use rustls::server::UnbufferedServerConnection;
use rustls::unbuffered::{ConnectionState, EncodeError, EncryptError, UnbufferedStatus};
use rustls::ServerConfig;

use super::records::{
    Carry, CarryTooLarge, NoRoom, OutBuffer, PendingPlaintext, PlaintextSink,
    MAX_PLAINTEXT_PER_RECORD,
};

/// Why a connection cannot go on. The peer learns of it through the alert
/// rustls queued, when there is one.
#[derive(Debug)]
pub(crate) enum SessionError {
    /// rustls refused what the peer sent (a bad record, a bad MAC, a
    /// protocol violation, too many KeyUpdates), or the peer sent a fatal alert.
    Tls(rustls::Error),
    /// The peer sent 0-RTT data, which this server never accepts.
    EarlyData,
    /// Unconsumed bytes would outgrow [`super::records::MAX_CARRY`].
    CarryTooLarge(usize),
    /// Sealing failed (the write keys are exhausted).
    Seal(EncryptError),
    /// Encoding a handshake record failed.
    Encode(EncodeError),
    /// Plaintext to seal before the handshake allows it, or after close_notify.
    NotWritable,
    /// The connection failed before; nothing more goes through it.
    Failed,
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::Tls(e) => write!(f, "{e}"),
            SessionError::EarlyData => f.write_str("early data is not accepted"),
            SessionError::CarryTooLarge(n) => {
                write!(f, "{n} unconsumed TLS bytes, more than a handshake message")
            }
            SessionError::Seal(e) => write!(f, "{e}"),
            SessionError::Encode(e) => write!(f, "{e}"),
            SessionError::NotWritable => f.write_str("the TLS connection takes no data now"),
            SessionError::Failed => f.write_str("the TLS connection failed earlier"),
        }
    }
}

impl std::error::Error for SessionError {}

impl From<CarryTooLarge> for SessionError {
    fn from(CarryTooLarge(n): CarryTooLarge) -> Self {
        SessionError::CarryTooLarge(n)
    }
}

impl From<SessionError> for std::io::Error {
    fn from(e: SessionError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}

/// What [`TlsSession::drive`] is asked to do once rustls lets it write.
enum Want<'p> {
    /// Only take in what was received.
    Input,
    /// Seal this plaintext (at most one record's worth).
    Seal(&'p [u8]),
    /// Seal a close_notify alert.
    CloseNotify,
}

/// Bytes a sealed record adds to its plaintext, generously: header, TLS 1.2
/// explicit nonce or TLS 1.3 content type, AEAD tag, and a KeyUpdate
/// waiting to go out in front of it. rustls says so when more is needed.
const SEAL_OVERHEAD: usize = 128;

/// State-machine steps one drive may take per byte it is given, plus slack:
/// each step consumes a record or emits something, so a drive that takes
/// more is a bug in this file or in rustls, and fails instead of spinning.
fn step_budget(incoming: usize) -> usize {
    64 + 4 * incoming
}

/// One edge connection's TLS state, without its socket.
pub(crate) struct TlsSession {
    conn: UnbufferedServerConnection,
    carry: Carry,
    plaintext: PendingPlaintext,
    peer_closed: bool,
    close_notify_sealed: bool,
    failed: bool,
}

impl fmt::Debug for TlsSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the bytes: they are secrets or plaintext.
        f.debug_struct("TlsSession")
            .field("handshaking", &self.conn.is_handshaking())
            .field("carried", &self.carry.len())
            .field("pending_plaintext", &self.plaintext.len())
            .field("peer_closed", &self.peer_closed)
            .field("close_notify_sealed", &self.close_notify_sealed)
            .field("failed", &self.failed)
            .finish()
    }
}

impl TlsSession {
    pub(crate) fn new(config: Arc<ServerConfig>) -> Result<Self, rustls::Error> {
        Ok(TlsSession {
            conn: UnbufferedServerConnection::new(config)?,
            carry: Carry::default(),
            plaintext: PendingPlaintext::default(),
            peer_closed: false,
            close_notify_sealed: false,
            failed: false,
        })
    }

    /// Received bytes rustls has not consumed yet; the next
    /// [`TlsSession::receive`] must be given them first.
    pub(crate) fn carried(&self) -> &[u8] {
        self.carry.as_slice()
    }

    /// Takes in `incoming`: [`TlsSession::carried`] followed by what the
    /// socket gave since. Decrypted bytes go to `sink` as far as it has room
    /// (the rest waits, see [`TlsSession::take_plaintext`]); handshake records
    /// and alerts to send are appended to `out`. Consumes what rustls can and
    /// carries the rest. On an error the fatal alert, if any, is in `out`.
    pub(crate) fn receive(
        &mut self,
        incoming: &mut [u8],
        sink: &mut dyn PlaintextSink,
        out: &mut OutBuffer<'_>,
    ) -> Result<(), SessionError> {
        if self.failed {
            return Err(SessionError::Failed);
        }
        let (consumed, result) = self.drive(incoming, sink, out, Want::Input);
        if result.is_err() {
            // A failed connection reads nothing more: it keeps no bytes either.
            self.carry = Carry::default();
            return result;
        }
        self.carry.keep(&incoming[consumed..]).inspect_err(|_| {
            self.failed = true;
        })?;
        Ok(())
    }

    /// Seals `plaintext` (at most [`MAX_PLAINTEXT_PER_RECORD`] bytes: one
    /// record) into `out`, behind anything rustls had to send first (a
    /// KeyUpdate answering the peer's). Plaintext met on the way (none, in
    /// practice) waits for the next read.
    pub(crate) fn seal(
        &mut self,
        plaintext: &[u8],
        out: &mut OutBuffer<'_>,
    ) -> Result<(), SessionError> {
        debug_assert!(plaintext.len() <= MAX_PLAINTEXT_PER_RECORD);
        if self.close_notify_sealed {
            return Err(SessionError::NotWritable);
        }
        self.drive_carry(out, Want::Seal(plaintext))
    }

    /// Seals a close_notify alert into `out`, once.
    pub(crate) fn close_notify(&mut self, out: &mut OutBuffer<'_>) -> Result<(), SessionError> {
        if self.close_notify_sealed {
            return Ok(());
        }
        self.drive_carry(out, Want::CloseNotify)
    }

    /// Moves decrypted bytes that were waiting into `sink`; how many.
    pub(crate) fn take_plaintext(&mut self, sink: &mut dyn PlaintextSink) -> usize {
        self.plaintext.drain_into(sink)
    }

    pub(crate) fn has_plaintext(&self) -> bool {
        !self.plaintext.is_empty()
    }

    pub(crate) fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// The peer sent close_notify: no more plaintext will come.
    pub(crate) fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    pub(crate) fn failed(&self) -> bool {
        self.failed
    }

    pub(crate) fn alpn_protocol(&self) -> Option<&[u8]> {
        self.conn.alpn_protocol()
    }

    pub(crate) fn cipher_suite_name(&self) -> &'static str {
        self.conn
            .negotiated_cipher_suite()
            .and_then(|suite| suite.suite().as_str())
            .unwrap_or_default()
    }

    pub(crate) fn version_name(&self) -> &'static str {
        self.conn
            .protocol_version()
            .and_then(|v| v.as_str())
            .unwrap_or_default()
    }

    /// Bytes this connection holds outside rustls: the carry and plaintext
    /// waiting (zero for an idle connection).
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn buffered_bytes(&self) -> usize {
        self.carry.capacity() + self.plaintext.capacity()
    }

    /// [`TlsSession::drive`] over the carry alone, for sealing: rustls must
    /// see the unconsumed bytes it already knows of in front of anything.
    fn drive_carry(&mut self, out: &mut OutBuffer<'_>, want: Want<'_>) -> Result<(), SessionError> {
        if self.failed {
            return Err(SessionError::Failed);
        }
        let mut carried = self.carry.take();
        let mut plaintext = std::mem::take(&mut self.plaintext);
        // Decrypted bytes met while sealing wait behind those already waiting.
        let mut met = Vec::new();
        let (consumed, result) = self.drive(&mut carried, &mut met, out, want);
        if !self.failed {
            self.carry.restore(carried, consumed);
        }
        plaintext.deliver(&met, &mut NoRoom);
        self.plaintext = plaintext;
        result
    }

    /// Runs rustls's state machine over `incoming` until it waits for more
    /// bytes, having done what `want` asks once it may write. Returns how
    /// many bytes of `incoming` were consumed (discarded), and the outcome.
    fn drive(
        &mut self,
        incoming: &mut [u8],
        sink: &mut dyn PlaintextSink,
        out: &mut OutBuffer<'_>,
        mut want: Want<'_>,
    ) -> (usize, Result<(), SessionError>) {
        let mut consumed = 0;
        for _ in 0..step_budget(incoming.len()) {
            let UnbufferedStatus { mut discard, state } =
                self.conn.process_tls_records(&mut incoming[consumed..]);
            let state = match state {
                Ok(state) => state,
                Err(e) => {
                    consumed += discard;
                    let rest = &mut incoming[consumed..];
                    return (consumed, Err(self.fail(SessionError::Tls(e), rest, out)));
                }
            };
            let step: Result<bool, SessionError> = match state {
                ConnectionState::ReadTraffic(mut traffic) => {
                    let mut outcome = Ok(false);
                    while let Some(record) = traffic.next_record() {
                        match record {
                            Ok(record) => {
                                discard += record.discard;
                                self.plaintext.deliver(record.payload, sink);
                            }
                            Err(e) => {
                                outcome = Err(SessionError::Tls(e));
                                break;
                            }
                        }
                    }
                    outcome
                }
                ConnectionState::ReadEarlyData(_) => Err(SessionError::EarlyData),
                ConnectionState::EncodeTlsData(mut encode) => {
                    let mut result = encode.encode(out.room(0));
                    if let Err(EncodeError::InsufficientSize(short)) = &result {
                        let needed = short.required_size;
                        result = encode.encode(&mut out.room(needed)[..needed]);
                    }
                    match result {
                        Ok(n) => {
                            out.commit(n);
                            Ok(false)
                        }
                        Err(e) => Err(SessionError::Encode(e)),
                    }
                }
                // What was encoded is in `out`, which the stream sends before
                // anything encoded later.
                ConnectionState::TransmitTlsData(transmit) => {
                    transmit.done();
                    Ok(false)
                }
                ConnectionState::BlockedHandshake => match want {
                    Want::Input => Ok(true),
                    Want::Seal(_) | Want::CloseNotify => Err(SessionError::NotWritable),
                },
                ConnectionState::WriteTraffic(mut traffic) => {
                    match std::mem::replace(&mut want, Want::Input) {
                        Want::Input => Ok(true),
                        Want::Seal(plaintext) => {
                            let guess = plaintext.len() + SEAL_OVERHEAD;
                            let mut result = traffic.encrypt(plaintext, out.room(guess));
                            if let Err(EncryptError::InsufficientSize(short)) = &result {
                                let needed = short.required_size;
                                result =
                                    traffic.encrypt(plaintext, &mut out.room(needed)[..needed]);
                            }
                            match result {
                                Ok(n) => {
                                    out.commit(n);
                                    Ok(true)
                                }
                                Err(e) => Err(SessionError::Seal(e)),
                            }
                        }
                        Want::CloseNotify => {
                            let mut result = traffic.queue_close_notify(out.room(SEAL_OVERHEAD));
                            if let Err(EncryptError::InsufficientSize(short)) = &result {
                                let needed = short.required_size;
                                result =
                                    traffic.queue_close_notify(&mut out.room(needed)[..needed]);
                            }
                            match result {
                                Ok(n) => {
                                    out.commit(n);
                                    self.close_notify_sealed = true;
                                    Ok(true)
                                }
                                Err(e) => Err(SessionError::Seal(e)),
                            }
                        }
                    }
                }
                ConnectionState::PeerClosed => {
                    self.peer_closed = true;
                    Ok(false)
                }
                // Both sides sent close_notify: nothing more to read or write.
                ConnectionState::Closed => {
                    self.peer_closed = true;
                    match want {
                        Want::Input => Ok(true),
                        Want::Seal(_) | Want::CloseNotify => Err(SessionError::NotWritable),
                    }
                }
                // A state a later rustls adds: refuse rather than guess.
                _ => Err(SessionError::NotWritable),
            };
            consumed += discard;
            match step {
                Ok(false) => {}
                Ok(true) => return (consumed, Ok(())),
                Err(SessionError::NotWritable) if !self.failed => {
                    // Not the peer's doing: the connection itself is fine.
                    return (consumed, Err(SessionError::NotWritable));
                }
                Err(e) => {
                    let rest = &mut incoming[consumed..];
                    return (consumed, Err(self.fail(e, rest, out)));
                }
            }
        }
        let rest = &mut incoming[consumed..];
        let e = SessionError::Tls(rustls::Error::General(
            "the TLS state machine made no progress".into(),
        ));
        (consumed, Err(self.fail(e, rest, out)))
    }

    /// Marks the connection failed and encodes the alert rustls queued for
    /// the peer (a fatal alert after an error), if any, into `out`.
    fn fail(
        &mut self,
        error: SessionError,
        _rest: &mut [u8],
        out: &mut OutBuffer<'_>,
    ) -> SessionError {
        self.failed = true;
        // rustls hands out what it queued before it deframes again; only
        // while it has something queued, over no bytes, so that the bad
        // bytes are never looked at twice (a second fatal alert trips
        // rustls's own assertion: found by the fuzz target).
        for _ in 0..4 {
            if !self.conn.wants_write() {
                break;
            }
            let UnbufferedStatus { state, .. } = self.conn.process_tls_records(&mut []);
            match state {
                Ok(ConnectionState::EncodeTlsData(mut encode)) => {
                    let mut result = encode.encode(out.room(0));
                    if let Err(EncodeError::InsufficientSize(short)) = &result {
                        let needed = short.required_size;
                        result = encode.encode(&mut out.room(needed)[..needed]);
                    }
                    match result {
                        Ok(n) => out.commit(n),
                        Err(_) => break,
                    }
                }
                Ok(ConnectionState::TransmitTlsData(transmit)) => transmit.done(),
                _ => break,
            }
        }
        error
    }
}

#[cfg(test)]
mod tests {
    use super::super::records::{MAX_CARRY, MAX_RECORD_ON_WIRE};
    use super::*;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
    use rustls::{ClientConfig, ClientConnection, RootCertStore};

    struct Pair {
        client: ClientConnection,
        server: TlsSession,
        /// The server's unsent output.
        to_client: Vec<u8>,
    }

    fn configs(
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> (Arc<ServerConfig>, Arc<ClientConfig>) {
        pingora::tls::install_default_crypto_provider();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let cert_der = CertificateDer::from(cert.der().to_vec());
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut server = ServerConfig::builder_with_protocol_versions(versions)
            .with_no_client_auth()
            .with_single_cert(vec![cert_der.clone()], key_der)
            .unwrap();
        server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let mut roots = RootCertStore::empty();
        roots.add(cert_der).unwrap();
        let mut client = ClientConfig::builder_with_protocol_versions(versions)
            .with_root_certificates(roots)
            .with_no_client_auth();
        client.alpn_protocols = vec![b"http/1.1".to_vec()];
        (Arc::new(server), Arc::new(client))
    }

    impl Pair {
        fn new(versions: &[&'static rustls::SupportedProtocolVersion]) -> Pair {
            let (server, client) = configs(versions);
            Pair {
                client: ClientConnection::new(client, ServerName::try_from("localhost").unwrap())
                    .unwrap(),
                server: TlsSession::new(server).unwrap(),
                to_client: Vec::new(),
            }
        }

        /// What the client has to send.
        fn from_client(&mut self) -> Vec<u8> {
            let mut bytes = Vec::new();
            while self.client.wants_write() {
                self.client.write_tls(&mut bytes).unwrap();
            }
            bytes
        }

        /// Feeds `bytes` to the server in chunks of `chunk`, as the stream
        /// would (carry first); decrypted bytes into `plaintext`.
        fn feed(
            &mut self,
            bytes: &[u8],
            chunk: usize,
            plaintext: &mut Vec<u8>,
        ) -> Result<(), SessionError> {
            for piece in bytes.chunks(chunk.max(1)) {
                let mut incoming = self.server.carried().to_vec();
                incoming.extend_from_slice(piece);
                let mut sealed = Vec::new();
                let mut out = OutBuffer::reuse(&mut sealed);
                let result = self.server.receive(&mut incoming, plaintext, &mut out);
                let used = out.used();
                self.to_client.extend_from_slice(&sealed[..used]);
                result?;
                assert!(self.server.carried().len() <= MAX_CARRY);
            }
            Ok(())
        }

        /// Delivers the server's output to the client; the client's plaintext.
        fn to_client(&mut self) -> Result<Vec<u8>, rustls::Error> {
            let bytes = std::mem::take(&mut self.to_client);
            let mut reader = bytes.as_slice();
            while !reader.is_empty() {
                self.client.read_tls(&mut reader).unwrap();
                self.client.process_new_packets()?;
            }
            let mut plaintext = Vec::new();
            let _ = std::io::Read::read_to_end(&mut self.client.reader(), &mut plaintext);
            Ok(plaintext)
        }

        fn handshake(&mut self, chunk: usize) {
            let mut early = Vec::new();
            for _ in 0..10 {
                let bytes = self.from_client();
                self.feed(&bytes, chunk, &mut early).unwrap();
                self.to_client().unwrap();
                if !self.server.is_handshaking() && !self.client.is_handshaking() {
                    break;
                }
            }
            assert!(!self.server.is_handshaking());
            assert!(!self.client.is_handshaking());
            assert!(early.is_empty());
        }

        fn seal(&mut self, plaintext: &[u8]) -> Vec<u8> {
            let mut sealed = Vec::new();
            let mut out = OutBuffer::reuse(&mut sealed);
            self.server.seal(plaintext, &mut out).unwrap();
            let used = out.used();
            sealed.truncate(used);
            sealed
        }
    }

    const BOTH: [&[&'static rustls::SupportedProtocolVersion]; 2] =
        [&[&rustls::version::TLS13], &[&rustls::version::TLS12]];

    #[test]
    fn a_handshake_then_data_both_ways_in_tls_1_2_and_1_3() {
        for versions in BOTH {
            let mut pair = Pair::new(versions);
            pair.handshake(usize::MAX);
            assert_eq!(pair.server.alpn_protocol(), Some(&b"http/1.1"[..]));
            assert!(!pair.server.cipher_suite_name().is_empty());
            assert!(pair.server.version_name().starts_with("TLSv1_"));
            std::io::Write::write_all(&mut pair.client.writer(), b"GET / HTTP/1.1\r\n\r\n")
                .unwrap();
            let bytes = pair.from_client();
            let mut plaintext = Vec::new();
            pair.feed(&bytes, usize::MAX, &mut plaintext).unwrap();
            assert_eq!(plaintext, b"GET / HTTP/1.1\r\n\r\n");
            assert_eq!(pair.server.buffered_bytes(), 0, "idle: no buffer");
            let sealed = pair.seal(b"HTTP/1.1 200 OK\r\n\r\n");
            pair.to_client.extend_from_slice(&sealed);
            assert_eq!(pair.to_client().unwrap(), b"HTTP/1.1 200 OK\r\n\r\n");
        }
    }

    #[test]
    fn bytes_fed_one_at_a_time_make_the_same_handshake_and_plaintext() {
        for versions in BOTH {
            let mut pair = Pair::new(versions);
            pair.handshake(1);
            std::io::Write::write_all(&mut pair.client.writer(), &[b'x'; 3000]).unwrap();
            let bytes = pair.from_client();
            let mut plaintext = Vec::new();
            for byte in &bytes[..bytes.len() - 1] {
                pair.feed(std::slice::from_ref(byte), 1, &mut plaintext)
                    .unwrap();
                assert!(pair.server.carried().len() < MAX_RECORD_ON_WIRE);
            }
            assert!(
                plaintext.is_empty(),
                "no plaintext before the record is whole"
            );
            pair.feed(&bytes[bytes.len() - 1..], 1, &mut plaintext)
                .unwrap();
            assert_eq!(plaintext, vec![b'x'; 3000]);
            assert_eq!(pair.server.buffered_bytes(), 0);
        }
    }

    #[test]
    fn plaintext_the_sink_cannot_take_waits_for_the_next_read() {
        let mut pair = Pair::new(BOTH[0]);
        pair.handshake(usize::MAX);
        std::io::Write::write_all(&mut pair.client.writer(), b"abcdef").unwrap();
        let mut bytes = pair.from_client();
        let carried = pair.server.carried().to_vec();
        assert!(carried.is_empty());
        let mut sealed = Vec::new();
        let mut out = OutBuffer::reuse(&mut sealed);
        pair.server
            .receive(&mut bytes, &mut NoRoom, &mut out)
            .unwrap();
        assert!(pair.server.has_plaintext());
        let mut plaintext = Vec::new();
        assert_eq!(pair.server.take_plaintext(&mut plaintext), 6);
        assert_eq!(plaintext, b"abcdef");
        assert_eq!(pair.server.buffered_bytes(), 0);
    }

    #[test]
    fn a_key_update_from_the_peer_is_answered_and_data_still_flows() {
        let mut pair = Pair::new(BOTH[0]);
        pair.handshake(usize::MAX);
        pair.client.refresh_traffic_keys().unwrap();
        std::io::Write::write_all(&mut pair.client.writer(), b"after").unwrap();
        let bytes = pair.from_client();
        let mut plaintext = Vec::new();
        pair.feed(&bytes, 7, &mut plaintext).unwrap();
        assert_eq!(plaintext, b"after");
        // The answer carries the server's own KeyUpdate first; the client
        // decrypts it with its new read keys.
        let sealed = pair.seal(b"answer");
        pair.to_client.extend_from_slice(&sealed);
        assert_eq!(pair.to_client().unwrap(), b"answer");
    }

    #[test]
    fn close_notify_ends_the_plaintext_and_is_answered_once() {
        for versions in BOTH {
            let mut pair = Pair::new(versions);
            pair.handshake(usize::MAX);
            std::io::Write::write_all(&mut pair.client.writer(), b"last").unwrap();
            pair.client.send_close_notify();
            let bytes = pair.from_client();
            let mut plaintext = Vec::new();
            pair.feed(&bytes, usize::MAX, &mut plaintext).unwrap();
            assert_eq!(plaintext, b"last");
            assert!(pair.server.peer_closed());
            // Writing after the peer's close_notify is still allowed.
            let sealed = pair.seal(b"bye");
            pair.to_client.extend_from_slice(&sealed);
            let mut sealed = Vec::new();
            let mut out = OutBuffer::reuse(&mut sealed);
            pair.server.close_notify(&mut out).unwrap();
            let used = out.used();
            assert!(used > 0);
            pair.to_client.extend_from_slice(&sealed[..used]);
            let mut again = Vec::new();
            let mut out = OutBuffer::reuse(&mut again);
            pair.server.close_notify(&mut out).unwrap();
            assert_eq!(out.used(), 0, "close_notify is sealed once");
            assert!(matches!(
                pair.server
                    .seal(b"more", &mut OutBuffer::reuse(&mut Vec::new())),
                Err(SessionError::NotWritable)
            ));
            assert_eq!(pair.to_client().unwrap(), b"bye");
            assert_eq!(
                pair.client.process_new_packets().unwrap().peer_has_closed(),
                true
            );
        }
    }

    #[test]
    fn garbage_instead_of_a_client_hello_fails_with_an_alert() {
        let mut pair = Pair::new(BOTH[0]);
        let mut plaintext = Vec::new();
        let e = pair
            .feed(
                b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                usize::MAX,
                &mut plaintext,
            )
            .unwrap_err();
        assert!(matches!(e, SessionError::Tls(_)), "{e:?}");
        assert!(pair.server.failed());
        assert_eq!(pair.to_client.first(), Some(&21), "an alert record");
        assert!(matches!(
            pair.feed(b"\x16\x03\x01", 1, &mut plaintext),
            Err(SessionError::Failed)
        ));
    }

    #[test]
    fn a_record_longer_than_the_maximum_is_refused_from_its_header() {
        let mut pair = Pair::new(BOTH[0]);
        pair.handshake(usize::MAX);
        let mut plaintext = Vec::new();
        let e = pair
            .feed(&[23, 3, 3, 0xff, 0xff], usize::MAX, &mut plaintext)
            .unwrap_err();
        assert!(matches!(e, SessionError::Tls(_)), "{e:?}");
        assert_eq!(pair.server.buffered_bytes(), 0);
    }

    #[test]
    fn a_tampered_record_fails_and_no_plaintext_comes_of_it() {
        let mut pair = Pair::new(BOTH[0]);
        pair.handshake(usize::MAX);
        std::io::Write::write_all(&mut pair.client.writer(), b"secret").unwrap();
        let mut bytes = pair.from_client();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let mut plaintext = Vec::new();
        assert!(pair.feed(&bytes, usize::MAX, &mut plaintext).is_err());
        assert!(plaintext.is_empty());
        assert_eq!(pair.to_client.first(), Some(&23), "a sealed alert record");
    }

    #[test]
    fn a_flood_of_key_updates_is_cut_off_by_rustls() {
        let mut pair = Pair::new(BOTH[0]);
        pair.handshake(usize::MAX);
        let mut plaintext = Vec::new();
        let mut refused = false;
        for _ in 0..64 {
            pair.client.refresh_traffic_keys().unwrap();
            // A KeyUpdate goes out with the next write; an empty one sends it alone.
            std::io::Write::write_all(&mut pair.client.writer(), b"").unwrap();
            let bytes = pair.from_client();
            if pair.feed(&bytes, usize::MAX, &mut plaintext).is_err() {
                refused = true;
                break;
            }
            assert_eq!(pair.server.buffered_bytes(), 0);
        }
        assert!(
            refused,
            "rustls bounds KeyUpdates without data between them"
        );
    }

    #[test]
    fn sealing_before_the_handshake_is_refused_without_failing() {
        let mut pair = Pair::new(BOTH[0]);
        let mut sealed = Vec::new();
        assert!(matches!(
            pair.server.seal(b"x", &mut OutBuffer::reuse(&mut sealed)),
            Err(SessionError::NotWritable)
        ));
        assert!(!pair.server.failed());
        pair.handshake(usize::MAX);
    }
}
