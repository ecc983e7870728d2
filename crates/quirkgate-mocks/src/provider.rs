//! Mock OAuth providers that answer as `../shared/oauth-quirks.md` documents
//! the real ones do. Used by `quirkgate-mocks provider` (to try the gateway
//! with curl, no provider app needed), the black-box tests and the load
//! benchmark. Plain HTTP/1.1 with keep-alive, optionally over TLS.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

pub use super::callback_pages::RedirectNames;
use super::callback_pages::{callback_params, form_post_page, redirect_target};
pub use super::kinds::{ProviderKind, SeenRequest, PROVIDER_NAMES};
use super::strict::{self, Credentials};

/// A running mock; `seen` records every request (tests read it, the CLI prints it).
pub struct MockProvider {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<SeenRequest>>>,
    pub connections: Arc<std::sync::atomic::AtomicUsize>,
    /// The redirect names the mock's app has registered (eBay's RuNames).
    pub redirect_names: RedirectNames,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MockProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockProvider {
    /// Starts on `listen` (port 0 for a free one); with `tls`, speaks HTTPS.
    pub async fn start(
        kind: ProviderKind,
        listen: &str,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let redirect_names = RedirectNames::default();
        let (seen_task, conns_task, names_task) =
            (seen.clone(), connections.clone(), redirect_names.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                conns_task.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let seen = seen_task.clone();
                let names = names_task.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let _ = stream.set_nodelay(true);
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                serve_connection(stream, kind, seen, &names).await;
                            }
                        }
                        None => serve_connection(stream, kind, seen, &names).await,
                    }
                });
            }
        });
        Ok(MockProvider {
            addr,
            seen,
            connections,
            redirect_names,
            task,
        })
    }

    pub fn requests(&self) -> Vec<SeenRequest> {
        self.seen.lock().unwrap().clone()
    }
}

/// Serves HTTP/1.1 requests on one connection until the peer closes it.
pub async fn serve_connection<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    kind: ProviderKind,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
    redirect_names: &RedirectNames,
) {
    let mut buf = Vec::with_capacity(4096);
    loop {
        let Some(request) = read_request(&mut stream, &mut buf).await else {
            return;
        };
        let judged = match super::id_tokens::jwks_answer(kind, &request) {
            Some(jwks) => Err(jwks),
            None => strict::judge(kind.endpoints(), &request),
        };
        let (status, content_type, body, location) = match judged {
            Err((status, content_type, body)) => (status, content_type, body, None),
            Ok(page) if page.credentials == Credentials::None => {
                match super::id_tokens::page_refusal(kind, &request)
                    .map_or_else(|| login_page(kind, &request, redirect_names), Err)
                {
                    Ok(location) => match form_post_page(kind, &request, &location) {
                        Some(form) => (200, "text/html", form, None),
                        None => (302, "text/plain", String::new(), Some(location)),
                    },
                    Err(why) => (400, "text/plain", why, None),
                }
            }
            Ok(_) => {
                let (status, content_type, body) =
                    super::id_tokens::with_id_token(kind, &request, answer(kind, &request));
                (status, content_type, body, None)
            }
        };
        seen.lock().unwrap().push(request);
        let location = location.map_or(String::new(), |l| format!("location: {l}\r\n"));
        let head = format!(
            "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\n{location}content-length: {}\r\n\r\n",
            if status < 400 { "OK" } else { "Error" },
            body.len()
        );
        let mut out = head.into_bytes();
        out.extend_from_slice(body.as_bytes());
        if stream.write_all(&out).await.is_err() || stream.flush().await.is_err() {
            return;
        }
    }
}

