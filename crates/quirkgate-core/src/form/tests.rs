//! The form codec, tested: round trips, byte-for-byte passthrough, refusals.

use super::*;

#[test]
fn parses_in_order_and_decodes_escapes_and_plus() {
    let body = b"grant_type=authorization_code&code=a%2Ab%21c&redirect_uri=https%3A%2F%2Fx.example%2Fcb&state=a+b";
    let params = parse_form(body).unwrap();
    assert_eq!(
        owned_pairs(&params),
        vec![
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), "a*b!c".into()),
            ("redirect_uri".into(), "https://x.example/cb".into()),
            ("state".into(), "a b".into()),
        ]
    );
}

#[test]
fn lowercase_and_uppercase_hex_escapes_decode_alike() {
    let params = parse_form(b"a=%2a%2A%7e%7E%c3%a9%C3%A9%0a%ff%FF").unwrap_err();
    assert_eq!(params.reason.as_str(), "malformed", "%ff is not UTF-8");
    let params = parse_form(b"a=%2a%2A%7e%7E%c3%a9%C3%A9%0a%3d%3D%c2%af%C2%AF").unwrap();
    assert_eq!(params[0].value.decoded(), "**~~éé\n==\u{af}\u{af}");
    assert!(params[0].value.is("**~~éé\n==\u{af}\u{af}"));
    assert!(parse_form(b"client%5fid=a&client_id=b").is_err());
}

#[test]
fn untouched_params_round_trip_byte_for_byte() {
    let body = "code=%7Eodd%20but%20valid&x=1&empty=&flag";
    let params = parse_form(body.as_bytes()).unwrap();
    assert_eq!(
        encode_form(&params),
        "code=%7Eodd%20but%20valid&x=1&empty=&flag="
    );
}

#[test]
fn rejects_broken_percent_escapes() {
    for body in [
        "code=%zz",
        "code=%4",
        "code=abc%",
        "a%2=1",
        "code=%",
        "code=%%",
        "%=1",
    ] {
        let err = parse_form(body.as_bytes()).unwrap_err();
        assert_eq!(
            (err.status, err.reason.as_str()),
            (400, "malformed"),
            "{body}"
        );
    }
}

#[test]
fn rejects_non_utf8_raw_and_escaped() {
    assert!(parse_form(b"code=\xff\xfe").is_err());
    assert!(parse_form(b"code=%FF%FE").is_err());
    assert!(parse_form(b"code=%C0%AF").is_err(), "overlong encoding");
    assert!(parse_form(b"code=%ED%A0%80").is_err(), "surrogate");
    assert!(parse_form("code=%C3%A9t%C3%A9".as_bytes()).is_ok());
}

#[test]
fn accepts_every_utf8_length_and_refuses_just_past_each_boundary() {
    // First and last valid sequences of every lead-byte class (RFC 3629 table).
    for valid in [
        "%C2%80",
        "%DF%BF",
        "%E0%A0%80",
        "%E0%BF%BF",
        "%E1%80%80",
        "%EC%BF%BF",
        "%ED%80%80",
        "%ED%9F%BF",
        "%EE%80%80",
        "%EF%BF%BF",
        "%F0%90%80%80",
        "%F0%BF%BF%BF",
        "%F1%80%80%80",
        "%F3%BF%BF%BF",
        "%F4%80%80%80",
        "%F4%8F%BF%BF",
    ] {
        let body = format!("v={valid}");
        let params = parse_form(body.as_bytes()).unwrap_or_else(|e| panic!("{valid}: {e:?}"));
        let bytes = decode_component(valid).unwrap().into_bytes();
        assert_eq!(params[0].value.decoded().as_bytes(), &bytes[..], "{valid}");
    }
    for invalid in [
        "%C1%BF",
        "%C2%7F",
        "%C2%C0",
        "%E0%9F%BF",
        "%ED%A0%80",
        "%F0%8F%BF%BF",
        "%F4%90%80%80",
        "%F5%80%80%80",
        "%E1%80",
        "%80",
    ] {
        let body = format!("v={invalid}");
        assert!(parse_form(body.as_bytes()).is_err(), "{invalid}");
    }
}

#[test]
fn rejects_repeated_parameters_even_when_spelled_differently() {
    let err = parse_form(b"client_id=a&client_id=b").unwrap_err();
    assert_eq!(err.description, "parameter 'client_id' is repeated");
    let err = parse_form(b"client_id=a&client%5Fid=a").unwrap_err();
    assert_eq!(err.description, "parameter 'client_id' is repeated");
    // Only printable ASCII of the name is echoed, and at most 40 characters.
    let long = format!("{}%0A=1&{}%0A=2", "n".repeat(50), "n".repeat(50));
    let err = parse_form(long.as_bytes()).unwrap_err();
    assert_eq!(
        err.description,
        format!("parameter '{}' is repeated", "n".repeat(40))
    );
    // The escaped spelling first: the kept name has escapes, the new one none.
    assert!(parse_form(b"client%5Fid=a&client_id=b").is_err());
    assert!(parse_form(b"client+id=a&client%20id=b").is_err());
    // Different names with escapes on either side stay distinct.
    assert!(parse_form(b"client%5Fid=a&client_ids=b&client_i=c").is_ok());
}

#[test]
fn debug_names_a_parameter_and_never_prints_its_value() {
    let params = parse_form(b"client_secret=s3cr%2Bt&code=abc").unwrap();
    assert_eq!(
        format!("{params:?}"),
        "[client_secret=<redacted>, code=<redacted>]"
    );
}

#[test]
fn decoded_borrows_unless_something_needs_decoding() {
    let params = parse_form(b"code=abc&state=a+b%21").unwrap();
    assert!(matches!(params[0].value.decoded(), Cow::Borrowed("abc")));
    assert!(matches!(params[1].value.decoded(), Cow::Owned(ref s) if s == "a b!"));
}

