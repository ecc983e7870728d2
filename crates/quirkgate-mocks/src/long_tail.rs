//! Mock providers of the long tail (`../shared/oauth-quirks.md`, "The long
//! tail"): each refuses what the real provider refuses, so a preset that
//! sends the wrong shape fails against its mock as it would in production.

use serde_json::{json, Map, Value};

use super::kinds::{ProviderKind, SeenRequest};

const JSON: &str = "application/json";

/// The app secret the Facebook mock checks `appsecret_proof` against
/// (`quirkgate-mocks provider --provider facebook-userinfo`).
pub const MOCK_FACEBOOK_APP_SECRET: &str = "mock-facebook-app-secret";

/// Longest lifetime Apple accepts for a client secret: six months (15777000 s).
pub const APPLE_MAX_SECRET_SECONDS: u64 = 15_777_000;

type Answer = (u16, &'static str, String);

fn answer_json(status: u16, value: Value) -> Answer {
    (status, JSON, value.to_string())
}

fn oauth_error(status: u16, code: &str, description: &str) -> Answer {
    answer_json(
        status,
        json!({"error": code, "error_description": description}),
    )
}

fn standard_token(prefix: &str, request_code: &str, extra: Value) -> Value {
    let mut token = json!({
        "access_token": format!("{prefix}.{request_code}"),
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": format!("{prefix}r.{request_code}"),
    });
    if let (Some(token), Value::Object(extra)) = (token.as_object_mut(), extra) {
        token.extend(extra);
    }
    token
}

/// The code or refresh token a standard grant carries, from `get`.
fn grant<'r>(get: impl Fn(&str) -> Option<&'r str>) -> Result<&'r str, Answer> {
    match (get("grant_type"), get("code"), get("refresh_token")) {
        (Some("authorization_code"), Some(code), _) if code.starts_with("expired") => Err(
            oauth_error(400, "invalid_grant", "The authorization code is expired."),
        ),
        (Some("authorization_code"), Some(code), _) => Ok(code),
        (Some("refresh_token"), _, Some(refresh)) => Ok(refresh),
        _ => Err(oauth_error(
            400,
            "invalid_request",
            "grant_type with code or refresh_token is required",
        )),
    }
}

fn decoded_basic(request: &SeenRequest) -> Option<(String, String)> {
    use base64::Engine;
    let value = request.header("authorization")?.strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(value)
        .ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (id, secret) = raw.split_once(':')?;
    let decode = |text: &str| -> Option<String> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("x={text}")).ok()?;
        Some(pairs.into_iter().next()?.1)
    };
    Some((decode(id)?, decode(secret)?))
}

fn is_json_request(request: &SeenRequest) -> bool {
    request
        .header("content-type")
        .is_some_and(|ct| ct.starts_with("application/json"))
}

/// The provider's documented answer to a request, for the long-tail kinds.
pub fn answer(kind: ProviderKind, request: &SeenRequest) -> Answer {
    if let Some(user) = super::long_tail_users::answer(kind, request) {
        return user;
    }
    match kind {
        ProviderKind::Zoom | ProviderKind::Pinterest => basic_only(kind, request),
        ProviderKind::LinkedIn | ProviderKind::Strava | ProviderKind::Line => {
            body_only(kind, request)
        }
        ProviderKind::X => x(request),
        ProviderKind::Notion => notion(request),
        ProviderKind::DingTalk => dingtalk(request),
        ProviderKind::DingTalkUserInfo => dingtalk_userinfo(request),
        ProviderKind::Feishu => feishu(request),
        ProviderKind::Qq => qq(request),
        ProviderKind::Douyin => douyin(request),
        ProviderKind::Kuaishou => kuaishou(request),
        ProviderKind::TwitchUserInfo => twitch_userinfo(request),
        ProviderKind::VkUserInfo => vk_userinfo(request),
        ProviderKind::FacebookUserInfo => facebook_userinfo(request),
        ProviderKind::Apple => apple(request),
        ProviderKind::Alipay | ProviderKind::OkRu | ProviderKind::Withings => {
            super::signed::answer(kind, request)
        }
        ProviderKind::Shopify | ProviderKind::GitLab => super::tenant::answer(kind, request),
        _ => oauth_error(500, "server_error", "not a long-tail provider"),
    }
}

