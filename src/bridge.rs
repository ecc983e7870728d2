//! The OpenID Connect bridge's endpoints: any provider behind a token route
//! and a user-info route becomes an OpenID provider (discovery, JWKS,
//! `/authorize`, `/callback`, `/token`, `/userinfo`). Stateless: what a login
//! must carry between legs is sealed into the login itself (`core::oidc::seal`),
//! so any number of replicas with the same keys serve one issuer.
//!
//! The token leg runs the bridge's token route, then its user-info route with
//! the new access token, through the gateway's own exchange (same pooling,
//! timeouts and retry rules). No ID token is issued without a user the
//! provider named.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::gateway::TokenGateway;
use crate::plan::oidc::{BridgeEndpoint, OidcBridge};
use crate::upstream::exchange::ExchangeReport;
use quirkgate_core::http1::CallerAnswer;
use quirkgate_core::oauth_error::{OAuthError, Reason};
use quirkgate_core::oidc::authorize::{
    at_hash, judge_authorize, pkce_verifies, with_query, AuthorizePolicy, AuthorizeRefusal,
};
use quirkgate_core::oidc::seal::{SealError, SealPurpose};
use quirkgate_core::rules::request::parse_basic;

/// How long a user may take on the provider's authorize page.
const LOGIN_LIFETIME: u64 = 600;
/// How long the broker has to redeem the code it was given.
const CODE_LIFETIME: u64 = 300;
/// An access token's lifetime when the provider does not give one.
const DEFAULT_ACCESS_LIFETIME: u64 = 7200;
/// Wrapped access tokens (they carry a provider field `/userinfo` needs) start so.
const WRAPPED_PREFIX: &str = "qg.";
/// Discovery and JWKS may be cached this long: a rotated key is published
/// before it signs, so caches catch up well within it.
const DOCUMENT_MAX_AGE: &str = "public, max-age=300";

/// A bridge request as the front end read it.
pub struct BridgeRequest<'r> {
    pub method: &'r str,
    pub query: &'r str,
    pub body: &'r [u8],
    pub content_type: Option<&'r str>,
    pub authorization: Option<&'r str>,
}

/// A bridge answer: JSON, or a redirect.
#[derive(Debug)]
pub struct BridgeAnswer {
    pub status: u16,
    pub body: Bytes,
    pub location: Option<String>,
    /// `Cache-Control`: `no-store` unless a public document.
    pub cache_control: &'static str,
    /// `WWW-Authenticate`, on `/userinfo` and `/token` 401s.
    pub challenge: Option<String>,
    pub allow: Option<&'static str>,
    /// Why, when the bridge refused or failed (the `reason` metric label).
    pub refusal: Option<Reason>,
    /// Upstream attempts over all legs.
    pub attempts: u32,
}

impl BridgeAnswer {
    fn json(status: u16, body: impl Into<Bytes>) -> Self {
        BridgeAnswer {
            status,
            body: body.into(),
            location: None,
            cache_control: "no-store",
            challenge: None,
            allow: None,
            refusal: None,
            attempts: 0,
        }
    }

    fn redirect(location: String) -> Self {
        BridgeAnswer {
            location: Some(location),
            ..BridgeAnswer::json(302, Bytes::new())
        }
    }

    /// A refusal, in the RFC 6749 shape.
    pub fn error(error: OAuthError) -> Self {
        BridgeAnswer {
            refusal: Some(error.reason),
            ..BridgeAnswer::json(error.status, error.to_json())
        }
    }

