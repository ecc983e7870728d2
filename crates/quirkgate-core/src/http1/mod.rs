//! The hand-written HTTP/1.1 of both legs, as pure functions over bytes: no
//! sockets, no Pingora. The riskiest code in the gateway lives here, in one
//! place, unit-tested and fuzzed (`fuzz/`).
//!
//! - [`caller_head`]: frames a caller's request head for the fast path, or
//!   hands it to Pingora's HTTP stack.
//! - [`provider_answer`]: a provider's status line and headers.
//! - [`chunked`]: chunked body decoding.
//! - [`encode`]: the provider request and the caller's answer, as bytes.
//! - [`fields`]: header names, values and lists, as HTTP defines them.

pub mod caller_head;
pub mod chunked;
pub mod encode;
pub mod fields;
pub mod provider_answer;

/// An answer for the caller, from a token route or a bridge endpoint alike:
/// a status and a JSON body (or an empty redirect), plus the headers that
/// vary between answers. Both front ends write every field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerAnswer {
    pub status: u16,
    pub body: bytes::Bytes,
    /// `Allow`, on a 405.
    pub allow: Option<String>,
    /// `Retry-After` seconds, on refusals that pass with time.
    pub retry_after_seconds: Option<u32>,
    /// `WWW-Authenticate`, on a 401 (RFC 6749 §5.2, RFC 6750 §3).
    pub challenge: Option<Challenge>,
    /// Who may keep the answer.
    pub cache: CachePolicy,
    /// `Location`, on a redirect (the bridge's, to a provider or a broker).
    pub location: Option<String>,
    /// `Referrer-Policy: no-referrer`: the request's URL, or the redirect's,
    /// carries a code or a state that must not leak in a `Referer`.
    pub no_referrer: bool,
}

/// Who may keep an answer, as its caching headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CachePolicy {
    /// RFC 6749 §5.1: token answers, refusals and redirects are never cached.
    #[default]
    NoStore,
    /// A public document (the bridge's discovery and JWKS) that any cache
    /// may keep for five minutes (a rotated key is published before it
    /// signs, so caches catch up well within it) and any origin may read.
    PublicDocument,
}

impl CachePolicy {
    /// The header fields that say so.
    pub fn fields(self) -> &'static [(&'static str, &'static str)] {
        match self {
            CachePolicy::NoStore => &[("Cache-Control", "no-store"), ("Pragma", "no-cache")],
            CachePolicy::PublicDocument => &[
                ("Cache-Control", "public, max-age=300"),
                // Browser-based relying parties fetch discovery and JWKS too.
                ("Access-Control-Allow-Origin", "*"),
            ],
        }
    }
}

/// The challenges a 401 carries: the schemes OAuth clients use on token and
/// user-info endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer,
    /// The bridge's token endpoint, to a broker that sent `Authorization`.
    BridgeToken,
    /// RFC 6750 §3: a request that carried no bearer token gets no error code.
    BearerWanted,
    /// RFC 6750 §3: a bearer token refused, with why.
    BearerRefused {
        error: &'static str,
        description: &'static str,
    },
}

impl Challenge {
    /// The challenge matching an `Authorization` value's scheme, if it is one of ours.
    pub fn for_authorization(value: &[u8]) -> Option<Self> {
        let scheme = value.split(|&b| b == b' ').next().unwrap_or_default();
        if scheme.eq_ignore_ascii_case(b"basic") {
            Some(Challenge::Basic)
        } else if scheme.eq_ignore_ascii_case(b"bearer") {
            Some(Challenge::Bearer)
        } else {
            None
        }
    }

    /// The `WWW-Authenticate` value: borrowed, but for a refused bearer token.
    pub fn header_value(self) -> std::borrow::Cow<'static, str> {
        match self {
            Challenge::Basic => "Basic realm=\"quirkgate\"".into(),
            Challenge::Bearer => "Bearer realm=\"quirkgate\"".into(),
            Challenge::BridgeToken => "Basic realm=\"token\"".into(),
            Challenge::BearerWanted => "Bearer".into(),
            Challenge::BearerRefused { error, description } => {
                format!("Bearer error=\"{error}\", error_description=\"{description}\"").into()
            }
        }
    }
}

impl CallerAnswer {
    /// An answer with no header beyond the ones every answer carries.
    pub fn json(status: u16, body: bytes::Bytes) -> Self {
        CallerAnswer {
            status,
            body,
            allow: None,
            retry_after_seconds: None,
            challenge: None,
            cache: CachePolicy::NoStore,
            location: None,
            no_referrer: false,
        }
    }

    /// The RFC 6749 §5.2 answer to a refusal: every refusal is written here.
    pub fn refusal(error: &crate::oauth_error::OAuthError) -> Self {
        CallerAnswer {
            retry_after_seconds: error.retry_after_seconds,
            ..CallerAnswer::json(error.status, error.to_json().into())
        }
    }
}

/// A provider's answer, fully read: the content type and body are views of
/// the bytes read, not copies.
#[derive(Debug, Clone)]
pub struct ProviderAnswer {
    pub status: u16,
    /// The Content-Type value as received.
    pub content_type: Option<bytes::Bytes>,
    pub body: bytes::Bytes,
}

impl ProviderAnswer {
    /// The Content-Type value, when it is text.
    pub(crate) fn content_type_text(&self) -> Option<&str> {
        self.content_type
            .as_deref()
            .and_then(|value| std::str::from_utf8(value).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_matches_the_callers_scheme() {
        assert_eq!(
            Challenge::for_authorization(b"Basic YTpi"),
            Some(Challenge::Basic)
        );
        assert_eq!(
            Challenge::for_authorization(b"bearer act.1"),
            Some(Challenge::Bearer)
        );
        assert_eq!(Challenge::for_authorization(b"Digest x"), None);
        assert_eq!(Challenge::for_authorization(b""), None);
        assert_eq!(Challenge::Basic.header_value(), "Basic realm=\"quirkgate\"");
        assert_eq!(Challenge::BearerWanted.header_value(), "Bearer");
        assert_eq!(
            Challenge::BearerRefused {
                error: "invalid_token",
                description: "expired"
            }
            .header_value(),
            "Bearer error=\"invalid_token\", error_description=\"expired\""
        );
    }
}
