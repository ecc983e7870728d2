//! The long tail, part two (issue 26): each provider's token and user
//! presets through the real gateway to its strict mock, from one table of
//! cases; and each mock refusing every wrong variant of what it accepts.

mod gateway_legs;
mod wrong_variants;

use crate::support::*;
use quirkgate_mocks::long_tail_two::{TailTwo, MOCK_EBAY_RUNAME, MOCK_KUAISHOU_APP_ID};

/// The values the presets read, as the mocks expect them.
const ENV: &[(&str, &str)] = &[
    ("EBAY_RUNAME", MOCK_EBAY_RUNAME),
    ("KUAISHOU_APP_ID", MOCK_KUAISHOU_APP_ID),
    ("TWITCH_CLIENT_ID", "twitch-app-id"),
];

/// A token preset and what its provider answers.
struct TokenCase {
    preset: &'static str,
    provider: TailTwo,
    refresh: bool,
    /// The RFC 6749 code a `bad…` code gets from the gateway.
    bad_code: &'static str,
}

const TOKEN_CASES: &[TokenCase] = &[
    TokenCase {
        preset: "kakao",
        provider: TailTwo::Kakao,
        refresh: true,
        bad_code: "invalid_grant",
    },
    // Naver says "no valid data in session" as invalid_request, with HTTP 200.
    TokenCase {
        preset: "naver",
        provider: TailTwo::Naver,
        refresh: true,
        bad_code: "invalid_request",
    },
    TokenCase {
        preset: "weibo",
        provider: TailTwo::Weibo,
        refresh: false,
        bad_code: "invalid_grant",
    },
    TokenCase {
        preset: "baidu",
        provider: TailTwo::Baidu,
        refresh: true,
        bad_code: "invalid_grant",
    },
    TokenCase {
        preset: "lark",
        provider: TailTwo::Lark,
        refresh: true,
        bad_code: "invalid_grant",
    },
    TokenCase {
        preset: "huawei",
        provider: TailTwo::Huawei,
        refresh: true,
        bad_code: "invalid_grant",
    },
    TokenCase {
        preset: "yandex",
        provider: TailTwo::Yandex,
        refresh: true,
        bad_code: "invalid_grant",
    },
    TokenCase {
        preset: "mailru",
        provider: TailTwo::MailRu,
        refresh: true,
        bad_code: "invalid_grant",
    },
    TokenCase {
        preset: "twitch",
        provider: TailTwo::Twitch,
        refresh: true,
        bad_code: "invalid_grant",
    },
    TokenCase {
        preset: "discord",
        provider: TailTwo::Discord,
        refresh: true,
        bad_code: "invalid_grant",
    },
    TokenCase {
        preset: "spotify",
        provider: TailTwo::Spotify,
        refresh: true,
        bad_code: "invalid_grant",
    },
    TokenCase {
        preset: "bitbucket",
        provider: TailTwo::Bitbucket,
        refresh: true,
        bad_code: "invalid_grant",
    },
    TokenCase {
        preset: "fitbit",
        provider: TailTwo::Fitbit,
        refresh: true,
        bad_code: "invalid_grant",
    },
    // eBay's refresh needs a scope a standard client does not send (the preset says so).
    TokenCase {
        preset: "ebay",
        provider: TailTwo::Ebay,
        refresh: false,
        bad_code: "invalid_grant",
    },
    TokenCase {
        preset: "paypal",
        provider: TailTwo::PayPal,
        refresh: true,
        bad_code: "invalid_grant",
    },
];

/// A user-info preset: how it is called and the user's id in its answer.
struct UserCase {
    preset: &'static str,
    provider: TailTwo,
    /// Form parameters the call carries next to the Bearer token (a POST route).
    form: &'static [(&'static str, &'static str)],
    /// The upstream's query, when the provider's URL has one.
    upstream_query: &'static str,
    /// Where the id is in the gateway's answer, and what it is (always text).
    id_field: &'static str,
    id: &'static str,
}

