//! A mock of Auth0's Management API, as `../shared/oauth-quirks.md` ("Auth0
//! Management API") and Auth0's documentation describe it: a client-
//! credentials token for the `/api/v2/` audience, scopes checked per call,
//! the documented request shapes enforced (extra properties refused), 409 on
//! a duplicate name, and `PATCH /api/v2/connections/{id}` **replacing the
//! whole `options` object**, so a client that sends only what it changes
//! visibly loses the rest. Plain HTTP on loopback, for `quirkgate auth0`'s
//! tests and for trying it (`quirkgate-mocks auth0`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use super::provider::{read_request, SeenRequest};

/// Every scope the connection calls need.
pub const CONNECTION_SCOPES: [&str; 3] = [
    "read:connections",
    "create:connections",
    "update:connections",
];

/// The tenant the mock plays, and what it holds.
#[derive(Debug, Default)]
pub struct Tenant {
    pub domain: String,
    /// The Machine-to-Machine application allowed the Management API.
    pub client_id: String,
    pub client_secret: String,
    /// Scopes granted to that application's tokens.
    pub granted_scopes: Vec<String>,
    /// Connections as `GET` answers them (with `id`).
    pub connections: Vec<Value>,
    /// Enabled client ids per connection id.
    pub enabled_clients: HashMap<String, Vec<String>>,
    /// Every write, as `METHOD /path` (tests check a second run writes nothing).
    pub writes: Vec<String>,
    /// The next this many API calls are answered 429 with `Retry-After`.
    pub rate_limited_calls: u32,
    tokens: HashMap<String, Vec<String>>,
    next_id: u32,
}

