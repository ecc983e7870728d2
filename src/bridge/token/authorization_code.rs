//! The authorization-code grant (RFC 6749 §4.1.3, OIDC Core §3.1.3): the
//! broker's code is checked and redeemed once, the provider's code goes to
//! the token route, the provider's user is read, and an ID token is signed.

use std::time::Duration;

use serde_json::Value;

use super::{tokens_answer, Leg};
use crate::bridge::answer::Answered;
use crate::bridge::callback::with_callback_user;
use crate::bridge::provider_id_token::{verified_claims, with_claims};
use crate::bridge::userinfo::read_user;
use crate::plan::oidc::OidcBridge;
use crate::store::code_claim::claim_code;
use quirkgate_core::oauth_error::{OAuthError, Reason};
use quirkgate_core::oidc::id_token::IdToken;
use quirkgate_core::oidc::params::param;
use quirkgate_core::oidc::sealed::{CodeRedemption, SealedCode, CODE_LIFETIME};
use quirkgate_core::oidc::token_answer::upstream_failed;

pub(super) async fn grant(mut leg: Leg<'_>) -> Result<Answered, OAuthError> {
    let bridge = leg.bridge;
    let redemption = CodeRedemption {
        code: param(leg.params, "code"),
        client_id: leg.client_id,
        redirect_uri: param(leg.params, "redirect_uri"),
        code_verifier: param(leg.params, "code_verifier"),
    };
    // With a store, the fleet's claim (made before the provider is called) says whether it was redeemed.
    let code = match leg.gateway.plan().store.clone() {
        None => SealedCode::redeem(&bridge.sealer, &bridge.redeemed, &redemption, leg.now)?,
        Some(store) => {
            let code = SealedCode::check(&bridge.sealer, &redemption, leg.now)?;
            claim_code(
                &store,
                &bridge.redeemed,
                &bridge.issuer,
                redemption.code.unwrap_or(""),
                Duration::from_secs(CODE_LIFETIME),
                leg.now,
            )
            .await?;
            code
        }
    };
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.provider_code.as_str()),
        ("redirect_uri", bridge.provider_redirect_uri.as_str()),
    ];
    if let Some(verifier) = &code.provider_verifier {
        form.push(("code_verifier", verifier.as_str()));
    }
    let mut provider = match leg.provider_tokens(&form).await? {
        Ok(provider) => provider,
        Err(refusal) => return Ok(refusal),
    };
    let provider_claims = verified_claims(
        bridge,
        &provider.tokens,
        leg.client_id,
        leg.client_secret(),
        code.nonce.as_deref(),
        leg.now,
    )
    .await?;
    let user = read_user(
        leg.gateway,
        bridge,
        &provider.access,
        leg.report,
        leg.timer.as_mut(),
    )
    .await
    .map_err(|e| match e.status {
        401 => upstream_failed("the provider refused the access token it had just issued"),
        _ => e,
    })?;
    let user = with_claims(user, provider_claims);
    let user = with_callback_user(user, code.callback_user.as_deref());
    // `token.` paths read the token answer as the route shaped it.
    let claims = bridge
        .claims
        .claims_with(&user, &provider.tokens)
        .ok_or_else(|| upstream_failed("the provider's user has no subject"))?;
    let access_token = leg.access_token(&mut provider.tokens, provider.access);
    let id_token = IdToken {
        issuer: &bridge.issuer,
        audience: leg.client_id,
        issued_at: leg.now,
        lifetime_seconds: bridge.id_token_lifetime.as_secs(),
        code: &code,
        access_token: &access_token,
    };
    let signed = sign(bridge, Value::Object(id_token.claims(claims)))?;
    provider.tokens.insert("id_token".into(), signed.into());
    Ok(tokens_answer(&provider.tokens))
}

/// The ID token, signed with the bridge's first key.
fn sign(bridge: &OidcBridge, claims: Value) -> Result<String, OAuthError> {
    let signer = &bridge.keys[0];
    signer
        .key
        .sign_jwt(Some(&signer.kid), &claims)
        .map_err(|_| {
            OAuthError::new(
                500,
                "server_error",
                "the ID token could not be signed",
                Reason::ProviderError,
            )
        })
}
