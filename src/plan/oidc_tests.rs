//! Compiling `oidc:` blocks: what a bridge serves, and each refusal by its key.

use super::*;
use crate::plan::error::Segment;
use crate::plan::file::parse_text;
use crate::plan::{compile_with_env, Resolution};
use quirkgate_core::oidc::claims::ClaimPath;

const SEAL: &str = "0707070707070707070707070707070707070707070707070707070707070707";

fn es256_pem(dir: &std::path::Path) -> String {
    let path = dir.join("k.pem");
    std::fs::write(&path, quirkgate_core::signed_jwt::test_es256_key().0).unwrap();
    path.display().to_string()
}

/// A file with a TikTok token route, its user-info route and `oidc` (indented as a list item).
fn compile_oidc(
    oidc: &str,
) -> Result<crate::plan::GatewayPlan, Vec<crate::plan::error::ConfigError>> {
    let text = format!(
        "routes:\n  - path: /token/tiktok\n    preset: tiktok\n  - path: /userinfo/tiktok\n    preset: tiktok-userinfo\noidc:\n{oidc}"
    );
    let file = parse_text(&text, &|_| None).unwrap_or_else(|e| panic!("{e}"));
    compile_with_env(&file, Resolution::Skip, &|_| None)
}

fn block(key_file: &str, issuer: &str, extra: &str) -> String {
    format!(
        "  - issuer: \"{issuer}\"\n    token_route: /token/tiktok\n    userinfo_route: /userinfo/tiktok\n    signing_keys: [{{ kid: k1, key_file: \"{key_file}\", algorithm: ES256 }}]\n    seal_keys: [\"{SEAL}\"]\n    redirect_uris: [\"https://broker.example/cb\"]\n{extra}"
    )
}

/// Each refusal of the first block, with its key inside the block.
fn refusals(oidc: &str) -> Vec<(String, Refusal)> {
    refusals_in(compile_oidc(oidc).err().expect("refused"))
}

fn refusals_in(errors: Vec<ConfigError>) -> Vec<(String, Refusal)> {
    errors
        .into_iter()
        .map(|e| {
            let segments = e.key.segments();
            assert!(
                matches!(
                    segments.first(),
                    Some(Segment::Labeled {
                        key: "oidc",
                        index: 0,
                        ..
                    })
                ),
                "{e}"
            );
            // `oidc[0] (ISSUER): KEY: WHAT`, read as KEY.
            let text = e.key.to_string();
            let key = text.split_once("): ").map_or("", |(_, key)| key);
            match e.kind {
                ConfigErrorKind::Bridge(why) => (key.to_owned(), why),
                other => panic!("not a bridge refusal: {other}"),
            }
        })
        .collect()
}

#[test]
fn a_bridge_serves_its_endpoints_under_the_issuer_path_with_the_presets_facts() {
    let dir = tempfile::tempdir().unwrap();
    let key = es256_pem(dir.path());
    let plan = compile_oidc(&block(&key, "https://gw.example/oidc/tiktok", "")).unwrap();
    let (bridge, endpoint) = plan.bridge("/oidc/tiktok/token").unwrap();
    assert_eq!(*endpoint, BridgeEndpoint::Token);
    assert_eq!(plan.bridges.len(), 6);
    assert!(plan.bridge("/oidc/tiktok").is_none() && plan.bridge("/token").is_none());
    assert_eq!(
        bridge.callback_url,
        "https://gw.example/oidc/tiktok/callback"
    );
    assert_eq!(
        bridge.authorize.url,
        "https://www.tiktok.com/v2/auth/authorize/"
    );
    assert_eq!(bridge.authorize.client_id_param, "client_key");
    assert_eq!(bridge.authorize.scope_separator, ",");
    assert_eq!(
        bridge.claims.subject,
        [ClaimPath::from("union_id"), ClaimPath::from("open_id")]
    );
    let discovery: serde_json::Value = serde_json::from_slice(&bridge.discovery).unwrap();
    assert_eq!(discovery["issuer"], "https://gw.example/oidc/tiktok");
    assert_eq!(discovery["jwks_uri"], "https://gw.example/oidc/tiktok/jwks");
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        serde_json::json!(["ES256"])
    );
    assert_eq!(
        discovery["scopes_supported"],
        serde_json::json!(["openid", "profile"])
    );
    let jwks: serde_json::Value = serde_json::from_slice(&bridge.jwks).unwrap();
    assert_eq!(jwks["keys"][0]["kid"], "k1");
    assert_eq!(jwks["keys"][0]["crv"], "P-256");
    assert!(jwks["keys"][0].get("d").is_none(), "never the private part");
    // At the root, the endpoints are at the root.
    let root = compile_oidc(&block(&key, "https://gw.example", "")).unwrap();
    assert!(root.bridge("/authorize").is_some());
}

