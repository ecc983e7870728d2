//! The one error type every refusal goes through: it knows its HTTP status and
//! its RFC 6749 §5.2 `error` code, and renders the JSON body callers parse.

use std::borrow::Cow;
use std::fmt;

/// Why a request was refused or failed: the closed set of values the
/// `reason` label of `quirkgate_refused_total` (and the access log's
/// `refused=`) can take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    NotFound,
    Method,
    ContentType,
    TooLarge,
    HeadersTooLarge,
    BodyTimeout,
    Malformed,
    Conflict,
    MissingParam,
    NoCredentials,
    SharedSecret,
    ClientNotAllowed,
    Source,
    RateLimited,
    Overloaded,
    /// A `redirect_uri` the OIDC bridge may not send users to.
    RedirectUri,
    /// An OIDC bridge seal (state, code) that is altered, foreign or expired,
    /// or a code whose client, `redirect_uri` or PKCE verifier does not match.
    InvalidGrant,
    /// The provider refused the grant (an OAuth error in its answer).
    ProviderError,
    /// The provider answered without a JSON object.
    NotJson,
    /// The provider could not be reached or broke the exchange.
    Upstream(FailureKind),
}

impl Reason {
    /// Every reason a refusal before any upstream attempt can carry.
    pub const REFUSALS: [Reason; 17] = [
        Reason::NotFound,
        Reason::Method,
        Reason::ContentType,
        Reason::TooLarge,
        Reason::HeadersTooLarge,
        Reason::BodyTimeout,
        Reason::Malformed,
        Reason::Conflict,
        Reason::MissingParam,
        Reason::NoCredentials,
        Reason::SharedSecret,
        Reason::ClientNotAllowed,
        Reason::Source,
        Reason::RateLimited,
        Reason::Overloaded,
        Reason::RedirectUri,
        Reason::InvalidGrant,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NotFound => "not_found",
            Reason::Method => "method",
            Reason::ContentType => "content_type",
            Reason::TooLarge => "too_large",
            Reason::HeadersTooLarge => "headers_too_large",
            Reason::BodyTimeout => "body_timeout",
            Reason::Malformed => "malformed",
            Reason::Conflict => "conflict",
            Reason::MissingParam => "missing_param",
            Reason::NoCredentials => "no_credentials",
            Reason::SharedSecret => "shared_secret",
            Reason::ClientNotAllowed => "client_not_allowed",
            Reason::Source => "source",
            Reason::RateLimited => "rate_limited",
            Reason::Overloaded => "overloaded",
            Reason::RedirectUri => "redirect_uri",
            Reason::InvalidGrant => "invalid_grant",
            Reason::ProviderError => "provider_error",
            Reason::NotJson => "not_json",
            Reason::Upstream(kind) => kind.as_str(),
        }
    }
}

/// How an upstream attempt failed: the `kind` label of
/// `quirkgate_upstream_errors_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureKind {
    Connect,
    Tls,
    Timeout,
    Reset,
    Protocol,
    Resolve,
}

impl FailureKind {
    pub const ALL: [FailureKind; 6] = [
        FailureKind::Connect,
        FailureKind::Tls,
        FailureKind::Timeout,
        FailureKind::Reset,
        FailureKind::Protocol,
        FailureKind::Resolve,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Connect => "connect",
            FailureKind::Tls => "tls",
            FailureKind::Timeout => "timeout",
            FailureKind::Reset => "reset",
            FailureKind::Protocol => "protocol",
            FailureKind::Resolve => "resolve",
        }
    }
}

/// An error answered to the caller as `{"error": …, "error_description": …}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    pub status: u16,
    pub code: Cow<'static, str>,
    pub description: Cow<'static, str>,
    /// Why, as a bounded metric label: never caller data.
    pub reason: Reason,
    /// `Retry-After` seconds for refusals that pass with time (rate limit, overload).
    pub retry_after_seconds: Option<u32>,
}

impl OAuthError {
    pub fn new(
        status: u16,
        code: impl Into<Cow<'static, str>>,
        description: impl Into<Cow<'static, str>>,
        reason: Reason,
    ) -> Self {
        OAuthError {
            status,
            code: code.into(),
            description: description.into(),
            reason,
            retry_after_seconds: None,
        }
    }

