//! The packed provider state: round trips, the seal's refusals, the
//! provider's cap, and the lengths brokers' states come to.

use super::*;

const NOW: u64 = 1_800_000_000;
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn sealer() -> Sealer {
    Sealer::new(&[[7; 32]], "https://gw.example/oidc/wechat").unwrap()
}

fn uris() -> Vec<String> {
    vec![
        "https://broker.example/other".into(),
        "https://broker.example/callback".into(),
    ]
}

fn ids() -> Vec<String> {
    vec!["ck_0".into(), "ck_1".into()]
}

fn login(state: Option<&str>, nonce: Option<&str>, challenge: Option<&str>) -> SealedLogin {
    SealedLogin {
        client_id: "ck_1".into(),
        redirect_uri: "https://broker.example/callback".into(),
        state: state.map(str::to_owned),
        nonce: nonce.map(str::to_owned),
        code_challenge: challenge.map(str::to_owned),
    }
}

fn shape<'a>(
    uris: &'a [String],
    ids: Option<&'a [String]>,
    alphabet: StateAlphabet,
    max_bytes: Option<usize>,
) -> StateShape<'a> {
    StateShape {
        redirect_uris: uris,
        client_ids: ids,
        alphabet,
        max_bytes,
    }
}

#[test]
fn a_login_round_trips_in_either_alphabet_with_or_without_its_optional_fields() {
    let (uris, ids) = (uris(), ids());
    let logins = [
        login(Some("st-1"), Some("nc-1"), Some(CHALLENGE)),
        login(None, None, None),
        login(Some(""), None, Some(CHALLENGE)),
        login(Some("ü ünïcode &=?"), Some(&"n".repeat(512)), None),
        // No broker state, but a nonce and a challenge after where it would be.
        login(None, Some("nc-1"), Some(CHALLENGE)),
        // A length whose varint's low byte has its top bit set (200 = 0xC8).
        login(Some(&"s".repeat(200)), None, None),
    ];
    for alphabet in [StateAlphabet::Base64Url, StateAlphabet::Alphanumeric] {
        for client_ids in [Some(&ids[..]), None] {
            let shape = shape(&uris, client_ids, alphabet, None);
            for login in &logins {
                let text = seal_state(login, &sealer(), &shape, NOW + 600).unwrap();
                if alphabet == StateAlphabet::Alphanumeric {
                    assert!(text.bytes().all(|b| b.is_ascii_alphanumeric()), "{text}");
                }
                assert_eq!(&open_state(&sealer(), &shape, &text, NOW).unwrap(), login);
            }
        }
    }
    // A client outside the allow-list (a bridge that serves any) is carried as text.
    let mut other = login(Some("s"), None, None);
    other.client_id = "ck_not_listed".into();
    let shape = shape(&uris, Some(&ids), StateAlphabet::Base64Url, None);
    let text = seal_state(&other, &sealer(), &shape, NOW + 600).unwrap();
    assert_eq!(open_state(&sealer(), &shape, &text, NOW).unwrap(), other);
}

#[test]
fn a_state_expires_and_opens_only_for_its_bridge() {
    let (uris, ids) = (uris(), ids());
    let shape = shape(&uris, Some(&ids), StateAlphabet::Base64Url, None);
    let login = login(Some("s"), Some("n"), None);
    let text = seal_state(&login, &sealer(), &shape, NOW + 600).unwrap();
    assert!(open_state(&sealer(), &shape, &text, NOW + 599).is_ok());
    assert_eq!(
        open_state(&sealer(), &shape, &text, NOW + 600),
        Err(SealError::Expired)
    );
    let elsewhere = Sealer::new(&[[7; 32]], "https://gw.example/oidc/qq").unwrap();
    assert_eq!(
        open_state(&elsewhere, &shape, &text, NOW),
        Err(SealError::Invalid)
    );
    // A code or an access token sealed by the same bridge is no state.
    let code = sealer().seal(SealPurpose::Code, &login, NOW + 600);
    assert_eq!(
        open_state(&sealer(), &shape, &code, NOW),
        Err(SealError::Invalid)
    );
}

