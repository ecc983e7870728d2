//! Mock providers of the long tail, part two (`../shared/oauth-quirks.md`,
//! "The long tail, part two"). Each provider is a declarative spec per
//! endpoint (token, user, authorize page) read by one interpreter, so a mock
//! refuses exactly what its spec says the provider refuses: method, content
//! type, credential placement, parameter names, required parameters and
//! headers, and where the access token goes on the user call.

mod asia;
mod elsewhere;
mod russia;

pub use asia::MOCK_KUAISHOU_APP_ID;
pub use elsewhere::MOCK_EBAY_RUNAME;

use serde_json::{json, Value};

use super::kinds::SeenRequest;

/// A mock's answer: status, content type, body.
pub type Answer = (u16, &'static str, String);

/// The providers of part two, one mock each (token, user and authorize page).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TailTwo {
    Kakao,
    Naver,
    Weibo,
    Baidu,
    Lark,
    Huawei,
    KuaishouUser,
    Yandex,
    MailRu,
    Twitch,
    Discord,
    Spotify,
    Bitbucket,
    Fitbit,
    Ebay,
    PayPal,
}

impl TailTwo {
    /// Every provider of part two, for tables that go over them all.
    pub const ALL: [TailTwo; 16] = [
        TailTwo::Kakao,
        TailTwo::Naver,
        TailTwo::Weibo,
        TailTwo::Baidu,
        TailTwo::Lark,
        TailTwo::Huawei,
        TailTwo::KuaishouUser,
        TailTwo::Yandex,
        TailTwo::MailRu,
        TailTwo::Twitch,
        TailTwo::Discord,
        TailTwo::Spotify,
        TailTwo::Bitbucket,
        TailTwo::Fitbit,
        TailTwo::Ebay,
        TailTwo::PayPal,
    ];

    /// The provider's spec.
    pub fn spec(self) -> &'static Spec {
        match self {
            TailTwo::Kakao => &asia::KAKAO,
            TailTwo::Naver => &asia::NAVER,
            TailTwo::Weibo => &asia::WEIBO,
            TailTwo::Baidu => &asia::BAIDU,
            TailTwo::Lark => &asia::LARK,
            TailTwo::Huawei => &asia::HUAWEI,
            TailTwo::KuaishouUser => &asia::KUAISHOU_USER,
            TailTwo::Yandex => &russia::YANDEX,
            TailTwo::MailRu => &russia::MAILRU,
            TailTwo::Twitch => &elsewhere::TWITCH,
            TailTwo::Discord => &elsewhere::DISCORD,
            TailTwo::Spotify => &elsewhere::SPOTIFY,
            TailTwo::Bitbucket => &elsewhere::BITBUCKET,
            TailTwo::Fitbit => &elsewhere::FITBIT,
            TailTwo::Ebay => &elsewhere::EBAY,
            TailTwo::PayPal => &elsewhere::PAYPAL,
        }
    }
}

/// Why a request is refused, in the provider's own error shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The client is not authenticated the provider's way.
    Client,
    /// The request is malformed: method, content type, a missing parameter.
    Request,
    /// The code or refresh token is invalid or expired.
    Grant,
}

/// One provider: what its endpoints take and answer.
pub struct Spec {
    /// The prefix of the access tokens it issues (`kk.` for Kakao).
    pub prefix: &'static str,
    pub token: Option<TokenSpec>,
    pub user: Option<UserSpec>,
    pub authorize: Option<AuthorizeSpec>,
}

/// Where a request's parameters travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Params {
    /// The query string, no body (a GET).
    Query,
    /// An `application/x-www-form-urlencoded` body.
    Form,
    /// An `application/json` object of strings.
    Json,
}

/// How the client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// HTTP Basic only; credentials among the parameters are refused.
    Basic,
    /// Among the parameters only, under these names; a Basic header, or the
    /// standard names when the provider renames them, are refused.
    Params {
        id: &'static str,
        secret: &'static str,
    },
    /// Either, under the standard names.
    Either,
}

impl Credentials {
    /// Among the parameters only, under the standard names.
    pub const BODY: Credentials = Credentials::Params {
        id: "client_id",
        secret: "client_secret",
    };
}

/// The token endpoint.
pub struct TokenSpec {
    pub path: &'static str,
    pub method: &'static str,
    pub params: Params,
    pub credentials: Credentials,
    /// Parameters the provider requires beyond the grant's (`redirect_uri`,
    /// Naver's `state`), with the value when it is fixed (eBay's RuName).
    pub required: &'static [(&'static str, Option<&'static str>)],
    /// Whether `grant_type=refresh_token` is served.
    pub refresh: bool,
    /// The success answer for (access token, refresh token).
    pub success: fn(&str, &str) -> Answer,
    /// The provider's refusal.
    pub error: fn(Refusal, &str) -> Answer,
}

