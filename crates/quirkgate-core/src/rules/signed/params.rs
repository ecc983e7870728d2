//! Request rules that sign the parameters they are sent with, computed per
//! call: Alipay's `RSA2` (`sign`) and OK.ru's `sig`. Both sign the decoded
//! values sorted by name; keys and secrets come from configuration only.

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};

use super::keys::RsaSigningKey;
use crate::form::Param;
use crate::oauth_error::{OAuthError, Reason};
use crate::rules::request::{Place, RequestRule, TokenRequest};

/// The decoded parameters of `place` but `skip`, sorted by name in byte order.
fn sorted_pairs(request: &TokenRequest<'_>, place: Place, skip: &[&str]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = request
        .params(place)
        .iter()
        .map(|p| {
            (
                p.name.decoded().into_owned(),
                p.value.decoded().into_owned(),
            )
        })
        .filter(|(name, _)| !skip.contains(&name.as_str()))
        .collect();
    pairs.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(&b.1)));
    pairs
}

/// Alipay's string to sign: every parameter but `sign` and the empty ones,
/// sorted by name, as raw `k=v` joined with `&` (values not URL-encoded).
pub fn alipay_string_to_sign(pairs: &[(String, String)]) -> String {
    let mut text = String::new();
    for (name, value) in pairs.iter().filter(|(_, value)| !value.is_empty()) {
        if !text.is_empty() {
            text.push('&');
        }
        text.push_str(name);
        text.push('=');
        text.push_str(value);
    }
    text
}

/// `rsa2_sign`: signs the parameters of `place` with SHA256withRSA under the
/// app's private key and adds the base64 signature as `sign` (Alipay's
/// open-platform gateway). With `timestamp`, that parameter is set first to
/// the current China time (`yyyy-MM-dd HH:mm:ss`, UTC+8), as Alipay checks it.
#[derive(Debug)]
pub struct Rsa2Sign {
    pub key: RsaSigningKey,
    pub place: Place,
    /// The parameter the signature goes in (`sign`).
    pub param: String,
    pub timestamp: Option<String>,
}

impl Rsa2Sign {
    /// The rule at a given clock (the rule itself reads the system clock).
    pub fn apply_at<'a>(&'a self, request: &mut TokenRequest<'a>, now: SystemTime) {
        if let Some(name) = &self.timestamp {
            let params = request.params_mut(self.place);
            params.retain(|p| !p.name.is(name));
            params.push(Param::plain(name, Cow::Owned(china_time(now))));
        }
        request
            .params_mut(self.place)
            .retain(|p| !p.name.is(&self.param));
        let text = alipay_string_to_sign(&sorted_pairs(request, self.place, &[&self.param]));
        let signature = self.key.sign_base64(text.as_bytes());
        request
            .params_mut(self.place)
            .push(Param::plain(&self.param, Cow::Owned(signature)));
    }
}

impl RequestRule for Rsa2Sign {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        self.apply_at(request, SystemTime::now());
        Ok(())
    }
}

/// `yyyy-MM-dd HH:mm:ss` in UTC+8 (China has no daylight saving time).
pub fn china_time(now: SystemTime) -> String {
    let seconds = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) + 8 * 3600;
    let (days, rest) = (seconds / 86400, seconds % 86400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn md5_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Md5::new();
    for part in parts {
        hasher.update(part);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// OK.ru's `sig` of an API call made with an OAuth session:
/// `md5_hex(sorted "k=v" of every parameter but access_token and sig, no
/// separator, + md5_hex(access_token + secret))`, lower-case hex.
pub fn okru_sig(pairs: &[(String, String)], access_token: &str, secret: &str) -> String {
    let secret_key = md5_hex(&[access_token.as_bytes(), secret.as_bytes()]);
    let mut text = String::new();
    for (name, value) in pairs {
        text.push_str(name);
        text.push('=');
        text.push_str(value);
    }
    md5_hex(&[text.as_bytes(), secret_key.as_bytes()])
}

/// `okru_sig`: adds OK.ru's `sig` to the parameters of `place`, from the
/// access token an earlier rule put there and the app's secret key.
pub struct OkRuSig {
    pub secret: String,
    pub place: Place,
    /// Where the access token is read (`access_token`).
    pub token: String,
    /// The parameter the signature goes in (`sig`).
    pub param: String,
}

/// The secret never prints.
impl std::fmt::Debug for OkRuSig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "OkRuSig {{ secret: <redacted>, place: {:?}, token: {:?}, param: {:?} }}",
            self.place, self.token, self.param
        )
    }
}

