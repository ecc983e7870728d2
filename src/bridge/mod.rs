//! The OpenID Connect bridge's endpoints: any provider behind a token route
//! and a user-info route becomes an OpenID provider (discovery, JWKS,
//! `/authorize`, `/callback`, `/token`, `/userinfo`). Stateless: what a login
//! must carry between legs is sealed into the login itself (`core::oidc::sealed`),
//! so any number of replicas with the same keys serve one issuer.
//!
//! The token leg runs the bridge's token route, then its user-info route with
//! the new access token, through the gateway's own exchange (same pooling,
//! timeouts and retry rules). No ID token is issued without a user the
//! provider named. Each endpoint has its file; every answer is the gateway's
//! [`CallerAnswer`], and its books are the gateway's [`RequestRecord`].

mod answer;
mod authorize;
mod callback;
mod discovery;
mod provider_id_token;
mod token;
mod userinfo;

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::gateway::{RequestRecord, TokenGateway};
use crate::plan::oidc::{BridgeEndpoint, OidcBridge};
use answer::Answered;
use quirkgate_core::http1::CallerAnswer;
use quirkgate_core::oauth_error::OAuthError;

/// A bridge request as the front end read it.
pub struct BridgeRequest<'r> {
    pub method: &'r str,
    pub query: &'r str,
    pub body: &'r [u8],
    pub content_type: Option<&'r str>,
    pub authorization: Option<&'r str>,
}

/// The clock, read once per request and passed down.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Serves one request to a bridge endpoint and settles its books.
pub async fn serve(
    gateway: &TokenGateway,
    bridge: &OidcBridge,
    endpoint: BridgeEndpoint,
    request: &BridgeRequest<'_>,
    record: &mut RequestRecord,
) -> CallerAnswer {
    let now = unix_now();
    let allowed: &'static str = match endpoint {
        BridgeEndpoint::Token => "POST",
        // A callback may be a form POST (`response_mode=form_post`, Apple).
        BridgeEndpoint::Authorize | BridgeEndpoint::UserInfo | BridgeEndpoint::Callback => {
            "GET, POST"
        }
        _ => "GET, HEAD",
    };
    let mut answered = if !allowed.split(", ").any(|m| m == request.method) {
        Answered::error(OAuthError::method_not_allowed()).allow(allowed)
    } else {
        match endpoint {
            BridgeEndpoint::Discovery => discovery::discovery(bridge),
            BridgeEndpoint::Jwks => discovery::jwks(bridge),
            BridgeEndpoint::Authorize => authorize::authorize(bridge, request, now).await,
            BridgeEndpoint::Callback => callback::callback(bridge, request, now).await,
            BridgeEndpoint::Token => {
                token::token(gateway, bridge, request, record.report(), now).await
            }
            BridgeEndpoint::UserInfo => {
                userinfo::userinfo(gateway, bridge, request, record.report(), now).await
            }
        }
    };
    if request.method == "HEAD" {
        answered.answer.body = Bytes::new();
    }
    answered.settle(record)
}

/// A request refused before any endpoint saw it (its body was too large or too slow).
pub fn refuse(error: OAuthError, record: &mut RequestRecord) -> CallerAnswer {
    Answered::error(error).settle(record)
}
