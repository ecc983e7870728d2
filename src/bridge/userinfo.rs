//! `/userinfo` (OIDC Core §5.3): the broker's access token opens to the
//! provider's (and the fields its user-info call needs), the user leg (one
//! route, or a few steps: QQ) reads the user, and the claims are the ID token's.

use std::pin::Pin;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Sleep;

use super::answer::Answered;
use super::BridgeRequest;
use crate::gateway::TokenGateway;
use crate::plan::oidc::steps::merged_answers;
use crate::plan::oidc::OidcBridge;
use crate::plan::TokenRoute;
use crate::upstream::exchange::ExchangeReport;
use quirkgate_core::http1::Challenge;
use quirkgate_core::oauth_error::{OAuthError, Reason};
use quirkgate_core::oidc::claims::token_answer_of;
use quirkgate_core::oidc::sealed::SealedAccess;
use quirkgate_core::oidc::token_answer::upstream_failed;

pub(super) async fn userinfo(
    gateway: &TokenGateway,
    bridge: &OidcBridge,
    request: &BridgeRequest<'_>,
    report: &mut ExchangeReport,
    now: u64,
) -> Answered {
    if bridge.user_steps.is_empty() {
        // Stateless, and the provider has no user endpoint: the claims are
        // in the ID token only, and discovery names no userinfo_endpoint.
        return Answered::error(OAuthError::new(
            404,
            "invalid_request",
            "this bridge has no user-info endpoint: the claims are in the ID token",
            Reason::NotFound,
        ));
    }
    let Some(token) = request
        .authorization
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
    else {
        return unauthorized("a Bearer access token is needed", None);
    };
    let wraps = !bridge.userinfo_params.is_empty();
    let access = match SealedAccess::unwrap(&bridge.sealer, token, wraps, now) {
        Ok(access) => access,
        Err(description) => return unauthorized(description, Some("invalid_token")),
    };
    let mut timer = std::pin::pin!(tokio::time::sleep(Duration::ZERO));
    let user = read_user(gateway, bridge, &access, report, timer.as_mut()).await;
    // `token.` paths read the token-answer fields sealed into the access token.
    let token_answer = token_answer_of(&access.userinfo_fields);
    match user.map(|user| bridge.claims.claims_with(&user, &token_answer)) {
        Ok(Some(claims)) => Answered::json(
            200,
            serde_json::to_vec(&claims).expect("a JSON map serializes"),
        ),
        Ok(None) => Answered::error(upstream_failed("the provider's user has no subject")),
        Err(e) if e.status == 401 => unauthorized(
            "the provider refused the access token",
            Some("invalid_token"),
        ),
        Err(e) => Answered::error(e),
    }
}

/// A 401 with its Bearer challenge (RFC 6750 §3): an error code only when a token was sent.
fn unauthorized(description: &'static str, error: Option<&'static str>) -> Answered {
    let challenge = match error {
        Some(error) => Challenge::BearerRefused { error, description },
        None => Challenge::BearerWanted,
    };
    Answered::error(OAuthError::new(
        401,
        error.unwrap_or("invalid_request"),
        description,
        Reason::NoCredentials,
    ))
    .challenge(challenge)
}

/// Runs the user leg with the provider's access token: each step's route
/// in turn, sent the fields its plan names (from the earlier answers or the
/// token answer); the user is every answer merged. A step that fails ends
/// the leg: nothing after it is called.
pub(super) async fn read_user(
    gateway: &TokenGateway,
    bridge: &OidcBridge,
    access: &SealedAccess,
    report: &mut ExchangeReport,
    mut timer: Pin<&mut Sleep>,
) -> Result<Value, OAuthError> {
    // No user-info route: the provider's verified ID token gives the claims.
    if bridge.user_steps.is_empty() {
        return Ok(Value::Null);
    }
    let bearer = format!("Bearer {}", access.provider_token);
    let mut answers = Vec::with_capacity(bridge.user_steps.len());
    for step in &bridge.user_steps {
        let form = step.form(&answers, &access.userinfo_fields).map_err(|_| {
            upstream_failed("the provider's user lacks a field its next call needs")
        })?;
        let body = serde_urlencoded::to_string(&form).expect("text pairs always encode");
        let answer = read_step(
            gateway,
            &step.route,
            body.as_bytes(),
            &bearer,
            report,
            timer.as_mut(),
        )
        .await?;
        answers.push(answer);
    }
    merged_answers(answers).ok_or_else(|| upstream_failed("the provider's user is not JSON"))
}

/// One step's route, its answer's JSON object; a refusal as the bridge tells it.
async fn read_step(
    gateway: &TokenGateway,
    route: &TokenRoute,
    body: &[u8],
    bearer: &str,
    report: &mut ExchangeReport,
    timer: Pin<&mut Sleep>,
) -> Result<Value, OAuthError> {
    let user = gateway
        .run_route(route, body, Some(bearer), report, timer)
        .await
        .map_err(|e| match e.reason {
            Reason::Upstream(_) => e,
            // The user-info route's rules read the provider's refusal.
            Reason::ProviderError => refused_token(),
            _ => upstream_failed("the provider's user could not be read"),
        })?;
    if user.status != 200 {
        return Err(if user.status == 401 || user.status == 400 {
            refused_token()
        } else {
            upstream_failed("the provider's user could not be read")
        });
    }
    serde_json::from_slice(&user.body)
        .map_err(|_| upstream_failed("the provider's user is not JSON"))
}

fn refused_token() -> OAuthError {
    OAuthError::new(
        401,
        "invalid_token",
        "the provider refused the access token",
        Reason::ProviderError,
    )
}