    pub fn invalid_request(description: impl Into<Cow<'static, str>>, reason: Reason) -> Self {
        Self::new(400, "invalid_request", description, reason)
    }

    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(401, "invalid_client", description, Reason::NoCredentials)
    }

    pub fn not_found() -> Self {
        Self::new(
            404,
            "invalid_request",
            "no token route at this path",
            Reason::NotFound,
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "invalid_request",
            "token requests must use POST",
            Reason::Method,
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            415,
            "invalid_request",
            "token requests must be application/x-www-form-urlencoded",
            Reason::ContentType,
        )
    }

    pub fn body_too_large(limit: usize) -> Self {
        Self::new(
            413,
            "invalid_request",
            format!("request body exceeds {limit} bytes"),
            Reason::TooLarge,
        )
    }

    pub fn headers_too_large(limit: usize) -> Self {
        Self::new(
            431,
            "invalid_request",
            format!("request headers exceed {limit} bytes"),
            Reason::HeadersTooLarge,
        )
    }

    pub fn body_timeout() -> Self {
        Self::new(
            408,
            "invalid_request",
            "request body was not received in time",
            Reason::BodyTimeout,
        )
    }

    /// The caller's address is outside the route's `allow_sources`.
    pub fn access_denied() -> Self {
        Self::new(
            403,
            "access_denied",
            "this route does not serve the caller's address",
            Reason::Source,
        )
    }

    pub fn rate_limited() -> Self {
        Self {
            retry_after_seconds: Some(1),
            ..Self::new(
                429,
                "temporarily_unavailable",
                "too many token requests; retry after a second",
                Reason::RateLimited,
            )
        }
    }

    /// The route's `max_concurrent_exchanges` are all in flight.
    pub fn overloaded() -> Self {
        Self {
            retry_after_seconds: Some(1),
            ..Self::new(
                503,
                "temporarily_unavailable",
                "too many token exchanges in flight; retry after a second",
                Reason::Overloaded,
            )
        }
    }

    pub fn bad_gateway(description: impl Into<Cow<'static, str>>, kind: FailureKind) -> Self {
        Self::new(
            502,
            "temporarily_unavailable",
            description,
            Reason::Upstream(kind),
        )
    }

    pub fn gateway_timeout() -> Self {
        Self::new(
            504,
            "temporarily_unavailable",
            "the provider did not answer in time",
            Reason::Upstream(FailureKind::Timeout),
        )
    }

    /// The RFC 6749 §5.2 status for a provider error code: 401 for `invalid_client`, else 400.
    pub fn from_provider(code: String, description: String) -> Self {
        let status = if code == "invalid_client" { 401 } else { 400 };
        Self::new(status, code, description, Reason::ProviderError)
    }

    /// The JSON body, escaped by serde_json so a provider's text cannot break it.
    pub fn to_json(&self) -> Vec<u8> {
        let mut body = serde_json::Map::with_capacity(2);
        body.insert("error".into(), self.code.as_ref().into());
        if !self.description.is_empty() {
            body.insert("error_description".into(), self.description.as_ref().into());
        }
        serde_json::to_vec(&body).expect("a JSON map of strings always serializes")
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.description)
    }
}

impl std::error::Error for OAuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_distinct_snake_case_labels() {
        let mut labels: Vec<&str> = Reason::REFUSALS
            .iter()
            .map(|r| r.as_str())
            .chain([Reason::ProviderError.as_str(), Reason::NotJson.as_str()])
            .chain(FailureKind::ALL.iter().map(|k| k.as_str()))
            .collect();
        assert!(labels
            .iter()
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
        let count = labels.len();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), count);
    }

    #[test]
    fn renders_rfc6749_json_with_escaped_description() {
        let e = OAuthError::invalid_request("bad \"quote\"", Reason::Malformed);
        let v: serde_json::Value = serde_json::from_slice(&e.to_json()).unwrap();
        assert_eq!(v["error"], "invalid_request");
        assert_eq!(v["error_description"], "bad \"quote\"");
    }

    #[test]
    fn provider_invalid_client_maps_to_401() {
        assert_eq!(
            OAuthError::from_provider("invalid_client".into(), String::new()).status,
            401
        );
        assert_eq!(
            OAuthError::from_provider("invalid_grant".into(), String::new()).status,
            400
        );
    }

    #[test]
    fn displays_status_code_and_description_for_the_log() {
        let e = OAuthError::invalid_request("missing 'code'", Reason::MissingParam);
        assert_eq!(e.to_string(), "400 invalid_request: missing 'code'");
    }
}
