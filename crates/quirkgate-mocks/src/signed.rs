//! Strict mocks of the providers that sign or wrap (`../shared/oauth-quirks.md`,
//! "The long tail, part two"): Alipay (RSA2-signed requests and answers,
//! `…_response` wrappers), OK.ru (the MD5 `sig` of API calls) and Withings
//! (`{status, body}`). Each endpoint is a [`strict::Endpoint`]; the logic
//! below it checks what a table cannot: signatures, fixed values, grants.
//! The string to sign is computed here on its own, not with the gateway's code.

use md5::{Digest, Md5};
use serde_json::{json, Value};

use crate::kinds::{ProviderKind, SeenRequest};
use crate::strict::{judge, At, Body, Credentials, Endpoint, Params, Refusal};

type Answer = (u16, &'static str, String);
const JSON: &str = "application/json";

/// The Alipay app's key pair the tests configure the gateway with (PEM).
pub const ALIPAY_APP_PRIVATE_KEY_PEM: &str = include_str!("../keys/app_private.pem");
/// Alipay's public key, as the gateway is configured to verify answers with.
pub const ALIPAY_PUBLIC_KEY_PEM: &str = include_str!("../keys/alipay_public.pem");
/// The app's public key the mock verifies requests with (PKCS#1 DER).
const APP_PUBLIC_KEY: &[u8] = include_bytes!("../keys/app_public_pkcs1.der");
/// The mock's own signing key (PKCS#8 DER).
const ALIPAY_PRIVATE_KEY: &[u8] = include_bytes!("../keys/alipay_private_pkcs8.der");
/// The app id the Alipay mock knows.
pub const MOCK_ALIPAY_APP_ID: &str = "2021000000000001";

/// OK.ru's application (public) key and secret key the mock signs with.
pub const MOCK_OKRU_APPLICATION_KEY: &str = "CBAMOCKKEY";
pub const MOCK_OKRU_SECRET: &str = "mock-okru-secret-key";

/// Alipay's web authorize page (openauth.alipay.com): `app_id`, never
/// `client_id`; it calls back with `auth_code` (`callback_pages.rs`).
pub const ALIPAY_AUTHORIZE: Endpoint = crate::endpoints::authorize_page(
    "/oauth2/publicAppAuthorize.htm",
    &["app_id", "scope", "redirect_uri"],
    &["client_id"],
);

/// Alipay's token and user calls: one gateway URL, the API in `method`.
pub const ALIPAY: Endpoint = Endpoint {
    path: "/gateway.do",
    methods: &["POST"],
    body: Body::Form,
    credentials: Credentials::Params {
        id: "app_id",
        secret: None,
    },
    headers: &[],
    params: Params {
        at: At::Body,
        required: &[
            "method",
            "format",
            "charset",
            "sign_type",
            "timestamp",
            "version",
            "sign",
        ],
        // The private key is the credential: a client secret or OAuth's names have no place here.
        forbidden: &["client_id", "client_secret"],
    },
    refusal: Refusal::json(
        200,
        r#"{"error_response":{"code":"40001","msg":"Missing Required Arguments","sub_code":"isv.missing-argument","sub_msg":"{why}"}}"#,
    ),
};

/// OK.ru's token endpoint: the client credentials in the form.
pub const OKRU_TOKEN: Endpoint = Endpoint {
    path: "/oauth/token.do",
    methods: &["POST"],
    body: Body::Form,
    credentials: Credentials::Params {
        id: "client_id",
        secret: Some("client_secret"),
    },
    headers: &[],
    params: Params {
        at: At::Body,
        required: &["grant_type"],
        forbidden: &[],
    },
    refusal: Refusal::json(
        200,
        r#"{"error":"invalid_request","error_description":"{why}"}"#,
    ),
};

/// OK.ru's authorize page (connect.ok.ru): the standard names, scopes
/// separated by semicolons.
pub const OKRU_AUTHORIZE: Endpoint = crate::endpoints::authorize_page(
    "/oauth/authorize",
    &["client_id", "response_type", "redirect_uri", "scope"],
    &[],
);

/// OK.ru's REST API: a GET, the token and every parameter in the query, signed.
pub const OKRU_API: Endpoint = Endpoint {
    path: "/fb.do",
    methods: &["GET"],
    body: Body::None,
    credentials: Credentials::TokenQuery("access_token"),
    headers: &[],
    params: Params {
        at: At::Query,
        required: &["application_key", "method", "format", "sig"],
        forbidden: &[],
    },
    refusal: Refusal::json(
        200,
        r#"{"error_code":100,"error_msg":"PARAM : {why}","error_data":null}"#,
    ),
};

/// Withings' OAuth endpoint: the form with `action`, credentials in it.
pub const WITHINGS: Endpoint = Endpoint {
    path: "/v2/oauth2",
    methods: &["POST"],
    body: Body::Form,
    credentials: Credentials::Params {
        id: "client_id",
        secret: Some("client_secret"),
    },
    headers: &[],
    params: Params {
        at: At::Body,
        required: &["action", "grant_type"],
        forbidden: &[],
    },
    refusal: Refusal::json(
        200,
        r#"{"status":503,"body":{},"error":"Invalid Params: {why}"}"#,
    ),
};

/// Withings' authorize page: standard names, a comma-separated scope, `state` required.
pub const WITHINGS_AUTHORIZE: Endpoint = crate::endpoints::authorize_page(
    "/oauth2_user/authorize2",
    &[
        "client_id",
        "response_type",
        "scope",
        "redirect_uri",
        "state",
    ],
    &[],
);

/// The endpoints of the mocks in this file, by kind.
pub fn endpoints(kind: ProviderKind) -> &'static [Endpoint] {
    match kind {
        ProviderKind::Alipay => &[ALIPAY_AUTHORIZE, ALIPAY],
        ProviderKind::OkRu => &[OKRU_AUTHORIZE, OKRU_TOKEN, OKRU_API],
        ProviderKind::Withings => &[WITHINGS_AUTHORIZE, WITHINGS],
        _ => &[],
    }
}

