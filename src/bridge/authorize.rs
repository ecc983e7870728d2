//! `/authorize`: judges the broker's request, seals what the login must
//! carry into the provider's `state`, and sends the browser to the provider.

use super::answer::{back_to_broker, Answered};
use super::BridgeRequest;
use crate::plan::oidc::OidcBridge;
use quirkgate_core::oauth_error::Reason;
use quirkgate_core::oidc::authorize::{judge_authorize, AuthorizePolicy, AuthorizeRefusal};
use quirkgate_core::oidc::params::request_params;
use quirkgate_core::oidc::sealed::SealedLogin;

pub(super) fn authorize(bridge: &OidcBridge, request: &BridgeRequest<'_>, now: u64) -> Answered {
    let query = match request_params(
        request.method,
        request.query,
        request.body,
        request.content_type,
    ) {
        Ok(query) => query,
        Err(e) => return Answered::error(e),
    };
    let policy = AuthorizePolicy {
        redirect_uris: &bridge.redirect_uris,
        client_ids: bridge.client_ids.as_deref(),
    };
    match judge_authorize(query, &policy) {
        Ok(login) => {
            let sealed = SealedLogin::of(&login).seal(&bridge.sealer, now);
            Answered::redirect(bridge.authorize.url_for(
                &login.client_id,
                &login.scopes,
                &bridge.callback_url,
                &sealed,
            ))
        }
        Err(AuthorizeRefusal::Here(error)) => Answered::error(error),
        Err(AuthorizeRefusal::ToBroker {
            redirect_uri,
            state,
            error,
            description,
        }) => back_to_broker(
            bridge,
            &redirect_uri,
            state.as_deref(),
            &[("error", error), ("error_description", description)],
        )
        .refused(Reason::Malformed),
    }
}
