//! The one reader of OAuth client credentials (RFC 6749 §2.3.1): the form's
//! `client_id` / `client_secret` or an `Authorization: Basic` header. Each
//! caller names the rule it needs: [`one_method`] (RFC 6749 §2.3: a client
//! uses one method, not both) or [`each_place_checked`] (every id sent is
//! looked at, wherever it was sent).

use std::borrow::Cow;

use base64::Engine;

use crate::form::decode_component;
use crate::oauth_error::{OAuthError, Reason};

/// A client's id and, for confidential clients, its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub id: String,
    pub secret: Option<String>,
}

/// Whether an `Authorization` value uses the Basic scheme (any case).
pub fn is_basic(header: &str) -> bool {
    header
        .trim_start()
        .get(..6)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("basic "))
}

/// Decodes `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
pub fn parse_basic(header: &str) -> Result<(String, String), OAuthError> {
    let malformed = || OAuthError::invalid_client("malformed Basic client credentials");
    let (scheme, token) = header.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client(
            "only Basic client authentication is accepted in the Authorization header",
        ));
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|_| malformed())?;
    let raw = String::from_utf8(raw).map_err(|_| malformed())?;
    let (id, secret) = raw.split_once(':').ok_or_else(malformed)?;
    let id = decode_component(id).ok_or_else(malformed)?;
    let secret = decode_component(secret).ok_or_else(malformed)?;
    if id.is_empty() {
        return Err(malformed());
    }
    Ok((id, secret))
}

/// The refusal of a client that used two methods at once (RFC 6749 §2.3).
pub fn both_methods() -> OAuthError {
    OAuthError::invalid_request(
        "client credentials sent both in the Authorization header and in the body",
        Reason::Conflict,
    )
}

/// The refusal of a request that carries no client credentials at all.
pub fn missing() -> OAuthError {
    OAuthError::invalid_client("client authentication is missing")
}

/// One method: the Basic header's credentials, refused when the form carries
/// credentials too (`form_has_credentials`). The header must be Basic.
pub fn basic_alone(
    authorization: &str,
    form_has_credentials: bool,
) -> Result<(String, String), OAuthError> {
    let pair = parse_basic(authorization)?;
    if form_has_credentials {
        return Err(both_methods());
    }
    Ok(pair)
}

/// One method: the credentials from Basic or from the form, never both;
/// `None` when neither carries any (the caller decides whether that is
/// [`missing`]). Any `Authorization` is read as client authentication.
pub fn one_method(
    form_id: Option<&str>,
    form_secret: Option<&str>,
    authorization: Option<&str>,
) -> Result<Option<ClientCredentials>, OAuthError> {
    match authorization {
        Some(header) => {
            let (id, secret) = basic_alone(header, form_id.is_some() || form_secret.is_some())?;
            Ok(Some(ClientCredentials {
                id,
                secret: Some(secret),
            }))
        }
        None => Ok(form_id.map(|id| ClientCredentials {
            id: id.to_owned(),
            secret: form_secret.map(str::to_owned),
        })),
    }
}

/// The client ids a request names, in each place: both are checked.
#[derive(Debug)]
pub struct EachPlace<'a> {
    pub form_id: Option<Cow<'a, str>>,
    pub basic_id: Option<String>,
}

impl EachPlace<'_> {
    /// Whether every id sent passes `allowed`.
    pub fn all(&self, allowed: impl Fn(&str) -> bool) -> bool {
        self.form_id.as_deref().is_none_or(&allowed)
            && self.basic_id.as_deref().is_none_or(&allowed)
    }
}

/// Each place checked: the form's id and the Basic header's id (a header of
/// another scheme is not client authentication and is ignored); at least one.
pub fn each_place_checked<'a>(
    form_id: Option<Cow<'a, str>>,
    authorization: Option<&str>,
) -> Result<EachPlace<'a>, OAuthError> {
    let basic_id = match authorization {
        Some(header) if is_basic(header) => Some(parse_basic(header)?.0),
        _ => None,
    };
    if form_id.is_none() && basic_id.is_none() {
        return Err(OAuthError::invalid_client(
            "no client credentials: missing 'client_id'",
        ));
    }
    Ok(EachPlace { form_id, basic_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(pair: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }

    #[test]
    fn basic_halves_are_form_decoded() {
        assert_eq!(
            parse_basic(&basic("my+id:p%40ss%3Aword")).unwrap(),
            ("my id".into(), "p@ss:word".into())
        );
        for header in [
            "Basic !!!",
            "Basic",
            "Bearer abc",
            "Basic Zm9v",
            &basic(":s"),
        ] {
            assert_eq!(parse_basic(header).unwrap_err().status, 401, "{header}");
        }
    }

    #[test]
    fn scheme_detection_is_case_blind_and_needs_a_credential() {
        assert!(!is_basic("Basic"));
        assert!(!is_basic("Bearer x"));
        assert!(is_basic("basic x"));
        assert!(is_basic("  BASIC x"));
    }

    #[test]
    fn one_method_refuses_both_and_reads_either() {
        let header = basic("app:s3");
        assert_eq!(
            one_method(Some("app"), None, Some(&header))
                .unwrap_err()
                .reason
                .as_str(),
            "conflict"
        );
        assert_eq!(
            one_method(None, None, Some(&header)).unwrap(),
            Some(ClientCredentials {
                id: "app".into(),
                secret: Some("s3".into())
            })
        );
        assert_eq!(
            one_method(Some("app"), None, None).unwrap(),
            Some(ClientCredentials {
                id: "app".into(),
                secret: None
            })
        );
        assert_eq!(one_method(None, None, None).unwrap(), None);
        assert_eq!(missing().status, 401);
        assert_eq!(
            one_method(None, None, Some("Bearer x")).unwrap_err().status,
            401
        );
    }

    #[test]
    fn each_place_checked_sees_both_ids_and_ignores_other_schemes() {
        let header = basic("b:s");
        let both = each_place_checked(Some("a".into()), Some(&header)).unwrap();
        assert!(both.all(|id| id == "a" || id == "b"));
        assert!(!both.all(|id| id == "a"));
        let bearer = each_place_checked(Some("a".into()), Some("Bearer t")).unwrap();
        assert_eq!(bearer.basic_id, None);
        assert_eq!(
            each_place_checked(None, Some("Bearer t"))
                .unwrap_err()
                .status,
            401
        );
        assert_eq!(
            each_place_checked(None, Some("Basic !!!"))
                .unwrap_err()
                .status,
            401
        );
    }
}
