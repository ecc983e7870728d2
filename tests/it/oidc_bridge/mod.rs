//! The OpenID Connect bridge, driven by a real relying-party library (the
//! `openidconnect` crate, as a broker would use one) with no browser:
//! discovery → `/authorize` → 302 to the mock provider's authorize page → its
//! redirect with a code → `/callback` → the RP's redirect URI → `/token`
//! (signature checked against the JWKS, plus `iss`, `aud`, `exp`, `nonce`
//! and `at_hash`) → `/userinfo`. For TikTok, WeChat and GitHub, each a single
//! `mock-provider` serving its authorize page, token and user endpoints.

mod cases;
mod claims;
mod every_provider;
mod form_posts;
mod kept_alive;
mod key_rotation;
mod keygen;
mod login;
mod refusals;
mod short_state;
mod token_step;
mod walk;

use std::time::Duration;

use openidconnect::core::CoreIdToken;
use openidconnect::{AuthorizationCode, OAuth2TokenResponse, TokenResponse};
use quirkgate_mocks::provider::{MockProvider, ProviderKind};

use crate::support::*;

/// A started bridge in front of TikTok, for the refusal tests.
async fn tiktok_bridge() -> (MockProvider, Gateway, tempfile::TempDir) {
    let mock = mock(ProviderKind::TikTok).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "k.pem", "ES256");
    let (routes, oidc) = bridge_config(&TIKTOK, &mock, &[("k1", &key, "ES256")]);
    let gateway = Gateway::start_with(&routes, &oidc, "debug");
    (mock, gateway, dir)
}

pub(crate) fn authorize_query(redirect_uri: &str, extra: &str) -> String {
    format!(
        "client_id={CLIENT_ID}&redirect_uri={}&response_type=code&scope=openid&state=st-1&nonce=nc-1{extra}",
        serde_urlencoded::to_string([("", redirect_uri)]).unwrap()[1..].to_owned()
    )
}

pub(crate) async fn json_of(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}

/// The broker's token request for `code`, as a standard client sends it
/// (credentials in the body, the registered `redirect_uri`).
pub(crate) fn broker_token_form(code: &str) -> String {
    serde_urlencoded::to_string([
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", BROKER_CALLBACK),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ])
    .unwrap()
}

/// A broker's code from a real login (authorize → the mock's page → callback),
/// with `extra` added to the authorize query.
pub(crate) async fn broker_code(gateway: &Gateway, extra: &str) -> String {
    broker_code_at(gateway, "/oidc/tiktok", extra).await
}

/// [`broker_code`] from the bridge whose issuer path is `bridge`.
pub(crate) async fn broker_code_at(gateway: &Gateway, bridge: &str, extra: &str) -> String {
    let http = http_client();
    let to_provider = location(
        &http
            .get(format!(
                "{}?{}",
                gateway.url(&format!("{bridge}/authorize")),
                authorize_query(BROKER_CALLBACK, extra)
            ))
            .send()
            .await
            .unwrap(),
    );
    let to_callback = location(&http.get(&to_provider).send().await.unwrap());
    let to_broker = location(&http.get(&to_callback).send().await.unwrap());
    get_param(&query_of(&to_broker), "code").unwrap()
}
