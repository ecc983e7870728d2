//! Each preset through the gateway, as its users call it: a standard OAuth
//! client for the token leg (both ways of sending its credentials, refresh
//! where the provider has it), a plain Bearer call for the user leg; a bad
//! code or token gets an RFC 6749 error, and a bad code reached the mock once.

use super::*;
use oauth2::{AuthType, RefreshToken, TokenResponse};

fn gateway(mock: &MockProvider, preset: &str, upstream_path: &str) -> Gateway {
    let upstream = format!("http://{}{upstream_path}", mock.addr);
    Gateway::start_with_env(&route("/leg", preset, &upstream, ""), "", "info", ENV)
}

#[tokio::test]
async fn every_token_preset_exchanges_refreshes_and_refuses_a_bad_code() {
    for case in TOKEN_CASES {
        let spec = case.provider.spec();
        let token = spec.token.as_ref().expect("a token endpoint");
        let mock = mock(ProviderKind::TailTwo(case.provider)).await;
        let gateway = gateway(&mock, case.preset, token.endpoint.path);
        let preset = case.preset;
        for (i, auth_type) in [AuthType::RequestBody, AuthType::BasicAuth]
            .into_iter()
            .enumerate()
        {
            let client = oauth_client(&gateway.url("/leg"), "app id", ODD_SECRET, auth_type);
            let code = format!("{preset}-code-{i}");
            let answer = exchange(&client, &code).await;
            assert_eq!(
                answer.access_token().secret(),
                &format!("{}.{code}", spec.prefix),
                "{preset}"
            );
            assert_eq!(
                answer.token_type().as_ref().to_ascii_lowercase(),
                "bearer",
                "{preset}"
            );
            if !case.refresh {
                continue;
            }
            let refresh_token = answer
                .refresh_token()
                .expect("a refresh token")
                .secret()
                .clone();
            let refreshed = client
                .exchange_refresh_token(&RefreshToken::new(refresh_token.clone()))
                .request_async(&http_client())
                .await
                .unwrap_or_else(|e| panic!("{preset}: refresh failed: {e:?}"));
            assert_eq!(
                refreshed.access_token().secret(),
                &format!("{}.{refresh_token}", spec.prefix),
                "{preset}"
            );
        }
        let client = oauth_client(
            &gateway.url("/leg"),
            "app id",
            ODD_SECRET,
            AuthType::RequestBody,
        );
        let bad = format!("bad-{preset}");
        let (error, _) = exchange_error(&client, &bad).await;
        assert_eq!(error, case.bad_code, "{preset}");
        assert_eq!(
            reached(&mock, &bad),
            1,
            "{preset}: the bad code reached the provider once"
        );
    }
}

/// A call to a user-info route with `token`: (status, JSON body).
async fn user_call(gateway: &Gateway, case: &UserCase, token: &str) -> (u16, serde_json::Value) {
    let client = http_client();
    let request = if case.form.is_empty() {
        client.get(gateway.url("/leg"))
    } else {
        client.post(gateway.url("/leg")).form(case.form)
    };
    let response = request.bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn every_user_preset_reads_the_user_with_a_bearer_token_and_refuses_a_bad_one() {
    for case in USER_CASES {
        let spec = case.provider.spec();
        let user = spec.user.as_ref().expect("a user endpoint");
        let mock = mock(ProviderKind::TailTwo(case.provider)).await;
        let upstream_path = format!("{}{}", user.endpoint.path, case.upstream_query);
        let gateway = gateway(&mock, case.preset, &upstream_path);
        let preset = case.preset;
        let (status, body) = user_call(&gateway, case, &format!("{}.good", spec.prefix)).await;
        assert_eq!(status, 200, "{preset}: {body}");
        assert_eq!(body[case.id_field], case.id, "{preset}: {body}");
        let (status, body) = user_call(&gateway, case, &format!("{}.expired", spec.prefix)).await;
        assert!([400, 401].contains(&status), "{preset}: {status} {body}");
        assert_eq!(body["error"], "invalid_token", "{preset}: {body}");
        assert_eq!(mock.requests().len(), 2, "{preset}");
    }
}
