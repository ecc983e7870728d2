//! Claims from the provider's token answer (`token.open_id`): Kuaishou's
//! user answer names no id, and Withings has no user endpoint at all, so
//! both name their user only in the token answer. The `openidconnect`
//! relying party logs in through each against its strict mock; a token
//! answer without the subject field gets no ID token; a `token.` path that
//! names a credential of the token answer is refused at load.

use quirkgate_mocks::long_tail_two::MOCK_KUAISHOU_APP_ID;

use crate::support::*;

/// Kuaishou: `app_id` on the page, a comma-separated scope, `sub` from the
/// token answer's `open_id`, the name from `openapi/user_info`.
pub(crate) const KUAISHOU: Provider = Provider {
    name: "kuaishou",
    kind: ProviderKind::Kuaishou,
    token_preset: "kuaishou",
    token_path: "/oauth2/access_token",
    userinfo_preset: "kuaishou-userinfo",
    userinfo_path: "/openapi/user_info",
    authorize_path: "/oauth2/connect",
    sub: "ks-open-1",
    name_claim: "Mock Kuaishou",
    client_id_param: "app_id",
    scope: "user_info",
    fragment: None,
};

/// Withings: no user endpoint; `sub` is the token answer's `userid` (a
/// number, made text by the preset), once the preset unwrapped `body`.
pub(crate) const WITHINGS: Provider = Provider {
    name: "withings",
    kind: ProviderKind::Withings,
    token_preset: "withings",
    token_path: "/v2/oauth2",
    userinfo_preset: "",
    userinfo_path: "",
    authorize_path: "/oauth2_user/authorize2",
    sub: "363",
    name_claim: "",
    client_id_param: "client_id",
    scope: "user.info",
    fragment: None,
};

const KUAISHOU_ENV: [(&str, &str); 1] = [("KUAISHOU_APP_ID", MOCK_KUAISHOU_APP_ID)];
const ONE_USER_ROUTE: &str = "    userinfo_route: /userinfo/withings\n";

