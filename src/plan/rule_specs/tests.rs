//! The rule words, compiled and applied: what loads, what is refused and why.

use std::collections::BTreeMap;

use quirkgate_core::rules::request::{RequestRule, JWT_BEARER_ASSERTION};
use quirkgate_core::rules::response::ResponsePlan;

use super::refusal::RuleRefusal;
use super::*;
use crate::plan::error::{ConfigError, ConfigErrorKind, RuleList};
use quirkgate_core::rules::request::Place;

/// Why a rule was refused, once the error is known to be a rule's.
fn why(err: ConfigError) -> RuleRefusal {
    match err.kind {
        ConfigErrorKind::Rule { why, .. } => why,
        other => panic!("not a rule error: {other}"),
    }
}

fn request_rules(yaml: &str) -> Result<Vec<Box<dyn RequestRule>>, RuleRefusal> {
    compile_request_rules(&request_specs(yaml)).map_err(why)
}

fn request_specs(yaml: &str) -> Vec<RequestRuleSpec> {
    parse(yaml).unwrap()
}

fn parse<T: serde::de::DeserializeOwned>(yaml: &str) -> Result<T, serde_yaml::Error> {
    serde_yaml::with::singleton_map_recursive::deserialize(serde_yaml::Deserializer::from_str(yaml))
}

/// Compiles `yaml` and rewrites `body` (with an optional Authorization).
/// The rules must compile; a refused request gives its status and code.
fn rewritten(
    yaml: &str,
    body: &str,
    authorization: Option<&str>,
) -> Result<String, (u16, std::borrow::Cow<'static, str>)> {
    let rules = compile_request_rules(&request_specs(yaml)).unwrap_or_else(|e| panic!("{e}"));
    quirkgate_core::rewrite::rewrite(&rules, body.as_bytes(), authorization)
        .map(|out| out.body)
        .map_err(|e| (e.status, e.code))
}

#[test]
fn basic_to_body_defaults_to_the_standard_names() {
    // "app:s3" in Basic.
    let body = rewritten(
        "- basic_to_body: {}\n",
        "grant_type=x",
        Some("Basic YXBwOnMz"),
    )
    .unwrap();
    assert_eq!(body, "grant_type=x&client_id=app&client_secret=s3");
}

#[test]
fn require_defaults_to_invalid_request() {
    let err = rewritten("- require: { body: [code] }\n", "grant_type=x", None).unwrap_err();
    assert_eq!(err, (400, "invalid_request".into()));
    let err = rewritten(
        "- require: { body: [code], error: invalid_client }\n",
        "grant_type=x",
        None,
    )
    .unwrap_err();
    assert_eq!(err, (401, "invalid_client".into()));
}

#[test]
fn replace_overwrites_add_keeps_append_adds() {
    assert_eq!(
        rewritten("- replace: { body: { a: '2' } }\n", "a=1", None).unwrap(),
        "a=2"
    );
    assert_eq!(
        rewritten("- add: { body: { a: '2' } }\n", "a=1", None).unwrap(),
        "a=1"
    );
    assert_eq!(
        rewritten("- add: { body: { b: '2' } }\n", "a=1", None).unwrap(),
        "a=1&b=2"
    );
    assert_eq!(
        rewritten("- append: { body: { a: '2' } }\n", "a=1", None).unwrap(),
        "a=1&a=2"
    );
}

#[test]
fn a_name_added_again_after_removal_may_be_replaced() {
    let specs = request_specs(
        "- remove: { body: [a] }\n- add: { body: { a: x } }\n- replace: { body: { a: y } }\n",
    );
    assert!(compile_request_rules(&specs).is_ok());
}

#[test]
fn header_values_must_be_valid_http_but_body_values_need_not() {
    let bad_header = request_specs("- add: { headers: { x-h: \"a\\nb\" } }\n");
    assert_eq!(
        why(compile_request_rules(&bad_header).unwrap_err()),
        RuleRefusal::BadHeaderValue
    );
    assert!(compile_request_rules(&request_specs("- add: { headers: { x-h: ok } }\n")).is_ok());
    assert!(compile_request_rules(&request_specs("- add: { body: { a: \"a\\nb\" } }\n")).is_ok());
}

