//! What the bridge seals between its legs, with the checks each sealed value
//! passes when it comes back. The clock is passed in (`now`, Unix seconds).
//!
//! The login rides in the provider's `state`, which providers cap: it is
//! packed in binary (`state.rs`). Codes and access tokens keep one- and
//! two-letter names on the wire. The seal itself (`seal.rs`) authenticates
//! purpose, issuer and expiry.

use serde::{Deserialize, Serialize};

use super::authorize::pkce_verifies;
use super::redeemed::RedeemedCodes;
use super::seal::{SealError, SealPurpose, Sealer};
#[cfg(test)]
use super::state::StateShape;
pub use super::state::{SealedLogin, LOGIN_LIFETIME};
use crate::oauth_error::{OAuthError, Reason};

/// How long the broker has to redeem the code it was given, in seconds.
pub const CODE_LIFETIME: u64 = 300;
/// An access token's lifetime when the provider does not give one, in seconds.
pub const DEFAULT_ACCESS_LIFETIME: u64 = 7200;
/// Wrapped access tokens (they carry a provider field `/userinfo` needs) start so.
pub const WRAPPED_PREFIX: &str = "qg.";

/// What the broker's code carries from `/callback` to `/token`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedCode {
    /// The provider's code.
    #[serde(rename = "pc")]
    pub provider_code: String,
    #[serde(rename = "c")]
    pub client_id: String,
    #[serde(rename = "r")]
    pub redirect_uri: String,
    #[serde(rename = "n", skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(rename = "p", skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    /// When the user authenticated (the callback), Unix seconds: the ID token's `auth_time`.
    #[serde(rename = "at")]
    pub authenticated_at: u64,
    /// The PKCE verifier the provider's token call needs (`provider_pkce`).
    #[serde(rename = "pv", default, skip_serializing_if = "Option::is_none")]
    pub provider_verifier: Option<String>,
    /// What the provider's page posted beside the code (Apple's `user`
    /// JSON object, on a first consent), for claims under `callback_user.`.
    #[serde(rename = "cu", default, skip_serializing_if = "Option::is_none")]
    pub callback_user: Option<String>,
}

/// What the broker's token request says about the code it redeems.
#[derive(Clone, Copy, Debug, Default)]
pub struct CodeRedemption<'r> {
    pub code: Option<&'r str>,
    /// The authenticated client.
    pub client_id: &'r str,
    pub redirect_uri: Option<&'r str>,
    pub code_verifier: Option<&'r str>,
}

fn invalid_grant(description: &'static str) -> OAuthError {
    OAuthError::new(400, "invalid_grant", description, Reason::InvalidGrant)
}

impl SealedCode {
    /// The code for a login the provider granted with `provider_code`, at `now`.
    pub fn for_login(login: SealedLogin, provider_code: &str, now: u64) -> Self {
        SealedCode {
            provider_code: provider_code.to_owned(),
            client_id: login.client_id,
            redirect_uri: login.redirect_uri,
            nonce: login.nonce,
            code_challenge: login.code_challenge,
            authenticated_at: now,
            provider_verifier: None,
            callback_user: None,
        }
    }

    /// The broker's code, valid for [`CODE_LIFETIME`].
    pub fn seal(&self, sealer: &Sealer, now: u64) -> String {
        sealer.seal(SealPurpose::Code, self, now + CODE_LIFETIME)
    }

    /// Opens the broker's code and checks it, in order: sealed here for a
    /// code and not expired, issued to this client, redeemed with the
    /// authorize request's exact `redirect_uri` (RFC 6749 §4.1.3), with the
    /// PKCE verifier of its challenge (RFC 7636 §4.6), and never before on
    /// this replica (last, so a refused attempt does not burn the code).
    pub fn redeem(
        sealer: &Sealer,
        redeemed: &RedeemedCodes,
        request: &CodeRedemption<'_>,
        now: u64,
    ) -> Result<Self, OAuthError> {
        let code = Self::check(sealer, request, now)?;
        if !redeemed.first_use(request.code.unwrap_or(""), now + CODE_LIFETIME, now) {
            return Err(invalid_grant("the code has already been redeemed"));
        }
        Ok(code)
    }