/// Withings' bridge: its token route only, and a block without
/// `userinfo_route`, with `extra` keys added to it.
fn withings_bridge(mock: &MockProvider, key: &std::path::Path, extra: &str) -> (String, String) {
    let routes = route(
        "/token/withings",
        WITHINGS.token_preset,
        &format!("http://{}{}", mock.addr, WITHINGS.token_path),
        "",
    );
    let block = oidc_block(&WITHINGS, mock, &[("k1", key, "RS256")]);
    assert!(block.contains(ONE_USER_ROUTE));
    (routes, block.replace(ONE_USER_ROUTE, "") + extra)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relying_party_logs_in_through_kuaishou_with_sub_from_the_token_answer() {
    // The whole flow, /userinfo included: its sub is the ID token's, though
    // the user endpoint names no id (open_id rides sealed in the access token).
    super::super::every_provider::logs_in_with_env(&KUAISHOU, "ES256", &KUAISHOU_ENV).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kuaishous_access_token_carries_open_id_sealed_and_userinfo_needs_it() {
    let mock = mock(ProviderKind::Kuaishou).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "signing.pem", "RS256");
    let (routes, oidc) = bridge_config(&KUAISHOU, &mock, &[("k1", &key, "RS256")]);
    let gateway = Gateway::start_with_env(&routes, &oidc, "trace", &KUAISHOU_ENV);
    let client = discover(&issuer(&gateway, &KUAISHOU)).await;
    let login = login(&client, &gateway, &KUAISHOU, &mock).await;
    let claims = verified_claims(&client, &login);
    assert_eq!(claims["sub"], KUAISHOU.sub);
    assert_eq!(claims["picture"], "https://k.example/H.jpg");
    // The broker's access token is sealed (it is not the provider's), so
    // neither open_id nor the provider's token can be read from it.
    use openidconnect::OAuth2TokenResponse;
    let access = login.tokens.access_token().secret().clone();
    assert!(
        access.starts_with("qg.")
            && !access.contains("ks-open-1")
            && !access.contains("ks.mockcode-1")
    );
    // The provider's own token, which holds no open_id, gets no /userinfo.
    let http = http_client();
    let userinfo = format!("{}/userinfo", issuer(&gateway, &KUAISHOU));
    let response = http
        .get(&userinfo)
        .bearer_auth("ks.mockcode-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let user = user_info(&client, &login, &gateway).await;
    assert_eq!(
        (&user["sub"], &user["name"]),
        (&claims["sub"], &claims["name"])
    );
    all_taken_by_the_strict_mock(&mock, &KUAISHOU);
    // No secret of the token leg reaches the trace log.
    let secrets: Vec<String> = [CLIENT_SECRET, SEAL_KEY, "mockcode-1", access.as_str()]
        .iter()
        .flat_map(|n| secret_forms(n))
        .collect();
    assert_no_secret(&gateway.log(), "the log", &secrets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relying_party_logs_in_through_withings_with_no_user_endpoint() {
    let mock = mock(ProviderKind::Withings).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "signing.pem", "RS256");
    let (routes, oidc) = withings_bridge(&mock, &key, "");
    let gateway = Gateway::start_with(&routes, &oidc, "info");
    let issuer_url = issuer(&gateway, &WITHINGS);
    // No user endpoint, no userinfo_endpoint in discovery.
    let (_, discovery) = super::super::json_of(
        http_client()
            .get(format!("{issuer_url}/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(discovery.get("userinfo_endpoint").is_none(), "{discovery}");
    let client = discover(&issuer_url).await;
    let login = login(&client, &gateway, &WITHINGS, &mock).await;
    let claims = verified_claims(&client, &login);
    assert_eq!(claims["sub"], WITHINGS.sub, "{claims}");
    assert_eq!(claims["iss"], issuer_url);
    // The broker keeps Withings' own access token, for its data API.
    use openidconnect::OAuth2TokenResponse;
    assert_eq!(login.tokens.access_token().secret(), "wi.mockcode-1");
    let response = http_client()
        .get(format!("{issuer_url}/userinfo"))
        .bearer_auth("wi.mockcode-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let paths: Vec<String> = mock.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, [WITHINGS.authorize_path, WITHINGS.token_path]);
    all_taken_by_the_strict_mock(&mock, &WITHINGS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_answer_without_the_subject_field_gets_no_id_token() {
    let mock = mock(ProviderKind::Withings).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "signing.pem", "RS256");
    // openid is readable, but Withings' token answer has none.
    let (routes, oidc) = withings_bridge(&mock, &key, "    claims: { sub: [token.openid] }\n");
    let gateway = Gateway::start_with(&routes, &oidc, "info");
    let code = super::super::broker_code_at(&gateway, "/oidc/withings", "").await;
    let form = super::super::broker_token_form(&code);
    let token_url = format!("{}/token", issuer(&gateway, &WITHINGS));
    let (status, body) = post_url(&token_url, form.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (502, Some("server_error")),
        "{body}"
    );
    assert!(body.get("id_token").is_none() && body.get("access_token").is_none());
    // The code is spent: a retry is refused and Withings never sees it twice.
    let (status, body) = post_url(&token_url, form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let token_calls = mock
        .requests()
        .iter()
        .filter(|r| r.path == WITHINGS.token_path)
        .count();
    assert_eq!(token_calls, 1);
}

/// `quirkgate --test` on a Kuaishou bridge whose block adds `claims`: its
/// status and what it printed.
fn config_test(claims: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "signing.pem", "ES256");
    let mock_addr = "127.0.0.1:9";
    let routes = [
        route(
            "/token/kuaishou",
            "kuaishou",
            &format!("http://{mock_addr}/"),
            "",
        ),
        route(
            "/userinfo/kuaishou",
            "kuaishou-userinfo",
            &format!("http://{mock_addr}/"),
            "",
        ),
    ]
    .concat();
    let block = format!(
        "oidc:\n  - issuer: \"https://gw.example/oidc/kuaishou\"\n    token_route: /token/kuaishou\n    userinfo_route: /userinfo/kuaishou\n    signing_keys: [{{ kid: k1, key_file: \"{}\", algorithm: ES256 }}]\n    seal_keys: [\"{SEAL_KEY}\"]\n    redirect_uris: [\"{BROKER_CALLBACK}\"]\n{claims}",
        key.display()
    );
    let file = dir.path().join("q.yaml");
    std::fs::write(&file, format!("{block}routes:\n{routes}")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quirkgate"))
        .arg("--config")
        .arg(&file)
        .arg("--test")
        .envs(KUAISHOU_ENV)
        .output()
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), printed)
}

#[test]
fn a_token_claim_path_naming_a_credential_is_refused_at_load() {
    let (ok, printed) = config_test("");
    assert!(ok, "the shipped block loads: {printed}");
    for secret in ["access_token", "refresh_token", "id_token"] {
        for claims in [
            format!("    claims: {{ sub: [token.{secret}] }}\n"),
            format!("    claims: {{ kuaishou_token: [name, token.{secret}] }}\n"),
        ] {
            let (ok, printed) = config_test(&claims);
            assert!(!ok, "{claims}");
            assert!(
                printed.contains(&format!("'token.{secret}'"))
                    && printed.contains("never readable"),
                "{claims}: {printed}"
            );
        }
    }
    // A field not known to be no secret is refused too, and says what is readable.
    let (ok, printed) = config_test("    claims: { expiry: [token.expires_in] }\n");
    assert!(!ok);
    assert!(
        printed.contains("'token.expires_in'") && printed.contains("open_id"),
        "{printed}"
    );
    let (ok, printed) = config_test("    claims: { kuaishou_scope: [token.scope] }\n");
    assert!(ok, "{printed}");
}
