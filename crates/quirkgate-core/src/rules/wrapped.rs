//! Wrapped answers with an in-band status (Withings' `{status, body}`,
//! Alipay's `…_response` objects): an in-band error becomes an RFC 6749
//! error, a success is unwrapped to the token answer inside. And the check
//! of a signed answer (Alipay signs the exact text of its `…_response`).

use serde_json::{Map, Value};

use crate::oauth_error::{FailureKind, OAuthError};
use crate::rules::response::{FieldPath, ResponseRule};
use crate::rules::signed::RsaVerifyingKey;

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn first_text(paths: &[FieldPath], document: &Map<String, Value>) -> Option<String> {
    paths
        .iter()
        .find_map(|p| p.get(document).filter(|v| !v.is_null()))
        .map(text_of)
}

/// `in_band_status`: the first present `status` field says whether the
/// call worked (a value in `success`, compared as text so that `0` and
/// `"0"` agree; no status at all is a success); a success is replaced by the
/// object at `body`, a failure is an RFC 6749 error from `error`, mapped
/// through `codes` (or `default`).
#[derive(Debug)]
pub struct InBandStatus {
    pub status: Vec<FieldPath>,
    pub success: Vec<String>,
    pub body: FieldPath,
    pub error: Vec<FieldPath>,
    pub description: Vec<FieldPath>,
    pub codes: Vec<(String, String)>,
    pub default: Option<String>,
}

impl ResponseRule for InBandStatus {
    fn apply(&self, document: &mut Map<String, Value>) -> Result<(), OAuthError> {
        match first_text(&self.status, document) {
            Some(status) if !self.success.contains(&status) => {
                let provider = first_text(&self.error, document);
                let code = provider
                    .as_deref()
                    .and_then(|c| self.codes.iter().find(|(from, _)| from == c))
                    .map(|(_, to)| to.clone())
                    .or_else(|| self.default.clone())
                    .unwrap_or_else(|| "invalid_request".to_owned());
                let description = first_text(&self.description, document)
                    .or(provider)
                    .unwrap_or_else(|| format!("the provider answered status {status}"));
                Err(OAuthError::from_provider(code, description))
            }
            _ => match self.body.get(document) {
                Some(Value::Object(inner)) => {
                    *document = inner.clone();
                    Ok(())
                }
                _ => Err(OAuthError::bad_gateway(
                    format!("the provider's answer has no '{}' object", self.body),
                    FailureKind::Protocol,
                )),
            },
        }
    }

    fn maps_errors(&self) -> bool {
        true
    }
}

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

    const PUBLIC: &str = include_str!("../../testdata/signed/app_public.pem");
    /// `{"alipay_system_oauth_token_response": …, "sign": …}`, signed with
    /// `openssl dgst -sha256 -sign` over the member's exact text.
    const SIGNED: &str = include_str!("../../testdata/signed/answer_signed.json");

    fn signature_rule() -> AnswerSignature {
        AnswerSignature {
            key: RsaVerifyingKey::from_text(PUBLIC.as_bytes()).unwrap(),
            member: "alipay_system_oauth_token_response".into(),
            error_member: Some("error_response".into()),
            sign: "sign".into(),
        }
    }

    fn alipay_status() -> InBandStatus {
        let paths = |list: &[&str]| list.iter().map(|p| FieldPath::parse(p)).collect::<Vec<_>>();
        InBandStatus {
            status: paths(&[
                "error_response.code",
                "alipay_system_oauth_token_response.code",
            ]),
            success: vec!["10000".into()],
            body: FieldPath::parse("alipay_system_oauth_token_response"),
            error: paths(&[
                "error_response.sub_code",
                "alipay_system_oauth_token_response.sub_code",
            ]),
            description: paths(&["error_response.sub_msg"]),
            codes: vec![("isv.code-invalid".into(), "invalid_grant".into())],
            default: None,
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

    #[test]
    fn alipay_success_is_unwrapped_and_its_errors_are_rfc_errors() {
        let rule = alipay_status();
        let mut document: Map<String, Value> = serde_json::from_str(SIGNED).unwrap();
        rule.apply(&mut document).unwrap();
        assert_eq!(document["access_token"], "authusrB4f1e9f2c");
        assert!(document.get("sign").is_none());

        let mut failed: Map<String, Value> = serde_json::from_str(
            r#"{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.code-invalid","sub_msg":"auth_code is invalid"},"sign":"x"}"#,
        )
        .unwrap();
        let error = rule.apply(&mut failed).unwrap_err();
        assert_eq!((error.status, &*error.code), (400, "invalid_grant"));
        assert_eq!(error.description, "auth_code is invalid");
        // An error inside the success member counts too; unmapped codes pass as invalid_request.
        let mut inside: Map<String, Value> = serde_json::from_str(
            r#"{"alipay_system_oauth_token_response":{"code":"20001","sub_code":"aop.invalid-auth-token"}}"#,
        )
        .unwrap();
        assert_eq!(rule.apply(&mut inside).unwrap_err().code, "invalid_request");
    }

    #[test]
    fn withings_status_compares_as_text_and_a_missing_body_is_a_502() {
        let rule = InBandStatus {
            status: vec![FieldPath::parse("status")],
            success: vec!["0".into()],
            body: FieldPath::parse("body"),
            error: vec![FieldPath::parse("status")],
            description: vec![FieldPath::parse("error")],
            codes: vec![("503".into(), "invalid_grant".into())],
            default: Some("invalid_request".into()),
        };
        let mut ok: Map<String, Value> =
            serde_json::from_str(r#"{"status":0,"body":{"access_token":"a","userid":"1"}}"#)
                .unwrap();
        rule.apply(&mut ok).unwrap();
        assert_eq!(
            Value::Object(ok),
            serde_json::json!({"access_token":"a","userid":"1"})
        );
        let mut bad: Map<String, Value> = serde_json::from_str(
            r#"{"status":503,"body":{},"error":"Invalid Params: invalid code"}"#,
        )
        .unwrap();
        let error = rule.apply(&mut bad).unwrap_err();
        assert_eq!(
            (&*error.code, &*error.description),
            ("invalid_grant", "Invalid Params: invalid code")
        );
        let mut other: Map<String, Value> = serde_json::from_str(r#"{"status":"601"}"#).unwrap();
        assert_eq!(rule.apply(&mut other).unwrap_err().code, "invalid_request");
        let mut empty: Map<String, Value> = serde_json::from_str(r#"{"status":"0"}"#).unwrap();
        assert_eq!(rule.apply(&mut empty).unwrap_err().status, 502);
    }
}