/// Zoom and Pinterest v5: HTTP Basic only; credentials in the body are refused.
fn basic_only(kind: ProviderKind, request: &SeenRequest) -> Answer {
    if request.body_param("client_id").is_some() || request.body_param("client_secret").is_some() {
        return oauth_error(
            401,
            "invalid_client",
            "client credentials must be HTTP Basic",
        );
    }
    let Some((id, _)) = decoded_basic(request) else {
        return oauth_error(
            401,
            "invalid_client",
            "HTTP Basic client authentication required",
        );
    };
    match grant(|n| request.body_param(n)) {
        Ok(code) => {
            let prefix = if kind == ProviderKind::Zoom {
                "zm"
            } else {
                "pin"
            };
            answer_json(
                200,
                standard_token(prefix, code, json!({"scope": "user:read", "client": id})),
            )
        }
        Err(error) => error,
    }
}

/// LinkedIn, Strava and LINE: credentials in the body only; a Basic header is refused.
fn body_only(kind: ProviderKind, request: &SeenRequest) -> Answer {
    if request.header("authorization").is_some() {
        return oauth_error(
            400,
            "invalid_request",
            "client credentials must be in the body",
        );
    }
    if request.body_param("client_id").is_none() || request.body_param("client_secret").is_none() {
        return oauth_error(
            401,
            "invalid_client",
            "client_id and client_secret are required",
        );
    }
    let (prefix, extra) = match kind {
        ProviderKind::LinkedIn => ("li", json!({"scope": "openid profile email"})),
        ProviderKind::Strava => (
            "st",
            json!({"expires_at": 1_900_000_000u64, "athlete": {"id": 134815, "username": "mock"}}),
        ),
        _ => (
            "line",
            json!({"scope": "profile openid", "id_token": "eyJ.mock.line"}),
        ),
    };
    match grant(|n| request.body_param(n)) {
        Ok(code) => answer_json(200, standard_token(prefix, code, extra)),
        Err(error) => error,
    }
}

/// X: a confidential client sends Basic *and* `client_id` in the body; PKCE always.
fn x(request: &SeenRequest) -> Answer {
    let Some(body_id) = request.body_param("client_id") else {
        return oauth_error(
            400,
            "invalid_request",
            "Missing required parameter [client_id].",
        );
    };
    if request.body_param("client_secret").is_some() {
        return oauth_error(
            401,
            "unauthorized_client",
            "Missing valid authorization header",
        );
    }
    if let Some(auth) = request.header("authorization") {
        match decoded_basic(request) {
            Some((id, _)) if id == body_id => {}
            _ => {
                return oauth_error(
                    401,
                    "unauthorized_client",
                    &format!("bad authorization header: {}", auth.len()),
                )
            }
        }
    }
    if request.body_param("grant_type") == Some("authorization_code") {
        let code = request.body_param("code").unwrap_or("");
        let verifier = request.body_param("code_verifier");
        if let Err(why) = super::login_legs::check_verifier(code, verifier) {
            return oauth_error(400, "invalid_request", why);
        }
    }
    match grant(|n| request.body_param(n)) {
        Ok(code) => answer_json(
            200,
            standard_token("x", code, json!({"scope": "users.read tweet.read"})),
        ),
        Err(error) => error,
    }
}

/// Notion: HTTP Basic, a JSON body and a `Notion-Version` header, all three.
fn notion(request: &SeenRequest) -> Answer {
    if request.header("notion-version").is_none() {
        return answer_json(
            400,
            json!({"object": "error", "status": 400, "code": "missing_version", "message": "Notion-Version header failed validation"}),
        );
    }
    if decoded_basic(request).is_none() {
        return oauth_error(
            401,
            "invalid_client",
            "HTTP Basic client authentication required",
        );
    }
    let Some(body) = request.json_body().filter(|_| is_json_request(request)) else {
        return answer_json(
            400,
            json!({"object": "error", "status": 400, "code": "invalid_json", "message": "Error parsing JSON body."}),
        );
    };
    if body.contains_key("client_secret") {
        return oauth_error(
            400,
            "invalid_request",
            "client_secret belongs in the Basic header",
        );
    }
    match grant(|n| body.get(n).and_then(Value::as_str)) {
        Ok(code) => answer_json(
            200,
            json!({
                "access_token": format!("secret_{code}"), "token_type": "bearer",
                "refresh_token": format!("nrt_{code}"), "bot_id": "bot-1",
                "workspace_id": "ws-1", "workspace_name": "Mock",
                "owner": {"type": "user", "user": {"object": "user", "id": "notion-user-1"}}
            }),
        ),
        Err(error) => error,
    }
}

