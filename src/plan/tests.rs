//! Compiling whole files: what loads, and every error named by its key.

use super::*;
use crate::plan::file::parse_text;

use crate::plan::error::{RuleList, RuleRefusal, Segment};

fn compile_text(text: &str) -> Result<GatewayPlan, Vec<ConfigError>> {
    compile(&parse_text(text, &|_| None).unwrap(), Resolution::Skip)
}

/// The route an error names, by position.
fn route_of(error: &ConfigError) -> Option<usize> {
    match error.key.segments().first() {
        Some(Segment::Route { index, .. }) => Some(*index),
        _ => None,
    }
}

/// The error's key without its route: `rate_limit.per_route_per_second`.
fn key_in_route(error: &ConfigError) -> String {
    let inner: Vec<_> = error
        .key
        .segments()
        .iter()
        .filter(|s| !matches!(s, Segment::Route { .. }))
        .cloned()
        .collect();
    let mut key = KeyPath::root();
    for segment in inner {
        key = match segment {
            Segment::Key(name) => key.then(name),
            Segment::Index(i) => key.at(i),
            Segment::Labeled {
                key: name,
                index,
                label,
            } => key.labeled(name, index, &label),
            Segment::Spelled(path) => key.join(&KeyPath::spelled(&path)),
            Segment::Route { .. } => key,
        };
    }
    key.to_string()
}

#[test]
fn shipped_config_compiles_with_both_paths() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/quirkgate.yaml"))
        .unwrap();
    let plan = compile_text(&text).unwrap();
    assert!(plan.route("/token/proxy").is_some());
    assert!(plan.route("/proxy/token").is_some());
    assert!(Arc::ptr_eq(
        plan.route("/token/proxy").unwrap(),
        plan.route("/proxy/token").unwrap()
    ));
}

#[test]
fn every_error_names_its_route() {
    let errors = compile_text(
        "routes:\n  - path: /a\n    preset: nope\n  - path: b\n    upstream: http://127.0.0.1:1/\n  - path: /c\n    upstream: http://127.0.0.1:1/\n    retry_after_send: [authorization_code]\n",
    )
    .err()
    .expect("the file must be refused");
    assert!(
        errors.iter().any(|e| route_of(e) == Some(0)
            && key_in_route(e) == "preset"
            && e.kind.to_string().contains("unknown preset")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| route_of(e) == Some(1)
            && matches!(&e.kind, Kind::PathNotAbsolute(path) if path == "b")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| route_of(e) == Some(2)
            && matches!(&e.kind, Kind::SingleUseGrant(grant) if grant == "authorization_code")),
        "{errors:?}"
    );
}

#[test]
fn every_shipped_preset_compiles_into_a_route_and_needs_its_variables() {
    let routes: String = crate::plan::file::PRESETS
        .iter()
        .map(|(name, _)| {
            format!(
                "  - path: /{name}\n    preset: {name}\n    upstream: https://provider.example/t\n"
            )
        })
        .collect();
    let file = parse_text(&format!("routes:\n{routes}"), &|_| None).unwrap();
    // A real key for the presets that sign (Apple).
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("AuthKey_TEST.p8");
    std::fs::write(&key_file, quirkgate_core::signed_jwt::test_es256_key().0).unwrap();
    let key_path = key_file.to_str().unwrap().to_owned();
    // RSA keys for the presets that sign with RSA (Alipay's app key, and its public key).
    let rsa_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/crates/quirkgate-mocks/keys/");
    let env = move |var: &str| {
        Some(if var == "ALIPAY_APP_KEY_FILE" {
            format!("{rsa_dir}app_private.pem")
        } else if var == "ALIPAY_PUBLIC_KEY_FILE" {
            format!("{rsa_dir}alipay_public.pem")
        } else if var.ends_with("_KEY_FILE") {
            key_path.clone()
        } else if var.contains("SEAL_KEY") {
            "0123456789abcdef".repeat(4)
        } else {
            "value".to_owned()
        })
    };
    let plan = compile_with_env(&file, Resolution::Skip, &env).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(plan.route_list.len(), crate::plan::file::PRESETS.len());
    let errors = compile_with_env(&file, Resolution::Skip, &|_| None)
        .err()
        .expect("presets that need values are refused without them");
    for (name, _) in crate::plan::file::PRESETS {
        for var in crate::plan::file::preset_variables(name) {
            assert!(
                errors
                    .iter()
                    .any(|e| e.key.to_string().contains(&format!("(/{name})"))
                        && e.kind.to_string().contains(&var)),
                "{name} {var}: {errors:?}"
            );
        }
    }
}

