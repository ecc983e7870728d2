//! WeCom's answers, read: `gettoken` (the corp token), `auth/getuserinfo`
//! (the member a code names) and `user/get` (that member). Every one is
//! HTTP 200 with `errcode` ≠ 0 when it fails; what a failure means for the
//! caller is decided here, once. Also the gateway's own access token: the
//! member's user id sealed (AES-256-GCM) with an expiry, never the corp token.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::oauth_error::{OAuthError, Reason};
use crate::oidc::seal::{SealError, SealPurpose, Sealer};

/// `errcode`s that say the corp token itself is bad (invalid, expired):
/// drop it and fetch another.
pub const CORP_TOKEN_REFUSED: [i64; 3] = [40014, 42001, 40001];

/// Why a WeCom answer is not what the leg needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WecomRefusal {
    /// The corp token was refused (invalid or expired): refetch it.
    CorpTokenRefused,
    /// Any other `errcode`, with its `errmsg` (provider text, not a secret).
    Provider { errcode: i64, errmsg: String },
    /// The answer is not the JSON object WeCom sends.
    NotJson,
    /// A success without the field the leg needs.
    Incomplete(&'static str),
    /// The code names a person outside the corp (no user id).
    NotMember,
}

/// Which call an answer came from: the same `errcode` means different things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WecomCall {
    CorpToken,
    CodeToMember,
    Member,
}

impl WecomRefusal {
    /// The RFC 6749 (or 6750) error the caller gets.
    pub fn to_oauth_error(&self, call: WecomCall) -> OAuthError {
        match (self, call) {
            // The corp app's own credentials (corpid 40013, corpsecret 40001/40091).
            (Self::Provider { errcode, .. }, WecomCall::CorpToken)
                if matches!(errcode, 40013 | 40001 | 40091) =>
            {
                OAuthError::new(
                    401,
                    "invalid_client",
                    "WeCom refused the corp credentials",
                    Reason::ProviderError,
                )
            }
            (Self::CorpTokenRefused, WecomCall::CorpToken) | (_, WecomCall::CorpToken) => {
                OAuthError::new(
                    502,
                    "server_error",
                    "WeCom gave no corp token",
                    Reason::ProviderError,
                )
            }
            (Self::Provider { errcode, errmsg }, WecomCall::CodeToMember)
                if matches!(errcode, 40029 | 40163 | 42003 | 50001) =>
            {
                OAuthError::new(
                    400,
                    "invalid_grant",
                    format!("WeCom refused the code ({errcode}: {errmsg})"),
                    Reason::ProviderError,
                )
            }
            (Self::NotMember, _) => OAuthError::new(
                400,
                "invalid_grant",
                "the code names no member of the corp",
                Reason::ProviderError,
            ),
            (Self::Provider { errcode, .. }, WecomCall::Member)
                if matches!(errcode, 60111 | 60011) =>
            {
                OAuthError::new(
                    401,
                    "invalid_token",
                    "the member is no longer in the corp",
                    Reason::ProviderError,
                )
            }
            (_, _) => OAuthError::new(
                502,
                "server_error",
                "WeCom answered with an error",
                Reason::ProviderError,
            ),
        }
    }
}

/// The answer's object once `errcode` is 0 (absent counts as 0).
fn succeeded(body: &[u8]) -> Result<Map<String, Value>, WecomRefusal> {
    let object: Map<String, Value> =
        serde_json::from_slice(body).map_err(|_| WecomRefusal::NotJson)?;
    let errcode = match object.get("errcode") {
        None => 0,
        Some(value) => value.as_i64().ok_or(WecomRefusal::NotJson)?,
    };
    if errcode == 0 {
        return Ok(object);
    }
    if CORP_TOKEN_REFUSED.contains(&errcode) {
        return Err(WecomRefusal::CorpTokenRefused);
    }
    Err(WecomRefusal::Provider {
        errcode,
        errmsg: object
            .get("errmsg")
            .and_then(Value::as_str)
            .unwrap_or("")
            .chars()
            .take(200)
            .collect(),
    })
}

