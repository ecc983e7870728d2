//! The first long tail: Douyin, Feishu, Zoom, Pinterest, Strava, and OK.ru
//! (its own test: its signed user call reads keys from the environment).
//! Kuaishou's user answer has no id: its `sub` comes from the token answer
//! (`token_claims.rs`); Alipay's page calls back with `auth_code`
//! (`callback_shapes.rs`).

use crate::support::*;

/// Douyin: `client_key` on the page, a comma-separated scope, and a user
/// call that wants the token answer's `open_id` (a form POST).
pub(crate) const DOUYIN: Provider = Provider {
    name: "douyin",
    kind: ProviderKind::Douyin,
    token_preset: "douyin",
    token_path: "/oauth/access_token/",
    userinfo_preset: "douyin-userinfo",
    userinfo_path: "/oauth/userinfo/",
    authorize_path: "/platform/oauth/connect/",
    sub: "dy-union-1",
    name_claim: "Mock Douyin",
    client_id_param: "client_key",
    scope: "user_info",
    fragment: None,
};

pub(crate) const FEISHU: Provider = Provider {
    name: "feishu",
    kind: ProviderKind::Feishu,
    token_preset: "feishu",
    token_path: "/open-apis/authen/v2/oauth/token",
    userinfo_preset: "feishu-userinfo",
    userinfo_path: "/open-apis/authen/v1/user_info",
    authorize_path: "/open-apis/authen/v1/authorize",
    sub: "on_feishu1",
    name_claim: "Mock Feishu",
    client_id_param: "client_id",
    scope: "contact:user.email:readonly",
    fragment: None,
};

pub(crate) const ZOOM: Provider = Provider {
    name: "zoom",
    kind: ProviderKind::Zoom,
    token_preset: "zoom",
    token_path: "/oauth/token",
    userinfo_preset: "zoom-userinfo",
    userinfo_path: "/v2/users/me",
    authorize_path: "/oauth/authorize",
    sub: "KDcuGIm1QgePTO8WbOqwIQ",
    name_claim: "Jill Chill",
    client_id_param: "client_id",
    scope: "user:read:user",
    fragment: None,
};

pub(crate) const PINTEREST: Provider = Provider {
    name: "pinterest",
    kind: ProviderKind::Pinterest,
    token_preset: "pinterest",
    token_path: "/v5/oauth/token",
    userinfo_preset: "pinterest-userinfo",
    userinfo_path: "/v5/user_account",
    authorize_path: "/oauth/",
    sub: "549755885175",
    name_claim: "mockpinner",
    client_id_param: "client_id",
    scope: "user_accounts:read",
    fragment: None,
};

/// Strava: the athlete's numeric id becomes a text `sub`.
pub(crate) const STRAVA: Provider = Provider {
    name: "strava",
    kind: ProviderKind::Strava,
    token_preset: "strava",
    token_path: "/oauth/token",
    userinfo_preset: "strava-userinfo",
    userinfo_path: "/api/v3/athlete",
    authorize_path: "/oauth/authorize",
    sub: "134815",
    name_claim: "marianne_t",
    client_id_param: "client_id",
    scope: "read",
    fragment: None,
};

/// Each provider and the algorithm its bridge signs with.
pub(crate) const CASES: &[(&Provider, &str)] = &[
    (&DOUYIN, "ES256"),
    (&FEISHU, "RS256"),
    (&ZOOM, "ES256"),
    (&PINTEREST, "RS256"),
    (&STRAVA, "ES256"),
];

/// OK.ru: semicolon-separated scopes, and a user call signed per request.
pub(crate) const OKRU: Provider = Provider {
    name: "okru",
    kind: ProviderKind::OkRu,
    token_preset: "okru",
    token_path: "/oauth/token.do",
    userinfo_preset: "okru-userinfo",
    userinfo_path: "/fb.do",
    authorize_path: "/oauth/authorize",
    sub: "575662066926",
    name_claim: "Mock User",
    client_id_param: "client_id",
    scope: "VALUABLE_ACCESS;GET_EMAIL",
    fragment: None,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relying_party_logs_in_through_okru_with_its_signed_user_call() {
    use quirkgate_mocks::signed::{MOCK_OKRU_APPLICATION_KEY, MOCK_OKRU_SECRET};
    let env = [
        ("OKRU_APPLICATION_KEY", MOCK_OKRU_APPLICATION_KEY),
        ("OKRU_CLIENT_SECRET", MOCK_OKRU_SECRET),
    ];
    super::super::every_provider::logs_in_with_env(&OKRU, "RS256", &env).await;
}
