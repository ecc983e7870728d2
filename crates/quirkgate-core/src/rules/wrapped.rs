//! Wrapped answers with an in-band status (Withings' `{status, body}`,
//! Alipay's `…_response` objects): an in-band error becomes an RFC 6749
//! error, a success is unwrapped to the token answer inside. (The check of
//! a signed answer is `signed::AnswerSignature`.)

use serde_json::{Map, Value};

use crate::oauth_error::{FailureKind, OAuthError};
use crate::rules::response::{FieldPath, ResponseRule};

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

#[cfg(test)]
mod tests {
    use super::*;

    /// `{"alipay_system_oauth_token_response": …, "sign": …}`, signed with
    /// `openssl dgst -sha256 -sign` over the member's exact text.
    const SIGNED: &str = include_str!("../../testdata/signed/answer_signed.json");

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
