//! The top-level fields of a JSON object that someone asked for, parsed, with
//! the rest of the document only checked: a token answer whose rules merely
//! look (is there an `error`?) goes back byte for byte, so building every
//! field would be wasted work.
//!
//! The check is RFC 8259's grammar, in one pass and without recursion, and
//! it agrees with `serde_json` on what a JSON text is (the tests and the
//! `json_object` fuzz target compare the two), with one deliberate
//! difference: the whole body must be UTF-8 (RFC 8259 §8.1), where
//! `serde_json` lets invalid UTF-8 through inside strings it skips.
//! Selected values and escaped names are handed to `serde_json` itself.

use serde_json::{Map, Value};

use crate::byte_scan::{below, equal_to, next_stop};

/// The top-level fields of `body` whose (decoded) names `keep` selects.
/// `None` unless `body` is exactly one JSON object, with only whitespace
/// around it. A name given twice keeps its last value, as `serde_json` does.
pub fn object_fields(body: &[u8], keep: impl Fn(&str) -> bool) -> Option<Map<String, Value>> {
    let text = std::str::from_utf8(body).ok()?;
    let mut scan = Scanner {
        bytes: text.as_bytes(),
        at: 0,
    };
    let mut fields = Map::new();
    scan.skip_whitespace();
    scan.eat(b'{')?;
    scan.skip_whitespace();
    if scan.peek() == Some(b'}') {
        scan.at += 1;
    } else {
        loop {
            let name_start = scan.at;
            scan.eat(b'"')?;
            let escaped = scan.string_rest()?;
            let name_end = scan.at;
            scan.skip_whitespace();
            scan.eat(b':')?;
            scan.skip_whitespace();
            let value_start = scan.at;
            scan.value()?;
            let value = &body[value_start..scan.at];
            let name: std::borrow::Cow<'_, str> = if escaped {
                serde_json::from_slice::<String>(&body[name_start..name_end])
                    .ok()?
                    .into()
            } else {
                text[name_start + 1..name_end - 1].into()
            };
            if keep(&name) {
                fields.insert(name.into_owned(), serde_json::from_slice(value).ok()?);
            }
            scan.skip_whitespace();
            match scan.next()? {
                b',' => scan.skip_whitespace(),
                b'}' => break,
                _ => return None,
            }
        }
    }
    scan.skip_whitespace();
    (scan.at == body.len()).then_some(fields)
}

struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn eat(&mut self, expected: u8) -> Option<()> {
        (self.next()? == expected).then_some(())
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\t' | b'\r')) {
            self.at += 1;
        }
    }

    fn skip_digits(&mut self) -> usize {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        self.at - start
    }

    /// After an opening `"`: up to and past the closing one. Whether the
    /// string has escapes; `None` on a control character or a bad escape.
    fn string_rest(&mut self) -> Option<bool> {
        let mut escaped = false;
        loop {
            self.skip_plain_string_bytes();
            match self.next()? {
                b'"' => return Some(escaped),
                b'\\' => {
                    escaped = true;
                    match self.next()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            for _ in 0..4 {
                                if !self.next()?.is_ascii_hexdigit() {
                                    return None;
                                }
                            }
                        }
                        _ => return None,
                    }
                }
                0x00..=0x1F => return None,
                _ => {}
            }
        }
    }

    /// Skips string bytes that need no look: all but `"`, `\` and control characters.
    fn skip_plain_string_bytes(&mut self) {
        self.at = next_stop(self.bytes, self.at, |word| {
            equal_to(word, b'"') | equal_to(word, b'\\') | below(word, 0x20)
        });
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.next()? {
            b'0' => {
                if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    return None;
                }
            }
            b'1'..=b'9' => {
                self.skip_digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.skip_digits() == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.skip_digits() == 0 {
                return None;
            }
        }
        Some(())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// One whole value, nested arrays and objects included, without
    /// recursion: `open` holds the brackets still open.
    fn value(&mut self) -> Option<()> {
        let mut open: Vec<u8> = Vec::new();
        loop {
            // A value is expected here.
            self.skip_whitespace();
            match self.peek()? {
                bracket @ (b'{' | b'[') => {
                    let close = if bracket == b'{' { b'}' } else { b']' };
                    self.at += 1;
                    self.skip_whitespace();
                    if self.peek() == Some(close) {
                        self.at += 1;
                    } else {
                        open.push(close);
                        if close == b'}' {
                            self.member_name()?;
                        }
                        continue;
                    }
                }
                b'"' => {
                    self.at += 1;
                    self.string_rest()?;
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return None,
            }
            // A value just ended: close what it ends, or go on to the next.
            loop {
                let Some(&close) = open.last() else {
                    return Some(());
                };
                self.skip_whitespace();
                let byte = self.next()?;
                if byte == close {
                    open.pop();
                } else if byte == b',' {
                    if close == b'}' {
                        self.skip_whitespace();
                        self.member_name()?;
                    }
                    break;
                } else {
                    return None;
                }
            }
        }
    }

    /// `"name" :` inside an object being skipped.
    fn member_name(&mut self) -> Option<()> {
        self.eat(b'"')?;
        self.string_rest()?;
        self.skip_whitespace();
        self.eat(b':')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What `serde_json` says when it reads the same object the way the
    /// gateway did before this scanner: names decoded, every field built.
    /// (It skips unselected values with `IgnoredAny`, so out-of-range numbers
    /// and lone surrogates there are fine; built here, they would not be.)
    fn oracle(body: &[u8]) -> Option<Map<String, Value>> {
        oracle_selecting(body, |_| true)
    }

    fn oracle_selecting(body: &[u8], keep: impl Fn(&str) -> bool) -> Option<Map<String, Value>> {
        struct Selected<F>(F);
        impl<'de, F: Fn(&str) -> bool> serde::de::Visitor<'de> for Selected<F> {
            type Value = Map<String, Value>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut fields = Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    if (self.0)(&key) {
                        fields.insert(key, map.next_value()?);
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(fields)
            }
        }
        use serde::Deserializer as _;
        // The one deliberate difference: the whole body must be UTF-8.
        std::str::from_utf8(body).ok()?;
        let mut input = serde_json::Deserializer::from_slice(body);
        let fields = (&mut input).deserialize_map(Selected(keep)).ok()?;
        input.end().ok()?;
        Some(fields)
    }

    fn selected(map: Map<String, Value>, keep: &[&str]) -> Map<String, Value> {
        map.into_iter()
            .filter(|(k, _)| keep.contains(&k.as_str()))
            .collect()
    }

    #[test]
    fn finds_the_selected_fields_and_only_checks_the_others() {
        let body = br#" {"access_token":"act.1","data":{"error_code":0,"x":[1,{"y":null}]},
            "er\u0072or":"e","n":-1.5e+3,"t":true,"f":false,"z":null,"s":"a\"\\\/\b\f\n\r\t\u00e9"} "#;
        let keep = ["data", "error", "missing"];
        let ours = object_fields(body, |k| keep.contains(&k)).unwrap();
        assert_eq!(ours, selected(oracle(body).unwrap(), &keep));
        assert_eq!(ours["error"], "e", "escaped names are matched decoded");
        assert_eq!(ours.len(), 2);
        assert_eq!(object_fields(b"{}", |_| true), Some(Map::new()));
        assert_eq!(object_fields(b" { } \r\n", |_| true), Some(Map::new()));
    }

    #[test]
    fn a_repeated_name_keeps_its_last_value() {
        let body = br#"{"error":"first","error":"second"}"#;
        let ours = object_fields(body, |_| true).unwrap();
        assert_eq!(ours["error"], "second");
        assert_eq!(Some(ours), oracle(body));
    }

    #[test]
    fn refuses_what_is_not_exactly_one_json_object() {
        for body in [
            &b""[..],
            b" ",
            b"[1]",
            b"\"s\"",
            b"1",
            b"null",
            b"{\"a\":1} {}",
            b"{\"a\":1}x",
            b"{\"a\":}",
            b"{\"a\":1",
            b"{\"a\" 1}",
            b"{a:1}",
            b"{\"a\":1,}",
            b"{,}",
            b"{\"a\":[1,]}",
            b"{\"a\":[1 2]}",
            b"{\"a\":{\"b\"}}",
            b"{\"a\":{\"b\":1,}}",
            b"{\"a\":{\"b\":1]}",
            b"{\"a\":[1}",
            b"{\"a\":01}",
            b"{\"a\":-}",
            b"{\"a\":1.}",
            b"{\"a\":.5}",
            b"{\"a\":1e}",
            b"{\"a\":1e+}",
            b"{\"a\":+1}",
            b"{\"a\":tru}",
            b"{\"a\":nul}",
            b"{\"a\":True}",
            b"{\"a\":\"\x01\"}",
            b"{\"a\":\"\\x\"}",
            b"{\"a\":\"\\u12G4\"}",
            b"{\"a\":\"open}",
            b"{\"a\":1}\x00",
            b"\xef\xbb\xbf{}",
            b"<html>",
        ] {
            // Refused whether or not the broken field is one the rules read
            // (a skipped field never reaches serde_json).
            for keep in [true, false] {
                assert_eq!(
                    object_fields(body, |_| keep),
                    None,
                    "{:?} (kept: {keep})",
                    String::from_utf8_lossy(body)
                );
            }
            assert_eq!(oracle(body), None, "serde_json agrees on {body:?}");
        }
    }

    #[test]
    fn the_eight_at_a_time_skip_stops_at_the_first_stop_byte_wherever_it_is() {
        // Neighbours of the stop bytes: one above a control character, one
        // either side of `"` and `\\`, DEL, and UTF-8 (bytes from 0x80).
        let fillers = ["a", " ", "!", "#", "[", "]", "\u{7f}", "é", "€"];
        for filler in fillers {
            for len in 0..20 {
                for at in 0..=len {
                    for stop in ["\"", "\\n", "\\u00e9", "\u{1f}", "\u{0}", "\n", "\\x"] {
                        let mut text = filler.repeat(at);
                        text.push_str(stop);
                        text.push_str(&filler.repeat(len - at));
                        let body = format!(r#"{{"error":"{text}","k":"{text}"}}"#);
                        assert_eq!(
                            object_fields(body.as_bytes(), |k| k == "error"),
                            oracle_selecting(body.as_bytes(), |k| k == "error"),
                            "{body:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_whole_body_must_be_utf8_even_in_skipped_strings() {
        let body = b"{\"access_token\":\"\xff\"}";
        assert_eq!(object_fields(body, |_| false), None);
    }

    #[test]
    fn escaped_names_are_decoded_as_serde_json_decodes_them() {
        for body in [
            &br#"{"\ud800":1}"#[..],
            br#"{"\ud83d\ude00":1}"#,
            br#"{"\u0000":1}"#,
            br#"{"a\/b":1}"#,
        ] {
            assert_eq!(object_fields(body, |_| true), oracle(body), "{body:?}");
        }
    }

    #[test]
    fn deep_nesting_in_a_skipped_value_is_checked_without_recursion() {
        let depth = 100_000;
        let deep = format!(r#"{{"a":{}1{}}}"#, "[".repeat(depth), "]".repeat(depth));
        assert_eq!(object_fields(deep.as_bytes(), |_| false), Some(Map::new()));
        let unbalanced = format!(r#"{{"a":{}1{}}}"#, "[".repeat(depth), "]".repeat(depth - 1));
        assert_eq!(object_fields(unbalanced.as_bytes(), |_| false), None);
    }

    /// Bytes an edit may write: JSON's syntax, and a few that start values.
    const SYNTAX: &[u8] = b"{}[]:,\"\\ 0e-";

    /// JSON-ish text: mostly well formed, often broken.
    fn jsonish() -> impl Strategy<Value = Vec<u8>> {
        let leaf = prop::sample::select(vec![
            "0",
            "-1",
            "1.5",
            "1e3",
            "-0.0E-2",
            "01",
            "1.",
            "true",
            "false",
            "null",
            "nul",
            "\"\"",
            "\"a\"",
            "\"\\u00e9\"",
            "\"\\ud83d\\ude00\"",
            "\"\\q\"",
            "\"é\"",
            "{}",
            "[]",
        ])
        .prop_map(|s| s.to_string());
        let value = leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec(
                    (
                        prop::sample::select(vec!["a", "error", "er\\u0072or", "b c"]),
                        inner
                    ),
                    0..4
                )
                .prop_map(|v| {
                    let members: Vec<String> =
                        v.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        });
        let object = prop::collection::vec(
            (
                prop::sample::select(vec!["a", "error", "er\\u0072or", "data"]),
                value,
            ),
            0..5,
        )
        .prop_map(|v| {
            let members: Vec<String> = v
                .into_iter()
                .map(|(k, v)| format!("\"{k}\" : {v}"))
                .collect();
            format!(" {{{}}}\n", members.join(" ,"))
        });
        // Then break some of them: cut, duplicate or overwrite a byte.
        (
            object,
            prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>()), 0..2),
        )
            .prop_map(|(text, edits)| {
                let mut bytes = text.into_bytes();
                for (at, kind, byte) in edits {
                    let i = at.index(bytes.len().max(1)).min(bytes.len());
                    match kind {
                        0 => bytes.truncate(i),
                        1 if i < bytes.len() => bytes.insert(i, bytes[i]),
                        2 if i < bytes.len() => bytes[i] = SYNTAX[byte as usize % SYNTAX.len()],
                        _ => {}
                    }
                }
                bytes
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn agrees_with_serde_json(body in jsonish()) {
            let keep = ["error", "data"];
            let ours = object_fields(&body, |k| keep.contains(&k));
            let theirs = oracle_selecting(&body, |k| keep.contains(&k));
            prop_assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(&body));
        }
    }
}
