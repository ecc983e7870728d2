//! The Pingora front end: HTTP/2 callers, and the HTTP/1 requests the fast
//! path hands over (chunked bodies, HTTP/1.0, `Expect`, odd framing), go
//! through Pingora's own HTTP stack into the same request lifecycle.
//! `request_filter` answers every request; nothing reaches Pingora's proxy path.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::BytesMut;
use pingora::http::ResponseHeader;
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorType, Result};
use pingora_proxy::{ProxyHttp, Session};

use crate::bridge::{self, BridgeRequest};
use crate::gateway::{Admitted, BodyError, CallerBody, RequestRecord, TokenGateway};
use crate::plan::oidc::{BridgeEndpoint, OidcBridge};
use crate::plan::TokenRoute;
use crate::telemetry::metrics::method_label;
use quirkgate_core::caller::CallerRequest;
use quirkgate_core::http1::encode::{has_content_type, CONTENT_TYPE};
use quirkgate_core::http1::CallerAnswer;
use quirkgate_core::oauth_error::{OAuthError, Reason};

pub struct PingoraFrontEnd {
    pub gateway: Arc<TokenGateway>,
}

#[async_trait]
impl ProxyHttp for PingoraFrontEnd {
    type CTX = RequestRecord;

    fn new_ctx(&self) -> RequestRecord {
        self.gateway.begin()
    }

    /// Runs the whole request lifecycle and writes its answer.
    async fn request_filter(
        &self,
        session: &mut Session,
        record: &mut RequestRecord,
    ) -> Result<bool> {
        // RFC 9112 §9.3.2: pipelined requests are answered in order, not dropped with the connection.
        session.set_pipelining_enabled(true);
        let plan = self.gateway.plan();
        // Idle keep-alive callers are closed after this. Only shortens a keep-alive Pingora
        // already granted: HTTP/1.0 and ambiguous framing (Content-Length with
        // Transfer-Encoding) stay closed. Refusals below may close at once instead.
        if session.get_keepalive().is_some() {
            session.set_keepalive(Some(plan.client_idle_timeout_secs));
        }
        if let Some((bridge, endpoint)) = plan.bridge(session.req_header().uri.path()).cloned() {
            let answer = serve_bridge(&self.gateway, session, record, bridge, endpoint).await;
            write_answer(session, answer).await?;
            return Ok(true);
        }
        let header = session.req_header();
        let request = CallerRequest {
            method: header.method.as_str(),
            path: header.uri.path(),
            headers: &header.headers,
            peer: session
                .client_addr()
                .and_then(|a| a.as_inet())
                .map(|a| a.ip()),
        };
        let admitted = self.gateway.admit(&plan, &request, record);
        let deadline = std::pin::pin!(tokio::time::sleep(std::time::Duration::ZERO));
        let mut caller = PingoraCaller {
            session,
            body: BytesMut::new(),
        };
        let answer = self
            .gateway
            .respond(admitted, &mut caller, record, deadline)
            .await
            .expect("Pingora's body reads end in an answer, never in Gone");
        // A refusal before the body was read leaves unread bytes on the connection.
        if !record.body_consumed {
            session.set_keepalive(None);
        }
        write_answer(session, answer).await?;
        Ok(true)
    }

    /// Never reached: every request is answered in `request_filter`.
    async fn upstream_peer(
        &self,
        _session: &mut Session,
        _record: &mut RequestRecord,
    ) -> Result<Box<HttpPeer>> {
        Error::e_explain(
            ErrorType::InternalError,
            "quirkgate answers every request in request_filter",
        )
    }

    async fn logging(
        &self,
        _session: &mut Session,
        error: Option<&Error>,
        record: &mut RequestRecord,
    ) {
        self.gateway
            .finish(record, error.map(|e| e.etype().as_str()));
    }

    /// Pingora's error lines name the route and method only: never a URI with a query.
    fn request_summary(&self, session: &Session, record: &RequestRecord) -> String {
        format!(
            "{} route={}",
            method_label(session.req_header().method.as_str()),
            TokenGateway::route_name(record)
        )
    }
}

/// The caller's body and `Authorization`, as Pingora's session holds them.
struct PingoraCaller<'s> {
    session: &'s mut Session,
    body: BytesMut,
}

