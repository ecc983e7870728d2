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
use pingora::protocols::{Stream, ALPN};
use pingora::server::ShutdownWatch;
use pingora_proxy::HttpProxy;
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};

use super::edge_tls::EdgeTls;
use super::pingora_front_end::PingoraFrontEnd;
use super::prefixed_io::PrefixedIo;
use crate::gateway::{Admitted, BodyError, CallerBody, RequestRecord, TokenGateway};
use crate::plan::GatewayPlan;
use quirkgate_core::caller::CallerRequest;
use quirkgate_core::http1::caller_head::{parse_caller_head, Framing, HeadCheck, MAX_FIELDS};
use quirkgate_core::http1::encode::encode_answer;
use quirkgate_core::http1::fields::offset_in;
use quirkgate_core::http1::CallerAnswer;
use quirkgate_core::oauth_error::OAuthError;

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
    /// TLS on `listen`, when configured.
    edge_tls: Option<EdgeTls>,
}

impl FrontDoor {
    pub fn new(
        gateway: Arc<TokenGateway>,
        pingora: HttpProxy<PingoraFrontEnd>,
        edge_tls: Option<EdgeTls>,
    ) -> Self {
        FrontDoor {
            gateway,
            pingora: Arc::new(pingora),
            edge_tls,
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

/// What the bytes received so far mean for the fast path. A short-lived
/// value on the stack: boxing the taken request would cost an allocation per
/// request for nothing.
#[allow(clippy::large_enum_variant)]
enum Take {
    /// The head is not complete yet.
    Partial,
    /// Pingora's HTTP stack takes this request.
    HandOver,
    /// The fast path took the request, and the gateway core judged its head.
    Taken(TakenRequest),
}

/// One request the fast path took.
struct TakenRequest {
    framing: Framing,
    record: RequestRecord,
    admitted: Result<Admitted, OAuthError>,
    authorization: Option<Range<usize>>,
}

impl FrontDoor {
    async fn serve_connection(&self, stream: Stream, shutdown: &ShutdownWatch) {
        let stream = match &self.edge_tls {
            // A handshake gets as long as an idle connection's first byte.
            Some(tls) => {
                let within = Duration::from_secs(self.gateway.plan().client_idle_timeout_secs);
                match tls.accept(stream, within).await {
                    Some(stream) => stream,
                    None => return,
                }
            }
            None => stream,
        };
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
                        Take::Taken(taken) => break taken,
                        Take::Partial => {}
                        Take::HandOver => return Some(Box::new(PrefixedIo::new(received, stream))),
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
            // The exchange (the provider leg, the answer) is boxed for the
            // request's lifetime only: the connection's task, which an idle
            // keep-alive connection holds, stays the size of the wait above.
            let exchanged = Box::pin(self.exchange(
                taken,
                &mut stream,
                &mut received,
                timer.as_mut(),
                idle,
                shutdown,
            ));
            if exchanged.await? {
                let _ = timeout(idle, stream.shutdown()).await;
                return None;
            }
        }
    }

    /// Answers one request the fast path took and accounts for it. `None`
    /// when the connection is done for (the caller went away, or writing the
    /// answer failed); otherwise whether the connection closes after it. The
    /// request's bytes leave `received`; pipelined ones stay for the next turn.
    async fn exchange(
        &self,
        taken: TakenRequest,
        stream: &mut Stream,
        received: &mut Vec<u8>,
        timer: Pin<&mut tokio::time::Sleep>,
        idle: Duration,
        shutdown: &ShutdownWatch,
    ) -> Option<bool> {
        let TakenRequest {
            framing,
            mut record,
            admitted,
            authorization,
        } = taken;
        let mut caller = FastPathCaller {
            stream,
            received,
            framing,
            body: 0..0,
            authorization,
        };
        let Some(answer) = self
            .gateway
            .respond(admitted, &mut caller, &mut record, timer)
            .await
        else {
            self.gateway.finish(&record, Some("ReadError"));
            return None;
        };
        // A refusal before the body was read leaves unread bytes on the connection.
        let close = !record.body_consumed || framing.close || *shutdown.borrow();
        // A caller that does not read (pipelining without reading answers,
        // say) gets as long as an idle one, then the connection is dropped.
        let written = match timeout(idle, write_answer(stream, &answer, close)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err("WriteError"),
            Err(_) => Err("WriteTimedout"),
        };
        self.gateway.finish(&record, written.err());
        written.ok()?;
        if !close {
            // An idle connection keeps no buffer.
            received.drain(..framing.head_len + framing.content_length);
            if received.is_empty() {
                *received = Vec::new();
            }
        }
        Some(close)
    }

    /// Parses what has arrived and, when the fast path takes the request,
    /// lets the gateway core judge its head. No await here: the borrowed
    /// fields never outlive this call.
    fn take(&self, received: &[u8], plan: &GatewayPlan, peer: Option<std::net::IpAddr>) -> Take {
        let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
        let mut request = httparse::Request::new(&mut fields);
        let framing = match parse_caller_head(&mut request, received) {
            HeadCheck::Framed(framing) => framing,
            HeadCheck::Partial => return Take::Partial,
            HeadCheck::HandOver => return Take::HandOver,
        };
        let target = request.path.unwrap_or("/");
        let path = target.split_once('?').map_or(target, |(path, _)| path);
        // OpenID Connect bridge endpoints (logins, not the hot token path)
        // take redirects and queries: Pingora's stack serves them.
        if plan.bridge(path).is_some() {
            return Take::HandOver;
        }
        let mut record = self.gateway.begin();
        let caller = CallerRequest {
            method: request.method.unwrap_or(""),
            path,
            headers: &*request.headers,
            peer,
        };
        let admitted = self.gateway.admit(plan, &caller, &mut record);
        let authorization = request
            .headers
            .iter()
            .find(|field| field.name.eq_ignore_ascii_case("authorization"))
            .map(|field| offset_in(received, field.value));
        Take::Taken(TakenRequest {
            framing,
            record,
            admitted,
            authorization,
        })
    }
}

/// The caller's body and `Authorization`, as places in the bytes received.
struct FastPathCaller<'c> {
    stream: &'c mut Stream,
    received: &'c mut Vec<u8>,
    framing: Framing,
    body: Range<usize>,
    authorization: Option<Range<usize>>,
}

impl CallerBody for FastPathCaller<'_> {
    /// Reads until the bytes received hold the whole body the head announced
    /// (even for a route that reads no form, so the connection stays in step).
    async fn read(&mut self, admitted: &Admitted) -> Result<(), BodyError> {
        let route = &admitted.route;
        let framing = self.framing;
        if framing.content_length > route.caller.max_body_bytes {
            return Err(BodyError::Refused(OAuthError::body_too_large(
                route.caller.max_body_bytes,
            )));
        }
        let body = framing.head_len..framing.head_len + framing.content_length;
        if self.received.len() < body.end {
            let (stream, received) = (&mut *self.stream, &mut *self.received);
            let reading = async {
                while received.len() < body.end {
                    match read_some(stream, received).await {
                        Ok(read) if read > 0 => {}
                        _ => return Err(BodyError::Gone),
                    }
                }
                Ok(())
            };
            timeout(route.caller.body_timeout, reading)
                .await
                .unwrap_or(Err(BodyError::Refused(OAuthError::body_timeout())))?;
        }
        self.body = body;
        Ok(())
    }

    fn parts(&self) -> (&[u8], Option<&[u8]>) {
        let authorization = self
            .authorization
            .clone()
            .map(|range| &self.received[range]);
        (&self.received[self.body.clone()], authorization)
    }
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

/// The answer's head and body, in one write (the caller bounds it in time).
async fn write_answer(stream: &mut Stream, answer: &CallerAnswer, close: bool) -> io::Result<()> {
    let mut wire = Vec::with_capacity(256 + answer.body.len());
    encode_answer(answer, close, get_cached_date().as_bytes(), &mut wire);
    stream.write_all(&wire).await?;
    stream.flush().await
}
