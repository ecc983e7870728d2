//! The ID tokens Apple, LINE, Twitch and LinkedIn sign for themselves, and
//! the JWKS each publishes (Apple, Twitch and LinkedIn RS256; LINE ES256,
//! for its app SDKs: a LINE web login's ID token is HS256, keyed with the
//! channel secret the token request carries).
//! The authorize page carries what it received into its code
//! (`mockcode-1.<switch>.<nonce>`), so the token answer's ID token holds that
//! nonce and obeys the switch a test asked for with a scope
//! `mock.id_token.<switch>`: a wrong key, an unknown kid, a rotation (the
//! mock starts signing with a new key and publishes it from then on), an
//! expired token, a wrong `aud` or `iss`, or `alg: none`.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use serde_json::{json, Map, Value};

use crate::kinds::{ProviderKind, SeenRequest, TailTwo};
use crate::strict::{self, At, Body, Credentials, Endpoint, Params, Refusal};

type Answer = (u16, &'static str, String);

/// The scope prefix that flips a switch.
pub const SWITCH_SCOPE: &str = "mock.id_token.";
/// The kids the mocks sign under.
pub const CURRENT_KID: &str = "mock-current";
pub const ROTATED_KID: &str = "mock-rotated";
pub const STRAY_KID: &str = "mock-stray";

/// What the next ID token does wrong (or right).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    Valid,
    /// Signed by a key the JWKS never publishes, under the current kid.
    WrongKey,
    /// Signed under a kid the JWKS never publishes.
    UnknownKid,
    /// Signed with the rotated key, published from this token on.
    Rotated,
    Expired,
    WrongAud,
    WrongIss,
    AlgNone,
}

impl Switch {
    const NAMES: [(&'static str, Switch); 8] = [
        ("valid", Switch::Valid),
        ("wrong_key", Switch::WrongKey),
        ("unknown_kid", Switch::UnknownKid),
        ("rotated", Switch::Rotated),
        ("expired", Switch::Expired),
        ("wrong_aud", Switch::WrongAud),
        ("wrong_iss", Switch::WrongIss),
        ("alg_none", Switch::AlgNone),
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, s)| *s == self)
            .map_or("valid", |(n, _)| n)
    }

    fn named(name: &str) -> Option<Switch> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
    }
}

/// One provider that signs its own ID tokens.
pub struct IdTokenIssuer {
    pub issuer: &'static str,
    pub token_path: &'static str,
    pub jwks_path: &'static str,
    rsa: bool,
    /// Its web login's ID tokens are HS256 with the client secret (LINE).
    pub hs256_with_client_secret: bool,
    /// The user's claims in its ID token.
    claims: fn() -> Value,
}

pub const APPLE: IdTokenIssuer = IdTokenIssuer {
    issuer: "https://appleid.apple.com",
    token_path: "/auth/token",
    jwks_path: "/auth/keys",
    rsa: true,
    hs256_with_client_secret: false,
    // Apple adds email only when the email scope was granted (form_post only).
    claims: || json!({"sub": "001234.mockapple.0987", "is_private_email": false}),
};
pub const LINE: IdTokenIssuer = IdTokenIssuer {
    issuer: "https://access.line.me",
    token_path: "/oauth2/v2.1/token",
    jwks_path: "/oauth2/v2.1/certs",
    rsa: false,
    hs256_with_client_secret: true,
    claims: || json!({"sub": "U4af4980629mockline", "name": "Mock LINE User", "picture": "https://profile.line-scdn.example/mock", "email": "line@example.com", "amr": ["pwd"]}),
};
pub const TWITCH: IdTokenIssuer = IdTokenIssuer {
    issuer: "https://id.twitch.tv/oauth2",
    token_path: "/oauth2/token",
    jwks_path: "/oauth2/keys",
    rsa: true,
    hs256_with_client_secret: false,
    claims: || json!({"sub": "141981764", "preferred_username": "twitchdev", "azp": null}),
};
pub const LINKEDIN: IdTokenIssuer = IdTokenIssuer {
    issuer: "https://www.linkedin.com/oauth",
    token_path: "/oauth/v2/accessToken",
    jwks_path: "/oauth/openid/jwks",
    rsa: true,
    hs256_with_client_secret: false,
    claims: || json!({"sub": "782bbtaQ", "name": "Mock LinkedIn", "email": "li@example.com", "email_verified": true, "picture": "https://media.licdn.example/mock", "locale": "en-US"}),
};