    /// [`SealedCode::redeem`]'s checks but the last: whether the code was
    /// redeemed before is then the caller's to settle (a fleet's shared store).
    pub fn check(
        sealer: &Sealer,
        request: &CodeRedemption<'_>,
        now: u64,
    ) -> Result<Self, OAuthError> {
        let code: SealedCode = request
            .code
            .ok_or(SealError::Invalid)
            .and_then(|code| sealer.open(SealPurpose::Code, code, now))
            .map_err(|why| match why {
                SealError::Expired => invalid_grant("the code has expired"),
                SealError::Invalid => invalid_grant("the code is not one this bridge issued"),
            })?;
        if code.client_id != request.client_id {
            return Err(invalid_grant("the code was issued to another client"));
        }
        if request.redirect_uri != Some(code.redirect_uri.as_str()) {
            return Err(invalid_grant(
                "redirect_uri differs from the authorize request's",
            ));
        }
        if let Some(challenge) = &code.code_challenge {
            if !pkce_verifies(challenge, request.code_verifier.unwrap_or("")) {
                return Err(invalid_grant("the PKCE code_verifier does not match"));
            }
        }
        Ok(code)
    }
}

/// A wrapped access token: the provider's, and the fields `/userinfo` needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedAccess {
    #[serde(rename = "t")]
    pub provider_token: String,
    /// Token-answer fields the user-info call sends (WeChat's `openid`).
    #[serde(rename = "f")]
    pub userinfo_fields: Vec<(String, String)>,
}

impl SealedAccess {
    /// The broker's access token, valid for `lifetime` seconds from `now`.
    pub fn wrap(&self, sealer: &Sealer, lifetime: u64, now: u64) -> String {
        format!(
            "{WRAPPED_PREFIX}{}",
            sealer.seal(SealPurpose::AccessToken, self, now + lifetime)
        )
    }

