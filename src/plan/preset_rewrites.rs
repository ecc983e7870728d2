//! The shipped presets' request rules applied by the pure core: what the
//! provider receives for what Auth0 sends.

use base64::Engine;

use crate::plan::preset_request_rules;
use quirkgate_core::form::{owned_pairs, parse_form};
use quirkgate_core::rewrite::rewrite;
use quirkgate_core::rules::request::TokenMethod;

fn decoded(body: &str) -> Vec<(String, String)> {
    owned_pairs(&parse_form(body.as_bytes()).unwrap())
}

const AUTH0_BODY: &str = "grant_type=authorization_code&code=C%2A1%21x&redirect_uri=https%3A%2F%2Ftenant.auth0.com%2Flogin%2Fcallback&client_id=aw123&client_secret=s3cr%2Bt";

#[test]
fn tiktok_renames_client_id_and_keeps_everything_else_verbatim() {
    let rules = preset_request_rules("tiktok").unwrap();
    let out = rewrite(&rules, AUTH0_BODY.as_bytes(), None).unwrap();
    assert_eq!(out.body, AUTH0_BODY.replace("client_id=", "client_key="));
    assert_eq!(out.grant_type.as_deref(), Some("authorization_code"));
    assert!(out.headers.is_empty() && out.query.is_empty());
}

#[test]
fn tiktok_takes_basic_credentials_into_the_body() {
    let rules = preset_request_rules("tiktok").unwrap();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("aw123:s3cr%2Bt")
    );
    let body = b"grant_type=refresh_token&refresh_token=rt.1";
    let out = rewrite(&rules, body, Some(&basic)).unwrap();
    assert!(
        out.headers.is_empty(),
        "the Authorization header must not be forwarded"
    );
    assert_eq!(
        decoded(&out.body),
        vec![
            ("grant_type".into(), "refresh_token".into()),
            ("refresh_token".into(), "rt.1".into()),
            ("client_key".into(), "aw123".into()),
            ("client_secret".into(), "s3cr+t".into()),
        ]
    );
}

#[test]
fn tiktok_without_credentials_is_invalid_client() {
    let rules = preset_request_rules("tiktok").unwrap();
    let err = rewrite(&rules, b"grant_type=authorization_code&code=c", None)
        .err()
        .unwrap();
    assert_eq!((err.status, err.code.as_ref()), (401, "invalid_client"));
}

#[test]
fn wechat_moves_credentials_to_the_query_of_a_get() {
    let rules = preset_request_rules("wechat").unwrap();
    let out = rewrite(&rules, AUTH0_BODY.as_bytes(), None).unwrap();
    assert_eq!(out.method, TokenMethod::Get);
    assert!(out.body.is_empty());
    assert_eq!(
        decoded(&out.query),
        vec![
            ("appid".into(), "aw123".into()),
            ("secret".into(), "s3cr+t".into()),
            ("code".into(), "C*1!x".into()),
            ("grant_type".into(), "authorization_code".into()),
        ]
    );
}