/// A running mock; `tenant` may be read and changed while it runs.
pub struct MockManagementApi {
    pub addr: SocketAddr,
    pub tenant: Arc<Mutex<Tenant>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MockManagementApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockManagementApi {
    /// Starts on `listen` (port 0 for a free one) for `domain`, granting its
    /// application every connection scope.
    pub async fn start(
        listen: &str,
        domain: &str,
        client_id: &str,
        client_secret: &str,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let tenant = Arc::new(Mutex::new(Tenant {
            domain: domain.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            granted_scopes: CONNECTION_SCOPES.iter().map(|s| s.to_string()).collect(),
            ..Tenant::default()
        }));
        let shared = tenant.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    continue;
                };
                let tenant = shared.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    while let Some(request) = read_request(&mut stream, &mut buf).await {
                        let answer = tenant.lock().unwrap().answer(&request);
                        if stream.write_all(&answer.to_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Ok(MockManagementApi { addr, tenant, task })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// An answer: status, JSON body, and `Retry-After` when rate limited.
struct Answer {
    status: u16,
    body: Value,
    retry_after: Option<u32>,
}

impl Answer {
    fn ok(status: u16, body: Value) -> Answer {
        Answer {
            status,
            body,
            retry_after: None,
        }
    }

    /// The Management API's error shape.
    fn error(status: u16, error: &str, message: &str, code: &str) -> Answer {
        Answer::ok(
            status,
            json!({ "statusCode": status, "error": error, "message": message, "errorCode": code }),
        )
    }

    fn invalid_body(message: String) -> Answer {
        Answer::error(400, "Bad Request", &message, "invalid_body")
    }

    fn to_bytes(&self) -> Vec<u8> {
        let body = self.body.to_string();
        let retry = self
            .retry_after
            .map(|s| format!("retry-after: {s}\r\n"))
            .unwrap_or_default();
        format!(
            "HTTP/1.1 {} Mock\r\ncontent-type: application/json; charset=utf-8\r\n{retry}content-length: {}\r\n\r\n{body}",
            self.status,
            body.len()
        )
        .into_bytes()
    }
}

impl Tenant {
    fn answer(&mut self, request: &SeenRequest) -> Answer {
        if request.path == "/oauth/token" && request.method == "POST" {
            return self.token(request);
        }
        let Some(rest) = request.path.strip_prefix("/api/v2/connections") else {
            return Answer::error(404, "Not Found", "Not Found", "not_found");
        };
        let scopes = match request
            .header("authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
            .and_then(|token| self.tokens.get(token))
        {
            Some(scopes) => scopes.clone(),
            None => return Answer::error(401, "Unauthorized", "Invalid token", "invalid_token"),
        };
        if self.rate_limited_calls > 0 {
            self.rate_limited_calls -= 1;
            let mut answer = Answer::error(
                429,
                "Too Many Requests",
                "Global limit has been reached",
                "too_many_requests",
            );
            answer.retry_after = Some(7);
            return answer;
        }
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let needs = match (request.method.as_str(), segments.as_slice()) {
            ("GET", _) => "read:connections",
            ("POST", []) => "create:connections",
            ("PATCH", [_]) | ("PATCH", [_, "clients"]) => "update:connections",
            _ => return Answer::error(404, "Not Found", "Not Found", "not_found"),
        };
        if !scopes.iter().any(|s| s == needs) {
            return Answer::error(
                403,
                "Forbidden",
                &format!("Insufficient scope, expected any of: {needs}"),
                "insufficient_scope",
            );
        }
        let body = if request.method == "GET" {
            Value::Null
        } else {
            match serde_json::from_slice::<Value>(&request.raw_body) {
                Ok(body) => body,
                Err(_) => {
                    return Answer::invalid_body("Invalid request payload JSON format".into())
                }
            }
        };
        match (request.method.as_str(), segments.as_slice()) {
            ("GET", []) => self.list(request),
            ("GET", [id]) => match self.find(id) {
                Some(c) => Answer::ok(200, c.clone()),
                None => Answer::error(
                    404,
                    "Not Found",
                    "The connection does not exist",
                    "inexistent_connection",
                ),
            },
            ("GET", [id, "clients"]) => match self.find(id) {
                Some(_) => {
                    let clients: Vec<Value> = self
                        .enabled_clients
                        .get(*id)
                        .into_iter()
                        .flatten()
                        .map(|c| json!({ "client_id": c }))
                        .collect();
                    Answer::ok(200, json!({ "clients": clients }))
                }
                None => Answer::error(
                    404,
                    "Not Found",
                    "The connection does not exist",
                    "inexistent_connection",
                ),
            },
            ("POST", []) => self.create(body, request),
            ("PATCH", [id]) => self.update(id, body, request),
            ("PATCH", [id, "clients"]) => self.enable(id, body, request),
            _ => Answer::error(404, "Not Found", "Not Found", "not_found"),
        }
    }

    fn token(&mut self, request: &SeenRequest) -> Answer {
        let param = |name: &str| request.body_param(name).unwrap_or("");
        if param("grant_type") != "client_credentials" {
            return Answer::ok(
                403,
                json!({ "error": "unauthorized_client", "error_description": "Grant type not allowed for the client." }),
            );
        }
        if param("client_id") != self.client_id || param("client_secret") != self.client_secret {
            return Answer::ok(
                401,
                json!({ "error": "access_denied", "error_description": "Unauthorized" }),
            );
        }
        let audience = format!("https://{}/api/v2/", self.domain);
        if param("audience") != audience {
            return Answer::ok(
                403,
                json!({ "error": "access_denied", "error_description": format!("Service not enabled within domain: {}", param("audience")) }),
            );
        }
        self.next_id += 1;
        let token = format!("mgmt-token-{}", self.next_id);
        self.tokens
            .insert(token.clone(), self.granted_scopes.clone());
        Answer::ok(
            200,
            json!({ "access_token": token, "scope": self.granted_scopes.join(" "), "expires_in": 86400, "token_type": "Bearer" }),
        )
    }

    fn find(&self, id: &str) -> Option<&Value> {
        self.connections.iter().find(|c| c["id"] == id)
    }

    fn list(&self, request: &SeenRequest) -> Answer {
        let name = request.query_param("name");
        let strategy = request.query_param("strategy");
        let found: Vec<Value> = self
            .connections
            .iter()
            .filter(|c| name.is_none_or(|n| c["name"] == n))
            .filter(|c| strategy.is_none_or(|s| c["strategy"] == s))
            .cloned()
            .collect();
        Answer::ok(200, Value::Array(found))
    }

    fn create(&mut self, body: Value, request: &SeenRequest) -> Answer {
        const ALLOWED: [&str; 9] = [
            "name",
            "display_name",
            "strategy",
            "options",
            "enabled_clients",
            "realms",
            "is_domain_connection",
            "metadata",
            "show_as_button",
        ];
        let fields = match object_with_only(&body, &ALLOWED) {
            Ok(fields) => fields,
            Err(refusal) => return refusal,
        };
        let Some(name) = fields.get("name").and_then(Value::as_str) else {
            return Answer::invalid_body(
                "Payload validation error: 'Missing required property: name'.".into(),
            );
        };
        if !valid_name(name) {
            return Answer::invalid_body(format!("Payload validation error: 'String does not match pattern ^[a-zA-Z0-9](-[a-zA-Z0-9]|[a-zA-Z0-9])*$: {name}' on property name."));
        }
        let Some(strategy) = fields.get("strategy").and_then(Value::as_str) else {
            return Answer::invalid_body(
                "Payload validation error: 'Missing required property: strategy'.".into(),
            );
        };
        let options = fields.get("options").cloned().unwrap_or(json!({}));
        if strategy == "oauth2" {
            if let Err(message) = check_oauth2_options(&options) {
                return Answer::invalid_body(message);
            }
        }
        if self.connections.iter().any(|c| c["name"] == name) {
            return Answer::error(
                409,
                "Conflict",
                "A connection with the same name already exists",
                "connection_conflict",
            );
        }
        self.next_id += 1;
        let id = format!("con_mock{:04}", self.next_id);
        let connection = json!({
            "id": id, "name": name, "strategy": strategy, "options": options,
            "display_name": fields.get("display_name").cloned().unwrap_or(json!(name)),
            "is_domain_connection": false, "realms": [name],
        });
        self.connections.push(connection.clone());
        self.writes
            .push(format!("{} {}", request.method, request.path));
        Answer::ok(201, connection)
    }

    fn update(&mut self, id: &str, body: Value, request: &SeenRequest) -> Answer {
        const ALLOWED: [&str; 7] = [
            "options",
            "display_name",
            "enabled_clients",
            "realms",
            "is_domain_connection",
            "metadata",
            "show_as_button",
        ];
        let fields = match object_with_only(&body, &ALLOWED) {
            Ok(fields) => fields,
            Err(refusal) => return refusal,
        };
        if let Some(options) = fields.get("options") {
            if let Err(message) = check_option_shapes(options) {
                return Answer::invalid_body(message);
            }
        }
        let Some(connection) = self.connections.iter_mut().find(|c| c["id"] == id) else {
            return Answer::error(
                404,
                "Not Found",
                "The connection does not exist",
                "inexistent_connection",
            );
        };
        for (key, value) in fields {
            // Auth0 replaces `options` whole: keys not sent are gone.
            connection[key.as_str()] = value.clone();
        }
        let updated = connection.clone();
        self.writes
            .push(format!("{} {}", request.method, request.path));
        Answer::ok(200, updated)
    }

    fn enable(&mut self, id: &str, body: Value, request: &SeenRequest) -> Answer {
        if self.find(id).is_none() {
            return Answer::error(
                404,
                "Not Found",
                "The connection does not exist",
                "inexistent_connection",
            );
        }
        let Some(items) = body
            .as_array()
            .filter(|items| !items.is_empty() && items.len() <= 50)
        else {
            return Answer::invalid_body(
                "Payload validation error: 'Expected an array of 1 to 50 items'.".into(),
            );
        };
        let mut changes = Vec::new();
        for item in items {
            let shape_ok = item.as_object().is_some_and(|o| o.len() == 2)
                && item["client_id"].is_string()
                && item["status"].is_boolean();
            if !shape_ok {
                return Answer::invalid_body("Payload validation error: 'each item is { client_id: string, status: boolean }'.".into());
            }
            changes.push((
                item["client_id"].as_str().unwrap_or("").to_owned(),
                item["status"] == true,
            ));
        }
        let enabled = self.enabled_clients.entry(id.to_owned()).or_default();
        for (client, on) in changes {
            enabled.retain(|c| *c != client);
            if on {
                enabled.push(client);
            }
        }
        self.writes
            .push(format!("{} {}", request.method, request.path));
        Answer::ok(204, Value::Null)
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// What an `oauth2` connection needs to be created.
fn check_oauth2_options(options: &Value) -> Result<(), String> {
    for required in ["authorizationURL", "tokenURL", "client_id", "client_secret"] {
        if !options[required].is_string() {
            return Err(format!(
                "Payload validation error: 'Missing required property: options.{required}'."
            ));
        }
    }
    if !options["scripts"]["fetchUserProfile"].is_string() {
        return Err("Payload validation error: 'Missing required property: options.scripts.fetchUserProfile'.".into());
    }
    check_option_shapes(options)
}

/// The documented types of the options quirkgate writes.
fn check_option_shapes(options: &Value) -> Result<(), String> {
    let Some(options) = options.as_object() else {
        return Err("Payload validation error: 'Expected type object' on property options.".into());
    };
    let strings_only = |key: &str, map: &Map<String, Value>| -> Result<(), String> {
        match map.get(key) {
            None => Ok(()),
            Some(Value::Object(entries)) if entries.values().all(Value::is_string) => Ok(()),
            Some(_) => Err(format!(
                "Payload validation error: 'options.{key}' must map names to strings."
            )),
        }
    };
    strings_only("customHeaders", options)?;
    strings_only("scripts", options)?;
    for key in [
        "authorizationURL",
        "tokenURL",
        "client_id",
        "client_secret",
        "scope",
    ] {
        if options.get(key).is_some_and(|v| !v.is_string()) {
            return Err(format!(
                "Payload validation error: 'Expected type string' on property options.{key}."
            ));
        }
    }
    if let Some(params) = options.get("upstream_params") {
        let valid = params.as_object().is_some_and(|params| {
            params.values().all(|p| {
                p.as_object().is_some_and(|p| {
                    p.len() == 1
                        && (p.get("value").is_some_and(Value::is_string)
                            || p.get("alias").is_some_and(Value::is_string))
                })
            })
        });
        if !valid {
            return Err("Payload validation error: 'options.upstream_params' entries are { value: string } or { alias: string }.".into());
        }
    }
    Ok(())
}
/// The body as an object holding only `allowed` properties, or Auth0's refusal.
fn object_with_only<'b>(
    body: &'b Value,
    allowed: &[&str],
) -> Result<&'b Map<String, Value>, Answer> {
    let Some(fields) = body.as_object() else {
        return Err(Answer::invalid_body(
            "Payload validation error: 'Expected type object'.".into(),
        ));
    };
    if let Some(extra) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(Answer::invalid_body(format!(
            "Payload validation error: 'Additional properties not allowed: {extra}'."
        )));
    }
    Ok(fields)
}