/// The provider a mock of `kind` signs ID tokens as, if it does.
pub fn issuer_of(kind: ProviderKind) -> Option<&'static IdTokenIssuer> {
    match kind {
        ProviderKind::Apple => Some(&APPLE),
        ProviderKind::Line => Some(&LINE),
        ProviderKind::LinkedIn => Some(&LINKEDIN),
        ProviderKind::TailTwo(TailTwo::Twitch) => Some(&TWITCH),
        _ => None,
    }
}

/// The JWKS endpoint: a plain GET, nothing to authenticate.
pub const fn jwks_endpoint(path: &'static str) -> Endpoint {
    Endpoint {
        path,
        methods: &["GET"],
        body: Body::None,
        credentials: Credentials::None,
        headers: &[],
        params: Params {
            at: At::Query,
            required: &[],
            forbidden: &[],
        },
        refusal: Refusal::oauth(),
    }
}

/// The JWKS answer, when `request` is for the JWKS of a signing mock.
pub fn jwks_answer(kind: ProviderKind, request: &SeenRequest) -> Option<Answer> {
    let issuer = issuer_of(kind).filter(|i| i.jwks_path == request.path)?;
    let endpoint = jwks_endpoint(issuer.jwks_path);
    if let Err(refused) = strict::judge(std::slice::from_ref(&endpoint), request) {
        return Some(refused);
    }
    let keys = Keys::of(issuer);
    let mut published = vec![keys.current.jwk(CURRENT_KID)];
    if rotated_hosts().contains(&host(request)) {
        published.push(keys.rotated.jwk(ROTATED_KID));
    }
    Some((
        200,
        "application/json",
        json!({ "keys": published }).to_string(),
    ))
}

/// Why a signing provider's authorize page refuses `request`, if it does:
/// Apple wants `response_mode=form_post` when a `name` or `email` scope is asked.
pub fn page_refusal(kind: ProviderKind, request: &SeenRequest) -> Option<String> {
    let scope = request.query_param("scope").unwrap_or("");
    let asks_user = scope.split(' ').any(|s| s == "name" || s == "email");
    (kind == ProviderKind::Apple
        && asks_user
        && request.query_param("response_mode") != Some("form_post"))
    .then(|| "response_mode must be form_post when name or email scope is requested".to_owned())
}

/// The code the authorize page gives: what the ID token must carry ride in it.
pub fn authorize_code(request: &SeenRequest) -> String {
    let switch = request
        .query_param("scope")
        .unwrap_or("")
        .split([' ', ','])
        .find_map(|s| s.strip_prefix(SWITCH_SCOPE))
        .and_then(Switch::named);
    let nonce = request.query_param("nonce");
    // Apple puts the email in its ID token when the email scope was granted.
    let email = request
        .query_param("scope")
        .is_some_and(|scope| scope.split(' ').any(|s| s == "email"));
    if switch.is_none() && nonce.is_none() {
        return "mockcode-1".to_owned();
    }
    format!(
        "mockcode-1.{}.{}{}",
        switch.unwrap_or(Switch::Valid).name(),
        base64url(nonce.unwrap_or("").as_bytes()),
        if email { ".email" } else { "" }
    )
}

/// The email Apple's ID token carries when the email scope was granted.
pub const APPLE_EMAIL: &str = "mock.apple.user@privaterelay.appleid.com";

/// The token answer with the provider's ID token in it (authorization-code
/// grants that succeeded; anything else as it was).
pub fn with_id_token(kind: ProviderKind, request: &SeenRequest, answer: Answer) -> Answer {
    let Some(issuer) = issuer_of(kind).filter(|i| i.token_path == request.path) else {
        return answer;
    };
    let (Some("authorization_code"), Some(code), 200) = (
        request.body_param("grant_type"),
        request.body_param("code"),
        answer.0,
    ) else {
        return answer;
    };
    let Ok(Value::Object(mut tokens)) = serde_json::from_str::<Value>(&answer.2) else {
        return answer;
    };
    let client_id = request.body_param("client_id").unwrap_or("");
    let secret = request.body_param("client_secret").unwrap_or("");
    let token = id_token(issuer, code, client_id, secret, &host(request));
    tokens.insert("id_token".into(), token.into());
    (answer.0, answer.1, Value::Object(tokens).to_string())
}

