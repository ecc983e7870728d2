//! Request rules: small types that each do one edit of a token request on its
//! way to the provider, in Kong's request-transformer vocabulary
//! (remove, rename, replace, add, append) plus OAuth's own moves.

use std::borrow::Cow;

use base64::Engine;

use crate::credentials;
use crate::form::{encode_component, printable_name, FormText, Param};
use crate::oauth_error::{OAuthError, Reason};

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

/// `remove`: drop parameters by name.
#[derive(Debug)]
pub struct RemoveParams {
    pub place: Place,
    pub names: Vec<String>,
}

impl RequestRule for RemoveParams {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        request
            .params_mut(self.place)
            .retain(|p| !self.names.iter().any(|n| p.name.is(n)));
        Ok(())
    }
}

/// `rename`: give a parameter a new name, keeping its value and position.
#[derive(Debug)]
pub struct RenameParams {
    pub place: Place,
    pub pairs: Vec<(String, String)>,
}

impl RequestRule for RenameParams {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        for (from, to) in &self.pairs {
            if let Some(index) = request.find(self.place, from) {
                if request.find(self.place, to).is_some() {
                    // Two values for one name (e.g. client_id and client_key) would be
                    // ambiguous upstream: refuse instead of choosing.
                    return Err(OAuthError::invalid_request(
                        format!(
                            "both '{}' and '{}' were sent; send only '{}'",
                            printable_name(from),
                            printable_name(to),
                            printable_name(from)
                        ),
                        Reason::Conflict,
                    ));
                }
                request.params_mut(self.place)[index].name = FormText::plain(to);
            }
        }
        Ok(())
    }
}

/// `replace`: overwrite the value of parameters that are present.
#[derive(Debug)]
pub struct ReplaceParams {
    pub place: Place,
    pub pairs: Vec<(String, String)>,
}

impl RequestRule for ReplaceParams {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        for (name, value) in &self.pairs {
            if let Some(index) = request.find(self.place, name) {
                request.params_mut(self.place)[index].value = FormText::plain(value);
            }
        }
        Ok(())
    }
}

/// `add`: add parameters that are absent (a present one is left alone).
#[derive(Debug)]
pub struct AddParams {
    pub place: Place,
    pub pairs: Vec<(String, String)>,
}

impl RequestRule for AddParams {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        for (name, value) in &self.pairs {
            if request.find(self.place, name).is_none() {
                request
                    .params_mut(self.place)
                    .push(Param::plain(name, Cow::Borrowed(value)));
            }
        }
        Ok(())
    }
}

/// `append`: add parameters whether or not the name is already there.
#[derive(Debug)]
pub struct AppendParams {
    pub place: Place,
    pub pairs: Vec<(String, String)>,
}

impl RequestRule for AppendParams {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        for (name, value) in &self.pairs {
            request
                .params_mut(self.place)
                .push(Param::plain(name, Cow::Borrowed(value)));
        }
        Ok(())
    }
}

/// `move_to_query` / `move_to_body`: carry parameters between body and query.
#[derive(Debug)]
pub struct MoveParams {
    pub from: Place,
    pub to: Place,
    pub names: Vec<String>,
}

impl RequestRule for MoveParams {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        for name in &self.names {
            if let Some(index) = request.find(self.from, name) {
                let param = request.params_mut(self.from).remove(index);
                request.params_mut(self.to).push(param);
            }
        }
        Ok(())
    }
}

/// `method`: the HTTP method sent upstream.
#[derive(Debug)]
pub struct SetMethod(pub TokenMethod);

impl RequestRule for SetMethod {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        request.method = self.0;
        Ok(())
    }
}

/// `require`: refuse the request before any upstream contact when a parameter is missing.
#[derive(Debug)]
pub struct RequireParams {
    pub place: Place,
    pub names: Vec<String>,
    /// `invalid_client` (401) for credentials, else `invalid_request` (400).
    pub invalid_client: bool,
}

impl RequestRule for RequireParams {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        for name in &self.names {
            let present = request
                .find(self.place, name)
                .is_some_and(|i| !request.params(self.place)[i].value.is(""));
            if !present {
                let description = format!("missing '{}'", printable_name(name));
                return Err(if self.invalid_client {
                    OAuthError::invalid_client(format!("no client credentials: {description}"))
                } else {
                    OAuthError::invalid_request(description, Reason::MissingParam)
                });
            }
        }
        Ok(())
    }
}

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

