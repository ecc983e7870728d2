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
mod tests;