    fn from_route(answer: CallerAnswer) -> Self {
        BridgeAnswer::json(answer.status, answer.body)
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What the provider's `state` carries from `/authorize` to `/callback`.
#[derive(Serialize, Deserialize)]
struct SealedLogin {
    /// The broker's client id, `redirect_uri`, `state`, `nonce`, PKCE challenge.
    c: String,
    r: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p: Option<String>,
}

/// What the broker's code carries from `/callback` to `/token`.
#[derive(Serialize, Deserialize)]
struct SealedCode {
    /// The provider's code.
    pc: String,
    c: String,
    r: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p: Option<String>,
    /// When the user authenticated (the callback), Unix seconds.
    at: u64,
}

/// A wrapped access token: the provider's, and the fields `/userinfo` needs.
#[derive(Serialize, Deserialize)]
struct SealedAccess {
    t: String,
    f: Vec<(String, String)>,
}

/// Serves one request to a bridge endpoint.
pub async fn serve(
    gateway: &TokenGateway,
    bridge: &OidcBridge,
    endpoint: BridgeEndpoint,
    request: &BridgeRequest<'_>,
) -> BridgeAnswer {
    let allowed: &'static str = match endpoint {
        BridgeEndpoint::Token => "POST",
        BridgeEndpoint::Authorize | BridgeEndpoint::UserInfo => "GET, POST",
        _ => "GET, HEAD",
    };
    if !allowed.split(", ").any(|m| m == request.method) {
        return BridgeAnswer {
            allow: Some(allowed),
            ..BridgeAnswer::error(OAuthError::method_not_allowed())
        };
    }
    let mut answer = match endpoint {
        BridgeEndpoint::Discovery => BridgeAnswer {
            cache_control: DOCUMENT_MAX_AGE,
            ..BridgeAnswer::json(200, bridge.discovery.clone())
        },
        BridgeEndpoint::Jwks => BridgeAnswer {
            cache_control: DOCUMENT_MAX_AGE,
            ..BridgeAnswer::json(200, bridge.jwks.clone())
        },
        BridgeEndpoint::Authorize => match form_params(request) {
            Ok(query) => authorize(bridge, query),
            Err(e) => BridgeAnswer::error(e),
        },
        BridgeEndpoint::Callback => callback(bridge, request.query),
        BridgeEndpoint::Token => token(gateway, bridge, request).await,
        BridgeEndpoint::UserInfo => userinfo(gateway, bridge, request).await,
    };
    if request.method == "HEAD" {
        answer.body = Bytes::new();
    }
    answer
}

/// The parameters of a GET (its query) or a form POST (its body).
fn form_params<'r>(request: &BridgeRequest<'r>) -> Result<&'r str, OAuthError> {
    if request.method == "GET" {
        return Ok(request.query);
    }
    if !request.content_type.is_some_and(|ct| {
        quirkgate_core::rules::response::mime_is(ct, "application/x-www-form-urlencoded")
    }) {
        return Err(OAuthError::unsupported_media_type());
    }
    std::str::from_utf8(request.body)
        .map_err(|_| OAuthError::invalid_request("the form is not UTF-8", Reason::Malformed))
}

fn authorize(bridge: &OidcBridge, query: &str) -> BridgeAnswer {
    let policy = AuthorizePolicy {
        redirect_uris: &bridge.redirect_uris,
        client_ids: bridge.client_ids.as_deref(),
    };
    match judge_authorize(query, &policy) {
        Ok(login) => {
            let sealed = bridge.sealer.seal(
                SealPurpose::State,
                &SealedLogin {
                    c: login.client_id.clone(),
                    r: login.redirect_uri,
                    s: login.state,
                    n: login.nonce,
                    p: login.code_challenge,
                },
                now() + LOGIN_LIFETIME,
            );
            BridgeAnswer::redirect(bridge.authorize.url_for(
                &login.client_id,
                &login.scopes,
                &bridge.callback_url,
                &sealed,
            ))
        }
        Err(AuthorizeRefusal::Here(error)) => BridgeAnswer::error(error),
        Err(AuthorizeRefusal::ToBroker {
            redirect_uri,
            state,
            error,
            description,
        }) => BridgeAnswer {
            refusal: Some(Reason::Malformed),
            ..back_to_broker(
                bridge,
                &redirect_uri,
                state.as_deref(),
                &[("error", error), ("error_description", description)],
            )
        },
    }
}