#[test]
fn single_key_maps_parse_into_rules() {
    let specs = request_specs(
        "- basic_to_body: {}\n- rename: { body: { client_id: client_key } }\n- method: GET\n",
    );
    assert_eq!(compile_request_rules(&specs).unwrap().len(), 3);
}

#[test]
fn a_rule_on_a_removed_name_is_refused_with_its_number() {
    let specs = request_specs(
        "- rename: { body: { client_id: client_key } }\n- replace: { body: { client_id: x } }\n",
    );
    let err = compile_request_rules(&specs).unwrap_err();
    assert!(
        matches!(
            &err.kind,
            ConfigErrorKind::Rule {
                list: RuleList::Request,
                number: 2,
                word: "replace",
                why: RuleRefusal::Gone {
                    place: Place::Body,
                    after_rule: 1,
                    ..
                },
            }
        ),
        "{err}"
    );
}

#[test]
fn managed_headers_and_empty_rules_are_refused() {
    assert_eq!(
        request_rules("- add: { headers: { Host: evil } }\n").unwrap_err(),
        RuleRefusal::GatewayHeader("Host".into())
    );
    assert_eq!(
        request_rules("- rename: {}\n").unwrap_err(),
        RuleRefusal::NamesNothing
    );
    // A method outside the vocabulary is refused by the file parser.
    assert!(parse::<Vec<RequestRuleSpec>>("- method: PUT\n").is_err());
}

#[test]
fn rename_chains_in_one_rule_are_refused() {
    let specs = request_specs("- rename: { body: { a: b, b: c } }\n");
    assert_eq!(
        why(compile_request_rules(&specs).unwrap_err()),
        RuleRefusal::RenameChain("b".into())
    );
}

#[test]
fn error_from_needs_a_condition() {
    let refused =
        response_rules("- error_from: { when: { absent: access_token }, error: error }\n");
    assert_eq!(refused.err(), Some(RuleRefusal::ErrorAlways));
}

fn response_rules(yaml: &str) -> Result<ResponsePlan, RuleRefusal> {
    response_rules_typed(yaml).map_err(why)
}

fn response_rules_typed(yaml: &str) -> Result<ResponsePlan, ConfigError> {
    compile_response_rules(&parse::<Vec<ResponseRuleSpec>>(yaml).unwrap())
}

#[test]
fn the_fields_rules_read_are_listed_at_load_unless_a_rule_may_read_any() {
    let looks = response_rules(
        "- error_from: { when: { present: error, absent: access_token }, error: error, description: error_description }\n\
         - error_from: { when: { nonzero: data.error_code }, error: data.error_code }\n",
    )
    .unwrap();
    assert_eq!(
        looks.fields_read.as_deref(),
        Some(&["access_token", "data", "error", "error_description"].map(String::from)[..])
    );
    let edits = response_rules(
        "- error_from: { when: { present: error }, error: error }\n- unwrap: data\n",
    )
    .unwrap();
    assert_eq!(edits.fields_read, None, "unwrap may read any field");
    // The listed fields are the ones a 200 is checked for: an error is still found.
    let answer = |body: &str| quirkgate_core::http1::ProviderAnswer {
        status: 200,
        content_type: Some(bytes::Bytes::from_static(b"application/json")),
        body: bytes::Bytes::copy_from_slice(body.as_bytes()),
    };
    let err = looks
        .shape(&answer(
            r#"{"log_id":"1","data":{"error_code":7},"access_token":"x"}"#,
        ))
        .unwrap_err();
    assert_eq!(err.code, "7");
    let ok = r#"{"access_token":"act.1","data":{"error_code":0},"scope":"a"}"#;
    assert_eq!(&looks.shape(&answer(ok)).unwrap().body[..], ok.as_bytes());
}

