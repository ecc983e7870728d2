//! The parameters of a bridge request: a GET's query or a form POST's body,
//! each name at most once (RFC 6749 §3.1, §3.2), an empty value read as absent.

use crate::oauth_error::{OAuthError, Reason};
use crate::rules::response::mime_is;

/// The parameter text of a request: the query of a GET, the body of a form POST.
pub fn request_params<'r>(
    method: &str,
    query: &'r str,
    body: &'r [u8],
    content_type: Option<&str>,
) -> Result<&'r str, OAuthError> {
    if method == "GET" {
        return Ok(query);
    }
    if !content_type.is_some_and(|ct| mime_is(ct, "application/x-www-form-urlencoded")) {
        return Err(OAuthError::unsupported_media_type());
    }
    std::str::from_utf8(body)
        .map_err(|_| OAuthError::invalid_request("the form is not UTF-8", Reason::Malformed))
}

/// URL-encoded `text` as pairs, refused when a name comes twice (which one would count?).
pub fn unique_params(text: &str) -> Result<Vec<(String, String)>, OAuthError> {
    let params: Vec<(String, String)> = serde_urlencoded::from_str(text).map_err(|_| {
        OAuthError::invalid_request("the parameters are not URL-encoded", Reason::Malformed)
    })?;
    for (i, (name, _)) in params.iter().enumerate() {
        if params[..i].iter().any(|(seen, _)| seen == name) {
            return Err(OAuthError::invalid_request(
                "a parameter is sent more than once",
                Reason::Conflict,
            ));
        }
    }
    Ok(params)
}

/// The value of `name`; an empty one is absent (RFC 6749 §3.1).
pub fn param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: &str = "application/x-www-form-urlencoded";

    #[test]
    fn a_get_reads_its_query_and_a_post_its_form() {
        assert_eq!(request_params("GET", "a=1", b"b=2", None), Ok("a=1"));
        assert_eq!(
            request_params(
                "POST",
                "a=1",
                b"b=2",
                Some("application/x-www-form-urlencoded; charset=UTF-8")
            ),
            Ok("b=2")
        );
    }

    #[test]
    fn a_post_that_is_not_a_utf8_form_is_refused() {
        for content_type in [None, Some("application/json"), Some("text/plain")] {
            let e = request_params("POST", "", b"a=1", content_type).unwrap_err();
            assert_eq!(e.status, 415, "{content_type:?}");
        }
        let e = request_params("POST", "", b"a=\xff", Some(FORM)).unwrap_err();
        assert_eq!((e.status, e.reason), (400, Reason::Malformed));
    }

    #[test]
    fn a_name_sent_twice_is_refused_and_empty_is_absent() {
        let e = unique_params("code=a&code=b").unwrap_err();
        assert_eq!((e.status, e.reason), (400, Reason::Conflict));
        let e = unique_params("redirect_uri=x&state=s&redirect_uri=x").unwrap_err();
        assert_eq!(e.reason, Reason::Conflict, "even with the same value");
        let params = unique_params("code=a%2Bb&state=&nonce=n").unwrap();
        assert_eq!(param(&params, "code"), Some("a+b"));
        assert_eq!(param(&params, "state"), None);
        assert_eq!(param(&params, "missing"), None);
        assert_eq!(param(&params, "nonce"), Some("n"));
    }
}
