//! The two legs of a corp login. The token leg: the caller's credentials must
//! be the corp app's, the code goes to WeCom once (with the cached corp
//! token; a code that may have reached WeCom is never sent twice), and the
//! member it names becomes a sealed token of ours. The user leg: that token,
//! opened, names the member `user/get` reads; a refused corp token is
//! renewed and the read made once more (it consumes nothing).

use std::time::{SystemTime, UNIX_EPOCH};

use subtle::ConstantTimeEq;

use super::corp_token::corp_token_refused;
use super::CorpCall;
use quirkgate_core::credentials;
use quirkgate_core::http1::{CallerAnswer, Challenge};
use quirkgate_core::oauth_error::{OAuthError, Reason};
use quirkgate_core::oidc::params::{param, request_params, unique_params};
use quirkgate_core::rules::two_step::wecom::{
    member_answer, member_of_code_answer, open_member, seal_member, token_answer, WecomCall,
};

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Equal in constant time (a secret compared with a guess).
fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

pub(super) async fn token(
    call: &mut CorpCall<'_>,
    body: &[u8],
    authorization: Option<&str>,
) -> Result<CallerAnswer, OAuthError> {
    let text = request_params("POST", "", body, Some("application/x-www-form-urlencoded"))?;
    let params = unique_params(text)?;
    let presented = credentials::one_method(
        param(&params, "client_id"),
        param(&params, "client_secret"),
        authorization,
    )?
    .ok_or_else(credentials::missing)?;
    let login = call.login;
    let secret_matches = presented
        .secret
        .as_deref()
        .is_some_and(|secret| same(secret, login.corp_secret()));
    if !(same(&presented.id, &login.corp_id) & secret_matches) {
        return Err(OAuthError::invalid_client(
            "the client is not this corp app",
        ));
    }
    match param(&params, "grant_type") {
        Some("authorization_code") => {}
        Some(_) => {
            return Err(OAuthError::new(
                400,
                "unsupported_grant_type",
                "authorization_code only",
                Reason::Malformed,
            ))
        }
        None => {
            return Err(OAuthError::invalid_request(
                "grant_type is missing",
                Reason::MissingParam,
            ))
        }
    }
    let code = param(&params, "code")
        .ok_or_else(|| OAuthError::invalid_request("code is missing", Reason::MissingParam))?;
    let corp_token = call.corp_token().await?;
    let member_path = login.member_path.clone();
    // No `grant`: the code is single-use, never sent again after a full write.
    let answer = call
        .wecom_get(
            &member_path,
            &[("access_token", corp_token.value()), ("code", code)],
            None,
        )
        .await?;
    let user_id = match member_of_code_answer(&answer) {
        Ok(user_id) => user_id,
        Err(refusal) if corp_token_refused(&refusal) => {
            // The code reached WeCom: it is not sent again. The next login finds a good token.
            call.renew_corp_token(&corp_token).await?;
            return Err(OAuthError::new(
                502,
                "server_error",
                "WeCom refused the corp token; it was renewed, log in again",
                Reason::ProviderError,
            ));
        }
        Err(refusal) => return Err(refusal.to_oauth_error(WecomCall::CodeToMember)),
    };
    let lifetime = login.token_lifetime.as_secs();
    let sealed = seal_member(&login.sealer, &user_id, lifetime, unix_now());
    Ok(CallerAnswer::json(
        200,
        token_answer(&sealed, lifetime, &user_id).into(),
    ))
}

pub(super) async fn userinfo(
    call: &mut CorpCall<'_>,
    authorization: Option<&str>,
) -> Result<CallerAnswer, OAuthError> {
    let Some(token) = authorization
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
    else {
        let error = OAuthError::new(
            401,
            "invalid_request",
            "a Bearer access token is needed",
            Reason::NoCredentials,
        );
        return Ok(CallerAnswer {
            challenge: Some(Challenge::BearerWanted),
            ..CallerAnswer::refusal(&error)
        });
    };
    let login = call.login;
    let user_id = open_member(&login.sealer, token, unix_now()).map_err(|_| {
        OAuthError::new(
            401,
            "invalid_token",
            "the access token is not valid or has expired",
            Reason::NoCredentials,
        )
    })?;
    let member_path = login.member_path.clone();
    let mut corp_token = call.corp_token().await?;
    for last in [false, true] {
        let answer = call
            .wecom_get(
                &member_path,
                &[
                    ("access_token", corp_token.value()),
                    ("userid", user_id.as_str()),
                ],
                Some("client_credentials"),
            )
            .await?;
        match member_answer(&answer) {
            Ok(member) => {
                return Ok(CallerAnswer::json(
                    200,
                    serde_json::to_vec(&member)
                        .expect("a JSON map serializes")
                        .into(),
                ))
            }
            Err(refusal) if corp_token_refused(&refusal) && !last => {
                corp_token = call.renew_corp_token(&corp_token).await?;
            }
            Err(refusal) => return Err(refusal.to_oauth_error(WecomCall::Member)),
        }
    }
    unreachable!("the second read returns")
}
