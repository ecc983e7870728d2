//! The token step's own checks (RFC 6749 §4.1.3, RFC 7636 §4.6): a code
//! redeemed with a wrong or missing PKCE verifier, or with a `redirect_uri`
//! that is not the authorize request's exactly, is `invalid_grant`, and the
//! provider never sees the code.

use super::*;

/// RFC 7636 appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// The broker's token request with `code`, `redirect_uri` (left out when
/// `None`) and `code_verifier` (likewise).
pub(super) async fn redeem(
    gateway: &Gateway,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ];
    form.extend(redirect_uri.map(|r| ("redirect_uri", r)));
    form.extend(code_verifier.map(|v| ("code_verifier", v)));
    post_url(
        &gateway.url("/oidc/tiktok/token"),
        serde_urlencoded::to_string(form).unwrap(),
    )
    .await
}

fn token_calls(mock: &MockProvider) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.path == TIKTOK.token_path)
        .count()
}

/// Each wrong redemption is `invalid_grant`, counted, and never reaches the
/// provider; the right one then still works (a refusal does not burn the code).
async fn refused_then_redeemed(
    extra: &str,
    wrong: &[(Option<&str>, Option<&str>, &str)],
    right: (Option<&str>, Option<&str>),
) {
    let (mock, gateway, _dir) = tiktok_bridge().await;
    let code = broker_code(&gateway, extra).await;
    for (redirect_uri, verifier, why) in wrong {
        let (status, body) = redeem(&gateway, &code, *redirect_uri, *verifier).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{why}: {body}"
        );
    }
    gateway
        .wait_for_metric(
            "quirkgate_refused_total",
            &[("route", "/oidc/tiktok/token"), ("reason", "invalid_grant")],
            wrong.len() as f64,
        )
        .await;
    assert_eq!(
        token_calls(&mock),
        0,
        "no refused redemption reached the provider"
    );
    let (status, body) = redeem(&gateway, &code, right.0, right.1).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string(), "{body}");
    assert_eq!(token_calls(&mock), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pkce_code_redeemed_with_a_wrong_or_missing_verifier_is_invalid_grant() {
    let wrong_verifier = "A".repeat(43);
    refused_then_redeemed(
        &format!("&code_challenge={CHALLENGE}&code_challenge_method=S256"),
        &[
            (
                Some(BROKER_CALLBACK),
                Some(&wrong_verifier),
                "a wrong 43-character verifier",
            ),
            (Some(BROKER_CALLBACK), None, "no verifier"),
        ],
        (Some(BROKER_CALLBACK), Some(VERIFIER)),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_redeemed_without_its_exact_redirect_uri_is_invalid_grant() {
    let plus_one = format!("{BROKER_CALLBACK}x");
    let extra_segment = format!("{BROKER_CALLBACK}/extra");
    let extra_query = format!("{BROKER_CALLBACK}?x=1");
    refused_then_redeemed(
        "",
        &[
            (None, None, "redirect_uri left out"),
            (
                Some(&plus_one),
                None,
                "the registered value plus a character",
            ),
            (Some(&extra_segment), None, "an extra path segment"),
            (Some(&extra_query), None, "an extra query"),
        ],
        (Some(BROKER_CALLBACK), None),
    )
    .await;
}
