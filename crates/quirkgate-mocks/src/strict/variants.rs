//! The requests an [`Endpoint`] declares: the one it accepts, and one per
//! declared fact with only that fact broken, each with the [`Violation`] it
//! must be refused for. Tests send them to the running mock, so a check that
//! is removed from [`Endpoint::check`] lets a variant through and fails.

use base64::Engine;

use super::{At, Body, Credentials, Endpoint, Violation};
use crate::kinds::SeenRequest;

/// A request being put together: parameters kept apart from their encoding,
/// so a variant can move one and the body is encoded once at the end.
#[derive(Debug, Clone)]
pub struct Draft {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// The body's parameters, encoded as `body` says.
    pub body_params: Vec<(String, String)>,
    pub body: Body,
    /// The `Content-Type` sent; by default the one `body` calls for.
    pub content_type: Option<String>,
}

/// A broken request and why it must be refused.
#[derive(Debug, Clone)]
pub struct Variant {
    pub violation: Violation,
    pub request: SeenRequest,
}

/// Client credentials the drafts carry.
pub const MOCK_CLIENT_ID: &str = "mock-client";
pub const MOCK_CLIENT_SECRET: &str = "mock-secret";

impl Draft {
    fn params_mut(&mut self, at: At) -> &mut Vec<(String, String)> {
        match at {
            At::Query => &mut self.query,
            At::Body => &mut self.body_params,
        }
    }

    fn take(&mut self, at: At, name: &str) -> Option<(String, String)> {
        let params = self.params_mut(at);
        let index = params.iter().position(|(n, _)| n == name)?;
        Some(params.remove(index))
    }

    fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// The request as a mock reads it.
    pub fn request(&self) -> SeenRequest {
        let raw_body = match self.body {
            Body::None if self.body_params.is_empty() => Vec::new(),
            Body::Json => serde_json::Value::Object(
                self.body_params
                    .iter()
                    .map(|(n, v)| (n.clone(), v.clone().into()))
                    .collect(),
            )
            .to_string()
            .into_bytes(),
            Body::None | Body::Form => serde_urlencoded::to_string(&self.body_params)
                .expect("text pairs encode")
                .into_bytes(),
        };
        let mut headers = self.headers.clone();
        if let Some(content_type) = &self.content_type {
            headers.push(("content-type".into(), content_type.clone()));
        }
        SeenRequest {
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            headers,
            body: serde_urlencoded::from_bytes(&raw_body).unwrap_or_default(),
            raw_body,
        }
    }
}