#[test]
fn any_altered_byte_or_character_is_refused() {
    let (uris, ids) = (uris(), ids());
    let login = login(Some("st-1"), Some("nc-1"), Some(CHALLENGE));
    let b64 = shape(&uris, Some(&ids), StateAlphabet::Base64Url, None);
    let text = seal_state(&login, &sealer(), &b64, NOW + 600).unwrap();
    let raw = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&text)
            .unwrap()
    };
    for i in 0..raw.len() {
        let mut altered = raw.clone();
        altered[i] ^= 0x01;
        assert_eq!(
            open_state(&sealer(), &b64, &base64url(&altered), NOW),
            Err(SealError::Invalid),
            "byte {i}"
        );
    }
    let alnum = shape(&uris, Some(&ids), StateAlphabet::Alphanumeric, None);
    let text = seal_state(&login, &sealer(), &alnum, NOW + 600).unwrap();
    for i in 0..text.len() {
        let mut altered = text.clone().into_bytes();
        altered[i] = if altered[i] == b'a' { b'b' } else { b'a' };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(
            open_state(&sealer(), &alnum, &altered, NOW),
            Err(SealError::Invalid),
            "character {i}"
        );
    }
    for junk in ["", "!", "AAAA", &"A".repeat(MAX_SEALED_TEXT + 1)] {
        assert_eq!(
            open_state(&sealer(), &alnum, junk, NOW),
            Err(SealError::Invalid)
        );
        assert_eq!(
            open_state(&sealer(), &b64, junk, NOW),
            Err(SealError::Invalid)
        );
    }
}

#[test]
fn a_reordered_allow_list_makes_the_login_start_again_rather_than_go_elsewhere() {
    let (uris, ids) = (uris(), ids());
    let before = shape(&uris, Some(&ids), StateAlphabet::Base64Url, None);
    let text = seal_state(&login(None, None, None), &sealer(), &before, NOW + 600).unwrap();
    let reversed: Vec<String> = uris.iter().rev().cloned().collect();
    let after = shape(&reversed, Some(&ids), StateAlphabet::Base64Url, None);
    assert_eq!(
        open_state(&sealer(), &after, &text, NOW),
        Err(SealError::Invalid)
    );
    let reversed_ids: Vec<String> = ids.iter().rev().cloned().collect();
    let after = shape(&uris, Some(&reversed_ids), StateAlphabet::Base64Url, None);
    assert_eq!(
        open_state(&sealer(), &after, &text, NOW),
        Err(SealError::Invalid)
    );
    let shorter = shape(&uris[..1], Some(&ids), StateAlphabet::Base64Url, None);
    assert_eq!(
        open_state(&sealer(), &shorter, &text, NOW),
        Err(SealError::Invalid)
    );
}

#[test]
fn a_login_longer_than_the_providers_cap_is_refused_with_the_sizes() {
    let (uris, ids) = (uris(), ids());
    // WeChat: at most 128 bytes of [a-zA-Z0-9].
    let wechat = shape(&uris, Some(&ids), StateAlphabet::Alphanumeric, Some(128));
    let fits = seal_state(
        &login(Some(&"s".repeat(32)), Some(&"n".repeat(16)), None),
        &sealer(),
        &wechat,
        NOW + 600,
    )
    .unwrap();
    assert!(fits.len() <= 128, "{}", fits.len());
    let too_long = seal_state(
        &login(Some(&"s".repeat(400)), Some(&"n".repeat(43)), None),
        &sealer(),
        &wechat,
        NOW + 600,
    )
    .unwrap_err();
    assert_eq!(too_long.cap, 128);
    assert!(too_long.needed > 128, "{too_long:?}");
    // Exactly at the cap is taken.
    let exact = shape(
        &uris,
        Some(&ids),
        StateAlphabet::Alphanumeric,
        Some(fits.len()),
    );
    assert!(seal_state(
        &login(Some(&"s".repeat(32)), Some(&"n".repeat(16)), None),
        &sealer(),
        &exact,
        NOW + 600
    )
    .is_ok());
}

