//! What a provider endpoint accepts, as data: a mock declares each endpoint
//! as an [`Endpoint`] and [`judge`] refuses anything else, in the provider's
//! own error shape, before the mock's logic runs.
//!
//! A new mock is a table of endpoints and the logic that answers an accepted
//! request; nothing about methods, content types, credential placement,
//! required headers or parameter names belongs in that logic. The same table
//! drives the wrong-variant tests: [`Endpoint::accepted_request`] builds the
//! request the provider takes, [`Endpoint::wrong_variants`] one request per
//! declared fact with exactly that fact broken, and the refusal each must get.
//!
//! ```
//! use quirkgate_mocks::strict::*;
//! const TOKEN: Endpoint = Endpoint {
//!     path: "/oauth/token",
//!     methods: &["POST"],
//!     body: Body::Form,
//!     credentials: Credentials::Basic { refused: &["client_id", "client_secret"] },
//!     headers: &[],
//!     params: Params { at: At::Body, required: &["grant_type"], forbidden: &[] },
//!     refusal: Refusal::oauth(),
//! };
//! ```

use std::fmt;

use crate::kinds::SeenRequest;

mod variants;
pub use variants::{Draft, Variant, MOCK_CLIENT_ID, MOCK_CLIENT_SECRET};

/// An answer: status, content type, body.
pub type Answer = (u16, &'static str, String);

/// One endpoint of a provider, as its documentation says it is called.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// The exact path (no query); any other path of the mock is a 404.
    pub path: &'static str,
    /// The methods served; any other is refused.
    pub methods: &'static [&'static str],
    /// What the body must be, and so the `Content-Type`.
    pub body: Body,
    /// Where the client's credentials (or the access token) go; anywhere else is refused.
    pub credentials: Credentials,
    /// Headers the provider requires.
    pub headers: &'static [Header],
    /// Parameter names: where they are read, which must be there, which are refused.
    pub params: Params,
    /// How the provider says no.
    pub refusal: Refusal,
}

/// What an endpoint's body must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// No body and no `Content-Type` (a GET).
    None,
    /// `application/x-www-form-urlencoded` (parameters may still be in the
    /// query when [`Params::at`] says so: "query-on-POST").
    Form,
    /// `application/json`, a JSON object.
    Json,
}

/// Where the client authenticates (token endpoints) or the access token goes
/// (resource endpoints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// Nothing to authenticate (an authorize page: its client id is a parameter).
    None,
    /// The client id and secret as parameters named so, where [`Params::at`]
    /// reads them; an `Authorization` header is refused. `secret: None`: the
    /// provider takes no secret there.
    Params {
        id: &'static str,
        secret: Option<&'static str>,
    },
    /// Either the parameters, as in [`Credentials::Params`], or HTTP Basic
    /// (the RFC 6749 §2.3.1 choice); never neither.
    ParamsOrBasic {
        id: &'static str,
        secret: &'static str,
    },
    /// HTTP Basic only; the `refused` names among the parameters are refused.
    Basic { refused: &'static [&'static str] },
    /// HTTP Basic (when `basic_required`, else optional for public clients)
    /// and the client id as a parameter too; the secret as a parameter is
    /// refused (X).
    BasicWithId {
        id: &'static str,
        secret: &'static str,
        basic_required: bool,
    },
    /// The access token as `Authorization: Bearer …`.
    Bearer,
    /// The access token in this header; an `Authorization` header is refused.
    TokenHeader(&'static str),
    /// The access token as this query parameter; an `Authorization` header is refused.
    TokenQuery(&'static str),
}

/// A header the provider requires: present and, with `contains`, holding that text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub name: &'static str,
    pub contains: Option<&'static str>,
}

impl Header {
    pub const fn named(name: &'static str) -> Self {
        Header {
            name,
            contains: None,
        }
    }
}

/// Where an endpoint reads its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    Query,
    /// The form or JSON body, as [`Body`] says.
    Body,
}

/// Parameter names an endpoint insists on or refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    pub at: At,
    /// Each must be present (credentials are declared in [`Credentials`], not here).
    pub required: &'static [&'static str],
    /// Each is refused wherever it appears (the standard name a provider renamed).
    pub forbidden: &'static [&'static str],
}

/// How a provider refuses a request: `body` is a template in which `{why}`
/// becomes the reason, escaped for a JSON string. A provider that answers
/// some faults otherwise (RFC 6749's 401 `invalid_client` for credentials,
/// GitHub's 403 for a missing `User-Agent`) lists them in `overrides`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub content_type: &'static str,
    pub body: &'static str,
    pub overrides: &'static [(Fault, u16, &'static str)],
}

