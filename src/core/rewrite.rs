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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::form::parse_form;
    use crate::plan::file::load_preset;
    use crate::plan::rule_specs::compile_request_rules;
    use base64::Engine;

    fn tiktok_rules() -> Vec<Box<dyn RequestRule>> {
        compile_request_rules(&load_preset("tiktok").unwrap().request).unwrap()
    }

    fn decoded(body: &str) -> Vec<(String, String)> {
        parse_form(body.as_bytes())
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p.name.decoded().into_owned(),
                    p.value.decoded().into_owned(),
                )
            })
            .collect()
    }

    const AUTH0_BODY: &str = "grant_type=authorization_code&code=C%2A1%21x&redirect_uri=https%3A%2F%2Ftenant.auth0.com%2Flogin%2Fcallback&client_id=aw123&client_secret=s3cr%2Bt";

    #[test]
    fn tiktok_renames_client_id_and_keeps_everything_else_verbatim() {
        let rules = tiktok_rules();
        let out = rewrite(&rules, AUTH0_BODY.as_bytes(), None).unwrap();
        assert_eq!(out.body, AUTH0_BODY.replace("client_id=", "client_key="));
        assert_eq!(out.grant_type.as_deref(), Some("authorization_code"));
        assert!(out.headers.is_empty() && out.query.is_empty());
    }

    #[test]
    fn tiktok_takes_basic_credentials_into_the_body() {
        let rules = tiktok_rules();
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("aw123:s3cr%2Bt")
        );
        let body = b"grant_type=refresh_token&refresh_token=rt.1";
        let out = rewrite(&rules, body, Some(&basic)).unwrap();
        assert!(
            out.headers.is_empty(),
            "the Authorization header must not be forwarded"
        );
        assert_eq!(
            decoded(&out.body),
            vec![
                ("grant_type".into(), "refresh_token".into()),
                ("refresh_token".into(), "rt.1".into()),
                ("client_key".into(), "aw123".into()),
                ("client_secret".into(), "s3cr+t".into()),
            ]
        );
    }

    #[test]
    fn tiktok_without_credentials_is_invalid_client() {
        let rules = tiktok_rules();
        let err = rewrite(&rules, b"grant_type=authorization_code&code=c", None)
            .err()
            .unwrap();
        assert_eq!((err.status, err.code.as_ref()), (401, "invalid_client"));
    }

    #[test]
    fn wechat_moves_credentials_to_the_query_of_a_get() {
        let rules = compile_request_rules(&load_preset("wechat").unwrap().request).unwrap();
        let out = rewrite(&rules, AUTH0_BODY.as_bytes(), None).unwrap();
        assert_eq!(out.method, TokenMethod::Get);
        assert!(out.body.is_empty());
        assert_eq!(
            decoded(&out.query),
            vec![
                ("appid".into(), "aw123".into()),
                ("secret".into(), "s3cr+t".into()),
                ("code".into(), "C*1!x".into()),
                ("grant_type".into(), "authorization_code".into()),
            ]
        );
    }
}
