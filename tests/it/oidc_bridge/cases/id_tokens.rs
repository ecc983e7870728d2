//! Providers that sign their own ID token (Apple, LINE, Twitch, LinkedIn):
//! the bridge takes claims from it only once it verifies against the
//! provider's JWKS (the mock's), or for LINE's web login (HS256) with the
//! client secret the broker sent, and a token that fails any check is a 502
//! `server_error` with no ID token, the provider's code sent once. Each
//! mock signs with the nonce its authorize page received and obeys the
//! switch a scope `mock.id_token.<switch>` asks for.

use std::path::Path;
use std::time::Duration;

use openidconnect::OAuth2TokenResponse;
use quirkgate_mocks::id_tokens::{self, IdTokenIssuer, Switch, SWITCH_SCOPE};
use quirkgate_mocks::kinds::TailTwo;

use crate::long_tail_presets::{apple_env, apple_key};
use crate::oidc_bridge::json_of;
use crate::support::*;

/// A provider that signs ID tokens, and what its bridge needs beyond [`Provider`].
struct Case {
    provider: Provider,
    signs: &'static IdTokenIssuer,
    /// The bridge sends the broker's nonce (and checks it comes back).
    nonce: bool,
    /// Claims besides `sub` the verified login carries.
    claims: &'static [(&'static str, &'static str)],
}

const fn provider(
    name: &'static str,
    kind: ProviderKind,
    token_path: &'static str,
    authorize_path: &'static str,
    sub: &'static str,
    scope: &'static str,
) -> Provider {
    Provider {
        name,
        kind,
        token_preset: name,
        token_path,
        userinfo_preset: "",
        userinfo_path: "",
        authorize_path,
        sub,
        name_claim: "",
        client_id_param: "client_id",
        scope,
        fragment: None,
    }
}

const APPLE: Case = Case {
    provider: provider(
        "apple",
        ProviderKind::Apple,
        "/auth/token",
        "/auth/authorize",
        "001234.mockapple.0987",
        "name email",
    ),
    signs: &id_tokens::APPLE,
    nonce: true,
    // The email from Apple's verified ID token, the name from what its
    // page posted to the callback (`response_mode=form_post`).
    claims: &[
        ("email", id_tokens::APPLE_EMAIL),
        ("given_name", "Mock"),
        ("family_name", "Appleseed"),
    ],
};
const LINE: Case = Case {
    provider: provider(
        "line",
        ProviderKind::Line,
        "/oauth2/v2.1/token",
        "/oauth2/v2.1/authorize",
        "U4af4980629mockline",
        "openid profile email",
    ),
    signs: &id_tokens::LINE,
    nonce: true,
    claims: &[("name", "Mock LINE User"), ("email", "line@example.com")],
};
const LINKEDIN: Case = Case {
    provider: provider(
        "linkedin",
        ProviderKind::LinkedIn,
        "/oauth/v2/accessToken",
        "/oauth/v2/authorization",
        "782bbtaQ",
        "openid profile email",
    ),
    signs: &id_tokens::LINKEDIN,
    nonce: false,
    claims: &[("name", "Mock LinkedIn"), ("email", "li@example.com")],
};
const TWITCH: Case = Case {
    provider: Provider {
        userinfo_preset: "twitch-userinfo",
        userinfo_path: "/helix/users",
        name_claim: "TwitchDev",
        ..provider(
            "twitch",
            ProviderKind::TailTwo(TailTwo::Twitch),
            "/oauth2/token",
            "/oauth2/authorize",
            "141981764",
            "openid user:read:email",
        )
    },
    signs: &id_tokens::TWITCH,
    nonce: true,
    claims: &[("name", "TwitchDev"), ("email", "dev@twitch.example")],
};

/// A started bridge in front of the case's mock; the mock's JWKS is refetched at most once a second.
struct Bridge {
    mock: MockProvider,
    gateway: Gateway,
    _dir: tempfile::TempDir,
    /// Apple's .p8 key file, read at each load.
    _apple: crate::long_tail_presets::AppleKey,
}

