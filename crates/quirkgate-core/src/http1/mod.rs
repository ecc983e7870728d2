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

/// An answer for the caller: a status and a JSON body, plus the headers that
/// vary between answers. Both front ends write it with [`encode::ANSWER_HEADERS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerAnswer {
    pub status: u16,
    pub body: bytes::Bytes,
    /// `Allow`, on a 405.
    pub allow: Option<String>,
    /// `Retry-After` seconds, on refusals that pass with time.
    pub retry_after_seconds: Option<u32>,
    /// `WWW-Authenticate`, on a 401 to a caller that authenticated with
    /// `Authorization` (RFC 6749 §5.2): its scheme's challenge.
    pub challenge: Option<Challenge>,
}

/// The authentication schemes a 401 challenges with: the ones OAuth clients
/// use on token and user-info endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer,
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

    /// The `WWW-Authenticate` value.
    pub fn header_value(self) -> &'static str {
        match self {
            Challenge::Basic => "Basic realm=\"quirkgate\"",
            Challenge::Bearer => "Bearer realm=\"quirkgate\"",
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
    }
}
