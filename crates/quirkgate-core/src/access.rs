//! Who may use a route, and how much: the caller's address, a shared secret
//! header, the OAuth client id and a cap on exchanges in flight (the request
//! rate is the product's: it may count across replicas). Compiled once into the route's plan; the request path only reads it
//! (and bumps counters). No Pingora types here.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use subtle::ConstantTimeEq;

use crate::caller::CallerHeaders;
use crate::client_address::{any_contains, Cidr};
use crate::credentials;
use crate::http1::fields::owned_header;
use crate::oauth_error::{OAuthError, Reason};
use crate::rules::request::{Place, RequestRule, TokenRequest};

/// Everything a route checks before it reads a body, in the order it checks.
#[derive(Default)]
pub struct RouteAccess {
    /// Caller addresses the route serves; empty: any.
    pub allow_sources: Vec<Cidr>,
    pub shared_secret: Option<SharedSecret>,
    /// Cap on upstream exchanges in flight; `None`: no cap.
    pub exchange_slots: Option<ExchangeSlots>,
}

impl RouteAccess {
    /// Whether the source check needs the caller's address (worth working out only then).
    pub fn checks_sources(&self) -> bool {
        !self.allow_sources.is_empty()
    }

    /// Source, then secret. Callers check the rate budget after this, so a
    /// refused source or secret never spends it and strangers cannot starve
    /// the real callers.
    pub fn admit(
        &self,
        client: Option<IpAddr>,
        headers: &(impl CallerHeaders + ?Sized),
    ) -> Result<(), OAuthError> {
        if !self.allow_sources.is_empty()
            && !client.is_some_and(|address| any_contains(&self.allow_sources, address))
        {
            return Err(OAuthError::access_denied());
        }
        if let Some(secret) = &self.shared_secret {
            secret.check(headers)?;
        }
        Ok(())
    }
}

/// A header every caller must send with a fixed value (a second factor that
/// proves the caller is the configured identity provider, not just anyone
/// holding a client secret).
pub struct SharedSecret {
    pub header: http::HeaderName,
    value: Box<[u8]>,
}

/// The value is a secret: no `{:?}` may print it.
impl std::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedSecret({}: <redacted>)", self.header)
    }
}

impl SharedSecret {
    pub fn new(header: &str, value: &str) -> Result<SharedSecret, String> {
        let header = http::HeaderName::from_bytes(header.trim().as_bytes())
            .map_err(|_| format!("shared_secret.header: '{header}' is not a header name"))?;
        if owned_header(header.as_str()).is_some() {
            return Err(format!(
                "shared_secret.header: '{header}' is used by the gateway itself; pick another"
            ));
        }
        if value.is_empty() {
            return Err("shared_secret.value: must not be empty".to_owned());
        }
        if http::HeaderValue::from_str(value).is_err() {
            return Err("shared_secret.value: must be visible ASCII text".to_owned());
        }
        Ok(SharedSecret {
            header,
            value: value.as_bytes().into(),
        })
    }

    /// Exactly one header with the value; compared in constant time.
    pub fn check(&self, headers: &(impl CallerHeaders + ?Sized)) -> Result<(), OAuthError> {
        let mut values = headers.all_values(self.header.as_str());
        let matches = match (values.next(), values.next()) {
            (Some(given), None) => constant_time_equal(&self.value, given),
            _ => false,
        };
        if matches {
            Ok(())
        } else {
            Err(OAuthError::new(
                401,
                "invalid_client",
                "the gateway's shared secret is missing or wrong",
                Reason::SharedSecret,
            ))
        }
    }
}

/// Equality whose time depends only on the expected length: neither where the
/// inputs differ nor whether the lengths agree shows in the timing.
fn constant_time_equal(expected: &[u8], given: &[u8]) -> bool {
    let mut same = given.len().ct_eq(&expected.len());
    for (i, want) in expected.iter().enumerate() {
        let got = given.get(i).copied().unwrap_or(!want);
        same &= want.ct_eq(&got);
    }
    same.into()
}