#[test]
fn issuers_must_be_https_urls_without_trailing_slash_query_or_fragment() {
    let dir = tempfile::tempdir().unwrap();
    let key = es256_pem(dir.path());
    for issuer in [
        "http://gw.example/oidc",
        "https://gw.example/oidc/",
        "https://gw.example/oidc?x=1",
        "https://gw.example/oidc#f",
        "ftp://gw.example",
        "not a url",
    ] {
        let found = refusals(&block(&key, issuer, ""));
        assert!(
            matches!(
                &found[..],
                [(key, Refusal::IssuerNotHttps | Refusal::IssuerShape | Refusal::IssuerTrailingSlash | Refusal::IssuerNotUrl(_))] if key == "issuer"
            ),
            "{issuer}: {found:?}"
        );
    }
    assert!(compile_oidc(&block(&key, "http://127.0.0.1:8080/oidc", "")).is_ok());
}

#[test]
fn each_mistake_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let key = es256_pem(dir.path());
    let issuer = "https://gw.example/oidc/tiktok";
    type Case<'a> = (String, &'a str, &'a dyn Fn(&Refusal) -> bool);
    let cases: [Case; 11] = [
        (
            block(&key, issuer, "    state_max_bytes: 32\n"),
            "state_max_bytes",
            &|r| *r == Refusal::StateCapTooSmall { min: 64 },
        ),
        (
            block(&key, issuer, "    subject_prefix: \" \"\n"),
            "subject_prefix",
            &|r| *r == Refusal::SubjectPrefix { max: 64 },
        ),
        (
            block(&key, issuer, "").replace("token_route: /token/tiktok", "token_route: /nope"),
            "token_route",
            &|r| *r == Refusal::NoSuchRoute("/nope".into()),
        ),
        (
            block("/no/such/key.pem", issuer, ""),
            "signing_keys[0] (k1)",
            &|r| matches!(r, Refusal::SigningKey(why) if why.starts_with("/no/such/key.pem: ")),
        ),
        (
            block(&key, issuer, "").replace("ES256 }", "HS256 }"),
            "signing_keys[0] (k1)",
            &|r| matches!(r, Refusal::SigningKey(why) if why.contains("HS256")),
        ),
        (
            block(&key, issuer, "").replace(SEAL, "c2hvcnQ="),
            "seal_keys[0]",
            &|r| matches!(r, Refusal::SealKey(_)),
        ),
        (
            block(&key, issuer, "").replace("[\"https://broker.example/cb\"]", "[]"),
            "redirect_uris",
            &|r| *r == Refusal::NoRedirectUris,
        ),
        (
            block(&key, issuer, "    claims: { sub: [] }\n"),
            "claims",
            &|r| *r == Refusal::NoSubject,
        ),
        (
            block(&key, issuer, "    claims: { nonce: [x] }\n"),
            "claims",
            &|r| *r == Refusal::ReservedClaim("nonce"),
        ),
        (
            block(&key, issuer, "    client_ids: []\n"),
            "client_ids",
            &|r| *r == Refusal::NoClientIds,
        ),
        (
            block(&key, issuer, "    id_token_lifetime: 30s\n"),
            "id_token_lifetime",
            &|r| *r == Refusal::LifetimeUnderMinute,
        ),
    ];
    for (oidc, key, expected) in cases {
        let found = refusals(&oidc);
        assert!(
            found.iter().any(|(k, why)| k == key && expected(why)),
            "{key}: {found:?}"
        );
    }
    let two = format!("{}{}", block(&key, issuer, ""), block(&key, issuer, ""));
    let errors = compile_oidc(&two).err().unwrap();
    assert!(errors.iter().any(|e| matches!(
        &e.kind,
        ConfigErrorKind::Bridge(Refusal::PathServedTwice(path)) if path == "/oidc/tiktok/token"
    )));
    // The issuer's own /token endpoint lands on the route `/token`.
    let clash = block(&key, "https://gw.example/token", "")
        .replace("https://gw.example/token", "https://gw.example");
    let text = format!(
        "routes:\n  - path: /token\n    preset: tiktok\n  - path: /token/tiktok\n    preset: tiktok\n  - path: /userinfo/tiktok\n    preset: tiktok-userinfo\noidc:\n{clash}"
    );
    let file = parse_text(&text, &|_| None).unwrap();
    let errors = compile_with_env(&file, Resolution::Skip, &|_| None)
        .err()
        .unwrap();
    assert!(
        errors.iter().any(|e| e.kind
            == ConfigErrorKind::Bridge(Refusal::PathIsRoute("/token".into()))
            && e.to_string().starts_with("oidc[0] (https://gw.example): ")),
        "{errors:?}"
    );
}

