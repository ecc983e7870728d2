//! The long tail, part two: Kakao, Naver, Weibo, Baidu, Lark, Huawei,
//! Yandex, Mail.ru, Discord, Spotify, Bitbucket, Fitbit and PayPal behind
//! the bridge, each against its strict mock (`quirkgate_mocks::long_tail_two`).
//! eBay's page and token call name the redirect by the app's RuName: its
//! login is in `callback_shapes.rs`.

use crate::support::*;
use quirkgate_mocks::long_tail_two::TailTwo;

/// Each provider and the algorithm its bridge signs with.
pub(crate) const CASES: &[(&Provider, &str)] = &[
    (&KAKAO, "ES256"),
    (&NAVER, "RS256"),
    (&WEIBO, "ES256"),
    (&BAIDU, "RS256"),
    (&LARK, "ES256"),
    (&HUAWEI, "RS256"),
    (&YANDEX, "ES256"),
    (&MAILRU, "RS256"),
    (&DISCORD, "ES256"),
    (&SPOTIFY, "RS256"),
    (&BITBUCKET, "ES256"),
    (&FITBIT, "RS256"),
    (&PAYPAL, "ES256"),
];

const KAKAO: Provider = Provider {
    name: "kakao",
    kind: ProviderKind::TailTwo(TailTwo::Kakao),
    token_preset: "kakao",
    token_path: "/oauth/token",
    userinfo_preset: "kakao-userinfo",
    userinfo_path: "/v2/user/me",
    authorize_path: "/oauth/authorize",
    // The int64 id, as text.
    sub: "1234567890123",
    name_claim: "Mock Kakao",
    client_id_param: "client_id",
    scope: "profile_nickname,profile_image,account_email",
    fragment: None,
};

const NAVER: Provider = Provider {
    name: "naver",
    kind: ProviderKind::TailTwo(TailTwo::Naver),
    token_preset: "naver",
    token_path: "/oauth2.0/token",
    userinfo_preset: "naver-userinfo",
    userinfo_path: "/v1/nid/me",
    authorize_path: "/oauth2.0/authorize",
    sub: "32742776",
    name_claim: "Mock Naver",
    client_id_param: "client_id",
    // Consent items are set in Naver's console, never asked for.
    scope: "",
    fragment: None,
};

const WEIBO: Provider = Provider {
    name: "weibo",
    kind: ProviderKind::TailTwo(TailTwo::Weibo),
    token_preset: "weibo",
    token_path: "/oauth2/access_token",
    userinfo_preset: "weibo-userinfo",
    userinfo_path: "/2/users/show.json",
    authorize_path: "/oauth2/authorize",
    // users/show.json answers the user only for the token answer's uid.
    sub: "1404376560",
    name_claim: "zaku",
    client_id_param: "client_id",
    scope: "email",
    fragment: None,
};

const BAIDU: Provider = Provider {
    name: "baidu",
    kind: ProviderKind::TailTwo(TailTwo::Baidu),
    token_preset: "baidu",
    token_path: "/oauth/2.0/token",
    userinfo_preset: "baidu-userinfo",
    userinfo_path: "/rest/2.0/passport/users/getInfo",
    authorize_path: "/oauth/2.0/authorize",
    sub: "bd-open-1",
    name_claim: "mock_baidu",
    client_id_param: "client_id",
    scope: "basic",
    fragment: None,
};

const LARK: Provider = Provider {
    name: "lark",
    kind: ProviderKind::TailTwo(TailTwo::Lark),
    token_preset: "lark",
    token_path: "/open-apis/authen/v2/oauth/token",
    userinfo_preset: "lark-userinfo",
    userinfo_path: "/open-apis/authen/v1/user_info",
    authorize_path: "/open-apis/authen/v1/authorize",
    sub: "on_mock1",
    name_claim: "Mock Lark",
    client_id_param: "client_id",
    scope: "",
    fragment: None,
};