fn answer_json(value: Value) -> Answer {
    (200, JSON, value.to_string())
}

/// The provider's answer to a request, for the kinds of this file.
pub fn answer(kind: ProviderKind, request: &SeenRequest) -> Answer {
    let endpoint = match judge(endpoints(kind), request) {
        Ok(endpoint) => endpoint,
        Err(refusal) => return refusal,
    };
    match endpoint.path {
        "/gateway.do" => alipay(request),
        "/oauth/token.do" => okru_token(request),
        "/fb.do" => okru_api(request),
        _ => withings(request),
    }
}

/// Alipay's string to sign: all but `sign` and empty values, sorted, raw `k=v&…`.
fn alipay_content(params: &[(String, String)]) -> String {
    let mut pairs: Vec<&(String, String)> = params
        .iter()
        .filter(|(name, value)| name != "sign" && !value.is_empty())
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Whether the request carries the app's RSA2 signature.
pub fn alipay_request_is_signed(request: &SeenRequest) -> bool {
    use base64::Engine;
    let Some(signature) = request
        .body_param("sign")
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
    else {
        return false;
    };
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        APP_PUBLIC_KEY,
    )
    .verify(alipay_content(&request.body).as_bytes(), &signature)
    .is_ok()
}

/// `{"<member>": <member>, "sign": …}` with the member's exact text signed by the mock's key.
fn alipay_signed(member_name: &str, member: Value) -> Answer {
    use base64::Engine;
    let text = member.to_string();
    let key = ring::signature::RsaKeyPair::from_pkcs8(ALIPAY_PRIVATE_KEY).expect("the mock's key");
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        text.as_bytes(),
        &mut signature,
    )
    .expect("signing");
    let sign = base64::engine::general_purpose::STANDARD.encode(signature);
    let name = serde_json::to_string(member_name).expect("a string");
    (200, JSON, format!("{{{name}:{text},\"sign\":\"{sign}\"}}"))
}

fn alipay_error(code: &str, msg: &str, sub_code: &str, sub_msg: &str) -> Answer {
    alipay_signed(
        "error_response",
        json!({"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}),
    )
}

fn is_china_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 19
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            10 => *b == b' ',
            13 | 16 => *b == b':',
            _ => b.is_ascii_digit(),
        })
}