#[test]
fn rejects_too_many_parameters() {
    let body: String = (0..=MAX_PARAMS).map(|i| format!("p{i}=v&")).collect();
    assert_eq!(
        parse_form(body.as_bytes()).unwrap_err().reason.as_str(),
        "malformed"
    );
}

#[test]
fn plain_values_are_encoded_on_output() {
    let params = vec![Param::plain("client_key", Cow::Borrowed("a b&c=d/é"))];
    assert_eq!(encode_form(&params), "client_key=a+b%26c%3Dd%2F%C3%A9");
    let encoded = encode_form(&params);
    let back = parse_form(encoded.as_bytes()).unwrap();
    assert_eq!(back[0].value.decoded(), "a b&c=d/é");
}

/// The parser before the one-pass scanner: split on `&` then `=`, then
/// check each component's escapes and UTF-8 by decoding it. The
/// scanner must agree with it on every input, error for error.
fn reference_parse(input: &[u8]) -> Result<Vec<(String, String)>, String> {
    let text = std::str::from_utf8(input).map_err(|_| "form body is not UTF-8".to_string())?;
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut out = Vec::new();
    for pair in text.split('&').filter(|pair| !pair.is_empty()) {
        if out.len() == MAX_PARAMS {
            return Err(format!("more than {MAX_PARAMS} parameters"));
        }
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |part: &str| -> Option<Vec<u8>> {
            let bytes: Result<Vec<u8>, ()> = decoded_bytes(part).collect();
            bytes.ok().filter(|b| std::str::from_utf8(b).is_ok())
        };
        let (Some(decoded_name), Some(_)) = (decode(name), decode(value)) else {
            return Err("form body has invalid percent-encoding or non-UTF-8 text".into());
        };
        if seen.contains(&decoded_name) {
            let shown = String::from_utf8(decoded_name).unwrap();
            return Err(format!(
                "parameter '{}' is repeated",
                printable_name(&shown)
            ));
        }
        seen.push(decoded_name);
        out.push((name.to_string(), value.to_string()));
    }
    Ok(out)
}

fn raw_pairs(params: &[Param<'_>]) -> Vec<(String, String)> {
    let raw = |text: &FormText<'_>| match text {
        FormText::Encoded(raw) => raw.to_string(),
        FormText::Plain(_) => panic!("parse_form keeps the wire form"),
    };
    params
        .iter()
        .map(|p| (raw(&p.name), raw(&p.value)))
        .collect()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
    #[test]
    fn one_pass_scanner_agrees_with_the_reference_parser(
        pieces in proptest::collection::vec(proptest::sample::select(vec![
            &b"a"[..], b"b", b"=", b"&", b"%", b"2", b"F", b"f", b"C", b"3", b"8", b"0",
            b"A", b"+", b"z", "é".as_bytes(), b"\xff", b"%C3", b"%A9", b"%2B", b"%5F", b"%80",
            b"%ED", b"%A0", b"%E0", b"\x00",
        ]), 0..48)
    ) {
        let body: Vec<u8> = pieces.concat();
        let ours = parse_form(&body).map(|p| raw_pairs(&p)).map_err(|e| e.description.to_string());
        proptest::prop_assert_eq!(ours, reference_parse(&body), "{:?}", String::from_utf8_lossy(&body));
    }
}

#[test]
fn one_pass_scanner_splits_like_the_reference_at_the_edges() {
    for body in [
        "",
        "&",
        "&&",
        "=",
        "==",
        "a==b",
        "=b",
        "a=",
        "a",
        "a&b",
        "&a=1&",
        "a=1&&b=2",
        "a%3D=1",
        "a=%26&b=%3d",
        "%=1",
        "a%=1",
        "a=%",
        "a=%2",
        "a=%2&b=1",
        "a=%%41",
        "a=1&A=2",
        "a+b=1&a%20b=2",
        "a=%C3%A9&b=%C3",
        "a=%C3&b=%A9",
    ] {
        let ours = parse_form(body.as_bytes())
            .map(|p| raw_pairs(&p))
            .map_err(|e| e.description.to_string());
        assert_eq!(ours, reference_parse(body.as_bytes()), "{body:?}");
    }
    let many: String = (0..=MAX_PARAMS).map(|i| format!("p{i}=%zz&")).collect();
    assert_eq!(
        parse_form(many.as_bytes()).unwrap_err().description,
        reference_parse(many.as_bytes()).unwrap_err(),
        "the count is checked before the 65th pair's escapes"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
    #[test]
    fn is_agrees_with_comparing_the_decoded_text(
        raw in proptest::collection::vec(proptest::sample::select(vec![
            "a", "b", "_", "+", " ", "%20", "%2B", "%61", "%62", "%5F", "%C3%A9", "é", "%25", "%",
        ]), 0..6),
        expected in proptest::collection::vec(proptest::sample::select(vec![
            "a", "b", "_", "+", " ", "é", "%", "%20",
        ]), 0..6),
    ) {
        let body = format!("n={}", raw.concat());
        let expected = expected.concat();
        // Components the parser refuses (a bare `%`) are not compared.
        if let Ok(params) = parse_form(body.as_bytes()) {
            let value = &params[0].value;
            proptest::prop_assert_eq!(
                value.is(&expected),
                value.decoded() == expected,
                "{:?} against {:?}", body, expected
            );
        }
    }
}

#[test]
fn is_compares_decoded_text() {
    let params = parse_form(b"grant_type=refresh%5Ftoken").unwrap();
    assert!(params[0].value.is("refresh_token"));
    assert!(!params[0].value.is("refresh_toke"));
    assert!(!params[0].value.is("refresh_tokens"));
}