/// `gettoken`'s answer: the corp token and its lifetime.
pub fn corp_token_answer(body: &[u8]) -> Result<(String, Duration), WecomRefusal> {
    let object = succeeded(body).map_err(|refusal| match refusal {
        // From gettoken, 40001 is a wrong corpsecret, not a stale token.
        WecomRefusal::CorpTokenRefused => WecomRefusal::Provider {
            errcode: 40001,
            errmsg: String::new(),
        },
        other => other,
    })?;
    let token = object
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or(WecomRefusal::Incomplete("access_token"))?;
    let seconds = object
        .get("expires_in")
        .and_then(Value::as_u64)
        .filter(|s| *s > 0)
        .ok_or(WecomRefusal::Incomplete("expires_in"))?;
    Ok((token.to_owned(), Duration::from_secs(seconds)))
}

/// `auth/getuserinfo`'s answer: the member's user id (`userid`, or the older
/// path's `UserId`); a person outside the corp (`openid` only) is refused.
pub fn member_of_code_answer(body: &[u8]) -> Result<String, WecomRefusal> {
    let object = succeeded(body)?;
    match ["userid", "UserId"]
        .iter()
        .find_map(|key| object.get(*key).and_then(Value::as_str))
    {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        _ => Err(WecomRefusal::NotMember),
    }
}

/// `user/get`'s answer: the member, without WeCom's status fields.
pub fn member_answer(body: &[u8]) -> Result<Map<String, Value>, WecomRefusal> {
    let mut object = succeeded(body)?;
    object.remove("errcode");
    object.remove("errmsg");
    if !object.get("userid").is_some_and(Value::is_string) {
        return Err(WecomRefusal::Incomplete("userid"));
    }
    Ok(object)
}

/// What the gateway's access token carries: the member's user id.
#[derive(Serialize, Deserialize)]
struct SealedMember {
    u: String,
}

/// The issuer a corp's seals are bound to: a token of one corp does not open at another.
pub fn seal_issuer(corp_id: &str) -> String {
    format!("wecom:{corp_id}")
}

/// The gateway's access token for `user_id`, good for `lifetime` seconds from `now`.
pub fn seal_member(sealer: &Sealer, user_id: &str, lifetime: u64, now: u64) -> String {
    sealer.seal(
        SealPurpose::AccessToken,
        &SealedMember {
            u: user_id.to_owned(),
        },
        now + lifetime,
    )
}

/// The user id an access token of ours carries, if intact and unexpired.
pub fn open_member(sealer: &Sealer, token: &str, now: u64) -> Result<String, SealError> {
    sealer
        .open::<SealedMember>(SealPurpose::AccessToken, token, now)
        .map(|member| member.u)
        .and_then(|id| {
            if id.is_empty() {
                Err(SealError::Invalid)
            } else {
                Ok(id)
            }
        })
}