#[test]
fn a_route_without_an_authorize_url_needs_one_in_the_block() {
    let dir = tempfile::tempdir().unwrap();
    let key = es256_pem(dir.path());
    let text = format!(
        "routes:\n  - path: /token/tiktok\n    upstream: https://p.example/t\n  - path: /userinfo/tiktok\n    preset: tiktok-userinfo\noidc:\n{}",
        block(&key, "https://gw.example/o", "    claims: { sub: [id] }\n")
    );
    let file = parse_text(&text, &|_| None).unwrap();
    let errors = compile_with_env(&file, Resolution::Skip, &|_| None)
        .err()
        .unwrap();
    assert_eq!(
        refusals_in(errors),
        [("authorize_url".to_owned(), Refusal::AuthorizeUrlMissing)]
    );
    let with_url = text.replace(
        "    claims:",
        "    authorize_url: https://p.example/auth\n    claims:",
    );
    let file = parse_text(&with_url, &|_| None).unwrap();
    let plan = compile_with_env(&file, Resolution::Skip, &|_| None).unwrap();
    let (bridge, _) = plan.bridge("/o/authorize").unwrap();
    assert_eq!(bridge.authorize.client_id_param, "client_id");
    assert_eq!(bridge.claims.subject, [ClaimPath::from("id")]);
}

#[test]
fn each_endpoint_counts_under_its_own_path() {
    let dir = tempfile::tempdir().unwrap();
    let key = es256_pem(dir.path());
    let plan = compile_oidc(&block(&key, "https://gw.example/oidc/tiktok", "")).unwrap();
    for (path, (bridge, endpoint)) in &plan.bridges {
        assert_eq!(bridge.metrics(*endpoint).label(), path);
    }
}

#[test]
fn keys_need_distinct_kids_and_uris_must_be_plain_http_urls() {
    let dir = tempfile::tempdir().unwrap();
    let key = es256_pem(dir.path());
    let issuer = "https://gw.example/oidc/tiktok";
    let twice = block(&key, issuer, "").replace(
        "algorithm: ES256 }]",
        &format!("algorithm: ES256 }}, {{ kid: k1, key_file: \"{key}\", algorithm: ES256 }}]"),
    );
    assert_eq!(
        refusals(&twice),
        [("signing_keys[1] (k1)".to_owned(), Refusal::KidNotUnique)]
    );
    let unnamed = block(&key, issuer, "").replace("kid: k1", "kid: \"\"");
    assert_eq!(
        refusals(&unnamed),
        [("signing_keys[0] ()".to_owned(), Refusal::KidNotUnique)]
    );
    for uri in [
        "ftp://broker.example/cb",
        "https://broker.example/cb#x",
        "broker.example/cb",
    ] {
        let oidc = block(&key, issuer, "").replace("https://broker.example/cb", uri);
        assert_eq!(
            refusals(&oidc),
            [(
                "redirect_uris".to_owned(),
                Refusal::BadRedirectUri(uri.into())
            )]
        );
    }
    let minute = block(&key, issuer, "    id_token_lifetime: 1m\n");
    assert_eq!(
        compile_oidc(&minute).unwrap().bridges["/oidc/tiktok/token"]
            .0
            .id_token_lifetime,
        Duration::from_secs(60)
    );
}

