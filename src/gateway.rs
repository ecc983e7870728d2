//! The gateway core and its Pingora front end. `TokenGateway` holds the steps
//! of one exchange (admit the head, rewrite the form with the pure core,
//! exchange with the provider, shape the answer, keep the books); both front
//! ends, `front_door`'s HTTP/1 fast path and `PingoraFrontEnd` here, call them.
//! Pingora writes a response header before it has seen the body, so a
//! provider's "200 with an error inside" could not be turned into a 400 on the
//! streaming proxy path; the exchange is therefore buffered, on Pingora's own
//! pooled connector.

use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use pingora::http::ResponseHeader;
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorType, Result};
use pingora_proxy::{ProxyHttp, Session};
use tokio::time::Sleep;

use crate::core::caller::{caller_address, header_text, CallerHeaders, CallerRequest};
use crate::core::oauth_error::OAuthError;
use crate::core::rewrite::{rewrite, RewrittenRequest};
use crate::core::rules::request::UpstreamMethod;
use crate::core::rules::response::{mime_is, ProviderAnswer};
use crate::plan::{GatewayPlan, TokenRoute, MAX_HEADER_BYTES};
use crate::telemetry::metrics::{method_label, RouteMetrics, METRICS};
use crate::upstream::exchange::{exchange, ExchangeReport, ProviderConnector};
use crate::upstream::provider_wire::push_field;

const USER_AGENT: &str = concat!("quirkgate/", env!("CARGO_PKG_VERSION"));

/// The gateway core both front ends share: the plan, the upstream connector,
/// and the steps of one token exchange.
pub struct TokenGateway {
    plan: Arc<ArcSwap<GatewayPlan>>,
    connector: ProviderConnector,
}

/// Per-request state: what the access log and metrics report.
pub struct ExchangeCtx {
    started: Instant,
    route: Option<Arc<TokenRoute>>,
    method: &'static str,
    status: u16,
    refusal: Option<&'static str>,
    report: ExchangeReport,
    bytes_in: usize,
    bytes_out: usize,
    /// The caller's body was read in full, so its connection can carry another request.
    pub body_consumed: bool,
}

/// The answer to write: status, JSON body and any extra header.
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
    pub allow: Option<String>,
    pub retry_after_seconds: Option<u32>,
}

/// A request the route takes: whether its body is a form to read.
pub struct Admitted {
    pub route: Arc<TokenRoute>,
    pub reads_form: bool,
}

impl TokenGateway {
    pub fn new(plan: Arc<ArcSwap<GatewayPlan>>, connector: ProviderConnector) -> Self {
        TokenGateway { plan, connector }
    }

    /// The plan an exchange starts with; it finishes with it even across a reload.
    pub fn plan(&self) -> Arc<GatewayPlan> {
        self.plan.load_full()
    }

    /// Starts the books on one request.
    pub fn begin(&self) -> ExchangeCtx {
        METRICS.in_flight.inc();
        ExchangeCtx {
            started: Instant::now(),
            route: None,
            method: "other",
            status: 0,
            refusal: None,
            report: ExchangeReport::default(),
            bytes_in: 0,
            bytes_out: 0,
            body_consumed: false,
        }
    }

    /// Everything settled from the head alone, in order: the route, the head's
    /// size, who may call and how often, the method, the media type.
    pub fn admit<H: CallerHeaders + ?Sized>(
        &self,
        plan: &GatewayPlan,
        request: &CallerRequest<'_, H>,
        ctx: &mut ExchangeCtx,
    ) -> Result<Admitted, OAuthError> {
        ctx.method = method_label(request.method);
        let Some(route) = plan.route(request.path) else {
            return Err(OAuthError::not_found());
        };
        ctx.route = Some(route.clone());
        if request.headers.wire_bytes() > MAX_HEADER_BYTES {
            return Err(OAuthError::headers_too_large(MAX_HEADER_BYTES));
        }
        let client = route
            .access
            .needs_client_address()
            .then(|| caller_address(request.peer, request.headers, &plan.trusted_proxies))
            .flatten();
        route.access.admit(client, request.headers)?;
        if !route.methods.iter().any(|m| m.as_str() == request.method) {
            return Err(OAuthError::method_not_allowed());
        }
        let reads_form = route.reads_form() && request.method == "POST";
        if reads_form
            && !request
                .headers
                .value("content-type")
                .and_then(header_text)
                .is_some_and(|ct| mime_is(ct, "application/x-www-form-urlencoded"))
        {
            return Err(OAuthError::unsupported_media_type());
        }
        Ok(Admitted {
            route: route.clone(),
            reads_form,
        })
    }