async fn bridge(case: &Case) -> Bridge {
    let provider = &case.provider;
    let mock = mock(provider.kind).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "signing.pem", "ES256");
    let keys: &[(&str, &Path, &str)] = &[("k1", &key, "ES256")];
    let (mut routes, mut oidc) = bridge_config(provider, &mock, keys);
    if provider.userinfo_preset.is_empty() {
        routes = route(
            &format!("/token/{}", provider.name),
            provider.token_preset,
            &format!("http://{}{}", mock.addr, provider.token_path),
            "",
        );
        oidc = oidc.replace(
            &format!("    userinfo_route: /userinfo/{}\n", provider.name),
            "",
        );
    }
    let key_source = match case.signs.hs256_with_client_secret {
        true => "signed_with: client_secret".to_owned(),
        false => format!(
            "jwks_uri: \"http://{}{}\", refresh_cooldown: 1s",
            mock.addr, case.signs.jwks_path
        ),
    };
    oidc.push_str(&format!(
        "    provider_id_token: {{ {key_source}, issuer: \"{}\", nonce: {} }}\n",
        case.signs.issuer, case.nonce
    ));
    let apple = apple_key();
    let mut env: Vec<(&str, String)> = apple_env(&apple)
        .into_iter()
        .map(|(name, value)| match name {
            "APPLE_CLIENT_ID" => (name, CLIENT_ID.to_owned()),
            _ => (name, value),
        })
        .collect();
    env.push(("TWITCH_CLIENT_ID", "twitch-app-id".to_owned()));
    let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let gateway = Gateway::start_with_env(&routes, &oidc, "info", &env);
    Bridge {
        mock,
        gateway,
        _dir: dir,
        _apple: apple,
    }
}

impl Bridge {
    fn count(&self, path: &str) -> usize {
        self.mock
            .requests()
            .iter()
            .filter(|r| r.path == path)
            .count()
    }
}

