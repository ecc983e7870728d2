//! `/token`: authenticates the broker's client, then runs its grant (the
//! authorization code, or a refresh) through the bridge's token route.

mod authorization_code;
mod refresh;

use std::pin::Pin;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::time::Sleep;

use super::answer::Answered;
use super::BridgeRequest;
use crate::gateway::TokenGateway;
use crate::plan::oidc::OidcBridge;
use crate::upstream::exchange::ExchangeReport;
use quirkgate_core::credentials;
use quirkgate_core::http1::Challenge;
use quirkgate_core::oauth_error::{OAuthError, Reason};
use quirkgate_core::oidc::params::{param, request_params, unique_params};
use quirkgate_core::oidc::sealed::SealedAccess;
use quirkgate_core::oidc::token_answer::{
    access_token_of, token_object, userinfo_fields, wrap_access_token,
};

pub(super) async fn token(
    gateway: &TokenGateway,
    bridge: &OidcBridge,
    request: &BridgeRequest<'_>,
    report: &mut ExchangeReport,
    now: u64,
) -> Answered {
    token_leg(gateway, bridge, request, report, now)
        .await
        .unwrap_or_else(|e| {
            let answered = Answered::error(e);
            if answered.answer.status == 401 && request.authorization.is_some() {
                answered.challenge(Challenge::BridgeToken)
            } else {
                answered
            }
        })
}

/// The broker's client credentials, from the form or a Basic header (not
/// both: RFC 6749 §2.3). They go on to the provider in the form, as the
/// token routes' presets expect them from any standard client.
fn client_credentials(
    params: &[(String, String)],
    authorization: Option<&str>,
) -> Result<(String, Option<String>), OAuthError> {
    let presented = credentials::one_method(
        param(params, "client_id"),
        param(params, "client_secret"),
        authorization,
    )?
    .ok_or_else(credentials::missing)?;
    Ok((presented.id, presented.secret))
}

/// One token request on its way to the provider: what the grants share.
struct Leg<'a> {
    gateway: &'a TokenGateway,
    bridge: &'a OidcBridge,
    params: &'a [(String, String)],
    client_id: &'a str,
    /// Only the client's credentials go on to the provider, next to what the bridge sets.
    credentials: &'a [(&'a str, &'a str)],
    report: &'a mut ExchangeReport,
    timer: Pin<&'a mut Sleep>,
    now: u64,
}

async fn token_leg(
    gateway: &TokenGateway,
    bridge: &OidcBridge,
    request: &BridgeRequest<'_>,
    report: &mut ExchangeReport,
    now: u64,
) -> Result<Answered, OAuthError> {
    let params = unique_params(request_params(
        request.method,
        request.query,
        request.body,
        request.content_type,
    )?)?;
    let (client_id, client_secret) = client_credentials(&params, request.authorization)?;
    if bridge
        .client_ids
        .as_ref()
        .is_some_and(|ids| !ids.contains(&client_id))
    {
        return Err(OAuthError::new(
            401,
            "invalid_client",
            "this client may not use this bridge",
            Reason::ClientNotAllowed,
        ));
    }
    let mut credentials = vec![("client_id", client_id.as_str())];
    if let Some(secret) = &client_secret {
        credentials.push(("client_secret", secret.as_str()));
    }
    let timer = std::pin::pin!(tokio::time::sleep(Duration::ZERO));
    let leg = Leg {
        gateway,
        bridge,
        params: &params,
        client_id: &client_id,
        credentials: &credentials,
        report,
        timer,
        now,
    };
    match param(&params, "grant_type") {
        Some("authorization_code") => authorization_code::grant(leg).await,
        Some("refresh_token") => refresh::grant(leg).await,
        Some(_) => Err(OAuthError::new(
            400,
            "unsupported_grant_type",
            "authorization_code or refresh_token",
            Reason::Malformed,
        )),
        None => Err(OAuthError::invalid_request(
            "grant_type is missing",
            Reason::MissingParam,
        )),
    }
}

/// The provider's tokens, and its access token with the fields `/userinfo`
/// will need.
struct ProviderTokens {
    tokens: Map<String, Value>,
    access: SealedAccess,
}

impl Leg<'_> {
    /// Runs the token route with the grant's `form` and the broker's
    /// credentials: the provider's tokens, or its refusal as the route shaped it.
    async fn provider_tokens(
        &mut self,
        form: &[(&str, &str)],
    ) -> Result<Result<ProviderTokens, Answered>, OAuthError> {
        let body = serde_urlencoded::to_string([form, self.credentials].concat())
            .expect("text pairs always encode");
        let answer = self
            .gateway
            .run_route(
                &self.bridge.token_route,
                body.as_bytes(),
                None,
                self.report,
                self.timer.as_mut(),
            )
            .await?;
        if answer.status != 200 {
            return Ok(Err(Answered::json(answer.status, answer.body)));
        }
        let tokens = token_object(&answer.body)?;
        let access = SealedAccess {
            provider_token: access_token_of(&tokens)?,
            userinfo_fields: userinfo_fields(&self.bridge.userinfo_params, &tokens),
        };
        Ok(Ok(ProviderTokens { tokens, access }))
    }

    /// The broker's client secret, if it sent one.
    fn client_secret(&self) -> Option<&str> {
        self.credentials
            .iter()
            .find(|(name, _)| *name == "client_secret")
            .map(|(_, secret)| *secret)
    }

    /// The broker's access token, in `tokens` (see [`wrap_access_token`]).
    fn access_token(&self, tokens: &mut Map<String, Value>, access: SealedAccess) -> String {
        let wraps = !self.bridge.userinfo_params.is_empty();
        wrap_access_token(&self.bridge.sealer, wraps, tokens, access, self.now)
    }
}

fn tokens_answer(tokens: &Map<String, Value>) -> Answered {
    Answered::json(
        200,
        serde_json::to_vec(tokens).expect("a JSON map serializes"),
    )
}
