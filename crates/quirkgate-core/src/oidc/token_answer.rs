//! The provider's token answer as the bridge reads it: a JSON object with an
//! access token, and the fields its user-info call will need.

use serde_json::{Map, Value};

use super::seal::Sealer;
use super::sealed::{SealedAccess, DEFAULT_ACCESS_LIFETIME};
use crate::oauth_error::{OAuthError, Reason};

/// The token leg's failure as the broker sees it: the bridge could not finish.
pub fn upstream_failed(description: &'static str) -> OAuthError {
    OAuthError::new(502, "server_error", description, Reason::ProviderError)
}

/// A token answer the route shaped: its JSON object.
pub fn token_object(body: &[u8]) -> Result<Map<String, Value>, OAuthError> {
    serde_json::from_slice(body)
        .map_err(|_| upstream_failed("the token answer is not a JSON object"))
}

/// The answer's non-empty `access_token`.
pub fn access_token_of(tokens: &Map<String, Value>) -> Result<String, OAuthError> {
    tokens
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| upstream_failed("the token answer has no access_token"))
}

/// The token-answer fields named in `names` (WeChat's `openid`), as text.
pub fn userinfo_fields(names: &[String], tokens: &Map<String, Value>) -> Vec<(String, String)> {
    names
        .iter()
        .filter_map(|name| {
            let value = match tokens.get(name)? {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                _ => return None,
            };
            Some((name.clone(), value))
        })
        .collect()
}

/// When `/userinfo` will need provider fields (`wraps`), the broker's access
/// token carries them sealed, for the answer's `expires_in`; otherwise it is
/// the provider's own. Returns the access token the broker gets.
pub fn wrap_access_token(
    sealer: &Sealer,
    wraps: bool,
    tokens: &mut Map<String, Value>,
    access: SealedAccess,
    now: u64,
) -> String {
    if !wraps {
        return access.provider_token;
    }
    let lifetime = tokens
        .get("expires_in")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_ACCESS_LIFETIME);
    let wrapped = access.wrap(sealer, lifetime, now);
    tokens.insert("access_token".into(), wrapped.clone().into());
    wrapped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::sealed::WRAPPED_PREFIX;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_token_answer_needs_a_json_object_with_an_access_token() {
        assert!(token_object(b"[1]").is_err());
        assert!(token_object(b"not json").is_err());
        for answer in [
            json!({}),
            json!({"access_token": ""}),
            json!({"access_token": 7}),
        ] {
            let e = access_token_of(&object(answer)).unwrap_err();
            assert_eq!((e.status, e.reason), (502, Reason::ProviderError));
        }
        let tokens = token_object(br#"{"access_token":"act.1"}"#).unwrap();
        assert_eq!(access_token_of(&tokens).unwrap(), "act.1");
    }

    #[test]
    fn userinfo_fields_are_the_named_text_or_numbers() {
        let tokens =
            object(json!({"openid": "o1", "uid": 42, "scope": ["a"], "access_token": "x"}));
        let names = [
            "openid".to_owned(),
            "uid".to_owned(),
            "scope".to_owned(),
            "none".to_owned(),
        ];
        assert_eq!(
            userinfo_fields(&names, &tokens),
            [("openid".into(), "o1".into()), ("uid".into(), "42".into())]
        );
    }

    #[test]
    fn an_access_token_is_wrapped_for_its_lifetime_only_when_fields_ride_with_it() {
        let sealer = Sealer::new(&[[3; 32]], "https://gw.example/oidc/wechat").unwrap();
        let access = || SealedAccess {
            provider_token: "act.1".into(),
            userinfo_fields: vec![("openid".into(), "o1".into())],
        };
        let mut tokens = object(json!({"access_token": "act.1", "expires_in": 60}));
        assert_eq!(
            wrap_access_token(&sealer, false, &mut tokens, access(), 100),
            "act.1"
        );
        assert_eq!(tokens["access_token"], "act.1");
        let wrapped = wrap_access_token(&sealer, true, &mut tokens, access(), 100);
        assert!(wrapped.starts_with(WRAPPED_PREFIX));
        assert_eq!(tokens["access_token"], wrapped.as_str());
        assert!(SealedAccess::unwrap(&sealer, &wrapped, true, 159).is_ok());
        assert!(SealedAccess::unwrap(&sealer, &wrapped, true, 160).is_err());
        let mut no_lifetime = object(json!({"access_token": "act.1"}));
        let wrapped = wrap_access_token(&sealer, true, &mut no_lifetime, access(), 100);
        assert!(
            SealedAccess::unwrap(&sealer, &wrapped, true, 100 + DEFAULT_ACCESS_LIFETIME - 1)
                .is_ok()
        );
        assert!(
            SealedAccess::unwrap(&sealer, &wrapped, true, 100 + DEFAULT_ACCESS_LIFETIME).is_err()
        );
    }
}
