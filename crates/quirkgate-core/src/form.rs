//! A strict `application/x-www-form-urlencoded` codec that keeps every value in
//! its wire form until someone needs it decoded, so untouched parameters reach
//! the provider byte for byte and a rewrite allocates almost nothing.

use std::borrow::Cow;

use crate::byte_scan::{equal_to, next_stop};
use crate::oauth_error::{OAuthError, Reason};

/// Most parameters a token request may carry; RFC 6749 requests have about six.
pub const MAX_PARAMS: usize = 64;

/// Text of a name or value: still percent-encoded as received, or plain (from
/// the configuration or decoded by a rule) and encoded only on output.
#[derive(Clone, PartialEq, Eq)]
pub enum FormText<'a> {
    Encoded(&'a str),
    Plain(Cow<'a, str>),
}

impl<'a> FormText<'a> {
    pub fn plain(text: &'a str) -> Self {
        FormText::Plain(Cow::Borrowed(text))
    }

    /// The decoded text; borrows when nothing needs decoding.
    pub fn decoded(&self) -> Cow<'a, str> {
        match self {
            FormText::Plain(text) => text.clone(),
            FormText::Encoded(raw) if !has_escapes(raw) => Cow::Borrowed(raw),
            FormText::Encoded(raw) => {
                let bytes: Vec<u8> = decoded_bytes(raw).map(|b| b.unwrap_or(b'?')).collect();
                // parse_form already proved the decoded bytes are UTF-8.
                Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
            }
        }
    }

    /// Compares the decoded text without allocating. Decoding never makes
    /// text longer, and only `%` escapes make it shorter, so lengths settle
    /// most comparisons before any byte is decoded.
    pub fn is(&self, expected: &str) -> bool {
        match self {
            FormText::Plain(text) => text == expected,
            FormText::Encoded(raw) => {
                let (raw, want) = (raw.as_bytes(), expected.as_bytes());
                // The first byte settles most comparisons (rules look names
                // up among a handful of others): only `%` and `+` decode to
                // another byte, and empty text decodes only from empty text.
                match (raw.first(), want.first()) {
                    (None, None) => return true,
                    (None, Some(_)) | (Some(_), None) => return false,
                    (Some(&r), Some(&w)) if r != w && r != b'%' && r != b'+' => return false,
                    _ => {}
                }
                if raw.len() == want.len() {
                    // Same length: no `%` escape, and `+` is a space.
                    raw.iter()
                        .zip(want)
                        .all(|(&r, &w)| r != b'%' && (if r == b'+' { b' ' } else { r }) == w)
                } else if raw.len() < want.len() || !raw.contains(&b'%') {
                    false
                } else {
                    let mut want = want.iter().copied();
                    decoded_bytes(std::str::from_utf8(raw).unwrap_or_default())
                        .all(|b| b.ok() == want.next())
                        && want.next().is_none()
                }
            }
        }
    }

    fn write_encoded(&self, out: &mut String) {
        match self {
            FormText::Encoded(raw) => out.push_str(raw),
            FormText::Plain(text) => encode_component(text, out),
        }
    }

    fn encoded_len_hint(&self) -> usize {
        match self {
            FormText::Encoded(raw) => raw.len(),
            FormText::Plain(text) => text.len() * 3 / 2,
        }
    }
}

/// One `name=value` pair in the order the caller sent it.
#[derive(Clone, PartialEq, Eq)]
pub struct Param<'a> {
    pub name: FormText<'a>,
    pub value: FormText<'a>,
}

/// Names only: values are codes and secrets, so no `{:?}` can ever print one.
impl std::fmt::Debug for Param<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}=<redacted>", printable_name(&self.name.decoded()))
    }
}

impl<'a> Param<'a> {
    pub fn plain(name: &'a str, value: Cow<'a, str>) -> Self {
        Param {
            name: FormText::plain(name),
            value: FormText::Plain(value),
        }
    }
}

