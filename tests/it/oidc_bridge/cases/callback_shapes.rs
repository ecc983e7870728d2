//! Providers whose pages call back their own way: Alipay names the code
//! `auth_code`, and eBay names the redirect by the app's RuName (its page
//! takes no URL, and sends the browser to the URL registered for the name).
//! The `openidconnect` relying party logs in through each against its
//! strict mock, whose page calls back the provider's way.

use quirkgate_mocks::long_tail_two::{TailTwo, MOCK_EBAY_RUNAME};
use quirkgate_mocks::signed::MOCK_ALIPAY_APP_ID;

use crate::support::*;

/// Alipay: `app_id` on the page, `auth_code` on the callback, one signed
/// gateway for the token and the user (`alipay-userinfo`, answered flat).
pub(crate) const ALIPAY: Provider = Provider {
    name: "alipay",
    kind: ProviderKind::Alipay,
    token_preset: "alipay",
    token_path: "/gateway.do",
    userinfo_preset: "alipay-userinfo",
    userinfo_path: "/gateway.do",
    authorize_path: "/oauth2/publicAppAuthorize.htm",
    sub: "2088102150477652",
    name_claim: "Mock User",
    client_id_param: "app_id",
    scope: "auth_user",
    fragment: None,
};

/// eBay: Basic credentials at the token endpoint, the RuName as `redirect_uri` on both legs.
pub(crate) const EBAY: Provider = Provider {
    name: "ebay",
    kind: ProviderKind::TailTwo(TailTwo::Ebay),
    token_preset: "ebay",
    token_path: "/identity/v1/oauth2/token",
    userinfo_preset: "ebay-userinfo",
    userinfo_path: "/commerce/identity/v1/user/",
    authorize_path: "/oauth2/authorize",
    sub: "1Lr7iuH",
    name_claim: "testuser_mock",
    client_id_param: "client_id",
    scope: "https://api.ebay.com/oauth/api_scope/commerce.identity.readonly",
    fragment: None,
};

