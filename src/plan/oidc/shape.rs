//! What an `oidc:` block says about the shape of what the bridge sends: the
//! subject's prefix, and the provider's `state` (its alphabet and cap).

use quirkgate_core::oidc::authorize::BRIDGE_AUTHORIZE_PARAMS;
use quirkgate_core::oidc::provider_pkce::ProviderPkce;
use quirkgate_core::oidc::state::StateAlphabet;

use std::collections::BTreeMap;

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

/// `authorize_extra:`, as name and value pairs; no name may be empty, a
/// parameter the bridge sets, or the client id's name, and no value empty
/// (a preset leaves a value empty for the bridge block to give).
pub(super) fn authorize_extra(
    extra: &BTreeMap<String, String>,
    client_id_param: &str,
) -> Result<Vec<(String, String)>, ConfigError> {
    let mut params: Vec<(String, String)> = Vec::new();
    for (name, value) in extra {
        let taken = name.is_empty()
            || name == client_id_param
            || BRIDGE_AUTHORIZE_PARAMS.contains(&name.as_str());
        if taken {
            return Err(refused(
                "authorize_extra",
                Refusal::AuthorizeExtra(name.clone()),
            ));
        }
        if value.is_empty() {
            return Err(refused(
                "authorize_extra",
                Refusal::AuthorizeExtraMissing(name.clone()),
            ));
        }
        params.push((name.clone(), value.clone()));
    }
    Ok(params)
}

/// `callback_code_param:` (`auth_code`), `code` when absent.
pub(super) fn callback_code_param(name: Option<&str>) -> Result<String, ConfigError> {
    let name = name.unwrap_or("code");
    let is_name = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    if !is_name || name == "state" {
        return Err(refused(
            "callback_code_param",
            Refusal::CallbackCodeParam(name.to_owned()),
        ));
    }
    Ok(name.to_owned())
}

/// `provider_redirect_uri:` (eBay's RuName), the bridge's callback when absent.
pub(super) fn provider_redirect_uri(
    registered: Option<&str>,
    callback_url: &str,
) -> Result<String, ConfigError> {
    match registered {
        None => Ok(callback_url.to_owned()),
        Some(value) if !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(value.to_owned())
        }
        Some(_) => Err(refused(
            "provider_redirect_uri",
            Refusal::ProviderRedirectUri,
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
    fn extra_authorize_parameters_never_replace_what_the_bridge_sets() {
        let extra = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect()
        };
        assert_eq!(
            authorize_extra(
                &extra(&[("login_type", "CorpApp"), ("agentid", "7")]),
                "appid"
            )
            .unwrap(),
            [
                ("agentid".to_owned(), "7".to_owned()),
                ("login_type".to_owned(), "CorpApp".to_owned())
            ]
        );
        for bad in [
            "appid",
            "redirect_uri",
            "state",
            "scope",
            "response_type",
            "nonce",
            "code_challenge",
            "",
        ] {
            let e = authorize_extra(&extra(&[(bad, "x")]), "appid").unwrap_err();
            assert_eq!(
                e.kind,
                ConfigErrorKind::Bridge(Refusal::AuthorizeExtra(bad.into())),
                "{bad}"
            );
            assert_eq!(e.key, KeyPath::key("authorize_extra"));
        }
        let left_open = authorize_extra(&extra(&[("agentid", "")]), "appid").unwrap_err();
        assert_eq!(
            left_open.kind,
            ConfigErrorKind::Bridge(Refusal::AuthorizeExtraMissing("agentid".into()))
        );
    }

    #[test]
    fn the_callback_code_is_code_or_a_parameter_name_the_preset_gives() {
        assert_eq!(callback_code_param(None).unwrap(), "code");
        assert_eq!(callback_code_param(Some("auth_code")).unwrap(), "auth_code");
        for bad in ["", "auth code", "code&x", "state", "cöde"] {
            let e = callback_code_param(Some(bad)).unwrap_err();
            assert_eq!(
                e.kind,
                ConfigErrorKind::Bridge(Refusal::CallbackCodeParam(bad.into())),
                "{bad}"
            );
            assert_eq!(e.key, KeyPath::key("callback_code_param"));
        }
    }

    #[test]
    fn the_provider_is_sent_the_callback_or_the_name_it_registered() {
        let callback = "https://gw.example/oidc/ebay/callback";
        assert_eq!(provider_redirect_uri(None, callback).unwrap(), callback);
        assert_eq!(
            provider_redirect_uri(Some("Seller-App-PRD-ab12"), callback).unwrap(),
            "Seller-App-PRD-ab12"
        );
        for bad in ["", "Seller App", "Seller\tApp", "Sellér"] {
            let e = provider_redirect_uri(Some(bad), callback).unwrap_err();
            assert_eq!(
                e.kind,
                ConfigErrorKind::Bridge(Refusal::ProviderRedirectUri),
                "{bad}"
            );
            assert_eq!(e.key, KeyPath::key("provider_redirect_uri"));
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
