//! A relying party (the `openidconnect` crate, as a broker would use one)
//! logging in through the OpenID Connect bridge, with no browser; the
//! bridge's config and signing keys.

use std::path::{Path, PathBuf};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    RedirectUrl, Scope, TokenResponse,
};
use quirkgate_mocks::provider::{MockProvider, ProviderKind};

use super::*;

pub const BROKER_CALLBACK: &str = "https://broker.example/oauth2/callback";
pub const CLIENT_ID: &str = "ck_bridge_1";
pub const CLIENT_SECRET: &str = "cs-BRIDGE-SECRET-7a6b5c";
pub const SEAL_KEY: &str = "q3J9c0ZkTWFhUmtWbG5YcHNlYWxrZXlfdGVzdF8xMjM";

pub type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A signing key file: ES256 (P-256, PKCS#8) or RS256 (2048-bit RSA, PKCS#8).
pub fn key_file(dir: &Path, name: &str, algorithm: &str) -> PathBuf {
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
pub struct Provider {
    pub name: &'static str,
    pub kind: ProviderKind,
    pub token_preset: &'static str,
    pub token_path: &'static str,
    pub userinfo_preset: &'static str,
    pub userinfo_path: &'static str,
    pub authorize_path: &'static str,
    pub sub: &'static str,
    pub name_claim: &'static str,
    /// The client id's name on the provider's authorize page.
    pub client_id_param: &'static str,
    /// The provider's scope for the broker's `openid profile email`.
    pub scope: &'static str,
    /// The fragment the authorize URL ends with, if the provider needs one.
    pub fragment: Option<&'static str>,
}

pub const TIKTOK: Provider = Provider {
    name: "tiktok",
    kind: ProviderKind::TikTok,
    token_preset: "tiktok",
    token_path: "/v2/oauth/token/",
    userinfo_preset: "tiktok-userinfo",
    userinfo_path: "/v2/user/info/",
    authorize_path: "/v2/auth/authorize/",
    sub: "union-1",
    name_claim: "Mock User",
    client_id_param: "client_key",
    scope: "user.info.basic,user.info.profile",
    fragment: None,
};

pub const WECHAT: Provider = Provider {
    name: "wechat",
    kind: ProviderKind::WeChat,
    token_preset: "wechat",
    token_path: "/sns/oauth2/access_token",
    userinfo_preset: "wechat-userinfo",
    userinfo_path: "/sns/userinfo",
    authorize_path: "/connect/qrconnect",
    sub: "union-1",
    name_claim: "Mock Weixin",
    client_id_param: "appid",
    scope: "snsapi_login",
    fragment: Some("wechat_redirect"),
};

pub const GITHUB: Provider = Provider {
    name: "github",
    kind: ProviderKind::GitHub,
    token_preset: "github",
    token_path: "/login/oauth/access_token",
    userinfo_preset: "github-userinfo",
    userinfo_path: "/user",
    authorize_path: "/login/oauth/authorize",
    sub: "583231",
    name_claim: "The Octocat",
    client_id_param: "client_id",
    scope: "read:user user:email",
    fragment: None,
};

pub const DINGTALK: Provider = Provider {
    name: "dingtalk",
    kind: ProviderKind::DingTalk,
    token_preset: "dingtalk",
    token_path: "/v1.0/oauth2/userAccessToken",
    userinfo_preset: "dingtalk-userinfo",
    userinfo_path: "/v1.0/contact/users/me",
    authorize_path: "/oauth2/auth",
    sub: "ding-union-1",
    name_claim: "Mock User",
    client_id_param: "client_id",
    scope: "openid",
    fragment: None,
};

/// The routes and the `oidc:` block of a bridge in front of `mock`.
pub fn bridge_config(
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

pub fn oidc_block(
    provider: &Provider,
    mock: &MockProvider,
    keys: &[(&str, &Path, &str)],
) -> String {
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

pub fn issuer(gateway: &Gateway, provider: &Provider) -> String {
    gateway.url(&format!("/oidc/{}", provider.name))
}

pub fn rp_http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The relying party, from the bridge's discovery document and JWKS.
pub async fn discover(issuer: &str) -> Client {
    discover_as(issuer, CLIENT_ID, CLIENT_SECRET).await
}

/// [`discover`], for a broker holding the provider app's own credentials
/// (Alipay's app id, WeCom's corp id and secret).
pub async fn discover_as(issuer: &str, client_id: &str, client_secret: &str) -> Client {
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(issuer.to_owned()).unwrap(),
        &rp_http(),
    )
    .await
    .unwrap_or_else(|e| panic!("discovery of {issuer}: {e:?}"));
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.to_owned()),
        Some(ClientSecret::new(client_secret.to_owned())),
    )
    .set_redirect_uri(RedirectUrl::new(BROKER_CALLBACK.to_owned()).unwrap())
}

pub fn location(response: &reqwest::Response) -> String {
    assert_eq!(response.status().as_u16(), 302, "{response:?}");
    response.headers()["location"].to_str().unwrap().to_owned()
}

pub fn query_of(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap();
    serde_urlencoded::from_str(query).unwrap()
}

pub fn get_param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

/// Every call the mock saw was to a path it serves, and passed its strict check.
pub fn all_taken_by_the_strict_mock(mock: &MockProvider, provider: &Provider) {
    for request in mock.requests() {
        let endpoint = provider
            .kind
            .endpoints()
            .iter()
            .find(|e| e.path == request.path)
            .unwrap_or_else(|| panic!("{} is not served", request.path));
        assert_eq!(endpoint.check(&request), Ok(()), "{}", request.path);
    }
}

/// A self-submitting form page (`response_mode=form_post`): where it posts,
/// and its hidden fields, unescaped.
pub fn form_post_of(html: &str) -> (String, Vec<(String, String)>) {
    let unescape = |text: &str| {
        text.replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    };
    let attribute = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let len = tag[start..].find('"')?;
        Some(unescape(&tag[start..start + len]))
    };
    let form = html.split("<form").nth(1).expect("a form");
    let action = attribute(form, "action").expect("an action");
    let fields = form
        .split("<input")
        .skip(1)
        .map(|tag| {
            (
                attribute(tag, "name").unwrap(),
                attribute(tag, "value").unwrap(),
            )
        })
        .collect();
    (action, fields)
}

