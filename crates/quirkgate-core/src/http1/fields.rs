//! Header fields as RFC 9110 defines them: one validator for names, one for
//! values, and the helpers both legs use to read lists and locate values.

use std::ops::Range;

/// How the gateway owns a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owned {
    /// The gateway writes it on every provider request: rules may not set it.
    Written,
    /// The gateway reads it from callers: it cannot carry a shared secret.
    Read,
}

/// The one list of headers the gateway owns (lower case).
pub(crate) const OWNED_HEADERS: [(&str, Owned); 7] = [
    ("host", Owned::Written),
    ("content-length", Owned::Written),
    ("transfer-encoding", Owned::Written),
    ("connection", Owned::Written),
    ("content-type", Owned::Written),
    ("authorization", Owned::Read),
    ("x-forwarded-for", Owned::Read),
];

/// How the gateway owns the header `lower_case_name`, if it does.
pub fn owned_header(lower_case_name: &str) -> Option<Owned> {
    OWNED_HEADERS
        .iter()
        .find(|(name, _)| *name == lower_case_name)
        .map(|(_, owned)| *owned)
}

/// A header name: an HTTP token.
pub(crate) fn is_field_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A header value HTTP allows on the wire: no control bytes but tab (bytes
/// of 0x80 and above are obs-text, allowed but opaque).
pub(crate) fn is_field_value(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80)
}

/// A header value the gateway reads as text: a field value that is ASCII
/// (visible characters, space, tab); `None` for anything else.
pub fn header_text(value: &[u8]) -> Option<&str> {
    if value.is_ascii() && is_field_value(value) {
        // ASCII is UTF-8.
        std::str::from_utf8(value).ok()
    } else {
        None
    }
}

/// Appends one `name: value` line; `false` (nothing appended) when either
/// would break the message.
pub(crate) fn push_field(wire: &mut Vec<u8>, name: &[u8], value: &[u8]) -> bool {
    if !is_field_name(name) || !is_field_value(value) {
        return false;
    }
    wire.extend_from_slice(name);
    wire.extend_from_slice(b": ");
    wire.extend_from_slice(value);
    wire.extend_from_slice(b"\r\n");
    true
}

/// The items of a comma-separated header value, trimmed.
pub(crate) fn list_items(value: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(<[u8]>::trim_ascii)
}

/// Where `part` (a slice of `whole`) sits in `whole`.
pub fn offset_in(whole: &[u8], part: &[u8]) -> Range<usize> {
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    start..start + part.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_that_would_split_the_message_are_refused() {
        let mut wire = Vec::new();
        assert!(push_field(&mut wire, b"X-Api-Version", b"2"));
        assert!(!push_field(&mut wire, b"X-Bad", b"a\r\nInjected: yes"));
        assert!(!push_field(&mut wire, b"Bad Name", b"v"));
        assert!(!push_field(&mut wire, b"", b"v"));
        assert_eq!(wire, b"X-Api-Version: 2\r\n");
    }

    #[test]
    fn header_text_refuses_control_and_non_ascii_bytes() {
        assert_eq!(header_text(b"Basic YTpi"), Some("Basic YTpi"));
        assert_eq!(header_text(b"a\tb"), Some("a\tb"));
        assert_eq!(header_text(b"a\x00b"), None);
        assert_eq!(header_text(b"a\x7fb"), None);
        assert_eq!(header_text("é".as_bytes()), None);
    }

    #[test]
    fn lists_are_split_and_trimmed_and_offsets_found() {
        let items: Vec<&[u8]> = list_items(b" keep-alive ,close,").collect();
        assert_eq!(items, vec![&b"keep-alive"[..], b"close", b""]);
        let whole = b"Host: gw\r\n";
        assert_eq!(offset_in(whole, &whole[6..8]), 6..8);
    }
}