#[test]
fn base62_round_trips_every_length_and_refuses_what_no_bytes_encode() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for len in 0..70 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        let text = base62::encode(&bytes);
        assert!(text.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(base62::decode(&text).unwrap(), bytes, "{len}");
    }
    assert_eq!(base62::encode(&[0xff; 8]), "LygHa16AHYF");
    assert_eq!(base62::encode(&[0]), "00");
    assert_eq!(base62::decode("zz"), None, "3843 is no single byte");
    assert_eq!(base62::decode("4"), None, "no block is one character long");
    assert_eq!(base62::decode("0-"), None);
    assert_eq!(
        base62::decode("LygHa16AHYG"),
        None,
        "2^64 is no eight bytes"
    );
}

#[test]
fn brokers_states_are_shorter_packed_than_as_json() {
    // (broker, redirect_uri, client_id, state length, nonce length, PKCE)
    let brokers = [
        (
            "Okta",
            "https://dev-123456.okta.com/oauth2/v1/authorize/callback",
            64,
            43,
            true,
        ),
        (
            "Keycloak",
            "https://kc.example.com/realms/customers/broker/tiktok/endpoint",
            96,
            22,
            true,
        ),
        (
            "Cognito",
            "https://example.auth.eu-west-1.amazoncognito.com/oauth2/idpresponse",
            440,
            43,
            false,
        ),
    ];
    for (broker, uri, state_len, nonce_len, pkce) in brokers {
        let uris = vec![uri.to_owned()];
        let ids = vec!["awlc7ns1bq2hx0gk".to_owned()];
        let login = SealedLogin {
            client_id: ids[0].clone(),
            redirect_uri: uri.to_owned(),
            state: Some("s".repeat(state_len)),
            nonce: Some("n".repeat(nonce_len)),
            code_challenge: pkce.then(|| CHALLENGE.to_owned()),
        };
        let json = sealer().seal(SealPurpose::State, &login, NOW + 600).len();
        let packed = |alphabet| {
            seal_state(
                &login,
                &sealer(),
                &shape(&uris, Some(&ids), alphabet, None),
                NOW + 600,
            )
            .unwrap()
            .len()
        };
        let (b64, alnum) = (
            packed(StateAlphabet::Base64Url),
            packed(StateAlphabet::Alphanumeric),
        );
        eprintln!(
            "{broker}: state {state_len}, nonce {nonce_len}, PKCE {pkce}: JSON {json}, packed base64url {b64}, packed alphanumeric {alnum}"
        );
        assert!(b64 + 100 < json, "{broker}: {b64} vs {json}");
        assert!(alnum < b64 + b64 / 20, "{broker}: {alnum} vs {b64}");
    }
}

#[test]
fn the_packed_form_names_its_version_in_the_flags_high_nibble() {
    // States in flight survive a rolling upgrade only if every replica
    // reads the same version: version 1 is 0x10 in the first byte.
    let uris = uris();
    let packed = pack(
        &login(None, None, None),
        &shape(&uris, None, StateAlphabet::Base64Url, None),
        NOW,
    );
    assert_eq!(packed[0], 0x10);
    assert_eq!(packed[1..5], (NOW as u32).to_be_bytes());
}

#[test]
fn a_sealed_state_longer_than_any_seal_is_refused_unopened() {
    let (uris, s) = (uris(), sealer());
    let shape = shape(&uris, None, StateAlphabet::Base64Url, None);
    let huge = login(Some(&"s".repeat(MAX_SEALED_TEXT)), None, None);
    let text = seal_state(&huge, &s, &shape, NOW + 60).unwrap();
    assert!(text.len() > MAX_SEALED_TEXT);
    assert_eq!(open_state(&s, &shape, &text, NOW), Err(SealError::Invalid));
}

#[test]
fn state_alphabets_are_named_by_their_config_words() {
    assert_eq!(
        StateAlphabet::parse("base64url"),
        Some(StateAlphabet::Base64Url)
    );
    assert_eq!(
        StateAlphabet::parse("alphanumeric"),
        Some(StateAlphabet::Alphanumeric)
    );
    for unknown in ["", "hex", "Base64Url", "alphanumeric "] {
        assert_eq!(StateAlphabet::parse(unknown), None, "{unknown:?}");
    }
}