fn mock_key(name: &str) -> String {
    format!(
        "{}/crates/quirkgate-mocks/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// What the Alipay presets read: the app's key, Alipay's public key, the app id.
fn alipay_env() -> [(&'static str, String); 3] {
    [
        ("ALIPAY_APP_KEY_FILE", mock_key("app_private.pem")),
        ("ALIPAY_PUBLIC_KEY_FILE", mock_key("alipay_public.pem")),
        ("ALIPAY_APP_ID", MOCK_ALIPAY_APP_ID.to_owned()),
    ]
}

/// A bridge in front of the Alipay mock, for brokers holding the Alipay app id.
async fn alipay_bridge() -> (MockProvider, Gateway, tempfile::TempDir) {
    let mock = mock(ALIPAY.kind).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "k.pem", "ES256");
    let env = alipay_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gateway = bridge(&ALIPAY, &mock, &key, MOCK_ALIPAY_APP_ID, &env);
    (mock, gateway, dir)
}

/// A bridge in front of `provider`'s mock for brokers holding `client_id`.
fn bridge(
    provider: &Provider,
    mock: &MockProvider,
    key: &std::path::Path,
    client_id: &str,
    env: &[(&str, &str)],
) -> Gateway {
    let (routes, block) = bridge_config(provider, mock, &[("k1", key, "ES256")]);
    let block = block.replace(
        &format!("client_ids: [{CLIENT_ID}]"),
        &format!("client_ids: [\"{client_id}\"]"),
    );
    Gateway::start_with_env(&routes, &block, "info", env)
}

/// Logs in through `gateway` as a broker holding `client_id`, the page told
/// `provider_redirect`; checks the ID token and `/userinfo`.
async fn logs_in(
    provider: &Provider,
    mock: &MockProvider,
    gateway: &Gateway,
    client_id: &str,
    provider_redirect: &str,
) {
    let client = discover_as(&issuer(gateway, provider), client_id, CLIENT_SECRET).await;
    let login = login_as(
        &client,
        gateway,
        provider,
        mock.addr,
        client_id,
        provider_redirect,
    )
    .await;
    let claims = verified_claims(&client, &login);
    assert_eq!(claims["iss"], issuer(gateway, provider));
    assert_eq!(claims["sub"], provider.sub, "{}", provider.name);
    assert_eq!(claims["name"], provider.name_claim, "{}", provider.name);
    let user = user_info(&client, &login, gateway).await;
    assert_eq!(user["sub"], provider.sub, "{}", provider.name);
    all_taken_by_the_strict_mock(mock, provider);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relying_party_logs_in_through_alipay_whose_page_calls_back_with_auth_code() {
    let (mock, gateway, _dir) = alipay_bridge().await;
    let callback = format!("{}/callback", issuer(&gateway, &ALIPAY));
    logs_in(&ALIPAY, &mock, &gateway, MOCK_ALIPAY_APP_ID, &callback).await;

    // The code went to Alipay's token method once, signed, under `code`;
    // the user was read once with the token Alipay issued for it.
    let seen = mock.requests();
    let calls = |method: &str| -> Vec<&SeenRequest> {
        seen.iter()
            .filter(|r| r.body_param("method") == Some(method))
            .collect()
    };
    let token_calls = calls("alipay.system.oauth.token");
    assert_eq!(token_calls.len(), 1, "{seen:?}");
    assert_eq!(token_calls[0].body_param("code"), Some("mockcode-1"));
    assert_eq!(
        token_calls[0].body_param("app_id"),
        Some(MOCK_ALIPAY_APP_ID)
    );
    let user_calls = calls("alipay.user.info.share");
    assert_eq!(user_calls.len(), 2, "the ID token's user, then /userinfo's");
    assert!(user_calls
        .iter()
        .all(|r| r.body_param("auth_token") == Some("ali.mockcode-1")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alipay_callback_that_names_the_code_code_is_not_taken_as_a_grant() {
    // Alipay never sends `code`: a callback carrying one and no `auth_code`
    // is a login the provider did not grant, so the broker hears access_denied.
    let (mock, gateway, _dir) = alipay_bridge().await;
    let http = http_client();
    let authorize = format!(
        "{}/authorize?response_type=code&client_id={MOCK_ALIPAY_APP_ID}&redirect_uri={}&scope=openid&state=st-1",
        issuer(&gateway, &ALIPAY),
        BROKER_CALLBACK
    );
    let to_provider = location(&http.get(&authorize).send().await.unwrap());
    let state = get_param(&query_of(&to_provider), "state").unwrap();
    let callback = format!("{}/callback", issuer(&gateway, &ALIPAY));
    let with = |query: String| {
        let http = http.clone();
        async move {
            let response = http.get(query).send().await.unwrap();
            query_of(&location(&response))
        }
    };
    let state_param = serde_urlencoded::to_string([("state", &state)]).unwrap();
    let declined = with(format!("{callback}?code=mockcode-1&{state_param}")).await;
    assert_eq!(
        get_param(&declined, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(get_param(&declined, "code"), None);
    assert_eq!(get_param(&declined, "state").as_deref(), Some("st-1"));
    // The same state with `auth_code` is a grant: the broker gets a sealed code.
    let granted = with(format!("{callback}?auth_code=mockcode-1&{state_param}")).await;
    assert!(get_param(&granted, "code").is_some(), "{granted:?}");
    assert!(mock.requests().iter().all(|r| r.path != ALIPAY.token_path));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relying_party_logs_in_through_ebay_whose_page_takes_the_runame() {
    let mock = mock(EBAY.kind).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "k.pem", "ES256");
    let gateway = bridge(
        &EBAY,
        &mock,
        &key,
        CLIENT_ID,
        &[("EBAY_RUNAME", MOCK_EBAY_RUNAME)],
    );
    // The operator registers the bridge's callback as the RuName's accepted URL.
    let callback = format!("{}/callback", issuer(&gateway, &EBAY));
    mock.redirect_names.register(MOCK_EBAY_RUNAME, &callback);
    logs_in(&EBAY, &mock, &gateway, CLIENT_ID, MOCK_EBAY_RUNAME).await;

    // The token call named the redirect by the RuName too (the mock refuses a URL).
    let seen = mock.requests();
    let token_calls: Vec<_> = seen.iter().filter(|r| r.path == EBAY.token_path).collect();
    assert_eq!(token_calls.len(), 1, "{seen:?}");
    assert_eq!(
        token_calls[0].body_param("redirect_uri"),
        Some(MOCK_EBAY_RUNAME)
    );
    assert!(seen
        .iter()
        .all(|r| r.query_param("redirect_uri") != Some(&callback)));
}

#[test]
fn an_ebay_bridge_without_its_runame_is_refused_at_load_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "k.pem", "ES256");
    let config = format!(
        "listen: \"127.0.0.1:0\"\nroutes:\n{}oidc:\n  - issuer: \"https://gw.example/oidc/ebay\"\n    token_route: /token/ebay\n    signing_keys: [{{ kid: k1, key_file: \"{}\", algorithm: ES256 }}]\n    seal_keys: [\"{SEAL_KEY}\"]\n    redirect_uris: [\"{BROKER_CALLBACK}\"]\n",
        route("/token/ebay", "ebay", "https://api.ebay.com/identity/v1/oauth2/token", ""),
        key.display()
    );
    let path = dir.path().join("ebay.yaml");
    std::fs::write(&path, config).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quirkgate"))
        .args(["--test", "--config"])
        .arg(&path)
        .env_remove("EBAY_RUNAME")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("EBAY_RUNAME"), "{stderr}");
}