/// `allowed_client_ids`: the caller's OAuth client id, from the body's
/// `client_id` or an `Authorization: Basic` header, must be one of the list.
/// Runs before the route's own rules, so it sees the caller's standard names.
#[derive(Debug)]
pub struct RequireClientId {
    pub allowed: Vec<String>,
}

/// The standard parameter name every OAuth client sends (RFC 6749 §2.3.1).
const CLIENT_ID: &str = "client_id";

impl RequestRule for RequireClientId {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        let sent = credentials::each_place_checked(
            request.value(Place::Body, CLIENT_ID),
            request.value(Place::Headers, "authorization").as_deref(),
        )?;
        // Both places are checked: an allowed id in one must not carry another in the other.
        if !sent.all(|id| self.allowed.iter().any(|a| a == id)) {
            return Err(OAuthError::new(
                401,
                "invalid_client",
                "this client is not allowed on this route",
                Reason::ClientNotAllowed,
            ));
        }
        Ok(())
    }
}

/// `max_concurrent_exchanges`: a counter held for the whole upstream exchange.
pub struct ExchangeSlots {
    limit: usize,
    in_use: AtomicUsize,
}

/// One exchange in flight; gives its slot back when dropped, however the exchange ends.
pub struct ExchangeSlot<'a>(&'a AtomicUsize);

impl Drop for ExchangeSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl ExchangeSlots {
    pub fn new(limit: usize) -> Self {
        ExchangeSlots {
            limit,
            in_use: AtomicUsize::new(0),
        }
    }