#[test]
fn a_reload_keeps_the_codes_already_redeemed() {
    let dir = tempfile::tempdir().unwrap();
    let key = es256_pem(dir.path());
    let first = compile_oidc(&block(&key, "https://gw.example/oidc/reload", "")).unwrap();
    let again = compile_oidc(&block(&key, "https://gw.example/oidc/reload", "")).unwrap();
    let redeemed =
        |plan: &crate::plan::GatewayPlan| plan.bridges["/oidc/reload/token"].0.redeemed.clone();
    assert!(Arc::ptr_eq(&redeemed(&first), &redeemed(&again)));
    assert!(redeemed(&first).first_use("code", 100, 1));
    assert!(!redeemed(&again).first_use("code", 100, 2));
}

#[test]
fn seal_keys_never_print() {
    let key = crate::plan::file::SealKey(SEAL.to_owned());
    assert!(!format!("{key:?}").contains("0707"));
}

#[test]
fn a_qq_bridge_compiles_its_two_user_steps_and_refuses_a_route_list_that_does_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let key = es256_pem(dir.path());
    let compile = |userinfo_route: &str| {
        let text = format!(
            "routes:\n  - path: /token/qq\n    preset: qq\n  - path: /qq/me\n    preset: qq-me\n  - path: /qq/user\n    preset: qq-userinfo\noidc:\n  - issuer: \"https://gw.example/oidc/qq\"\n    token_route: /token/qq\n    userinfo_route: {userinfo_route}\n    signing_keys: [{{ kid: k1, key_file: \"{key}\", algorithm: ES256 }}]\n    seal_keys: [\"{SEAL}\"]\n    redirect_uris: [\"https://broker.example/cb\"]\n"
        );
        let file = parse_text(&text, &|_| None).unwrap_or_else(|e| panic!("{e}"));
        compile_with_env(&file, Resolution::Skip, &|_| None)
    };
    let plan = compile("[/qq/me, /qq/user]").unwrap();
    let (bridge, _) = plan.bridge("/oidc/qq/token").unwrap();
    assert_eq!(bridge.user_steps.len(), 2);
    assert!(bridge.user_steps[0].params.is_empty());
    let second: Vec<_> = bridge.user_steps[1]
        .params
        .iter()
        .map(|p| (p.name.as_str(), p.from))
        .collect();
    assert_eq!(
        second,
        [
            ("openid", steps::FieldSource::Step(0)),
            ("client_id", steps::FieldSource::Step(0))
        ]
    );
    assert_eq!(
        refusals_in(compile("/qq/user").err().expect("refused")),
        [(
            "userinfo_route".to_owned(),
            Refusal::UserStepsUnmatched {
                routes: 1,
                steps: 2
            }
        )]
    );
    assert_eq!(
        refusals_in(compile("[/qq/me, /qq/nope]").err().expect("refused")),
        [(
            "userinfo_route[1]".to_owned(),
            Refusal::NoSuchRoute("/qq/nope".into())
        )]
    );
}

#[test]
fn the_provider_is_sent_the_callback_unless_the_block_names_a_registered_redirect() {
    let dir = tempfile::tempdir().unwrap();
    let key = es256_pem(dir.path());
    let issuer = "https://gw.example/oidc/tiktok";
    let plan = compile_oidc(&block(&key, issuer, "")).unwrap();
    let (bridge, _) = plan.bridge("/oidc/tiktok/callback").unwrap();
    assert_eq!(bridge.provider_redirect_uri, bridge.callback_url);
    assert_eq!(bridge.callback_code_param, "code");
    let named = compile_oidc(&block(
        &key,
        issuer,
        "    provider_redirect_uri: Seller-App-SBX-ab12\n",
    ))
    .unwrap();
    let (bridge, _) = named.bridge("/oidc/tiktok/callback").unwrap();
    assert_eq!(bridge.provider_redirect_uri, "Seller-App-SBX-ab12");
    assert_eq!(
        refusals(&block(
            &key,
            issuer,
            "    provider_redirect_uri: \"Seller App\"\n"
        )),
        [(
            "provider_redirect_uri".to_owned(),
            Refusal::ProviderRedirectUri
        )]
    );
}