const USER_CASES: &[UserCase] = &[
    UserCase {
        preset: "kakao-userinfo",
        provider: TailTwo::Kakao,
        form: &[],
        upstream_query: "",
        id_field: "id",
        id: "1234567890123",
    },
    UserCase {
        preset: "naver-userinfo",
        provider: TailTwo::Naver,
        form: &[],
        upstream_query: "",
        id_field: "id",
        id: "32742776",
    },
    UserCase {
        preset: "weibo-userinfo",
        provider: TailTwo::Weibo,
        form: &[("uid", "1404376560")],
        upstream_query: "",
        id_field: "id",
        id: "1404376560",
    },
    UserCase {
        preset: "baidu-userinfo",
        provider: TailTwo::Baidu,
        form: &[],
        upstream_query: "",
        id_field: "openid",
        id: "bd-open-1",
    },
    UserCase {
        preset: "lark-userinfo",
        provider: TailTwo::Lark,
        form: &[],
        upstream_query: "",
        id_field: "union_id",
        id: "on_mock1",
    },
    UserCase {
        preset: "huawei-userinfo",
        provider: TailTwo::Huawei,
        form: &[],
        upstream_query: "?nsp_svc=GOpen.User.getInfo",
        id_field: "unionID",
        id: "hw-union-1",
    },
    UserCase {
        preset: "kuaishou-userinfo",
        provider: TailTwo::KuaishouUser,
        form: &[],
        upstream_query: "",
        id_field: "name",
        id: "Mock Kuaishou",
    },
    UserCase {
        preset: "yandex-userinfo",
        provider: TailTwo::Yandex,
        form: &[],
        upstream_query: "",
        id_field: "id",
        id: "1000034426",
    },
    UserCase {
        preset: "mailru-userinfo",
        provider: TailTwo::MailRu,
        form: &[],
        upstream_query: "",
        id_field: "id",
        id: "8123456",
    },
    // The first long tail's preset, against the Twitch mock that now has a token endpoint too.
    UserCase {
        preset: "twitch-userinfo",
        provider: TailTwo::Twitch,
        form: &[],
        upstream_query: "",
        id_field: "id",
        id: "141981764",
    },
    UserCase {
        preset: "discord-userinfo",
        provider: TailTwo::Discord,
        form: &[],
        upstream_query: "",
        id_field: "id",
        id: "80351110224678912",
    },
    UserCase {
        preset: "spotify-userinfo",
        provider: TailTwo::Spotify,
        form: &[],
        upstream_query: "",
        id_field: "picture",
        id: "https://i.scdn.example/image/1",
    },
    UserCase {
        preset: "bitbucket-userinfo",
        provider: TailTwo::Bitbucket,
        form: &[],
        upstream_query: "",
        id_field: "uuid",
        id: "{c788b2da-b7a2-404c-9e26-d3f077557007}",
    },
    UserCase {
        preset: "fitbit-userinfo",
        provider: TailTwo::Fitbit,
        form: &[],
        upstream_query: "",
        id_field: "encodedId",
        id: "26FWFL",
    },
    UserCase {
        preset: "ebay-userinfo",
        provider: TailTwo::Ebay,
        form: &[],
        upstream_query: "",
        id_field: "userId",
        id: "1Lr7iuH",
    },
    UserCase {
        preset: "paypal-userinfo",
        provider: TailTwo::PayPal,
        form: &[],
        upstream_query: "",
        id_field: "email",
        id: "user1@paypal.example",
    },
];

/// How many requests the mock saw carrying `value` as a parameter (query,
/// form or JSON body).
fn reached(mock: &MockProvider, value: &str) -> usize {
    mock.requests()
        .iter()
        .filter(|r| {
            r.query.iter().chain(&r.body).any(|(_, v)| v == value)
                || r.json_body()
                    .is_some_and(|body| body.values().any(|v| v.as_str() == Some(value)))
        })
        .count()
}
