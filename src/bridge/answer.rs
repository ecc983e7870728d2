//! The bridge's answers, as the gateway's one answer type: JSON, public
//! documents, redirects, and the one error writer (`Answered::error`) every
//! refusal goes through. Each carries why it refused, for the books.

use bytes::Bytes;

use crate::gateway::RequestRecord;
use crate::plan::oidc::OidcBridge;
use quirkgate_core::http1::{CachePolicy, CallerAnswer, Challenge};
use quirkgate_core::oauth_error::{OAuthError, Reason};
use quirkgate_core::oidc::authorize::with_query;

/// An endpoint's answer, and why it refused when it did (the `reason` label).
#[derive(Debug)]
pub(super) struct Answered {
    pub answer: CallerAnswer,
    pub refusal: Option<Reason>,
}

impl Answered {
    /// A JSON answer, never cached. No bridge answer sends a `Referer` on:
    /// their URLs carry codes and states.
    pub fn json(status: u16, body: impl Into<Bytes>) -> Self {
        Answered {
            answer: CallerAnswer {
                no_referrer: true,
                ..CallerAnswer::json(status, body.into())
            },
            refusal: None,
        }
    }

    /// A public document (discovery, JWKS).
    pub fn document(body: Bytes) -> Self {
        let mut answered = Answered::json(200, body);
        answered.answer.cache = CachePolicy::PublicDocument;
        answered
    }

    pub fn redirect(location: String) -> Self {
        let mut answered = Answered::json(302, Bytes::new());
        answered.answer.location = Some(location);
        answered
    }

    /// A refusal, in the RFC 6749 shape.
    pub fn error(error: OAuthError) -> Self {
        let mut answered = Answered::json(0, Bytes::new());
        answered.answer = CallerAnswer {
            no_referrer: true,
            ..CallerAnswer::refusal(&error)
        };
        answered.refusal = Some(error.reason);
        answered
    }

    /// Counted as a refusal for `reason` (a redirect that tells the broker no).
    pub fn refused(mut self, reason: Reason) -> Self {
        self.refusal = Some(reason);
        self
    }

    pub fn challenge(mut self, challenge: Challenge) -> Self {
        self.answer.challenge = Some(challenge);
        self
    }

    pub fn allow(mut self, methods: &str) -> Self {
        self.answer.allow = Some(methods.to_owned());
        self
    }

    /// The answer, its refusal and size noted in the request's books.
    pub fn settle(self, record: &mut RequestRecord) -> CallerAnswer {
        if let Some(reason) = self.refusal {
            record.refused(reason);
        }
        record.answered(&self.answer);
        self.answer
    }
}

/// A redirect to the broker's (allowed) callback, with its state and our
/// issuer (RFC 9207).
pub(super) fn back_to_broker(
    bridge: &OidcBridge,
    redirect_uri: &str,
    state: Option<&str>,
    params: &[(&str, &str)],
) -> Answered {
    let mut all: Vec<(&str, &str)> = params.to_vec();
    if let Some(state) = state {
        all.push(("state", state));
    }
    all.push(("iss", &bridge.issuer));
    Answered::redirect(with_query(redirect_uri, &all))
}