/// Where the user call carries the access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenAt {
    /// `Authorization: <scheme> <token>` (`Bearer`, Yandex's `OAuth`).
    Scheme(&'static str),
    /// A query parameter.
    Query(&'static str),
    /// A form body parameter.
    Form(&'static str),
}

/// The user endpoint.
pub struct UserSpec {
    pub path: &'static str,
    pub method: &'static str,
    /// Where the token may be; any one of them will do.
    pub token_at: &'static [TokenAt],
    /// Query or form parameters the call needs, with the value when it is fixed.
    pub required: &'static [(&'static str, Option<&'static str>)],
    /// Headers the call needs (present and not empty).
    pub required_headers: &'static [&'static str],
    pub user: fn() -> Value,
    /// The provider's refusal of the call (`Refusal::Client`: a bad token).
    pub error: fn(Refusal, &str) -> Answer,
}

/// The authorize page, which consents at once.
pub struct AuthorizeSpec {
    pub path: &'static str,
    /// The client id's name on this leg.
    pub client_id: &'static str,
    pub response_type: bool,
}

/// The standard code a refusal carries.
pub(super) fn rfc(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::Client => "invalid_client",
        Refusal::Request => "invalid_request",
        Refusal::Grant => "invalid_grant",
    }
}

/// RFC-shaped, 401 for the client, else 400.
pub(super) fn rfc_status(refusal: Refusal) -> u16 {
    if refusal == Refusal::Client {
        401
    } else {
        400
    }
}

/// What a refusal looks like for providers that answer RFC 6749 errors.
pub(super) fn rfc_error(refusal: Refusal, why: &str) -> Answer {
    json_answer(
        rfc_status(refusal),
        json!({"error": rfc(refusal), "error_description": why}),
    )
}

pub(crate) fn json_answer(status: u16, value: Value) -> Answer {
    (status, "application/json", value.to_string())
}

/// The answer of the provider's mock to `request`, by path.
pub fn answer(provider: TailTwo, request: &SeenRequest) -> Answer {
    let spec = provider.spec();
    if let Some(user) = spec.user.as_ref().filter(|u| u.path == request.path) {
        return user_answer(spec.prefix, user, request);
    }
    if let Some(token) = spec.token.as_ref().filter(|t| t.path == request.path) {
        return token_answer(spec.prefix, token, request);
    }
    json_answer(404, json!({"error": "not_found", "path": request.path}))
}

/// The provider's authorize page, when `request` is for it (see
/// `provider::login_page`): a redirect with a code, or why not.
pub fn login_page(provider: TailTwo, request: &SeenRequest) -> Option<Result<String, String>> {
    let page = provider.spec().authorize.as_ref()?;
    if request.path != page.path || request.method != "GET" {
        return None;
    }
    let judged = (|| {
        request
            .query_param(page.client_id)
            .ok_or(format!("{} is missing", page.client_id))?;
        if page.client_id != "client_id" && request.query_param("client_id").is_some() {
            return Err(format!(
                "this provider wants {}, not client_id",
                page.client_id
            ));
        }
        if page.response_type && request.query_param("response_type") != Some("code") {
            return Err("response_type=code is missing".to_owned());
        }
        let redirect = request
            .query_param("redirect_uri")
            .ok_or("redirect_uri is missing")?;
        let state = request.query_param("state").unwrap_or("");
        let join = if redirect.contains('?') { '&' } else { '?' };
        let declined = request
            .query_param("scope")
            .is_some_and(|s| s.contains("mock.deny"));
        let params = if declined {
            vec![("error", "access_denied"), ("state", state)]
        } else {
            vec![("code", "mockcode-1"), ("state", state)]
        };
        Ok(format!(
            "{redirect}{join}{}",
            serde_urlencoded::to_string(params).unwrap()
        ))
    })();
    Some(judged)
}

fn content_type_is(request: &SeenRequest, wanted: &str) -> bool {
    request
        .header("content-type")
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|ct| ct.trim().eq_ignore_ascii_case(wanted))
}

/// The request's parameters where `params` says they travel; `Err` when they
/// are elsewhere or the body is not of that kind.
fn parameters(
    request: &SeenRequest,
    params: Params,
) -> Result<Vec<(String, String)>, &'static str> {
    match params {
        Params::Query => {
            if !request.raw_body.is_empty() {
                return Err("parameters belong in the query; the body must be empty");
            }
            Ok(request.query.clone())
        }
        Params::Form => {
            if !content_type_is(request, "application/x-www-form-urlencoded") {
                return Err("Content-Type must be application/x-www-form-urlencoded");
            }
            if !request.query.is_empty() {
                return Err("parameters belong in the body, not the query");
            }
            Ok(request.body.clone())
        }
        Params::Json => {
            if !content_type_is(request, "application/json") {
                return Err("Content-Type must be application/json");
            }
            let object = request
                .json_body()
                .ok_or("the body must be a JSON object")?;
            object
                .into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k, s)),
                    _ => Err("every JSON value must be a string"),
                })
                .collect()
        }
    }
}

