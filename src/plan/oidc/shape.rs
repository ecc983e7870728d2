//! What an `oidc:` block says about the shape of what the bridge sends: the
//! subject's prefix, and the provider's `state` (its alphabet and cap).

use quirkgate_core::oidc::provider_pkce::ProviderPkce;
use quirkgate_core::oidc::state::StateAlphabet;

use crate::plan::error::{BridgeRefusal as Refusal, ConfigError, ConfigErrorKind, KeyPath};

/// OIDC Core §2 caps `sub` at 255 ASCII characters: most of it is the provider's.
const MAX_SUBJECT_PREFIX_BYTES: usize = 64;
/// The smallest provider `state` cap a bridge works with: a login with no
/// broker state or nonce seals to about 50 characters.
const MIN_STATE_BYTES: usize = 64;

/// `subject_prefix:` (`tiktok|`), empty when absent.
pub(super) fn subject_prefix(text: Option<&str>) -> Result<String, ConfigError> {
    let prefix = text.unwrap_or_default();
    if prefix.len() > MAX_SUBJECT_PREFIX_BYTES || !prefix.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(refused(
            "subject_prefix",
            Refusal::SubjectPrefix {
                max: MAX_SUBJECT_PREFIX_BYTES,
            },
        ));
    }
    Ok(prefix.to_owned())
}

/// `state_alphabet:` and `state_max_bytes:`, the block's over the preset's.
pub(super) fn provider_state(
    max_bytes: Option<usize>,
    alphabet: Option<&str>,
) -> Result<(StateAlphabet, Option<usize>), Vec<ConfigError>> {
    let mut errors = Vec::new();
    let alphabet = match alphabet {
        None => StateAlphabet::default(),
        Some(word) => StateAlphabet::parse(word).unwrap_or_else(|| {
            errors.push(refused(
                "state_alphabet",
                Refusal::UnknownStateAlphabet(word.to_owned()),
            ));
            StateAlphabet::default()
        }),
    };
    if max_bytes.is_some_and(|cap| cap < MIN_STATE_BYTES) {
        errors.push(refused(
            "state_max_bytes",
            Refusal::StateCapTooSmall {
                min: MIN_STATE_BYTES,
            },
        ));
    }
    if errors.is_empty() {
        Ok((alphabet, max_bytes))
    } else {
        Err(errors)
    }
}

/// `provider_pkce:` (`S256`), its verifiers keyed off the first seal key.
pub(super) fn provider_pkce(
    method: Option<&str>,
    seal_key: Option<&[u8; 32]>,
) -> Result<Option<ProviderPkce>, ConfigError> {
    match method {
        None => Ok(None),
        Some("S256") => Ok(seal_key.map(ProviderPkce::new)),
        Some(other) => Err(refused(
            "provider_pkce",
            Refusal::UnknownProviderPkce(other.to_owned()),
        )),
    }
}

fn refused(key: &'static str, why: Refusal) -> ConfigError {
    ConfigError::new(KeyPath::key(key), ConfigErrorKind::Bridge(why))
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
            assert_eq!(
                e.kind,
                ConfigErrorKind::Bridge(Refusal::SubjectPrefix { max: 64 }),
                "{bad}"
            );
            assert_eq!(e.key, KeyPath::key("subject_prefix"));
        }
    }

    #[test]
    fn provider_pkce_is_s256_or_nothing() {
        let key = [3u8; 32];
        assert!(provider_pkce(None, Some(&key)).unwrap().is_none());
        let pkce = provider_pkce(Some("S256"), Some(&key)).unwrap().unwrap();
        assert_eq!(pkce.verifier("st"), ProviderPkce::new(&key).verifier("st"));
        for bad in ["plain", "s256", ""] {
            let e = provider_pkce(Some(bad), Some(&key)).err().unwrap();
            assert_eq!(
                e.kind,
                ConfigErrorKind::Bridge(Refusal::UnknownProviderPkce(bad.into()))
            );
            assert_eq!(e.key, KeyPath::key("provider_pkce"));
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
        let kinds: Vec<_> = errors
            .into_iter()
            .map(|e| (e.key.to_string(), e.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                (
                    "state_alphabet".to_owned(),
                    ConfigErrorKind::Bridge(Refusal::UnknownStateAlphabet("base32".into()))
                ),
                (
                    "state_max_bytes".to_owned(),
                    ConfigErrorKind::Bridge(Refusal::StateCapTooSmall { min: 64 })
                ),
            ]
        );
    }
}
