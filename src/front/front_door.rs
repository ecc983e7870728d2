//! The gateway's listener app: a lean HTTP/1.1 path for the requests OAuth
//! clients actually send, in front of Pingora's full HTTP stack for the rest.
//!
//! A token request is a small `POST` with a `Content-Length` body that arrives
//! with its head. For those, this path parses the head in place with
//! `httparse` (the parser Pingora itself uses), hands it to the gateway core,
//! and writes the answer in one write: no header maps, no per-connection
//! buffers while idle. Anything else (HTTP/2 over TLS, HTTP/1.0, chunked or
//! ambiguous framing, `Expect`, `Upgrade`, an unusual or oversized head, a
//! head that does not parse) is handed to Pingora's HTTP stack with the bytes
//! already read put back, and that connection stays there. Pingora keeps
//! every framing rule it enforces; this path only takes what is unambiguous.

use std::io;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Poll};
use std::time::Duration;

use async_trait::async_trait;
use pingora::apps::ServerApp;
use pingora::prelude::timeout;
use pingora::protocols::http::date::get_cached_date;
use pingora::protocols::raw_connect::ProxyDigest;
use pingora::protocols::tls::{SslDigest, TlsRef};
use pingora::protocols::{
    GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, SocketDigest, Ssl, Stream,
    TimingDigest, UniqueID, UniqueIDType, ALPN,
};
use pingora::server::ShutdownWatch;
use pingora_proxy::HttpProxy;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::core::caller::CallerRequest;
use crate::core::oauth_error::OAuthError;
use crate::gateway::{Answer, ExchangeCtx, PingoraFrontEnd, TokenGateway};
use crate::plan::{GatewayPlan, TokenRoute};
use crate::upstream::provider_wire::{list_items, offset_in};

/// Header fields the fast path parses; a head with more goes to Pingora.
const MAX_FIELDS: usize = 48;
/// Head bytes the fast path waits for; a longer head goes to Pingora (which
/// answers 431 past `MAX_HEADER_BYTES`).
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Per-thread read buffer: idle connections own no buffer of their own.
const SCRATCH_BYTES: usize = 16 * 1024;

thread_local! {
    static SCRATCH: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0; SCRATCH_BYTES].into_boxed_slice());
}

/// The listener app: the fast path, with Pingora's stack behind it.
pub struct FrontDoor {
    gateway: Arc<TokenGateway>,
    pingora: Arc<HttpProxy<PingoraFrontEnd>>,
}

impl FrontDoor {
    pub fn new(gateway: Arc<TokenGateway>, pingora: HttpProxy<PingoraFrontEnd>) -> Self {
        FrontDoor {
            gateway,
            pingora: Arc::new(pingora),
        }
    }
}

#[async_trait]
impl ServerApp for FrontDoor {
    /// Moves the connection to a task of its own and returns at once: the task
    /// Pingora's listener spawned per connection is sized for a TLS handshake
    /// (about 9 KB), and an idle keep-alive connection should not carry it.
    async fn process_new(
        self: &Arc<Self>,
        stream: Stream,
        shutdown: &ShutdownWatch,
    ) -> Option<Stream> {
        let door = self.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move { door.serve_connection(stream, &shutdown).await });
        None
    }
}

impl FrontDoor {
    async fn serve_connection(&self, stream: Stream, shutdown: &ShutdownWatch) {
        let mut handed_over = if matches!(stream.selected_alpn_proto(), Some(ALPN::H2)) {
            Some(stream)
        } else {
            self.serve(stream, shutdown).await
        };
        // What Pingora's listener would have done: keep handing Pingora's stack
        // the connection while it stays reusable.
        while let Some(stream) = handed_over {
            handed_over = self.pingora.process_new(stream, shutdown).await;
        }
    }
}

/// How a request's head is framed, when the fast path takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Framing {
    /// Bytes of the head, through the blank line.
    head_len: usize,
    content_length: usize,
    /// The caller asked to close after this answer.
    close: bool,
}

/// What the bytes received so far hold.
#[derive(Debug, PartialEq, Eq)]
enum HeadCheck {
    /// The head is not complete yet.
    Partial,
    /// Pingora's HTTP stack takes this request (see the module notes).
    HandOver,
    Ready(Framing),
}

