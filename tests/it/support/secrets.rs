//! Finding a secret in logs, metrics and answers, in any form a logger or a
//! formatter may give it.

/// Every form a logger or formatter may give `secret`: as is, percent-encoded,
/// base64, hex, Debug-escaped, and the `'a', 'b'` / `[97, 98` list forms a
/// `Debug` of chars or bytes prints. Each half of a long secret is included
/// too, so a secret cut across two chunks is still found.
pub fn secret_forms(secret: &str) -> Vec<String> {
    use base64::Engine;
    let mut pieces = vec![secret.to_owned()];
    if secret.len() >= 16 {
        let half = secret.len() / 2;
        pieces.push(secret[..half].to_owned());
        pieces.push(secret[half..].to_owned());
    }
    let mut forms = Vec::new();
    for piece in &pieces {
        let bytes = piece.as_bytes();
        forms.push(piece.clone());
        let escaped = format!("{piece:?}");
        forms.push(escaped[1..escaped.len() - 1].to_owned());
        forms.push(
            bytes
                .iter()
                .map(|b| format!("%{b:02X}"))
                .collect::<String>(),
        );
        forms.push(
            bytes
                .iter()
                .map(|b| format!("%{b:02x}"))
                .collect::<String>(),
        );
        for engine in [
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            // Base64 of the piece at each of the three alignments it can have
            // inside a longer value (e.g. `id:secret` in a Basic header).
            for pad in 0..3 {
                let mut shifted = vec![b'x'; pad];
                shifted.extend_from_slice(bytes);
                let encoded = engine.encode(&shifted);
                // Drop the characters that depend on the padding bytes or on
                // what follows.
                let skip = if pad == 0 { 0 } else { 4 };
                let keep = encoded.len().saturating_sub(4);
                if keep > skip + 8 {
                    forms.push(encoded[skip..keep].to_owned());
                }
            }
        }
        forms.push(bytes.iter().map(|b| format!("{b:02x}")).collect());
        forms.push(bytes.iter().map(|b| format!("{b:02X}")).collect());
        forms.push(
            bytes
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" "),
        );
        forms.push(
            piece
                .chars()
                .map(|c| format!("{c:?}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        forms.push(
            piece
                .chars()
                .map(|c| format!("{c:?}"))
                .collect::<Vec<_>>()
                .join(","),
        );
        forms.push(
            bytes
                .iter()
                .map(|b| b.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        );
        forms.push(
            bytes
                .iter()
                .map(|b| b.to_string())
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    forms.sort();
    forms.dedup();
    forms
}

/// Panics when `haystack` holds any form (see `secret_forms`) of any secret.
pub fn assert_no_secret(haystack: &str, place: &str, secrets: &[String]) {
    for secret in secrets {
        for form in secret_forms(secret) {
            if let Some(at) = haystack.find(&form) {
                let start = haystack[..at].rfind('\n').map_or(0, |i| i + 1);
                let end = haystack[at..].find('\n').map_or(haystack.len(), |i| at + i);
                panic!(
                    "{place} leaks {secret:?} as {form:?} in:\n{}",
                    &haystack[start..end]
                );
            }
        }
    }
}
