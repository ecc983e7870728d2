//! The thin Pingora adapter: one `ProxyHttp` whose `request_filter` routes,
//! validates and rewrites the caller's request with the pure core, runs the
//! upstream exchange, and answers. Pingora writes a response header before it
//! has seen the body, so a provider's "200 with an error inside" could not be
//! turned into a 400 on the streaming proxy path; the exchange is therefore
//! buffered here, on Pingora's own pooled connector.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use pingora::connectors::TransportConnector;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::protocols::http::v1::client::http_req_header_to_wire;
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorType, Result};
use pingora_proxy::{ProxyHttp, Session};

use crate::cidr::{client_address, Cidr};
use crate::exchange::{exchange, ExchangeReport};
use crate::metrics::{method_label, status_label, METRICS};
use crate::oauth_error::OAuthError;
use crate::plan::{GatewayPlan, TokenRoute, MAX_HEADER_BYTES};
use crate::rewrite::{rewrite, RewrittenRequest};
use crate::rules::request::UpstreamMethod;
use crate::rules::response::{mime_is, ProviderAnswer};

const USER_AGENT: &str = concat!("quirkgate/", env!("CARGO_PKG_VERSION"));

/// The token gateway service.
pub struct TokenGateway {
    plan: Arc<ArcSwap<GatewayPlan>>,
    transport: TransportConnector,
}

impl TokenGateway {
    pub fn new(plan: Arc<ArcSwap<GatewayPlan>>, transport: TransportConnector) -> Self {
        TokenGateway { plan, transport }
    }
}

/// Per-request state: what the access log and metrics report.
pub struct ExchangeCtx {
    started: Instant,
    route: Option<Arc<TokenRoute>>,
    status: u16,
    refusal: Option<&'static str>,
    report: ExchangeReport,
    bytes_in: usize,
    bytes_out: usize,
    /// The caller's body was read in full, so its connection can carry another request.
    body_consumed: bool,
}

/// The answer to write: status, JSON body and any extra header.
struct Answer {
    status: u16,
    body: Bytes,
    allow: Option<String>,
    retry_after_seconds: Option<u32>,
}

impl Answer {
    fn from_error(error: &OAuthError) -> Self {
        Answer {
            status: error.status,
            body: error.to_json().into(),
            allow: None,
            retry_after_seconds: error.retry_after_seconds,
        }
    }
}

#[async_trait]
impl ProxyHttp for TokenGateway {
    type CTX = ExchangeCtx;

    fn new_ctx(&self) -> ExchangeCtx {
        ExchangeCtx {
            started: Instant::now(),
            route: None,
            status: 0,
            refusal: None,
            report: ExchangeReport::default(),
            bytes_in: 0,
            bytes_out: 0,
            body_consumed: false,
        }
    }

    /// Handles the whole exchange and answers; nothing reaches Pingora's proxy path.
    async fn request_filter(&self, session: &mut Session, ctx: &mut ExchangeCtx) -> Result<bool> {
        METRICS.in_flight.inc();
        ctx.started = Instant::now();
        // RFC 9112 §9.3.2: pipelined requests are answered in order, not dropped with the connection.
        session.set_pipelining_enabled(true);
        // The plan this exchange starts with is the one it finishes with, even across a reload.
        let plan = self.plan.load_full();
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
                if ctx.report.attempts == 0 {
                    ctx.refusal = Some(error.reason);
                    let route = ctx.route.as_ref().map_or("unmatched", |r| r.name.as_str());
                    METRICS
                        .refused
                        .with_label_values(&[route, error.reason])
                        .inc();
                }
                let mut answer = Answer::from_error(&error);
                if error.status == 405 {
                    answer.allow = ctx.route.as_ref().map(|r| r.allow.clone());
                }
                answer
            }
        };
        ctx.status = answer.status;
        ctx.bytes_out = answer.body.len();
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

    /// One access-log line and the request metrics; no parameter or header value is ever logged.
    async fn logging(&self, session: &mut Session, error: Option<&Error>, ctx: &mut ExchangeCtx) {
        METRICS.in_flight.dec();
        let route = ctx.route.as_ref().map_or("unmatched", |r| r.name.as_str());
        let method = method_label(&session.req_header().method);
        let elapsed = ctx.started.elapsed();
        METRICS
            .requests
            .with_label_values(&[route, method, status_label(ctx.status)])
            .inc();
        METRICS
            .request_duration
            .with_label_values(&[route])
            .observe(elapsed.as_secs_f64());
        log::info!(
            target: "quirkgate::access",
            "route={route} method={method} status={} upstream_status={} duration_ms={:.2} upstream_ms={:.2} attempts={} reused={} bytes_in={} bytes_out={} refused={}{}",
            ctx.status,
            OrDash(ctx.report.upstream_status),
            elapsed.as_secs_f64() * 1000.0,
            ctx.report.upstream_elapsed.as_secs_f64() * 1000.0,
            ctx.report.attempts,
            ctx.report.reused_connection,
            ctx.bytes_in,
            ctx.bytes_out,
            ctx.refusal.unwrap_or("-"),
            error.map_or(String::new(), |e| format!(" error={}", e.etype().as_str())),
        );
    }

    /// Pingora's error lines name the route and method only: never a URI with a query.
    fn request_summary(&self, session: &Session, ctx: &ExchangeCtx) -> String {
        let route = ctx.route.as_ref().map_or("unmatched", |r| r.name.as_str());
        format!(
            "{} route={route}",
            method_label(&session.req_header().method)
        )
    }
}