const HUAWEI: Provider = Provider {
    name: "huawei",
    kind: ProviderKind::TailTwo(TailTwo::Huawei),
    token_preset: "huawei",
    token_path: "/oauth2/v3/token",
    userinfo_preset: "huawei-userinfo",
    // The service is named in the URL's query, as on Huawei's.
    userinfo_path: "/rest.php?nsp_svc=GOpen.User.getInfo",
    authorize_path: "/oauth2/v3/authorize",
    sub: "hw-union-1",
    name_claim: "Mock Huawei",
    client_id_param: "client_id",
    scope: "openid profile email",
    fragment: None,
};

const YANDEX: Provider = Provider {
    name: "yandex",
    kind: ProviderKind::TailTwo(TailTwo::Yandex),
    token_preset: "yandex",
    token_path: "/token",
    userinfo_preset: "yandex-userinfo",
    userinfo_path: "/info",
    authorize_path: "/authorize",
    sub: "1000034426",
    name_claim: "Ivan Ivanov",
    client_id_param: "client_id",
    scope: "login:info login:avatar login:email",
    fragment: None,
};

const MAILRU: Provider = Provider {
    name: "mailru",
    kind: ProviderKind::TailTwo(TailTwo::MailRu),
    token_preset: "mailru",
    token_path: "/token",
    userinfo_preset: "mailru-userinfo",
    userinfo_path: "/userinfo",
    authorize_path: "/login",
    sub: "8123456",
    name_claim: "Ivan Ivanov",
    client_id_param: "client_id",
    scope: "userinfo",
    fragment: None,
};

const DISCORD: Provider = Provider {
    name: "discord",
    kind: ProviderKind::TailTwo(TailTwo::Discord),
    token_preset: "discord",
    token_path: "/api/oauth2/token",
    userinfo_preset: "discord-userinfo",
    userinfo_path: "/api/users/@me",
    authorize_path: "/api/oauth2/authorize",
    sub: "80351110224678912",
    name_claim: "Nelly",
    client_id_param: "client_id",
    scope: "identify email",
    fragment: None,
};

const SPOTIFY: Provider = Provider {
    name: "spotify",
    kind: ProviderKind::TailTwo(TailTwo::Spotify),
    token_preset: "spotify",
    token_path: "/api/token",
    userinfo_preset: "spotify-userinfo",
    userinfo_path: "/v1/me",
    authorize_path: "/authorize",
    sub: "smedjan",
    name_claim: "JM Wizzler",
    client_id_param: "client_id",
    scope: "user-read-private user-read-email",
    fragment: None,
};

const BITBUCKET: Provider = Provider {
    name: "bitbucket",
    kind: ProviderKind::TailTwo(TailTwo::Bitbucket),
    token_preset: "bitbucket",
    token_path: "/site/oauth2/access_token",
    userinfo_preset: "bitbucket-userinfo",
    userinfo_path: "/2.0/user",
    authorize_path: "/site/oauth2/authorize",
    sub: "{c788b2da-b7a2-404c-9e26-d3f077557007}",
    name_claim: "Erik van Zijst",
    client_id_param: "client_id",
    scope: "account",
    fragment: None,
};

const FITBIT: Provider = Provider {
    name: "fitbit",
    kind: ProviderKind::TailTwo(TailTwo::Fitbit),
    token_preset: "fitbit",
    token_path: "/oauth2/token",
    userinfo_preset: "fitbit-userinfo",
    userinfo_path: "/1/user/-/profile.json",
    authorize_path: "/oauth2/authorize",
    sub: "26FWFL",
    name_claim: "Mock Runner",
    client_id_param: "client_id",
    scope: "profile",
    fragment: None,
};

const PAYPAL: Provider = Provider {
    name: "paypal",
    kind: ProviderKind::TailTwo(TailTwo::PayPal),
    token_preset: "paypal",
    token_path: "/v1/oauth2/token",
    userinfo_preset: "paypal-userinfo",
    userinfo_path: "/v1/identity/oauth2/userinfo",
    authorize_path: "/signin/authorize",
    sub: "https://www.paypal.com/webapps/auth/identity/user/mWq6_1sU85v5EG9yHdPxJRrhGHrnMJ-1PQKtX6pcsmA",
    name_claim: "identity test",
    client_id_param: "client_id",
    scope: "openid profile email",
    fragment: None,
};