/// A redirect to the broker's (allowed) callback, with its state and our
/// issuer (RFC 9207).
fn back_to_broker(
    bridge: &OidcBridge,
    redirect_uri: &str,
    state: Option<&str>,
    params: &[(&str, &str)],
) -> BridgeAnswer {
    let mut all: Vec<(&str, &str)> = params.to_vec();
    if let Some(state) = state {
        all.push(("state", state));
    }
    all.push(("iss", &bridge.issuer));
    BridgeAnswer::redirect(with_query(redirect_uri, &all))
}

fn unique_params(text: &str) -> Result<Vec<(String, String)>, OAuthError> {
    let params: Vec<(String, String)> = serde_urlencoded::from_str(text).map_err(|_| {
        OAuthError::invalid_request("the parameters are not URL-encoded", Reason::Malformed)
    })?;
    for (i, (name, _)) in params.iter().enumerate() {
        if params[..i].iter().any(|(seen, _)| seen == name) {
            return Err(OAuthError::invalid_request(
                "a parameter is sent more than once",
                Reason::Conflict,
            ));
        }
    }
    Ok(params)
}

fn param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn callback(bridge: &OidcBridge, query: &str) -> BridgeAnswer {
    let params = match unique_params(query) {
        Ok(params) => params,
        Err(e) => return BridgeAnswer::error(e),
    };
    let login: SealedLogin = match param(&params, "state")
        .ok_or(SealError::Invalid)
        .and_then(|state| bridge.sealer.open(SealPurpose::State, state, now()))
    {
        Ok(login) => login,
        Err(why) => return BridgeAnswer::error(OAuthError::invalid_request(
            match why {
                SealError::Expired => "the login took too long: start it again",
                SealError::Invalid => {
                    "the login's state is missing, altered or not this gateway's: start it again"
                }
            },
            Reason::InvalidGrant,
        )),
    };
    let Some(provider_code) = param(&params, "code") else {
        // The user declined, or the provider failed: the broker hears it, without the provider's text.
        return BridgeAnswer {
            refusal: Some(Reason::ProviderError),
            ..back_to_broker(
                bridge,
                &login.r,
                login.s.as_deref(),
                &[
                    ("error", "access_denied"),
                    ("error_description", "the provider did not grant the login"),
                ],
            )
        };
    };
    let code = bridge.sealer.seal(
        SealPurpose::Code,
        &SealedCode {
            pc: provider_code.to_owned(),
            c: login.c,
            r: login.r.clone(),
            n: login.n,
            p: login.p,
            at: now(),
        },
        now() + CODE_LIFETIME,
    );
    back_to_broker(bridge, &login.r, login.s.as_deref(), &[("code", &code)])
}

fn invalid_grant(description: &'static str) -> OAuthError {
    OAuthError::new(400, "invalid_grant", description, Reason::InvalidGrant)
}

/// The token leg's failure as the broker sees it: the bridge could not finish.
fn upstream_failed(description: &'static str) -> OAuthError {
    OAuthError::new(502, "server_error", description, Reason::ProviderError)
}

/// The broker's client credentials, from the form or a Basic header (not
/// both: RFC 6749 §2.3). They go on to the provider in the form, as the
/// token routes' presets expect them from any standard client.
fn client_credentials(
    params: &[(String, String)],
    authorization: Option<&str>,
) -> Result<(String, Option<String>), OAuthError> {
    let in_form = param(params, "client_id");
    match (in_form, authorization) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "client credentials are sent both in the form and in Authorization",
            Reason::Conflict,
        )),
        (Some(id), None) => Ok((
            id.to_owned(),
            param(params, "client_secret").map(str::to_owned),
        )),
        (None, Some(header)) => parse_basic(header).map(|(id, secret)| (id, Some(secret))),
        (None, None) => Err(OAuthError::invalid_client(
            "client authentication is missing",
        )),
    }
}

async fn token(
    gateway: &TokenGateway,
    bridge: &OidcBridge,
    request: &BridgeRequest<'_>,
) -> BridgeAnswer {
    let mut report = ExchangeReport::default();
    let result = token_leg(gateway, bridge, request, &mut report).await;
    let mut answer = result.unwrap_or_else(|e| {
        let mut answer = BridgeAnswer::error(e);
        if answer.status == 401 && request.authorization.is_some() {
            answer.challenge = Some("Basic realm=\"token\"".to_owned());
        }
        answer
    });
    answer.attempts = report.attempts;
    answer
}