    /// Rewrites the read request, exchanges it with the provider and shapes the answer.
    /// `deadline` is a timer of the caller's, set here to the route's timeout.
    pub async fn forward(
        &self,
        route: &TokenRoute,
        body: &[u8],
        authorization: Option<&[u8]>,
        ctx: &mut ExchangeCtx,
        deadline: Pin<&mut Sleep>,
    ) -> Result<Answer, OAuthError> {
        ctx.body_consumed = true;
        ctx.bytes_in = body.len();
        let authorization = match authorization {
            Some(value) => Some(header_text(value).ok_or_else(|| {
                OAuthError::invalid_client("the Authorization header is not readable text")
            })?),
            None => None,
        };
        let rewritten = rewrite(&route.request_rules, body, authorization)?;
        // Serialized once: every attempt sends the same bytes.
        let wire = upstream_request(route, &rewritten)?;
        // Held until the exchange ends, whichever way it ends.
        let _slot = route
            .access
            .exchange_slots
            .as_ref()
            .map(|slots| slots.try_acquire())
            .transpose()?;
        let reply = exchange(
            route,
            &self.connector,
            &wire,
            rewritten.grant_type.as_deref(),
            &mut ctx.report,
            deadline,
        )
        .await?;
        let answer = ProviderAnswer {
            status: reply.status,
            content_type: reply
                .content_type
                .as_deref()
                .and_then(|value| std::str::from_utf8(value).ok()),
            body: &reply.body,
        };
        let shaped = route.response.shape(&answer, &reply.body)?;
        Ok(Answer {
            status: shaped.status,
            body: shaped.body,
            allow: None,
            retry_after_seconds: None,
        })
    }

    /// The answer to a refused request; refusals before any upstream attempt are counted.
    pub fn refuse(&self, error: OAuthError, ctx: &mut ExchangeCtx) -> Answer {
        if ctx.report.attempts == 0 {
            ctx.refusal = Some(error.reason);
            let route = ctx.route.as_ref().map_or("unmatched", |r| r.name.as_str());
            METRICS
                .refused
                .with_label_values(&[route, error.reason])
                .inc();
        }
        Answer {
            status: error.status,
            body: error.to_json().into(),
            allow: (error.status == 405)
                .then(|| ctx.route.as_ref().map(|r| r.allow.clone()))
                .flatten(),
            retry_after_seconds: error.retry_after_seconds,
        }
    }

    /// Notes the answer about to be written.
    pub fn answered(&self, answer: &Answer, ctx: &mut ExchangeCtx) {
        ctx.status = answer.status;
        ctx.bytes_out = answer.body.len();
    }

    /// One access-log line and the request metrics; no parameter or header
    /// value is ever logged. `error` names a failure writing the answer.
    pub fn finish(&self, ctx: &ExchangeCtx, error: Option<&str>) {
        METRICS.in_flight.dec();
        let route = ctx.route.as_ref().map_or("unmatched", |r| r.name.as_str());
        let method = ctx.method;
        let elapsed = ctx.started.elapsed();
        ctx.route
            .as_ref()
            .map_or(RouteMetrics::unmatched(), |r| &r.metrics)
            .answered(method, ctx.status, elapsed);
        if !log::log_enabled!(target: "quirkgate::core::access", log::Level::Info) {
            return;
        }
        log::info!(
            target: "quirkgate::core::access",
            "route={route} method={method} status={} upstream_status={} duration_ms={:.2} upstream_ms={:.2} attempts={} reused={} bytes_in={} bytes_out={} refused={}{}{}",
            ctx.status,
            OrDash(ctx.report.upstream_status),
            elapsed.as_secs_f64() * 1000.0,
            ctx.report.upstream_elapsed.as_secs_f64() * 1000.0,
            ctx.report.attempts,
            ctx.report.reused_connection,
            ctx.bytes_in,
            ctx.bytes_out,
            ctx.refusal.unwrap_or("-"),
            if error.is_some() { " error=" } else { "" },
            error.unwrap_or(""),
        );
    }
}

