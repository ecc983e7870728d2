//! A user leg of several steps: QQ names its user with `/oauth2.0/me` (the
//! open id and the app id the token is for) before `get_user_info` can read
//! them. The `openidconnect` relying party logs in through both steps; a
//! failing second step issues no ID token, and the provider's code went to
//! its token endpoint once; no secret of either leg reaches the trace log.

use openidconnect::OAuth2TokenResponse;
use quirkgate_mocks::qq::{MOCK_QQ_NICKNAME, MOCK_QQ_UNIONID};

use crate::support::*;

pub(crate) const QQ: Provider = Provider {
    name: "qq",
    kind: ProviderKind::Qq,
    token_preset: "qq",
    token_path: "/oauth2.0/token",
    userinfo_preset: "qq-userinfo",
    userinfo_path: "/user/get_user_info",
    authorize_path: "/oauth2.0/authorize",
    sub: MOCK_QQ_UNIONID,
    name_claim: MOCK_QQ_NICKNAME,
    client_id_param: "client_id",
    scope: "get_user_info",
    fragment: None,
};

const ME_PATH: &str = "/oauth2.0/me";

/// QQ's bridge: its token route and a two-step user leg (`qq-me`, then
/// `qq-userinfo` at `user_upstream`), signed with `algorithm`.
fn qq_bridge(
    mock: &MockProvider,
    user_upstream: &str,
    key: &std::path::Path,
    algorithm: &str,
) -> (String, String) {
    let base = format!("http://{}", mock.addr);
    let routes = [
        route("/token/qq", "qq", &format!("{base}{}", QQ.token_path), ""),
        route("/userinfo/qq-me", "qq-me", &format!("{base}{ME_PATH}"), ""),
        route("/userinfo/qq", "qq-userinfo", user_upstream, ""),
    ]
    .concat();
    let one_step = "    userinfo_route: /userinfo/qq\n";
    let block = oidc_block(&QQ, mock, &[("k1", key, algorithm)]);
    assert!(block.contains(one_step));
    let block = block.replace(
        one_step,
        "    userinfo_route: [/userinfo/qq-me, /userinfo/qq]\n",
    );
    (routes, block)
}

fn calls(mock: &MockProvider, path: &str) -> usize {
    mock.requests().iter().filter(|r| r.path == path).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relying_party_logs_in_through_qqs_two_user_steps() {
    let mock = mock(ProviderKind::Qq).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "signing.pem", "RS256");
    let user_upstream = format!("http://{}{}", mock.addr, QQ.userinfo_path);
    let (routes, oidc) = qq_bridge(&mock, &user_upstream, &key, "RS256");
    let gateway = Gateway::start_with(&routes, &oidc, "trace");
    let client = discover(&issuer(&gateway, &QQ)).await;
    let login = login(&client, &gateway, &QQ, &mock).await;
    let claims = verified_claims(&client, &login);
    assert_eq!(claims["iss"], issuer(&gateway, &QQ));
    // sub from the first step's answer, name and picture from the second's.
    assert_eq!(claims["sub"], QQ.sub, "{claims}");
    assert_eq!(claims["name"], QQ.name_claim, "{claims}");
    assert_eq!(claims["picture"], "https://thirdqq.qlogo.cn/mock/100");

    let user = user_info(&client, &login, &gateway).await;
    assert_eq!(user["sub"], QQ.sub);
    assert_eq!(user["name"], QQ.name_claim);

    // The code went to the token endpoint once; each user step ran once for
    // /token and once for /userinfo, in order; the strict mock took every call.
    let seen = mock.requests();
    let paths: Vec<&str> = seen.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            QQ.authorize_path,
            QQ.token_path,
            ME_PATH,
            QQ.userinfo_path,
            ME_PATH,
            QQ.userinfo_path
        ]
    );
    for request in &seen {
        let endpoint = ProviderKind::Qq
            .endpoints()
            .iter()
            .find(|e| e.path == request.path)
            .unwrap();
        assert_eq!(endpoint.check(request), Ok(()), "{}", request.path);
    }

    // No secret of the token leg or either user step reaches the trace log or the metrics.
    let mut needles = vec![
        CLIENT_SECRET.to_owned(),
        SEAL_KEY.to_owned(),
        "mockcode-1".to_owned(),
        "qq.mockcode-1".to_owned(),
        "qqr.mockcode-1".to_owned(),
        login.tokens.access_token().secret().clone(),
        login.nonce.secret().clone(),
    ];
    if let Some(refresh) = login.tokens.refresh_token() {
        needles.push(refresh.secret().clone());
    }
    let secrets: Vec<String> = needles.iter().flat_map(|n| secret_forms(n)).collect();
    let log = gateway.log();
    assert!(
        log.contains("route=/oidc/qq/token"),
        "the bridge logs at trace"
    );
    assert_no_secret(&log, "the log", &secrets);
    assert_no_secret(&gateway.metrics().await, "the metrics", &secrets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_second_step_issues_no_id_token_and_the_code_is_not_sent_again() {
    let mock = mock(ProviderKind::Qq).await;
    // get_user_info as QQ answers a user who did not grant it: ret 100030 in
    // an HTTP 200, once the strict table has taken the request.
    let (user_addr, user_calls) = scripted_upstream(|stream, request| async move {
        let (status, content_type, body) =
            match quirkgate_mocks::strict::judge(ProviderKind::Qq.endpoints(), &request) {
                Err(refusal) => refusal,
                Ok(_) => (
                    200,
                    "application/json",
                    r#"{"ret":100030,"msg":"this api without user authorization"}"#.to_owned(),
                ),
            };
        write_answer(stream, status, content_type, &body).await
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "signing.pem", "ES256");
    let user_upstream = format!("http://{user_addr}{}", QQ.userinfo_path);
    let (routes, oidc) = qq_bridge(&mock, &user_upstream, &key, "ES256");
    let gateway = Gateway::start_with(&routes, &oidc, "info");
    let code = super::super::broker_code_at(&gateway, "/oidc/qq", "").await;
    let form = super::super::broker_token_form(&code);
    let token_url = format!("{}/token", issuer(&gateway, &QQ));
    let (status, body) = post_url(&token_url, form.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (502, Some("server_error")),
        "{body}"
    );
    assert!(body.get("id_token").is_none() && body.get("access_token").is_none());
    assert_eq!(user_calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(calls(&mock, ME_PATH), 1);

    // The broker tries again: the code is spent, and QQ never sees it twice.
    let (status, body) = post_url(&token_url, form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    assert_eq!(calls(&mock, QQ.token_path), 1);
    assert_eq!(calls(&mock, ME_PATH), 1);
    assert_eq!(user_calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}