/// Parses a form body (or query string), refusing what a lenient parser would
/// silently mangle: bad percent-escapes, non-UTF-8, repeated parameters
/// (RFC 6749 §3.2) and absurd parameter counts.
///
/// One pass over the bytes splits each pair and checks its escapes as it
/// goes; only a component with an escape of a byte above 0x7F is decoded to
/// check that the result is UTF-8 (the raw text already is, and ASCII
/// escapes keep it so).
pub fn parse_form(input: &[u8]) -> Result<Vec<Param<'_>>, OAuthError> {
    let text = std::str::from_utf8(input)
        .map_err(|_| OAuthError::invalid_request("form body is not UTF-8", Reason::Malformed))?;
    let mut params: Vec<Param<'_>> = Vec::with_capacity(8);
    // Whether each kept name has escapes: names without any compare as bytes.
    let mut escaped_names = [false; MAX_PARAMS];
    let mut pairs = PairScanner { text, at: 0 };
    while let Some(pair) = pairs.next_pair() {
        if pair.name.is_empty() && pair.value.is_none() {
            continue;
        }
        if params.len() == MAX_PARAMS {
            return Err(OAuthError::invalid_request(
                format!("more than {MAX_PARAMS} parameters"),
                Reason::Malformed,
            ));
        }
        let (value, value_escapes) = pair.value.unwrap_or(("", Escapes::default()));
        for (part, escapes) in [(pair.name, pair.name_escapes), (value, value_escapes)] {
            if escapes.broken || (escapes.high && !is_valid_component(part)) {
                return Err(OAuthError::invalid_request(
                    "form body has invalid percent-encoding or non-UTF-8 text",
                    Reason::Malformed,
                ));
            }
        }
        let name_escaped = pair.name_escapes.any;
        let param = Param {
            name: FormText::Encoded(pair.name),
            value: FormText::Encoded(value),
        };
        let repeated = params
            .iter()
            .zip(&escaped_names)
            .any(|(kept, &kept_escaped)| {
                if !kept_escaped && !name_escaped {
                    matches!(kept.name, FormText::Encoded(raw) if raw == pair.name)
                } else {
                    same_text(&kept.name, &param.name)
                }
            });
        escaped_names[params.len()] = name_escaped;
        if repeated {
            let shown = param.name.decoded();
            return Err(OAuthError::invalid_request(
                format!("parameter '{}' is repeated", printable_name(&shown)),
                Reason::Malformed,
            ));
        }
        params.push(param);
    }
    Ok(params)
}

/// What one pass saw of a component's escapes.
#[derive(Clone, Copy, Default)]
struct Escapes {
    /// A `%` escape or a `+`: the raw text differs from the decoded.
    any: bool,
    /// A `%` not followed by two hex digits.
    broken: bool,
    /// A well-formed `%` escape of a byte above 0x7F.
    high: bool,
}

/// One `name[=value]` between `&`s; `value` is `None` without an `=`.
struct RawPair<'a> {
    name: &'a str,
    name_escapes: Escapes,
    value: Option<(&'a str, Escapes)>,
}

/// Splits a form into pairs in one pass over its bytes.
struct PairScanner<'a> {
    text: &'a str,
    /// Where the next pair starts; past the end when none is left.
    at: usize,
}

impl<'a> PairScanner<'a> {
    fn next_pair(&mut self) -> Option<RawPair<'a>> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        if start >= bytes.len() {
            return None;
        }
        let mut i = start;
        let mut equals = None;
        let (mut name_escapes, mut value_escapes) = (Escapes::default(), Escapes::default());
        loop {
            i = next_stop(bytes, i, |word| {
                equal_to(word, b'&')
                    | equal_to(word, b'=')
                    | equal_to(word, b'%')
                    | equal_to(word, b'+')
            });
            if i == bytes.len() {
                break;
            }
            let escapes = if equals.is_none() {
                &mut name_escapes
            } else {
                &mut value_escapes
            };
            match bytes[i] {
                b'&' => break,
                b'=' if equals.is_none() => equals = Some(i),
                b'+' => escapes.any = true,
                b'%' => {
                    escapes.any = true;
                    let hi = bytes.get(i + 1).copied().and_then(hex_value);
                    let lo = bytes.get(i + 2).copied().and_then(hex_value);
                    match (hi, lo) {
                        // Two hex digits: never `&` or `=`, so skip them.
                        (Some(hi), Some(_)) => {
                            escapes.high |= hi >= 8;
                            i += 2;
                        }
                        _ => escapes.broken = true,
                    }
                }
                _ => {}
            }
            i += 1;
        }
        self.at = i + 1;
        // `&`, `=` and hex digits are ASCII: every cut is a char boundary.
        Some(match equals {
            Some(at) => RawPair {
                name: &self.text[start..at],
                name_escapes,
                value: Some((&self.text[at + 1..i], value_escapes)),
            },
            None => RawPair {
                name: &self.text[start..i],
                name_escapes,
                value: None,
            },
        })
    }
}

