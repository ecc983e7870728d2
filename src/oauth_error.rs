//! The one error type every refusal goes through: it knows its HTTP status and
//! its RFC 6749 §5.2 `error` code, and renders the JSON body callers parse.

use std::borrow::Cow;
use std::fmt;

/// An error answered to the caller as `{"error": …, "error_description": …}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    pub status: u16,
    pub code: Cow<'static, str>,
    pub description: Cow<'static, str>,
    /// Bounded label for metrics (`method`, `too_large`, `connect`, …): never caller data.
    pub reason: &'static str,
    /// `Retry-After` seconds for refusals that pass with time (rate limit, overload).
    pub retry_after_seconds: Option<u32>,
}

impl OAuthError {
    pub fn new(
        status: u16,
        code: impl Into<Cow<'static, str>>,
        description: impl Into<Cow<'static, str>>,
        reason: &'static str,
    ) -> Self {
        OAuthError {
            status,
            code: code.into(),
            description: description.into(),
            reason,
            retry_after_seconds: None,
        }
    }

    pub fn invalid_request(
        description: impl Into<Cow<'static, str>>,
        reason: &'static str,
    ) -> Self {
        Self::new(400, "invalid_request", description, reason)
    }

    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(401, "invalid_client", description, "no_credentials")
    }

    pub fn not_found() -> Self {
        Self::new(
            404,
            "invalid_request",
            "no token route at this path",
            "not_found",
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "invalid_request",
            "token requests must use POST",
            "method",
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            415,
            "invalid_request",
            "token requests must be application/x-www-form-urlencoded",
            "content_type",
        )
    }

    pub fn body_too_large(limit: usize) -> Self {
        Self::new(
            413,
            "invalid_request",
            format!("request body exceeds {limit} bytes"),
            "too_large",
        )
    }

    pub fn headers_too_large(limit: usize) -> Self {
        Self::new(
            431,
            "invalid_request",
            format!("request headers exceed {limit} bytes"),
            "headers_too_large",
        )
    }

    pub fn body_timeout() -> Self {
        Self::new(
            408,
            "invalid_request",
            "request body was not received in time",
            "body_timeout",
        )
    }

    /// The caller's address is outside the route's `allow_sources`.
    pub fn access_denied() -> Self {
        Self::new(
            403,
            "access_denied",
            "this route does not serve the caller's address",
            "source",
        )
    }

    pub fn rate_limited() -> Self {
        Self {
            retry_after_seconds: Some(1),
            ..Self::new(
                429,
                "temporarily_unavailable",
                "too many token requests; retry after a second",
                "rate_limited",
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
                "overloaded",
            )
        }
    }

    pub fn bad_gateway(description: impl Into<Cow<'static, str>>, reason: &'static str) -> Self {
        Self::new(502, "temporarily_unavailable", description, reason)
    }

    pub fn gateway_timeout() -> Self {
        Self::new(
            504,
            "temporarily_unavailable",
            "the provider did not answer in time",
            "timeout",
        )
    }

    /// The RFC 6749 §5.2 status for a provider error code: 401 for `invalid_client`, else 400.
    pub fn from_provider(code: String, description: String) -> Self {
        let status = if code == "invalid_client" { 401 } else { 400 };
        Self::new(status, code, description, "provider_error")
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
    fn renders_rfc6749_json_with_escaped_description() {
        let e = OAuthError::invalid_request("bad \"quote\"", "malformed");
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
        let e = OAuthError::invalid_request("missing 'code'", "missing_param");
        assert_eq!(e.to_string(), "400 invalid_request: missing 'code'");
    }
}