/// A file with WeCom's two routes and one bridge block in front of them.
fn compile_wecom(extra: &str) -> Result<crate::plan::GatewayPlan, Vec<ConfigError>> {
    let dir = tempfile::tempdir().unwrap();
    let key = es256_pem(dir.path());
    let text = format!(
        "routes:\n  - path: /wecom/token\n    preset: wecom\n  - path: /wecom/user\n    preset: wecom-userinfo\noidc:\n  - issuer: \"https://gw.example/oidc/wecom\"\n    token_route: /wecom/token\n    userinfo_route: /wecom/user\n    signing_keys: [{{ kid: k1, key_file: \"{key}\", algorithm: ES256 }}]\n    seal_keys: [\"{SEAL}\"]\n    redirect_uris: [\"https://broker.example/cb\"]\n{extra}"
    );
    let env = |name: &str| {
        match name {
            "WECOM_CORP_ID" => Some("ww-corp"),
            "WECOM_CORP_SECRET" => Some("corp-secret"),
            "QUIRKGATE_WECOM_SEAL_KEY" => Some(SEAL),
            _ => None,
        }
        .map(str::to_owned)
    };
    let file = parse_text(&text, &env).unwrap_or_else(|e| panic!("{e}"));
    compile_with_env(&file, Resolution::Skip, &env)
}

#[test]
fn a_wecom_bridge_gives_the_agent_id_its_preset_leaves_to_the_block() {
    assert_eq!(
        refusals_in(compile_wecom("").err().expect("refused")),
        [(
            "authorize_extra".to_owned(),
            Refusal::AuthorizeExtraMissing("agentid".into())
        )]
    );
    let plan = compile_wecom("    authorize_extra: { agentid: \"1000002\" }\n").unwrap();
    let (bridge, _) = plan.bridge("/oidc/wecom/authorize").unwrap();
    assert_eq!(bridge.authorize.client_id_param, "appid");
    assert_eq!(
        bridge.authorize.extra_params,
        [
            ("agentid".to_owned(), "1000002".to_owned()),
            ("login_type".to_owned(), "CorpApp".to_owned())
        ]
    );
    assert_eq!(
        refusals_in(
            compile_wecom("    authorize_extra: { agentid: \"7\", redirect_uri: x }\n")
                .err()
                .expect("refused")
        ),
        [(
            "authorize_extra".to_owned(),
            Refusal::AuthorizeExtra("redirect_uri".into())
        )]
    );
}

#[test]
fn no_identity_claim_comes_from_what_a_page_posts_beside_the_code() {
    let dir = tempfile::tempdir().unwrap();
    let key = es256_pem(dir.path());
    let claims = "    claims: { sub: [callback_user.id], email: [callback_user.email], email_verified: [callback_user], given_name: [callback_user.name.firstName] }\n";
    let mut found = refusals(&block(&key, "https://gw.example/oidc/tiktok", claims));
    found.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    assert_eq!(
        found,
        ["email", "email_verified", "sub"].map(|name| (
            "claims".to_owned(),
            Refusal::ClaimFromCallbackUser(name.to_owned())
        ))
    );
    // A name from it is fine (Apple sends the name nowhere else).
    let name_only = "    claims: { given_name: [callback_user.name.firstName] }\n";
    let plan = compile_oidc(&block(&key, "https://gw.example/oidc/tiktok", name_only)).unwrap();
    let (bridge, _) = plan.bridge("/oidc/tiktok/callback").unwrap();
    assert!(bridge.claims.reads_callback_user());
    let plain = compile_oidc(&block(&key, "https://gw.example/oidc/tiktok", "")).unwrap();
    assert!(!plain
        .bridge("/oidc/tiktok/callback")
        .unwrap()
        .0
        .claims
        .reads_callback_user());
}