fn basic(id: &str, secret: &str) -> String {
    let pair = format!("{id}:{secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn other(at: At) -> At {
    match at {
        At::Query => At::Body,
        At::Body => At::Query,
    }
}

impl Endpoint {
    /// The request this endpoint accepts: its first method, its content
    /// type, its required headers, the credentials where they belong
    /// ([`MOCK_CLIENT_ID`], [`MOCK_CLIENT_SECRET`]; an access token is
    /// `value("access_token")`), and each required parameter as `value(name)`.
    pub fn accepted(&self, value: impl Fn(&str) -> String) -> Draft {
        let mut draft = Draft {
            method: self.methods[0].to_owned(),
            path: self.path.to_owned(),
            query: Vec::new(),
            headers: self
                .headers
                .iter()
                .map(|h| (h.name.to_owned(), h.contains.unwrap_or("mock").to_owned()))
                .collect(),
            body_params: Vec::new(),
            body: self.body,
            content_type: self.body.content_type().map(str::to_owned),
        };
        let at = self.params.at;
        match self.credentials {
            Credentials::None => {}
            Credentials::Params { id, secret } => {
                draft
                    .params_mut(at)
                    .push((id.into(), MOCK_CLIENT_ID.into()));
                if let Some(secret) = secret {
                    draft
                        .params_mut(at)
                        .push((secret.into(), MOCK_CLIENT_SECRET.into()));
                }
            }
            Credentials::ParamsOrBasic { id, secret } => {
                draft
                    .params_mut(at)
                    .push((id.into(), MOCK_CLIENT_ID.into()));
                draft
                    .params_mut(at)
                    .push((secret.into(), MOCK_CLIENT_SECRET.into()));
            }
            Credentials::Basic { .. } => draft.headers.push((
                "authorization".into(),
                basic(MOCK_CLIENT_ID, MOCK_CLIENT_SECRET),
            )),
            Credentials::BasicWithId { id, .. } => {
                draft
                    .params_mut(at)
                    .push((id.into(), MOCK_CLIENT_ID.into()));
                draft.headers.push((
                    "authorization".into(),
                    basic(MOCK_CLIENT_ID, MOCK_CLIENT_SECRET),
                ));
            }
            Credentials::Bearer => draft.headers.push((
                "authorization".into(),
                format!("Bearer {}", value("access_token")),
            )),
            Credentials::TokenHeader(name) => {
                draft.headers.push((name.into(), value("access_token")))
            }
            Credentials::TokenQuery(name) => draft.query.push((name.into(), value("access_token"))),
        }
        for name in self.params.required {
            draft.params_mut(at).push(((*name).into(), value(name)));
        }
        draft
    }

    /// One variant of `accepted` per declared fact, each breaking only that fact.
    pub fn wrong_variants(&self, accepted: &Draft) -> Vec<Variant> {
        let mut out = Vec::new();
        let mut push = |violation: Violation, draft: Draft| {
            out.push(Variant {
                violation,
                request: draft.request(),
            })
        };
        for method in ["GET", "POST", "DELETE"] {
            if !self.methods.contains(&method) {
                let mut draft = accepted.clone();
                draft.method = method.into();
                push(Violation::Method(method.into()), draft);
            }
        }
        self.content_type_variants(accepted, &mut push);
        self.credential_variants(accepted, &mut push);
        for header in self.headers {
            let mut draft = accepted.clone();
            draft.remove_header(header.name);
            push(Violation::MissingHeader(header.name), draft.clone());
            if let Some(contains) = header.contains {
                draft
                    .headers
                    .push((header.name.into(), format!("not-{}", contains.len())));
                push(Violation::MissingHeader(header.name), draft);
            }
        }
        for name in self.params.forbidden {
            let mut draft = accepted.clone();
            draft
                .params_mut(self.params.at)
                .push(((*name).into(), "mock".into()));
            push(Violation::ForbiddenParam(name), draft);
        }
        for name in self.params.required {
            let mut draft = accepted.clone();
            draft.take(self.params.at, name);
            push(Violation::MissingParam(name), draft);
        }
        out
    }

    fn content_type_variants(&self, accepted: &Draft, push: &mut impl FnMut(Violation, Draft)) {
        let wanted = self.body;
        let mut wrong = |content_type: Option<&str>, params: Option<Vec<(String, String)>>| {
            let mut draft = accepted.clone();
            draft.content_type = content_type.map(str::to_owned);
            if let Some(params) = params {
                draft.body_params = params;
            }
            push(
                Violation::ContentType {
                    wanted,
                    got: draft.content_type.clone(),
                },
                draft,
            );
        };
        match wanted {
            Body::None => wrong(
                Body::Form.content_type(),
                Some(vec![("mock".into(), "1".into())]),
            ),
            Body::Form => {
                wrong(None, None);
                wrong(Body::Json.content_type(), None);
            }
            Body::Json => {
                wrong(None, None);
                wrong(Body::Form.content_type(), None);
            }
        }
    }

    fn credential_variants(&self, accepted: &Draft, push: &mut impl FnMut(Violation, Draft)) {
        let at = self.params.at;
        let without_authorization = || {
            let mut draft = accepted.clone();
            draft.remove_header("authorization");
            draft
        };
        match self.credentials {
            Credentials::None => {}
            Credentials::Params { id, secret } => {
                // In Basic instead of the parameters.
                let mut draft = accepted.clone();
                draft.take(at, id);
                secret.map(|s| draft.take(at, s));
                draft.headers.push((
                    "authorization".into(),
                    basic(MOCK_CLIENT_ID, MOCK_CLIENT_SECRET),
                ));
                push(
                    Violation::Credentials(
                        "client credentials go in the parameters, not in Authorization",
                    ),
                    draft,
                );
                // In the other part of the request, when that needs no body.
                if self.body != Body::None || at == At::Body {
                    let mut draft = accepted.clone();
                    for name in std::iter::once(id).chain(secret) {
                        if let Some(pair) = draft.take(at, name) {
                            draft.params_mut(other(at)).push(pair);
                        }
                    }
                    push(
                        Violation::Credentials(
                            "client credentials are in the wrong part of the request",
                        ),
                        draft,
                    );
                }
                // Left out.
                let mut draft = accepted.clone();
                draft.take(at, id);
                push(
                    Violation::Credentials("client credentials are missing"),
                    draft,
                );
            }
            Credentials::ParamsOrBasic { id, secret } => {
                let mut draft = accepted.clone();
                draft.take(at, secret);
                push(
                    Violation::Credentials(
                        "client credentials are required, in the parameters or as HTTP Basic",
                    ),
                    draft,
                );
                let mut draft = accepted.clone();
                draft.take(at, id);
                draft.take(at, secret);
                draft
                    .headers
                    .push(("authorization".into(), "Bearer not-basic".into()));
                push(
                    Violation::Credentials(
                        "client credentials are required, in the parameters or as HTTP Basic",
                    ),
                    draft,
                );
            }
            Credentials::Basic { refused } => {
                let mut draft = without_authorization();
                if let [id, secret, ..] = refused {
                    draft
                        .params_mut(at)
                        .push(((*id).into(), MOCK_CLIENT_ID.into()));
                    draft
                        .params_mut(at)
                        .push(((*secret).into(), MOCK_CLIENT_SECRET.into()));
                    push(
                        Violation::Credentials("client credentials must be HTTP Basic only"),
                        draft,
                    );
                }
                push(
                    Violation::Credentials("HTTP Basic client authentication is required"),
                    without_authorization(),
                );
            }
            Credentials::BasicWithId {
                id,
                secret,
                basic_required,
            } => {
                let mut draft = accepted.clone();
                draft
                    .params_mut(at)
                    .push((secret.into(), MOCK_CLIENT_SECRET.into()));
                push(
                    Violation::Credentials("the client secret goes in the Basic header"),
                    draft,
                );
                let mut draft = accepted.clone();
                draft.take(at, id);
                push(
                    Violation::Credentials("the client id parameter is missing"),
                    draft,
                );
                let mut draft = accepted.clone();
                draft.remove_header("authorization");
                draft
                    .headers
                    .push(("authorization".into(), "Bearer not-basic".into()));
                push(
                    Violation::Credentials("HTTP Basic client authentication is required"),
                    draft,
                );
                if basic_required {
                    push(
                        Violation::Credentials("HTTP Basic client authentication is required"),
                        without_authorization(),
                    );
                }
            }
            Credentials::Bearer => {
                let token = accepted
                    .headers
                    .iter()
                    .find(|(n, _)| n == "authorization")
                    .and_then(|(_, v)| v.split_once(' '))
                    .map(|(_, t)| t.to_owned())
                    .unwrap_or_default();
                let mut draft = without_authorization();
                draft.query.push(("access_token".into(), token.clone()));
                push(
                    Violation::Credentials("an Authorization: Bearer access token is required"),
                    draft,
                );
                let mut draft = without_authorization();
                draft
                    .headers
                    .push(("authorization".into(), basic(MOCK_CLIENT_ID, &token)));
                push(
                    Violation::Credentials("an Authorization: Bearer access token is required"),
                    draft,
                );
            }
            Credentials::TokenHeader(name) => {
                let mut draft = accepted.clone();
                let token = draft
                    .headers
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                draft.remove_header(name);
                draft
                    .headers
                    .push(("authorization".into(), format!("Bearer {token}")));
                push(
                    Violation::Credentials(
                        "the access token goes in the provider's header, not in Authorization",
                    ),
                    draft,
                );
                let mut draft = accepted.clone();
                draft.remove_header(name);
                push(
                    Violation::Credentials("the access token header is missing"),
                    draft,
                );
            }
            Credentials::TokenQuery(name) => {
                let mut draft = accepted.clone();
                let (_, token) = draft.take(At::Query, name).unwrap_or_default();
                draft
                    .headers
                    .push(("authorization".into(), format!("Bearer {token}")));
                push(
                    Violation::Credentials(
                        "the access token goes in the query, not in Authorization",
                    ),
                    draft,
                );
                let mut draft = accepted.clone();
                draft.take(At::Query, name);
                push(
                    Violation::Credentials("the access token parameter is missing"),
                    draft,
                );
            }
        }
    }
}

impl SeenRequest {
    /// The request as HTTP/1.1 bytes, for `host`.
    pub fn to_wire(&self, host: &str) -> Vec<u8> {
        let mut target = self.path.clone();
        if !self.query.is_empty() {
            target.push('?');
            target.push_str(&serde_urlencoded::to_string(&self.query).expect("text pairs encode"));
        }
        let mut head = format!("{} {target} HTTP/1.1\r\nhost: {host}\r\n", self.method);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", self.raw_body.len()));
        let mut wire = head.into_bytes();
        wire.extend_from_slice(&self.raw_body);
        wire
    }
}
