//! The thin adapter to Auth0's Management API (`../shared/oauth-quirks.md`,
//! "Auth0 Management API"): a client-credentials token for the tenant's
//! `/api/v2/` audience, then the connection calls. Every refusal becomes one
//! line that says what to do; secrets never reach a message.

use std::time::Duration;

use serde_json::{json, Value};

/// Environment variables the Management API settings come from.
pub const DOMAIN_VAR: &str = "AUTH0_DOMAIN";
pub const CLIENT_ID_VAR: &str = "AUTH0_CLIENT_ID";
pub const CLIENT_SECRET_VAR: &str = "AUTH0_CLIENT_SECRET";
/// Where the calls go instead of `https://{domain}` (a mock on loopback in
/// tests); the token's audience stays `https://{domain}/api/v2/`.
pub const BASE_URL_VAR: &str = "AUTH0_MANAGEMENT_URL";

/// A Machine-to-Machine application of the tenant, allowed the Management API.
pub struct ManagementSettings {
    pub domain: String,
    pub client_id: String,
    client_secret: String,
    pub base_url: String,
}

impl ManagementSettings {
    /// Reads the settings; every missing variable is named in one message.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let missing: Vec<&str> = [DOMAIN_VAR, CLIENT_ID_VAR, CLIENT_SECRET_VAR]
            .into_iter()
            .filter(|name| get(name).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "auth0: --apply needs {} (a Machine-to-Machine application allowed the Auth0 Management API)",
                missing.join(", ")
            ));
        }
        let domain = get(DOMAIN_VAR)
            .unwrap_or_default()
            .trim()
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_owned();
        let base_url = get(BASE_URL_VAR)
            .map(|u| u.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("https://{domain}"));
        Ok(ManagementSettings {
            domain,
            client_id: get(CLIENT_ID_VAR).unwrap_or_default(),
            client_secret: get(CLIENT_SECRET_VAR).unwrap_or_default(),
            base_url,
        })
    }

    pub fn audience(&self) -> String {
        format!("https://{}/api/v2/", self.domain)
    }
}

/// A Management API session: one access token, the calls `apply` needs.
pub struct ManagementApi {
    http: reqwest::Client,
    base_url: String,
    token: String,
}

