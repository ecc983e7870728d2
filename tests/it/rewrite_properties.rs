//! Property tests of the pure core: whatever a caller sends, the TikTok rules
//! touch only the credentials, and the codec never panics or loses a parameter.

use proptest::prelude::*;

use quirkgate::config::preset_request_rules;
use quirkgate_core::form::{encode_component, encode_form, owned_pairs, parse_form};
use quirkgate_core::rewrite::rewrite;
use quirkgate_core::rules::request::RequestRule;

/// Names the TikTok rules read or write; every other name must pass untouched.
const CREDENTIAL_NAMES: &[&str] = &["client_id", "client_secret", "client_key"];

fn tiktok_rules() -> Vec<Box<dyn RequestRule>> {
    preset_request_rules("tiktok").unwrap()
}

fn decoded(body: &str) -> Vec<(String, String)> {
    owned_pairs(&parse_form(body.as_bytes()).unwrap())
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

/// Text as callers send it (mostly), or any Unicode at all.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![4 => "[a-zA-Z0-9_.~ :/-]{0,16}", 1 => any::<String>()]
}

/// Up to 20 parameters with distinct names (a repeated name is refused).
fn distinct_params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((text(), text()), 0..20).prop_map(|pairs| {
        let mut seen = std::collections::HashSet::new();
        pairs
            .into_iter()
            .filter(|(name, _)| seen.insert(name.clone()))
            .collect()
    })
}

/// A valid encoding with every freedom an encoder has, picked by `choices`:
/// a space as `+` or `%20`, escapes in upper or lower case, safe characters
/// escaped or not, a value-less `name` for an empty value, stray `&`s.
fn encode_loosely(pairs: &[(String, String)], choices: &[u8]) -> String {
    let mut next = choices.iter().copied().cycle();
    let mut pick = move || next.next().unwrap_or(0);
    let mut out = String::new();
    let escape = |byte: u8, out: &mut String, choice: u8| {
        if choice & 1 == 0 {
            out.push_str(&format!("%{byte:02X}"));
        } else {
            out.push_str(&format!("%{byte:02x}"));
        }
    };
    for (index, (name, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push('&');
            if pick() % 8 == 0 {
                out.push('&');
            }
        }
        for (part, text) in [(0, name), (1, value)].iter().map(|(i, t)| (*i, *t)) {
            if part == 1 {
                if text.is_empty() && !name.is_empty() && pick() % 4 == 0 {
                    break;
                }
                out.push('=');
            }
            for c in text.chars() {
                let choice = pick();
                let mut utf8 = [0u8; 4];
                match c {
                    ' ' if choice % 2 == 0 => out.push('+'),
                    'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '.' | '_' | '~' | '*'
                        if choice % 4 != 0 =>
                    {
                        out.push(c)
                    }
                    _ => {
                        for &byte in c.encode_utf8(&mut utf8).as_bytes() {
                            escape(byte, &mut out, choice >> 2);
                        }
                    }
                }
            }
        }
    }
    if pick() % 8 == 0 {
        out.push('&');
    }
    out
}