fn dingtalk_error(status: u16, code: &str, message: &str) -> Answer {
    answer_json(
        status,
        json!({"code": code, "message": message, "requestid": "mock"}),
    )
}

/// DingTalk v2: a camelCase JSON body; a camelCase answer.
fn dingtalk(request: &SeenRequest) -> Answer {
    let Some(body) = request.json_body().filter(|_| is_json_request(request)) else {
        return dingtalk_error(400, "InvalidParameter.Body", "the body must be JSON");
    };
    let text = |name: &str| body.get(name).and_then(Value::as_str);
    if text("clientId").is_none() || text("clientSecret").is_none() {
        return dingtalk_error(
            400,
            "MissingclientId",
            "clientId and clientSecret are required",
        );
    }
    if body.keys().any(|k| k.contains('_')) {
        return dingtalk_error(400, "InvalidParameter", "unknown snake_case parameter");
    }
    let subject = match (text("grantType"), text("code"), text("refreshToken")) {
        (Some("authorization_code"), Some(code), _) if code.starts_with("expired") => {
            return dingtalk_error(400, "InvalidAuthentication", "the auth code is expired")
        }
        (Some("authorization_code"), Some(code), _) => code,
        (Some("refresh_token"), _, Some(refresh)) => refresh,
        _ => return dingtalk_error(400, "InvalidParameter.GrantType", "grantType is required"),
    };
    answer_json(
        200,
        json!({"accessToken": format!("dt.{subject}"), "refreshToken": format!("dtr.{subject}"), "expireIn": 7200, "corpId": "ding-corp"}),
    )
}

/// DingTalk user info: the token in `x-acs-dingtalk-access-token`, never in Authorization.
fn dingtalk_userinfo(request: &SeenRequest) -> Answer {
    match request.header("x-acs-dingtalk-access-token") {
        Some(token) if token.starts_with("dt.") && request.header("authorization").is_none() => {
            answer_json(
                200,
                json!({"nick": "Mock User", "unionId": "ding-union-1", "openId": "ding-open-1", "avatarUrl": "https://static.example/a.png", "email": "mock@dingtalk.example"}),
            )
        }
        _ => dingtalk_error(
            401,
            "InvalidAuthentication",
            "x-acs-dingtalk-access-token is missing or invalid",
        ),
    }
}

/// Feishu/Lark v2: RFC 6749 names, JSON body only; errors carry a nonzero `code`.
fn feishu(request: &SeenRequest) -> Answer {
    let feishu_error = |code: u32, error: &str, description: &str| {
        answer_json(
            400,
            json!({"code": code, "error": error, "error_description": description}),
        )
    };
    let Some(body) = request.json_body().filter(|_| is_json_request(request)) else {
        return feishu_error(
            20001,
            "invalid_request",
            "Content-Type must be application/json",
        );
    };
    let text = |name: &str| body.get(name).and_then(Value::as_str);
    if text("client_id").is_none() || text("client_secret").is_none() {
        return feishu_error(
            20002,
            "invalid_client",
            "client_id and client_secret are required",
        );
    }
    match grant(text) {
        Ok(code) if !code.starts_with("expired") => answer_json(
            200,
            json!({"code": 0, "access_token": format!("fs.{code}"), "expires_in": 7200, "refresh_token": format!("fsr.{code}"), "refresh_token_expires_in": 604800, "token_type": "Bearer", "scope": ""}),
        ),
        _ => feishu_error(
            20003,
            "invalid_grant",
            "the authorization code is invalid or expired",
        ),
    }
}

fn qq_jsonp(code: u32, description: &str) -> Answer {
    (
        200,
        "text/html",
        format!(
            "callback( {} );\n",
            json!({"error": code, "error_description": description})
        ),
    )
}