async fn token_leg(
    gateway: &TokenGateway,
    bridge: &OidcBridge,
    request: &BridgeRequest<'_>,
    report: &mut ExchangeReport,
) -> Result<BridgeAnswer, OAuthError> {
    let params = unique_params(form_params(request)?)?;
    let (client_id, client_secret) = client_credentials(&params, request.authorization)?;
    if bridge
        .client_ids
        .as_ref()
        .is_some_and(|ids| !ids.contains(&client_id))
    {
        return Err(OAuthError::new(
            401,
            "invalid_client",
            "this client may not use this bridge",
            Reason::ClientNotAllowed,
        ));
    }
    // Only the client's credentials go on to the provider, next to what the bridge sets.
    let mut credentials = vec![("client_id", client_id.as_str())];
    if let Some(secret) = &client_secret {
        credentials.push(("client_secret", secret.as_str()));
    }
    let mut timer = std::pin::pin!(tokio::time::sleep(Duration::ZERO));
    match param(&params, "grant_type") {
        Some("authorization_code") => {
            let code: SealedCode = param(&params, "code")
                .ok_or(SealError::Invalid)
                .and_then(|code| bridge.sealer.open(SealPurpose::Code, code, now()))
                .map_err(|why| match why {
                    SealError::Expired => invalid_grant("the code has expired"),
                    SealError::Invalid => invalid_grant("the code is not one this bridge issued"),
                })?;
            if code.c != client_id {
                return Err(invalid_grant("the code was issued to another client"));
            }
            if param(&params, "redirect_uri") != Some(code.r.as_str()) {
                return Err(invalid_grant(
                    "redirect_uri differs from the authorize request's",
                ));
            }
            if let Some(challenge) = &code.p {
                let verifier = param(&params, "code_verifier").unwrap_or("");
                if !pkce_verifies(challenge, verifier) {
                    return Err(invalid_grant("the PKCE code_verifier does not match"));
                }
            }
            // Last check before the provider: a code is redeemed once.
            let sealed_code = param(&params, "code").unwrap_or("");
            if !bridge
                .redeemed
                .first_use(sealed_code, now() + CODE_LIFETIME, now())
            {
                return Err(invalid_grant("the code has already been redeemed"));
            }
            let form = [
                ("grant_type", "authorization_code"),
                ("code", &code.pc),
                ("redirect_uri", &bridge.callback_url),
            ];
            let (mut tokens, provider_token, fields) =
                match provider_tokens(gateway, bridge, &form, &credentials, report, timer.as_mut())
                    .await?
                {
                    Ok(tokens) => tokens,
                    Err(refusal) => return Ok(refusal),
                };
            let user = read_user(
                gateway,
                bridge,
                &provider_token,
                &fields,
                report,
                timer.as_mut(),
            )
            .await
            .map_err(|e| match e.status {
                401 => upstream_failed("the provider refused the access token it had just issued"),
                _ => e,
            })?;
            let claims = bridge
                .claims
                .claims(&user)
                .ok_or_else(|| upstream_failed("the provider's user has no subject"))?;
            let access_token = wrap_access_token(bridge, &mut tokens, provider_token, fields);
            let id_token = id_token(bridge, &client_id, &code, &access_token, claims)?;
            tokens.insert("id_token".into(), id_token.into());
            Ok(BridgeAnswer::json(
                200,
                serde_json::to_vec(&tokens).expect("a JSON map serializes"),
            ))
        }
        Some("refresh_token") => {
            let refresh = param(&params, "refresh_token").ok_or_else(|| {
                OAuthError::invalid_request("refresh_token is missing", Reason::MissingParam)
            })?;
            let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
            let (mut tokens, provider_token, fields) =
                match provider_tokens(gateway, bridge, &form, &credentials, report, timer.as_mut())
                    .await?
                {
                    Ok(tokens) => tokens,
                    Err(refusal) => return Ok(refusal),
                };
            // OIDC Core §12.2: a refresh answer may leave the ID token out; this one does.
            wrap_access_token(bridge, &mut tokens, provider_token, fields);
            Ok(BridgeAnswer::json(
                200,
                serde_json::to_vec(&tokens).expect("a JSON map serializes"),
            ))
        }
        Some(_) => Err(OAuthError::new(
            400,
            "unsupported_grant_type",
            "authorization_code or refresh_token",
            Reason::Malformed,
        )),
        None => Err(OAuthError::invalid_request(
            "grant_type is missing",
            Reason::MissingParam,
        )),
    }
}