/// `json_body`: the provider gets the body parameters as a JSON object; the
/// caller keeps sending a form.
#[derive(Debug)]
pub struct JsonBody;

impl RequestRule for JsonBody {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        request.body_format = BodyFormat::Json;
        Ok(())
    }
}

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

pub use crate::credentials::parse_basic;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::{encode_form, parse_form};

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

    fn request(body: &str) -> TokenRequest<'_> {
        TokenRequest::new(TokenMethod::Post, parse_form(body.as_bytes()).unwrap())
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn rename_keeps_value_and_position() {
        let rule = RenameParams {
            place: Place::Body,
            pairs: pairs(&[("client_id", "client_key")]),
        };
        let mut req = request("grant_type=authorization_code&client_id=abc%2B1&code=x");
        rule.apply(&mut req).unwrap();
        assert_eq!(
            encode_form(&req.body),
            "grant_type=authorization_code&client_key=abc%2B1&code=x"
        );
    }

    #[test]
    fn rename_refuses_when_both_names_were_sent() {
        let rule = RenameParams {
            place: Place::Body,
            pairs: pairs(&[("client_id", "client_key")]),
        };
        let mut req = request("client_id=a&client_key=b");
        assert_eq!(
            rule.apply(&mut req).unwrap_err().reason.as_str(),
            "conflict"
        );
    }

    #[test]
    fn add_only_when_absent_and_append_always() {
        let add = AddParams {
            place: Place::Body,
            pairs: pairs(&[("scope", "x"), ("code", "no")]),
        };
        let append = AppendParams {
            place: Place::Body,
            pairs: pairs(&[("extra", "1")]),
        };
        let mut req = request("code=yes");
        add.apply(&mut req).unwrap();
        append.apply(&mut req).unwrap();
        assert_eq!(encode_form(&req.body), "code=yes&scope=x&extra=1");
    }

    #[test]
    fn replace_and_remove_touch_only_named_params() {
        let replace = ReplaceParams {
            place: Place::Body,
            pairs: pairs(&[("client_id", "injected")]),
        };
        let remove = RemoveParams {
            place: Place::Body,
            names: vec!["state".into()],
        };
        let mut req = request("client_id=caller&state=s&code=c");
        replace.apply(&mut req).unwrap();
        remove.apply(&mut req).unwrap();
        assert_eq!(encode_form(&req.body), "client_id=injected&code=c");
    }

    #[test]
    fn move_to_query_and_method() {
        let mv = MoveParams {
            from: Place::Body,
            to: Place::Query,
            names: vec!["appid".into(), "code".into()],
        };
        let mut req = request("appid=a&code=c&keep=k");
        mv.apply(&mut req).unwrap();
        SetMethod(TokenMethod::Get).apply(&mut req).unwrap();
        assert_eq!(encode_form(&req.query), "appid=a&code=c");
        assert_eq!(encode_form(&req.body), "keep=k");
        assert_eq!(req.method, TokenMethod::Get);
    }

    #[test]
    fn basic_to_body_decodes_each_half_and_consumes_the_header() {
        // id "my id", secret "p@ss:word" — each half form-urlencoded, then base64.
        let token = base64::engine::general_purpose::STANDARD.encode("my+id:p%40ss%3Aword");
        let mut req = request("grant_type=authorization_code&code=c");
        req.headers.push(Param::plain(
            "authorization",
            Cow::Owned(format!("Basic {token}")),
        ));
        let rule = BasicToBody {
            id: "client_id".into(),
            secret: "client_secret".into(),
        };
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
        let token = base64::engine::general_purpose::STANDARD.encode("a:b");
        let mut req = request("client_id=a");
        req.headers.push(Param::plain(
            "authorization",
            Cow::Owned(format!("Basic {token}")),
        ));
        let rule = BasicToBody {
            id: "client_id".into(),
            secret: "client_secret".into(),
        };
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

    #[test]
    fn require_reports_invalid_client_for_credentials() {
        let rule = RequireParams {
            place: Place::Body,
            names: vec!["client_id".into()],
            invalid_client: true,
        };
        assert_eq!(rule.apply(&mut request("code=c")).unwrap_err().status, 401);
        assert_eq!(
            rule.apply(&mut request("code=c&client_id="))
                .unwrap_err()
                .status,
            401
        );
        assert!(rule.apply(&mut request("client_id=a")).is_ok());
    }
}
