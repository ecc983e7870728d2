//! The parameter edits: Kong's remove, rename, replace, add and append, the
//! moves between body and query, the method, `require` and `json_body`.

use std::borrow::Cow;

use crate::form::{printable_name, FormText, Param};
use crate::oauth_error::{OAuthError, Reason};

use super::{BodyFormat, Place, RequestRule, TokenMethod, TokenRequest};

/// `remove`: drop parameters by name.
#[derive(Debug)]
pub struct RemoveParams {
    pub place: Place,
    pub names: Vec<String>,
}

impl RequestRule for RemoveParams {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        request
            .params_mut(self.place)
            .retain(|p| !self.names.iter().any(|n| p.name.is(n)));
        Ok(())
    }
}

/// `rename`: give a parameter a new name, keeping its value and position.
#[derive(Debug)]
pub struct RenameParams {
    pub place: Place,
    pub pairs: Vec<(String, String)>,
}

impl RequestRule for RenameParams {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        for (from, to) in &self.pairs {
            if let Some(index) = request.find(self.place, from) {
                if request.find(self.place, to).is_some() {
                    // Two values for one name (e.g. client_id and client_key) would be
                    // ambiguous upstream: refuse instead of choosing.
                    return Err(OAuthError::invalid_request(
                        format!(
                            "both '{}' and '{}' were sent; send only '{}'",
                            printable_name(from),
                            printable_name(to),
                            printable_name(from)
                        ),
                        Reason::Conflict,
                    ));
                }
                request.params_mut(self.place)[index].name = FormText::plain(to);
            }
        }
        Ok(())
    }
}

/// What a value edit does with a name that is already there (Kong's
/// `replace`, `add` and `append`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetMode {
    /// `replace`: overwrite the value of parameters that are present.
    Replace,
    /// `add`: add parameters that are absent (a present one is left alone).
    Add,
    /// `append`: add parameters whether or not the name is already there.
    Append,
}

impl SetMode {
    pub fn word(self) -> &'static str {
        match self {
            SetMode::Replace => "replace",
            SetMode::Add => "add",
            SetMode::Append => "append",
        }
    }
}

/// `replace`, `add` and `append`: values set by name, as [`SetMode`] says.
#[derive(Debug)]
pub struct SetParams {
    pub place: Place,
    pub mode: SetMode,
    pub pairs: Vec<(String, String)>,
}

impl RequestRule for SetParams {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        for (name, value) in &self.pairs {
            let present = match self.mode {
                SetMode::Append => None,
                SetMode::Replace | SetMode::Add => request.find(self.place, name),
            };
            match (self.mode, present) {
                (SetMode::Replace, Some(index)) => {
                    request.params_mut(self.place)[index].value = FormText::plain(value);
                }
                (SetMode::Replace, None) | (SetMode::Add, Some(_)) => {}
                (SetMode::Add | SetMode::Append, _) => request
                    .params_mut(self.place)
                    .push(Param::plain(name, Cow::Borrowed(value))),
            }
        }
        Ok(())
    }
}

/// `move_to_query` / `move_to_body`: carry parameters between body and query.
#[derive(Debug)]
pub struct MoveParams {
    pub from: Place,
    pub to: Place,
    pub names: Vec<String>,
}

impl RequestRule for MoveParams {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        for name in &self.names {
            if let Some(index) = request.find(self.from, name) {
                let param = request.params_mut(self.from).remove(index);
                request.params_mut(self.to).push(param);
            }
        }
        Ok(())
    }
}

/// `method`: the HTTP method sent upstream.
#[derive(Debug)]
pub struct SetMethod(pub TokenMethod);

impl RequestRule for SetMethod {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        request.method = self.0;
        Ok(())
    }
}

/// `require`: refuse the request before any upstream contact when a parameter is missing.
#[derive(Debug)]
pub struct RequireParams {
    pub place: Place,
    pub names: Vec<String>,
    /// `invalid_client` (401) for credentials, else `invalid_request` (400).
    pub invalid_client: bool,
}

