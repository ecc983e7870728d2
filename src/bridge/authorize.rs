//! `/authorize`: judges the broker's request, seals what the login must
//! carry into the provider's `state`, and sends the browser to the provider.

use super::answer::{back_to_broker, Answered};
use super::BridgeRequest;
use crate::plan::oidc::{LongLogins, OidcBridge};
use quirkgate_core::oauth_error::Reason;
use quirkgate_core::oidc::authorize::{
    judge_authorize, with_query, AuthorizePolicy, AuthorizeRefusal,
};
use quirkgate_core::oidc::params::request_params;
use quirkgate_core::oidc::sealed::SealedLogin;
use quirkgate_core::oidc::state::StateTooLong;

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
        Ok(login) => match SealedLogin::of(&login).seal(&bridge.sealer, &bridge.state_shape(), now)
        {
            Ok(sealed) => {
                let url = bridge.authorize.url_for(
                    &login.client_id,
                    &login.scopes,
                    &bridge.callback_url,
                    &sealed,
                );
                Answered::redirect(match &bridge.provider_pkce {
                    Some(pkce) => with_query(
                        &url,
                        &[
                            ("code_challenge", &pkce.challenge(&sealed)),
                            ("code_challenge_method", "S256"),
                        ],
                    ),
                    None => url,
                })
            }
            Err(too_long) => match bridge.long_logins {
                // Never truncated: the broker hears what does not fit, and why.
                LongLogins::Refuse => back_to_broker(
                    bridge,
                    &login.redirect_uri,
                    login.state.as_deref(),
                    &[
                        ("error", "invalid_request"),
                        ("error_description", &too_long_description(&too_long)),
                    ],
                )
                .refused(Reason::Malformed),
            },
        },
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

fn too_long_description(too_long: &StateTooLong) -> String {
    format!(
        "the login (its state and nonce) needs {} characters of the provider's state, which takes at most {}: send a shorter state or nonce (no store is configured to keep it)",
        too_long.needed, too_long.cap
    )
}