impl RequestRule for OkRuSig {
    fn apply<'a>(&'a self, request: &mut TokenRequest<'a>) -> Result<(), OAuthError> {
        let Some(token) = request.value(self.place, &self.token) else {
            return Err(OAuthError::new(
                401,
                "invalid_token",
                "the call needs the access token to be signed",
                Reason::NoCredentials,
            ));
        };
        let token = token.into_owned();
        request
            .params_mut(self.place)
            .retain(|p| !p.name.is(&self.param));
        let pairs = sorted_pairs(request, self.place, &[&self.token, &self.param]);
        let sig = okru_sig(&pairs, &token, &self.secret);
        request
            .params_mut(self.place)
            .push(Param::plain(&self.param, Cow::Owned(sig)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::request::TokenMethod;

    const KEY: &str = include_str!("../../../testdata/signed/app_private_pkcs8.pem");
    /// The string to sign and its signature, made with `openssl dgst -sha256 -sign`.
    const RSA2_INPUT: &str = include_str!("../../../testdata/signed/rsa2_input.txt");
    const RSA2_EXPECTED: &str = include_str!("../../../testdata/signed/rsa2_expected_sign.txt");
    /// md5sum of "okaccesstoken123okclientsecret456", and of the sorted
    /// parameters followed by it.
    const OKRU_SECRET_KEY: &str = include_str!("../../../testdata/signed/okru_secret_key.txt");
    const OKRU_EXPECTED: &str = include_str!("../../../testdata/signed/okru_expected_sig.txt");

    fn request<'a>(place: Place, pairs: &[(&'a str, &'a str)]) -> TokenRequest<'a> {
        let mut request = TokenRequest::new(TokenMethod::Post, Vec::new());
        *request.params_mut(place) = pairs
            .iter()
            .map(|(n, v)| Param::plain(n, Cow::Borrowed(*v)))
            .collect();
        request
    }

    fn rsa2(timestamp: Option<&str>) -> Rsa2Sign {
        Rsa2Sign {
            key: RsaSigningKey::from_pem(KEY.as_bytes()).unwrap(),
            place: Place::Body,
            param: "sign".into(),
            timestamp: timestamp.map(str::to_owned),
        }
    }

    /// 2026-12-02 02:00:00 UTC, 10:00:00 in China.
    fn fixed_clock() -> SystemTime {
        UNIX_EPOCH + std::time::Duration::from_secs(1_796_176_800)
    }

    #[test]
    fn rsa2_signs_the_sorted_parameters_as_openssl_does() {
        // Out of order, one empty value (left out of the string), an old
        // sign (replaced) and a stale timestamp (restamped).
        let mut request = request(
            Place::Body,
            &[
                ("method", "alipay.system.oauth.token"),
                ("sign", "stale"),
                ("app_id", "2021000000000001"),
                ("code", "4b203fe6c11548bcabd8da5bb087a83b"),
                ("grant_type", "authorization_code"),
                ("timestamp", "2000-01-01 00:00:00"),
                ("format", "JSON"),
                ("charset", "utf-8"),
                ("app_auth_token", ""),
                ("sign_type", "RSA2"),
                ("version", "1.0"),
            ],
        );
        let rule = rsa2(Some("timestamp"));
        rule.apply_at(&mut request, fixed_clock());
        let pairs = sorted_pairs(&request, Place::Body, &["sign"]);
        assert_eq!(alipay_string_to_sign(&pairs), RSA2_INPUT);
        assert_eq!(request.value(Place::Body, "sign").unwrap(), RSA2_EXPECTED);
        assert_eq!(
            request
                .params(Place::Body)
                .iter()
                .filter(|p| p.name.is("sign"))
                .count(),
            1
        );
        assert_eq!(
            request.value(Place::Body, "timestamp").unwrap(),
            "2026-12-02 10:00:00"
        );
    }

    #[test]
    fn rsa2_signs_decoded_values_so_that_encoding_on_the_wire_does_not_matter() {
        let form = b"timestamp=2026-12-02+10%3A00%3A00&app_id=2021000000000001&code=4b203fe6c11548bcabd8da5bb087a83b&format=JSON&grant_type=authorization_code&method=alipay.system.oauth.token&sign_type=RSA2&version=1.0&charset=utf-8";
        let mut request =
            TokenRequest::new(TokenMethod::Post, crate::form::parse_form(form).unwrap());
        let rule = rsa2(None);
        rule.apply_at(&mut request, fixed_clock());
        assert_eq!(request.value(Place::Body, "sign").unwrap(), RSA2_EXPECTED);
    }

    #[test]
    fn china_time_is_utc_plus_eight_across_a_date_line() {
        assert_eq!(china_time(fixed_clock()), "2026-12-02 10:00:00");
        // 16:30 UTC on the last day of February 2028 (a leap year) is the next day in China.
        let late = UNIX_EPOCH + std::time::Duration::from_secs(1_835_454_600);
        assert_eq!(china_time(late), "2028-03-01 00:30:00");
        assert_eq!(china_time(UNIX_EPOCH), "1970-01-01 08:00:00");
    }

    #[test]
    fn okru_sig_matches_md5sum() {
        let pairs = [
            ("application_key", "CBAFKLMN"),
            ("format", "json"),
            ("method", "users.getCurrentUser"),
        ]
        .map(|(n, v)| (n.to_owned(), v.to_owned()));
        assert_eq!(
            md5_hex(&[b"okaccesstoken123", b"okclientsecret456"]),
            OKRU_SECRET_KEY
        );
        assert_eq!(
            okru_sig(&pairs, "okaccesstoken123", "okclientsecret456"),
            OKRU_EXPECTED
        );
    }

    #[test]
    fn okru_rule_signs_everything_but_the_token_and_needs_the_token() {
        let rule = OkRuSig {
            secret: "okclientsecret456".into(),
            place: Place::Query,
            token: "access_token".into(),
            param: "sig".into(),
        };
        let mut signed = request(
            Place::Query,
            &[
                ("method", "users.getCurrentUser"),
                ("access_token", "okaccesstoken123"),
                ("sig", "forged"),
                ("format", "json"),
                ("application_key", "CBAFKLMN"),
            ],
        );
        rule.apply(&mut signed).unwrap();
        assert_eq!(signed.value(Place::Query, "sig").unwrap(), OKRU_EXPECTED);
        assert_eq!(
            signed
                .params(Place::Query)
                .iter()
                .filter(|p| p.name.is("sig"))
                .count(),
            1
        );
        let mut unsigned = request(Place::Query, &[("format", "json")]);
        let error = rule.apply(&mut unsigned).unwrap_err();
        assert_eq!((error.status, &*error.code), (401, "invalid_token"));
        assert!(!format!("{rule:?}").contains("okclientsecret456"));
    }
}