/// The provider's tokens, their access token and the fields `/userinfo`
/// will need, or the provider's refusal as the token route shaped it.
type ProviderTokens = (Map<String, Value>, String, Vec<(String, String)>);

/// Runs the token route with the bridge's `form` and the broker's credentials.
async fn provider_tokens(
    gateway: &TokenGateway,
    bridge: &OidcBridge,
    form: &[(&str, &str)],
    credentials: &[(&str, &str)],
    report: &mut ExchangeReport,
    timer: std::pin::Pin<&mut tokio::time::Sleep>,
) -> Result<Result<ProviderTokens, BridgeAnswer>, OAuthError> {
    let body = serde_urlencoded::to_string([form, credentials].concat())
        .expect("text pairs always encode");
    let answer = gateway
        .run_route(&bridge.token_route, body.as_bytes(), None, report, timer)
        .await?;
    if answer.status != 200 {
        return Ok(Err(BridgeAnswer::from_route(answer)));
    }
    let tokens = token_object(&answer.body)?;
    let access_token = access_token_of(&tokens)?;
    let fields = userinfo_fields(bridge, &tokens);
    Ok(Ok((tokens, access_token, fields)))
}

fn token_object(body: &[u8]) -> Result<Map<String, Value>, OAuthError> {
    serde_json::from_slice(body)
        .map_err(|_| upstream_failed("the token answer is not a JSON object"))
}

fn access_token_of(tokens: &Map<String, Value>) -> Result<String, OAuthError> {
    tokens
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| upstream_failed("the token answer has no access_token"))
}

/// The token-answer fields the user-info call needs (WeChat's `openid`).
fn userinfo_fields(bridge: &OidcBridge, tokens: &Map<String, Value>) -> Vec<(String, String)> {
    bridge
        .userinfo_params
        .iter()
        .filter_map(|name| {
            let value = match tokens.get(name)? {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                _ => return None,
            };
            Some((name.clone(), value))
        })
        .collect()
}

/// When `/userinfo` will need provider fields, the broker's access token
/// carries them sealed; otherwise it is the provider's own.
fn wrap_access_token(
    bridge: &OidcBridge,
    tokens: &mut Map<String, Value>,
    provider_token: String,
    fields: Vec<(String, String)>,
) -> String {
    if bridge.userinfo_params.is_empty() {
        return provider_token;
    }
    let lifetime = tokens
        .get("expires_in")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_ACCESS_LIFETIME);
    let wrapped = format!(
        "{WRAPPED_PREFIX}{}",
        bridge.sealer.seal(
            SealPurpose::AccessToken,
            &SealedAccess {
                t: provider_token,
                f: fields
            },
            now() + lifetime
        )
    );
    tokens.insert("access_token".into(), wrapped.clone().into());
    wrapped
}

/// Runs the user-info route with the provider's access token; its answer's JSON.
async fn read_user(
    gateway: &TokenGateway,
    bridge: &OidcBridge,
    provider_token: &str,
    fields: &[(String, String)],
    report: &mut ExchangeReport,
    timer: std::pin::Pin<&mut tokio::time::Sleep>,
) -> Result<Value, OAuthError> {
    let body = serde_urlencoded::to_string(fields).expect("text pairs always encode");
    let bearer = format!("Bearer {provider_token}");
    let user = gateway
        .run_route(
            &bridge.userinfo_route,
            body.as_bytes(),
            Some(&bearer),
            report,
            timer,
        )
        .await
        .map_err(|e| match e.reason {
            Reason::Upstream(_) => e,
            // The user-info route's rules read the provider's refusal.
            Reason::ProviderError => refused_token(),
            _ => upstream_failed("the provider's user could not be read"),
        })?;
    if user.status != 200 {
        return Err(if user.status == 401 || user.status == 400 {
            refused_token()
        } else {
            upstream_failed("the provider's user could not be read")
        });
    }
    serde_json::from_slice(&user.body)
        .map_err(|_| upstream_failed("the provider's user is not JSON"))
}

