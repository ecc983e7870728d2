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

use crate::bridge::{self, BridgeAnswer, BridgeRequest};
use crate::gateway::{Admitted, BodyError, CallerBody, RequestRecord, TokenGateway};
use crate::plan::oidc::{BridgeEndpoint, OidcBridge};
use crate::plan::TokenRoute;
use crate::telemetry::metrics::{method_label, METRICS};
use quirkgate_core::caller::CallerRequest;
use quirkgate_core::http1::encode::ANSWER_HEADERS;
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
            TokenGateway::hand_to_bridge(record);
            serve_bridge(&self.gateway, session, &bridge, endpoint).await?;
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
    read_body_within(session, route.max_body_bytes, route.body_timeout).await
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

async fn write_answer(session: &mut Session, answer: CallerAnswer) -> Result<()> {
    let mut header = ResponseHeader::build(answer.status, Some(6))?;
    for (name, value) in ANSWER_HEADERS {
        header.insert_header(name, value)?;
    }
    header.insert_header(http::header::CONTENT_LENGTH, answer.body.len())?;
    if let Some(allow) = answer.allow {
        header.insert_header(http::header::ALLOW, allow)?;
    }
    if let Some(seconds) = answer.retry_after_seconds {
        header.insert_header(http::header::RETRY_AFTER, seconds)?;
    }
    if let Some(challenge) = answer.challenge {
        header.insert_header(http::header::WWW_AUTHENTICATE, challenge.header_value())?;
    }
    session
        .write_response_header(Box::new(header), false)
        .await?;
    session.write_response_body(Some(answer.body), true).await
}

/// Largest form a bridge endpoint reads: token and authorize forms are small.
const BRIDGE_MAX_BODY_BYTES: usize = 16 * 1024;
const BRIDGE_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves an OpenID Connect bridge endpoint, counts it under the endpoint's
/// path and writes its access-log line (never its query or body: they carry
/// codes, states and tokens).
async fn serve_bridge(
    gateway: &TokenGateway,
    session: &mut Session,
    bridge: &OidcBridge,
    endpoint: BridgeEndpoint,
) -> Result<()> {
    let started = std::time::Instant::now();
    let method = method_label(session.req_header().method.as_str());
    let body = if method == "POST" {
        read_body_within(session, BRIDGE_MAX_BODY_BYTES, BRIDGE_BODY_TIMEOUT).await
    } else {
        Ok(BytesMut::new())
    };
    let header = session.req_header();
    let text =
        |name: http::header::HeaderName| header.headers.get(name).and_then(|v| v.to_str().ok());
    let answer = match &body {
        Ok(body) => {
            let request = BridgeRequest {
                method,
                query: header.uri.query().unwrap_or(""),
                body,
                content_type: text(http::header::CONTENT_TYPE),
                authorization: text(http::header::AUTHORIZATION),
            };
            bridge::serve(gateway, bridge, endpoint, &request).await
        }
        Err(error) => BridgeAnswer::error(error.clone()),
    };
    if body.is_err() {
        session.set_keepalive(None);
    }
    let path = bridge.endpoint_path(endpoint);
    if let (Some(reason), 0) = (answer.refusal, answer.attempts) {
        METRICS
            .refused
            .with_label_values(&[&path, reason.as_str()])
            .inc();
    }
    let mut head = ResponseHeader::build(answer.status, Some(6))?;
    header_pairs(&mut head, &answer)?;
    session.write_response_header(Box::new(head), false).await?;
    let written = session
        .write_response_body(Some(answer.body.clone()), true)
        .await;
    let elapsed = started.elapsed();
    bridge
        .metrics(endpoint)
        .answered(method, answer.status, elapsed);
    log::info!(
        target: "quirkgate::access",
        "route={path} method={method} status={} duration_ms={:.2} attempts={} refused={}{}",
        answer.status,
        elapsed.as_secs_f64() * 1000.0,
        answer.attempts,
        answer.refusal.map_or("-", |r| r.as_str()),
        if written.is_err() { " error=WriteError" } else { "" },
    );
    written
}

fn header_pairs(head: &mut ResponseHeader, answer: &BridgeAnswer) -> Result<()> {
    head.insert_header(http::header::CONTENT_LENGTH, answer.body.len())?;
    if !answer.body.is_empty() || answer.location.is_none() {
        head.insert_header(http::header::CONTENT_TYPE, "application/json")?;
    }
    head.insert_header(http::header::CACHE_CONTROL, answer.cache_control)?;
    if answer.cache_control.starts_with("public") {
        // Discovery and JWKS are public documents browser-based relying parties fetch too.
        head.insert_header(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")?;
    }
    if answer.cache_control == "no-store" {
        head.insert_header(http::header::PRAGMA, "no-cache")?;
    }
    head.insert_header("referrer-policy", "no-referrer")?;
    if let Some(location) = &answer.location {
        head.insert_header(http::header::LOCATION, location.as_str())?;
    }
    if let Some(challenge) = &answer.challenge {
        head.insert_header(http::header::WWW_AUTHENTICATE, challenge.as_str())?;
    }
    if let Some(allow) = answer.allow {
        head.insert_header(http::header::ALLOW, allow)?;
    }
    Ok(())
}