fn id_token(
    issuer: &IdTokenIssuer,
    code: &str,
    client_id: &str,
    client_secret: &str,
    host: &str,
) -> String {
    let mut parts = code.splitn(4, '.').skip(1);
    let switch = parts
        .next()
        .and_then(Switch::named)
        .unwrap_or(Switch::Valid);
    let nonce = parts
        .next()
        .and_then(|n| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(n)
                .ok()
        })
        .and_then(|n| String::from_utf8(n).ok())
        .filter(|n| !n.is_empty());
    let email_granted = parts.next() == Some("email");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let Value::Object(mut claims) = (issuer.claims)() else {
        unreachable!("claims are an object")
    };
    claims.retain(|_, v| !v.is_null());
    let mut set = |name: &str, value: Value| claims.insert(name.into(), value);
    set("iss", issuer.issuer.into());
    set("aud", client_id.into());
    set("iat", now.into());
    set("exp", (now + 600).into());
    if let Some(nonce) = nonce {
        set("nonce", nonce.into());
    }
    if email_granted && issuer.issuer == APPLE.issuer {
        set("email", APPLE_EMAIL.into());
        set("email_verified", true.into());
    }
    match switch {
        Switch::Expired => set("exp", (now - 3600).into()),
        Switch::WrongAud => set("aud", "someone-elses-client".into()),
        Switch::WrongIss => set("iss", "https://impostor.example".into()),
        _ => None,
    };
    if issuer.hs256_with_client_secret {
        // A wrong key is another secret; there is no kid to rotate or miss.
        let secret = match switch {
            Switch::WrongKey | Switch::UnknownKid => format!("{client_secret}-not"),
            _ => client_secret.to_owned(),
        };
        return match switch {
            Switch::AlgNone => sign(None, None, &claims),
            _ => sign(Some(&MockKey::Hmac(secret.into_bytes())), None, &claims),
        };
    }
    let keys = Keys::of(issuer);
    let (key, kid) = match switch {
        Switch::WrongKey => (&keys.stray, CURRENT_KID),
        Switch::UnknownKid => (&keys.stray, STRAY_KID),
        Switch::Rotated => {
            rotated_hosts().insert(host.to_owned());
            (&keys.rotated, ROTATED_KID)
        }
        _ => (&keys.current, CURRENT_KID),
    };
    if switch == Switch::AlgNone {
        return sign(None, Some(kid), &claims);
    }
    sign(Some(key), Some(kid), &claims)
}

fn sign(key: Option<&MockKey>, kid: Option<&str>, claims: &Map<String, Value>) -> String {
    let alg = key.map_or("none", MockKey::alg);
    let header = match kid {
        Some(kid) => json!({"alg": alg, "kid": kid, "typ": "JWT"}),
        None => json!({"alg": alg, "typ": "JWT"}),
    };
    let input = format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(Value::Object(claims.clone()).to_string().as_bytes())
    );
    let signature = key.map_or_else(Vec::new, |k| k.sign(input.as_bytes()));
    format!("{input}.{}", base64url(&signature))
}

fn base64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn host(request: &SeenRequest) -> String {
    request.header("host").unwrap_or("").to_owned()
}

/// The mocks (by `Host`) that have rotated to the new key.
fn rotated_hosts() -> std::sync::MutexGuard<'static, HashSet<String>> {
    static ROTATED: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Default::default);
    ROTATED.lock().unwrap_or_else(|e| e.into_inner())
}

enum MockKey {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    /// An HMAC secret (HS256).
    Hmac(Vec<u8>),
}

impl MockKey {
    fn alg(&self) -> &'static str {
        match self {
            MockKey::Rsa(_) => "RS256",
            MockKey::Ec(_) => "ES256",
            MockKey::Hmac(_) => "HS256",
        }
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            MockKey::Rsa(key) => {
                let mut out = vec![0; key.public().modulus_len()];
                key.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut out)
                    .expect("the mock's RSA key signs");
                out
            }
            MockKey::Ec(key) => key
                .sign(&rng, message)
                .expect("the mock's key signs")
                .as_ref()
                .to_vec(),
            MockKey::Hmac(secret) => {
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
                ring::hmac::sign(&key, message).as_ref().to_vec()
            }
        }
    }

    fn jwk(&self, kid: &str) -> Value {
        match self {
            MockKey::Rsa(key) => {
                let public = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(key.public());
                json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": base64url(&public.n), "e": base64url(&public.e)})
            }
            MockKey::Ec(key) => {
                let point = key.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid, "x": base64url(&point[1..33]), "y": base64url(&point[33..65])})
            }
            MockKey::Hmac(_) => unreachable!("a secret is never published"),
        }
    }
}

/// A provider's three keys: published, published after rotation, never published.
struct Keys {
    current: MockKey,
    rotated: MockKey,
    stray: MockKey,
}