impl CallerBody for PingoraCaller<'_> {
    async fn read(&mut self, admitted: &Admitted) -> Result<(), BodyError> {
        if admitted.reads_form {
            self.body = read_body(self.session, &admitted.route)
                .await
                .map_err(BodyError::Refused)?;
        }
        Ok(())
    }

    fn parts(&self) -> (&[u8], Option<&[u8]>) {
        let authorization = self
            .session
            .req_header()
            .headers
            .get(http::header::AUTHORIZATION)
            .map(http::HeaderValue::as_bytes);
        (&self.body, authorization)
    }
}

/// Reads the whole form body within `body_timeout`, refusing it past `max_body_bytes`.
async fn read_body(session: &mut Session, route: &TokenRoute) -> Result<BytesMut, OAuthError> {
    read_body_within(
        session,
        route.caller.max_body_bytes,
        route.caller.body_timeout,
    )
    .await
}

/// Reads the whole body within `timeout`, refusing it past `max_bytes`.
async fn read_body_within(
    session: &mut Session,
    max_bytes: usize,
    timeout: std::time::Duration,
) -> Result<BytesMut, OAuthError> {
    let declared = session
        .req_header()
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|len| len > max_bytes) {
        return Err(OAuthError::body_too_large(max_bytes));
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let mut body = BytesMut::with_capacity(declared.unwrap_or(1024).min(max_bytes));
    loop {
        match tokio::time::timeout_at(deadline, session.read_request_body()).await {
            Err(_) => {
                return Err(OAuthError::body_timeout());
            }
            Ok(Err(_)) => {
                return Err(OAuthError::invalid_request(
                    "the request body could not be read",
                    Reason::Malformed,
                ));
            }
            Ok(Ok(None)) => return Ok(body),
            Ok(Ok(Some(chunk))) => {
                if body.len() + chunk.len() > max_bytes {
                    return Err(OAuthError::body_too_large(max_bytes));
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
}

/// Writes an answer, every field of it (as `encode_answer` does on the fast path).
async fn write_answer(session: &mut Session, answer: CallerAnswer) -> Result<()> {
    let mut header = ResponseHeader::build(answer.status, Some(6))?;
    if has_content_type(&answer) {
        header.insert_header(CONTENT_TYPE.0, CONTENT_TYPE.1)?;
    }
    for &(name, value) in answer.cache.fields() {
        header.insert_header(name, value)?;
    }
    header.insert_header(http::header::CONTENT_LENGTH, answer.body.len())?;
    if answer.no_referrer {
        header.insert_header(http::header::REFERRER_POLICY, "no-referrer")?;
    }
    if let Some(location) = answer.location {
        header.insert_header(http::header::LOCATION, location)?;
    }
    if let Some(allow) = answer.allow {
        header.insert_header(http::header::ALLOW, allow)?;
    }
    if let Some(seconds) = answer.retry_after_seconds {
        header.insert_header(http::header::RETRY_AFTER, seconds)?;
    }
    if let Some(challenge) = answer.challenge {
        header.insert_header(http::header::WWW_AUTHENTICATE, &*challenge.header_value())?;
    }
    session
        .write_response_header(Box::new(header), false)
        .await?;
    session.write_response_body(Some(answer.body), true).await
}

/// Serves an OpenID Connect bridge endpoint, its form read within the
/// plan's limits, in the books of `record` (counted under the endpoint's
/// path; never its query or body in a log: they carry codes, states and tokens).
async fn serve_bridge(
    gateway: &TokenGateway,
    session: &mut Session,
    record: &mut RequestRecord,
    bridge: Arc<OidcBridge>,
    endpoint: BridgeEndpoint,
) -> CallerAnswer {
    let method = method_label(session.req_header().method.as_str());
    gateway.admit_endpoint(record, bridge.clone(), endpoint, method);
    let body = if method == "POST" {
        match read_body_within(session, bridge.max_body_bytes, bridge.body_timeout).await {
            Ok(body) => body,
            Err(error) => {
                session.set_keepalive(None);
                return bridge::refuse(error, record);
            }
        }
    } else {
        BytesMut::new()
    };
    record.body_read(body.len());
    let header = session.req_header();
    let text =
        |name: http::header::HeaderName| header.headers.get(name).and_then(|v| v.to_str().ok());
    let request = BridgeRequest {
        method,
        query: header.uri.query().unwrap_or(""),
        body: &body,
        content_type: text(http::header::CONTENT_TYPE),
        authorization: text(http::header::AUTHORIZATION),
    };
    bridge::serve(gateway, &bridge, endpoint, &request, record).await
}
