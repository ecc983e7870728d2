//! Rules on the caller's access token: where the provider reads it, and
//! Facebook's `appsecret_proof` of it.

use std::borrow::Cow;

use crate::form::Param;
use crate::oauth_error::{OAuthError, Reason};

use super::{Place, RequestRule, TokenRequest};

/// `bearer_to_query` / `bearer_to_header`: the caller's `Authorization:
/// Bearer` token moves to where the provider reads it (Kuaishou, VK and Weibo
/// want `access_token` in the query; DingTalk a header of its own).
#[derive(Debug)]
pub struct MoveBearer {
    pub to: Place,
    /// Lowercase for headers.
    pub name: String,
}

impl RequestRule for MoveBearer {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        let Some(header) = request.take(Place::Headers, "authorization") else {
            return Ok(());
        };
        let token = bearer_token(&header.decoded())?;
        request
            .params_mut(self.to)
            .push(Param::plain(&self.name, Cow::Owned(token)));
        Ok(())
    }
}

/// The token of an `Authorization: Bearer` value (RFC 6750 §2.1).
pub fn bearer_token(header: &str) -> Result<String, OAuthError> {
    match header.trim().split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(OAuthError::new(
            401,
            "invalid_token",
            "user-info routes take the access token as Authorization: Bearer",
            Reason::NoCredentials,
        )),
    }
}

/// `appsecret_proof`: Facebook/Instagram Graph's proof that a call comes from
/// the app: hex HMAC-SHA256 of the access token keyed with the app secret
/// (from configuration, never from the caller), added to the query.
pub struct AppSecretProof {
    pub key: ring::hmac::Key,
    /// Where the token is read: the Bearer header, or a query parameter an
    /// earlier rule moved it to.
    pub token_query_name: Option<String>,
}

/// The key is a secret: no `{:?}` may print it.
impl std::fmt::Debug for AppSecretProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AppSecretProof {{ key: <redacted>, token_query_name: {:?} }}",
            self.token_query_name
        )
    }
}

impl AppSecretProof {
    pub fn new(secret: &str, token_query_name: Option<String>) -> Self {
        AppSecretProof {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes()),
            token_query_name,
        }
    }

    /// hex(HMAC-SHA256(key = app secret, message = access token)).
    pub fn proof(&self, access_token: &str) -> String {
        let tag = ring::hmac::sign(&self.key, access_token.as_bytes());
        tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl RequestRule for AppSecretProof {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        let token = match &self.token_query_name {
            Some(name) => request.value(Place::Query, name).map(Cow::into_owned),
            None => request
                .value(Place::Headers, "authorization")
                .map(|h| bearer_token(&h))
                .transpose()?,
        };
        let Some(token) = token else {
            return Err(bearer_token("").unwrap_err());
        };
        let proof = self.proof(&token);
        request
            .query
            .push(Param::plain("appsecret_proof", Cow::Owned(proof)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::request::TokenMethod;

    #[test]
    fn bearer_moves_to_the_query_or_a_named_header_and_other_schemes_are_invalid_token() {
        for (to, name) in [
            (Place::Query, "access_token"),
            (Place::Headers, "x-acs-dingtalk-access-token"),
        ] {
            let mut req = TokenRequest::new(TokenMethod::Get, Vec::new());
            req.headers
                .push(Param::plain("authorization", Cow::Borrowed("Bearer tok.1")));
            let rule = MoveBearer {
                to,
                name: name.into(),
            };
            rule.apply(&mut req).unwrap();
            assert_eq!(req.value(to, name).unwrap(), "tok.1");
            assert!(req.find(Place::Headers, "authorization").is_none());
        }
        let mut req = TokenRequest::new(TokenMethod::Get, Vec::new());
        req.headers
            .push(Param::plain("authorization", Cow::Borrowed("Basic YTpi")));
        let rule = MoveBearer {
            to: Place::Query,
            name: "access_token".into(),
        };
        let err = rule.apply(&mut req).unwrap_err();
        assert_eq!((err.status, err.code.as_ref()), (401, "invalid_token"));
    }

    #[test]
    fn appsecret_proof_is_the_hex_hmac_sha256_of_the_token() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let rule = AppSecretProof::new("Jefe", None);
        let mut req = TokenRequest::new(TokenMethod::Get, Vec::new());
        req.headers.push(Param::plain(
            "authorization",
            Cow::Borrowed("Bearer what do ya want for nothing?"),
        ));
        rule.apply(&mut req).unwrap();
        assert_eq!(
            req.value(Place::Query, "appsecret_proof").unwrap(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(!format!("{rule:?}").contains("Jefe"));
        let mut without = TokenRequest::new(TokenMethod::Get, Vec::new());
        assert_eq!(rule.apply(&mut without).unwrap_err().status, 401);
    }
}
