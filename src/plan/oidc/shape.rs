//! What an `oidc:` block says about the shape of what the bridge sends: the
//! subject's prefix, and the provider's `state` (its alphabet and cap).

use quirkgate_core::oidc::state::StateAlphabet;

/// OIDC Core §2 caps `sub` at 255 ASCII characters: most of it is the provider's.
const MAX_SUBJECT_PREFIX_BYTES: usize = 64;
/// The smallest provider `state` cap a bridge works with: a login with no
/// broker state or nonce seals to about 50 characters.
const MIN_STATE_BYTES: usize = 64;

/// `subject_prefix:` (`tiktok|`), empty when absent.
pub(super) fn subject_prefix(text: Option<&str>) -> Result<String, String> {
    let prefix = text.unwrap_or_default();
    if prefix.len() > MAX_SUBJECT_PREFIX_BYTES || !prefix.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "subject_prefix: at most {MAX_SUBJECT_PREFIX_BYTES} visible ASCII characters (`tiktok|`)"
        ));
    }
    Ok(prefix.to_owned())
}

/// `state_alphabet:` and `state_max_bytes:`, the block's over the preset's.
pub(super) fn provider_state(
    max_bytes: Option<usize>,
    alphabet: Option<&str>,
) -> Result<(StateAlphabet, Option<usize>), Vec<String>> {
    let mut errors = Vec::new();
    let alphabet = match alphabet {
        None => StateAlphabet::default(),
        Some(word) => StateAlphabet::parse(word).unwrap_or_else(|| {
            errors.push(format!(
                "state_alphabet: '{word}' is not base64url or alphanumeric"
            ));
            StateAlphabet::default()
        }),
    };
    if max_bytes.is_some_and(|cap| cap < MIN_STATE_BYTES) {
        errors.push(format!(
            "state_max_bytes: at least {MIN_STATE_BYTES} (a sealed login needs that much)"
        ));
    }
    if errors.is_empty() {
        Ok((alphabet, max_bytes))
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_prefix_is_short_visible_ascii() {
        assert_eq!(subject_prefix(None).unwrap(), "");
        assert_eq!(subject_prefix(Some("tiktok|")).unwrap(), "tiktok|");
        assert!(subject_prefix(Some(&"p".repeat(64))).is_ok());
        for bad in ["tik tok|", "tiktök|", "a\tb", &"p".repeat(65)] {
            let e = subject_prefix(Some(bad)).unwrap_err();
            assert!(e.starts_with("subject_prefix:"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_providers_state_has_a_known_alphabet_and_a_workable_cap() {
        assert_eq!(
            provider_state(None, None).unwrap(),
            (StateAlphabet::Base64Url, None)
        );
        assert_eq!(
            provider_state(Some(128), Some("alphanumeric")).unwrap(),
            (StateAlphabet::Alphanumeric, Some(128))
        );
        assert!(provider_state(Some(64), Some("base64url")).is_ok());
        let errors = provider_state(Some(63), Some("base32")).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("'base32' is not base64url or alphanumeric"));
        assert!(errors[1].contains("state_max_bytes: at least 64"));
    }
}