/// What one login gave the relying party.
pub struct Login {
    pub tokens: openidconnect::core::CoreTokenResponse,
    pub nonce: Nonce,
}

/// One login as a browser and a broker would run it; checks each redirect on the way.
pub async fn login(
    client: &Client,
    gateway: &Gateway,
    provider: &Provider,
    mock: &MockProvider,
) -> Login {
    let callback = format!("{}/callback", issuer(gateway, provider));
    login_as(client, gateway, provider, mock.addr, CLIENT_ID, &callback).await
}

/// [`login`], for a broker holding `client_id`, against the provider's page
/// at `provider_addr`, the page told `provider_redirect` (the bridge's
/// callback, or eBay's RuName that the page resolves to it).
pub async fn login_as(
    client: &Client,
    gateway: &Gateway,
    provider: &Provider,
    provider_addr: std::net::SocketAddr,
    client_id: &str,
    provider_redirect: &str,
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
        to_provider.starts_with(&format!(
            "http://{provider_addr}{}?",
            provider.authorize_path
        )),
        "{to_provider}"
    );
    let provider_params = query_of(&to_provider);
    let callback = format!("{}/callback", issuer(gateway, provider));
    assert_eq!(
        get_param(&provider_params, "redirect_uri").as_deref(),
        Some(provider_redirect)
    );
    let sealed_state = get_param(&provider_params, "state").unwrap();
    assert!(!sealed_state.contains(csrf.secret()) && !sealed_state.contains(nonce.secret()));
    // The provider's own names and scopes.
    assert_eq!(
        get_param(&provider_params, provider.client_id_param).as_deref(),
        Some(client_id)
    );
    if provider.client_id_param != "client_id" {
        assert_eq!(get_param(&provider_params, "client_id"), None);
    }
    assert_eq!(
        get_param(&provider_params, "scope").as_deref(),
        Some(provider.scope)
    );
    if let Some(fragment) = provider.fragment {
        assert!(
            to_provider.ends_with(&format!("#{fragment}")),
            "{to_provider}"
        );
    }

    // The provider's page sends the browser back to the bridge's callback
    // with a code (a redirect, or with `response_mode=form_post` a form the
    // browser posts)…
    let page = http.get(&to_provider).send().await.unwrap();
    let to_bridge = if page.status() == 200 {
        let (action, fields) = form_post_of(&page.text().await.unwrap());
        assert_eq!(action, callback);
        http.post(&action).form(&fields).send().await.unwrap()
    } else {
        let to_callback = location(&page);
        assert!(to_callback.starts_with(&callback), "{to_callback}");
        http.get(&to_callback).send().await.unwrap()
    };
    // …and the bridge sends it on to the broker, with the broker's own state.
    let to_broker = location(&to_bridge);
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
pub fn verified_claims(client: &Client, login: &Login) -> serde_json::Value {
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

/// The relying party's `/userinfo` call with the login's access token (the
/// library checks its `sub` against the ID token's); the claims as JSON.
pub async fn user_info(client: &Client, login: &Login, gateway: &Gateway) -> serde_json::Value {
    let subject = login
        .tokens
        .id_token()
        .expect("an id_token")
        .claims(&client.id_token_verifier(), &login.nonce)
        .unwrap()
        .subject()
        .clone();
    let user: openidconnect::core::CoreUserInfoClaims = client
        .user_info(login.tokens.access_token().clone(), Some(subject))
        .unwrap()
        .request_async(&rp_http())
        .await
        .unwrap_or_else(|e| panic!("userinfo: {e:?}\n{}", gateway.log()));
    serde_json::to_value(user).unwrap()
}
