//! `/authorize`: judges the broker's request, seals what the login must
//! carry into the provider's `state`, and sends the browser to the provider.

use super::answer::{back_to_broker, Answered};
use super::provider_id_token::with_nonce;
use super::BridgeRequest;
use crate::plan::oidc::{LongLogins, OidcBridge};
use quirkgate_core::oauth_error::Reason;
use std::time::Duration;

use crate::store::{login_context, Store};
use quirkgate_core::oidc::authorize::{
    judge_authorize, with_query, AuthorizePolicy, AuthorizeRefusal, BrokerLogin,
};
use quirkgate_core::oidc::params::request_params;
use quirkgate_core::oidc::sealed::SealedLogin;
use quirkgate_core::oidc::state::{StateShape, StateTooLong, LOGIN_LIFETIME};

pub(super) async fn authorize(
    bridge: &OidcBridge,
    request: &BridgeRequest<'_>,
    now: u64,
) -> Answered {
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
            Ok(sealed) => to_provider(bridge, &login, &sealed),
            Err(too_long) => match &bridge.long_logins {
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
                LongLogins::Keep(store) => keep_login(bridge, store, &login, now).await,
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

/// The provider's authorize URL for `login`, carrying `state` (the sealed
/// login, or its handle), the broker's nonce when the provider echoes it in
/// an ID token, and the PKCE challenge derived from `state` when the
/// provider wants PKCE.
fn to_provider(bridge: &OidcBridge, login: &BrokerLogin, state: &str) -> Answered {
    let url = bridge.authorize.url_for(
        &login.client_id,
        &login.scopes,
        &bridge.provider_redirect_uri,
        state,
    );
    let url = match &bridge.provider_pkce {
        Some(pkce) => with_query(
            &url,
            &[
                ("code_challenge", &pkce.challenge(state)),
                ("code_challenge_method", "S256"),
            ],
        ),
        None => url,
    };
    Answered::redirect(with_nonce(bridge, url, login.nonce.as_deref()))
}

/// A login too long for the provider's `state`, kept in the store: the
/// provider gets its handle. A store that cannot keep it refuses the login
/// back to the broker (`temporarily_unavailable`), never truncating it.
async fn keep_login(bridge: &OidcBridge, store: &Store, login: &BrokerLogin, now: u64) -> Answered {
    let uncapped = StateShape {
        max_bytes: None,
        ..bridge.state_shape()
    };
    let kept = match SealedLogin::of(login).seal(&bridge.sealer, &uncapped, now) {
        Ok(sealed) => {
            login_context::keep(
                store,
                &bridge.issuer,
                &sealed,
                Duration::from_secs(LOGIN_LIFETIME),
            )
            .await
        }
        Err(too_long) => unreachable!("an uncapped state is never too long: {too_long:?}"),
    };
    match kept {
        Ok(handle) => to_provider(bridge, login, &handle),
        Err(error) => back_to_broker(
            bridge,
            &login.redirect_uri,
            login.state.as_deref(),
            &[
                ("error", "temporarily_unavailable"),
                (
                    "error_description",
                    "the login is too long for the provider's state and the gateway's store cannot keep it: retry",
                ),
            ],
        )
        .refused(error.reason),
    }
}

fn too_long_description(too_long: &StateTooLong) -> String {
    format!(
        "the login (its state and nonce) needs {} characters of the provider's state, which takes at most {}: send a shorter state or nonce (no store is configured to keep it)",
        too_long.needed, too_long.cap
    )
}