#[test]
fn a_missing_or_unusable_key_file_is_a_load_error_naming_the_route() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_key = dir.path().join("not-a-key.p8");
    std::fs::write(&not_a_key, "hello").unwrap();
    for (key_file, needle) in [
        ("/nonexistent/AuthKey.p8".to_owned(), "No such file"),
        (not_a_key.to_str().unwrap().to_owned(), "no PEM private key"),
    ] {
        let text = "routes:\n  - path: /apple\n    preset: apple\n    upstream: https://provider.example/t\n";
        let file = parse_text(text, &|_| None).unwrap();
        let env = |var: &str| {
            Some(if var == "APPLE_KEY_FILE" {
                key_file.clone()
            } else {
                "value".to_owned()
            })
        };
        let errors = compile_with_env(&file, Resolution::Skip, &env)
            .err()
            .expect("refused");
        assert!(
            errors.iter().any(|e| route_of(e) == Some(0)
                && e.to_string().starts_with("routes[0] (/apple)")
                && e.kind.to_string().contains("signed_client_secret")
                && e.kind.to_string().contains(needle)),
            "{errors:?}"
        );
    }
}

#[test]
fn duplicate_paths_are_refused() {
    let errors = compile_text(
        "routes:\n  - path: /a\n    preset: tiktok\n  - path: /b\n    aliases: [/a]\n    preset: tiktok\n",
    )
    .err()
    .expect("the file must be refused");
    assert!(
        errors
            .iter()
            .any(|e| route_of(e) == Some(1) && matches!(&e.kind, Kind::PathTaken(p) if p == "/a")),
        "{errors:?}"
    );
}

#[test]
fn access_keys_compile_and_bad_values_are_named() {
    let plan = compile_text(
        "trusted_proxies: [10.0.0.0/8]\nroutes:\n  - path: /a\n    preset: tiktok\n    allowed_client_ids: [app]\n    allow_sources: [192.0.2.0/24, \"::1\"]\n    shared_secret: { header: X-Quirkgate-Secret, value: s3cret }\n    rate_limit: { per_client_address_per_second: 5, per_route_per_second: 50 }\n    max_concurrent_exchanges: 8\n",
    )
    .unwrap();
    let route = plan.route("/a").unwrap();
    assert_eq!(plan.trusted_proxies.len(), 1);
    assert_eq!(route.admission.access.allow_sources.len(), 2);
    assert!(
        route.admission.access.shared_secret.is_some()
            && route.admission.access.exchange_slots.is_some()
    );
    assert!(
        format!("{:?}", route.rewrite.request_rules[0]).starts_with("RequireClientId"),
        "the client id check runs before the preset's rules"
    );

    let errors = compile_text(
        "trusted_proxies: [nope]\nroutes:\n  - path: /a\n    preset: tiktok\n    allowed_client_ids: []\n    allow_sources: [10.0.0.1/8]\n    shared_secret: { header: Authorization, value: x }\n    rate_limit: { per_route_per_second: 0 }\n    max_concurrent_exchanges: 0\n    provider_concurrency: 0\n",
    )
    .err()
    .expect("the file must be refused");
    let has = |key: &str, kind: &dyn Fn(&Kind) -> bool| {
        errors
            .iter()
            .any(|e| key_in_route(e) == key && kind(&e.kind))
    };
    assert!(
        has(
            "trusted_proxies",
            &|k| matches!(k, Kind::AddressBlock(t) if t.contains("'nope'"))
        ),
        "{errors:?}"
    );
    assert!(
        has("allowed_client_ids", &|k| matches!(
            k,
            Kind::NoAllowedClientIds
        )),
        "{errors:?}"
    );
    assert!(
        has(
            "allow_sources",
            &|k| matches!(k, Kind::AddressBlock(t) if t.contains("'10.0.0.1/8' has host bits set"))
        ),
        "{errors:?}"
    );
    assert!(
        has(
            "",
            &|k| matches!(k, Kind::SharedSecret(t) if t.contains("shared_secret.header"))
        ),
        "{errors:?}"
    );
    assert!(
        has("rate_limit.per_route_per_second", &|k| matches!(
            k,
            Kind::BelowOne
        )),
        "{errors:?}"
    );
    assert!(
        has("max_concurrent_exchanges", &|k| matches!(k, Kind::BelowOne)),
        "{errors:?}"
    );
    assert!(
        has("provider_concurrency", &|k| matches!(
            k,
            Kind::ConcurrencyOutOfRange { .. }
        )),
        "{errors:?}"
    );
}

#[test]
fn preset_rules_run_before_the_routes_own() {
    let errors = compile_text(
        "routes:\n  - path: /a\n    preset: tiktok\n    request:\n      - rename: { body: { client_id: other } }\n",
    )
    .err()
    .expect("the file must be refused");
    assert!(
        errors.iter().any(|e| matches!(
            &e.kind,
            Kind::Rule {
                list: RuleList::Request,
                word: "rename",
                why: RuleRefusal::Gone { .. },
                ..
            }
        )),
        "{errors:?}"
    );
}