fn basic_id(request: &SeenRequest) -> Option<String> {
    use base64::Engine;
    let value = request.header("authorization")?.strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(value)
        .ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (id, secret) = raw.split_once(':')?;
    (!id.is_empty() && !secret.is_empty()).then(|| id.to_owned())
}

/// A code or refresh token the mock refuses.
fn refused_grant(value: &str) -> bool {
    value.starts_with("bad") || value.starts_with("expired")
}

fn token_answer(prefix: &str, spec: &TokenSpec, request: &SeenRequest) -> Answer {
    let error = spec.error;
    if request.method != spec.method {
        return error(Refusal::Request, "method not allowed");
    }
    let params = match parameters(request, spec.params) {
        Ok(params) => params,
        Err(why) => return error(Refusal::Request, why),
    };
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let has_basic = request.header("authorization").is_some();
    let client_ok = match spec.credentials {
        Credentials::Basic => {
            if get("client_secret").is_some() {
                return error(Refusal::Client, "client credentials must be HTTP Basic");
            }
            basic_id(request).is_some()
        }
        Credentials::Params { id, secret } => {
            if has_basic {
                return error(Refusal::Client, "client credentials must be parameters");
            }
            for standard in ["client_id", "client_secret"] {
                if ![id, secret].contains(&standard) && get(standard).is_some() {
                    return error(Refusal::Request, "unknown parameter under a standard name");
                }
            }
            get(id).is_some() && get(secret).is_some()
        }
        Credentials::Either => {
            let in_params = get("client_id").is_some() && get("client_secret").is_some();
            in_params != basic_id(request).is_some()
        }
    };
    if !client_ok {
        return error(Refusal::Client, "client authentication failed");
    }
    let refresh_grant = spec.refresh && get("grant_type") == Some("refresh_token");
    if !refresh_grant {
        for (name, fixed) in spec.required {
            match (get(name), fixed) {
                (None, _) => return error(Refusal::Request, "a required parameter is missing"),
                (Some(value), Some(fixed)) if value != *fixed => {
                    return error(Refusal::Request, "a parameter has the wrong value")
                }
                _ => {}
            }
        }
    }
    let subject = match (get("grant_type"), get("code"), get("refresh_token")) {
        (Some("authorization_code"), Some(code), _) => code,
        (Some("refresh_token"), _, Some(refresh)) if spec.refresh => refresh,
        _ => {
            return error(
                Refusal::Request,
                "grant_type with code or refresh_token is required",
            )
        }
    };
    if refused_grant(subject) {
        return error(
            Refusal::Grant,
            "the code or refresh token is invalid or expired",
        );
    }
    (spec.success)(
        &format!("{prefix}.{subject}"),
        &format!("{prefix}r.{subject}"),
    )
}

fn user_answer(prefix: &str, spec: &UserSpec, request: &SeenRequest) -> Answer {
    let error = spec.error;
    if request.method != spec.method {
        return error(Refusal::Request, "method not allowed");
    }
    let param = |name: &str| {
        request.query_param(name).or_else(|| {
            (request.method == "POST")
                .then(|| request.body_param(name))
                .flatten()
        })
    };
    for (name, fixed) in spec.required {
        match (param(name), fixed) {
            (None, _) => return error(Refusal::Request, "a required parameter is missing"),
            (Some(value), Some(fixed)) if value != *fixed => {
                return error(Refusal::Request, "a parameter has the wrong value")
            }
            _ => {}
        }
    }
    if spec
        .required_headers
        .iter()
        .any(|name| request.header(name).is_none_or(str::is_empty))
    {
        return error(Refusal::Request, "a required header is missing");
    }
    let token = spec.token_at.iter().find_map(|place| match place {
        TokenAt::Scheme(scheme) => request
            .header("authorization")
            .and_then(|v| v.split_once(' '))
            .filter(|(s, _)| s == scheme)
            .map(|(_, t)| t.to_owned()),
        TokenAt::Query(name) => request.query_param(name).map(str::to_owned),
        TokenAt::Form(name) => (content_type_is(request, "application/x-www-form-urlencoded"))
            .then(|| request.body_param(name).map(str::to_owned))
            .flatten(),
    });
    match token {
        Some(token) if token.starts_with(&format!("{prefix}.")) && !token.contains("expired") => {
            json_answer(200, (spec.user)())
        }
        _ => error(Refusal::Client, "the access token is missing or invalid"),
    }
}
