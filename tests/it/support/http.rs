//! The caller's side in HTTP: a client, and readers for raw answers.

use super::gateway::Gateway;

/// A reqwest client that neither follows redirects nor pools across tests.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Status code of the first response in a raw answer.
pub fn raw_status(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The JSON body of the first response in a raw answer.
pub fn raw_json(answer: &str) -> serde_json::Value {
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    let end = body.rfind('}').map_or(0, |i| i + 1);
    serde_json::from_str(&body[..end]).unwrap_or(serde_json::Value::Null)
}

/// The content type of every token request.
pub const FORM: &str = "application/x-www-form-urlencoded";

/// A code exchange the mock TikTok answers with `act.c`.
pub const GOOD: &str = "grant_type=authorization_code&code=c&client_id=a&client_secret=b";

/// A code exchange for `code`, with the client `a` / `b` in the body.
pub fn good_body(code: &str) -> String {
    format!("grant_type=authorization_code&code={code}&client_id=a&client_secret=b")
}

/// An `Authorization: Basic` value for `id` and `secret`.
pub fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// A whole answer as the tests read it: (status, JSON body or `Null`, headers).
pub type Answer = (u16, serde_json::Value, reqwest::header::HeaderMap);

/// POSTs `body` to `url` as `content_type`, with `headers` added.
pub async fn post_to(
    url: &str,
    content_type: &str,
    headers: &[(&str, &str)],
    body: impl Into<reqwest::Body>,
) -> Answer {
    let mut request = http_client()
        .post(url)
        .header("content-type", content_type)
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
        headers,
    )
}

/// A form POST to the gateway with extra headers: the whole answer.
pub async fn post_with(
    gateway: &Gateway,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<reqwest::Body>,
) -> Answer {
    post_to(&gateway.url(path), FORM, headers, body).await
}

/// A form POST to the gateway: the whole answer.
pub async fn post_answer(gateway: &Gateway, path: &str, body: &str) -> Answer {
    post_with(gateway, path, &[], body.to_owned()).await
}

/// A form POST to the gateway: (status, JSON body).
pub async fn post(gateway: &Gateway, path: &str, body: &str) -> (u16, serde_json::Value) {
    let (status, body, _) = post_answer(gateway, path, body).await;
    (status, body)
}

/// A form POST to the gateway: its status alone.
pub async fn post_status(gateway: &Gateway, path: &str, body: impl Into<reqwest::Body>) -> u16 {
    post_with(gateway, path, &[], body).await.0
}

/// A POST to the gateway as `content_type`: the whole answer.
pub async fn post_as(
    gateway: &Gateway,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> Answer {
    post_to(&gateway.url(path), content_type, &[], body).await
}

/// A form POST to `url`: (status, JSON body).
pub async fn post_url(url: &str, body: impl Into<reqwest::Body>) -> (u16, serde_json::Value) {
    let (status, body, _) = post_to(url, FORM, &[], body).await;
    (status, body)
}

/// A GET to the gateway with `Authorization: Bearer token`.
pub async fn get_with_bearer(gateway: &Gateway, path: &str, token: &str) -> reqwest::Response {
    http_client()
        .get(gateway.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}
