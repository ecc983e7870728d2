//! How each provider's authorize page sends the browser back, where that
//! differs from RFC 6749 §4.1.2 (`code` and `state` on the `redirect_uri`
//! the page was given), from `../shared/oauth-quirks.md`:
//! - Alipay calls back with **`auth_code`** (plus `app_id` and `scope`),
//!   never `code`;
//! - eBay's page takes the app's **RuName** as `redirect_uri`, never a URL,
//!   and sends the browser to the "auth accepted URL" registered for that
//!   RuName in the developer portal (here: [`RedirectNames`]).

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
}