/// The Pingora front end: HTTP/2 callers, and the HTTP/1 requests the fast
/// path hands over (chunked bodies, HTTP/1.0, `Expect`, odd framing), go
/// through Pingora's own HTTP stack. `request_filter` answers every request.
pub struct PingoraFrontEnd {
    pub gateway: Arc<TokenGateway>,
}

#[async_trait]
impl ProxyHttp for PingoraFrontEnd {
    type CTX = ExchangeCtx;

    fn new_ctx(&self) -> ExchangeCtx {
        self.gateway.begin()
    }

    /// Handles the whole exchange and answers; nothing reaches Pingora's proxy path.
    async fn request_filter(&self, session: &mut Session, ctx: &mut ExchangeCtx) -> Result<bool> {
        // RFC 9112 §9.3.2: pipelined requests are answered in order, not dropped with the connection.
        session.set_pipelining_enabled(true);
        let plan = self.gateway.plan();
        // Idle keep-alive callers are closed after this. Only shortens a keep-alive Pingora
        // already granted: HTTP/1.0 and ambiguous framing (Content-Length with
        // Transfer-Encoding) stay closed. Refusals below may close at once instead.
        if session.get_keepalive().is_some() {
            session.set_keepalive(Some(plan.client_idle_timeout_secs));
        }
        let answer = match self.handle(session, &plan, ctx).await {
            Ok(answer) => answer,
            Err(error) => {
                // A refusal before the body was read leaves unread bytes on the connection.
                if !ctx.body_consumed {
                    session.set_keepalive(None);
                }
                self.gateway.refuse(error, ctx)
            }
        };
        self.gateway.answered(&answer, ctx);
        write_answer(session, answer).await?;
        Ok(true)
    }

    /// Never reached: every request is answered in `request_filter`.
    async fn upstream_peer(
        &self,
        _session: &mut Session,
        _ctx: &mut ExchangeCtx,
    ) -> Result<Box<HttpPeer>> {
        Error::e_explain(
            ErrorType::InternalError,
            "quirkgate answers every request in request_filter",
        )
    }

    async fn logging(&self, _session: &mut Session, error: Option<&Error>, ctx: &mut ExchangeCtx) {
        self.gateway.finish(ctx, error.map(|e| e.etype().as_str()));
    }

    /// Pingora's error lines name the route and method only: never a URI with a query.
    fn request_summary(&self, session: &Session, ctx: &ExchangeCtx) -> String {
        let route = ctx.route.as_ref().map_or("unmatched", |r| r.name.as_str());
        format!(
            "{} route={route}",
            method_label(session.req_header().method.as_str())
        )
    }
}

impl PingoraFrontEnd {
    async fn handle(
        &self,
        session: &mut Session,
        plan: &GatewayPlan,
        ctx: &mut ExchangeCtx,
    ) -> Result<Answer, OAuthError> {
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
        let admitted = self.gateway.admit(plan, &request, ctx)?;
        let body = if admitted.reads_form {
            read_body(session, &admitted.route).await?
        } else {
            BytesMut::new()
        };
        let authorization = session
            .req_header()
            .headers
            .get(http::header::AUTHORIZATION)
            .map(http::HeaderValue::as_bytes);
        let deadline = std::pin::pin!(tokio::time::sleep(admitted.route.timeout));
        self.gateway
            .forward(&admitted.route, &body, authorization, ctx, deadline)
            .await
    }
}

/// A log field that prints `-` when absent, without building a String per request.
struct OrDash(Option<u16>);

impl std::fmt::Display for OrDash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(value) => write!(f, "{value}"),
            None => f.write_str("-"),
        }
    }
}

