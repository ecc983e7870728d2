//! Client credential rules: Basic into the body and back, and the credentials
//! the gateway signs itself (Apple's client secret, RFC 7523 assertions).

use std::borrow::Cow;

use base64::Engine;

use crate::credentials;
use crate::form::{encode_component, Param};
use crate::oauth_error::{OAuthError, Reason};

use super::{Place, RequestRule, TokenRequest};

/// `basic_to_body`: RFC 6749 §2.3.1 client credentials from an
/// `Authorization: Basic` header into body parameters; the header is consumed.
#[derive(Debug)]
pub struct BasicToBody {
    pub id: String,
    pub secret: String,
}

impl RequestRule for BasicToBody {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        let Some(header) = request.take(Place::Headers, "authorization") else {
            return Ok(());
        };
        let in_body = request.find(Place::Body, &self.id).is_some()
            || request.find(Place::Body, &self.secret).is_some();
        // RFC 6749 §2.3: a client MUST NOT use more than one authentication method.
        let (id, secret) = credentials::basic_alone(&header.decoded(), in_body)?;
        request.body.push(Param::plain(&self.id, Cow::Owned(id)));
        request
            .body
            .push(Param::plain(&self.secret, Cow::Owned(secret)));
        Ok(())
    }
}

/// `body_to_basic`: body credentials into an `Authorization: Basic` header,
/// for providers that accept no other client authentication.
#[derive(Debug)]
pub struct BodyToBasic {
    pub id: String,
    pub secret: String,
    /// Leave the id in the body too (X wants both), and leave a public
    /// client (an id and no secret) as it is.
    pub keep_id: bool,
}

impl RequestRule for BodyToBasic {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        let (id, secret) = if self.keep_id {
            if request.find(Place::Body, &self.secret).is_none() {
                return Ok(());
            }
            let id = request
                .find(Place::Body, &self.id)
                .map(|i| request.body[i].value.clone());
            (id, request.take(Place::Body, &self.secret))
        } else {
            (
                request.take(Place::Body, &self.id),
                request.take(Place::Body, &self.secret),
            )
        };
        let (id, secret) = match (id, secret) {
            (None, None) => return Ok(()),
            (id, secret) => (
                id.map(|t| t.decoded()).unwrap_or_default(),
                secret.map(|t| t.decoded()).unwrap_or_default(),
            ),
        };
        if request.find(Place::Headers, "authorization").is_some() {
            return Err(OAuthError::invalid_request(
                "client credentials sent both in the Authorization header and in the body",
                Reason::Conflict,
            ));
        }
        let mut pair = String::with_capacity(id.len() + secret.len() + 8);
        encode_component(&id, &mut pair);
        pair.push(':');
        encode_component(&secret, &mut pair);
        let value = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        );
        request
            .headers
            .push(Param::plain("authorization", Cow::Owned(value)));
        Ok(())
    }
}

/// Puts the route's own `client_id` in the body: refuses another one (the
/// provider would refuse a credential signed for someone else), adds it when
/// the caller sent none.
fn claim_client_id<'a>(
    request: &mut TokenRequest<'a>,
    client_id: &'a str,
) -> Result<(), OAuthError> {
    match request.find(Place::Body, "client_id") {
        Some(index) if !request.body[index].value.is(client_id) => Err(OAuthError::invalid_client(
            "this route signs client credentials for another client_id",
        )),
        Some(_) => Ok(()),
        None => {
            request
                .body
                .push(Param::plain("client_id", Cow::Borrowed(client_id)));
            Ok(())
        }
    }
}

/// `signed_client_secret`: the `client_secret` is a JWT the gateway signs
/// (Sign in with Apple); whatever the caller sent as a secret is replaced,
/// so the broker holds nothing that expires.
#[derive(Debug)]
pub struct SignedClientSecret {
    pub minter: crate::signed_jwt::JwtMinter,
    /// The `sub` of the token: the only client id the route serves.
    pub client_id: String,
}

impl RequestRule for SignedClientSecret {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        claim_client_id(request, &self.client_id)?;
        let token = self.minter.token(std::time::SystemTime::now())?;
        request.take(Place::Body, "client_secret");
        request
            .body
            .push(Param::plain("client_secret", Cow::Owned(token.to_string())));
        Ok(())
    }
}