/// Reads one request (Content-Length bodies only); `None` when the peer is gone.
pub async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> Option<SeenRequest> {
    loop {
        if let Some(end) = find_header_end(buf) {
            let head = std::str::from_utf8(&buf[..end]).ok()?.to_owned();
            let mut lines = head.split("\r\n");
            let mut first = lines.next()?.split(' ');
            let method = first.next()?.to_owned();
            let target = first.next()?.to_owned();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            let length: usize = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let mut chunk = [0u8; 4096];
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let raw_body = buf[end + 4..end + 4 + length].to_vec();
            buf.drain(..end + 4 + length);
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            return Some(SeenRequest {
                method,
                path: path.to_owned(),
                query: serde_urlencoded::from_str(query).unwrap_or_default(),
                headers,
                body: serde_urlencoded::from_bytes(&raw_body).unwrap_or_default(),
                raw_body,
            });
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find_header_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

fn json(value: serde_json::Value) -> String {
    value.to_string()
}

/// The authorize page of a provider (an endpoint that takes no
/// credentials), as if the user consented at once: a redirect to
/// `redirect_uri` (or where its registered name points, for eBay) with a
/// code under the provider's name for it and the `state` (`Err`: why the
/// page would show an error instead). The strict check has seen the
/// parameter names; a scope containing `mock.deny` plays a user who declines.
pub fn login_page(
    kind: ProviderKind,
    request: &SeenRequest,
    redirect_names: &RedirectNames,
) -> Result<String, String> {
    if request
        .query_param("response_type")
        .is_some_and(|t| t != "code")
    {
        return Err("response_type must be code".to_owned());
    }
    let redirect = redirect_target(kind, request, redirect_names)?;
    let state = request.query_param("state").unwrap_or("");
    // X's page hides the PKCE challenge in its code; the providers that sign
    // ID tokens hide the nonce and an ID-token switch in theirs.
    let code = if request.query_param("code_challenge").is_some() {
        super::login_legs::issued_code(request)
    } else {
        super::id_tokens::authorize_code(request)
    };
    let join = if redirect.contains('?') { '&' } else { '?' };
    let params = if request
        .query_param("scope")
        .is_some_and(|s| s.contains("mock.deny"))
    {
        vec![("error", "access_denied"), ("state", state)]
    } else {
        let mut params = callback_params(kind, request, &code);
        params.push(("state", state));
        params
    };
    Ok(format!(
        "{redirect}{join}{}",
        serde_urlencoded::to_string(params).expect("text pairs encode")
    ))
}

/// The provider's documented answer to a request.
pub fn answer(kind: ProviderKind, request: &SeenRequest) -> (u16, &'static str, String) {
    use serde_json::json;
    const JSON: &str = "application/json";
    // One mock serves a provider's whole API: its user endpoint by path.
    match (kind, request.path.as_str()) {
        (ProviderKind::TikTok, "/v2/user/info/") => {
            return answer(ProviderKind::TikTokUserInfo, request)
        }
        (ProviderKind::WeChat, "/sns/userinfo") => return wechat_user(request),
        (ProviderKind::GitHub, "/user") => return github_user(request),
        (ProviderKind::DingTalk, "/v1.0/contact/users/me") => {
            return super::long_tail::answer(ProviderKind::DingTalkUserInfo, request)
        }
        // Kuaishou's user info is part two's spec, served beside its token endpoint.
        (ProviderKind::Kuaishou, "/openapi/user_info") => {
            return super::long_tail_two::answer(
                super::long_tail_two::TailTwo::KuaishouUser,
                request,
            )
        }
        (ProviderKind::TailTwo(provider), _) => {
            return super::long_tail_two::answer(provider, request)
        }
        _ => {}
    }
    if let Some(answer) = super::login_legs::answer(kind, request) {
        return answer;
    }
    match kind {
        ProviderKind::TikTok => {
            let (Some(_key), Some(_secret)) = (
                request.body_param("client_key"),
                request.body_param("client_secret"),
            ) else {
                // TikTok may answer errors with HTTP 200 (oauth-quirks.md: unsure), so the mock does.
                return (
                    200,
                    JSON,
                    json(
                        json!({"error": "invalid_client", "error_description": "client_key or client_secret is missing", "log_id": "mock-log"}),
                    ),
                );
            };
            match (
                request.body_param("grant_type"),
                request.body_param("code"),
                request.body_param("refresh_token"),
            ) {
                (Some("authorization_code"), Some(code), _) if code.starts_with("expired") => (
                    200,
                    JSON,
                    json(
                        json!({"error": "invalid_grant", "error_description": "Authorization code is expired.", "log_id": "mock-log"}),
                    ),
                ),
                (Some("authorization_code"), Some(code), _) => (
                    200,
                    JSON,
                    tiktok_token(&format!("act.{code}"), &format!("rft.{code}")),
                ),
                (Some("refresh_token"), _, Some(refresh)) => (
                    200,
                    JSON,
                    tiktok_token(&format!("act.{refresh}.next"), &format!("{refresh}.next")),
                ),
                _ => (
                    400,
                    JSON,
                    json(
                        json!({"error": "invalid_request", "error_description": "grant_type with code or refresh_token is required", "log_id": "mock-log"}),
                    ),
                ),
            }
        }
        ProviderKind::TikTokV1 => {
            let ok = request.query_param("client_key").is_some()
                && request.query_param("client_secret").is_some();
            match request.query_param("code") {
                Some(code) if ok && !code.starts_with("expired") => (
                    200,
                    JSON,
                    json(
                        json!({"data": {"access_token": format!("act.{code}"), "open_id": "open-1", "expires_in": 86400, "refresh_token": format!("rft.{code}"), "scope": "user.info.basic", "error_code": 0, "description": ""}, "message": "success"}),
                    ),
                ),
                _ => (
                    200,
                    JSON,
                    json(
                        json!({"data": {"error_code": 10007, "description": "Authorization code is expired"}, "message": "error"}),
                    ),
                ),
            }
        }
        ProviderKind::TikTokUserInfo => match request.header("authorization") {
            Some(auth) if auth.starts_with("Bearer act.") => {
                // Like TikTok: only the fields asked for (none asked, none given).
                let asked = request.query_param("fields").unwrap_or("");
                let user: serde_json::Map<String, serde_json::Value> = [
                    ("open_id", "open-1"),
                    ("union_id", "union-1"),
                    ("avatar_url", "https://p16.example/a.jpg"),
                    ("display_name", "Mock User"),
                ]
                .into_iter()
                .filter(|(field, _)| asked.split(',').any(|a| a == *field))
                .map(|(field, value)| (field.to_owned(), value.into()))
                .collect();
                (
                    200,
                    JSON,
                    json(
                        json!({"data": {"user": user}, "error": {"code": "ok", "message": "", "log_id": "mock-log"}}),
                    ),
                )
            }
            _ => (
                401,
                JSON,
                json(
                    json!({"data": {}, "error": {"code": "access_token_invalid", "message": "The access token is invalid or not found in the request.", "log_id": "mock-log"}}),
                ),
            ),
        },
        ProviderKind::WeChat => {
            let creds =
                request.query_param("appid").is_some() && request.query_param("secret").is_some();
            match request.query_param("code") {
                Some(code) if creds && request.method == "GET" && !code.starts_with("expired") => (
                    200,
                    "text/plain",
                    json(
                        json!({"access_token": format!("wx.{code}"), "expires_in": 7200, "refresh_token": "wxr", "openid": "openid-1", "scope": "snsapi_login", "unionid": "union-1"}),
                    ),
                ),
                _ => (
                    200,
                    "text/plain",
                    json(json!({"errcode": 40029, "errmsg": "invalid code"})),
                ),
            }
        }
        ProviderKind::GitHub => {
            let wants_json = request
                .header("accept")
                .is_some_and(|a| a.contains("application/json"));
            match (request.body_param("client_id"), request.body_param("code")) {
                (Some(_), Some(code)) if !code.starts_with("expired") => {
                    if wants_json {
                        (
                            200,
                            JSON,
                            json(
                                json!({"access_token": format!("gho_{code}"), "scope": "read:user", "token_type": "bearer"}),
                            ),
                        )
                    } else {
                        (
                            200,
                            "application/x-www-form-urlencoded",
                            format!("access_token=gho_{code}&scope=read%3Auser&token_type=bearer"),
                        )
                    }
                }
                _ => (
                    200,
                    JSON,
                    json(
                        json!({"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired.", "error_uri": "https://docs.github.com/"}),
                    ),
                ),
            }
        }
        ProviderKind::Slack => match request.body_param("code") {
            Some(code) if !code.starts_with("expired") => (
                200,
                JSON,
                json(
                    json!({"ok": true, "access_token": format!("xoxb-{code}"), "token_type": "bot", "scope": "commands", "team": {"id": "T1"}}),
                ),
            ),
            _ => (
                200,
                JSON,
                json(json!({"ok": false, "error": "invalid_code"})),
            ),
        },
        ProviderKind::Reddit => {
            if request.body_param("client_id").is_some()
                || request.body_param("client_secret").is_some()
            {
                return (
                    401,
                    JSON,
                    json(json!({"message": "Unauthorized", "error": 401})),
                );
            }
            match (request.header("authorization"), request.body_param("code")) {
                (Some(auth), Some(code)) if auth.starts_with("Basic ") => (
                    200,
                    JSON,
                    json(
                        json!({"access_token": format!("rd.{code}"), "token_type": "bearer", "expires_in": 86400, "scope": "identity"}),
                    ),
                ),
                _ => (
                    401,
                    JSON,
                    json(json!({"message": "Unauthorized", "error": 401})),
                ),
            }
        }
        long_tail => super::long_tail::answer(long_tail, request),
    }
}

fn tiktok_token(access: &str, refresh: &str) -> String {
    serde_json::json!({
        "access_token": access,
        "expires_in": 86400,
        "open_id": "open-1",
        "refresh_expires_in": 31536000,
        "refresh_token": refresh,
        "scope": "user.info.basic",
        "token_type": "Bearer"
    })
    .to_string()
}

/// WeChat's `/sns/userinfo`: token and openid in the query; errors as HTTP 200 with errcode.
fn wechat_user(request: &SeenRequest) -> (u16, &'static str, String) {
    let token_ok = request
        .query_param("access_token")
        .is_some_and(|t| t.starts_with("wx."));
    let body = match (token_ok, request.query_param("openid")) {
        (true, Some("openid-1")) => serde_json::json!({
            "openid": "openid-1", "nickname": "Mock Weixin", "sex": 0, "province": "", "city": "",
            "country": "CN", "headimgurl": "https://thirdwx.example/mock.png", "privilege": [],
            "unionid": "union-1"
        }),
        (true, _) => serde_json::json!({"errcode": 40003, "errmsg": "invalid openid"}),
        (false, _) => {
            serde_json::json!({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
        }
    };
    (200, "text/plain", body.to_string())
}

/// GitHub's `GET /user`: a Bearer (or `token`) credential; a numeric id.
fn github_user(request: &SeenRequest) -> (u16, &'static str, String) {
    let authorized = request.header("authorization").is_some_and(|a| {
        a.strip_prefix("Bearer ")
            .or_else(|| a.strip_prefix("token "))
            .is_some_and(|t| t.starts_with("gho_"))
    });
    if !authorized {
        return (
            401,
            "application/json",
            serde_json::json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}).to_string(),
        );
    }
    (
        200,
        "application/json",
        serde_json::json!({
            "login": "octocat", "id": 583231, "name": "The Octocat",
            "email": "octocat@example.com", "avatar_url": "https://avatars.example/u/583231"
        })
        .to_string(),
    )
}
