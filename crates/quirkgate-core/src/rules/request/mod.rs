//! Request rules: small types that each do one edit of a token request on its
//! way to the provider, in Kong's request-transformer vocabulary
//! (remove, rename, replace, add, append) plus OAuth's own moves. The
//! request, the trait and the words live here; the rules, by job, below.

mod bearer;
mod credentials;
mod params;

pub use bearer::{bearer_token, AppSecretProof, MoveBearer};
pub use credentials::{
    BasicToBody, BodyToBasic, ClientAssertion, SignedClientSecret, JWT_BEARER_ASSERTION,
};
pub use params::{
    JsonBody, MoveParams, RemoveParams, RenameParams, RequireParams, SetMethod, SetMode, SetParams,
};

use std::borrow::Cow;

use crate::form::{FormText, Param};
use crate::oauth_error::OAuthError;

pub use crate::credentials::parse_basic;

/// Where a parameter lives. Header names are matched case-insensitively
/// (stored lowercase); header values are plain text, never form-encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Place {
    Body,
    Query,
    Headers,
}

impl Place {
    pub fn word(self) -> &'static str {
        match self {
            Place::Body => "body",
            Place::Query => "query",
            Place::Headers => "headers",
        }
    }
}

/// The two methods token and user-info endpoints use: what a route accepts
/// from callers, and what it sends upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenMethod {
    Get,
    Post,
}

impl TokenMethod {
    /// The one parser of method names in configuration (any case).
    pub fn parse(name: &str) -> Result<Self, String> {
        if name.eq_ignore_ascii_case("GET") {
            Ok(TokenMethod::Get)
        } else if name.eq_ignore_ascii_case("POST") {
            Ok(TokenMethod::Post)
        } else {
            Err(format!(
                "'{}' is not supported (GET or POST)",
                name.to_ascii_uppercase()
            ))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TokenMethod::Get => "GET",
            TokenMethod::Post => "POST",
        }
    }

    /// Whether requests with this method carry a form body.
    pub fn has_body(self) -> bool {
        self == TokenMethod::Post
    }
}

/// How the body parameters are encoded for the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFormat {
    /// `application/x-www-form-urlencoded`, untouched parameters byte for byte.
    Form,
    /// `application/json`: one object of string values (Notion, DingTalk, Feishu).
    Json,
}

impl BodyFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            BodyFormat::Form => "application/x-www-form-urlencoded",
            BodyFormat::Json => "application/json",
        }
    }
}

/// A token request as the rules see it: the caller's form body, the query and
/// the headers that will go upstream, the method and the body's encoding.
pub struct TokenRequest<'a> {
    pub method: TokenMethod,
    pub body: Vec<Param<'a>>,
    pub query: Vec<Param<'a>>,
    pub headers: Vec<Param<'a>>,
    pub body_format: BodyFormat,
}

impl<'a> TokenRequest<'a> {
    pub fn new(method: TokenMethod, body: Vec<Param<'a>>) -> Self {
        TokenRequest {
            method,
            body,
            query: Vec::new(),
            headers: Vec::new(),
            body_format: BodyFormat::Form,
        }
    }

    pub fn params(&self, place: Place) -> &Vec<Param<'a>> {
        match place {
            Place::Body => &self.body,
            Place::Query => &self.query,
            Place::Headers => &self.headers,
        }
    }

    pub fn params_mut(&mut self, place: Place) -> &mut Vec<Param<'a>> {
        match place {
            Place::Body => &mut self.body,
            Place::Query => &mut self.query,
            Place::Headers => &mut self.headers,
        }
    }

    /// Position of a parameter by decoded name (header names are lowercase on both sides).
    pub fn find(&self, place: Place, name: &str) -> Option<usize> {
        self.params(place).iter().position(|p| p.name.is(name))
    }

    /// The decoded value of a parameter, if present.
    pub fn value(&self, place: Place, name: &str) -> Option<Cow<'a, str>> {
        self.find(place, name)
            .map(|i| self.params(place)[i].value.decoded())
    }

    /// Takes a parameter out, returning its value.
    pub fn take(&mut self, place: Place, name: &str) -> Option<FormText<'a>> {
        let index = self.find(place, name)?;
        Some(self.params_mut(place).remove(index).value)
    }
}

/// One compiled request edit. Rules borrow their names and values from the
/// plan, so applying one allocates nothing unless it must decode or build text.
pub trait RequestRule: Send + Sync + std::fmt::Debug {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_and_methods_have_the_words_of_the_config_and_of_http() {
        assert_eq!(
            [Place::Body, Place::Query, Place::Headers].map(Place::word),
            ["body", "query", "headers"]
        );
        assert_eq!(TokenMethod::Get.as_str(), "GET");
        assert_eq!(TokenMethod::Post.as_str(), "POST");
        assert_eq!(TokenMethod::parse("post"), Ok(TokenMethod::Post));
        assert!(TokenMethod::parse("PUT").is_err());
        // Only a POST carries its parameters in a body; a GET sends them in the query.
        assert!(TokenMethod::Post.has_body());
        assert!(!TokenMethod::Get.has_body());
    }
}
