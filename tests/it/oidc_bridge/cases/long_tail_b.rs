//! The first long tail: Notion, Slack, VK, Facebook, X, Reddit.

#[allow(unused_imports)]
use crate::support::*;
use quirkgate_mocks::long_tail::MOCK_FACEBOOK_APP_SECRET;
use quirkgate_mocks::provider::ProviderKind;

use super::super::every_provider::logs_in_with_env;

/// Notion: no scopes; the person is the owner of the integration's bot user.
pub const NOTION: Provider = Provider {
    name: "notion",
    kind: ProviderKind::Notion,
    token_preset: "notion",
    token_path: "/v1/oauth/token",
    userinfo_preset: "notion-userinfo",
    userinfo_path: "/v1/users/me",
    authorize_path: "/v1/oauth/authorize",
    sub: "notion-user-1",
    name_claim: "Mock Notion",
    client_id_param: "client_id",
    scope: "",
    fragment: None,
};

/// Sign in with Slack: openid.connect.token and openid.connect.userInfo.
pub const SLACK: Provider = Provider {
    name: "slack",
    kind: ProviderKind::Slack,
    token_preset: "slack",
    token_path: "/api/openid.connect.token",
    userinfo_preset: "slack-userinfo",
    userinfo_path: "/api/openid.connect.userInfo",
    authorize_path: "/openid/connect/authorize",
    sub: "U0R7JM",
    name_claim: "Mock Slacker",
    client_id_param: "client_id",
    scope: "openid profile email",
    fragment: None,
};

pub const REDDIT: Provider = Provider {
    name: "reddit",
    kind: ProviderKind::Reddit,
    token_preset: "reddit",
    token_path: "/api/v1/access_token",
    userinfo_preset: "reddit-userinfo",
    userinfo_path: "/api/v1/me",
    authorize_path: "/api/v1/authorize",
    sub: "t2mock1",
    name_claim: "mock_redditor",
    client_id_param: "client_id",
    scope: "identity",
    fragment: None,
};

/// VK's classic OAuth (oauth.vk.com) and users.get.
pub const VK: Provider = Provider {
    name: "vk",
    kind: ProviderKind::Vk,
    token_preset: "vk",
    token_path: "/access_token",
    userinfo_preset: "vk-userinfo",
    userinfo_path: "/method/users.get",
    authorize_path: "/authorize",
    sub: "210700286",
    name_claim: "Lindsey",
    client_id_param: "client_id",
    scope: "email",
    fragment: None,
};

/// Facebook Login: its user route signs each call with the app secret.
pub const FACEBOOK: Provider = Provider {
    name: "facebook",
    kind: ProviderKind::Facebook,
    token_preset: "facebook",
    token_path: "/v19.0/oauth/access_token",
    userinfo_preset: "facebook-userinfo",
    userinfo_path: "/v19.0/me",
    authorize_path: "/v19.0/dialog/oauth",
    sub: "10001",
    name_claim: "Mock User",
    client_id_param: "client_id",
    scope: "public_profile,email",
    fragment: None,
};

/// X: PKCE from the bridge (`provider_pkce: S256`); the mock's code carries
/// the challenge its page saw, and its token call refuses another verifier.
pub const X: Provider = Provider {
    name: "x",
    kind: ProviderKind::X,
    token_preset: "x",
    token_path: "/2/oauth2/token",
    userinfo_preset: "x-userinfo",
    userinfo_path: "/2/users/me",
    authorize_path: "/i/oauth2/authorize",
    sub: "2244994945",
    name_claim: "Mock X",
    client_id_param: "client_id",
    scope: "tweet.read users.read",
    fragment: None,
};

/// GitLab on the base URL from `GITLAB_URL`.
pub const GITLAB: Provider = Provider {
    name: "gitlab",
    kind: ProviderKind::GitLab,
    token_preset: "gitlab",
    token_path: "/oauth/token",
    userinfo_preset: "gitlab-userinfo",
    userinfo_path: "/api/v4/user",
    authorize_path: "/oauth/authorize",
    sub: "4711",
    name_claim: "Mock User",
    client_id_param: "client_id",
    scope: "read_user",
    fragment: None,
};

/// Shopify on the shop from `SHOPIFY_SHOP`: the shop is the user.
pub const SHOPIFY: Provider = Provider {
    name: "shopify",
    kind: ProviderKind::Shopify,
    token_preset: "shopify",
    token_path: "/admin/oauth/access_token",
    userinfo_preset: "shopify-userinfo",
    userinfo_path: "/admin/api/2024-10/shop.json",
    authorize_path: "/admin/oauth/authorize",
    sub: "548380009",
    name_claim: "Mock Shop",
    client_id_param: "client_id",
    scope: "read_products",
    fragment: None,
};

/// Each provider and the algorithm its bridge signs with.
pub(crate) const CASES: &[(&Provider, &str)] = &[
    (&NOTION, "ES256"),
    (&SLACK, "RS256"),
    (&REDDIT, "ES256"),
    (&VK, "RS256"),
    (&X, "ES256"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facebook_logs_in_with_the_app_secret_proof_on_its_user_leg() {
    logs_in_with_env(
        &FACEBOOK,
        "ES256",
        &[("FACEBOOK_APP_SECRET", MOCK_FACEBOOK_APP_SECRET)],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_and_shopify_log_in_on_the_configured_tenant() {
    // The routes point at the mock; the presets still need their variables.
    logs_in_with_env(
        &GITLAB,
        "RS256",
        &[("GITLAB_URL", "https://gitlab.example")],
    )
    .await;
    logs_in_with_env(&SHOPIFY, "ES256", &[("SHOPIFY_SHOP", "mock-shop")]).await;
}