/// Reads the whole form body within `body_timeout`, refusing it past `max_body_bytes`.
async fn read_body(session: &mut Session, route: &TokenRoute) -> Result<BytesMut, OAuthError> {
    let declared = session
        .req_header()
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|len| len > route.max_body_bytes) {
        return Err(OAuthError::body_too_large(route.max_body_bytes));
    }
    let deadline = tokio::time::Instant::now() + route.body_timeout;
    let mut body = BytesMut::with_capacity(declared.unwrap_or(1024).min(route.max_body_bytes));
    loop {
        match tokio::time::timeout_at(deadline, session.read_request_body()).await {
            Err(_) => {
                return Err(OAuthError::body_timeout());
            }
            Ok(Err(_)) => {
                return Err(OAuthError::invalid_request(
                    "the request body could not be read",
                    "malformed",
                ));
            }
            Ok(Ok(None)) => return Ok(body),
            Ok(Ok(Some(chunk))) => {
                if body.len() + chunk.len() > route.max_body_bytes {
                    return Err(OAuthError::body_too_large(route.max_body_bytes));
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
}

/// The provider's request, head and body: its own Host, an exact
/// Content-Length, JSON asked for, then whatever headers the rules produced
/// (a rule's header replaces a default of the same name, and the last of a
/// name wins). Values that would split the message are refused.
fn upstream_request(
    route: &TokenRoute,
    rewritten: &RewrittenRequest<'_>,
) -> Result<Bytes, OAuthError> {
    let target = &route.upstream;
    let body = rewritten.body.as_bytes();
    let mut wire = Vec::with_capacity(256 + target.path.len() + rewritten.query.len() + body.len());
    wire.extend_from_slice(rewritten.method.as_str().as_bytes());
    wire.push(b' ');
    let target_start = wire.len();
    wire.extend_from_slice(target.path.as_bytes());
    if !target.query.is_empty() || !rewritten.query.is_empty() {
        wire.push(b'?');
        wire.extend_from_slice(target.query.as_bytes());
        if !target.query.is_empty() && !rewritten.query.is_empty() {
            wire.push(b'&');
        }
        wire.extend_from_slice(rewritten.query.as_bytes());
    }
    if !wire[target_start..].iter().all(|b| b.is_ascii_graphic()) {
        return Err(OAuthError::invalid_request(
            "the rewritten request line is not valid HTTP",
            "malformed",
        ));
    }
    wire.extend_from_slice(b" HTTP/1.1\r\n");
    let bad = || OAuthError::invalid_request("a header is not allowed in HTTP", "malformed");
    if !push_field(&mut wire, b"Host", target.authority.as_bytes()) {
        return Err(bad());
    }
    if rewritten.method == UpstreamMethod::Post {
        // Writing to a Vec cannot fail.
        let _ = write!(
            wire,
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        );
    }
    let from_rules = |name: &str| {
        rewritten
            .headers
            .iter()
            .any(|field| field.name.decoded().eq_ignore_ascii_case(name))
    };
    if !from_rules("accept") {
        wire.extend_from_slice(b"Accept: application/json\r\n");
    }
    if !from_rules("user-agent") {
        push_field(&mut wire, b"User-Agent", USER_AGENT.as_bytes());
    }
    for (index, field) in rewritten.headers.iter().enumerate() {
        let name = field.name.decoded();
        let replaced_later = rewritten.headers[index + 1..]
            .iter()
            .any(|later| later.name.decoded().eq_ignore_ascii_case(&name));
        if !replaced_later
            && !push_field(&mut wire, name.as_bytes(), field.value.decoded().as_bytes())
        {
            return Err(bad());
        }
    }
    wire.extend_from_slice(b"\r\n");
    wire.extend_from_slice(body);
    Ok(wire.into())
}

async fn write_answer(session: &mut Session, answer: Answer) -> Result<()> {
    let mut header = ResponseHeader::build(answer.status, Some(6))?;
    header.insert_header(http::header::CONTENT_TYPE, "application/json;charset=UTF-8")?;
    header.insert_header(http::header::CONTENT_LENGTH, answer.body.len())?;
    // RFC 6749 §5.1: token answers must never be cached.
    header.insert_header(http::header::CACHE_CONTROL, "no-store")?;
    header.insert_header(http::header::PRAGMA, "no-cache")?;
    if let Some(allow) = answer.allow {
        header.insert_header(http::header::ALLOW, allow)?;
    }
    if let Some(seconds) = answer.retry_after_seconds {
        header.insert_header(http::header::RETRY_AFTER, seconds)?;
    }
    session
        .write_response_header(Box::new(header), false)
        .await?;
    session.write_response_body(Some(answer.body), true).await
}
