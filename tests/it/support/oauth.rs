//! The standard OAuth 2.0 client (the `oauth2` crate) that callers such as
//! Auth0 are, and the exchanges and answers it sees.

use oauth2::basic::BasicTokenResponse;
use oauth2::{AuthorizationCode, RequestTokenError};
use quirkgate_mocks::provider::{MockProvider, ProviderKind};

use super::gateway::{route, Gateway};
use super::http::{http_client, Answer};
use super::upstream::mock;

/// Where the mock identity broker says it is redirected back to.
pub const REDIRECT: &str = "https://tenant.auth0.com/login/callback";

/// A standard OAuth 2.0 client with only its token endpoint set.
pub type OAuthClient = oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    oauth2::basic::BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

/// The client Auth0 is: `auth_type` picks client-secret-post or Basic.
pub fn oauth_client(
    token_url: &str,
    id: &str,
    secret: &str,
    auth_type: oauth2::AuthType,
) -> OAuthClient {
    oauth2::basic::BasicClient::new(oauth2::ClientId::new(id.into()))
        .set_client_secret(oauth2::ClientSecret::new(secret.into()))
        .set_token_uri(oauth2::TokenUrl::new(token_url.into()).unwrap())
        .set_auth_type(auth_type)
        .set_redirect_uri(oauth2::RedirectUrl::new(REDIRECT.into()).unwrap())
}

pub const ODD_SECRET: &str = "s3cret+value/with=chars";

/// A mock provider of `kind` and a gateway whose `route` uses `preset`, with
/// the mock's `provider_path` as the upstream.
pub async fn preset_route(
    route_path: &str,
    preset: &str,
    kind: ProviderKind,
    provider_path: &str,
) -> (MockProvider, Gateway) {
    let provider = mock(kind).await;
    let upstream = format!("http://{}{provider_path}", provider.addr);
    let gateway = Gateway::start(&route(route_path, preset, &upstream, ""));
    (provider, gateway)
}

/// A code exchange that must succeed.
pub async fn exchange(client: &OAuthClient, code: &str) -> BasicTokenResponse {
    client
        .exchange_code(AuthorizationCode::new(code.into()))
        .request_async(&http_client())
        .await
        .unwrap_or_else(|e| panic!("exchange of '{code}' failed: {e:?}"))
}

/// A code exchange that must fail with an RFC 6749 error the client parses;
/// returns (error code, description).
pub async fn exchange_error(client: &OAuthClient, code: &str) -> (String, Option<String>) {
    match client
        .exchange_code(AuthorizationCode::new(code.into()))
        .request_async(&http_client())
        .await
    {
        Err(RequestTokenError::ServerResponse(response)) => (
            response.error().as_ref().to_owned(),
            response.error_description().cloned(),
        ),
        other => panic!("expected an OAuth error response for '{code}', got {other:?}"),
    }
}

pub fn assert_oauth_error_answer(
    (status, body, headers): &Answer,
    expected_status: u16,
    expected_code: &str,
) {
    assert_eq!(*status, expected_status, "{body}");
    assert_eq!(body["error"], expected_code, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{headers:?}"
    );
}

/// A refresh through the client; a refusal fails the test.
pub async fn refresh(client: &OAuthClient, refresh_token: &str) -> BasicTokenResponse {
    client
        .exchange_refresh_token(&oauth2::RefreshToken::new(refresh_token.into()))
        .request_async(&http_client())
        .await
        .unwrap_or_else(|e| panic!("refresh failed: {e:?}"))
}

/// A bearer GET through the gateway: (status, JSON body). Every answer of a
/// user route is `no-store`.
pub async fn bearer_get(gateway: &Gateway, path: &str, token: &str) -> (u16, serde_json::Value) {
    let response = super::http::get_with_bearer(gateway, path, token).await;
    let status = response.status().as_u16();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (status, response.json().await.unwrap())
}