/// Each parameter's decoded name and value, in order: the form as plain
/// text pairs, for tests, mocks and tools (the request path reads [`Param`]s).
pub fn owned_pairs(params: &[Param<'_>]) -> Vec<(String, String)> {
    params
        .iter()
        .map(|p| {
            (
                p.name.decoded().into_owned(),
                p.value.decoded().into_owned(),
            )
        })
        .collect()
}

/// Encodes parameters back to a form body, copying untouched ones verbatim.
pub fn encode_form(params: &[Param<'_>]) -> String {
    let capacity = params
        .iter()
        .map(|p| p.name.encoded_len_hint() + p.value.encoded_len_hint() + 2)
        .sum();
    let mut out = String::with_capacity(capacity);
    append_form(params, &mut out);
    out
}

/// Appends encoded parameters to `out`, separated by `&` from what is there.
pub fn append_form(params: &[Param<'_>], out: &mut String) {
    for param in params {
        if !out.is_empty() {
            out.push('&');
        }
        param.name.write_encoded(out);
        out.push('=');
        param.value.write_encoded(out);
    }
}

/// Percent-encodes one component the way browsers encode forms (WHATWG urlencoded).
pub fn encode_component(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
}

/// Decodes one component strictly, for callers holding raw text (Basic credentials).
pub fn decode_component(raw: &str) -> Option<String> {
    if !is_valid_component(raw) {
        return None;
    }
    let bytes: Vec<u8> = decoded_bytes(raw).map(|b| b.unwrap_or(0)).collect();
    String::from_utf8(bytes).ok()
}

/// A parameter name safe to echo in an error: printable and short.
pub fn printable_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(40)
        .collect()
}

/// Whether raw text holds a `%` escape or a `+`; without them raw equals decoded.
fn has_escapes(raw: &str) -> bool {
    raw.bytes().any(|b| b == b'%' || b == b'+')
}

/// Whether two names decode to the same text. `parse_form` compares names
/// without escapes as bytes itself, so here one of them has escapes; the same
/// spelling twice still needs no decoding.
fn same_text(a: &FormText<'_>, b: &FormText<'_>) -> bool {
    match (a, b) {
        (FormText::Encoded(x), FormText::Encoded(y)) if x == y => true,
        _ => a.is(&b.decoded()),
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decoded bytes of a component; `Err` marks a broken percent-escape.
fn decoded_bytes(raw: &str) -> impl Iterator<Item = Result<u8, ()>> + '_ {
    let bytes = raw.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        let b = *bytes.get(i)?;
        i += 1;
        Some(match b {
            b'+' => Ok(b' '),
            b'%' => {
                let hi = bytes.get(i).copied().and_then(hex_value);
                let lo = bytes.get(i + 1).copied().and_then(hex_value);
                match (hi, lo) {
                    (Some(h), Some(l)) => {
                        i += 2;
                        Ok(h << 4 | l)
                    }
                    _ => {
                        i = bytes.len();
                        Err(())
                    }
                }
            }
            other => Ok(other),
        })
    })
}

/// True when every escape is well formed and the decoded bytes are UTF-8
/// (checked as a stream, so validation allocates nothing).
fn is_valid_component(raw: &str) -> bool {
    if !raw.bytes().any(|b| b == b'%') {
        return true; // already valid UTF-8 as part of a &str
    }
    let (mut need, mut lower, mut upper) = (0u8, 0x80u8, 0xBFu8);
    for byte in decoded_bytes(raw) {
        let Ok(b) = byte else { return false };
        if need == 0 {
            match b {
                0x00..=0x7F => {}
                0xC2..=0xDF => need = 1,
                0xE0 => (need, lower) = (2, 0xA0),
                0xE1..=0xEC | 0xEE..=0xEF => need = 2,
                0xED => (need, upper) = (2, 0x9F),
                0xF0 => (need, lower) = (3, 0x90),
                0xF1..=0xF3 => need = 3,
                0xF4 => (need, upper) = (3, 0x8F),
                _ => return false,
            }
        } else {
            if b < lower || b > upper {
                return false;
            }
            (lower, upper) = (0x80, 0xBF);
            need -= 1;
        }
    }
    need == 0
}

#[cfg(test)]
mod tests {
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
}