/// The `client_assertion_type` of RFC 7523 §2.2.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// `client_assertion`: RFC 7523 `private_key_jwt` client authentication in
/// place of a client secret (which is dropped if the caller sent one).
#[derive(Debug)]
pub struct ClientAssertion {
    pub minter: crate::signed_jwt::JwtMinter,
    pub client_id: String,
}

impl RequestRule for ClientAssertion {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        claim_client_id(request, &self.client_id)?;
        let token = self.minter.token(std::time::SystemTime::now())?;
        request.take(Place::Body, "client_secret");
        request.body.push(Param::plain(
            "client_assertion_type",
            Cow::Borrowed(JWT_BEARER_ASSERTION),
        ));
        request.body.push(Param::plain(
            "client_assertion",
            Cow::Owned(token.to_string()),
        ));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::parse_basic;
    use crate::form::{encode_form, parse_form};
    use crate::rules::request::TokenMethod;

    fn request(body: &str) -> TokenRequest<'_> {
        TokenRequest::new(TokenMethod::Post, parse_form(body.as_bytes()).unwrap())
    }

    /// `body` with `Authorization: Basic base64(credentials)`.
    fn with_basic<'a>(body: &'a str, credentials: &str) -> TokenRequest<'a> {
        let token = base64::engine::general_purpose::STANDARD.encode(credentials);
        let mut req = request(body);
        req.headers.push(Param::plain(
            "authorization",
            Cow::Owned(format!("Basic {token}")),
        ));
        req
    }

    /// `basic_to_body` with the standard names.
    fn standard_basic_to_body() -> BasicToBody {
        BasicToBody {
            id: "client_id".into(),
            secret: "client_secret".into(),
        }
    }

    #[test]
    fn basic_to_body_decodes_each_half_and_consumes_the_header() {
        // id "my id", secret "p@ss:word" — each half form-urlencoded, then base64.
        let mut req = with_basic(
            "grant_type=authorization_code&code=c",
            "my+id:p%40ss%3Aword",
        );
        let rule = standard_basic_to_body();
        rule.apply(&mut req).unwrap();
        assert!(req.headers.is_empty());
        assert_eq!(req.value(Place::Body, "client_id").unwrap(), "my id");
        assert_eq!(
            req.value(Place::Body, "client_secret").unwrap(),
            "p@ss:word"
        );
    }

    #[test]
    fn basic_and_body_credentials_together_are_refused() {
        let mut req = with_basic("client_id=a", "a:b");
        let rule = standard_basic_to_body();
        assert_eq!(
            rule.apply(&mut req).unwrap_err().reason.as_str(),
            "conflict"
        );
    }

    #[test]
    fn malformed_basic_is_invalid_client() {
        for header in ["Basic !!!", "Basic", "Bearer abc", "Basic Zm9v"] {
            let mut req = request("code=c");
            req.headers
                .push(Param::plain("authorization", Cow::Borrowed(header)));
            let rule = BasicToBody {
                id: "client_id".into(),
                secret: "client_secret".into(),
            };
            assert_eq!(rule.apply(&mut req).unwrap_err().status, 401, "{header}");
        }
    }

    #[test]
    fn body_to_basic_round_trips_through_parse_basic() {
        let mut req = request("client_id=my%20app&client_secret=s%3Acr%C3%A9t&code=c");
        let rule = BodyToBasic {
            id: "client_id".into(),
            secret: "client_secret".into(),
            keep_id: false,
        };
        rule.apply(&mut req).unwrap();
        assert_eq!(encode_form(&req.body), "code=c");
        let header = req.value(Place::Headers, "authorization").unwrap();
        assert_eq!(
            parse_basic(&header).unwrap(),
            ("my app".into(), "s:crét".into())
        );
    }

    #[test]
    fn body_to_basic_keeping_the_id_sends_both_and_leaves_public_clients_alone() {
        let rule = BodyToBasic {
            id: "client_id".into(),
            secret: "client_secret".into(),
            keep_id: true,
        };
        let mut req = request("client_id=app&client_secret=s&code=c");
        rule.apply(&mut req).unwrap();
        assert_eq!(encode_form(&req.body), "client_id=app&code=c");
        let header = req.value(Place::Headers, "authorization").unwrap();
        assert_eq!(parse_basic(&header).unwrap(), ("app".into(), "s".into()));
        let mut public = request("client_id=app&code=c&code_verifier=v");
        rule.apply(&mut public).unwrap();
        assert_eq!(
            encode_form(&public.body),
            "client_id=app&code=c&code_verifier=v"
        );
        assert!(public.headers.is_empty());
    }
}