fn refused_token() -> OAuthError {
    OAuthError::new(
        401,
        "invalid_token",
        "the provider refused the access token",
        Reason::ProviderError,
    )
}

fn id_token(
    bridge: &OidcBridge,
    client_id: &str,
    code: &SealedCode,
    access_token: &str,
    claims: Map<String, Value>,
) -> Result<String, OAuthError> {
    let issued_at = now();
    let mut body = claims;
    body.insert("iss".into(), bridge.issuer.clone().into());
    body.insert("aud".into(), client_id.into());
    body.insert("iat".into(), issued_at.into());
    body.insert(
        "exp".into(),
        (issued_at + bridge.id_token_lifetime.as_secs()).into(),
    );
    body.insert("auth_time".into(), code.at.into());
    body.insert("at_hash".into(), at_hash(access_token).into());
    if let Some(nonce) = &code.n {
        body.insert("nonce".into(), nonce.clone().into());
    }
    let signer = &bridge.keys[0];
    signer
        .key
        .sign_jwt(Some(&signer.kid), &Value::Object(body))
        .map_err(|_| {
            OAuthError::new(
                500,
                "server_error",
                "the ID token could not be signed",
                Reason::ProviderError,
            )
        })
}

async fn userinfo(
    gateway: &TokenGateway,
    bridge: &OidcBridge,
    request: &BridgeRequest<'_>,
) -> BridgeAnswer {
    let unauthorized = |description: &'static str, error: Option<&'static str>| BridgeAnswer {
        challenge: Some(match error {
            Some(error) => format!("Bearer error=\"{error}\", error_description=\"{description}\""),
            None => "Bearer".to_owned(),
        }),
        ..BridgeAnswer::error(OAuthError::new(
            401,
            error.unwrap_or("invalid_request"),
            description,
            Reason::NoCredentials,
        ))
    };
    let Some(token) = request
        .authorization
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
    else {
        return unauthorized("a Bearer access token is needed", None);
    };
    let (provider_token, fields) = match token.strip_prefix(WRAPPED_PREFIX) {
        Some(sealed) => {
            match bridge
                .sealer
                .open::<SealedAccess>(SealPurpose::AccessToken, sealed, now())
            {
                Ok(access) => (access.t, access.f),
                Err(_) => {
                    return unauthorized(
                        "the access token is expired or not this bridge's",
                        Some("invalid_token"),
                    )
                }
            }
        }
        None if bridge.userinfo_params.is_empty() => (token.to_owned(), Vec::new()),
        None => {
            return unauthorized(
                "the access token is not one this bridge issued",
                Some("invalid_token"),
            )
        }
    };
    let mut report = ExchangeReport::default();
    let mut timer = std::pin::pin!(tokio::time::sleep(Duration::ZERO));
    let user = read_user(
        gateway,
        bridge,
        &provider_token,
        &fields,
        &mut report,
        timer.as_mut(),
    )
    .await;
    let mut answer = match user.map(|user| bridge.claims.claims(&user)) {
        Ok(Some(claims)) => BridgeAnswer::json(
            200,
            serde_json::to_vec(&claims).expect("a JSON map serializes"),
        ),
        Ok(None) => BridgeAnswer::error(upstream_failed("the provider's user has no subject")),
        Err(e) if e.status == 401 => unauthorized(
            "the provider refused the access token",
            Some("invalid_token"),
        ),
        Err(e) => BridgeAnswer::error(e),
    };
    answer.attempts = report.attempts;
    answer
}