#[test]
fn response_rules_that_do_nothing_are_refused_with_their_number() {
    for (yaml, word) in [
        ("- unwrap: \"\"\n", "unwrap"),
        ("- rename: { json: {} }\n", "rename"),
        ("- add: { json: {} }\n", "add"),
        ("- remove: { json: [] }\n", "remove"),
    ] {
        let err = response_rules_typed(&format!("- unwrap: data\n- form_to_json: true\n{yaml}"))
            .err()
            .unwrap_or_else(|| panic!("{yaml} compiled"));
        assert!(
            matches!(
                err.kind,
                ConfigErrorKind::Rule { list: RuleList::Response, number: 3, word: w, .. } if w == word
            ),
            "{err}"
        );
    }
    let plan = response_rules(
        "- unwrap: data\n- rename: { json: { a: b } }\n- add: { json: { c: d } }\n- remove: { json: [e] }\n",
    )
    .unwrap();
    assert_eq!(plan.rules.len(), 4);
}

#[test]
fn error_from_status_must_be_4xx() {
    let with = |status: u16| {
        response_rules(&format!(
            "- error_from: {{ when: {{ present: error }}, error: error, status: {status} }}\n"
        ))
    };
    assert!(with(400).is_ok());
    assert!(with(499).is_ok());
    assert_eq!(
        with(500).err(),
        Some(RuleRefusal::NotClientErrorStatus(500))
    );
    assert_eq!(
        with(302).err(),
        Some(RuleRefusal::NotClientErrorStatus(302))
    );
}

#[test]
fn unknown_rule_words_are_refused_by_the_parser() {
    assert!(parse::<Vec<RequestRuleSpec>>("- rewrite: { body: {} }\n").is_err());
}

/// A fresh P-256 PKCS#8 key in a PEM file, and its public half.
fn es256_key_file() -> (tempfile::TempDir, String, Vec<u8>) {
    let (pem, public) = quirkgate_core::signed_jwt::test_es256_key();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.pem");
    std::fs::write(&path, pem).unwrap();
    let path = path.to_str().unwrap().to_owned();
    (dir, path, public)
}

#[test]
fn client_assertion_replaces_the_secret_with_a_signed_rfc7523_assertion() {
    use base64::Engine;
    let (_dir, key_file, public) = es256_key_file();
    let yaml = format!(
        "- client_assertion: {{ key_file: \"{key_file}\", client_id: app-1, audience: \"https://idp.example/token\" }}\n"
    );
    let rules = compile_request_rules(&request_specs(&yaml)).unwrap();
    let body = b"grant_type=authorization_code&code=c&client_secret=placeholder";
    let out = quirkgate_core::rewrite::rewrite(&rules, body, None).unwrap();
    let pairs: BTreeMap<String, String> = serde_urlencoded::from_str(&out.body).unwrap();
    assert_eq!(pairs.get("client_secret"), None);
    assert_eq!(pairs["client_id"], "app-1");
    assert_eq!(pairs["client_assertion_type"], JWT_BEARER_ASSERTION);
    let assertion = &pairs["client_assertion"];
    let parts: Vec<&str> = assertion.split('.').collect();
    let decode = |part: &str| -> serde_json::Value {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .unwrap(),
        )
        .unwrap()
    };
    let claims = decode(parts[1]);
    assert_eq!(claims["iss"], "app-1");
    assert_eq!(claims["sub"], "app-1");
    assert_eq!(claims["aud"], "https://idp.example/token");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        300
    );
    assert!(claims["jti"].is_string());
    assert_eq!(decode(parts[0])["alg"], "ES256");
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[2])
        .unwrap();
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &public)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .unwrap();
    // Another client id is refused, not signed for.
    let err = quirkgate_core::rewrite::rewrite(&rules, b"grant_type=x&client_id=other", None)
        .err()
        .unwrap();
    assert_eq!(err.status, 401);
}

