//! Response rules: turn a provider's answer into what a standard OAuth 2.0
//! client expects (RFC 6749 §5.1 / §5.2): unwrap nested objects, rename and
//! add fields, and map provider-specific error shapes to RFC errors.

use serde_json::{Map, Value};

use crate::core::oauth_error::{FailureKind, OAuthError, Reason};
use crate::http1::{CallerAnswer, ProviderAnswer};

/// One compiled response edit on the parsed JSON document of a 2xx answer.
pub trait ResponseRule: Send + Sync + std::fmt::Debug {
    /// `Err` turns the answer into an RFC 6749 error for the caller.
    fn apply(&self, document: &mut Map<String, Value>) -> Result<(), OAuthError>;
    /// Whether the rule rewrites the document (so the original bytes can't be passed on).
    fn edits(&self) -> bool {
        true
    }
    /// Whether the rule maps provider errors (and so also applies to non-2xx answers).
    fn maps_errors(&self) -> bool {
        false
    }
    /// Whether the rule may read the top-level field `key`; rules that only
    /// read are run on a document holding just the fields they read.
    fn reads_field(&self, _key: &str) -> bool {
        true
    }
}

/// The compiled response side of a route.
#[derive(Debug, Default)]
pub struct ResponsePlan {
    /// Accept `application/x-www-form-urlencoded` answers and turn them into JSON.
    pub form_to_json: bool,
    pub rules: Vec<Box<dyn ResponseRule>>,
}

impl ResponsePlan {
    /// Shapes a provider answer. Non-JSON answers are a gateway failure (502);
    /// non-2xx JSON answers pass through; 2xx answers go through the rules.
    pub fn shape(&self, answer: &ProviderAnswer) -> Result<CallerAnswer, OAuthError> {
        let original = &answer.body;
        let is_form = answer
            .content_type_text()
            .is_some_and(|ct| mime_is(ct, "application/x-www-form-urlencoded"));
        if (200..300).contains(&answer.status)
            && !(self.form_to_json && is_form)
            && !self.rules.iter().any(|r| r.edits())
        {
            // Nothing to rewrite: the rules only look, so only the fields they
            // read are built; the provider's bytes go back as they came.
            let mut document = parse_object_fields(&answer.body, |key| {
                self.rules.iter().any(|r| r.reads_field(key))
            })
            .ok_or_else(|| not_json(answer.status))?;
            for rule in &self.rules {
                rule.apply(&mut document)?;
            }
            return Ok(CallerAnswer::json(answer.status, original.clone()));
        }
        let (mut document, converted) = if self.form_to_json && is_form {
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&answer.body).map_err(|_| {
                    OAuthError::bad_gateway(
                        "the provider answered with a malformed form",
                        FailureKind::Protocol,
                    )
                })?;
            let map = pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            (map, true)
        } else {
            match serde_json::from_slice::<Value>(&answer.body) {
                Ok(Value::Object(map)) => (map, false),
                _ => return Err(not_json(answer.status)),
            }
        };
        if !(200..300).contains(&answer.status) {
            return self.shape_failure(answer.status, document, converted, original);
        }
        for rule in &self.rules {
            rule.apply(&mut document)?;
        }
        let edited = converted || self.rules.iter().any(|r| r.edits());
        let body = if edited {
            json_bytes(&document)
        } else {
            original.clone()
        };
        Ok(CallerAnswer::json(answer.status, body))
    }
}

impl ResponsePlan {
    /// A non-2xx answer: the route's error mappings first (keeping a 4xx
    /// status), then an RFC 6749 error passes as it is; any other shape (a
    /// numeric `error`, a nested object) becomes an RFC 6749 error so standard
    /// clients can read it. Provider 5xx answers without one are a 502.
    fn shape_failure(
        &self,
        status: u16,
        document: Map<String, Value>,
        converted: bool,
        original: &bytes::Bytes,
    ) -> Result<CallerAnswer, OAuthError> {
        let caller_status = if (400..500).contains(&status) {
            status
        } else {
            502
        };
        for rule in self.rules.iter().filter(|r| r.maps_errors()) {
            if let Err(mut error) = rule.apply(&mut document.clone()) {
                error.status = caller_status;
                return Err(error);
            }
        }
        if document.get("error").is_some_and(Value::is_string) {
            let body = if converted {
                json_bytes(&document)
            } else {
                original.clone()
            };
            return Ok(CallerAnswer::json(status, body));
        }
        let code = match caller_status {
            401 => "invalid_client",
            403 => "access_denied",
            502 => "temporarily_unavailable",
            _ => "invalid_request",
        };
        let description = ["error_description", "message", "msg"]
            .iter()
            .find_map(|k| document.get(*k).and_then(Value::as_str))
            .map_or_else(
                || format!("the provider answered HTTP {status}"),
                str::to_owned,
            );
        Err(OAuthError::new(
            caller_status,
            code,
            description,
            Reason::ProviderError,
        ))
    }
}

