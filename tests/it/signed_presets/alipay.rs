//! `alipay` and `alipay-userinfo`: RSA2-signed requests, signed and wrapped answers.

use super::*;
use quirkgate_mocks::signed::{alipay_request_is_signed, MOCK_ALIPAY_APP_ID};

async fn alipay_gateway(public_key: &str) -> (MockProvider, Gateway) {
    let alipay = mock(ProviderKind::Alipay).await;
    let upstream = format!("http://{}/gateway.do", alipay.addr);
    let mut env = alipay_env();
    env[1].1 = mock_key(public_key);
    let routes = route("/alipay", "alipay", &upstream, "")
        + &route("/alipay/userinfo", "alipay-userinfo", &upstream, "");
    let gateway = Gateway::start_with_env(&routes, "", "info", &env_refs(&env));
    (alipay, gateway)
}

#[tokio::test]
async fn alipay_preset_signs_the_exchange_and_unwraps_the_signed_answer() {
    let (alipay, gateway) = alipay_gateway("alipay_public.pem").await;
    for (i, auth_type) in both_auth_types().into_iter().enumerate() {
        // The broker's secret is a placeholder: the app's private key is the credential.
        let client = oauth_client(
            &gateway.url("/alipay"),
            MOCK_ALIPAY_APP_ID,
            "unused",
            auth_type,
        );
        let code = format!("alcode{i}");
        let token = exchange(&client, &code).await;
        assert_eq!(token.access_token().secret(), &format!("ali.{code}"));
        assert_eq!(
            token.refresh_token().unwrap().secret(),
            &format!("alir.{code}")
        );
        assert_eq!(
            token.expires_in(),
            Some(std::time::Duration::from_secs(1_296_000))
        );
        assert_eq!(*token.token_type(), oauth2::basic::BasicTokenType::Bearer);
        let seen = alipay.requests();
        let request = seen.last().unwrap();
        assert!(alipay_request_is_signed(request), "{request:?}");
        assert_eq!(request.body_param("app_id"), Some(MOCK_ALIPAY_APP_ID));
        assert_eq!(request.body_param("code"), Some(code.as_str()));
        assert_eq!(
            request.body_param("method"),
            Some("alipay.system.oauth.token")
        );
        assert_eq!(request.body_param("sign_type"), Some("RSA2"));
        for gone in ["client_id", "client_secret", "redirect_uri"] {
            assert_eq!(request.body_param(gone), None, "{gone}");
        }
        assert_eq!(request.header("authorization"), None);
        let renewed = refresh(&client, &format!("alir.{code}")).await;
        assert_eq!(renewed.access_token().secret(), &format!("ali.alir.{code}"));
    }
    // The answer passes on unwrapped, with Alipay's user id.
    let (status, body) = post(
        &gateway,
        "/alipay",
        &format!(
            "grant_type=authorization_code&code=raw&client_id={MOCK_ALIPAY_APP_ID}&client_secret=x"
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_id"], "2088102150477652");
    assert!(body.get("alipay_system_oauth_token_response").is_none() && body.get("sign").is_none());
}

#[tokio::test]
async fn an_alipay_bad_code_is_an_rfc_error_sent_once() {
    let (alipay, gateway) = alipay_gateway("alipay_public.pem").await;
    let client = oauth_client(
        &gateway.url("/alipay"),
        MOCK_ALIPAY_APP_ID,
        "unused",
        AuthType::RequestBody,
    );
    let (error, description, (status, provider)) =
        bad_code_is_an_rfc_error_sent_once(&alipay, ProviderKind::Alipay, &client).await;
    assert_eq!(error, "invalid_grant");
    assert_eq!(description.as_deref(), Some("the auth_code is invalid"));
    // Alipay itself said so in a signed HTTP 200 error_response.
    assert_eq!(status, 200);
    assert_eq!(provider["error_response"]["sub_code"], "isv.code-invalid");
    assert!(provider["sign"].is_string());
    // A route sending another app id is signed, and refused by Alipay as such.
    let (status, body) = post(
        &gateway,
        "/alipay",
        "grant_type=authorization_code&code=c1&client_id=2021000000000999",
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (401, &serde_json::json!("invalid_client")),
        "{body}"
    );
}

#[tokio::test]
async fn an_answer_without_the_providers_signature_is_a_502_and_the_code_is_not_sent_again() {
    // The gateway trusts another public key than the one Alipay signs with.
    let (alipay, gateway) = alipay_gateway("app_public.pem").await;
    let (status, body) = post(
        &gateway,
        "/alipay",
        &format!("grant_type=authorization_code&code=forged1&client_id={MOCK_ALIPAY_APP_ID}"),
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (502, &serde_json::json!("temporarily_unavailable")),
        "{body}"
    );
    assert!(body.get("access_token").is_none());
    assert_eq!(seen_with(&alipay, "code", "forged1"), 1);
}

#[tokio::test]
async fn alipay_userinfo_signs_the_token_as_auth_token_and_answers_the_user_flat() {
    let (alipay, gateway) = alipay_gateway("alipay_public.pem").await;
    let (status, body) = bearer_get(&gateway, "/alipay/userinfo", "ali.alcode0").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_id"], "2088102150477652");
    assert_eq!(body["nick_name"], "Mock User");
    assert!(
        body.get("code").is_none() && body.get("msg").is_none(),
        "{body}"
    );
    let seen = alipay.requests();
    let request = seen.last().unwrap();
    assert_eq!(request.method, "POST");
    assert!(alipay_request_is_signed(request));
    assert_eq!(request.body_param("auth_token"), Some("ali.alcode0"));
    assert_eq!(request.body_param("method"), Some("alipay.user.info.share"));
    assert_eq!(request.header("authorization"), None);
    let (status, body) = bearer_get(&gateway, "/alipay/userinfo", "bad-token").await;
    assert_eq!(
        (status, &body["error"]),
        (401, &serde_json::json!("invalid_token")),
        "{body}"
    );
}

#[test]
fn a_bad_alipay_key_file_fails_the_config_test_naming_the_file_and_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_key = dir.path().join("app_private.pem");
    std::fs::write(
        &not_a_key,
        "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let config = dir.path().join("quirkgate.yaml");
    std::fs::write(
        &config,
        "listen: \"127.0.0.1:0\"\nroutes:\n  - path: /alipay\n    preset: alipay\n    upstream: \"http://127.0.0.1:9/gateway.do\"\n",
    )
    .unwrap();
    let check = |app_key: &std::path::Path, public_key: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_quirkgate"))
            .args(["--test", "--config"])
            .arg(&config)
            .env("ALIPAY_APP_KEY_FILE", app_key)
            .env("ALIPAY_PUBLIC_KEY_FILE", mock_key(public_key))
            .output()
            .unwrap()
    };
    let out = check(&not_a_key, "alipay_public.pem");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("(/alipay)") && stderr.contains("rsa2_sign"),
        "{stderr}"
    );
    assert!(stderr.contains(not_a_key.to_str().unwrap()), "{stderr}");
    assert!(
        !stderr.contains("bm90IGEga2V5"),
        "key material is never printed: {stderr}"
    );
    // A private key where the public key belongs is refused too, naming its rule.
    let out = check(
        std::path::Path::new(&mock_key("app_private.pem")),
        "app_private.pem",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("answer_signature") && stderr.contains("app_private.pem"),
        "{stderr}"
    );
    assert!(check(
        std::path::Path::new(&mock_key("app_private.pem")),
        "alipay_public.pem"
    )
    .status
    .success());
}
