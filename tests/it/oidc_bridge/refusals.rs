//! Bad authorize requests, tampered or misused seals and user-info failures
//! are refused, with no open redirect and no provider call.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_open_redirect_and_no_provider_call_for_a_bad_authorize_request() {
    let (mock, gateway, _dir) = tiktok_bridge().await;
    let http = http_client();
    let authorize = gateway.url("/oidc/tiktok/authorize");
    for (query, reason) in [
        (
            authorize_query("https://evil.example/cb", ""),
            "redirect_uri",
        ),
        (
            authorize_query(&format!("{BROKER_CALLBACK}/../x"), ""),
            "redirect_uri",
        ),
        (
            authorize_query(BROKER_CALLBACK, "").replace(CLIENT_ID, "someone-else"),
            "client_not_allowed",
        ),
        (
            format!(
                "{}&redirect_uri=https%3A%2F%2Fevil.example%2F",
                authorize_query(BROKER_CALLBACK, "")
            ),
            "conflict",
        ),
    ] {
        let response = http
            .get(format!("{authorize}?{query}"))
            .send()
            .await
            .unwrap();
        assert!(response.headers().get("location").is_none(), "{query}");
        let (status, body) = json_of(response).await;
        assert_eq!(status, 400, "{query}");
        assert!(body["error"].is_string(), "{body}");
        let refused = gateway
            .metric(
                "quirkgate_refused_total",
                &[("route", "/oidc/tiktok/authorize"), ("reason", reason)],
            )
            .await;
        assert!(refused >= 1.0, "{reason}");
    }
    // Other mistakes go back to the broker, which may show them.
    let response = http
        .get(format!(
            "{authorize}?{}",
            authorize_query(BROKER_CALLBACK, "")
                .replace("response_type=code", "response_type=token")
        ))
        .send()
        .await
        .unwrap();
    let back = location(&response);
    let params = query_of(&back);
    assert!(back.starts_with(BROKER_CALLBACK));
    assert_eq!(
        get_param(&params, "error").as_deref(),
        Some("unsupported_response_type")
    );
    assert_eq!(get_param(&params, "state").as_deref(), Some("st-1"));
    assert!(mock.requests().is_empty(), "nothing reached the provider");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_expired_or_misused_seals_are_refused_and_never_reach_the_provider() {
    let (mock, gateway, _dir) = tiktok_bridge().await;
    let http = http_client();
    // A real login up to the broker's code.
    let to_provider = location(
        &http
            .get(format!(
                "{}?{}",
                gateway.url("/oidc/tiktok/authorize"),
                authorize_query(BROKER_CALLBACK, "")
            ))
            .send()
            .await
            .unwrap(),
    );
    let state = get_param(&query_of(&to_provider), "state").unwrap();
    let callback = gateway.url("/oidc/tiktok/callback");

    // The callback refuses a state that is altered or missing, without redirecting.
    let mut altered = state.clone().into_bytes();
    let last = altered.len() - 2;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    for query in [
        format!("code=c&state={}", String::from_utf8(altered).unwrap()),
        "code=c".to_owned(),
        "code=c&state=".to_owned(),
        format!("code=c&state={}", "A".repeat(20_000)),
    ] {
        let response = http
            .get(format!("{callback}?{query}"))
            .send()
            .await
            .unwrap();
        assert!(response.headers().get("location").is_none());
        let (status, body) = json_of(response).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_request")),
            "{query}"
        );
    }
    // A user who declines: the broker hears access_denied with its state.
    let declined = location(
        &http
            .get(format!("{callback}?error=access_denied&state={state}"))
            .send()
            .await
            .unwrap(),
    );
    assert_eq!(
        get_param(&query_of(&declined), "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        get_param(&query_of(&declined), "state").as_deref(),
        Some("st-1")
    );

    let to_broker = location(
        &http
            .get(format!("{callback}?code=mockcode-1&state={state}"))
            .send()
            .await
            .unwrap(),
    );
    let code = get_param(&query_of(&to_broker), "code").unwrap();
    // The sealed provider state is not a code, and the code is not a state.
    let token = gateway.url("/oidc/tiktok/token");
    let exchange = |code: String, redirect: &str, client_id: &str| {
        let form = serde_urlencoded::to_string([
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("client_id", client_id),
            ("client_secret", CLIENT_SECRET),
        ])
        .unwrap();
        http.post(&token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
    };
    for (code, redirect, client_id, why) in [
        (
            state.clone(),
            BROKER_CALLBACK,
            CLIENT_ID,
            "a state as a code",
        ),
        (
            format!("{code}x"),
            BROKER_CALLBACK,
            CLIENT_ID,
            "an altered code",
        ),
        (
            code.clone(),
            "https://evil.example/cb",
            CLIENT_ID,
            "another redirect_uri",
        ),
        (code.clone(), BROKER_CALLBACK, "ck_other", "another client"),
    ] {
        let (status, body) = json_of(exchange(code, redirect, client_id).await.unwrap()).await;
        assert!(status == 400 || status == 401, "{why}: {status} {body}");
        assert!(
            matches!(
                body["error"].as_str(),
                Some("invalid_grant" | "invalid_client")
            ),
            "{why}: {body}"
        );
    }
    // PKCE-less login redeemed without a verifier works once the checks pass.
    let (status, body) = json_of(
        exchange(code.clone(), BROKER_CALLBACK, CLIENT_ID)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string());
    // A replay of the same code is refused here, before it can reach the provider.
    let (status, body) = json_of(
        exchange(code.clone(), BROKER_CALLBACK, CLIENT_ID)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let token_calls = mock
        .requests()
        .iter()
        .filter(|r| r.path == TIKTOK.token_path)
        .count();
    assert_eq!(
        token_calls, 1,
        "only the first valid exchange reached the provider"
    );

    // Unsupported grants and methods, in the RFC 6749 shape.
    let form = "grant_type=password&username=u&password=p&client_id=ck_bridge_1";
    let (status, body) = json_of(
        http.post(&token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let response = http.get(&token).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "POST");

    // An access token the provider refuses: 401 with a Bearer challenge (RFC 6750 §3).
    let response = http
        .get(gateway.url("/oidc/tiktok/userinfo"))
        .bearer_auth("bogus")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer error=\"invalid_token\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_info_failure_issues_no_id_token_and_userinfo_wants_a_bearer() {
    // A TikTok whose user endpoint refuses every token: the token leg reaches it,
    // then the bridge answers an error instead of an ID token.
    let mock = mock(ProviderKind::TikTok).await;
    let refusing = self::mock(ProviderKind::Slack).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "k.pem", "ES256");
    let (routes, oidc) = bridge_config(&TIKTOK, &mock, &[("k1", &key, "ES256")]);
    let routes = routes.replace(
        &format!("http://{}{}", mock.addr, TIKTOK.userinfo_path),
        &format!("http://{}/v2/user/info/", refusing.addr),
    );
    let gateway = Gateway::start_with(&routes, &oidc, "info");
    let client = discover(&issuer(&gateway, &TIKTOK)).await;
    let http = http_client();
    let code = broker_code(&gateway, "").await;
    let error = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(&rp_http())
        .await
        .unwrap_err();
    match error {
        openidconnect::RequestTokenError::ServerResponse(response) => assert!(
            matches!(
                response.error().as_ref(),
                "server_error" | "temporarily_unavailable"
            ),
            "{response:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        mock.requests()
            .iter()
            .filter(|r| r.path == TIKTOK.token_path)
            .count(),
        1
    );

    let userinfo = gateway.url("/oidc/tiktok/userinfo");
    let response = http.get(&userinfo).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let response = http
        .get(&userinfo)
        .bearer_auth("act.x")
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(
        status, 502,
        "a provider answer without a user is a bad gateway"
    );
    assert!(body["error"].is_string(), "{body}");
}