impl Keys {
    fn of(issuer: &IdTokenIssuer) -> &'static Keys {
        static RSA: LazyLock<Keys> = LazyLock::new(|| {
            let rsa =
                |der: &[u8]| MockKey::Rsa(RsaKeyPair::from_pkcs8(der).expect("the mock's RSA key"));
            Keys {
                current: rsa(include_bytes!("../keys/id_token_rsa_current.der")),
                rotated: rsa(include_bytes!("../keys/id_token_rsa_rotated.der")),
                stray: rsa(include_bytes!("../keys/id_token_rsa_stray.der")),
            }
        });
        static EC: LazyLock<Keys> = LazyLock::new(|| {
            let ec = || {
                let rng = SystemRandom::new();
                let algorithm = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
                let pkcs8 = EcdsaKeyPair::generate_pkcs8(algorithm, &rng).expect("a P-256 key");
                MockKey::Ec(
                    EcdsaKeyPair::from_pkcs8(algorithm, pkcs8.as_ref(), &rng).expect("a P-256 key"),
                )
            };
            Keys {
                current: ec(),
                rotated: ec(),
                stray: ec(),
            }
        });
        if issuer.rsa {
            &RSA
        } else {
            &EC
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, query: &[(&str, &str)], body: &[(&str, &str)]) -> SeenRequest {
        let owned = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        SeenRequest {
            method: if body.is_empty() { "GET" } else { "POST" }.into(),
            path: path.into(),
            query: owned(query),
            headers: vec![("host".into(), "127.0.0.1:1".into())],
            body: owned(body),
            raw_body: Vec::new(),
        }
    }

    fn claims_of(token: &str) -> (Value, Value) {
        let part = |i: usize| -> Value {
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token.split('.').nth(i).unwrap())
                .unwrap();
            serde_json::from_slice(&raw).unwrap()
        };
        (part(0), part(1))
    }

    #[test]
    fn the_code_carries_the_nonce_and_switch_into_the_id_token() {
        let page = request(
            "/auth/authorize",
            &[("scope", "mock.id_token.expired"), ("nonce", "n-1")],
            &[],
        );
        let code = authorize_code(&page);
        assert!(code.starts_with("mockcode-1.expired."), "{code}");
        assert_eq!(
            authorize_code(&request("/a", &[("scope", "openid")], &[])),
            "mockcode-1"
        );
        let token = id_token(&APPLE, &code, "com.example.web", "s", "h");
        let (header, claims) = claims_of(&token);
        assert_eq!(
            (header["alg"].as_str(), header["kid"].as_str()),
            (Some("RS256"), Some(CURRENT_KID))
        );
        assert_eq!(claims["nonce"], "n-1");
        assert_eq!(claims["aud"], "com.example.web");
        assert!(claims["exp"].as_u64().unwrap() < claims["iat"].as_u64().unwrap());
        let (header, _) = claims_of(&id_token(&LINE, "mockcode-1.alg_none.", "c", "s", "h"));
        assert_eq!(header["alg"], "none");
    }

    #[test]
    fn a_line_web_login_id_token_is_hs256_keyed_with_the_client_secret() {
        let token = id_token(&LINE, "mockcode-1.valid.", "c", "channel-secret", "h");
        let (header, claims) = claims_of(&token);
        assert_eq!(header, json!({"alg": "HS256", "typ": "JWT"}));
        assert_eq!(claims["aud"], "c");
        let (input, tag) = token.rsplit_once('.').unwrap();
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"channel-secret");
        let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(tag)
            .unwrap();
        assert!(ring::hmac::verify(&key, input.as_bytes(), &tag).is_ok());
        let wrong = id_token(&LINE, "mockcode-1.wrong_key.", "c", "channel-secret", "h");
        let (input, tag) = wrong.rsplit_once('.').unwrap();
        let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(tag)
            .unwrap();
        assert!(ring::hmac::verify(&key, input.as_bytes(), &tag).is_err());
    }

    #[test]
    fn the_jwks_publishes_the_rotated_key_once_a_token_used_it() {
        let jwks = || {
            let (_, _, body) = jwks_answer(
                ProviderKind::LinkedIn,
                &request("/oauth/openid/jwks", &[], &[]),
            )
            .unwrap();
            let body: Value = serde_json::from_str(&body).unwrap();
            body["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        let token = id_token(&LINKEDIN, "mockcode-1.valid.", "c", "s", "127.0.0.2:1");
        assert_eq!(claims_of(&token).0["kid"], CURRENT_KID);
        assert_eq!(jwks(), [CURRENT_KID]);
        id_token(&LINKEDIN, "mockcode-1.rotated.", "c", "s", "127.0.0.1:1");
        assert_eq!(jwks(), [CURRENT_KID, ROTATED_KID]);
        assert!(jwks_answer(
            ProviderKind::GitHub,
            &request("/oauth/openid/jwks", &[], &[])
        )
        .is_none());
    }
}