impl ManagementApi {
    /// Gets a client-credentials token for the tenant's Management API.
    pub async fn connect(settings: &ManagementSettings) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("quirkgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("auth0: cannot build an HTTP client: {e}"))?;
        let audience = settings.audience();
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", settings.client_id.as_str()),
            ("client_secret", settings.client_secret.as_str()),
            ("audience", audience.as_str()),
        ];
        let call = "POST /oauth/token";
        let response = http
            .post(format!("{}/oauth/token", settings.base_url))
            .form(&form)
            .send()
            .await
            .map_err(|e| unreachable(call, &settings.base_url, &e))?;
        let answer = read(call, response).await?;
        let token = answer["access_token"]
            .as_str()
            .ok_or_else(|| format!("auth0: {call}: the answer carries no access_token"))?
            .to_owned();
        Ok(ManagementApi {
            http,
            base_url: settings.base_url.clone(),
            token,
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, String> {
        let call = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| unreachable(&call, &self.base_url, &e))?;
        read(&call, response).await
    }

    /// The `oauth2` connection with this name, if the tenant has one.
    pub async fn find_connection(&self, name: &str) -> Result<Option<Value>, String> {
        let found = self
            .call(
                reqwest::Method::GET,
                &format!("/api/v2/connections?strategy=oauth2&name={name}"),
                None,
            )
            .await?;
        let list = found.as_array().cloned().unwrap_or_default();
        Ok(list.into_iter().find(|c| c["name"] == name))
    }

    pub async fn create_connection(&self, body: &Value) -> Result<Value, String> {
        self.call(reqwest::Method::POST, "/api/v2/connections", Some(body))
            .await
    }

    /// Writes the whole `options` object (Auth0 replaces it: merge first).
    pub async fn replace_options(&self, id: &str, options: &Value) -> Result<Value, String> {
        self.call(
            reqwest::Method::PATCH,
            &format!("/api/v2/connections/{id}"),
            Some(&json!({ "options": options })),
        )
        .await
    }

    /// The client ids of the applications the connection is enabled for.
    pub async fn enabled_clients(&self, id: &str) -> Result<Vec<String>, String> {
        let answer = self
            .call(
                reqwest::Method::GET,
                &format!("/api/v2/connections/{id}/clients"),
                None,
            )
            .await?;
        Ok(answer["clients"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["client_id"].as_str().map(str::to_owned))
            .collect())
    }

    pub async fn enable_clients(&self, id: &str, client_ids: &[String]) -> Result<(), String> {
        let body: Vec<Value> = client_ids
            .iter()
            .map(|c| json!({ "client_id": c, "status": true }))
            .collect();
        self.call(
            reqwest::Method::PATCH,
            &format!("/api/v2/connections/{id}/clients"),
            Some(&Value::Array(body)),
        )
        .await
        .map(drop)
    }
}

fn unreachable(call: &str, base_url: &str, error: &reqwest::Error) -> String {
    let why = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "cannot connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    format!("auth0: {call}: {why} ({base_url}); check {DOMAIN_VAR}")
}

async fn read(call: &str, response: reqwest::Response) -> Result<Value, String> {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response
        .text()
        .await
        .map_err(|e| format!("auth0: {call}: reading the answer: {e}"))?;
    if (200..300).contains(&status) {
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        return serde_json::from_str(&text)
            .map_err(|_| format!("auth0: {call}: {status} with an answer that is not JSON"));
    }
    Err(describe_failure(
        call,
        status,
        retry_after.as_deref(),
        &text,
    ))
}

/// One line for an Auth0 error answer: what happened and what to do.
pub fn describe_failure(call: &str, status: u16, retry_after: Option<&str>, body: &str) -> String {
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let text = |key: &str| parsed[key].as_str().map(str::to_owned);
    let message = text("message")
        .or_else(|| text("error_description"))
        .or_else(|| text("error"))
        .unwrap_or_default();
    // One line, bounded: an error answer is not a place for a page of text.
    let message: String = message
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect();
    let said = if message.is_empty() {
        String::new()
    } else {
        format!(" ({message})")
    };
    let on_token = call.ends_with("/oauth/token");
    match status {
        401 if on_token => format!(
            "auth0: {call}: 401{said}: the tenant refused the client credentials; check {CLIENT_ID_VAR} and {CLIENT_SECRET_VAR}"
        ),
        403 if on_token => format!(
            "auth0: {call}: 403{said}: authorize the application for the Auth0 Management API (audience https://{{{DOMAIN_VAR}}}/api/v2/)"
        ),
        401 => format!(
            "auth0: {call}: 401{said}: the Management API refused the token; check {DOMAIN_VAR}"
        ),
        403 => match message.split("expected any of:").nth(1) {
            Some(scopes) => format!(
                "auth0: {call}: 403 insufficient scope: grant the Machine-to-Machine application {} on the Auth0 Management API",
                scopes.trim().trim_end_matches('.')
            ),
            None => format!("auth0: {call}: 403 forbidden{said}"),
        },
        409 => format!(
            "auth0: {call}: 409 conflict{said}: a connection with this name already exists, perhaps with a strategy other than oauth2; pick another --name"
        ),
        429 => format!(
            "auth0: {call}: 429 rate limited by the Management API; retry after {}",
            match retry_after.map(str::trim).and_then(|r| r.parse::<u64>().ok()) {
                Some(seconds) => format!("{seconds} s"),
                None => "a while (no Retry-After)".to_owned(),
            }
        ),
        _ => format!("auth0: {call}: {status}{said}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_name_every_missing_variable() {
        let err = ManagementSettings::from_env(&|name| {
            (name == DOMAIN_VAR).then(|| "t.eu.auth0.com".to_owned())
        })
        .err()
        .unwrap();
        assert!(
            err.contains(CLIENT_ID_VAR)
                && err.contains(CLIENT_SECRET_VAR)
                && !err.contains(DOMAIN_VAR),
            "{err}"
        );
    }

    #[test]
    fn the_audience_is_the_domain_even_when_calls_go_elsewhere() {
        let settings = ManagementSettings::from_env(&|name| match name {
            DOMAIN_VAR => Some("https://t.eu.auth0.com/".into()),
            BASE_URL_VAR => Some("http://127.0.0.1:9/".into()),
            _ => Some("x".into()),
        })
        .unwrap();
        assert_eq!(settings.audience(), "https://t.eu.auth0.com/api/v2/");
        assert_eq!(settings.base_url, "http://127.0.0.1:9");
    }

    #[test]
    fn auth0_errors_become_one_line_that_says_what_to_do() {
        let scope = describe_failure(
            "POST /api/v2/connections",
            403,
            None,
            r#"{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: create:connections","errorCode":"insufficient_scope"}"#,
        );
        assert_eq!(scope, "auth0: POST /api/v2/connections: 403 insufficient scope: grant the Machine-to-Machine application create:connections on the Auth0 Management API");
        let limited = describe_failure("GET /api/v2/connections", 429, Some("7"), "{}");
        assert!(limited.ends_with("retry after 7 s"), "{limited}");
        let token = describe_failure(
            "POST /oauth/token",
            401,
            None,
            r#"{"error":"access_denied","error_description":"Unauthorized"}"#,
        );
        assert!(
            token.contains("(Unauthorized)") && token.contains(CLIENT_SECRET_VAR),
            "{token}"
        );
        let conflict = describe_failure(
            "POST /api/v2/connections",
            409,
            None,
            r#"{"message":"A connection with the same name already exists"}"#,
        );
        assert!(
            conflict.contains("409") && conflict.contains("--name"),
            "{conflict}"
        );
        let long = describe_failure(
            "GET /x",
            500,
            None,
            &format!("{{\"message\":\"a\\nb {}\"}}", "z".repeat(500)),
        );
        assert!(!long.contains('\n') && long.len() < 260, "{long}");
    }
}