/// Judges a parsed head: the fast path takes HTTP/1.1 with one Host, an
/// origin-form target and a body framed by at most one plain Content-Length.
fn framing(request: &httparse::Request<'_, '_>, head_len: usize) -> HeadCheck {
    // HEAD answers carry no body: Pingora's stack writes those.
    if request.version != Some(1)
        || !request.path.is_some_and(|p| p.starts_with('/'))
        || request.method == Some("HEAD")
    {
        return HeadCheck::HandOver;
    }
    let mut content_length = None;
    let mut hosts = 0;
    let mut close = false;
    for field in request.headers.iter() {
        let name = field.name;
        if name.eq_ignore_ascii_case("content-length") {
            let digits = field.value;
            if content_length.is_some()
                || digits.is_empty()
                || digits.len() > 9
                || !digits.iter().all(u8::is_ascii_digit)
            {
                return HeadCheck::HandOver;
            }
            content_length = Some(
                digits
                    .iter()
                    .fold(0usize, |n, d| n * 10 + usize::from(d - b'0')),
            );
        } else if name.eq_ignore_ascii_case("host") {
            hosts += 1;
        } else if name.eq_ignore_ascii_case("connection") {
            for token in list_items(field.value) {
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if !token.eq_ignore_ascii_case(b"keep-alive") {
                    // `upgrade` and hop-by-hop header lists: Pingora's call.
                    return HeadCheck::HandOver;
                }
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            || name.eq_ignore_ascii_case("expect")
            || name.eq_ignore_ascii_case("upgrade")
            || name.eq_ignore_ascii_case("te")
        {
            return HeadCheck::HandOver;
        }
    }
    if hosts != 1 {
        return HeadCheck::HandOver;
    }
    HeadCheck::Ready(Framing {
        head_len,
        content_length: content_length.unwrap_or(0),
        close,
    })
}

/// Parses what has arrived and judges it with [`framing`].
fn parse_and_frame<'b>(request: &mut httparse::Request<'_, 'b>, received: &'b [u8]) -> HeadCheck {
    match request.parse(received) {
        Ok(httparse::Status::Complete(head_len)) => framing(request, head_len),
        Ok(httparse::Status::Partial) if received.len() < MAX_HEAD_BYTES => HeadCheck::Partial,
        // Too long, too many fields, or not HTTP/1 as httparse reads it.
        Ok(httparse::Status::Partial) | Err(_) => HeadCheck::HandOver,
    }
}

/// One request the fast path took, after the gateway core judged its head.
struct Taken {
    framing: Framing,
    ctx: ExchangeCtx,
    admitted: Result<crate::gateway::Admitted, OAuthError>,
    authorization: Option<Range<usize>>,
}

impl FrontDoor {
    /// Serves HTTP/1.1 requests until the connection ends (`None`) or a
    /// request is for Pingora's stack (the stream, with what was read put back).
    async fn serve(&self, mut stream: Stream, shutdown: &ShutdownWatch) -> Option<Stream> {
        let peer = stream
            .get_socket_digest()
            .and_then(|digest| digest.peer_addr().and_then(|a| a.as_inet()).map(|a| a.ip()));
        let mut received: Vec<u8> = Vec::new();
        // One timer per connection, set for each wait (the idle timeout, then
        // the exchange's deadline): a reset costs no allocation and no lock.
        let mut timer = Box::pin(tokio::time::sleep(Duration::ZERO));
        loop {
            let idle = Duration::from_secs(self.gateway.plan().client_idle_timeout_secs);
            // The head: its first byte within the idle timeout, and the whole
            // head within that much again (a head dripped byte by byte ends there).
            let mut head_started = false;
            let taken = loop {
                if !received.is_empty() {
                    // The plan current when the head is complete: a reload
                    // applies to the next request of a kept-alive connection.
                    match self.take(&received, &self.gateway.plan(), peer) {
                        Ok(taken) => break taken,
                        Err(HeadCheck::Partial) => {}
                        Err(_) => return Some(Box::new(Replayed::new(received, stream))),
                    }
                }
                if !head_started {
                    head_started = !received.is_empty();
                    timer.as_mut().reset(tokio::time::Instant::now() + idle);
                }
                let read = tokio::select! {
                    biased;
                    read = read_some(&mut stream, &mut received) => read,
                    () = &mut timer => return None,
                };
                match read {
                    Ok(read) if read > 0 => {}
                    // Closed or failed: nothing to answer.
                    _ => return None,
                }
            };
            let framing = taken.framing;
            let (mut ctx, answer) = self
                .exchange(&mut stream, &mut received, taken, timer.as_mut())
                .await?;
            // A refusal before the body was read leaves unread bytes on the connection.
            let close = !ctx.body_consumed || framing.close || *shutdown.borrow();
            self.gateway.answered(&answer, &mut ctx);
            let written = write_answer(&mut stream, &answer, close).await;
            self.gateway
                .finish(&ctx, written.as_ref().err().map(|_| "WriteError"));
            if written.is_err() {
                return None;
            }
            if close {
                let _ = stream.shutdown().await;
                return None;
            }
            // Pipelined requests stay for the next turn; an idle connection keeps no buffer.
            received.drain(..framing.head_len + framing.content_length);
            if received.is_empty() {
                received = Vec::new();
            }
        }
    }

    /// Parses what has arrived and, when the fast path takes the request,
    /// lets the gateway core judge its head. No await here: the borrowed
    /// fields never outlive this call.
    fn take(
        &self,
        received: &[u8],
        plan: &GatewayPlan,
        peer: Option<std::net::IpAddr>,
    ) -> Result<Taken, HeadCheck> {
        let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
        let mut request = httparse::Request::new(&mut fields);
        let framing = match parse_and_frame(&mut request, received) {
            HeadCheck::Ready(framing) => framing,
            other => return Err(other),
        };
        let mut ctx = self.gateway.begin();
        let path = request.path.unwrap_or("/");
        let caller = CallerRequest {
            method: request.method.unwrap_or(""),
            path: path.split_once('?').map_or(path, |(path, _)| path),
            headers: &*request.headers,
            peer,
        };
        let admitted = self.gateway.admit(plan, &caller, &mut ctx);
        let authorization = request
            .headers
            .iter()
            .find(|field| field.name.eq_ignore_ascii_case("authorization"))
            .map(|field| offset_in(received, field.value));
        Ok(Taken {
            framing,
            ctx,
            admitted,
            authorization,
        })
    }

    /// Reads the body and runs the exchange; `None` when the caller went away
    /// before its body arrived.
    async fn exchange(
        &self,
        stream: &mut Stream,
        received: &mut Vec<u8>,
        taken: Taken,
        timer: Pin<&mut tokio::time::Sleep>,
    ) -> Option<(ExchangeCtx, Answer)> {
        let Taken {
            framing,
            mut ctx,
            admitted,
            authorization,
        } = taken;
        let outcome = match admitted {
            Err(error) => Err(error),
            Ok(admitted) => match read_body(stream, received, framing, &admitted.route).await {
                Err(BodyRead::Gone) => {
                    self.gateway.finish(&ctx, Some("ReadError"));
                    return None;
                }
                Err(BodyRead::Refused(error)) => Err(error),
                Ok(body) => {
                    let body = if admitted.reads_form {
                        &received[body]
                    } else {
                        &[][..]
                    };
                    let authorization = authorization.map(|range| &received[range]);
                    self.gateway
                        .forward(&admitted.route, body, authorization, &mut ctx, timer)
                        .await
                }
            },
        };
        let answer = outcome.unwrap_or_else(|error| self.gateway.refuse(error, &mut ctx));
        Some((ctx, answer))
    }
}

enum BodyRead {
    /// The caller closed or the read failed.
    Gone,
    /// Too large for the route, or not all there within its `body_timeout`.
    Refused(OAuthError),
}

/// Reads until `received` holds the whole body `framing` announces, within
/// the route's limits; the body's place in `received`.
async fn read_body(
    stream: &mut Stream,
    received: &mut Vec<u8>,
    framing: Framing,
    route: &TokenRoute,
) -> Result<Range<usize>, BodyRead> {
    if framing.content_length > route.max_body_bytes {
        return Err(BodyRead::Refused(OAuthError::body_too_large(
            route.max_body_bytes,
        )));
    }
    let body = framing.head_len..framing.head_len + framing.content_length;
    if received.len() < body.end {
        let end = body.end;
        let reading = async {
            while received.len() < end {
                match read_some(stream, received).await {
                    Ok(read) if read > 0 => {}
                    _ => return Err(BodyRead::Gone),
                }
            }
            Ok(())
        };
        timeout(route.body_timeout, reading)
            .await
            .unwrap_or(Err(BodyRead::Refused(OAuthError::body_timeout())))?;
    }
    Ok(body)
}

/// Reads what the socket has into `received` through the thread's scratch
/// buffer, so a connection waiting for its next request holds no buffer.
/// `Ok(0)` is end of stream.
async fn read_some(stream: &mut Stream, received: &mut Vec<u8>) -> io::Result<usize> {
    std::future::poll_fn(|cx| {
        SCRATCH.with_borrow_mut(|scratch| {
            let mut buf = ReadBuf::new(scratch);
            ready!(AsyncRead::poll_read(Pin::new(&mut *stream), cx, &mut buf))?;
            received.extend_from_slice(buf.filled());
            Poll::Ready(Ok(buf.filled().len()))
        })
    })
    .await
}

/// The answer's head and body, in one write.
async fn write_answer(stream: &mut Stream, answer: &Answer, close: bool) -> io::Result<()> {
    let mut wire = Vec::with_capacity(256 + answer.body.len());
    encode_answer(answer, close, &get_cached_date(), &mut wire);
    stream.write_all(&wire).await?;
    stream.flush().await
}

/// HTTP/1.1 bytes for an answer: the same headers Pingora's path writes.
pub fn encode_answer(answer: &Answer, close: bool, date: &http::HeaderValue, wire: &mut Vec<u8>) {
    use std::io::Write;
    let reason = http::StatusCode::from_u16(answer.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    // Writing to a Vec cannot fail.
    let _ = write!(
        wire,
        "HTTP/1.1 {} {reason}\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nPragma: no-cache\r\nDate: ",
        answer.status,
        answer.body.len()
    );
    wire.extend_from_slice(date.as_bytes());
    wire.extend_from_slice(b"\r\n");
    if let Some(allow) = &answer.allow {
        let _ = write!(wire, "Allow: {allow}\r\n");
    }
    if let Some(seconds) = answer.retry_after_seconds {
        let _ = write!(wire, "Retry-After: {seconds}\r\n");
    }
    wire.extend_from_slice(if close {
        b"Connection: close\r\n\r\n"
    } else {
        b"\r\n"
    });
    wire.extend_from_slice(&answer.body);
}

/// A stream handed to Pingora with the bytes the fast path already read in
/// front of it; everything else is the connection's own.
#[derive(Debug)]
struct Replayed {
    read: Vec<u8>,
    replayed: usize,
    inner: Stream,
}

impl Replayed {
    fn new(read: Vec<u8>, inner: Stream) -> Self {
        Replayed {
            read,
            replayed: 0,
            inner,
        }
    }
}

impl AsyncRead for Replayed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.replayed < this.read.len() {
            let rest = &this.read[this.replayed..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.replayed += n;
            if this.replayed == this.read.len() {
                this.read = Vec::new();
                this.replayed = 0;
            }
            return Poll::Ready(Ok(()));
        }
        AsyncRead::poll_read(Pin::new(&mut this.inner), cx, buf)
    }
}

impl AsyncWrite for Replayed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[async_trait]
impl Shutdown for Replayed {
    async fn shutdown(&mut self) {
        Shutdown::shutdown(&mut *self.inner).await
    }
}

impl UniqueID for Replayed {
    fn id(&self) -> UniqueIDType {
        self.inner.id()
    }
}

impl Ssl for Replayed {
    fn get_ssl(&self) -> Option<&TlsRef> {
        self.inner.get_ssl()
    }

    fn get_ssl_digest(&self) -> Option<Arc<SslDigest>> {
        self.inner.get_ssl_digest()
    }

    fn selected_alpn_proto(&self) -> Option<ALPN> {
        self.inner.selected_alpn_proto()
    }
}

impl GetTimingDigest for Replayed {
    fn get_timing_digest(&self) -> Vec<Option<TimingDigest>> {
        self.inner.get_timing_digest()
    }
}

impl GetProxyDigest for Replayed {
    fn get_proxy_digest(&self) -> Option<Arc<ProxyDigest>> {
        self.inner.get_proxy_digest()
    }
}

impl GetSocketDigest for Replayed {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        self.inner.get_socket_digest()
    }
}

