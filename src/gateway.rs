//! One token request's lifecycle, written once for both front ends (the
//! fast path in `front::front_door` and Pingora's HTTP stack in
//! `front::pingora_front_end`): `begin` a record, `admit` the head, `respond`
//! (read the body, rewrite the form with the pure core, exchange with the
//! provider, shape the answer, or refuse), then `finish` the books. The
//! OpenID Connect bridge's endpoints keep the same books: `admit_endpoint`,
//! then the bridge serves, then `finish`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use tokio::time::Sleep;

use crate::plan::oidc::{BridgeEndpoint, OidcBridge};
use crate::plan::{GatewayPlan, TokenRoute, MAX_HEADER_BYTES};
use crate::telemetry::metrics::{method_label, RouteMetrics, METRICS};
use crate::upstream::exchange::{exchange, ExchangeReport, ProviderConnector};
use quirkgate_core::caller::{caller_address, CallerHeaders, CallerRequest};
use quirkgate_core::http1::encode::{encode_request, ProviderRequest};
use quirkgate_core::http1::fields::header_text;
use quirkgate_core::http1::{CallerAnswer, Challenge};
use quirkgate_core::oauth_error::{OAuthError, Reason};
use quirkgate_core::rewrite::{rewrite, RewrittenRequest};
use quirkgate_core::rules::response::mime_is;

const USER_AGENT: &str = concat!("quirkgate/", env!("CARGO_PKG_VERSION"));

/// The gateway core both front ends share: the plan, the provider
/// connector, and the steps of one request.
pub struct TokenGateway {
    plan: Arc<ArcSwap<GatewayPlan>>,
    connector: ProviderConnector,
}

/// One request's record: what its access-log line and metrics report. The
/// request counts as in flight from `begin` until the record is dropped,
/// whichever way it ends (a connection task dropped mid-exchange included).
pub struct RequestRecord {
    started: Instant,
    served: Served,
    method: &'static str,
    status: u16,
    refusal: Option<Reason>,
    report: ExchangeReport,
    bytes_in: usize,
    bytes_out: usize,
    /// The caller's body was read in full, so its connection can carry another request.
    pub body_consumed: bool,
    _in_flight: InFlight,
}

/// What served a request: whose metrics count it, and its `route` label.
enum Served {
    Unmatched,
    Route(Arc<TokenRoute>),
    /// An OpenID Connect bridge endpoint, counted under its path.
    Endpoint(Arc<OidcBridge>, BridgeEndpoint),
}

impl Served {
    fn metrics(&self) -> &RouteMetrics {
        match self {
            Served::Unmatched => RouteMetrics::unmatched(),
            Served::Route(route) => &route.metrics,
            Served::Endpoint(bridge, endpoint) => bridge.metrics(*endpoint),
        }
    }

    fn name(&self) -> &str {
        match self {
            Served::Unmatched => "unmatched",
            Served::Route(route) => route.name.as_str(),
            Served::Endpoint(..) => self.metrics().label(),
        }
    }
}

impl RequestRecord {
    /// The upstream attempts of every leg the request runs.
    pub fn report(&mut self) -> &mut ExchangeReport {
        &mut self.report
    }

    /// Notes a refusal: counted in `quirkgate_refused_total` (and logged)
    /// when no upstream attempt was made.
    pub fn refused(&mut self, reason: Reason) {
        if self.report.attempts == 0 {
            self.refusal = Some(reason);
            METRICS
                .refused
                .with_label_values(&[self.served.name(), reason.as_str()])
                .inc();
        }
    }

    /// Notes the answer the caller gets.
    pub fn answered(&mut self, answer: &CallerAnswer) {
        self.status = answer.status;
        self.bytes_out = answer.body.len();
    }

    /// Notes a body read in full, `bytes` long.
    pub fn body_read(&mut self, bytes: usize) {
        self.body_consumed = true;
        self.bytes_in = bytes;
    }
}

/// `quirkgate_requests_in_flight`, up while this lives.
struct InFlight;

impl InFlight {
    fn enter() -> Self {
        METRICS.in_flight.inc();
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        METRICS.in_flight.dec();
    }
}

/// A request the route takes: whether its body is a form to read.
pub struct Admitted {
    pub route: Arc<TokenRoute>,
    pub reads_form: bool,
    /// The caller's address, when the route's checks needed it.
    client: Option<std::net::IpAddr>,
}

/// What a front end lends the lifecycle: the caller's body, read when the
/// head was admitted, and its `Authorization` value.
pub trait CallerBody {
    /// Reads the body within the route's size and time limits.
    fn read(&mut self, admitted: &Admitted) -> impl Future<Output = Result<(), BodyError>> + Send;
    /// The body read (the lifecycle uses it only when the route reads a
    /// form), and the raw `Authorization` value.
    fn parts(&self) -> (&[u8], Option<&[u8]>);
}