#[test]
fn signed_client_secret_refuses_apples_impossible_lifetimes_and_bad_algorithms() {
    let (_dir, key_file, _) = es256_key_file();
    let with = |extra: &str| {
        compile_request_rules(&request_specs(&format!(
            "- signed_client_secret: {{ key_file: \"{key_file}\", issuer: T, client_id: c, audience: a{extra} }}\n"
        )))
    };
    assert!(with(", key_id: K").is_ok());
    assert!(with(", key_id: K, lifetime: 180d").is_ok());
    let err = |extra: &str| why(with(extra).err().unwrap());
    assert_eq!(
        err(", key_id: K, lifetime: 183d"),
        RuleRefusal::LifetimeOverSixMonths
    );
    // An algorithm outside the vocabulary is refused by the file parser.
    let hs256 = format!(
        "- signed_client_secret: {{ key_file: \"{key_file}\", issuer: T, client_id: c, audience: a, key_id: K, algorithm: HS256 }}\n"
    );
    assert!(parse::<Vec<RequestRuleSpec>>(&hs256)
        .unwrap_err()
        .to_string()
        .contains("not supported"));
    assert!(
        matches!(err(", key_id: K, algorithm: RS256"), RuleRefusal::KeyFile { why, .. } if why.contains("not an RSA"))
    );
    assert_eq!(err(", key_id: \"\""), RuleRefusal::EmptyClaim("key_id"));
}

#[test]
fn new_request_words_are_checked_against_the_rules_before_them() {
    let refused = |yaml: &str| request_rules(yaml).unwrap_err();
    assert_eq!(
        refused("- method: GET\n- json_body: true\n"),
        RuleRefusal::BodyAfterGet { get_rule: 1 }
    );
    assert_eq!(
        refused("- json_body: true\n- method: GET\n"),
        RuleRefusal::GetAfterJsonBody { json_rule: 1 }
    );
    assert_eq!(
        refused("- json_body: true\n- json_body: true\n"),
        RuleRefusal::JsonBodyTwice { first: 1 }
    );
    assert_eq!(refused("- json_body: false\n"), RuleRefusal::NamesNothing);
    let authorization_gone = RuleRefusal::Gone {
        place: Place::Headers,
        name: "authorization".into(),
        after_rule: 1,
    };
    assert_eq!(
        refused("- bearer_to_query: access_token\n- bearer_to_header: x-token\n"),
        authorization_gone
    );
    assert_eq!(
        refused("- bearer_to_header: Authorization\n"),
        RuleRefusal::BearerAlreadyInAuthorization
    );
    assert_eq!(
        refused("- bearer_to_header: host\n"),
        RuleRefusal::GatewayHeader("host".into())
    );
    assert_eq!(
        refused("- basic_to_body: {}\n- appsecret_proof: { secret: s }\n"),
        authorization_gone
    );
    assert_eq!(
        refused("- appsecret_proof: { secret: \"\" }\n"),
        RuleRefusal::AppSecretMissing
    );
    assert_eq!(
        refused("- basic_to_body: { keep_id: true }\n"),
        RuleRefusal::KeepIdMisplaced
    );
    // The proof reads the token where bearer_to_query left it.
    assert!(compile_request_rules(&request_specs(
        "- bearer_to_query: access_token\n- appsecret_proof: { secret: s }\n"
    ))
    .is_ok());
}

#[test]
fn new_response_words_are_checked_at_load() {
    let refused = |yaml: &str| response_rules(yaml).err();
    assert_eq!(
        refused("- convert: { json: { expires_in: integer } }\n"),
        Some(RuleRefusal::UnknownConversion {
            path: "expires_in".into(),
            word: "integer".into()
        })
    );
    assert_eq!(
        refused("- convert: { json: {} }\n"),
        Some(RuleRefusal::DoesNothing)
    );
    assert_eq!(refused("- jsonp: false\n"), Some(RuleRefusal::DoesNothing));
    assert_eq!(
        refused("- rename: { json: { \"data..a\": b } }\n"),
        Some(RuleRefusal::BadFieldPath("data..a".into()))
    );
    assert_eq!(
        refused("- unwrap: \"response.\"\n"),
        Some(RuleRefusal::BadFieldPath("response.".into()))
    );
    assert_eq!(
        refused("- form_to_json: sometimes\n"),
        Some(RuleRefusal::UnknownFormMode("sometimes".into()))
    );
    let plan = response_rules(
        "- jsonp: true\n- form_to_json: any_content_type\n- unwrap: response.0\n- rename: { json: { owner.user.id: user_id } }\n- convert: { json: { id: string } }\n",
    )
    .unwrap();
    assert!(plan.jsonp && plan.form_to_json && plan.form_any_content_type);
    assert_eq!(plan.rules.len(), 3);
}