fn alipay(request: &SeenRequest) -> Answer {
    let param = |name| request.body_param(name).unwrap_or("");
    if param("app_id") != MOCK_ALIPAY_APP_ID {
        return alipay_error(
            "40002",
            "Invalid Arguments",
            "isv.invalid-app-id",
            "unknown app_id",
        );
    }
    if param("sign_type") != "RSA2" || param("charset") != "utf-8" || param("format") != "JSON" {
        return alipay_error(
            "40002",
            "Invalid Arguments",
            "isv.invalid-signature-type",
            "sign_type RSA2, charset utf-8 and format JSON are required",
        );
    }
    if !is_china_time(param("timestamp")) || param("version") != "1.0" {
        return alipay_error(
            "40002",
            "Invalid Arguments",
            "isv.invalid-timestamp",
            "timestamp must be yyyy-MM-dd HH:mm:ss",
        );
    }
    if !alipay_request_is_signed(request) {
        return alipay_error(
            "40002",
            "Invalid Arguments",
            "isv.invalid-signature",
            "the signature does not verify",
        );
    }
    match param("method") {
        "alipay.system.oauth.token" => alipay_token(request),
        "alipay.user.info.share" => {
            let token = param("auth_token");
            if token.is_empty() || token.starts_with("bad") {
                return alipay_signed(
                    "alipay_user_info_share_response",
                    json!({"code": "20001", "msg": "Insufficient Token Permissions", "sub_code": "aop.invalid-auth-token", "sub_msg": "invalid auth_token"}),
                );
            }
            alipay_signed(
                "alipay_user_info_share_response",
                json!({"code": "10000", "msg": "Success", "user_id": "2088102150477652", "nick_name": "Mock User", "avatar": "https://static.example/ali.png", "gender": "F"}),
            )
        }
        _ => alipay_error(
            "40004",
            "Business Failed",
            "isv.invalid-method",
            "unknown method",
        ),
    }
}

fn alipay_token(request: &SeenRequest) -> Answer {
    let param = |name| request.body_param(name);
    let grant = match (param("grant_type"), param("code"), param("refresh_token")) {
        (Some("authorization_code"), Some(code), _) => code,
        (Some("refresh_token"), _, Some(refresh)) => refresh,
        _ => {
            return alipay_error(
                "40002",
                "Invalid Arguments",
                "isv.invalid-grant-type",
                "grant_type with code or refresh_token is required",
            )
        }
    };
    if grant.starts_with("bad") {
        return alipay_error(
            "40002",
            "Invalid Arguments",
            "isv.code-invalid",
            "the auth_code is invalid",
        );
    }
    alipay_signed(
        "alipay_system_oauth_token_response",
        json!({"access_token": format!("ali.{grant}"), "alipay_user_id": "20880012345678901234567890112345", "expires_in": "1296000", "re_expires_in": 2592000, "refresh_token": format!("alir.{grant}"), "user_id": "2088102150477652"}),
    )
}

fn okru_token(request: &SeenRequest) -> Answer {
    let error = |code: &str, description: &str| {
        answer_json(json!({"error": code, "error_description": description}))
    };
    let param = |name| request.body_param(name);
    let grant = match (param("grant_type"), param("code"), param("refresh_token")) {
        (Some("authorization_code"), Some(code), _) if param("redirect_uri").is_some() => code,
        (Some("refresh_token"), _, Some(refresh)) => refresh,
        _ => {
            return error(
                "invalid_request",
                "code and redirect_uri, or refresh_token, are required",
            )
        }
    };
    if grant.starts_with("bad") {
        return error("invalid_code", "Expired code");
    }
    answer_json(
        json!({"access_token": format!("ok.{grant}"), "token_type": "session", "refresh_token": format!("okr.{grant}"), "expires_in": 1800}),
    )
}

fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// OK.ru's session secret key: `md5_hex(access_token + secret key)`.
pub fn okru_session_key(access_token: &str) -> String {
    md5_hex(&format!("{access_token}{MOCK_OKRU_SECRET}"))
}

/// OK.ru's `sig` of a call with an OAuth session.
pub fn okru_expected_sig(query: &[(String, String)], access_token: &str) -> String {
    let mut pairs: Vec<&(String, String)> = query
        .iter()
        .filter(|(name, _)| name != "access_token" && name != "sig")
        .collect();
    pairs.sort();
    let text: String = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
    md5_hex(&(text + &okru_session_key(access_token)))
}

fn okru_api(request: &SeenRequest) -> Answer {
    let error = |code: u32, msg: &str| {
        answer_json(json!({"error_code": code, "error_msg": msg, "error_data": null}))
    };
    let param = |name| request.query_param(name).unwrap_or("");
    if param("application_key") != MOCK_OKRU_APPLICATION_KEY {
        return error(
            101,
            "PARAM_API_KEY : Parameter application_key not specified or invalid",
        );
    }
    let token = param("access_token");
    if param("sig") != okru_expected_sig(&request.query, token) {
        return error(104, "PARAM_SIGNATURE : Invalid signature");
    }
    if token.starts_with("bad") {
        return error(102, "PARAM_SESSION_EXPIRED : Session expired");
    }
    match param("method") {
        "users.getCurrentUser" => answer_json(
            json!({"uid": "575662066926", "name": "Mock User", "first_name": "Mock", "last_name": "User", "pic_1": "https://static.example/ok.png", "email": "mock@ok.example"}),
        ),
        _ => error(3, "METHOD : Method not supported"),
    }
}