/// Why a body was not read.
pub enum BodyError {
    /// The caller closed or the read failed: nothing to answer.
    Gone,
    /// Too large for the route, not all there within its `body_timeout`, or unreadable.
    Refused(OAuthError),
}

impl TokenGateway {
    pub fn new(plan: Arc<ArcSwap<GatewayPlan>>, connector: ProviderConnector) -> Self {
        TokenGateway { plan, connector }
    }

    /// The plan a request starts with; it finishes with it even across a reload.
    pub fn plan(&self) -> Arc<GatewayPlan> {
        self.plan.load_full()
    }

    /// Starts the record of one request.
    pub fn begin(&self) -> RequestRecord {
        RequestRecord {
            started: Instant::now(),
            served: Served::Unmatched,
            method: "other",
            status: 0,
            refusal: None,
            report: ExchangeReport::default(),
            bytes_in: 0,
            bytes_out: 0,
            body_consumed: false,
            _in_flight: InFlight::enter(),
        }
    }

    /// Everything settled from the head alone, in order: the route, the head's
    /// size, who may call and how often, the method, the media type.
    pub fn admit<H: CallerHeaders + ?Sized>(
        &self,
        plan: &GatewayPlan,
        request: &CallerRequest<'_, H>,
        record: &mut RequestRecord,
    ) -> Result<Admitted, OAuthError> {
        record.method = method_label(request.method);
        let Some(route) = plan.route(request.path) else {
            return Err(OAuthError::not_found());
        };
        record.served = Served::Route(route.clone());
        if request.headers.wire_bytes() > MAX_HEADER_BYTES {
            return Err(OAuthError::headers_too_large(MAX_HEADER_BYTES));
        }
        let client = (route.admission.access.checks_sources()
            || route.admission.rate_limits.counts_per_client())
        .then(|| caller_address(request.peer, request.headers, &plan.trusted_proxies))
        .flatten();
        route.admission.access.admit(client, request.headers)?;
        route.admission.rate_limits.admit(client)?;
        if !route
            .caller
            .methods
            .iter()
            .any(|m| m.as_str() == request.method)
        {
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
            client,
        })
    }

    /// Answers a request whose head was judged: reads its body, rewrites it,
    /// exchanges it with the provider and shapes the answer; any refusal on
    /// the way becomes an RFC 6749 answer. `None` when the caller went away
    /// before its body arrived. `deadline` is a timer of the front end's,
    /// set here to the route's timeout.
    pub async fn respond(
        &self,
        admitted: Result<Admitted, OAuthError>,
        caller: &mut impl CallerBody,
        record: &mut RequestRecord,
        deadline: Pin<&mut Sleep>,
    ) -> Option<CallerAnswer> {
        let outcome = match admitted {
            Err(error) => Err(error),
            // A fleet-wide rate limit asks the store, so it is decided here, off `admit`.
            Ok(admitted) if admitted.route.admission.rate_limits.is_fleet_wide() => {
                match admitted
                    .route
                    .admission
                    .rate_limits
                    .admit_fleet(admitted.client)
                    .await
                {
                    Err(error) => Err(error),
                    Ok(()) => {
                        self.read_and_forward(admitted, caller, record, deadline)
                            .await?
                    }
                }
            }
            Ok(admitted) => {
                self.read_and_forward(admitted, caller, record, deadline)
                    .await?
            }
        };
        let mut answer = outcome.unwrap_or_else(|error| self.refuse(error, record));
        if answer.status == 401 && answer.challenge.is_none() {
            // RFC 6749 §5.2: challenge with the scheme the caller authenticated with.
            answer.challenge = caller.parts().1.and_then(Challenge::for_authorization);
        }
        record.answered(&answer);
        Some(answer)
    }

    /// Reads an admitted request's body and forwards it; `None` when the caller went away.
    async fn read_and_forward(
        &self,
        admitted: Admitted,
        caller: &mut impl CallerBody,
        record: &mut RequestRecord,
        deadline: Pin<&mut Sleep>,
    ) -> Option<Result<CallerAnswer, OAuthError>> {
        Some(match caller.read(&admitted).await {
            Err(BodyError::Gone) => return None,
            Err(BodyError::Refused(error)) => Err(error),
            Ok(()) => {
                record.body_consumed = true;
                let (body, authorization) = caller.parts();
                let body = if admitted.reads_form { body } else { &[] };
                self.forward(&admitted.route, body, authorization, record, deadline)
                    .await
            }
        })
    }

    /// Rewrites the read request, exchanges it with the provider and shapes the answer.
    async fn forward(
        &self,
        route: &TokenRoute,
        body: &[u8],
        authorization: Option<&[u8]>,
        record: &mut RequestRecord,
        deadline: Pin<&mut Sleep>,
    ) -> Result<CallerAnswer, OAuthError> {
        record.bytes_in = body.len();
        let authorization = match authorization {
            Some(value) => Some(header_text(value).ok_or_else(|| {
                OAuthError::invalid_client("the Authorization header is not readable text")
            })?),
            None => None,
        };
        self.run_route(route, body, authorization, &mut record.report, deadline)
            .await
    }

    /// One exchange through a route: rewrite, send (with the route's retry
    /// rules), shape the answer. The OpenID Connect bridge runs its token
    /// and user-info legs through this too.
    pub async fn run_route(
        &self,
        route: &TokenRoute,
        body: &[u8],
        authorization: Option<&str>,
        report: &mut ExchangeReport,
        deadline: Pin<&mut Sleep>,
    ) -> Result<CallerAnswer, OAuthError> {
        // A corp login (WeCom) answers from its own legs, for callers and bridges alike.
        if let Some(login) = &route.corp_login {
            return crate::corp_login::serve(
                route,
                login,
                &self.connector,
                body,
                authorization,
                report,
                deadline,
            )
            .await;
        }
        let rewritten = rewrite(&route.rewrite.request_rules, body, authorization)?;
        // Serialized once: every attempt sends the same bytes.
        let wire = provider_request(route, &rewritten)?;
        // Held until the exchange ends, whichever way it ends.
        let _slot = route
            .admission
            .access
            .exchange_slots
            .as_ref()
            .map(|slots| slots.try_acquire())
            .transpose()?;
        let answer = exchange(
            route,
            &self.connector,
            &wire,
            rewritten.grant_type.as_deref(),
            report,
            deadline,
        )
        .await?;
        route.rewrite.response.shape(&answer)
    }

    /// Notes a request for an OpenID Connect bridge endpoint: its books are
    /// kept as a route's are, under the endpoint's path.
    pub fn admit_endpoint(
        &self,
        record: &mut RequestRecord,
        bridge: Arc<OidcBridge>,
        endpoint: BridgeEndpoint,
        method: &str,
    ) {
        record.method = method_label(method);
        record.served = Served::Endpoint(bridge, endpoint);
    }

    /// The answer to a refused request; refusals before any upstream attempt are counted.
    fn refuse(&self, mut error: OAuthError, record: &mut RequestRecord) -> CallerAnswer {
        record.refused(error.reason);
        // RFC 6750 §3.1: a refused access token is a 401 with its Bearer
        // challenge, whatever status the provider answered it with.
        let refused_token = error.code == "invalid_token";
        if refused_token {
            error.status = 401;
        }
        let mut answer = CallerAnswer::refusal(&error);
        if refused_token {
            answer.challenge = Some(Challenge::BearerRefused {
                error: "invalid_token",
                description: "the provider refused the access token",
            });
        }
        if error.status == 405 {
            if let Served::Route(route) = &record.served {
                answer.allow = Some(route.caller.allow.clone());
            }
        }
        answer
    }

    /// One access-log line and the request metrics; no parameter or header
    /// value is ever logged. `error` names a failure writing the answer.
    pub fn finish(&self, record: &RequestRecord, error: Option<&str>) {
        let route = record.served.name();
        let method = record.method;
        let elapsed = record.started.elapsed();
        record
            .served
            .metrics()
            .answered(method, record.status, elapsed);
        if !log::log_enabled!(target: "quirkgate::access", log::Level::Info) {
            return;
        }
        log::info!(
            target: "quirkgate::access",
            "route={route} method={method} status={} upstream_status={} duration_ms={:.2} upstream_ms={:.2} attempts={} reused={} bytes_in={} bytes_out={} refused={}{}{}",
            record.status,
            OrDash(record.report.upstream_status),
            elapsed.as_secs_f64() * 1000.0,
            record.report.upstream_elapsed.as_secs_f64() * 1000.0,
            record.report.attempts,
            record.report.reused_connection,
            record.bytes_in,
            record.bytes_out,
            record.refusal.map_or("-", Reason::as_str),
            if error.is_some() { " error=" } else { "" },
            error.unwrap_or(""),
        );
    }

    /// The route a record matched, for Pingora's error lines.
    pub fn route_name(record: &RequestRecord) -> &str {
        record.served.name()
    }
}

/// The provider's request bytes for a rewritten request.
fn provider_request(
    route: &TokenRoute,
    rewritten: &RewrittenRequest<'_>,
) -> Result<bytes::Bytes, OAuthError> {
    let headers: Vec<_> = rewritten
        .headers
        .iter()
        .map(|field| (field.name.decoded(), field.value.decoded()))
        .collect();
    let target = &route.provider.upstream;
    let wire = encode_request(&ProviderRequest {
        method: rewritten.method.as_str(),
        path: &target.path,
        url_query: &target.query,
        rules_query: &rewritten.query,
        authority: &target.authority,
        body: rewritten
            .method
            .has_body()
            .then_some(rewritten.body.as_bytes()),
        content_type: rewritten.body_format.content_type(),
        headers: &headers,
        user_agent: USER_AGENT,
    })
    .map_err(|why| OAuthError::invalid_request(why, Reason::Malformed))?;
    Ok(wire.into())
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