/// QQ Connect: a GET; success is a form labelled `text/html`; errors are
/// JSONP. Its user calls are `qq.rs`'s.
fn qq(request: &SeenRequest) -> Answer {
    match request.path.as_str() {
        "/oauth2.0/me" => return super::qq::me(request),
        "/user/get_user_info" => return super::qq::user(request),
        _ => {}
    }
    if request.method != "GET" || !request.raw_body.is_empty() {
        return qq_jsonp(100000, "only GET is supported");
    }
    if request.query_param("client_id").is_none() || request.query_param("client_secret").is_none()
    {
        return qq_jsonp(100016, "client_id or client_secret is missing");
    }
    match grant(|n| request.query_param(n)) {
        Ok(code) => (
            200,
            "text/html",
            format!("access_token=qq.{code}&expires_in=7776000&refresh_token=qqr.{code}"),
        ),
        Err(_) => qq_jsonp(100019, "code to access token error"),
    }
}

/// Douyin: `client_key`; the answer wrapped in `data`, numbers as strings.
fn douyin(request: &SeenRequest) -> Answer {
    let error = |code: &str, description: &str| {
        answer_json(
            200,
            json!({"data": {"error_code": code, "description": description}, "message": "error"}),
        )
    };
    if request.body_param("client_id").is_some() {
        return error("10013", "client_key is required");
    }
    if request.body_param("client_key").is_none() || request.body_param("client_secret").is_none() {
        return error("10013", "client_key or client_secret is missing");
    }
    match grant(|n| request.body_param(n)) {
        Ok(code) => answer_json(
            200,
            json!({"data": {"access_token": format!("dy.{code}"), "expires_in": "1296000", "open_id": "dy-open-1", "refresh_expires_in": "2592000", "refresh_token": format!("dyr.{code}"), "scope": "user_info", "error_code": "0", "description": ""}, "message": "success"}),
        ),
        Err(_) => error("10008", "the authorization code is expired"),
    }
}

/// Kuaishou: a GET with `app_id`/`app_secret`; `result: 1` on success, `scopes` an array.
fn kuaishou(request: &SeenRequest) -> Answer {
    let error = |result: u64, message: &str| {
        answer_json(
            200,
            json!({"result": result, "error": "invalid", "error_msg": message}),
        )
    };
    if request.method != "GET" {
        return error(100200101, "only GET is supported");
    }
    if request.query_param("app_id").is_none() || request.query_param("app_secret").is_none() {
        return error(100200102, "app_id or app_secret is missing");
    }
    match grant(|n| request.query_param(n)) {
        Ok(code) => answer_json(
            200,
            json!({"result": 1, "access_token": format!("ks.{code}"), "expires_in": 172800, "refresh_token": format!("ksr.{code}"), "refresh_token_expires_in": 15552000, "open_id": "ks-open-1", "scopes": ["user_info", "user_base"]}),
        ),
        Err(_) => error(100200100, "the authorization code is invalid"),
    }
}

/// Twitch Helix users: Bearer *and* a `Client-Id` header; `{"data": [user]}`.
fn twitch_userinfo(request: &SeenRequest) -> Answer {
    let unauthorized = |message: &str| {
        answer_json(
            401,
            json!({"error": "Unauthorized", "status": 401, "message": message}),
        )
    };
    if request.header("client-id").is_none_or(str::is_empty) {
        return unauthorized("Client ID is missing");
    }
    match request.header("authorization") {
        Some(auth) if auth.starts_with("Bearer ") && !auth.contains("expired") => answer_json(
            200,
            json!({"data": [{"id": "141981764", "login": "twitchdev", "display_name": "TwitchDev", "email": "dev@example.com", "profile_image_url": "https://static-cdn.example/p.png"}]}),
        ),
        _ => unauthorized("Invalid OAuth token"),
    }
}

/// VK users.get: `access_token` and `v` in the query; `{"response": [user]}`;
/// errors with HTTP 200.
fn vk_userinfo(request: &SeenRequest) -> Answer {
    let error = |code: u32, message: &str| {
        answer_json(
            200,
            json!({"error": {"error_code": code, "error_msg": message, "request_params": []}}),
        )
    };
    if request.query_param("v").is_none() {
        return error(8, "Invalid request: v (version) is required");
    }
    match request.query_param("access_token") {
        Some(token)
            if !token.starts_with("expired") && request.header("authorization").is_none() =>
        {
            answer_json(
                200,
                json!({"response": [{"id": 210700286, "first_name": "Lindsey", "last_name": "Stirling", "screen_name": "lindseystirling", "photo_200": "https://sun.example/p.jpg"}]}),
            )
        }
        _ => error(5, "User authorization failed: invalid access_token (4)."),
    }
}

