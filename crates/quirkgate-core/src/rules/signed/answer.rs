//! The check of a signed answer: Alipay signs the exact text of its
//! `…_response` member with its RSA key.

use crate::oauth_error::{FailureKind, OAuthError};

use super::RsaVerifyingKey;

/// `answer_signature`: the answer's `sign` must be the provider's
/// SHA256withRSA signature of the exact JSON text of the signed member (the
/// first of `members` present: Alipay's `…_response`, or its
/// `error_response`). A success member without a valid signature is a 502:
/// a token answer nobody can vouch for is not handed on.
#[derive(Debug)]
pub struct AnswerSignature {
    pub key: RsaVerifyingKey,
    /// The member holding a success; then members whose signature is checked when signed.
    pub member: String,
    pub error_member: Option<String>,
    pub sign: String,
}

impl AnswerSignature {
    /// Checks the raw answer; `Err` is the caller's 502.
    pub fn check(&self, body: &[u8]) -> Result<(), OAuthError> {
        let members: std::collections::HashMap<String, &serde_json::value::RawValue> =
            serde_json::from_slice(body).map_err(|_| unsigned("is not a JSON object"))?;
        let sign = members
            .get(&self.sign)
            .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok());
        if let Some(member) = members.get(&self.member) {
            let sign = sign.ok_or_else(|| unsigned("is not signed"))?;
            return if self.key.verifies(member.get().as_bytes(), &sign) {
                Ok(())
            } else {
                Err(unsigned("does not carry the provider's signature"))
            };
        }
        // An error the provider did not sign is still an error, not a token.
        match (
            self.error_member.as_ref().and_then(|m| members.get(m)),
            sign,
        ) {
            (Some(member), Some(sign)) if !self.key.verifies(member.get().as_bytes(), &sign) => {
                Err(unsigned("does not carry the provider's signature"))
            }
            _ => Ok(()),
        }
    }
}

fn unsigned(what: &str) -> OAuthError {
    OAuthError::bad_gateway(
        format!("the provider's answer {what}"),
        FailureKind::Protocol,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = include_str!("../../../testdata/signed/app_public.pem");
    /// `{"alipay_system_oauth_token_response": …, "sign": …}`, signed with
    /// `openssl dgst -sha256 -sign` over the member's exact text.
    const SIGNED: &str = include_str!("../../../testdata/signed/answer_signed.json");

    fn signature_rule() -> AnswerSignature {
        AnswerSignature {
            key: RsaVerifyingKey::from_text(PUBLIC.as_bytes()).unwrap(),
            member: "alipay_system_oauth_token_response".into(),
            error_member: Some("error_response".into()),
            sign: "sign".into(),
        }
    }

    #[test]
    fn the_exact_text_of_the_member_is_what_verifies() {
        let rule = signature_rule();
        rule.check(SIGNED.as_bytes()).unwrap();
        // Same JSON value, other spacing: not the signed text.
        let respaced = SIGNED.replacen("{\"code\"", "{ \"code\"", 1);
        assert_eq!(rule.check(respaced.as_bytes()).unwrap_err().status, 502);
        let altered = SIGNED.replace("2088102150477652", "2088102150477653");
        assert_eq!(rule.check(altered.as_bytes()).unwrap_err().status, 502);
        let unsigned = SIGNED.split(",\"sign\"").next().unwrap().to_owned() + "}";
        assert_eq!(rule.check(unsigned.as_bytes()).unwrap_err().status, 502);
        assert!(rule.check(b"[1]").is_err());
    }

    #[test]
    fn an_unsigned_error_answer_passes_on_to_become_an_error() {
        let rule = signature_rule();
        rule.check(br#"{"error_response":{"code":"40002","sub_code":"isv.code-invalid"}}"#)
            .unwrap();
        assert!(rule
            .check(br#"{"error_response":{"code":"40002"},"sign":"AAAA"}"#)
            .is_err());
    }
}
