//! The refresh grant (RFC 6749 §6): the provider's refresh, passed through.

use super::{tokens_answer, Leg};
use crate::bridge::answer::Answered;
use quirkgate_core::oauth_error::{OAuthError, Reason};
use quirkgate_core::oidc::params::param;

pub(super) async fn grant(mut leg: Leg<'_>) -> Result<Answered, OAuthError> {
    let refresh = param(leg.params, "refresh_token").ok_or_else(|| {
        OAuthError::invalid_request("refresh_token is missing", Reason::MissingParam)
    })?;
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let mut provider = match leg.provider_tokens(&form).await? {
        Ok(provider) => provider,
        Err(refusal) => return Ok(refusal),
    };
    // OIDC Core §12.2: a refresh answer may leave the ID token out; this one
    // does, and never passes on one the provider signed for itself.
    provider.tokens.remove("id_token");
    leg.access_token(&mut provider.tokens, provider.access);
    Ok(tokens_answer(&provider.tokens))
}