fn withings(request: &SeenRequest) -> Answer {
    let error = |status: u32, message: &str| {
        answer_json(json!({"status": status, "body": {}, "error": message}))
    };
    let param = |name| request.body_param(name);
    if param("action") != Some("requesttoken") {
        return error(2555, "Unknown action");
    }
    let grant = match (param("grant_type"), param("code"), param("refresh_token")) {
        (Some("authorization_code"), Some(code), _) if param("redirect_uri").is_some() => code,
        (Some("refresh_token"), _, Some(refresh)) => refresh,
        _ => {
            return error(
                503,
                "Invalid Params: grant_type, code and redirect_uri are required",
            )
        }
    };
    if grant.starts_with("bad") {
        return error(503, "Invalid Params: invalid code");
    }
    answer_json(
        json!({"status": 0, "body": {"userid": 363, "access_token": format!("wi.{grant}"), "refresh_token": format!("wir.{grant}"), "scope": "user.info,user.metrics", "expires_in": 10800, "token_type": "Bearer"}}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strict::Variant;

    fn value(name: &str) -> String {
        match name {
            "method" => "alipay.system.oauth.token".into(),
            "format" => "JSON".into(),
            "charset" => "utf-8".into(),
            "sign_type" => "RSA2".into(),
            "timestamp" => "2026-12-02 10:00:00".into(),
            "version" => "1.0".into(),
            "action" => "requesttoken".into(),
            "grant_type" => "authorization_code".into(),
            "application_key" => MOCK_OKRU_APPLICATION_KEY.into(),
            other => format!("mock-{other}"),
        }
    }

    /// Each wrong variant of each endpoint gets the provider's refusal for it.
    #[test]
    fn every_wrong_variant_is_refused_in_the_providers_shape() {
        for kind in [
            ProviderKind::Alipay,
            ProviderKind::OkRu,
            ProviderKind::Withings,
        ] {
            for endpoint in endpoints(kind) {
                let accepted = endpoint.accepted(value);
                let variants: Vec<Variant> = endpoint.wrong_variants(&accepted);
                assert!(variants.len() >= 4, "{}", endpoint.path);
                for variant in variants {
                    assert_eq!(
                        answer(kind, &variant.request),
                        endpoint.refusal.answer(&variant.violation),
                        "{} {:?}",
                        endpoint.path,
                        variant.violation
                    );
                }
            }
        }
    }

    #[test]
    fn alipay_refuses_an_unsigned_or_altered_request_and_signs_its_answers() {
        let accepted = ALIPAY.accepted(value);
        let mut request = accepted.request();
        request.body.retain(|(n, _)| n != "app_id");
        request
            .body
            .push(("app_id".into(), MOCK_ALIPAY_APP_ID.into()));
        let (_, _, body) = answer(ProviderKind::Alipay, &request);
        assert!(body.contains("isv.invalid-signature"), "{body}");
        assert!(
            body.contains("\"sign\":\""),
            "errors are signed too: {body}"
        );
    }

    #[test]
    fn okru_refuses_a_wrong_sig_and_takes_the_right_one() {
        let mut query: Vec<(String, String)> = [
            ("application_key", MOCK_OKRU_APPLICATION_KEY),
            ("format", "json"),
            ("method", "users.getCurrentUser"),
            ("access_token", "ok.code1"),
        ]
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .to_vec();
        let sig = okru_expected_sig(&query, "ok.code1");
        query.push(("sig".into(), sig));
        let request = |query: Vec<(String, String)>| SeenRequest {
            method: "GET".into(),
            path: "/fb.do".into(),
            query,
            headers: Vec::new(),
            body: Vec::new(),
            raw_body: Vec::new(),
        };
        let (_, _, body) = answer(ProviderKind::OkRu, &request(query.clone()));
        assert!(body.contains("\"uid\""), "{body}");
        let mut forged = query;
        forged.last_mut().unwrap().1 = md5_hex("forged");
        let (_, _, body) = answer(ProviderKind::OkRu, &request(forged));
        assert!(body.contains("\"error_code\":104"), "{body}");
    }
}
