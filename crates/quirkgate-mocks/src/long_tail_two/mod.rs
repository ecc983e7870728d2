//! Mock providers of the long tail, part two (`../shared/oauth-quirks.md`,
//! "The long tail, part two"). Each provider is a declarative spec per
//! endpoint (token, user, authorize page) read by one interpreter, so a mock
//! refuses exactly what its spec says the provider refuses: method, content
//! type, credential placement, parameter names, required parameters and
//! headers, and where the access token goes on the user call.

mod asia;
mod elsewhere;
mod russia;

pub use asia::{KUAISHOU_USER_INFO, MOCK_KUAISHOU_APP_ID};
pub use elsewhere::MOCK_EBAY_RUNAME;

use serde_json::{json, Value};

use super::kinds::SeenRequest;
use super::strict::{self, At, Credentials, Endpoint};

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

    /// Every endpoint the provider's mock serves; any other path is a 404.
    pub fn endpoints(self) -> &'static [Endpoint] {
        macro_rules! endpoints {
            ($($provider:ident => $spec:path),* $(,)?) => {
                match self {
                    $(TailTwo::$provider => {
                        static ALL: ([Endpoint; 3], usize) = all_endpoints(&$spec);
                        &ALL.0[..ALL.1]
                    })*
                }
            };
        }
        endpoints!(
            Kakao => asia::KAKAO, Naver => asia::NAVER, Weibo => asia::WEIBO, Baidu => asia::BAIDU,
            Lark => asia::LARK, Huawei => asia::HUAWEI, KuaishouUser => asia::KUAISHOU_USER,
            Yandex => russia::YANDEX, MailRu => russia::MAILRU, Twitch => elsewhere::TWITCH,
            Discord => elsewhere::DISCORD, Spotify => elsewhere::SPOTIFY,
            Bitbucket => elsewhere::BITBUCKET, Fitbit => elsewhere::FITBIT,
            Ebay => elsewhere::EBAY, PayPal => elsewhere::PAYPAL,
        )
    }

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
    /// The authorize page (consenting at once: `provider::login_page`).
    pub authorize: Option<Endpoint>,
}

/// The token endpoint: what it accepts ([`strict::Endpoint`], judged before
/// anything else), then the grant.
pub struct TokenSpec {
    pub endpoint: Endpoint,
    /// Parameters a code exchange needs beyond `code` (`redirect_uri`,
    /// Naver's `state`), with the value when it is fixed (eBay's RuName).
    pub code_params: &'static [(&'static str, Option<&'static str>)],
    /// Whether `grant_type=refresh_token` is served.
    pub refresh: bool,
    /// The success answer for (access token, refresh token).
    pub success: fn(&str, &str) -> Answer,
    /// The provider's refusal of a grant (`Refusal::Grant`) or request.
    pub error: fn(Refusal, &str) -> Answer,
}

/// The user endpoint: what it accepts, then the token and the user.
pub struct UserSpec {
    pub endpoint: Endpoint,
    /// Parameters (query, or form for a POST) whose value is fixed.
    pub fixed: &'static [(&'static str, &'static str)],
    /// Where the token is when the endpoint's credentials do not say
    /// (Huawei's form parameter).
    pub token_param: Option<&'static str>,
    pub user: fn() -> Value,
    /// The provider's refusal of the call (`Refusal::Client`: a bad token).
    pub error: fn(Refusal, &str) -> Answer,
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

/// An authorize page: a GET naming the client and the redirect.
pub(crate) const fn authorize_page(path: &'static str) -> Endpoint {
    authorize_page_requiring(path, &["client_id", "redirect_uri"])
}

/// An authorize page that also refuses a request without each of `required`
/// (Naver's and Mail.ru's `state`).
pub(crate) const fn authorize_page_requiring(
    path: &'static str,
    required: &'static [&'static str],
) -> Endpoint {
    Endpoint {
        path,
        methods: &["GET"],
        body: strict::Body::None,
        credentials: Credentials::None,
        headers: &[],
        params: strict::Params {
            at: At::Query,
            required,
            forbidden: &[],
        },
        refusal: strict::Refusal {
            status: 400,
            content_type: "text/plain",
            body: "{why}",
            overrides: &[],
        },
    }
}

/// Every endpoint of `spec`, for the strict check before any logic.
const fn all_endpoints(spec: &Spec) -> ([Endpoint; 3], usize) {
    let empty = authorize_page("/");
    let mut out = [empty, empty, empty];
    let mut n = 0;
    if let Some(page) = &spec.authorize {
        out[n] = *page;
        n += 1;
    }
    if let Some(token) = &spec.token {
        out[n] = token.endpoint;
        n += 1;
    }
    if let Some(user) = &spec.user {
        out[n] = user.endpoint;
        n += 1;
    }
    (out, n)
}

