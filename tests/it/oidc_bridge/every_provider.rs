//! Every preset with an `oidc:` block logs in through the bridge against
//! its strict mock, driven by the `openidconnect` relying party: discovery,
//! `/authorize`, the mock's page, `/callback`, `/token` (signature, `iss`,
//! `aud`, `exp`, `nonce`, `at_hash`), then `/userinfo`. ES256 and RS256 both
//! sign. A preset that gains an `oidc:` block without a case here fails
//! `every_preset_with_an_oidc_block_has_a_login_case`.

use super::*;

/// Each bridged provider and the algorithm its bridge signs with.
const FIRST_CASES: &[(&Provider, &str)] = &[
    (&TIKTOK, "ES256"),
    (&WECHAT, "RS256"),
    (&GITHUB, "RS256"),
    (&DINGTALK, "ES256"),
];

/// Every case: the first four, then each group's own list (`cases/`).
fn cases() -> impl Iterator<Item = &'static (&'static Provider, &'static str)> {
    FIRST_CASES
        .iter()
        .chain(super::cases::tail_two::CASES)
        .chain(super::cases::long_tail_a::CASES)
        .chain(super::cases::long_tail_b::CASES)
}

pub(super) async fn logs_in(provider: &Provider, algorithm: &str) {
    logs_in_with_env(provider, algorithm, &[]).await;
}

/// [`logs_in`], with the environment the provider's presets read.
pub(super) async fn logs_in_with_env(provider: &Provider, algorithm: &str, env: &[(&str, &str)]) {
    let mock = mock(provider.kind).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "signing.pem", algorithm);
    let (routes, oidc) = bridge_config(provider, &mock, &[("k1", &key, algorithm)]);
    let gateway = Gateway::start_with_env(&routes, &oidc, "info", env);
    let client = discover(&issuer(&gateway, provider)).await;
    let login = login(&client, &gateway, provider, &mock).await;
    let id_token = login.tokens.id_token().expect("an id_token");
    assert_eq!(
        serde_json::to_value(id_token.signing_alg().unwrap()).unwrap(),
        serde_json::json!(algorithm),
        "{}",
        provider.name
    );
    let claims = verified_claims(&client, &login);
    assert_eq!(claims["iss"], issuer(&gateway, provider));
    assert!(
        claims["aud"] == CLIENT_ID || claims["aud"] == serde_json::json!([CLIENT_ID]),
        "{claims}"
    );
    assert_eq!(claims["sub"], provider.sub, "{}", provider.name);
    assert_eq!(claims["name"], provider.name_claim, "{}", provider.name);
    assert!(claims["exp"].as_f64().unwrap() > claims["iat"].as_f64().unwrap());

    let user = user_info(&client, &login, &gateway).await;
    assert_eq!(user["sub"], provider.sub, "{}", provider.name);
    assert_eq!(user["name"], provider.name_claim, "{}", provider.name);

    // The provider's code went to its token endpoint once, and nothing the
    // strict mock refused was sent (every call it saw was to a path it serves).
    let seen = mock.requests();
    assert_eq!(
        seen.iter()
            .filter(|r| r.path == provider.token_path)
            .count(),
        1,
        "{}",
        provider.name
    );
    for request in &seen {
        let endpoint = provider
            .kind
            .endpoints()
            .iter()
            .find(|e| e.path == request.path)
            .unwrap_or_else(|| panic!("{}: {} is not served", provider.name, request.path));
        assert_eq!(
            endpoint.check(request),
            Ok(()),
            "{}: {} {}",
            provider.name,
            request.method,
            request.path
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relying_party_logs_in_through_every_bridged_preset_against_its_strict_mock() {
    for (provider, algorithm) in cases() {
        logs_in(provider, algorithm).await;
    }
    let algorithms: Vec<&str> = cases().map(|(_, a)| *a).collect();
    assert!(algorithms.contains(&"ES256") && algorithms.contains(&"RS256"));
}

#[test]
fn every_preset_with_an_oidc_block_has_a_login_case() {
    for (name, text) in quirkgate::config::PRESETS {
        let has_block = text.lines().any(|line| line.starts_with("oidc:"));
        if has_block {
            assert!(
                cases().any(|(p, _)| p.token_preset == *name)
                    || super::cases::OWN_TESTS.contains(name),
                "preset {name} has an oidc: block and no login case in cases()"
            );
        }
    }
}
