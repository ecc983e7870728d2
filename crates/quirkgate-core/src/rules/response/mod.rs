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
    /// A signed answer (Alipay's) is checked on its raw bytes before anything reads it.
    pub signature: Option<crate::rules::signed::AnswerSignature>,
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
        if let Some(signature) = &self.signature {
            signature.check(&answer.body)?;
        }
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

mod fields;
mod path;
#[cfg(test)]
mod tests;

pub use fields::*;
pub use path::FieldPath;