    /// What the broker's bearer `token` stands for. `wrapped`: whether this
    /// bridge wraps its access tokens (its user-info call needs provider
    /// fields); if not, the token is the provider's own. A refusal is the
    /// `error_description` of the Bearer challenge.
    pub fn unwrap(
        sealer: &Sealer,
        token: &str,
        wrapped: bool,
        now: u64,
    ) -> Result<Self, &'static str> {
        match token.strip_prefix(WRAPPED_PREFIX) {
            Some(sealed) => sealer
                .open(SealPurpose::AccessToken, sealed, now)
                .map_err(|_| "the access token is expired or not this bridge's"),
            None if !wrapped => Ok(SealedAccess {
                provider_token: token.to_owned(),
                userinfo_fields: Vec::new(),
            }),
            None => Err("the access token is not one this bridge issued"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALLBACK: &str = "https://broker.example/callback";
    // RFC 7636 appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const NOW: u64 = 1_800_000_000;

    fn sealer() -> Sealer {
        Sealer::new(&[[7; 32]], "https://gw.example/oidc/tiktok").unwrap()
    }

    fn shape() -> StateShape<'static> {
        StateShape {
            redirect_uris: Box::leak(Box::new([CALLBACK.to_owned()])),
            client_ids: None,
            alphabet: Default::default(),
            max_bytes: None,
        }
    }

    fn login(code_challenge: Option<&str>) -> SealedLogin {
        SealedLogin {
            client_id: "ck_1".into(),
            redirect_uri: CALLBACK.into(),
            state: Some("s1".into()),
            nonce: Some("n1".into()),
            code_challenge: code_challenge.map(str::to_owned),
        }
    }

    /// A code sealed at `NOW` for a login with `challenge`, and a request redeeming it rightly.
    fn issued(challenge: Option<&str>) -> String {
        SealedCode::for_login(login(challenge), "provider-code", NOW).seal(&sealer(), NOW)
    }

    fn redeem<'r>(
        code: &'r str,
        change: impl FnOnce(&mut CodeRedemption<'r>),
    ) -> Result<SealedCode, OAuthError> {
        let mut request = CodeRedemption {
            code: Some(code),
            client_id: "ck_1",
            redirect_uri: Some(CALLBACK),
            code_verifier: Some(VERIFIER),
        };
        change(&mut request);
        SealedCode::redeem(&sealer(), &RedeemedCodes::default(), &request, NOW + 10)
    }

    fn refusal(result: Result<SealedCode, OAuthError>) -> (u16, String, String) {
        let e = result.unwrap_err();
        (e.status, e.code.into_owned(), e.description.into_owned())
    }

    #[test]
    fn a_login_opens_with_its_real_fields_until_it_expires() {
        let s = sealer();
        let state = login(Some(CHALLENGE)).seal(&s, &shape(), NOW).unwrap();
        assert_eq!(
            SealedLogin::open(&s, &shape(), Some(&state), NOW + LOGIN_LIFETIME - 1).unwrap(),
            login(Some(CHALLENGE))
        );
        let e = SealedLogin::open(&s, &shape(), Some(&state), NOW + LOGIN_LIFETIME).unwrap_err();
        assert_eq!((e.status, e.reason), (400, Reason::InvalidGrant));
        assert!(e.description.contains("too long"), "{}", e.description);
        for missing in [None, Some("junk")] {
            let e = SealedLogin::open(&s, &shape(), missing, NOW).unwrap_err();
            assert!(
                e.description.contains("missing, altered"),
                "{}",
                e.description
            );
        }
    }

    #[test]
    fn a_sealed_value_opens_only_for_its_purpose() {
        let s = sealer();
        let state = login(None).seal(&s, &shape(), NOW).unwrap();
        let e = redeem(&state, |_| {}).unwrap_err();
        assert_eq!(
            e.description, "the code is not one this bridge issued",
            "a state is no code"
        );
        let code = issued(None);
        assert!(
            SealedLogin::open(&s, &shape(), Some(&code), NOW).is_err(),
            "a code is no state"
        );
        assert_eq!(
            SealedAccess::unwrap(&s, &format!("{WRAPPED_PREFIX}{code}"), true, NOW),
            Err("the access token is expired or not this bridge's"),
            "a code is no access token"
        );
    }

    #[test]
    fn each_value_opens_only_under_its_own_purpose() {
        let s = sealer();
        let code = SealedCode::for_login(login(None), "pc", NOW);
        let code_as_state = s.seal(SealPurpose::State, &code, NOW + 100);
        assert_eq!(
            refusal(redeem(&code_as_state, |_| {})).2,
            "the code is not one this bridge issued"
        );
        let login_as_code = s.seal(SealPurpose::Code, &login(None), NOW + 100);
        assert!(SealedLogin::open(&s, &shape(), Some(&login_as_code), NOW).is_err());
        let access = SealedAccess {
            provider_token: "act.1".into(),
            userinfo_fields: vec![],
        };
        let access_as_code = s.seal(SealPurpose::Code, &access, NOW + 100);
        assert!(
            SealedAccess::unwrap(&s, &format!("{WRAPPED_PREFIX}{access_as_code}"), true, NOW)
                .is_err()
        );
    }

    #[test]
    fn a_code_carries_the_login_and_when_it_was_granted() {
        let code = redeem(&issued(Some(CHALLENGE)), |_| {}).unwrap();
        assert_eq!(code.provider_code, "provider-code");
        assert_eq!(code.nonce.as_deref(), Some("n1"));
        assert_eq!(code.authenticated_at, NOW);
        let without_pkce = redeem(&issued(None), |r| r.code_verifier = None).unwrap();
        assert_eq!(without_pkce.code_challenge, None);
    }

    #[test]
    fn an_expired_missing_or_foreign_code_is_refused() {
        let code = issued(None);
        let late = SealedCode::redeem(
            &sealer(),
            &RedeemedCodes::default(),
            &CodeRedemption {
                code: Some(&code),
                client_id: "ck_1",
                redirect_uri: Some(CALLBACK),
                code_verifier: None,
            },
            NOW + CODE_LIFETIME,
        );
        assert_eq!(
            refusal(late),
            (400, "invalid_grant".into(), "the code has expired".into())
        );
        assert_eq!(
            refusal(redeem(&code, |r| r.code = None)).2,
            "the code is not one this bridge issued"
        );
        let elsewhere = Sealer::new(&[[7; 32]], "https://gw.example/oidc/github").unwrap();
        let foreign = SealedCode::for_login(login(None), "c", NOW).seal(&elsewhere, NOW);
        assert_eq!(
            refusal(redeem(&foreign, |_| {})).2,
            "the code is not one this bridge issued"
        );
    }

    #[test]
    fn a_code_is_redeemed_only_by_its_client() {
        assert_eq!(
            refusal(redeem(&issued(None), |r| r.client_id = "ck_2")).2,
            "the code was issued to another client"
        );
    }

    #[test]
    fn redirect_uri_must_be_the_authorize_requests_exactly() {
        let code = issued(None);
        let other = "redirect_uri differs from the authorize request's";
        for wrong in [
            None,
            Some(""),
            Some("https://broker.example/callback/"),
            Some("https://broker.example/callbackx"),
            Some("https://broker.example/callback/extra"),
            Some("https://broker.example/callback?x=1"),
            Some("https://broker.example/callback#f"),
            Some("https://BROKER.example/callback"),
            Some("http://broker.example/callback"),
            Some("https://broker.example/callbac"),
        ] {
            assert_eq!(
                refusal(redeem(&code, |r| r.redirect_uri = wrong)).2,
                other,
                "{wrong:?}"
            );
        }
        assert!(redeem(&code, |_| {}).is_ok());
    }

    #[test]
    fn a_pkce_code_needs_its_verifier() {
        let code = issued(Some(CHALLENGE));
        let mismatch = "the PKCE code_verifier does not match";
        for wrong in [
            None,
            Some(""),
            Some(&VERIFIER[1..]),
            Some(&*VERIFIER.replace('d', "e")),
        ] {
            assert_eq!(
                refusal(redeem(&code, |r| r.code_verifier = wrong)).2,
                mismatch,
                "{wrong:?}"
            );
        }
        assert!(redeem(&code, |_| {}).is_ok());
    }

    #[test]
    fn a_code_is_redeemed_once_and_a_refused_attempt_does_not_burn_it() {
        let (s, redeemed) = (sealer(), RedeemedCodes::default());
        let code = issued(Some(CHALLENGE));
        let mut request = CodeRedemption {
            code: Some(&code),
            client_id: "ck_1",
            redirect_uri: Some(CALLBACK),
            code_verifier: Some("wrong-verifier-wrong-verifier-wrong-verifier"),
        };
        assert!(SealedCode::redeem(&s, &redeemed, &request, NOW).is_err());
        request.code_verifier = Some(VERIFIER);
        assert!(SealedCode::redeem(&s, &redeemed, &request, NOW).is_ok());
        let again = SealedCode::redeem(&s, &redeemed, &request, NOW + 1).unwrap_err();
        assert_eq!(again.description, "the code has already been redeemed");
    }

    #[test]
    fn the_replay_memory_holds_a_code_for_its_lifetime_and_no_longer() {
        // The set stays bounded: a redeemed code is remembered as long as
        // its seal could still open, and forgotten when the seal expires.
        let (s, redeemed) = (sealer(), RedeemedCodes::default());
        let code = issued(None);
        let request = CodeRedemption {
            code: Some(&code),
            client_id: "ck_1",
            redirect_uri: Some(CALLBACK),
            code_verifier: None,
        };
        assert!(SealedCode::redeem(&s, &redeemed, &request, NOW).is_ok());
        assert!(!redeemed.first_use(&code, 0, NOW + CODE_LIFETIME - 1));
        assert!(redeemed.first_use(&code, 0, NOW + CODE_LIFETIME));
    }

    #[test]
    fn an_access_token_is_wrapped_only_when_fields_ride_with_it() {
        let s = sealer();
        let access = SealedAccess {
            provider_token: "act.1".into(),
            userinfo_fields: vec![("openid".into(), "o1".into())],
        };
        let wrapped = access.wrap(&s, 60, NOW);
        assert!(wrapped.starts_with(WRAPPED_PREFIX) && !wrapped.contains("act.1"));
        assert_eq!(
            SealedAccess::unwrap(&s, &wrapped, true, NOW + 59),
            Ok(access)
        );
        assert_eq!(
            SealedAccess::unwrap(&s, &wrapped, true, NOW + 60),
            Err("the access token is expired or not this bridge's")
        );
        assert_eq!(
            SealedAccess::unwrap(&s, "act.1", true, NOW),
            Err("the access token is not one this bridge issued")
        );
        let plain = SealedAccess::unwrap(&s, "act.1", false, NOW).unwrap();
        assert_eq!(
            (plain.provider_token.as_str(), plain.userinfo_fields.len()),
            ("act.1", 0)
        );
    }

    #[test]
    fn sealed_fields_keep_their_short_names_on_the_wire() {
        let text = serde_json::to_string(&SealedCode::for_login(login(None), "pc1", 5)).unwrap();
        assert_eq!(
            text,
            r#"{"pc":"pc1","c":"ck_1","r":"https://broker.example/callback","n":"n1","at":5}"#
        );
    }
}