/// The kinds of [`Violation`], for [`Refusal::overrides`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Method,
    /// The content type or a body that does not read as it.
    ContentType,
    Credentials,
    Header,
    /// A required parameter missing or a refused one present.
    Param,
}

const JSON: &str = "application/json";

impl Refusal {
    /// RFC 6749 §5.2: 400 `invalid_request`, 401 `invalid_client` for credentials.
    pub const fn oauth() -> Self {
        Refusal {
            status: 400,
            content_type: JSON,
            body: r#"{"error":"invalid_request","error_description":"{why}"}"#,
            overrides: &[(
                Fault::Credentials,
                401,
                r#"{"error":"invalid_client","error_description":"{why}"}"#,
            )],
        }
    }

    /// A JSON refusal with one status for everything.
    pub const fn json(status: u16, body: &'static str) -> Self {
        Refusal {
            status,
            content_type: JSON,
            body,
            overrides: &[],
        }
    }

    /// The provider's answer to `violation`.
    pub fn answer(&self, violation: &Violation) -> Answer {
        let (status, template) = self
            .overrides
            .iter()
            .find(|(fault, _, _)| *fault == violation.fault())
            .map_or((self.status, self.body), |(_, status, body)| {
                (*status, *body)
            });
        let why = serde_json::to_string(&violation.to_string()).expect("a string serializes");
        let why = &why[1..why.len() - 1];
        (status, self.content_type, template.replace("{why}", why))
    }
}

/// What a request got wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    Method(String),
    /// The content type the endpoint wants, and what came (`None`: no header).
    ContentType {
        wanted: Body,
        got: Option<String>,
    },
    /// A body that is not what the content type says (JSON that is not an object).
    UnreadableBody,
    /// Credentials missing or in the wrong place, and where they belong.
    Credentials(&'static str),
    MissingHeader(&'static str),
    MissingParam(&'static str),
    ForbiddenParam(&'static str),
}

impl Violation {
    pub fn fault(&self) -> Fault {
        match self {
            Violation::Method(_) => Fault::Method,
            Violation::ContentType { .. } | Violation::UnreadableBody => Fault::ContentType,
            Violation::Credentials(_) => Fault::Credentials,
            Violation::MissingHeader(_) => Fault::Header,
            Violation::MissingParam(_) | Violation::ForbiddenParam(_) => Fault::Param,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Method(got) => write!(f, "method {got} is not supported"),
            Violation::ContentType { wanted, got } => write!(
                f,
                "Content-Type must be {}, not {}",
                wanted.content_type().unwrap_or("absent"),
                got.as_deref().unwrap_or("absent")
            ),
            Violation::UnreadableBody => write!(f, "the body cannot be read"),
            Violation::Credentials(why) => write!(f, "{why}"),
            Violation::MissingHeader(name) => write!(f, "header {name} is required"),
            Violation::MissingParam(name) => write!(f, "parameter {name} is required"),
            Violation::ForbiddenParam(name) => write!(f, "parameter {name} is not accepted"),
        }
    }
}

impl Body {
    /// The `Content-Type` this body is sent with.
    pub fn content_type(self) -> Option<&'static str> {
        match self {
            Body::None => None,
            Body::Form => Some("application/x-www-form-urlencoded"),
            Body::Json => Some(JSON),
        }
    }
}

/// The endpoint serving `request`'s path, or the 404 a provider answers for
/// any other path; then the endpoint's own refusal if the request breaks it.
pub fn judge<'e>(endpoints: &'e [Endpoint], request: &SeenRequest) -> Result<&'e Endpoint, Answer> {
    let endpoint = endpoints
        .iter()
        .find(|e| e.path == request.path)
        .ok_or_else(not_found)?;
    endpoint
        .check(request)
        .map(|()| endpoint)
        .map_err(|violation| endpoint.refusal.answer(&violation))
}

/// Any path no endpoint serves.
pub fn not_found() -> Answer {
    (
        404,
        JSON,
        r#"{"error":"not_found","error_description":"no such endpoint"}"#.to_owned(),
    )
}

/// The media type of a `Content-Type` value, without parameters.
fn media_type(value: &str) -> &str {
    value.split(';').next().unwrap_or("").trim()
}