/// One or two edits (insert, replace, delete) of whole tokens (one
/// character, as is or as its `%XX` escapes): mostly bytes that keep a form readable (`&`,
/// `=`, `+`, letters), sometimes ones that break it (`%`, bytes that are not
/// UTF-8). An edit never cuts an escape in half, so most mutants still parse
/// and the round trip, not the refusal, is what gets tested.
fn mutate(body: &str, edits: &[(u8, prop::sample::Index, u8)]) -> Vec<u8> {
    const BENIGN: &[u8] = b"a0Z_.~&=+";
    const RISKY: &[u8] = b"%\xff\xc3 #";
    let pick = |byte: u8| match byte % 8 {
        6 => RISKY[usize::from(byte / 8) % RISKY.len()],
        7 => byte,
        _ => BENIGN[usize::from(byte / 8) % BENIGN.len()],
    };
    let mut tokens: Vec<Vec<u8>> = Vec::new();
    let mut rest = body;
    while let Some(c) = rest.chars().next() {
        let is_escape =
            c == '%' && rest.len() >= 3 && rest.as_bytes()[1..3].iter().all(u8::is_ascii_hexdigit);
        // An escaped character is one token, all its UTF-8 bytes together.
        let len = if is_escape {
            let lead = u8::from_str_radix(&rest[1..3], 16).unwrap();
            let continuation = match lead {
                0xF0.. => 3,
                0xE0.. => 2,
                0xC0.. => 1,
                _ => 0,
            };
            (3 + 3 * continuation).min(rest.len())
        } else {
            c.len_utf8()
        };
        tokens.push(rest.as_bytes()[..len].to_vec());
        rest = &rest[len..];
    }
    for (kind, at, byte) in edits {
        let byte = vec![pick(*byte)];
        match kind % 3 {
            0 => tokens.insert(at.index(tokens.len() + 1), byte),
            1 if !tokens.is_empty() => {
                let i = at.index(tokens.len());
                tokens[i] = byte;
            }
            _ if !tokens.is_empty() => {
                tokens.remove(at.index(tokens.len()));
            }
            _ => tokens.push(byte),
        }
    }
    tokens.concat()
}

/// Mutated well-formed forms: each is refused or parses to parameters that
/// encode and parse again unchanged. Most cases must parse, so the round trip
/// is what gets tested, not the refusal.
#[test]
fn mutated_forms_are_refused_or_round_trip_and_most_parse() {
    use proptest::test_runner::{Config, TestRunner};
    let strategy = (
        distinct_params(),
        prop::collection::vec(any::<u8>(), 1..64),
        prop::collection::vec(
            (any::<u8>(), any::<prop::sample::Index>(), any::<u8>()),
            1..3,
        ),
    );
    let parsed_count = std::cell::Cell::new(0usize);
    let total = std::cell::Cell::new(0usize);
    let mut runner = TestRunner::new(Config {
        cases: 2000,
        ..Config::default()
    });
    runner
        .run(&strategy, |(params, choices, edits)| {
            total.set(total.get() + 1);
            let body = mutate(&encode_loosely(&params, &choices), &edits);
            if let Ok(parsed) = parse_form(&body) {
                parsed_count.set(parsed_count.get() + 1);
                let _ = owned_pairs(&parsed);
                let encoded = encode_form(&parsed);
                let again = parse_form(encoded.as_bytes()).expect("an encoded form parses");
                prop_assert_eq!(again, parsed);
            }
            Ok(())
        })
        .unwrap();
    let (parsed, total) = (parsed_count.get(), total.get());
    eprintln!("mutated forms: {parsed} of {total} parsed");
    assert!(
        parsed * 2 > total,
        "only {parsed} of {total} mutated forms parsed: the round trip is rarely tested"
    );
}

/// Every well-formed case exercises the assertion; shown by counting.
#[test]
fn well_formed_forms_all_parse() {
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config {
        cases: 1000,
        ..Config::default()
    });
    let parsed = std::cell::Cell::new(0usize);
    runner
        .run(
            &(distinct_params(), prop::collection::vec(any::<u8>(), 1..64)),
            |(params, choices)| {
                let body = encode_loosely(&params, &choices);
                let form = parse_form(body.as_bytes()).expect("a well-formed form parses");
                prop_assert_eq!(owned_pairs(&form), params);
                parsed.set(parsed.get() + 1);
                Ok(())
            },
        )
        .unwrap();
    assert_eq!(parsed.get(), 1000);
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
    fn well_formed_forms_parse_to_what_was_encoded(
        params in distinct_params(),
        choices in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        let body = encode_loosely(&params, &choices);
        let parsed = parse_form(body.as_bytes())
            .unwrap_or_else(|e| panic!("a well-formed form is refused: {body:?}: {e:?}"));
        prop_assert_eq!(owned_pairs(&parsed), params);
        let encoded = encode_form(&parsed);
        prop_assert_eq!(parse_form(encoded.as_bytes()).unwrap(), parsed);
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
