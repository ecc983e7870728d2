//! Response rules: turn a provider's answer into what a standard OAuth 2.0
//! client expects (RFC 6749 §5.1 / §5.2): unwrap nested objects, rename and
//! add fields, and map provider-specific error shapes to RFC errors.

use serde_json::{Map, Value};

use crate::http1::{CallerAnswer, ProviderAnswer};
use crate::json_object::object_fields;
use crate::oauth_error::{FailureKind, OAuthError, Reason};

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
    /// The top-level fields the rule may read, or `None` for any field.
    /// Rules that only read are run on a document holding just these.
    fn fields_read(&self) -> Option<Vec<String>> {
        None
    }
}

/// The compiled response side of a route.
#[derive(Debug, Default)]
pub struct ResponsePlan {
    /// Accept `application/x-www-form-urlencoded` answers and turn them into JSON.
    pub form_to_json: bool,
    /// Also take a form labelled with another Content-Type (QQ's `text/html`):
    /// any answer that is not a JSON object is read as a form.
    pub form_any_content_type: bool,
    /// Unwrap `callback( {...} );` (JSONP) before anything else reads the answer.
    pub jsonp: bool,
    pub rules: Vec<Box<dyn ResponseRule>>,
    /// The top-level fields the rules read, when every rule names them
    /// (`None`: any field); see [`ResponsePlan::with_fields_read`].
    pub fields_read: Option<Vec<String>>,
}

impl ResponsePlan {
    /// Lists, once at load, the top-level fields the rules read, so that a
    /// 2xx answer the rules only look at is checked against this list
    /// instead of asking each rule about each field.
    pub fn with_fields_read(mut self) -> Self {
        let mut fields = Vec::new();
        for rule in &self.rules {
            match rule.fields_read() {
                Some(names) => fields.extend(names),
                None => {
                    self.fields_read = None;
                    return self;
                }
            }
        }
        fields.sort_unstable();
        fields.dedup();
        self.fields_read = Some(fields);
        self
    }

    /// Shapes a provider answer. Non-JSON answers are a gateway failure (502);
    /// non-2xx JSON answers pass through; 2xx answers go through the rules.
    pub fn shape(&self, answer: &ProviderAnswer) -> Result<CallerAnswer, OAuthError> {
        if self.jsonp {
            if let Some(payload) = jsonp_payload(&answer.body) {
                let unwrapped = ProviderAnswer {
                    status: answer.status,
                    content_type: Some(bytes::Bytes::from_static(b"application/json")),
                    body: answer.body.slice(payload),
                };
                return self.shape_unwrapped(&unwrapped);
            }
        }
        self.shape_unwrapped(answer)
    }

    fn shape_unwrapped(&self, answer: &ProviderAnswer) -> Result<CallerAnswer, OAuthError> {
        let original = &answer.body;
        let is_form = self.form_to_json
            && (answer
                .content_type_text()
                .is_some_and(|ct| mime_is(ct, "application/x-www-form-urlencoded"))
                || (self.form_any_content_type && !looks_like_json_object(&answer.body)));
        if (200..300).contains(&answer.status) && !is_form && !self.rules.iter().any(|r| r.edits())
        {
            // Nothing to rewrite: the rules only look, so only the fields they
            // read are built; the provider's bytes go back as they came.
            let mut document = object_fields(&answer.body, |key| {
                self.fields_read
                    .as_ref()
                    .is_none_or(|fields| fields.iter().any(|field| field == key))
            })
            .ok_or_else(|| not_json(answer.status))?;
            for rule in &self.rules {
                rule.apply(&mut document)?;
            }
            return Ok(CallerAnswer::json(answer.status, original.clone()));
        }
        let (mut document, converted) = if is_form {
            let malformed = || {
                OAuthError::bad_gateway(
                    "the provider answered with a malformed form",
                    FailureKind::Protocol,
                )
            };
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&answer.body).map_err(|_| malformed())?;
            // Read whatever its label says, a form must look like one: an HTML
            // page is not a token answer.
            if self.form_any_content_type
                && (pairs.is_empty() || !pairs.iter().all(|(name, _)| is_form_name(name)))
            {
                return Err(not_json(answer.status));
            }
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

/// The byte range of the JSON inside `callback( {...} );`, if the body is JSONP.
pub fn jsonp_payload(body: &[u8]) -> Option<std::ops::Range<usize>> {
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    let open = start + body[start..].iter().position(|&b| b == b'(')?;
    let name = body[start..open].trim_ascii_end();
    let is_callback_name = !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'.');
    if !is_callback_name {
        return None;
    }
    let close = body.iter().rposition(|&b| b == b')')?;
    let tail = &body[close + 1..];
    let tail_ok = tail.iter().all(|&b| b == b';' || b.is_ascii_whitespace());
    (close > open && tail_ok).then(|| open + 1..close)
}

fn looks_like_json_object(body: &[u8]) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// A field name as form-encoded token answers use them.
fn is_form_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

fn not_json(status: u16) -> OAuthError {
    OAuthError::new(
        502,
        "temporarily_unavailable",
        format!("the provider answered HTTP {status} without a JSON object"),
        Reason::NotJson,
    )
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

/// A dotted path into the JSON document (`data.error_code`); a number
/// steps into an array (`response.0`: VK's first user, `data.0`: Twitch's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldPath(pub Vec<String>);

/// One step down from `value`: a field of an object, an element of an array.
fn step<'d>(value: &'d Value, key: &str) -> Option<&'d Value> {
    match value {
        Value::Object(map) => map.get(key),
        Value::Array(items) => items.get(key.parse::<usize>().ok()?),
        _ => None,
    }
}

