//! OpenID Connect Core §3.1.2.1 and §5.3.1: `/authorize` and `/userinfo`
//! take a form POST as well as a GET; other methods are refused with the
//! methods that are allowed, and a POST that is not a form reaches no one.

use super::token_step::redeem;
use super::*;

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_posted_to_authorize_and_userinfo_works_like_a_get() {
    let (mock, gateway, _dir) = tiktok_bridge().await;
    let http = http_client();
    let authorize = gateway.url("/oidc/tiktok/authorize");

    let posted = http
        .post(&authorize)
        .header("content-type", FORM)
        .body(authorize_query(BROKER_CALLBACK, ""))
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_redirection(), "{}", posted.status());
    let to_provider = location(&posted);
    assert!(
        to_provider.starts_with(&format!("http://{}{}?", mock.addr, TIKTOK.authorize_path)),
        "{to_provider}"
    );
    let to_callback = location(&http.get(&to_provider).send().await.unwrap());
    let to_broker = location(&http.get(&to_callback).send().await.unwrap());
    let broker_params = query_of(&to_broker);
    assert_eq!(get_param(&broker_params, "state").as_deref(), Some("st-1"));
    let code = get_param(&broker_params, "code").unwrap();
    let (status, tokens) = redeem(&gateway, &code, Some(BROKER_CALLBACK), None).await;
    assert_eq!(status, 200, "{tokens}");
    let access_token = tokens["access_token"].as_str().unwrap();

    let user = http
        .post(gateway.url("/oidc/tiktok/userinfo"))
        .bearer_auth(access_token)
        .header("content-type", FORM)
        .body("")
        .send()
        .await
        .unwrap();
    let (status, user) = json_of(user).await;
    assert_eq!(
        (status, &user["sub"]),
        (200, &serde_json::json!(TIKTOK.sub))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_methods_and_bodies_that_are_not_forms_are_refused_unforwarded() {
    let (mock, gateway, _dir) = tiktok_bridge().await;
    let http = http_client();
    // A callback may be posted too (`response_mode=form_post`, Apple).
    for endpoint in ["authorize", "userinfo", "callback"] {
        let url = gateway.url(&format!("/oidc/tiktok/{endpoint}"));
        let response = http.put(&url).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 405, "{endpoint}");
        assert_eq!(response.headers()["allow"], "GET, POST", "{endpoint}");
    }
    let response = http
        .post(gateway.url("/oidc/tiktok/authorize"))
        .header("content-type", "application/json")
        .body(authorize_query(BROKER_CALLBACK, ""))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, 415, "{body}");
    assert!(body["error"].is_string(), "{body}");
    let posted_json = http
        .post(gateway.url("/oidc/tiktok/callback"))
        .header("content-type", "application/json")
        .body(r#"{"code":"mockcode-1","state":"s"}"#)
        .send()
        .await
        .unwrap();
    assert!(posted_json.headers().get("location").is_none());
    let (status, body) = json_of(posted_json).await;
    assert_eq!(status, 415, "a callback is a query or a form: {body}");
    assert!(
        mock.requests().is_empty(),
        "nothing refused reaches the provider"
    );
}
