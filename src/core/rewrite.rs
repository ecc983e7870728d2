//! The pure core of a token exchange: a caller's form body (and Authorization
//! header) in, the provider's request out. No network or Pingora types here.

use std::borrow::Cow;

use crate::core::form::{append_form, parse_form, FormText, Param};
use crate::core::oauth_error::OAuthError;
use crate::core::rules::request::{Place, RequestRule, TokenMethod, TokenRequest};

/// The request the provider gets, before any HTTP framing.
pub struct RewrittenRequest<'a> {
    pub method: TokenMethod,
    /// Form body (empty for GET: parameters left in the body are not sent).
    pub body: String,
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
    let body = match request.method {
        TokenMethod::Post => crate::core::form::encode_form(&request.body),
        TokenMethod::Get => String::new(),
    };
    Ok(RewrittenRequest {
        method: request.method,
        body,
        query,
        headers: request.headers,
        grant_type,
    })
}