/// Either body parameters or HTTP Basic, under the standard names.
pub(crate) const PARAMS_OR_BASIC: Credentials = Credentials::ParamsOrBasic {
    id: "client_id",
    secret: "client_secret",
};

/// Client credentials as body parameters under the standard names; a Basic header is refused.
pub(crate) const BODY_CREDENTIALS: Credentials = Credentials::Params {
    id: "client_id",
    secret: Some("client_secret"),
};

/// HTTP Basic only; the standard names among the parameters are refused.
pub(crate) const BASIC_ONLY: Credentials = Credentials::Basic {
    refused: &["client_id", "client_secret"],
};

/// A token endpoint taking a form POST with `grant_type`.
pub(crate) const fn form_post(
    path: &'static str,
    credentials: Credentials,
    refusal: strict::Refusal,
) -> Endpoint {
    Endpoint {
        path,
        methods: &["POST"],
        body: strict::Body::Form,
        credentials,
        headers: &[],
        params: strict::Params {
            at: At::Body,
            required: &["grant_type"],
            forbidden: &[],
        },
        refusal,
    }
}

/// A user endpoint taking a GET, with `required` query parameters.
pub(crate) const fn get_user(
    path: &'static str,
    credentials: Credentials,
    required: &'static [&'static str],
    refusal: strict::Refusal,
) -> Endpoint {
    Endpoint {
        path,
        methods: &["GET"],
        body: strict::Body::None,
        credentials,
        headers: &[],
        params: strict::Params {
            at: At::Query,
            required,
            forbidden: &[],
        },
        refusal,
    }
}

pub(crate) fn json_answer(status: u16, value: Value) -> Answer {
    (status, "application/json", value.to_string())
}

/// The answer of the provider's mock to `request`, by path.
pub fn answer(provider: TailTwo, request: &SeenRequest) -> Answer {
    let spec = provider.spec();
    if let Some(user) = spec
        .user
        .as_ref()
        .filter(|u| u.endpoint.path == request.path)
    {
        return user_answer(spec.prefix, user, request);
    }
    if let Some(token) = spec
        .token
        .as_ref()
        .filter(|t| t.endpoint.path == request.path)
    {
        return token_answer(spec.prefix, token, request);
    }
    json_answer(404, json!({"error": "not_found", "path": request.path}))
}

/// The parameters where the endpoint reads them.
fn parameters(endpoint: &Endpoint, request: &SeenRequest) -> Vec<(String, String)> {
    match (endpoint.params.at, endpoint.body) {
        (At::Query, _) => request.query.clone(),
        (At::Body, strict::Body::Json) => request
            .json_body()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
            .collect(),
        (At::Body, _) => request.body.clone(),
    }
}

/// A code or refresh token the mock refuses.
fn refused_grant(value: &str) -> bool {
    value.starts_with("bad") || value.starts_with("expired")
}

fn token_answer(prefix: &str, spec: &TokenSpec, request: &SeenRequest) -> Answer {
    if let Err(refused) = strict::judge(std::slice::from_ref(&spec.endpoint), request) {
        return refused;
    }
    let params = parameters(&spec.endpoint, request);
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let error = spec.error;
    let subject = match (get("grant_type"), get("code"), get("refresh_token")) {
        (Some("authorization_code"), Some(code), _) => {
            for (name, fixed) in spec.code_params {
                match (get(name), fixed) {
                    (None, _) => return error(Refusal::Request, "a required parameter is missing"),
                    (Some(value), Some(fixed)) if value != *fixed => {
                        return error(Refusal::Request, "a parameter has the wrong value")
                    }
                    _ => {}
                }
            }
            code
        }
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
    if let Err(refused) = strict::judge(std::slice::from_ref(&spec.endpoint), request) {
        return refused;
    }
    let param = |name: &str| {
        request
            .query_param(name)
            .or_else(|| request.body_param(name))
    };
    if spec
        .fixed
        .iter()
        .any(|(name, value)| param(name) != Some(value))
    {
        return (spec.error)(Refusal::Request, "a parameter has the wrong value");
    }
    let token = match (spec.endpoint.credentials, spec.token_param) {
        (_, Some(name)) => param(name),
        (Credentials::TokenQuery(name), None) => request.query_param(name),
        (Credentials::TokenHeader(name), None) => request.header(name),
        _ => request
            .header("authorization")
            .and_then(|v| v.split_once(' '))
            .map(|(_, token)| token),
    };
    match token {
        Some(token) if token.starts_with(&format!("{prefix}.")) && !token.contains("expired") => {
            json_answer(200, (spec.user)())
        }
        _ => (spec.error)(Refusal::Client, "the access token is missing or invalid"),
    }
}