impl RequestRule for RequireParams {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        for name in &self.names {
            let present = request
                .find(self.place, name)
                .is_some_and(|i| !request.params(self.place)[i].value.is(""));
            if !present {
                let description = format!("missing '{}'", printable_name(name));
                return Err(if self.invalid_client {
                    OAuthError::invalid_client(format!("no client credentials: {description}"))
                } else {
                    OAuthError::invalid_request(description, Reason::MissingParam)
                });
            }
        }
        Ok(())
    }
}

/// `json_body`: the provider gets the body parameters as a JSON object; the
/// caller keeps sending a form.
#[derive(Debug)]
pub struct JsonBody;

impl RequestRule for JsonBody {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        request.body_format = BodyFormat::Json;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::{encode_form, parse_form};

    fn request(body: &str) -> TokenRequest<'_> {
        TokenRequest::new(TokenMethod::Post, parse_form(body.as_bytes()).unwrap())
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn rename_keeps_value_and_position() {
        let rule = RenameParams {
            place: Place::Body,
            pairs: pairs(&[("client_id", "client_key")]),
        };
        let mut req = request("grant_type=authorization_code&client_id=abc%2B1&code=x");
        rule.apply(&mut req).unwrap();
        assert_eq!(
            encode_form(&req.body),
            "grant_type=authorization_code&client_key=abc%2B1&code=x"
        );
    }

    #[test]
    fn rename_refuses_when_both_names_were_sent() {
        let rule = RenameParams {
            place: Place::Body,
            pairs: pairs(&[("client_id", "client_key")]),
        };
        let mut req = request("client_id=a&client_key=b");
        assert_eq!(
            rule.apply(&mut req).unwrap_err().reason.as_str(),
            "conflict"
        );
    }

    #[test]
    fn add_only_when_absent_and_append_always() {
        let add = SetParams {
            place: Place::Body,
            mode: SetMode::Add,
            pairs: pairs(&[("scope", "x"), ("code", "no")]),
        };
        let append = SetParams {
            place: Place::Body,
            mode: SetMode::Append,
            pairs: pairs(&[("extra", "1")]),
        };
        let mut req = request("code=yes");
        add.apply(&mut req).unwrap();
        append.apply(&mut req).unwrap();
        assert_eq!(encode_form(&req.body), "code=yes&scope=x&extra=1");
    }

    #[test]
    fn replace_and_remove_touch_only_named_params() {
        let replace = SetParams {
            place: Place::Body,
            mode: SetMode::Replace,
            pairs: pairs(&[("client_id", "injected")]),
        };
        let remove = RemoveParams {
            place: Place::Body,
            names: vec!["state".into()],
        };
        let mut req = request("client_id=caller&state=s&code=c");
        replace.apply(&mut req).unwrap();
        remove.apply(&mut req).unwrap();
        assert_eq!(encode_form(&req.body), "client_id=injected&code=c");
    }

    #[test]
    fn move_to_query_and_method() {
        let mv = MoveParams {
            from: Place::Body,
            to: Place::Query,
            names: vec!["appid".into(), "code".into()],
        };
        let mut req = request("appid=a&code=c&keep=k");
        mv.apply(&mut req).unwrap();
        SetMethod(TokenMethod::Get).apply(&mut req).unwrap();
        assert_eq!(encode_form(&req.query), "appid=a&code=c");
        assert_eq!(encode_form(&req.body), "keep=k");
        assert_eq!(req.method, TokenMethod::Get);
    }

    #[test]
    fn require_reports_invalid_client_for_credentials() {
        let rule = RequireParams {
            place: Place::Body,
            names: vec!["client_id".into()],
            invalid_client: true,
        };
        assert_eq!(rule.apply(&mut request("code=c")).unwrap_err().status, 401);
        assert_eq!(
            rule.apply(&mut request("code=c&client_id="))
                .unwrap_err()
                .status,
            401
        );
        assert!(rule.apply(&mut request("client_id=a")).is_ok());
    }
}
