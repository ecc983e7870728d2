//! `/callback`: the provider sends the browser back (a GET, or a form POST
//! for `response_mode=form_post`, as Apple does when it sends the user's
//! name); the login opens from its `state`, and the broker gets a code that
//! seals the provider's.

use serde_json::{Map, Value};

use super::answer::{back_to_broker, Answered};
use super::BridgeRequest;
use crate::plan::oidc::{LongLogins, OidcBridge};
use crate::store::login_context;
use quirkgate_core::oauth_error::Reason;
use quirkgate_core::oidc::claims::CALLBACK_USER_KEY;
use quirkgate_core::oidc::params::{param, request_params, unique_params};
use quirkgate_core::oidc::sealed::{SealedCode, SealedLogin};

/// Largest `user` object a page may post beside the code (Apple's: a name
/// and an email); a larger one is dropped, the login goes on without it.
const MAX_CALLBACK_USER_BYTES: usize = 1024;

pub(super) async fn callback(
    bridge: &OidcBridge,
    request: &BridgeRequest<'_>,
    now: u64,
) -> Answered {
    let params = match request_params(
        request.method,
        request.query,
        request.body,
        request.content_type,
    )
    .and_then(unique_params)
    {
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
    if bridge.claims.reads_callback_user() {
        code.callback_user = param(&params, "user")
            .filter(|user| is_small_json_object(user))
            .map(str::to_owned);
    }
    // The provider's PKCE verifier, derived from the state it was challenged with.
    code.provider_verifier = bridge
        .provider_pkce
        .as_ref()
        .zip(param(&params, "state"))
        .map(|(pkce, state)| pkce.verifier(state));
    let code = code.seal(&bridge.sealer, now);
    back_to_broker(bridge, &redirect_uri, state.as_deref(), &[("code", &code)])
}

/// Apple's `user`: a JSON object, and small.
fn is_small_json_object(text: &str) -> bool {
    text.len() <= MAX_CALLBACK_USER_BYTES
        && serde_json::from_str::<Map<String, Value>>(text).is_ok()
}

/// The user the claim paths read, with what the page posted to the callback
/// under [`CALLBACK_USER_KEY`] (`callback_user.name.firstName`).
pub(super) fn with_callback_user(user: Value, posted: Option<&str>) -> Value {
    let Some(posted) =
        posted.and_then(|text| serde_json::from_str::<Map<String, Value>>(text).ok())
    else {
        return user;
    };
    let mut user = match user {
        Value::Object(user) => user,
        _ => Map::new(),
    };
    user.insert(CALLBACK_USER_KEY.into(), Value::Object(posted));
    Value::Object(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_posted_user_sits_beside_the_provider_user_and_only_a_small_object_counts() {
        let posted = r#"{"name":{"firstName":"Ann","lastName":"Lee"}}"#;
        assert_eq!(
            with_callback_user(json!({"id_token": {"sub": "001"}}), Some(posted)),
            json!({"id_token": {"sub": "001"}, "callback_user": {"name": {"firstName": "Ann", "lastName": "Lee"}}})
        );
        assert_eq!(with_callback_user(json!({"a": 1}), None), json!({"a": 1}));
        assert_eq!(
            with_callback_user(json!({"a": 1}), Some("[1]")),
            json!({"a": 1})
        );
        assert!(is_small_json_object(posted));
        for refused in [
            "",
            "null",
            "[]",
            "\"Ann\"",
            "{",
            &format!("{{\"n\":\"{}\"}}", "a".repeat(1024)),
        ] {
            assert!(!is_small_json_object(refused), "{refused}");
        }
    }
}
