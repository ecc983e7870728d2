//! The response rules: `error_from`, `unwrap`, `rename`, `convert`, `add` and `remove`.

use serde_json::{Map, Value};

use super::{FieldPath, ResponseRule};
use crate::oauth_error::{FailureKind, OAuthError};

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
    pub(super) fn holds(&self, document: &Map<String, Value>) -> bool {
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
