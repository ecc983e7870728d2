//! The authorize leg, as pure functions: judging the broker's `/authorize`
//! request (who may be sent back where), the provider's authorize URL with
//! the names and scopes that provider wants, the redirects back to the
//! broker, and the PKCE and `at_hash` checks the token leg makes.

use std::collections::BTreeMap;

use ring::digest::{digest, SHA256};
use subtle::ConstantTimeEq;

use crate::oauth_error::{OAuthError, Reason};
use crate::signed_jwt::base64url;

/// Longest `state` or `nonce` a broker may send: they ride inside the
/// sealed provider `state`, which providers cap.
pub const MAX_CARRIED_BYTES: usize = 512;

/// Scopes that only mean something to the bridge: never sent to a provider
/// unless its scope map names them.
const OIDC_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
];

/// A broker's authorize request the bridge took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerLogin {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub scopes: Vec<String>,
    /// S256 only.
    pub code_challenge: Option<String>,
}

/// Why an authorize request was not taken.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthorizeRefusal {
    /// Answered to the browser: the client or its `redirect_uri` is not one
    /// the bridge may send users back to (RFC 6749 §4.1.2.1: no redirect).
    Here(OAuthError),
    /// Sent back to the broker's (allowed) `redirect_uri`.
    ToBroker {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: &'static str,
    },
}

/// Who the bridge serves: the broker's callback URLs, and optionally its client ids.
pub struct AuthorizePolicy<'p> {
    pub redirect_uris: &'p [String],
    pub client_ids: Option<&'p [String]>,
}

fn here(description: &'static str, reason: Reason) -> AuthorizeRefusal {
    AuthorizeRefusal::Here(OAuthError::invalid_request(description, reason))
}

/// Judges the broker's `/authorize` query.
pub fn judge_authorize(
    query: &str,
    policy: &AuthorizePolicy<'_>,
) -> Result<BrokerLogin, AuthorizeRefusal> {
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|_| here("the query is not URL-encoded", Reason::Malformed))?;
    // RFC 6749 §3.1: no parameter twice (which redirect_uri would count?).
    for (i, (name, _)) in params.iter().enumerate() {
        if params[..i].iter().any(|(seen, _)| seen == name) {
            return Err(here("a parameter is sent more than once", Reason::Conflict));
        }
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let client_id =
        get("client_id").ok_or_else(|| here("client_id is missing", Reason::MissingParam))?;
    if policy
        .client_ids
        .is_some_and(|allowed| !allowed.iter().any(|id| id == client_id))
    {
        return Err(AuthorizeRefusal::Here(OAuthError::new(
            400,
            "unauthorized_client",
            "this client may not use this bridge",
            Reason::ClientNotAllowed,
        )));
    }
    let redirect_uri =
        get("redirect_uri").ok_or_else(|| here("redirect_uri is missing", Reason::MissingParam))?;
    if !policy
        .redirect_uris
        .iter()
        .any(|allowed| allowed == redirect_uri)
    {
        return Err(here(
            "redirect_uri is not one this bridge may send users back to",
            Reason::RedirectUri,
        ));
    }
    let state = get("state").map(str::to_owned);
    let back = |error: &'static str, description: &'static str| AuthorizeRefusal::ToBroker {
        redirect_uri: redirect_uri.to_owned(),
        state: state.clone(),
        error,
        description,
    };
    if get("response_type") != Some("code") {
        return Err(back(
            "unsupported_response_type",
            "only the authorization code flow (response_type=code) is served",
        ));
    }
    let scopes: Vec<String> = get("scope")
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(back("invalid_scope", "the scope must include openid"));
    }
    let nonce = get("nonce").map(str::to_owned);
    if state.as_ref().is_some_and(|s| s.len() > MAX_CARRIED_BYTES)
        || nonce.as_ref().is_some_and(|n| n.len() > MAX_CARRIED_BYTES)
    {
        return Err(back(
            "invalid_request",
            "state and nonce are limited to 512 bytes",
        ));
    }
    let code_challenge = match (get("code_challenge"), get("code_challenge_method")) {
        (None, None) => None,
        (Some(challenge), Some("S256")) if is_s256_challenge(challenge) => {
            Some(challenge.to_owned())
        }
        _ => {
            return Err(back(
                "invalid_request",
                "PKCE needs code_challenge_method=S256 and a 43-character code_challenge",
            ))
        }
    };
    if get("request").is_some() || get("request_uri").is_some() {
        return Err(AuthorizeRefusal::ToBroker {
            redirect_uri: redirect_uri.to_owned(),
            state,
            error: "request_not_supported",
            description: "request objects are not served",
        });
    }
    Ok(BrokerLogin {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        state,
        nonce,
        scopes,
        code_challenge,
    })
}

fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// RFC 7636 §4.6: the verifier's S256 transform equals the challenge.
pub fn pkce_verifies(challenge: &str, verifier: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let transformed = base64url(digest(&SHA256, verifier.as_bytes()).as_ref());
    well_formed && bool::from(transformed.as_bytes().ct_eq(challenge.as_bytes()))
}

/// OIDC Core §3.1.3.6: the left half of the access token's SHA-256, base64url.
pub fn at_hash(access_token: &str) -> String {
    base64url(&digest(&SHA256, access_token.as_bytes()).as_ref()[..16])
}

/// How a provider's authorize page wants to be called.
#[derive(Clone, Debug, Default)]
pub struct ProviderAuthorize {
    pub url: String,
    /// What the provider calls `client_id` (`client_key`, `appid`).
    pub client_id_param: String,
    /// Broker scope → provider scope(s); an empty value drops the scope.
    pub scope_map: BTreeMap<String, String>,
    pub scope_separator: String,
    /// Sent when the mapped scopes come to nothing.
    pub default_scope: String,
    /// A fragment the provider wants on the URL (`wechat_redirect`).
    pub fragment: Option<String>,
    /// Fixed parameters the page wants after the standard ones (WeCom's
    /// `login_type=CorpApp` and `agentid`); never one the bridge sets itself.
    pub extra_params: Vec<(String, String)>,
}

/// Authorize parameters the bridge sets itself: a preset's extra
/// parameters may not name them (nor the client id's own name).
pub const BRIDGE_AUTHORIZE_PARAMS: [&str; 7] = [
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
];

impl ProviderAuthorize {
    /// The provider's scopes for the broker's: mapped, OIDC-only ones
    /// dropped, provider-native ones kept, each once.
    pub fn provider_scope(&self, scopes: &[String]) -> String {
        let mut out: Vec<&str> = Vec::new();
        for scope in scopes {
            let mapped: Vec<&str> = match self.scope_map.get(scope) {
                Some(value) => value.split([' ', ',']).filter(|s| !s.is_empty()).collect(),
                None if OIDC_SCOPES.contains(&scope.as_str()) => Vec::new(),
                None => vec![scope.as_str()],
            };
            for provider_scope in mapped {
                if !out.contains(&provider_scope) {
                    out.push(provider_scope);
                }
            }
        }
        if out.is_empty() {
            self.default_scope.clone()
        } else {
            out.join(&self.scope_separator)
        }
    }

    /// The URL the browser is sent to, parameters in the order WeChat requires
    /// (appid, redirect_uri, response_type, scope, state).
    pub fn url_for(
        &self,
        client_id: &str,
        scopes: &[String],
        callback: &str,
        state: &str,
    ) -> String {
        let scope = self.provider_scope(scopes);
        let mut params = vec![
            (self.client_id_param.as_str(), client_id),
            ("redirect_uri", callback),
            ("response_type", "code"),
            ("scope", &scope),
            ("state", state),
        ];
        params.extend(
            self.extra_params
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        );
        let mut url = with_query(&self.url, &params);
        if let Some(fragment) = &self.fragment {
            url.push('#');
            url.push_str(fragment);
        }
        url
    }
}

