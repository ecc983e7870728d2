//! How each provider's authorize page sends the browser back, where that
//! differs from RFC 6749 §4.1.2 (`code` and `state` on the `redirect_uri`
//! the page was given), from `../shared/oauth-quirks.md`:
//! - Alipay calls back with **`auth_code`** (plus `app_id` and `scope`),
//!   never `code`;
//! - eBay's page takes the app's **RuName** as `redirect_uri`, never a URL,
//!   and sends the browser to the "auth accepted URL" registered for that
//!   RuName in the developer portal (here: [`RedirectNames`]);
//! - with `response_mode=form_post` (Apple, when name or email is asked),
//!   the page answers a form that posts the callback's parameters, Apple's
//!   adding the user's name as a `user` JSON object.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::kinds::{ProviderKind, SeenRequest};
use crate::long_tail_two::TailTwo;

/// The redirect names a mock's app has registered (eBay's RuNames), each
/// with the URL its page then sends the browser to.
#[derive(Clone, Debug, Default)]
pub struct RedirectNames(Arc<Mutex<HashMap<String, String>>>);

impl RedirectNames {
    /// Registers `name` as sending the browser to `accepted_url`, as an
    /// operator does in eBay's portal.
    pub fn register(&self, name: &str, accepted_url: &str) {
        self.0
            .lock()
            .unwrap()
            .insert(name.to_owned(), accepted_url.to_owned());
    }

    fn accepted_url(&self, name: &str) -> Option<String> {
        self.0.lock().unwrap().get(name).cloned()
    }
}

/// Where the page sends the browser: the `redirect_uri` it was given, or
/// for a provider that names redirects (eBay), the URL registered for the
/// name (`Err`: why the page shows an error instead).
pub(crate) fn redirect_target(
    kind: ProviderKind,
    request: &SeenRequest,
    names: &RedirectNames,
) -> Result<String, String> {
    let redirect = request
        .query_param("redirect_uri")
        .ok_or("redirect_uri is missing")?;
    match kind {
        ProviderKind::TailTwo(TailTwo::Ebay) => names.accepted_url(redirect).ok_or_else(|| {
            format!(
                "redirect_uri must be the app's RuName, not a URL or an unknown name: {redirect}"
            )
        }),
        _ => Ok(redirect.to_owned()),
    }
}

/// The parameters the page puts on the callback for `code`, in its names.
pub(crate) fn callback_params<'a>(
    kind: ProviderKind,
    request: &'a SeenRequest,
    code: &'a str,
) -> Vec<(&'static str, &'a str)> {
    match kind {
        ProviderKind::Alipay => vec![
            ("app_id", request.query_param("app_id").unwrap_or("")),
            ("scope", request.query_param("scope").unwrap_or("")),
            ("auth_code", code),
        ],
        _ => vec![("code", code)],
    }
}

/// The name Apple's page posts in `user` when the name scope is asked.
pub const APPLE_USER: &str = r#"{"name":{"firstName":"Mock","lastName":"Appleseed"},"email":"mock.apple.user@privaterelay.appleid.com"}"#;

/// For `response_mode=form_post`: the page the provider answers instead of
/// a redirect, a form posting `location`'s query to its base, with Apple's
/// `user` when the name scope was asked; `None` for a redirect.
pub(crate) fn form_post_page(
    kind: ProviderKind,
    request: &SeenRequest,
    location: &str,
) -> Option<String> {
    if request.query_param("response_mode") != Some("form_post") {
        return None;
    }
    let (action, query) = location.split_once('?').unwrap_or((location, ""));
    let mut fields: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let asks_name = request
        .query_param("scope")
        .is_some_and(|scope| scope.split(' ').any(|s| s == "name"));
    if kind == ProviderKind::Apple && asks_name {
        fields.push(("user".into(), APPLE_USER.into()));
    }
    let inputs: String = fields
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\"/>",
                html_escape(name),
                html_escape(value)
            )
        })
        .collect();
    Some(format!(
        "<html><body onload=\"document.forms[0].submit()\"><form method=\"post\" action=\"{}\">{inputs}</form></body></html>",
        html_escape(action)
    ))
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(query: &[(&str, &str)]) -> SeenRequest {
        SeenRequest {
            method: "GET".into(),
            path: "/".into(),
            query: query
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            headers: Vec::new(),
            body: Vec::new(),
            raw_body: Vec::new(),
        }
    }

    #[test]
    fn ebay_sends_the_browser_to_the_url_registered_for_the_runame_only() {
        let names = RedirectNames::default();
        let ebay = ProviderKind::TailTwo(TailTwo::Ebay);
        let by_name = page(&[("redirect_uri", "Seller-App-PRD-ab12")]);
        assert!(redirect_target(ebay, &by_name, &names).is_err());
        names.register(
            "Seller-App-PRD-ab12",
            "https://gw.example/oidc/ebay/callback",
        );
        assert_eq!(
            redirect_target(ebay, &by_name, &names).unwrap(),
            "https://gw.example/oidc/ebay/callback"
        );
        let by_url = page(&[("redirect_uri", "https://gw.example/oidc/ebay/callback")]);
        assert!(redirect_target(ebay, &by_url, &names)
            .unwrap_err()
            .contains("RuName"));
        // Every other provider sends the browser where it was told.
        assert_eq!(
            redirect_target(ProviderKind::TikTok, &by_url, &names).unwrap(),
            "https://gw.example/oidc/ebay/callback"
        );
        assert!(redirect_target(ProviderKind::TikTok, &page(&[]), &names).is_err());
    }

    #[test]
    fn alipay_calls_back_with_auth_code_and_everyone_else_with_code() {
        let request = page(&[("app_id", "2021"), ("scope", "auth_user")]);
        assert_eq!(
            callback_params(ProviderKind::Alipay, &request, "c1"),
            [
                ("app_id", "2021"),
                ("scope", "auth_user"),
                ("auth_code", "c1")
            ]
        );
        assert_eq!(
            callback_params(ProviderKind::TikTok, &request, "c1"),
            [("code", "c1")]
        );
    }

    #[test]
    fn a_form_post_page_posts_the_callback_and_apples_adds_the_name() {
        let page = |mode: &str, scope: &str| {
            let mut request = page(&[("response_mode", mode), ("scope", scope)]);
            request.path = "/auth/authorize".into();
            request
        };
        let location = "https://gw.example/cb?code=c1&state=s%26t";
        assert_eq!(
            form_post_page(ProviderKind::Apple, &page("query", "name"), location),
            None
        );
        let html = form_post_page(
            ProviderKind::Apple,
            &page("form_post", "name email"),
            location,
        )
        .unwrap();
        assert!(html.contains("action=\"https://gw.example/cb\""), "{html}");
        assert!(html.contains("name=\"code\" value=\"c1\""), "{html}");
        assert!(html.contains("name=\"state\" value=\"s&amp;t\""), "{html}");
        assert!(
            html.contains("name=\"user\" value=\"{&quot;name&quot;"),
            "{html}"
        );
        let without_name =
            form_post_page(ProviderKind::Apple, &page("form_post", "email"), location).unwrap();
        assert!(!without_name.contains("name=\"user\""), "{without_name}");
    }
}