fn step_mut<'d>(value: &'d mut Value, key: &str) -> Option<&'d mut Value> {
    match value {
        Value::Object(map) => map.get_mut(key),
        Value::Array(items) => items.get_mut(key.parse::<usize>().ok()?),
        _ => None,
    }
}

/// `"data.user".into()`: a path from its dotted text.
impl From<&str> for FieldPath {
    fn from(text: &str) -> Self {
        FieldPath::parse(text)
    }
}

impl FieldPath {
    pub fn parse(text: &str) -> Self {
        FieldPath(text.split('.').map(str::to_owned).collect())
    }

    /// Whether every step names something (no `a..b`, no trailing dot).
    pub fn is_well_formed(&self) -> bool {
        self.0.iter().all(|key| !key.is_empty())
    }

    pub fn get<'d>(&self, document: &'d Map<String, Value>) -> Option<&'d Value> {
        let (first, rest) = self.0.split_first()?;
        let mut value = document.get(first)?;
        for key in rest {
            value = step(value, key)?;
        }
        Some(value)
    }

    pub fn get_mut<'d>(&self, document: &'d mut Map<String, Value>) -> Option<&'d mut Value> {
        let (first, rest) = self.0.split_first()?;
        let mut value = document.get_mut(first)?;
        for key in rest {
            value = step_mut(value, key)?;
        }
        Some(value)
    }

    /// Takes the value out: removed from its object, or left `null` in its array.
    pub fn take(&self, document: &mut Map<String, Value>) -> Option<Value> {
        let (last, parents) = self.0.split_last()?;
        if parents.is_empty() {
            return document.remove(last);
        }
        match FieldPath(parents.to_vec()).get_mut(document)? {
            Value::Object(map) => map.remove(last),
            Value::Array(items) => items
                .get_mut(last.parse::<usize>().ok()?)
                .map(std::mem::take),
            _ => None,
        }
    }

    /// Puts a value at the path, making the objects on the way; `false` when
    /// something that is not an object stands in the way.
    pub fn put(&self, document: &mut Map<String, Value>, value: Value) -> bool {
        let Some((last, parents)) = self.0.split_last() else {
            return false;
        };
        let mut map = document;
        for key in parents {
            let next = map
                .entry(key.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            match next {
                Value::Object(inner) => map = inner,
                _ => return false,
            }
        }
        map.insert(last.clone(), value);
        true
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

    fn fields_read(&self) -> Option<Vec<String>> {
        let when = &self.when;
        let paths = when
            .present
            .iter()
            .chain(&when.absent)
            .chain(&when.nonzero)
            .chain(when.equals.iter().map(|(path, _)| path))
            .chain(when.not_equals.iter().map(|(path, _)| path))
            .chain(&self.error)
            .chain(&self.description);
        Some(paths.filter_map(|path| path.0.first().cloned()).collect())
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

/// `rename: { json: … }`: move fields, top-level or nested
/// (`owner.user.id: user_id`), keeping their values.
#[derive(Debug)]
pub struct RenameFields(pub Vec<(FieldPath, FieldPath)>);

impl ResponseRule for RenameFields {
    fn apply(&self, document: &mut Map<String, Value>) -> Result<(), OAuthError> {
        for (from, to) in &self.0 {
            if let Some(value) = from.take(document) {
                to.put(document, value);
            }
        }
        Ok(())
    }
}

/// How `convert` changes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conversion {
    /// `"86400"` → `86400` (Douyin's `expires_in`); other values stay.
    Number,
    /// `12345` → `"12345"` (Kakao's numeric `id`); other values stay.
    String,
    /// `["a", "b"]` → `"a b"`: RFC 6749 §3.3 scope (Twitch, Kuaishou).
    SpaceSeparated,
}

impl Conversion {
    pub fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "number" => Conversion::Number,
            "string" => Conversion::String,
            "space_separated" => Conversion::SpaceSeparated,
            _ => return None,
        })
    }

    fn convert(self, value: &mut Value) {
        let converted = match (self, &*value) {
            (Conversion::Number, Value::String(text)) => {
                let text = text.trim();
                text.parse::<u64>()
                    .map(Value::from)
                    .or_else(|_| text.parse::<i64>().map(Value::from))
                    .ok()
                    .or_else(|| {
                        text.parse::<f64>()
                            .ok()
                            .and_then(serde_json::Number::from_f64)
                            .map(Value::Number)
                    })
            }
            (Conversion::String, Value::Number(n)) => Some(Value::String(n.to_string())),
            (Conversion::String, Value::Bool(b)) => Some(Value::String(b.to_string())),
            (Conversion::SpaceSeparated, Value::Array(items)) => Some(Value::String(
                items.iter().map(text_of).collect::<Vec<_>>().join(" "),
            )),
            _ => None,
        };
        if let Some(converted) = converted {
            *value = converted;
        }
    }
}