impl TokenGateway {
    async fn handle(
        &self,
        session: &mut Session,
        plan: &GatewayPlan,
        ctx: &mut ExchangeCtx,
    ) -> Result<Answer, OAuthError> {
        let Some(route) = plan.route(session.req_header().uri.path()) else {
            return Err(OAuthError::not_found());
        };
        let route = route.clone();
        ctx.route = Some(route.clone());
        if header_bytes(session.req_header()) > MAX_HEADER_BYTES {
            return Err(OAuthError::headers_too_large(MAX_HEADER_BYTES));
        }
        // Who may call, and how often, is settled before anything else is read.
        let client = route
            .access
            .needs_client_address()
            .then(|| caller_address(session, &plan.trusted_proxies))
            .flatten();
        route.access.admit(client, &session.req_header().headers)?;
        let method = &session.req_header().method;
        if !route.methods.contains(method) {
            return Err(OAuthError::method_not_allowed());
        }
        let body = if route.reads_form() && *method == http::Method::POST {
            let content_type = session.req_header().headers.get(http::header::CONTENT_TYPE);
            if !content_type
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| mime_is(ct, "application/x-www-form-urlencoded"))
            {
                return Err(OAuthError::unsupported_media_type());
            }
            read_body(session, &route).await?
        } else {
            BytesMut::new()
        };
        ctx.body_consumed = true;
        ctx.bytes_in = body.len();
        let authorization = match session
            .req_header()
            .headers
            .get(http::header::AUTHORIZATION)
        {
            Some(value) => Some(value.to_str().map_err(|_| {
                OAuthError::invalid_client("the Authorization header is not readable text")
            })?),
            None => None,
        };
        let rewritten = rewrite(&route.request_rules, &body, authorization)?;
        let header = upstream_header(&route, &rewritten)?;
        // Serialized once: every attempt sends the same bytes.
        let mut wire = http_req_header_to_wire(&header).ok_or_else(|| {
            OAuthError::invalid_request("the rewritten request is not valid HTTP", "malformed")
        })?;
        wire.extend_from_slice(rewritten.body.as_bytes());
        let wire = wire.freeze();
        // Held until the exchange ends, whichever way it ends.
        let _slot = route
            .access
            .exchange_slots
            .as_ref()
            .map(|slots| slots.try_acquire())
            .transpose()?;
        let reply = exchange(
            &route,
            &self.transport,
            &wire,
            rewritten.grant_type.as_deref(),
            &mut ctx.report,
        )
        .await?;
        let answer = ProviderAnswer {
            status: reply.status,
            content_type: reply.content_type.as_deref(),
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

/// Size of the request's header fields as received (names, values, `: ` and CRLF).
fn header_bytes(header: &RequestHeader) -> usize {
    header
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum()
}

/// The TCP peer, or the caller it forwards for when it is a trusted proxy;
/// `None` when unknown (a Unix socket, an unreadable forwarded hop).
fn caller_address(session: &Session, trusted_proxies: &[Cidr]) -> Option<IpAddr> {
    let peer = session.client_addr()?.as_inet()?.ip();
    let forwarded = session
        .req_header()
        .headers
        .get_all("x-forwarded-for")
        .iter()
        // Not text is not an address: the hop, if it must be read, makes the caller unknown.
        .map(|value| value.to_str().unwrap_or("?"));
    client_address(peer, forwarded, trusted_proxies)
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

/// The provider's request header: its own Host, an exact Content-Length, JSON
/// asked for, then whatever headers the rules produced.
fn upstream_header(
    route: &TokenRoute,
    rewritten: &RewrittenRequest<'_>,
) -> Result<RequestHeader, OAuthError> {
    let target = &route.upstream;
    let mut path =
        String::with_capacity(target.path.len() + target.query.len() + rewritten.query.len() + 2);
    path.push_str(&target.path);
    if !target.query.is_empty() || !rewritten.query.is_empty() {
        path.push('?');
        path.push_str(&target.query);
        if !target.query.is_empty() && !rewritten.query.is_empty() {
            path.push('&');
        }
        path.push_str(&rewritten.query);
    }
    let bad = |_| OAuthError::invalid_request("a header value is not allowed in HTTP", "malformed");
    let mut header = RequestHeader::build(
        rewritten.method.as_str(),
        path.as_bytes(),
        Some(6 + rewritten.headers.len()),
    )
    .map_err(|_| {
        OAuthError::invalid_request("the rewritten request line is not valid HTTP", "malformed")
    })?;
    header
        .insert_header(http::header::HOST, target.authority.as_str())
        .map_err(bad)?;
    if rewritten.method == UpstreamMethod::Post {
        header
            .insert_header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .map_err(bad)?;
        header
            .insert_header(http::header::CONTENT_LENGTH, rewritten.body.len())
            .map_err(bad)?;
    }
    header
        .insert_header(http::header::ACCEPT, "application/json")
        .map_err(bad)?;
    header
        .insert_header(http::header::USER_AGENT, USER_AGENT)
        .map_err(bad)?;
    for field in &rewritten.headers {
        let name = http::HeaderName::from_bytes(field.name.decoded().as_bytes()).map_err(|_| {
            OAuthError::invalid_request("a header name is not allowed in HTTP", "malformed")
        })?;
        header
            .insert_header(name, field.value.decoded().as_ref())
            .map_err(bad)?;
    }
    Ok(header)
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