async fn logs_in(case: &Case) {
    let provider = &case.provider;
    let bridge = bridge(case).await;
    let issuer = issuer(&bridge.gateway, provider);
    let client = discover(&issuer).await;
    let login = login(&client, &bridge.gateway, provider, &bridge.mock).await;
    let claims = verified_claims(&client, &login);
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["sub"], provider.sub, "{}", provider.name);
    for (name, value) in case.claims {
        assert_eq!(
            claims[name], *value,
            "{}: {name} in {claims}",
            provider.name
        );
    }
    // The broker's nonce went to the provider when the provider echoes it.
    let seen = bridge.mock.requests();
    let page = seen
        .iter()
        .find(|r| r.path == provider.authorize_path)
        .unwrap();
    let sent = page.query_param("nonce");
    assert_eq!(
        sent,
        case.nonce.then_some(login.nonce.secret().as_str()),
        "{}",
        provider.name
    );
    assert_eq!(bridge.count(provider.token_path), 1, "{}", provider.name);
    // LINE's HS256 token needs no JWKS: the client secret keys it.
    let jwks_fetches = usize::from(!case.signs.hs256_with_client_secret);
    assert_eq!(
        bridge.count(case.signs.jwks_path),
        jwks_fetches,
        "{}",
        provider.name
    );

    let discovery: serde_json::Value = http_client()
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    if provider.userinfo_preset.is_empty() {
        // Stateless, and no user endpoint: the ID token carries the claims.
        assert!(discovery.get("userinfo_endpoint").is_none(), "{discovery}");
        let answer = http_client()
            .get(format!("{issuer}/userinfo"))
            .bearer_auth(login.tokens.access_token().secret())
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(answer).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("invalid_request"))
        );
    } else {
        let user = user_info(&client, &login, &bridge.gateway).await;
        assert_eq!(user["sub"], provider.sub);
        assert_eq!(user["name"], provider.name_claim);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apple_logs_in_with_claims_from_its_verified_id_token() {
    logs_in(&APPLE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn line_logs_in_with_claims_from_its_hs256_id_token_keyed_with_the_client_secret() {
    logs_in(&LINE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linkedin_logs_in_with_claims_from_its_verified_id_token() {
    logs_in(&LINKEDIN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twitch_logs_in_with_sub_from_its_id_token_and_the_profile_from_helix() {
    logs_in(&TWITCH).await;
}

/// A login the broker runs by hand, asking the mock for `switch`: the
/// bridge's answer to its code (status and JSON), and the code itself.
async fn redeem(
    bridge: &Bridge,
    case: &Case,
    switch: Switch,
) -> ((u16, serde_json::Value), String) {
    let http = http_client();
    let issuer = issuer(&bridge.gateway, &case.provider);
    let query = serde_urlencoded::to_string([
        ("client_id", CLIENT_ID),
        ("redirect_uri", BROKER_CALLBACK),
        ("response_type", "code"),
        ("scope", &format!("openid {SWITCH_SCOPE}{}", switch.name())),
        ("state", "st-1"),
        ("nonce", "nc-1"),
    ])
    .unwrap();
    let to_provider = location(
        &http
            .get(format!("{issuer}/authorize?{query}"))
            .send()
            .await
            .unwrap(),
    );
    let to_callback = location(&http.get(&to_provider).send().await.unwrap());
    let to_broker = location(&http.get(&to_callback).send().await.unwrap());
    let code = get_param(&query_of(&to_broker), "code").unwrap();
    (token(&issuer, &code).await, code)
}

async fn token(issuer: &str, code: &str) -> (u16, serde_json::Value) {
    let answer = http_client()
        .post(format!("{issuer}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", BROKER_CALLBACK),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    json_of(answer).await
}

/// A provider ID token that fails `switch`'s check: 502 `server_error`
/// naming the check, no ID token, and the provider's code sent once, even
/// when the broker tries its code again.
async fn refused(case: &Case, switch: Switch, description: &str) {
    let bridge = bridge(case).await;
    let ((status, body), code) = redeem(&bridge, case, switch).await;
    assert_eq!(status, 502, "{switch:?}: {body}\n{}", bridge.gateway.log());
    assert_eq!(body["error"], "server_error", "{body}");
    let said = body["error_description"].as_str().unwrap_or("");
    assert!(said.contains(description), "{switch:?}: {said}");
    assert!(
        body.get("id_token").is_none() && body.get("access_token").is_none(),
        "{body}"
    );
    let (again, _) = token(&issuer(&bridge.gateway, &case.provider), &code).await;
    assert_eq!(again, 400, "a spent code is not redeemed again");
    assert_eq!(
        bridge.count(case.provider.token_path),
        1,
        "the provider's code went once"
    );
    let log = bridge.gateway.log();
    assert!(log.contains("the provider's ID token was refused"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_token_signed_by_a_key_the_provider_never_published_is_a_502() {
    refused(&LINKEDIN, Switch::WrongKey, "signature does not verify").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_id_token_keyed_with_another_secret_than_the_brokers_is_a_502() {
    refused(&LINE, Switch::WrongKey, "signature does not verify").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_provider_id_token_is_a_502() {
    refused(&LINKEDIN, Switch::Expired, "expired").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_id_token_for_another_client_is_a_502() {
    refused(&LINE, Switch::WrongAud, "not for this client").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_id_token_from_another_issuer_is_a_502() {
    refused(&TWITCH, Switch::WrongIss, "wrong iss").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_alg_none_provider_id_token_is_a_502() {
    refused(&LINKEDIN, Switch::AlgNone, "not signed with an algorithm").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_line_id_token_is_a_502_though_the_secret_is_at_hand() {
    refused(&LINE, Switch::AlgNone, "not signed with an algorithm").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_fetched_once_and_a_stream_of_unknown_kids_fetches_nothing() {
    let bridge = bridge(&LINKEDIN).await;
    let jwks = LINKEDIN.signs.jwks_path;
    let ((status, body), _) = redeem(&bridge, &LINKEDIN, Switch::Valid).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string());
    assert_eq!(bridge.count(jwks), 1);
    // The provider rotates after the cooldown: the new kid is fetched once, and verifies.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let ((status, body), _) = redeem(&bridge, &LINKEDIN, Switch::Rotated).await;
    assert_eq!(status, 200, "{body}\n{}", bridge.gateway.log());
    assert_eq!(bridge.count(jwks), 2);
    // Kids no JWKS publishes, within the cooldown: refused, and no fetch per request.
    for _ in 0..3 {
        let ((status, body), _) = redeem(&bridge, &LINKEDIN, Switch::UnknownKid).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (502, Some("server_error")),
            "{body}"
        );
        assert!(body["error_description"]
            .as_str()
            .unwrap()
            .contains("names a key its JWKS lacks"));
    }
    assert_eq!(
        bridge.count(jwks),
        2,
        "unknown kids within the cooldown fetch nothing"
    );
    assert_eq!(bridge.count(LINKEDIN.provider.token_path), 5);
}