/// Peeking would see past the replayed bytes; Pingora then reads instead.
impl Peek for Replayed {}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_head(received: &[u8]) -> HeadCheck {
        let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
        parse_and_frame(&mut httparse::Request::new(&mut fields), received)
    }

    fn ready(head: &str) -> Framing {
        match check_head(head.as_bytes()) {
            HeadCheck::Ready(framing) => framing,
            other => panic!("{head:?}: {other:?}"),
        }
    }

    #[test]
    fn a_token_request_is_taken_with_its_length() {
        let head = "POST /token/proxy HTTP/1.1\r\nHost: gw\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 42\r\n\r\n";
        assert_eq!(
            ready(&format!("{head}grant_type=")),
            Framing {
                head_len: head.len(),
                content_length: 42,
                close: false
            }
        );
        let close = ready("GET /u HTTP/1.1\r\nHost: gw\r\nConnection: keep-alive, Close\r\n\r\n");
        assert_eq!((close.content_length, close.close), (0, true));
    }

    #[test]
    fn an_incomplete_head_waits_until_it_is_too_long() {
        assert_eq!(check_head(b""), HeadCheck::Partial);
        assert_eq!(
            check_head(b"POST /t HTTP/1.1\r\nHost: gw\r\n"),
            HeadCheck::Partial
        );
        let long = format!(
            "POST /t HTTP/1.1\r\nX-Pad: {}\r\n",
            "a".repeat(MAX_HEAD_BYTES)
        );
        assert_eq!(check_head(long.as_bytes()), HeadCheck::HandOver);
    }

    #[test]
    fn everything_unusual_goes_to_pingora() {
        for head in [
            // HTTP/1.0, HEAD, absolute-form, no Host, two Hosts
            "POST /t HTTP/1.0\r\nHost: gw\r\n\r\n",
            "HEAD /t HTTP/1.1\r\nHost: gw\r\n\r\n",
            "POST http://gw/t HTTP/1.1\r\nHost: gw\r\n\r\n",
            "POST /t HTTP/1.1\r\n\r\n",
            "POST /t HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            // framing Pingora must judge
            "POST /t HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST /t HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST /t HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
            "POST /t HTTP/1.1\r\nHost: gw\r\nContent-Length: 5, 5\r\n\r\n",
            "POST /t HTTP/1.1\r\nHost: gw\r\nContent-Length: +5\r\n\r\n",
            "POST /t HTTP/1.1\r\nHost: gw\r\nContent-Length: 99999999999\r\n\r\n",
            "POST /t HTTP/1.1\r\nHost: gw\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
            "GET /t HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
            "GET /t HTTP/1.1\r\nHost: gw\r\nTE: trailers\r\n\r\n",
            // not HTTP/1 as httparse reads it
            "\x16\x03\x01\x02\x00\x01\x00\x01\x03\x03",
            "POST /t HTTP/1.1\r\nHost: gw\r\nBad Header: x\r\n\r\n",
            "POST /t HTTP/1.1\r\nHost: gw\r\nFolded: a\r\n b\r\n\r\n",
        ] {
            assert_eq!(check_head(head.as_bytes()), HeadCheck::HandOver, "{head:?}");
        }
        let many: String = (0..MAX_FIELDS + 1)
            .map(|i| format!("X-{i}: v\r\n"))
            .collect();
        let head = format!("POST /t HTTP/1.1\r\nHost: gw\r\n{many}\r\n");
        assert_eq!(check_head(head.as_bytes()), HeadCheck::HandOver);
    }

    #[test]
    fn answers_carry_the_headers_of_pingoras_path() {
        let answer = Answer {
            status: 405,
            body: bytes::Bytes::from_static(b"{\"error\":\"invalid_request\"}"),
            allow: Some("POST".to_owned()),
            retry_after_seconds: Some(1),
        };
        let mut wire = Vec::new();
        let date = http::HeaderValue::from_static("Thu, 26 Nov 2026 03:29:55 GMT");
        encode_answer(&answer, true, &date, &mut wire);
        let text = String::from_utf8(wire).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: 27\r\nCache-Control: no-store\r\nPragma: no-cache\r\nDate: Thu, 26 Nov 2026 03:29:55 GMT\r\nAllow: POST\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{\"error\":\"invalid_request\"}"
        );
        let mut wire = Vec::new();
        encode_answer(&answer, false, &date, &mut wire);
        assert!(!String::from_utf8(wire).unwrap().contains("Connection"));
    }
}
