//! The pure core of a token exchange: a caller's form body (and Authorization
//! header) in, the provider's request out. No network or Pingora types here.

use std::borrow::Cow;

use crate::form::{append_form, parse_form, FormText, Param};
use crate::oauth_error::OAuthError;
use crate::rules::request::{BodyFormat, Place, RequestRule, TokenMethod, TokenRequest};

/// The request the provider gets, before any HTTP framing.
pub struct RewrittenRequest<'a> {
    pub method: TokenMethod,
    /// The body (empty for GET: parameters left in the body are not sent).
    pub body: String,
    /// Form, or JSON when a `json_body` rule asked for it.
    pub body_format: BodyFormat,
    /// Encoded parameters the rules put in the query.
    pub query: String,
    /// Headers the rules produced (lowercase names, plain values).
    pub headers: Vec<Param<'a>>,
    /// The grant type, which decides whether a fully sent exchange may ever be sent again.
    pub grant_type: Option<Cow<'a, str>>,
}

/// Parses the caller's request and runs the route's rules over it.
pub fn rewrite<'a>(
    rules: &'a [Box<dyn RequestRule>],
    body: &'a [u8],
    authorization: Option<&'a str>,
) -> Result<RewrittenRequest<'a>, OAuthError> {
    let mut request = TokenRequest::new(TokenMethod::Post, parse_form(body)?);
    if let Some(value) = authorization {
        request.headers.push(Param {
            name: FormText::plain("authorization"),
            value: FormText::plain(value),
        });
    }
    let grant_type = request.value(Place::Body, "grant_type");
    for rule in rules {
        rule.apply(&mut request)?;
    }
    let mut query = String::new();
    append_form(&request.query, &mut query);
    let body = match (request.method, request.body_format) {
        (TokenMethod::Post, BodyFormat::Form) => crate::form::encode_form(&request.body),
        (TokenMethod::Post, BodyFormat::Json) => json_object(&request.body),
        (TokenMethod::Get, _) => String::new(),
    };
    Ok(RewrittenRequest {
        method: request.method,
        body,
        body_format: request.body_format,
        query,
        headers: request.headers,
        grant_type,
    })
}

/// The body parameters as one JSON object of decoded string values; a name
/// given twice (by `append`) keeps its last value.
fn json_object(params: &[crate::form::Param<'_>]) -> String {
    let object: serde_json::Map<String, serde_json::Value> = params
        .iter()
        .map(|p| {
            (
                p.name.decoded().into_owned(),
                serde_json::Value::String(p.value.decoded().into_owned()),
            )
        })
        .collect();
    serde_json::Value::Object(object).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::request::{JsonBody, RenameParams};

    #[test]
    fn json_body_carries_decoded_values_under_renamed_names() {
        let rules: Vec<Box<dyn RequestRule>> = vec![
            Box::new(RenameParams {
                place: Place::Body,
                pairs: vec![
                    ("client_id".into(), "clientId".into()),
                    ("grant_type".into(), "grantType".into()),
                ],
            }),
            Box::new(JsonBody),
        ];
        let out = rewrite(
            &rules,
            b"grant_type=authorization_code&code=a%2Bb+c&client_id=id%22q",
            None,
        )
        .unwrap();
        assert_eq!(out.body_format, BodyFormat::Json);
        let body: serde_json::Value = serde_json::from_str(&out.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"grantType": "authorization_code", "code": "a+b c", "clientId": "id\"q"})
        );
        assert_eq!(out.grant_type.as_deref(), Some("authorization_code"));
    }
}
