//! WeCom through the OpenID Connect bridge: the `openidconnect` relying party
//! logs in with the corp app's id and secret, WeCom's login page is sent
//! `login_type=CorpApp`, `appid` and the `agentid` the bridge block gives,
//! the token leg redeems the code once with the cached corp token, and the
//! ID token's `sub` is the member's `userid` from the token leg's answer.

use super::*;
use quirkgate_mocks::wecom::{LOGIN_PAGE_PATH, MOCK_AGENT_ID};

/// WeCom's page facts for the relying party's checks (the mock is a
/// `WecomMock`, not a `MockProvider`: `kind` names no mock here).
const WECOM: Provider = Provider {
    name: "wecom",
    kind: ProviderKind::WeChat,
    token_preset: "wecom",
    token_path: "/cgi-bin/auth/getuserinfo",
    userinfo_preset: "wecom-userinfo",
    userinfo_path: "/cgi-bin/user/get",
    authorize_path: LOGIN_PAGE_PATH,
    sub: MOCK_USER_ID,
    name_claim: "Zhang San",
    client_id_param: "appid",
    scope: "",
    fragment: None,
};

/// The bridge block in front of the two WeCom routes; `extra` is added to it.
fn wecom_bridge(mock: &WecomMock, key: &std::path::Path, extra: &str) -> String {
    format!(
        "oidc:\n  - issuer: \"http://127.0.0.1:{{{{gateway_port}}}}/oidc/wecom\"\n    token_route: /wecom/token\n    userinfo_route: /wecom/user\n    authorize_url: \"http://{}{LOGIN_PAGE_PATH}\"\n    signing_keys: [{{ kid: k1, key_file: \"{}\", algorithm: RS256 }}]\n    seal_keys: [\"{}\"]\n    redirect_uris: [\"{BROKER_CALLBACK}\"]\n    client_ids: [\"{MOCK_CORP_ID}\"]\n{extra}",
        mock.addr,
        key.display(),
        crate::support::SEAL_KEY,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relying_party_logs_in_through_wecom_with_the_corp_apps_credentials() {
    let mock = WecomMock::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "k.pem", "RS256");
    let block = wecom_bridge(
        &mock,
        &key,
        &format!("    authorize_extra: {{ agentid: \"{MOCK_AGENT_ID}\" }}\n"),
    );
    let gateway = Gateway::start_with_env(&wecom_routes(&mock, ""), &block, "info", ENV);
    let issuer = issuer(&gateway, &WECOM);
    let client = discover_as(&issuer, MOCK_CORP_ID, MOCK_CORP_SECRET).await;
    let callback = format!("{issuer}/callback");
    let login = login_as(
        &client,
        &gateway,
        &WECOM,
        mock.addr,
        MOCK_CORP_ID,
        &callback,
    )
    .await;
    let claims = verified_claims(&client, &login);
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["sub"], MOCK_USER_ID);
    assert_eq!(claims["name"], "Zhang San");
    assert_eq!(claims["email"], "zhangsan@corp.example");
    let user = user_info(&client, &login, &gateway).await;
    assert_eq!(user["sub"], MOCK_USER_ID);
    assert_eq!(user["name"], "Zhang San");

    // The page got WeCom's names; the code reached WeCom once.
    let seen = mock.requests();
    let page = seen.iter().find(|r| r.path == LOGIN_PAGE_PATH).unwrap();
    assert_eq!(page.query_param("login_type"), Some("CorpApp"));
    assert_eq!(page.query_param("agentid"), Some(MOCK_AGENT_ID));
    assert_eq!(page.query_param("appid"), Some(MOCK_CORP_ID));
    assert_eq!(page.query_param("client_id"), None);
    assert_eq!(mock.code_reached(&format!("{MEMBER_CODE}-1")), 1);
    // One corp token per route (token and user), each cached for the next call.
    assert_eq!(mock.corp_token_calls(), 2);
    // Neither the corp token nor the corp secret reached the relying party.
    let answer = format!(
        "{} {:?}",
        login.tokens.access_token().secret(),
        openidconnect::TokenResponse::id_token(&login.tokens).map(|t| t.to_string())
    );
    for secret in corp_tokens(&mock)
        .iter()
        .map(String::as_str)
        .chain([MOCK_CORP_SECRET])
    {
        assert!(!answer.contains(secret), "{secret} reached the broker");
    }
}

#[tokio::test]
async fn a_wecom_bridge_without_the_agent_id_is_refused_at_load_naming_it() {
    let mock = WecomMock::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "k.pem", "ES256");
    let config = format!(
        "listen: \"127.0.0.1:0\"\nroutes:\n{}{}",
        wecom_routes(&mock, ""),
        wecom_bridge(&mock, &key, "").replace("{{gateway_port}}", "8080")
    );
    let path = dir.path().join("wecom.yaml");
    std::fs::write(&path, config).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quirkgate"))
        .args(["--test", "--config"])
        .arg(&path)
        .envs(ENV.iter().copied())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("authorize_extra") && stderr.contains("agentid"),
        "{stderr}"
    );
}