fn not_json(status: u16) -> OAuthError {
    OAuthError::new(
        502,
        "temporarily_unavailable",
        format!("the provider answered HTTP {status} without a JSON object"),
        Reason::NotJson,
    )
}

/// A JSON object's top-level fields that `keep` selects, parsed; the others
/// are only checked for syntax, never built. `None` unless `body` is exactly
/// one JSON object.
fn parse_object_fields(body: &[u8], keep: impl Fn(&str) -> bool) -> Option<Map<String, Value>> {
    use serde::de::DeserializeSeed;
    let mut input = serde_json::Deserializer::from_slice(body);
    let fields = SelectedFields(keep).deserialize(&mut input).ok()?;
    input.end().ok()?;
    Some(fields)
}

struct SelectedFields<F>(F);

impl<'de, F: Fn(&str) -> bool> serde::de::DeserializeSeed<'de> for SelectedFields<F> {
    type Value = Map<String, Value>;

    fn deserialize<D: serde::Deserializer<'de>>(self, input: D) -> Result<Self::Value, D::Error> {
        input.deserialize_map(self)
    }
}

impl<'de, F: Fn(&str) -> bool> serde::de::Visitor<'de> for SelectedFields<F> {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Map::new();
        while let Some(key) = map.next_key_seed(FieldName)? {
            if (self.0)(&key) {
                fields.insert(key.into_owned(), map.next_value()?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(fields)
    }
}

/// A field name, borrowed from the input unless it has escapes.
struct FieldName;

impl<'de> serde::de::DeserializeSeed<'de> for FieldName {
    type Value = std::borrow::Cow<'de, str>;

    fn deserialize<D: serde::Deserializer<'de>>(self, input: D) -> Result<Self::Value, D::Error> {
        input.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for FieldName {
    type Value = std::borrow::Cow<'de, str>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a field name")
    }

    fn visit_borrowed_str<E>(self, name: &'de str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Borrowed(name))
    }

    fn visit_str<E>(self, name: &str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(name.to_owned()))
    }
}

fn json_bytes(document: &Map<String, Value>) -> bytes::Bytes {
    serde_json::to_vec(document)
        .expect("a JSON map always serializes")
        .into()
}

/// Compares the media type of a Content-Type, ignoring parameters and case.
pub fn mime_is(content_type: &str, expected: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(expected))
}

/// A dotted path into the JSON document (`data.error_code`).
#[derive(Clone, Debug)]
pub struct FieldPath(pub Vec<String>);

impl FieldPath {
    pub fn parse(text: &str) -> Self {
        FieldPath(text.split('.').map(str::to_owned).collect())
    }

    pub fn get<'d>(&self, document: &'d Map<String, Value>) -> Option<&'d Value> {
        let (first, rest) = self.0.split_first()?;
        let mut value = document.get(first)?;
        for key in rest {
            value = value.as_object()?.get(key)?;
        }
        Some(value)
    }
}

impl std::fmt::Display for FieldPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

/// When an `error_from` rule fires; every condition given must hold.
#[derive(Debug, Default)]
pub struct ErrorCondition {
    pub present: Vec<FieldPath>,
    pub absent: Vec<FieldPath>,
    pub nonzero: Vec<FieldPath>,
    pub equals: Vec<(FieldPath, Value)>,
    /// Holds when the field is present with another value (`error.code` not `ok`).
    pub not_equals: Vec<(FieldPath, Value)>,
}

impl ErrorCondition {
    fn holds(&self, document: &Map<String, Value>) -> bool {
        self.present
            .iter()
            .all(|p| p.get(document).is_some_and(|v| !v.is_null()))
            && self
                .absent
                .iter()
                .all(|p| p.get(document).is_none_or(Value::is_null))
            && self
                .nonzero
                .iter()
                .all(|p| p.get(document).is_some_and(is_nonzero))
            && self.equals.iter().all(|(p, v)| p.get(document) == Some(v))
            && self
                .not_equals
                .iter()
                .all(|(p, v)| p.get(document).is_some_and(|found| found != v))
    }
}

