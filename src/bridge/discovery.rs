//! Discovery (OpenID Connect Discovery 1.0 §4) and the JWKS: public
//! documents the plan rendered at load time.

use super::answer::Answered;
use crate::plan::oidc::OidcBridge;

pub(super) fn discovery(bridge: &OidcBridge) -> Answered {
    Answered::document(bridge.discovery.clone())
}

pub(super) fn jwks(bridge: &OidcBridge) -> Answered {
    Answered::document(bridge.jwks.clone())
}
