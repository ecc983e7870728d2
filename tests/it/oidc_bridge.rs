//! The OpenID Connect bridge, driven by a real relying-party library (the
//! `openidconnect` crate, as a broker would use one) with no browser:
//! discovery → `/authorize` → 302 to the mock provider's authorize page → its
//! redirect with a code → `/callback` → the RP's redirect URI → `/token`
//! (signature checked against the JWKS, plus `iss`, `aud`, `exp`, `nonce`
//! and `at_hash`) → `/userinfo`. For TikTok, WeChat and GitHub, each a single
//! `mock-provider` serving its authorize page, token and user endpoints.

use std::path::{Path, PathBuf};
use std::time::Duration;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    RedirectUrl, Scope, TokenResponse,
};
use quirkgate_mocks::provider::{MockProvider, ProviderKind};

use crate::support::*;

const BROKER_CALLBACK: &str = "https://broker.example/oauth2/callback";
const CLIENT_ID: &str = "ck_bridge_1";
pub(crate) const CLIENT_SECRET: &str = "cs-BRIDGE-SECRET-7a6b5c";
pub(crate) const SEAL_KEY: &str = "q3J9c0ZkTWFhUmtWbG5YcHNlYWxrZXlfdGVzdF8xMjM";

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A signing key file: ES256 (P-256, PKCS#8) or RS256 (2048-bit RSA, PKCS#8).
pub(crate) fn key_file(dir: &Path, name: &str, algorithm: &str) -> PathBuf {
    let pem = match algorithm {
        "ES256" => rcgen::KeyPair::generate().unwrap().serialize_pem(),
        "RS256" => {
            use rsa::pkcs8::EncodePrivateKey;
            let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
            key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
                .unwrap()
                .to_string()
        }
        other => panic!("{other}"),
    };
    let path = dir.join(name);
    std::fs::write(&path, pem).unwrap();
    path
}

/// A provider behind the bridge: its presets, the mock's paths and what it says of the user.
pub(crate) struct Provider {
    name: &'static str,
    kind: ProviderKind,
    token_preset: &'static str,
    token_path: &'static str,
    userinfo_preset: &'static str,
    userinfo_path: &'static str,
    authorize_path: &'static str,
    sub: &'static str,
    name_claim: &'static str,
}

const TIKTOK: Provider = Provider {
    name: "tiktok",
    kind: ProviderKind::TikTok,
    token_preset: "tiktok",
    token_path: "/v2/oauth/token/",
    userinfo_preset: "tiktok-userinfo",
    userinfo_path: "/v2/user/info/",
    authorize_path: "/v2/auth/authorize/",
    sub: "union-1",
    name_claim: "Mock User",
};

pub(crate) const WECHAT: Provider = Provider {
    name: "wechat",
    kind: ProviderKind::WeChat,
    token_preset: "wechat",
    token_path: "/sns/oauth2/access_token",
    userinfo_preset: "wechat-userinfo",
    userinfo_path: "/sns/userinfo",
    authorize_path: "/connect/qrconnect",
    sub: "union-1",
    name_claim: "Mock Weixin",
};

const GITHUB: Provider = Provider {
    name: "github",
    kind: ProviderKind::GitHub,
    token_preset: "github",
    token_path: "/login/oauth/access_token",
    userinfo_preset: "github-userinfo",
    userinfo_path: "/user",
    authorize_path: "/login/oauth/authorize",
    sub: "583231",
    name_claim: "The Octocat",
};

/// The routes and the `oidc:` block of a bridge in front of `mock`.
pub(crate) fn bridge_config(
    provider: &Provider,
    mock: &MockProvider,
    keys: &[(&str, &Path, &str)],
) -> (String, String) {
    let base = format!("http://{}", mock.addr);
    let routes = format!(
        "{}{}",
        route(
            &format!("/token/{}", provider.name),
            provider.token_preset,
            &format!("{base}{}", provider.token_path),
            ""
        ),
        route(
            &format!("/userinfo/{}", provider.name),
            provider.userinfo_preset,
            &format!("{base}{}", provider.userinfo_path),
            ""
        )
    );
    (routes, oidc_block(provider, mock, keys))
}

fn oidc_block(provider: &Provider, mock: &MockProvider, keys: &[(&str, &Path, &str)]) -> String {
    let keys: String = keys
        .iter()
        .map(|(kid, path, algorithm)| {
            format!(
                "      - {{ kid: {kid}, key_file: \"{}\", algorithm: {algorithm} }}\n",
                path.display()
            )
        })
        .collect();
    format!(
        "oidc:\n  - issuer: \"http://127.0.0.1:{{{{gateway_port}}}}/oidc/{name}\"\n    token_route: /token/{name}\n    userinfo_route: /userinfo/{name}\n    authorize_url: \"http://{addr}{authorize}\"\n    signing_keys:\n{keys}    seal_keys: [\"{SEAL_KEY}\"]\n    redirect_uris: [\"{BROKER_CALLBACK}\"]\n    client_ids: [{CLIENT_ID}]\n",
        name = provider.name,
        addr = mock.addr,
        authorize = provider.authorize_path,
    )
}

pub(crate) fn issuer(gateway: &Gateway, provider: &Provider) -> String {
    gateway.url(&format!("/oidc/{}", provider.name))
}

pub(crate) fn rp_http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The relying party, from the bridge's discovery document and JWKS.
pub(crate) async fn discover(issuer: &str) -> Client {
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(issuer.to_owned()).unwrap(),
        &rp_http(),
    )
    .await
    .unwrap_or_else(|e| panic!("discovery of {issuer}: {e:?}"));
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(CLIENT_ID.to_owned()),
        Some(ClientSecret::new(CLIENT_SECRET.to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(BROKER_CALLBACK.to_owned()).unwrap())
}

fn location(response: &reqwest::Response) -> String {
    assert_eq!(response.status().as_u16(), 302, "{response:?}");
    response.headers()["location"].to_str().unwrap().to_owned()
}

fn query_of(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap();
    serde_urlencoded::from_str(query).unwrap()
}

fn get_param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

/// What one login gave the relying party.
pub(crate) struct Login {
    pub(crate) tokens: openidconnect::core::CoreTokenResponse,
    pub(crate) nonce: Nonce,
}

/// One login as a browser and a broker would run it; checks each redirect on the way.
pub(crate) async fn login(
    client: &Client,
    gateway: &Gateway,
    provider: &Provider,
    mock: &MockProvider,
) -> Login {
    let http = http_client();
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    assert!(authorize_url
        .as_str()
        .starts_with(&issuer(gateway, provider)));

    // The bridge sends the browser to the provider's own authorize page, its way.
    let to_provider = location(&http.get(authorize_url.as_str()).send().await.unwrap());
    assert!(
        to_provider.starts_with(&format!("http://{}{}?", mock.addr, provider.authorize_path)),
        "{to_provider}"
    );
    let provider_params = query_of(&to_provider);
    let callback = format!("{}/callback", issuer(gateway, provider));
    assert_eq!(
        get_param(&provider_params, "redirect_uri").as_deref(),
        Some(callback.as_str())
    );
    let sealed_state = get_param(&provider_params, "state").unwrap();
    assert!(!sealed_state.contains(csrf.secret()) && !sealed_state.contains(nonce.secret()));
    match provider.name {
        "tiktok" => {
            assert_eq!(
                get_param(&provider_params, "client_key").as_deref(),
                Some(CLIENT_ID)
            );
            assert_eq!(get_param(&provider_params, "client_id"), None);
            assert_eq!(
                get_param(&provider_params, "scope").as_deref(),
                Some("user.info.basic,user.info.profile")
            );
        }
        "wechat" => {
            assert_eq!(
                get_param(&provider_params, "appid").as_deref(),
                Some(CLIENT_ID)
            );
            assert_eq!(
                get_param(&provider_params, "scope").as_deref(),
                Some("snsapi_login")
            );
            assert!(to_provider.ends_with("#wechat_redirect"), "{to_provider}");
        }
        _ => {
            assert_eq!(
                get_param(&provider_params, "client_id").as_deref(),
                Some(CLIENT_ID)
            );
            assert_eq!(
                get_param(&provider_params, "scope").as_deref(),
                Some("read:user user:email")
            );
        }
    }

    // The provider's page sends the browser back to the bridge's callback with a code…
    let to_callback = location(&http.get(&to_provider).send().await.unwrap());
    assert!(to_callback.starts_with(&callback), "{to_callback}");
    // …and the bridge sends it on to the broker, with the broker's own state.
    let to_broker = location(&http.get(&to_callback).send().await.unwrap());
    assert!(
        to_broker.starts_with(&format!("{BROKER_CALLBACK}?")),
        "{to_broker}"
    );
    let broker_params = query_of(&to_broker);
    assert_eq!(
        get_param(&broker_params, "state").as_deref(),
        Some(csrf.secret().as_str())
    );
    assert_eq!(
        get_param(&broker_params, "iss").as_deref(),
        Some(issuer(gateway, provider).as_str())
    );
    let code = get_param(&broker_params, "code").unwrap();
    assert_ne!(
        code, "mockcode-1",
        "the broker gets a sealed code, not the provider's"
    );

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&rp_http())
        .await
        .unwrap_or_else(|e| panic!("token exchange: {e:?}\n{}", gateway.log()));
    Login { tokens, nonce }
}