/// `base` with `params` appended to its query (after any it has), each encoded.
pub fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    let (base, fragment) = base
        .split_once('#')
        .map_or((base, None), |(b, f)| (b, Some(f)));
    let encoded = serde_urlencoded::to_string(params).expect("text pairs always encode");
    let mut url = base.to_owned();
    if !encoded.is_empty() {
        url.push(match base.contains('?') {
            true if base.ends_with('?') || base.ends_with('&') => '\0',
            true => '&',
            false => '?',
        });
        url.retain(|c| c != '\0');
        url.push_str(&encoded);
    }
    if let Some(fragment) = fragment {
        url.push('#');
        url.push_str(fragment);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALLBACK: &str = "https://broker.example/callback";

    fn policy() -> (Vec<String>, Vec<String>) {
        (vec![CALLBACK.to_owned()], vec!["ck_1".to_owned()])
    }

    fn judge(query: &str) -> Result<BrokerLogin, AuthorizeRefusal> {
        let (uris, ids) = policy();
        judge_authorize(
            query,
            &AuthorizePolicy {
                redirect_uris: &uris,
                client_ids: Some(&ids),
            },
        )
    }

    fn base() -> String {
        format!(
            "client_id=ck_1&redirect_uri={}&response_type=code&scope=openid%20profile&state=s1&nonce=n1",
            urlencode(CALLBACK)
        )
    }

    fn urlencode(text: &str) -> String {
        serde_urlencoded::to_string([("", text)]).unwrap()[1..].to_owned()
    }

    #[test]
    fn a_standard_request_is_taken_with_what_it_carries() {
        let login = judge(&base()).unwrap();
        assert_eq!(login.client_id, "ck_1");
        assert_eq!(login.redirect_uri, CALLBACK);
        assert_eq!(login.state.as_deref(), Some("s1"));
        assert_eq!(login.nonce.as_deref(), Some("n1"));
        assert_eq!(login.scopes, ["openid", "profile"]);
        assert_eq!(login.code_challenge, None);
    }

    #[test]
    fn an_unknown_redirect_uri_or_client_is_refused_without_a_redirect() {
        for query in [
            base().replace("broker.example", "evil.example"),
            base().replace("callback", "callback%2F..%2Fopen"),
            base().replace("client_id=ck_1", "client_id=ck_2"),
            base().replace("client_id=ck_1&", ""),
            base().replace(&format!("redirect_uri={}&", urlencode(CALLBACK)), ""),
            format!("{}&redirect_uri=https%3A%2F%2Fevil.example%2F", base()),
            "%zz=1".to_owned(),
        ] {
            assert!(
                matches!(judge(&query), Err(AuthorizeRefusal::Here(_))),
                "{query}"
            );
        }
        let Err(AuthorizeRefusal::Here(e)) =
            judge(&base().replace("broker.example", "evil.example"))
        else {
            unreachable!()
        };
        assert_eq!((e.status, e.reason), (400, Reason::RedirectUri));
    }

    #[test]
    fn other_mistakes_go_back_to_the_broker_with_its_state() {
        let cases = [
            (
                base().replace("response_type=code", "response_type=token"),
                "unsupported_response_type",
            ),
            (
                base().replace("scope=openid%20profile", "scope=profile"),
                "invalid_scope",
            ),
            (
                format!("{}&code_challenge=abc&code_challenge_method=S256", base()),
                "invalid_request",
            ),
            (
                format!(
                    "{}&code_challenge={}&code_challenge_method=plain",
                    base(),
                    "a".repeat(43)
                ),
                "invalid_request",
            ),
            (
                base().replace("nonce=n1", &format!("nonce={}", "n".repeat(513))),
                "invalid_request",
            ),
            (format!("{}&request=eyJ", base()), "request_not_supported"),
        ];
        for (query, expected) in cases {
            match judge(&query) {
                Err(AuthorizeRefusal::ToBroker {
                    redirect_uri,
                    state,
                    error,
                    ..
                }) => {
                    assert_eq!(redirect_uri, CALLBACK);
                    assert_eq!(state.as_deref(), Some("s1"));
                    assert_eq!(error, expected, "{query}");
                }
                other => panic!("{query}: {other:?}"),
            }
        }
    }

    #[test]
    fn state_and_nonce_are_carried_up_to_512_bytes() {
        let at_limit = base()
            .replace("state=s1", &format!("state={}", "s".repeat(512)))
            .replace("nonce=n1", &format!("nonce={}", "n".repeat(512)));
        let login = judge(&at_limit).unwrap();
        assert_eq!(
            (login.state.unwrap().len(), login.nonce.unwrap().len()),
            (512, 512)
        );
        let long_state = base().replace("state=s1", &format!("state={}", "s".repeat(513)));
        assert!(matches!(
            judge(&long_state),
            Err(AuthorizeRefusal::ToBroker {
                error: "invalid_request",
                ..
            })
        ));
    }

    #[test]
    fn pkce_s256_is_carried_and_verified() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let login = judge(&format!(
            "{}&code_challenge={challenge}&code_challenge_method=S256",
            base()
        ))
        .unwrap();
        assert_eq!(login.code_challenge.as_deref(), Some(challenge));
        assert!(pkce_verifies(challenge, verifier));
        assert!(!pkce_verifies(challenge, &verifier.replace('d', "e")));
        assert!(!pkce_verifies(challenge, "short"));
        // A verifier outside RFC 7636's alphabet or length is refused even when its hash matches.
        for bad in ["a+".repeat(22), "a".repeat(42), "a".repeat(129)] {
            let matching = base64url(digest(&SHA256, bad.as_bytes()).as_ref());
            assert!(!pkce_verifies(&matching, &bad), "{bad}");
        }
        let good = "a~b.c_d-".repeat(8);
        assert!(pkce_verifies(
            &base64url(digest(&SHA256, good.as_bytes()).as_ref()),
            &good
        ));
        // Challenges are 43 base64url characters: '_' and '-' in, '+' and '=' out.
        assert!(is_s256_challenge(&format!("{}_-", "A".repeat(41))));
        assert!(!is_s256_challenge(&format!("{}+", "A".repeat(42))));
        assert!(!is_s256_challenge(&format!("{}=", "A".repeat(42))));
        assert!(!is_s256_challenge(&"A".repeat(44)));
    }

    #[test]
    fn at_hash_is_the_left_half_of_sha256() {
        // OIDC Core appendix A.3's example token and at_hash.
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    fn tiktok() -> ProviderAuthorize {
        ProviderAuthorize {
            url: "https://www.tiktok.com/v2/auth/authorize/".into(),
            client_id_param: "client_key".into(),
            scope_map: [
                ("openid".to_owned(), "user.info.basic".to_owned()),
                ("profile".to_owned(), "user.info.profile".to_owned()),
            ]
            .into(),
            scope_separator: ",".into(),
            default_scope: "user.info.basic".into(),
            fragment: None,
            extra_params: Vec::new(),
        }
    }

    #[test]
    fn scopes_are_mapped_deduplicated_and_oidc_only_ones_dropped() {
        let scopes = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            tiktok().provider_scope(&scopes(
                "openid profile email offline_access video.list openid"
            )),
            "user.info.basic,user.info.profile,video.list"
        );
        assert_eq!(tiktok().provider_scope(&scopes("email")), "user.info.basic");
    }

    #[test]
    fn the_provider_url_names_the_client_its_way_and_keeps_a_fragment() {
        let url = tiktok().url_for(
            "ck_1",
            &["openid".into()],
            "https://gw.example/cb?x=1",
            "S&=",
        );
        assert_eq!(
            url,
            "https://www.tiktok.com/v2/auth/authorize/?client_key=ck_1&redirect_uri=https%3A%2F%2Fgw.example%2Fcb%3Fx%3D1&response_type=code&scope=user.info.basic&state=S%26%3D"
        );
        let wechat = ProviderAuthorize {
            url: "https://open.weixin.qq.com/connect/qrconnect".into(),
            client_id_param: "appid".into(),
            default_scope: "snsapi_login".into(),
            fragment: Some("wechat_redirect".into()),
            ..Default::default()
        };
        let url = wechat.url_for("wx1", &["openid".into()], "https://gw/cb", "s");
        assert!(
            url.starts_with("https://open.weixin.qq.com/connect/qrconnect?appid=wx1&redirect_uri="),
            "{url}"
        );
        assert!(
            url.ends_with("&scope=snsapi_login&state=s#wechat_redirect"),
            "{url}"
        );
    }

    #[test]
    fn extra_parameters_follow_the_standard_ones_in_the_presets_order() {
        let wecom = ProviderAuthorize {
            url: "https://login.work.weixin.qq.com/wwlogin/sso/login".into(),
            client_id_param: "appid".into(),
            extra_params: vec![
                ("login_type".into(), "CorpApp".into()),
                ("agentid".into(), "1000002".into()),
            ],
            ..Default::default()
        };
        let url = wecom.url_for("ww1", &[], "https://gw/cb", "s");
        assert!(
            url.ends_with("&state=s&login_type=CorpApp&agentid=1000002"),
            "{url}"
        );
        assert!(url.contains("?appid=ww1&"), "{url}");
    }

    #[test]
    fn redirects_append_to_an_existing_query() {
        assert_eq!(
            with_query("https://b/cb", &[("code", "a b")]),
            "https://b/cb?code=a+b"
        );
        assert_eq!(
            with_query("https://b/cb?t=1", &[("code", "c")]),
            "https://b/cb?t=1&code=c"
        );
        assert_eq!(
            with_query("https://b/cb?", &[("code", "c")]),
            "https://b/cb?code=c"
        );
        assert_eq!(
            with_query("https://b/cb#f", &[("code", "c")]),
            "https://b/cb?code=c#f"
        );
    }
}