fn is_nonzero(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty() && s != "0",
        Value::Bool(b) => *b,
        Value::Null => false,
        _ => true,
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `error_from`: a 2xx answer that is really an error becomes an RFC 6749 error.
#[derive(Debug)]
pub struct ErrorFrom {
    pub when: ErrorCondition,
    /// Field holding the provider's error code.
    pub error: Option<FieldPath>,
    pub description: Option<FieldPath>,
    /// Provider code → RFC 6749 code; unmapped codes use `default`, or pass as they are.
    pub codes: Vec<(String, String)>,
    pub default: Option<String>,
    pub status: Option<u16>,
}

impl ResponseRule for ErrorFrom {
    fn apply(&self, document: &mut Map<String, Value>) -> Result<(), OAuthError> {
        if !self.when.holds(document) {
            return Ok(());
        }
        let provider_code = self
            .error
            .as_ref()
            .and_then(|p| p.get(document))
            .map(text_of);
        let code = provider_code
            .as_deref()
            .and_then(|c| {
                self.codes
                    .iter()
                    .find(|(from, _)| from == c)
                    .map(|(_, to)| to.clone())
            })
            .or_else(|| self.default.clone())
            .or(provider_code)
            .unwrap_or_else(|| "invalid_request".to_owned());
        let description = self
            .description
            .as_ref()
            .and_then(|p| p.get(document))
            .map(text_of)
            .unwrap_or_default();
        let mut error = OAuthError::from_provider(code, description);
        if let Some(status) = self.status {
            error.status = status;
        }
        Err(error)
    }

    fn edits(&self) -> bool {
        false
    }

    fn maps_errors(&self) -> bool {
        true
    }

    fn reads_field(&self, key: &str) -> bool {
        let when = &self.when;
        let starts = |path: &FieldPath| path.0.first().is_some_and(|first| first == key);
        when.present.iter().any(starts)
            || when.absent.iter().any(starts)
            || when.nonzero.iter().any(starts)
            || when.equals.iter().any(|(path, _)| starts(path))
            || when.not_equals.iter().any(|(path, _)| starts(path))
            || self.error.as_ref().is_some_and(starts)
            || self.description.as_ref().is_some_and(starts)
    }
}

/// `unwrap`: replace the document by the object nested at a path (`data`).
#[derive(Debug)]
pub struct UnwrapObject(pub FieldPath);

impl ResponseRule for UnwrapObject {
    fn apply(&self, document: &mut Map<String, Value>) -> Result<(), OAuthError> {
        match self.0.get(document) {
            Some(Value::Object(inner)) => {
                *document = inner.clone();
                Ok(())
            }
            _ => Err(OAuthError::bad_gateway(
                format!("the provider's answer has no '{}' object", self.0),
                FailureKind::Protocol,
            )),
        }
    }
}

/// `rename: { json: … }`: rename top-level fields.
#[derive(Debug)]
pub struct RenameFields(pub Vec<(String, String)>);

impl ResponseRule for RenameFields {
    fn apply(&self, document: &mut Map<String, Value>) -> Result<(), OAuthError> {
        for (from, to) in &self.0 {
            if let Some(value) = document.remove(from) {
                document.insert(to.clone(), value);
            }
        }
        Ok(())
    }
}

/// `add: { json: … }`: add fields that are absent.
#[derive(Debug)]
pub struct AddFields(pub Vec<(String, Value)>);

impl ResponseRule for AddFields {
    fn apply(&self, document: &mut Map<String, Value>) -> Result<(), OAuthError> {
        for (name, value) in &self.0 {
            document
                .entry(name.clone())
                .or_insert_with(|| value.clone());
        }
        Ok(())
    }
}

/// `remove: { json: … }`: drop top-level fields.
#[derive(Debug)]
pub struct RemoveFields(pub Vec<String>);

impl ResponseRule for RemoveFields {
    fn apply(&self, document: &mut Map<String, Value>) -> Result<(), OAuthError> {
        for name in &self.0 {
            document.remove(name);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selected_fields_are_the_full_parse_restricted_to_them() {
        let body = br#"{"access_token":"act.1","data":{"error_code":0,"x":[1,{"y":null}]},"er\u0072or":"e","n":1.5}"#;
        let full: Map<String, Value> = serde_json::from_slice(body).unwrap();
        let keep = ["data", "error", "missing"];
        let selected = parse_object_fields(body, |k| keep.contains(&k)).unwrap();
        let expected: Map<String, Value> = full
            .into_iter()
            .filter(|(k, _)| keep.contains(&k.as_str()))
            .collect();
        assert_eq!(selected, expected);
        assert_eq!(
            selected["error"],
            json!("e"),
            "escaped names are matched decoded"
        );
        for not_one_object in [
            &b"[1]"[..],
            b"\"s\"",
            b"{\"a\":1} {}",
            b"{\"a\":}",
            b"{\"a\":1",
            b"<html>",
        ] {
            assert!(
                parse_object_fields(not_one_object, |_| true).is_none(),
                "{:?}",
                String::from_utf8_lossy(not_one_object)
            );
        }
    }

    fn shape(
        plan: &ResponsePlan,
        status: u16,
        ct: &str,
        body: &str,
    ) -> Result<CallerAnswer, OAuthError> {
        plan.shape(&ProviderAnswer {
            status,
            content_type: Some(bytes::Bytes::copy_from_slice(ct.as_bytes())),
            body: bytes::Bytes::copy_from_slice(body.as_bytes()),
        })
    }

    fn tiktok_errors() -> ErrorFrom {
        ErrorFrom {
            when: ErrorCondition {
                present: vec![FieldPath::parse("error")],
                absent: vec![FieldPath::parse("access_token")],
                ..Default::default()
            },
            error: Some(FieldPath::parse("error")),
            description: Some(FieldPath::parse("error_description")),
            codes: vec![],
            default: None,
            status: None,
        }
    }

    #[test]
    fn success_passes_through_byte_for_byte() {
        let plan = ResponsePlan {
            form_to_json: false,
            rules: vec![Box::new(tiktok_errors())],
        };
        // Unsorted keys, spaces and an escape: a re-serialized answer would differ.
        let body =
            r#"{"open_id": "o", "access_token":"act.1", "expires_in": 86400, "scope": "a\u0020b"}"#;
        let answer = shape(&plan, 200, "application/json", body).unwrap();
        assert_eq!((answer.status, &answer.body[..]), (200, body.as_bytes()));
    }

    #[test]
    fn error_in_a_200_becomes_400_with_the_providers_code() {
        let plan = ResponsePlan {
            form_to_json: false,
            rules: vec![Box::new(tiktok_errors())],
        };
        let err = shape(&plan, 200, "application/json",
            r#"{"error":"invalid_grant","error_description":"Authorization code is expired.","log_id":"x"}"#)
            .unwrap_err();
        assert_eq!((err.status, err.code.as_ref()), (400, "invalid_grant"));
        assert_eq!(err.description, "Authorization code is expired.");
    }

    #[test]
    fn rules_for_2xx_answers_leave_provider_errors_alone() {
        // `unwrap` finds no `data` in an error answer: it must not run there.
        let plan = ResponsePlan {
            form_to_json: false,
            rules: vec![Box::new(UnwrapObject(FieldPath::parse("data")))],
        };
        let body = r#"{"error":"invalid_grant","error_description":"expired"}"#;
        let answer = shape(&plan, 400, "application/json", body).unwrap();
        assert_eq!((answer.status, &answer.body[..]), (400, body.as_bytes()));
    }

    #[test]
    fn non_2xx_json_passes_with_its_status() {
        let plan = ResponsePlan::default();
        let answer = shape(
            &plan,
            401,
            "application/json",
            r#"{"error":"invalid_client"}"#,
        )
        .unwrap();
        assert_eq!(answer.status, 401);
    }

    #[test]
    fn non_rfc_error_shapes_become_rfc_errors() {
        let plan = ResponsePlan::default();
        let err = shape(
            &plan,
            401,
            "application/json",
            r#"{"message":"Unauthorized","error":401}"#,
        )
        .unwrap_err();
        assert_eq!(
            (err.status, err.code.as_ref(), err.description.as_ref()),
            (401, "invalid_client", "Unauthorized")
        );
        let err = shape(&plan, 503, "application/json", r#"{"status":"down"}"#).unwrap_err();
        assert_eq!(
            (err.status, err.code.as_ref()),
            (502, "temporarily_unavailable")
        );
        let err = shape(&plan, 403, "application/json", r#"{"message":"no scope"}"#).unwrap_err();
        assert_eq!((err.status, err.code.as_ref()), (403, "access_denied"));
        let err = shape(&plan, 429, "application/json", r#"{"message":"slow down"}"#).unwrap_err();
        assert_eq!((err.status, err.code.as_ref()), (429, "invalid_request"));
    }

    #[test]
    fn error_mappings_apply_to_non_2xx_answers_keeping_the_4xx_status() {
        let rule = ErrorFrom {
            when: ErrorCondition {
                not_equals: vec![(FieldPath::parse("error.code"), serde_json::json!("ok"))],
                ..Default::default()
            },
            error: Some(FieldPath::parse("error.code")),
            description: Some(FieldPath::parse("error.message")),
            codes: vec![],
            default: Some("invalid_token".into()),
            status: None,
        };
        let plan = ResponsePlan {
            form_to_json: false,
            rules: vec![Box::new(rule)],
        };
        let err = shape(
            &plan,
            401,
            "application/json",
            r#"{"data":{},"error":{"code":"access_token_invalid","message":"bad token"}}"#,
        )
        .unwrap_err();
        assert_eq!(
            (err.status, err.code.as_ref(), err.description.as_ref()),
            (401, "invalid_token", "bad token")
        );
    }

    #[test]
    fn html_error_page_is_a_502() {
        let err = shape(
            &ResponsePlan::default(),
            500,
            "text/html",
            "<html>oops</html>",
        )
        .unwrap_err();
        assert_eq!((err.status, err.reason.as_str()), (502, "not_json"));
    }

    #[test]
    fn wechat_errcode_maps_through_the_code_table() {
        let rule = ErrorFrom {
            when: ErrorCondition {
                nonzero: vec![FieldPath::parse("errcode")],
                ..Default::default()
            },
            error: Some(FieldPath::parse("errcode")),
            description: Some(FieldPath::parse("errmsg")),
            codes: vec![("40125".into(), "invalid_client".into())],
            default: Some("invalid_grant".into()),
            status: None,
        };
        let plan = ResponsePlan {
            form_to_json: false,
            rules: vec![Box::new(rule)],
        };
        let err = shape(
            &plan,
            200,
            "text/plain",
            r#"{"errcode":40029,"errmsg":"invalid code"}"#,
        )
        .unwrap_err();
        assert_eq!(
            (err.status, err.code.as_ref(), err.description.as_ref()),
            (400, "invalid_grant", "invalid code")
        );
        let err = shape(
            &plan,
            200,
            "text/plain",
            r#"{"errcode":40125,"errmsg":"bad secret"}"#,
        )
        .unwrap_err();
        assert_eq!(err.status, 401);
        assert!(shape(
            &plan,
            200,
            "text/plain",
            r#"{"access_token":"a","errcode":0}"#
        )
        .is_ok());
    }

    #[test]
    fn unwrap_then_add_builds_a_flat_token_answer() {
        let plan = ResponsePlan {
            form_to_json: false,
            rules: vec![
                Box::new(UnwrapObject(FieldPath::parse("data"))),
                Box::new(RemoveFields(vec![
                    "error_code".into(),
                    "description".into(),
                ])),
                Box::new(AddFields(vec![("token_type".into(), json!("Bearer"))])),
            ],
        };
        let answer = shape(&plan, 200, "application/json",
            r#"{"data":{"access_token":"a","open_id":"o","error_code":0,"description":""},"message":"success"}"#)
            .unwrap();
        let v: Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(
            v,
            json!({"access_token":"a","open_id":"o","token_type":"Bearer"})
        );
    }

    #[test]
    fn form_answers_become_json() {
        let plan = ResponsePlan {
            form_to_json: true,
            rules: vec![Box::new(RenameFields(vec![(
                "scope".into(),
                "granted".into(),
            )]))],
        };
        let answer = shape(
            &plan,
            200,
            "application/x-www-form-urlencoded",
            "access_token=gho_1&scope=read%3Auser&token_type=bearer",
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(
            v,
            json!({"access_token":"gho_1","granted":"read:user","token_type":"bearer"})
        );
    }

    #[test]
    fn form_answers_become_json_even_when_the_rules_only_look() {
        // GitHub's shape: form answers, errors in a 200, no rule that edits.
        let plan = ResponsePlan {
            form_to_json: true,
            rules: vec![Box::new(tiktok_errors())],
        };
        let form = "application/x-www-form-urlencoded";
        let answer = shape(&plan, 200, form, "access_token=gho_1&token_type=bearer").unwrap();
        let v: Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(v, json!({"access_token":"gho_1","token_type":"bearer"}));
        let err = shape(
            &plan,
            200,
            form,
            "error=bad_verification_code&error_description=gone",
        )
        .unwrap_err();
        assert_eq!(
            (err.status, err.code.as_ref()),
            (400, "bad_verification_code")
        );
        // JSON answers on such a route are still read as JSON, byte for byte.
        let body = r#"{"access_token": "gho_2", "token_type": "bearer"}"#;
        let answer = shape(&plan, 200, "application/json", body).unwrap();
        assert_eq!(&answer.body[..], body.as_bytes());
    }

    #[test]
    fn only_routes_that_ask_turn_form_answers_into_json() {
        let renames = || -> Vec<Box<dyn ResponseRule>> {
            vec![Box::new(RenameFields(vec![(
                "scope".into(),
                "granted".into(),
            )]))]
        };
        let json_only = ResponsePlan {
            form_to_json: false,
            rules: renames(),
        };
        let err = shape(
            &json_only,
            200,
            "application/x-www-form-urlencoded",
            "access_token=a",
        )
        .unwrap_err();
        assert_eq!(err.status, 502);
        let form_too = ResponsePlan {
            form_to_json: true,
            rules: renames(),
        };
        let answer = shape(
            &form_too,
            200,
            "application/json",
            r#"{"access_token":"a","scope":"s"}"#,
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(v, json!({"access_token":"a","granted":"s"}));
    }

    #[test]
    fn error_conditions_compare_values_and_read_nonzero_like_providers_write_it() {
        let document = |v: Value| v.as_object().unwrap().clone();
        let equals = ErrorCondition {
            equals: vec![(FieldPath::parse("data.ok"), json!(false))],
            ..Default::default()
        };
        assert!(equals.holds(&document(json!({"data": {"ok": false}}))));
        assert!(!equals.holds(&document(json!({"data": {"ok": true}}))));
        assert!(!equals.holds(&document(json!({"data": {}}))));
        let nonzero = ErrorCondition {
            nonzero: vec![FieldPath::parse("code")],
            ..Default::default()
        };
        for (code, holds) in [
            (json!(0), false),
            (json!(0.0), false),
            (json!(40029), true),
            (json!("0"), false),
            (json!(""), false),
            (json!("10007"), true),
            (json!(false), false),
            (json!(true), true),
            (Value::Null, false),
            (json!({"x": 1}), true),
        ] {
            let doc = document(json!({ "code": code }));
            assert_eq!(nonzero.holds(&doc), holds, "{code}");
        }
        assert!(
            !nonzero.holds(&document(json!({}))),
            "absent is not nonzero"
        );
    }

    #[test]
    fn a_missing_object_to_unwrap_is_a_502_naming_its_path() {
        let unwrap = UnwrapObject(FieldPath::parse("data.user"));
        let err = unwrap
            .apply(&mut json!({"data": {"user": "x"}}).as_object().unwrap().clone())
            .unwrap_err();
        assert_eq!(err.status, 502);
        assert_eq!(
            err.description,
            "the provider's answer has no 'data.user' object"
        );
    }

    #[test]
    fn error_from_reads_exactly_the_top_level_fields_it_names() {
        let rule = ErrorFrom {
            when: ErrorCondition {
                present: vec![FieldPath::parse("p.x")],
                absent: vec![FieldPath::parse("a")],
                nonzero: vec![FieldPath::parse("n")],
                equals: vec![(FieldPath::parse("e"), json!(1))],
                not_equals: vec![(FieldPath::parse("ne.code"), json!("ok"))],
            },
            error: Some(FieldPath::parse("err")),
            description: Some(FieldPath::parse("desc")),
            codes: vec![],
            default: None,
            status: None,
        };
        for key in ["p", "a", "n", "e", "ne", "err", "desc"] {
            assert!(rule.reads_field(key), "{key}");
        }
        for key in ["x", "code", "access_token", ""] {
            assert!(!rule.reads_field(key), "{key}");
        }
        // Each kind of path alone is read too.
        let alone = ErrorFrom {
            when: ErrorCondition::default(),
            error: None,
            description: None,
            ..rule
        };
        assert!(!alone.reads_field("err"));
        assert!(!alone.edits(), "error_from only looks");
        assert!(alone.maps_errors());
    }
}