    pub fn try_acquire(&self) -> Result<ExchangeSlot<'_>, OAuthError> {
        self.in_use
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .map(|_| ExchangeSlot(&self.in_use))
            .map_err(|_| OAuthError::overloaded())
    }

    pub fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::parse_form;
    use crate::form::{FormText, Param};
    use crate::rules::request::TokenMethod;
    use base64::Engine;
    use std::borrow::Cow;

    fn headers(list: &[(&str, &str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in list {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn constant_time_equal_is_plain_equality() {
        assert!(constant_time_equal(b"s3cret", b"s3cret"));
        assert!(!constant_time_equal(b"s3cret", b"s3creT"));
        assert!(!constant_time_equal(b"s3cret", b"s3cre"));
        assert!(!constant_time_equal(b"s3cret", b"s3crett"));
        assert!(!constant_time_equal(b"s3cret", b""));
        // A given value padded with what the missing bytes are replaced by still fails.
        assert!(!constant_time_equal(b"ab", b"a"));
    }

    #[test]
    fn shared_secret_needs_exactly_one_matching_header() {
        let secret = SharedSecret::new("X-Quirkgate-Secret", "s3cret").unwrap();
        assert!(secret
            .check(&headers(&[("x-quirkgate-secret", "s3cret")]))
            .is_ok());
        for bad in [
            headers(&[]),
            headers(&[("x-quirkgate-secret", "wrong")]),
            headers(&[
                ("x-quirkgate-secret", "s3cret"),
                ("x-quirkgate-secret", "s3cret"),
            ]),
            headers(&[("x-other", "s3cret")]),
        ] {
            let err = secret.check(&bad).unwrap_err();
            assert_eq!(
                (err.status, err.code.as_ref(), err.reason.as_str()),
                (401, "invalid_client", "shared_secret")
            );
        }
        assert!(
            !format!("{secret:?}").contains("s3cret"),
            "Debug must not print the value"
        );
    }

    #[test]
    fn shared_secret_refuses_reserved_headers_and_empty_values() {
        assert!(SharedSecret::new("Authorization", "x").is_err());
        assert!(SharedSecret::new("x-secret", "").is_err());
        assert!(SharedSecret::new("bad header", "x").is_err());
        assert!(SharedSecret::new("x-secret", "line\nbreak").is_err());
    }

    fn run_client_id(
        rule: &RequireClientId,
        body: &str,
        auth: Option<&str>,
    ) -> Result<(), OAuthError> {
        let mut request =
            TokenRequest::new(TokenMethod::Post, parse_form(body.as_bytes()).unwrap());
        if let Some(auth) = auth {
            request.headers.push(Param {
                name: FormText::plain("authorization"),
                value: FormText::Plain(Cow::Owned(auth.to_owned())),
            });
        }
        // The rule borrows from itself only; the request may live shorter.
        rule.apply(&mut request)
    }

    fn basic(id: &str, secret: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
        )
    }

    #[test]
    fn client_id_from_body_or_basic_must_be_listed() {
        let rule = RequireClientId {
            allowed: vec!["auth0-app".into(), "other app".into()],
        };
        assert!(run_client_id(&rule, "client_id=auth0-app&code=c", None).is_ok());
        assert!(
            run_client_id(&rule, "client_id=other+app", None).is_ok(),
            "decoded before comparing"
        );
        assert!(run_client_id(&rule, "code=c", Some(&basic("auth0-app", "s"))).is_ok());
        for (body, auth) in [
            ("client_id=intruder&code=c", None),
            ("code=c", Some(basic("intruder", "s"))),
            ("client_id=auth0-app", Some(basic("intruder", "s"))),
            ("client_id=intruder", Some(basic("auth0-app", "s"))),
        ] {
            let err = run_client_id(&rule, body, auth.as_deref()).unwrap_err();
            assert_eq!(
                (err.status, err.reason.as_str()),
                (401, "client_not_allowed"),
                "{body}"
            );
        }
        let err = run_client_id(&rule, "code=c", None).unwrap_err();
        assert_eq!((err.status, err.code.as_ref()), (401, "invalid_client"));
        let err = run_client_id(&rule, "code=c", Some("Basic !!!")).unwrap_err();
        assert_eq!(err.status, 401);
    }

    #[test]
    fn client_id_ignores_an_authorization_that_is_not_basic() {
        let rule = RequireClientId {
            allowed: vec!["auth0-app".into()],
        };
        // A Bearer header is not client authentication: the body's id decides.
        assert!(run_client_id(&rule, "client_id=auth0-app", Some("Bearer abc.def")).is_ok());
        let err = run_client_id(&rule, "code=c", Some("Bearer abc.def")).unwrap_err();
        assert_eq!((err.status, err.code.as_ref()), (401, "invalid_client"));
    }

    #[test]
    fn shared_secret_debug_names_the_header_and_redacts_the_value() {
        let secret = SharedSecret::new("X-Quirkgate-Secret", "s3cret").unwrap();
        assert_eq!(
            format!("{secret:?}"),
            "SharedSecret(x-quirkgate-secret: <redacted>)"
        );
    }

    #[test]
    fn sources_are_checked_before_the_secret() {
        let access = RouteAccess {
            allow_sources: vec![Cidr::parse("192.0.2.0/24").unwrap()],
            shared_secret: Some(SharedSecret::new("x-s", "v").unwrap()),
            ..Default::default()
        };
        let inside: IpAddr = "192.0.2.10".parse().unwrap();
        let outside: IpAddr = "198.51.100.1".parse().unwrap();
        let good = headers(&[("x-s", "v")]);
        assert!(access.admit(Some(inside), &good).is_ok());
        let err = access.admit(Some(outside), &good).unwrap_err();
        assert_eq!(
            (err.status, err.code.as_ref(), err.reason.as_str()),
            (403, "access_denied", "source")
        );
        assert_eq!(
            access.admit(None, &good).unwrap_err().reason.as_str(),
            "source",
            "unknown callers are outside"
        );
        assert_eq!(
            access
                .admit(Some(inside), &headers(&[]))
                .unwrap_err()
                .reason
                .as_str(),
            "shared_secret"
        );
        assert!(access.checks_sources());
        assert!(!RouteAccess::default().checks_sources());
    }

    #[test]
    fn exchange_slots_cap_and_give_back() {
        let slots = ExchangeSlots::new(2);
        let first = slots.try_acquire().unwrap();
        let second = slots.try_acquire().unwrap();
        let err = slots.try_acquire().err().unwrap();
        assert_eq!((err.status, err.reason.as_str()), (503, "overloaded"));
        assert_eq!(err.retry_after_seconds, Some(1));
        drop(first);
        let third = slots.try_acquire().unwrap();
        assert_eq!(slots.in_use(), 2);
        drop((second, third));
        assert_eq!(slots.in_use(), 0);
    }
}