/// `convert: { json: { expires_in: number } }`: change the type of values a
/// standard client would refuse; a value already of the wanted kind stays.
#[derive(Debug)]
pub struct ConvertValues(pub Vec<(FieldPath, Conversion)>);

impl ResponseRule for ConvertValues {
    fn apply(&self, document: &mut Map<String, Value>) -> Result<(), OAuthError> {
        for (path, conversion) in &self.0 {
            if let Some(value) = path.get_mut(document) {
                conversion.convert(value);
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
            form_any_content_type: false,
            jsonp: false,
            form_to_json: false,
            rules: vec![Box::new(tiktok_errors())],
            ..Default::default()
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
            form_any_content_type: false,
            jsonp: false,
            form_to_json: false,
            rules: vec![Box::new(tiktok_errors())],
            ..Default::default()
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
            form_any_content_type: false,
            jsonp: false,
            form_to_json: false,
            rules: vec![Box::new(UnwrapObject(FieldPath::parse("data")))],
            ..Default::default()
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
            form_any_content_type: false,
            jsonp: false,
            form_to_json: false,
            rules: vec![Box::new(rule)],
            ..Default::default()
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
            form_any_content_type: false,
            jsonp: false,
            form_to_json: false,
            rules: vec![Box::new(rule)],
            ..Default::default()
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
            form_any_content_type: false,
            jsonp: false,
            form_to_json: false,
            rules: vec![
                Box::new(UnwrapObject(FieldPath::parse("data"))),
                Box::new(RemoveFields(vec![
                    "error_code".into(),
                    "description".into(),
                ])),
                Box::new(AddFields(vec![("token_type".into(), json!("Bearer"))])),
            ],
            ..Default::default()
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
            form_any_content_type: false,
            jsonp: false,
            form_to_json: true,
            rules: vec![Box::new(RenameFields(vec![(
                "scope".into(),
                "granted".into(),
            )]))],
            ..Default::default()
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
            ..Default::default()
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
            rules: renames(),
            ..Default::default()
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
            ..Default::default()
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
        let mut read = rule.fields_read().unwrap();
        read.sort();
        assert_eq!(read, ["a", "desc", "e", "err", "n", "ne", "p"]);
        // Without paths there is nothing to read.
        let alone = ErrorFrom {
            when: ErrorCondition::default(),
            error: None,
            description: None,
            ..rule
        };
        assert_eq!(alone.fields_read(), Some(vec![]));
        assert!(!alone.edits(), "error_from only looks");
        assert!(alone.maps_errors());
    }

    #[test]
    fn element_paths_step_into_arrays_and_renames_reach_nested_fields() {
        let mut doc: Map<String, Value> = serde_json::from_value(
            json!({"response": [{"id": 1, "first_name": "A"}], "owner": {"user": {"id": "u1"}}}),
        )
        .unwrap();
        assert_eq!(FieldPath::parse("response.0.id").get(&doc), Some(&json!(1)));
        assert_eq!(FieldPath::parse("response.1.id").get(&doc), None);
        assert_eq!(FieldPath::parse("response.x").get(&doc), None);
        RenameFields(vec![
            (
                FieldPath::parse("owner.user.id"),
                FieldPath::parse("user_id"),
            ),
            (
                FieldPath::parse("response.0.first_name"),
                FieldPath::parse("profile.name"),
            ),
        ])
        .apply(&mut doc)
        .unwrap();
        assert_eq!(
            Value::Object(doc),
            json!({"response": [{"id": 1}], "owner": {"user": {}}, "user_id": "u1", "profile": {"name": "A"}})
        );
    }

    #[test]
    fn conversions_change_only_values_of_the_other_kind() {
        let mut doc: Map<String, Value> = serde_json::from_value(json!({
            "expires_in": "86400", "refresh_expires_in": 100, "bad": "soon",
            "id": 1234567890123u64, "scope": ["user:read:email", "openid"], "flag": true
        }))
        .unwrap();
        ConvertValues(vec![
            (FieldPath::parse("expires_in"), Conversion::Number),
            (FieldPath::parse("refresh_expires_in"), Conversion::Number),
            (FieldPath::parse("bad"), Conversion::Number),
            (FieldPath::parse("id"), Conversion::String),
            (FieldPath::parse("flag"), Conversion::String),
            (FieldPath::parse("scope"), Conversion::SpaceSeparated),
            (FieldPath::parse("missing"), Conversion::Number),
        ])
        .apply(&mut doc)
        .unwrap();
        assert_eq!(
            Value::Object(doc),
            json!({"expires_in": 86400, "refresh_expires_in": 100, "bad": "soon",
                   "id": "1234567890123", "scope": "user:read:email openid", "flag": "true"})
        );
    }

    #[test]
    fn jsonp_is_unwrapped_before_the_rules_and_only_when_it_is_jsonp() {
        let body = b" callback( {\"error\":100019} );\n";
        let payload = jsonp_payload(body).unwrap();
        assert_eq!(&body[payload], b" {\"error\":100019} ");
        for not_jsonp in [
            &b"{\"a\":1}"[..],
            b"(1)",
            b"call back({})",
            b"cb({}) x",
            b"cb({",
        ] {
            assert_eq!(
                jsonp_payload(not_jsonp),
                None,
                "{:?}",
                String::from_utf8_lossy(not_jsonp)
            );
        }
        let plan = ResponsePlan {
            form_to_json: true,
            form_any_content_type: true,
            jsonp: true,
            rules: vec![Box::new(ErrorFrom {
                when: ErrorCondition {
                    present: vec![FieldPath::parse("error")],
                    ..Default::default()
                },
                error: Some(FieldPath::parse("error")),
                description: Some(FieldPath::parse("error_description")),
                codes: vec![("100019".into(), "invalid_grant".into())],
                default: None,
                status: None,
            })],
            fields_read: None,
        };
        let err = shape(
            &plan,
            200,
            "text/html",
            "callback( {\"error\":100019,\"error_description\":\"code to access token error\"} );",
        )
        .unwrap_err();
        assert_eq!(
            (err.status, err.code.as_ref(), err.description.as_ref()),
            (400, "invalid_grant", "code to access token error")
        );
        // QQ labels its form answer text/html.
        let answer = shape(
            &plan,
            200,
            "text/html",
            "access_token=qq1&expires_in=7776000&refresh_token=r",
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(
            v,
            json!({"access_token": "qq1", "expires_in": "7776000", "refresh_token": "r"})
        );
        // An HTML page is still not a token answer.
        let err = shape(&plan, 200, "text/html", "<html>down</html>").unwrap_err();
        assert_eq!((err.status, err.reason.as_str()), (502, "not_json"));
    }
}