/// hex(HMAC-SHA256(key = app secret, message = access token)).
pub fn facebook_proof(secret: &str, token: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    ring::hmac::sign(&key, token.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Facebook Graph /me with "Require App Secret": `access_token` and a valid
/// `appsecret_proof` in the query.
fn facebook_userinfo(request: &SeenRequest) -> Answer {
    let error = |message: &str, kind: &str, code: u32| {
        answer_json(
            400,
            json!({"error": {"message": message, "type": kind, "code": code, "fbtrace_id": "mock"}}),
        )
    };
    let Some(token) = request.query_param("access_token") else {
        return error(
            "An active access token must be used to query information about the current user.",
            "OAuthException",
            2500,
        );
    };
    if token.starts_with("expired") {
        return error(
            "Error validating access token: Session has expired.",
            "OAuthException",
            190,
        );
    }
    if request.query_param("appsecret_proof")
        != Some(facebook_proof(MOCK_FACEBOOK_APP_SECRET, token).as_str())
    {
        return error(
            "Invalid appsecret_proof provided in the API argument",
            "GraphMethodException",
            100,
        );
    }
    answer_json(
        200,
        json!({"id": "10001", "name": "Mock User", "email": "mock@example.com"}),
    )
}

/// Checks an Apple client secret the way Apple reads it (the signature is the
/// test's to verify: the mock does not know the key). `Err` says why not.
pub fn check_apple_client_secret(
    jwt: &str,
    client_id: &str,
    now: u64,
) -> Result<Map<String, Value>, String> {
    use base64::Engine;
    let decode = |part: &str| -> Result<Map<String, Value>, String> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| "not base64url".to_owned())?;
        serde_json::from_slice(&bytes).map_err(|_| "not a JSON object".to_owned())
    };
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err("not a JWS compact serialization".into());
    };
    let (header, claims) = (decode(header)?, decode(claims)?);
    if header.get("alg") != Some(&json!("ES256")) || header.get("kid").is_none() {
        return Err("header needs alg ES256 and kid".into());
    }
    let number = |name: &str| claims.get(name).and_then(Value::as_u64);
    let (Some(iat), Some(exp)) = (number("iat"), number("exp")) else {
        return Err("iat and exp are required".into());
    };
    if claims.get("aud") != Some(&json!("https://appleid.apple.com")) {
        return Err("aud must be https://appleid.apple.com".into());
    }
    if claims.get("sub").and_then(Value::as_str) != Some(client_id) {
        return Err("sub must be the client_id".into());
    }
    if claims
        .get("iss")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err("iss (the Team ID) is required".into());
    }
    if exp <= now || iat > now + 60 || exp - iat > APPLE_MAX_SECRET_SECONDS {
        return Err("expired, not yet valid, or valid for more than 6 months".into());
    }
    if base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .map_or(true, |s| s.len() != 64)
    {
        return Err("an ES256 signature is 64 bytes".into());
    }
    Ok(claims)
}

/// Sign in with Apple: a form body whose `client_secret` is an ES256 JWT.
fn apple(request: &SeenRequest) -> Answer {
    let (Some(client_id), Some(secret)) = (
        request.body_param("client_id"),
        request.body_param("client_secret"),
    ) else {
        return oauth_error(
            400,
            "invalid_client",
            "client_id and client_secret are required",
        );
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if let Err(why) = check_apple_client_secret(secret, client_id, now) {
        return oauth_error(400, "invalid_client", &why);
    }
    match grant(|n| request.body_param(n)) {
        Ok(code) => answer_json(
            200,
            standard_token(
                "ap",
                code,
                json!({"id_token": "eyJraWQiOiJtb2NrIn0.eyJzdWIiOiJhcHBsZS11c2VyLTEifQ.c2ln"}),
            ),
        ),
        Err(error) => error,
    }
}