impl Endpoint {
    /// The first fact `request` breaks, checked in the order the fields are declared.
    pub fn check(&self, request: &SeenRequest) -> Result<(), Violation> {
        if !self.methods.contains(&request.method.as_str()) {
            return Err(Violation::Method(request.method.clone()));
        }
        let got = request.header("content-type");
        let content_type_ok = match self.body.content_type() {
            None => got.is_none() && request.raw_body.is_empty(),
            Some(wanted) => got.is_some_and(|g| media_type(g).eq_ignore_ascii_case(wanted)),
        };
        if !content_type_ok {
            return Err(Violation::ContentType {
                wanted: self.body,
                got: got.map(str::to_owned),
            });
        }
        let body_names = self.body_names(request)?;
        let body_names: Vec<&str> = body_names.iter().map(String::as_str).collect();
        let query_names: Vec<&str> = request.query.iter().map(|(n, _)| n.as_str()).collect();
        let (here, elsewhere) = match self.params.at {
            At::Query => (&query_names, &body_names),
            At::Body => (&body_names, &query_names),
        };
        self.check_credentials(request, here, elsewhere, &query_names)?;
        for header in self.headers {
            let present = request
                .header(header.name)
                .is_some_and(|v| !v.is_empty() && header.contains.is_none_or(|c| v.contains(c)));
            if !present {
                return Err(Violation::MissingHeader(header.name));
            }
        }
        if let Some(name) = self
            .params
            .forbidden
            .iter()
            .find(|name| here.contains(name) || elsewhere.contains(name))
        {
            return Err(Violation::ForbiddenParam(name));
        }
        if let Some(name) = self.params.required.iter().find(|n| !here.contains(n)) {
            return Err(Violation::MissingParam(name));
        }
        Ok(())
    }

    fn body_names(&self, request: &SeenRequest) -> Result<Vec<String>, Violation> {
        Ok(match self.body {
            Body::None => Vec::new(),
            Body::Form => request.body.iter().map(|(n, _)| n.clone()).collect(),
            Body::Json => request
                .json_body()
                .ok_or(Violation::UnreadableBody)?
                .keys()
                .cloned()
                .collect(),
        })
    }

    fn check_credentials(
        &self,
        request: &SeenRequest,
        here: &[&str],
        elsewhere: &[&str],
        query: &[&str],
    ) -> Result<(), Violation> {
        let authorization = request.header("authorization");
        let scheme = |wanted: &str| {
            authorization.is_some_and(|a| {
                a.split_once(' ')
                    .is_some_and(|(s, v)| s.eq_ignore_ascii_case(wanted) && !v.trim().is_empty())
            })
        };
        let anywhere = |name: &str| here.contains(&name) || elsewhere.contains(&name);
        match self.credentials {
            Credentials::None => Ok(()),
            Credentials::Params { id, secret } => {
                if authorization.is_some() {
                    return Err(Violation::Credentials(
                        "client credentials go in the parameters, not in Authorization",
                    ));
                }
                for name in std::iter::once(id).chain(secret) {
                    if !here.contains(&name) {
                        return Err(Violation::Credentials(if elsewhere.contains(&name) {
                            "client credentials are in the wrong part of the request"
                        } else {
                            "client credentials are missing"
                        }));
                    }
                }
                Ok(())
            }
            Credentials::ParamsOrBasic { id, secret } => {
                if scheme("basic") || (here.contains(&id) && here.contains(&secret)) {
                    Ok(())
                } else {
                    Err(Violation::Credentials(
                        "client credentials are required, in the parameters or as HTTP Basic",
                    ))
                }
            }
            Credentials::Basic { refused } => {
                if let Some(_name) = refused.iter().find(|n| anywhere(n)) {
                    return Err(Violation::Credentials(
                        "client credentials must be HTTP Basic only",
                    ));
                }
                if !scheme("basic") {
                    return Err(Violation::Credentials(
                        "HTTP Basic client authentication is required",
                    ));
                }
                Ok(())
            }
            Credentials::BasicWithId {
                id,
                secret,
                basic_required,
            } => {
                if anywhere(secret) {
                    return Err(Violation::Credentials(
                        "the client secret goes in the Basic header",
                    ));
                }
                if !here.contains(&id) {
                    return Err(Violation::Credentials("the client id parameter is missing"));
                }
                if (basic_required || authorization.is_some()) && !scheme("basic") {
                    return Err(Violation::Credentials(
                        "HTTP Basic client authentication is required",
                    ));
                }
                Ok(())
            }
            Credentials::Bearer => {
                if scheme("bearer") {
                    Ok(())
                } else {
                    Err(Violation::Credentials(
                        "an Authorization: Bearer access token is required",
                    ))
                }
            }
            Credentials::TokenHeader(name) => {
                if authorization.is_some() {
                    return Err(Violation::Credentials(
                        "the access token goes in the provider's header, not in Authorization",
                    ));
                }
                if request.header(name).is_none_or(str::is_empty) {
                    return Err(Violation::Credentials("the access token header is missing"));
                }
                Ok(())
            }
            Credentials::TokenQuery(name) => {
                if authorization.is_some() {
                    return Err(Violation::Credentials(
                        "the access token goes in the query, not in Authorization",
                    ));
                }
                if !query.contains(&name) {
                    return Err(Violation::Credentials(
                        "the access token parameter is missing",
                    ));
                }
                Ok(())
            }
        }
    }
}
