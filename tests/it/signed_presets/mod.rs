//! The presets of the new rule words, end to end through the gateway to
//! their strict mocks: signed requests and answers (Alipay, OK.ru), wrapped
//! answers with an in-band status (Withings, Alipay), per-tenant hosts from
//! configuration (Shopify, GitLab), and the secrets of signing kept out of
//! logs and metrics.

mod alipay;
mod okru;
mod secrets;
mod tenant_hosts;
mod withings;

use crate::support::*;
use oauth2::{AuthType, TokenResponse};

/// The mocks crate's test keys (`crates/quirkgate-mocks/keys/`).
fn mock_key(name: &str) -> String {
    format!(
        "{}/crates/quirkgate-mocks/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// What the Alipay presets read: the app's key, Alipay's public key, the app id.
fn alipay_env() -> Vec<(&'static str, String)> {
    vec![
        ("ALIPAY_APP_KEY_FILE", mock_key("app_private.pem")),
        ("ALIPAY_PUBLIC_KEY_FILE", mock_key("alipay_public.pem")),
        (
            "ALIPAY_APP_ID",
            quirkgate_mocks::signed::MOCK_ALIPAY_APP_ID.to_owned(),
        ),
    ]
}

fn env_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn both_auth_types() -> [AuthType; 2] {
    [AuthType::RequestBody, AuthType::BasicAuth]
}

/// How many requests the mock saw with this body or query parameter value.
fn seen_with(provider: &MockProvider, name: &str, value: &str) -> usize {
    provider
        .requests()
        .iter()
        .filter(|r| r.body_param(name) == Some(value) || r.query_param(name) == Some(value))
        .count()
}

/// A `bad…` code: an RFC 6749 error from the gateway (the standard client
/// parses it, so never a 200), the code reached the mock once, and what the
/// mock itself answered (its own shape), replayed on the request it saw.
/// Returns (error, description, the provider's status and body).
async fn bad_code_is_an_rfc_error_sent_once(
    provider: &MockProvider,
    kind: ProviderKind,
    client: &OAuthClient,
) -> (String, Option<String>, (u16, serde_json::Value)) {
    let code = "bad-code-1";
    let (error, description) = exchange_error(client, code).await;
    assert_eq!(
        seen_with(provider, "code", code),
        1,
        "the code reached the provider once"
    );
    let seen = provider
        .requests()
        .into_iter()
        .find(|r| r.body_param("code") == Some(code))
        .unwrap();
    let (status, _, body) = quirkgate_mocks::long_tail::answer(kind, &seen);
    (
        error,
        description,
        (status, serde_json::from_str(&body).unwrap()),
    )
}
