//! Property tests of the pure core: whatever a caller sends, the TikTok rules
//! touch only the credentials, and the codec never panics or loses a parameter.

use proptest::prelude::*;

use quirkgate::core::form::{encode_component, encode_form, parse_form};
use quirkgate::core::rewrite::rewrite;
use quirkgate::core::rules::request::RequestRule;
use quirkgate::plan::file::load_preset;
use quirkgate::plan::rule_specs::compile_request_rules;

/// Names the TikTok rules read or write; every other name must pass untouched.
const CREDENTIAL_NAMES: &[&str] = &["client_id", "client_secret", "client_key"];

fn tiktok_rules() -> Vec<Box<dyn RequestRule>> {
    compile_request_rules(&load_preset("tiktok").unwrap().request).unwrap()
}

fn decoded(body: &str) -> Vec<(String, String)> {
    parse_form(body.as_bytes())
        .unwrap()
        .iter()
        .map(|p| {
            (
                p.name.decoded().into_owned(),
                p.value.decoded().into_owned(),
            )
        })
        .collect()
}

/// Up to 20 parameters with distinct names that are not credentials.
fn other_params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((any::<String>(), any::<String>()), 0..20).prop_map(|pairs| {
        let mut seen = std::collections::HashSet::new();
        pairs
            .into_iter()
            .filter(|(name, _)| !CREDENTIAL_NAMES.contains(&name.as_str()))
            .filter(|(name, _)| seen.insert(name.clone()))
            .collect()
    })
}

fn encode_pairs(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        encode_component(name, &mut out);
        out.push('=');
        encode_component(value, &mut out);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn tiktok_rules_keep_every_other_parameter_in_order(
        others in other_params(),
        client_id in "[^\\x00]{1,40}",
        client_secret in "[^\\x00]{1,40}",
        id_at in any::<prop::sample::Index>(),
        secret_at in any::<prop::sample::Index>(),
    ) {
        let mut sent = others.clone();
        sent.insert(id_at.index(sent.len() + 1), ("client_id".into(), client_id.clone()));
        sent.insert(secret_at.index(sent.len() + 1), ("client_secret".into(), client_secret.clone()));
        let body = encode_pairs(&sent);
        let rules = tiktok_rules();
        let out = rewrite(&rules, body.as_bytes(), None).unwrap();
        let forwarded = decoded(&out.body);
        let untouched: Vec<_> = forwarded
            .iter()
            .filter(|(name, _)| !CREDENTIAL_NAMES.contains(&name.as_str()))
            .cloned()
            .collect();
        prop_assert_eq!(&untouched, &others);
        let value = |name: &str| forwarded.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        prop_assert_eq!(value("client_key"), Some(client_id));
        prop_assert_eq!(value("client_secret"), Some(client_secret));
        prop_assert_eq!(value("client_id"), None);
        prop_assert_eq!(forwarded.len(), others.len() + 2);
    }

    #[test]
    fn accepted_forms_round_trip_through_encode(input in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(params) = parse_form(&input) {
            let encoded = encode_form(&params);
            let again = parse_form(encoded.as_bytes()).expect("an encoded form parses");
            prop_assert_eq!(again, params);
        }
    }

    #[test]
    fn form_like_text_round_trips(text in "([a-z%+=&0-9A-F]|%[0-9A-Fa-f]{2}){0,64}") {
        if let Ok(params) = parse_form(text.as_bytes()) {
            let encoded = encode_form(&params);
            prop_assert_eq!(parse_form(encoded.as_bytes()).unwrap(), params);
        }
    }

    #[test]
    fn rewrite_never_panics(
        body in prop::collection::vec(any::<u8>(), 0..256),
        authorization in prop::option::of("(Basic |Bearer )?[A-Za-z0-9+/=:%]{0,40}"),
    ) {
        let rules = tiktok_rules();
        let _ = rewrite(&rules, &body, authorization.as_deref());
    }
}