/// The RFC 6749 §5.1 token answer for a sealed member token.
pub fn token_answer(access_token: &str, lifetime: u64, user_id: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "userid": user_id,
    }))
    .expect("a JSON object serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(corp: &str) -> Sealer {
        Sealer::new(&[[3; 32]], &seal_issuer(corp)).unwrap()
    }

    #[test]
    fn a_corp_token_answer_gives_the_token_and_its_lifetime() {
        let body = br#"{"errcode":0,"errmsg":"ok","access_token":"corp-t","expires_in":7200}"#;
        assert_eq!(
            corp_token_answer(body).unwrap(),
            ("corp-t".to_owned(), Duration::from_secs(7200))
        );
        assert_eq!(
            corp_token_answer(br#"{"errcode":0,"access_token":"t"}"#),
            Err(WecomRefusal::Incomplete("expires_in"))
        );
    }

    #[test]
    fn a_wrong_corp_secret_is_invalid_client_and_anything_else_a_server_error() {
        for errcode in [40001, 40013, 40091] {
            let body = format!(r#"{{"errcode":{errcode},"errmsg":"invalid"}}"#);
            let refusal = corp_token_answer(body.as_bytes()).unwrap_err();
            let error = refusal.to_oauth_error(WecomCall::CorpToken);
            assert_eq!(
                (error.status, &*error.code),
                (401, "invalid_client"),
                "{errcode}"
            );
        }
        let refusal = corp_token_answer(br#"{"errcode":45009,"errmsg":"api freq"}"#).unwrap_err();
        let error = refusal.to_oauth_error(WecomCall::CorpToken);
        assert_eq!((error.status, &*error.code), (502, "server_error"));
        assert_eq!(
            corp_token_answer(b"<html>").unwrap_err(),
            WecomRefusal::NotJson
        );
    }

    #[test]
    fn a_code_names_a_member_in_either_casing_and_a_stranger_is_refused() {
        assert_eq!(
            member_of_code_answer(br#"{"errcode":0,"userid":"zhangsan","user_ticket":"x"}"#),
            Ok("zhangsan".to_owned())
        );
        assert_eq!(
            member_of_code_answer(br#"{"errcode":0,"UserId":"lisi","DeviceId":""}"#),
            Ok("lisi".to_owned())
        );
        let stranger = member_of_code_answer(br#"{"errcode":0,"openid":"o-1"}"#).unwrap_err();
        assert_eq!(stranger, WecomRefusal::NotMember);
        assert_eq!(
            &*stranger.to_oauth_error(WecomCall::CodeToMember).code,
            "invalid_grant"
        );
    }

    #[test]
    fn a_refused_corp_token_is_told_apart_from_a_refused_code() {
        for errcode in CORP_TOKEN_REFUSED {
            let body = format!(r#"{{"errcode":{errcode},"errmsg":"expired"}}"#);
            assert_eq!(
                member_of_code_answer(body.as_bytes()),
                Err(WecomRefusal::CorpTokenRefused)
            );
        }
        let refusal =
            member_of_code_answer(br#"{"errcode":40029,"errmsg":"invalid code"}"#).unwrap_err();
        let error = refusal.to_oauth_error(WecomCall::CodeToMember);
        assert_eq!((error.status, &*error.code), (400, "invalid_grant"));
        assert!(error.description.contains("40029"));
    }

    #[test]
    fn a_member_answer_drops_wecoms_status_fields() {
        let member =
            member_answer(br#"{"errcode":0,"errmsg":"ok","userid":"zhangsan","name":"Z"}"#)
                .unwrap();
        assert_eq!(member.get("name").unwrap(), "Z");
        assert!(!member.contains_key("errcode"));
        assert_eq!(
            member_answer(br#"{"errcode":0}"#),
            Err(WecomRefusal::Incomplete("userid"))
        );
    }

    #[test]
    fn a_member_token_opens_until_it_expires_and_only_for_its_corp() {
        let ours = sealer("corp-a");
        let token = seal_member(&ours, "zhangsan", 60, 1000);
        assert_eq!(open_member(&ours, &token, 1059), Ok("zhangsan".to_owned()));
        assert_eq!(open_member(&ours, &token, 1060), Err(SealError::Expired));
        assert_eq!(
            open_member(&sealer("corp-b"), &token, 1000),
            Err(SealError::Invalid)
        );
        let mut tampered = token.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            open_member(&ours, std::str::from_utf8(&tampered).unwrap(), 1000),
            Err(SealError::Invalid)
        );
    }

    #[test]
    fn the_token_answer_is_rfc_6749_and_carries_only_our_token() {
        let answer: Value = serde_json::from_slice(&token_answer("ours", 3600, "zs")).unwrap();
        assert_eq!(answer["token_type"], "Bearer");
        assert_eq!(answer["expires_in"], 3600);
        assert_eq!(answer["access_token"], "ours");
    }
}
