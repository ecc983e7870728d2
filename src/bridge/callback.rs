//! `/callback`: the provider sends the browser back; the login opens from
//! its `state`, and the broker gets a code that seals the provider's.

use super::answer::{back_to_broker, Answered};
use crate::plan::oidc::{LongLogins, OidcBridge};
use crate::store::login_context;
use quirkgate_core::oauth_error::Reason;
use quirkgate_core::oidc::params::{param, unique_params};
use quirkgate_core::oidc::sealed::{SealedCode, SealedLogin};

pub(super) async fn callback(bridge: &OidcBridge, query: &str, now: u64) -> Answered {
    let params = match unique_params(query) {
        Ok(params) => params,
        Err(e) => return Answered::error(e),
    };
    let state = param(&params, "state");
    // A login kept in the store comes back as its handle, taken once.
    let kept = match (&bridge.long_logins, state) {
        (LongLogins::Keep(store), Some(handle)) if login_context::is_handle(handle) => {
            match login_context::take(store, &bridge.issuer, handle).await {
                Ok(kept) => Some(kept),
                Err(e) => return Answered::error(e),
            }
        }
        _ => None,
    };
    let state = match &kept {
        Some(kept) => kept.as_deref(),
        None => state,
    };
    let login = match SealedLogin::open(&bridge.sealer, &bridge.state_shape(), state, now) {
        Ok(login) => login,
        Err(e) => return Answered::error(e),
    };
    let (redirect_uri, state) = (login.redirect_uri.clone(), login.state.clone());
    // Alipay names it `auth_code`.
    let Some(provider_code) = param(&params, &bridge.callback_code_param) else {
        // The user declined, or the provider failed: the broker hears it, without the provider's text.
        return back_to_broker(
            bridge,
            &redirect_uri,
            state.as_deref(),
            &[
                ("error", "access_denied"),
                ("error_description", "the provider did not grant the login"),
            ],
        )
        .refused(Reason::ProviderError);
    };
    let mut code = SealedCode::for_login(login, provider_code, now);
    // The provider's PKCE verifier, derived from the state it was challenged with.
    code.provider_verifier = bridge
        .provider_pkce
        .as_ref()
        .zip(param(&params, "state"))
        .map(|(pkce, state)| pkce.verifier(state));
    let code = code.seal(&bridge.sealer, now);
    back_to_broker(bridge, &redirect_uri, state.as_deref(), &[("code", &code)])
}