/// The checks a relying party makes on the ID token; its claims as JSON.
pub(crate) fn verified_claims(client: &Client, login: &Login) -> serde_json::Value {
    let id_token = login.tokens.id_token().expect("an id_token");
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &login.nonce)
        .unwrap_or_else(|e| panic!("ID token refused: {e:?}"));
    let expected_hash = claims.access_token_hash().expect("at_hash");
    let actual = AccessTokenHash::from_token(
        login.tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(&actual, expected_hash);
    serde_json::to_value(claims).unwrap()
}

async fn run_provider(provider: &Provider, algorithm: &str) {
    let mock = mock(provider.kind).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "signing.pem", algorithm);
    let (routes, oidc) = bridge_config(provider, &mock, &[("k1", &key, algorithm)]);
    let gateway = Gateway::start_with(&routes, &oidc, "info");
    let client = discover(&issuer(&gateway, provider)).await;
    let login = login(&client, &gateway, provider, &mock).await;
    let claims = verified_claims(&client, &login);
    assert_eq!(claims["iss"], issuer(&gateway, provider));
    assert!(
        claims["aud"] == CLIENT_ID || claims["aud"] == serde_json::json!([CLIENT_ID]),
        "{claims}"
    );
    assert_eq!(claims["sub"], provider.sub);
    assert_eq!(claims["name"], provider.name_claim);
    assert!(claims["picture"].as_str().unwrap().starts_with("https://"));
    let (iat, exp) = (
        claims["iat"].as_f64().unwrap(),
        claims["exp"].as_f64().unwrap(),
    );
    assert_eq!(exp - iat, 3600.0, "the default ID token lifetime");
    assert!(claims["auth_time"].as_f64().unwrap() <= iat);
    if provider.name == "github" {
        assert_eq!(claims["email"], "octocat@example.com");
        assert_eq!(claims["preferred_username"], "octocat");
    }

    // The provider saw its own names, the bridge's callback, and the code once.
    let token_calls: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|r| r.path == provider.token_path)
        .collect();
    assert_eq!(token_calls.len(), 1);
    let call = &token_calls[0];
    let sent = |name: &str| {
        call.body_param(name)
            .or_else(|| call.query_param(name))
            .map(str::to_owned)
    };
    assert_eq!(sent("code").as_deref(), Some("mockcode-1"));
    // WeChat's token call takes no redirect_uri (its preset leaves it out).
    let expected_redirect =
        (provider.name != "wechat").then(|| format!("{}/callback", issuer(&gateway, provider)));
    assert_eq!(sent("redirect_uri"), expected_redirect);
    assert_eq!(
        sent("code_verifier"),
        None,
        "PKCE is checked by the bridge, not forwarded"
    );

    // /userinfo answers the same subject (the library checks it against the ID token's).
    let subject = login
        .tokens
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), &login.nonce)
        .unwrap()
        .subject()
        .clone();
    let user: CoreUserInfoClaims = client
        .user_info(login.tokens.access_token().clone(), Some(subject))
        .unwrap()
        .request_async(&rp_http())
        .await
        .unwrap_or_else(|e| panic!("userinfo: {e:?}\n{}", gateway.log()));
    let user = serde_json::to_value(user).unwrap();
    assert_eq!(user["sub"], provider.sub);
    assert_eq!(user["name"], provider.name_claim);

    // Each endpoint is counted under its own path, like a route (counted
    // once the answer is written, so give the last one a moment).
    let metrics = gateway.metrics().await;
    let metrics = if metrics.contains("route=\"/oidc/") && metrics.contains("/userinfo\"") {
        metrics
    } else {
        tokio::time::sleep(Duration::from_millis(500)).await;
        gateway.metrics().await
    };
    for (endpoint, method, status) in [
        ("/.well-known/openid-configuration", "GET", "200"),
        ("/authorize", "GET", "3xx"),
        ("/callback", "GET", "3xx"),
        ("/token", "POST", "200"),
        ("/userinfo", "GET", "200"),
    ] {
        let path = format!("/oidc/{}{endpoint}", provider.name);
        let counted = metric_series(
            &metrics,
            "quirkgate_requests_total",
            &[("route", &path), ("method", method)],
        );
        assert!(
            counted.is_some_and(|n| n >= 1.0),
            "{path} {method} {status}:\n{metrics}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oidc_relying_party_logs_in_through_tiktok() {
    run_provider(&TIKTOK, "ES256").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oidc_relying_party_logs_in_through_wechat() {
    run_provider(&WECHAT, "ES256").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oidc_relying_party_logs_in_through_github_with_an_rs256_key() {
    run_provider(&GITHUB, "RS256").await;
}

/// Replaces the `oidc:` block of the gateway's file and reloads it with SIGHUP.
async fn rotate(gateway: &Gateway, oidc: &str, reloads: f64) {
    let text = std::fs::read_to_string(&gateway.config_path).unwrap();
    let (head, routes) = text.split_once("\noidc:\n").unwrap();
    let routes = &routes[routes.find("\nroutes:\n").unwrap()..];
    let oidc = oidc.replace("{{gateway_port}}", &gateway.port.to_string());
    std::fs::write(&gateway.config_path, format!("{head}\n{oidc}{routes}")).unwrap();
    gateway.signal("HUP");
    gateway
        .wait_for_metric(
            "quirkgate_config_reloads_total",
            &[("result", "ok")],
            reloads,
        )
        .await;
}

fn kids(jwks: &serde_json::Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_on_sighup_and_old_tokens_validate_while_their_key_is_published() {
    let mock = mock(ProviderKind::TikTok).await;
    let dir = tempfile::tempdir().unwrap();
    let old_key = key_file(dir.path(), "old.pem", "ES256");
    let new_key = key_file(dir.path(), "new.pem", "RS256");
    let (routes, oidc) = bridge_config(&TIKTOK, &mock, &[("old", &old_key, "ES256")]);
    let gateway = Gateway::start_with(&routes, &oidc, "info");
    let issuer = issuer(&gateway, &TIKTOK);
    let jwks_url = format!("{issuer}/jwks");
    let client = discover(&issuer).await;
    let before = login(&client, &gateway, &TIKTOK, &mock).await;
    verified_claims(&client, &before);
    assert_eq!(
        before
            .tokens
            .id_token()
            .unwrap()
            .to_string()
            .split('.')
            .count(),
        3
    );

    // Step 1: the new key signs, the old one stays published.
    rotate(
        &gateway,
        &oidc_block(
            &TIKTOK,
            &mock,
            &[("new", &new_key, "RS256"), ("old", &old_key, "ES256")],
        ),
        1.0,
    )
    .await;
    let response = http_client().get(&jwks_url).send().await.unwrap();
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let jwks: serde_json::Value = response.json().await.unwrap();
    assert_eq!(kids(&jwks), ["new", "old"]);
    let refreshed = discover(&issuer).await;
    verified_claims(&refreshed, &before);
    let after = login(&refreshed, &gateway, &TIKTOK, &mock).await;
    verified_claims(&refreshed, &after);
    let header = |token: &CoreIdToken| {
        let text = token.to_string();
        let head = text.split('.').next().unwrap().to_owned();
        serde_json::from_slice::<serde_json::Value>(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, head)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(header(after.tokens.id_token().unwrap())["kid"], "new");
    assert_eq!(header(after.tokens.id_token().unwrap())["alg"], "RS256");
    assert_eq!(header(before.tokens.id_token().unwrap())["kid"], "old");

    // Step 2: the old key is withdrawn; tokens it signed no longer validate.
    rotate(
        &gateway,
        &oidc_block(&TIKTOK, &mock, &[("new", &new_key, "RS256")]),
        2.0,
    )
    .await;
    let retired = discover(&issuer).await;
    assert!(before
        .tokens
        .id_token()
        .unwrap()
        .claims(&retired.id_token_verifier(), &before.nonce)
        .is_err());
    verified_claims(&retired, &after);

    // A reload with a key file that is not there is refused; the running keys stay.
    let missing = dir.path().join("missing.pem");
    let text = std::fs::read_to_string(&gateway.config_path).unwrap();
    std::fs::write(
        &gateway.config_path,
        text.replace(
            &new_key.display().to_string(),
            &missing.display().to_string(),
        ),
    )
    .unwrap();
    gateway.signal("HUP");
    gateway
        .wait_for_metric(
            "quirkgate_config_reloads_total",
            &[("result", "error")],
            1.0,
        )
        .await;
    let jwks: serde_json::Value = http_client()
        .get(&jwks_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kids(&jwks), ["new"]);
}

/// A started bridge in front of TikTok, for the refusal tests.
async fn tiktok_bridge() -> (MockProvider, Gateway, tempfile::TempDir) {
    let mock = mock(ProviderKind::TikTok).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "k.pem", "ES256");
    let (routes, oidc) = bridge_config(&TIKTOK, &mock, &[("k1", &key, "ES256")]);
    let gateway = Gateway::start_with(&routes, &oidc, "debug");
    (mock, gateway, dir)
}

fn authorize_query(redirect_uri: &str, extra: &str) -> String {
    format!(
        "client_id={CLIENT_ID}&redirect_uri={}&response_type=code&scope=openid&state=st-1&nonce=nc-1{extra}",
        serde_urlencoded::to_string([("", redirect_uri)]).unwrap()[1..].to_owned()
    )
}

async fn json_of(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_open_redirect_and_no_provider_call_for_a_bad_authorize_request() {
    let (mock, gateway, _dir) = tiktok_bridge().await;
    let http = http_client();
    let authorize = gateway.url("/oidc/tiktok/authorize");
    for (query, reason) in [
        (
            authorize_query("https://evil.example/cb", ""),
            "redirect_uri",
        ),
        (
            authorize_query(&format!("{BROKER_CALLBACK}/../x"), ""),
            "redirect_uri",
        ),
        (
            authorize_query(BROKER_CALLBACK, "").replace(CLIENT_ID, "someone-else"),
            "client_not_allowed",
        ),
        (
            format!(
                "{}&redirect_uri=https%3A%2F%2Fevil.example%2F",
                authorize_query(BROKER_CALLBACK, "")
            ),
            "conflict",
        ),
    ] {
        let response = http
            .get(format!("{authorize}?{query}"))
            .send()
            .await
            .unwrap();
        assert!(response.headers().get("location").is_none(), "{query}");
        let (status, body) = json_of(response).await;
        assert_eq!(status, 400, "{query}");
        assert!(body["error"].is_string(), "{body}");
        let refused = gateway
            .metric(
                "quirkgate_refused_total",
                &[("route", "/oidc/tiktok/authorize"), ("reason", reason)],
            )
            .await;
        assert!(refused >= 1.0, "{reason}");
    }
    // Other mistakes go back to the broker, which may show them.
    let response = http
        .get(format!(
            "{authorize}?{}",
            authorize_query(BROKER_CALLBACK, "")
                .replace("response_type=code", "response_type=token")
        ))
        .send()
        .await
        .unwrap();
    let back = location(&response);
    let params = query_of(&back);
    assert!(back.starts_with(BROKER_CALLBACK));
    assert_eq!(
        get_param(&params, "error").as_deref(),
        Some("unsupported_response_type")
    );
    assert_eq!(get_param(&params, "state").as_deref(), Some("st-1"));
    assert!(mock.requests().is_empty(), "nothing reached the provider");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_expired_or_misused_seals_are_refused_and_never_reach_the_provider() {
    let (mock, gateway, _dir) = tiktok_bridge().await;
    let http = http_client();
    // A real login up to the broker's code.
    let to_provider = location(
        &http
            .get(format!(
                "{}?{}",
                gateway.url("/oidc/tiktok/authorize"),
                authorize_query(BROKER_CALLBACK, "")
            ))
            .send()
            .await
            .unwrap(),
    );
    let state = get_param(&query_of(&to_provider), "state").unwrap();
    let callback = gateway.url("/oidc/tiktok/callback");

    // The callback refuses a state that is altered or missing, without redirecting.
    let mut altered = state.clone().into_bytes();
    let last = altered.len() - 2;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    for query in [
        format!("code=c&state={}", String::from_utf8(altered).unwrap()),
        "code=c".to_owned(),
        "code=c&state=".to_owned(),
        format!("code=c&state={}", "A".repeat(20_000)),
    ] {
        let response = http
            .get(format!("{callback}?{query}"))
            .send()
            .await
            .unwrap();
        assert!(response.headers().get("location").is_none());
        let (status, body) = json_of(response).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_request")),
            "{query}"
        );
    }
    // A user who declines: the broker hears access_denied with its state.
    let declined = location(
        &http
            .get(format!("{callback}?error=access_denied&state={state}"))
            .send()
            .await
            .unwrap(),
    );
    assert_eq!(
        get_param(&query_of(&declined), "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        get_param(&query_of(&declined), "state").as_deref(),
        Some("st-1")
    );

    let to_broker = location(
        &http
            .get(format!("{callback}?code=mockcode-1&state={state}"))
            .send()
            .await
            .unwrap(),
    );
    let code = get_param(&query_of(&to_broker), "code").unwrap();
    // The sealed provider state is not a code, and the code is not a state.
    let token = gateway.url("/oidc/tiktok/token");
    let exchange = |code: String, redirect: &str, client_id: &str| {
        let form = serde_urlencoded::to_string([
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("client_id", client_id),
            ("client_secret", CLIENT_SECRET),
        ])
        .unwrap();
        http.post(&token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
    };
    for (code, redirect, client_id, why) in [
        (
            state.clone(),
            BROKER_CALLBACK,
            CLIENT_ID,
            "a state as a code",
        ),
        (
            format!("{code}x"),
            BROKER_CALLBACK,
            CLIENT_ID,
            "an altered code",
        ),
        (
            code.clone(),
            "https://evil.example/cb",
            CLIENT_ID,
            "another redirect_uri",
        ),
        (code.clone(), BROKER_CALLBACK, "ck_other", "another client"),
    ] {
        let (status, body) = json_of(exchange(code, redirect, client_id).await.unwrap()).await;
        assert!(status == 400 || status == 401, "{why}: {status} {body}");
        assert!(
            matches!(
                body["error"].as_str(),
                Some("invalid_grant" | "invalid_client")
            ),
            "{why}: {body}"
        );
    }
    // PKCE-less login redeemed without a verifier works once the checks pass.
    let (status, body) = json_of(
        exchange(code.clone(), BROKER_CALLBACK, CLIENT_ID)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string());
    // A replay of the same code is refused here, before it can reach the provider.
    let (status, body) = json_of(
        exchange(code.clone(), BROKER_CALLBACK, CLIENT_ID)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let token_calls = mock
        .requests()
        .iter()
        .filter(|r| r.path == TIKTOK.token_path)
        .count();
    assert_eq!(
        token_calls, 1,
        "only the first valid exchange reached the provider"
    );

    // Unsupported grants and methods, in the RFC 6749 shape.
    let form = "grant_type=password&username=u&password=p&client_id=ck_bridge_1";
    let (status, body) = json_of(
        http.post(&token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let response = http.get(&token).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "POST");

    // An access token the provider refuses: 401 with a Bearer challenge (RFC 6750 §3).
    let response = http
        .get(gateway.url("/oidc/tiktok/userinfo"))
        .bearer_auth("bogus")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer error=\"invalid_token\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_info_failure_issues_no_id_token_and_userinfo_wants_a_bearer() {
    // A TikTok whose user endpoint refuses every token: the token leg reaches it,
    // then the bridge answers an error instead of an ID token.
    let mock = mock(ProviderKind::TikTok).await;
    let refusing = self::mock(ProviderKind::Slack).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "k.pem", "ES256");
    let (routes, oidc) = bridge_config(&TIKTOK, &mock, &[("k1", &key, "ES256")]);
    let routes = routes.replace(
        &format!("http://{}{}", mock.addr, TIKTOK.userinfo_path),
        &format!("http://{}/v2/user/info/", refusing.addr),
    );
    let gateway = Gateway::start_with(&routes, &oidc, "info");
    let client = discover(&issuer(&gateway, &TIKTOK)).await;
    let (authorize_url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let http = http_client();
    let to_provider = location(&http.get(authorize_url.as_str()).send().await.unwrap());
    let to_callback = location(&http.get(&to_provider).send().await.unwrap());
    let to_broker = location(&http.get(&to_callback).send().await.unwrap());
    let code = get_param(&query_of(&to_broker), "code").unwrap();
    let error = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(&rp_http())
        .await
        .unwrap_err();
    match error {
        openidconnect::RequestTokenError::ServerResponse(response) => assert!(
            matches!(
                response.error().as_ref(),
                "server_error" | "temporarily_unavailable"
            ),
            "{response:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        mock.requests()
            .iter()
            .filter(|r| r.path == TIKTOK.token_path)
            .count(),
        1
    );

    let userinfo = gateway.url("/oidc/tiktok/userinfo");
    let response = http.get(&userinfo).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let response = http
        .get(&userinfo)
        .bearer_auth("act.x")
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(
        status, 502,
        "a provider answer without a user is a bad gateway"
    );
    assert!(body["error"].is_string(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_paths_are_served_on_a_kept_alive_connection_next_to_token_requests() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_mock, gateway, _dir) = tiktok_bridge().await;
    let mut stream = tokio::net::TcpStream::connect(gateway.addr())
        .await
        .unwrap();
    // Pipelined: a discovery request, a token request for the fast path, the JWKS.
    let requests = "GET /oidc/tiktok/.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n\r\n\
POST /token/tiktok HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\ngrant_type=\
GET /oidc/tiktok/jwks?x=%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    stream.write_all(requests.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let statuses: Vec<&str> = answer.matches("HTTP/1.1 ").map(|_| "").collect();
    assert_eq!(statuses.len(), 3, "{answer}");
    let first = answer.find("\"issuer\"").unwrap();
    let second = answer.find("invalid_client").unwrap();
    let third = answer.find("\"keys\"").unwrap();
    assert!(
        first < second && second < third,
        "answered in order:\n{answer}"
    );
}
