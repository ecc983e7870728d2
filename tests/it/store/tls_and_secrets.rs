//! `rediss://` verified against the test's CA (and refused without it); and
//! what goes into the store: hashed keys and bare markers, never a code,
//! token, state, client secret or key, in any encoding.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_store_is_verified_against_its_ca_file() {
    let pki = TestPki::new();
    let redis = Redis::start_tls(&pki);
    assert!(redis.url().starts_with("rediss://"));
    let trusted = store_block(
        &[redis.url()],
        &format!("  ca_file: \"{}\"\n", pki.ca_path.display()),
    );
    let fleet = fleet(&trusted).await;
    assert_eq!(readyz(&fleet.a).await, 200, "{}", fleet.a.log());
    let code = broker_code(&fleet.a).await;
    assert_eq!(redeem(&fleet.a, &code).await.0, 200);
    assert_invalid_grant(&redeem(&fleet.b, &code).await, "replayed over TLS");
    assert!(redis.contents().contains("qg:code:"));

    // Without the CA, the store's certificate is not trusted: no store, fail closed.
    let untrusted = fleet_without_ca(&redis).await;
    assert_eq!(readyz(&untrusted.a).await, 503);
    let code = broker_code(&untrusted.a).await;
    assert_eq!(redeem(&untrusted.a, &code).await.0, 503);
    assert_eq!(token_calls(&untrusted.mock), 0);
}

async fn fleet_without_ca(redis: &Redis) -> Fleet {
    fleet(&store_block(&[redis.url()], "  connect_timeout: 300ms\n")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_holds_no_code_token_state_or_key() {
    let redis = Redis::start();
    let fleet = fleet(&store_block(&[redis.url()], "")).await;
    let http = http_client();
    let to_provider = location(
        &http
            .get(format!(
                "{}?{}",
                fleet.a.url("/oidc/tiktok/authorize"),
                authorize_query(BROKER_CALLBACK, "")
            ))
            .send()
            .await
            .unwrap(),
    );
    let provider_state = get_param(&query_of(&to_provider), "state").unwrap();
    let code = broker_code(&fleet.a).await;
    let (status, _, tokens) = redeem(&fleet.b, &code).await;
    assert_eq!(status, 200, "{tokens}");
    assert_invalid_grant(&redeem(&fleet.a, &code).await, "replayed");

    let contents = redis.contents();
    assert!(
        contents.contains("qg:code:"),
        "the scan sees the claims: {contents}"
    );
    let mut secrets = vec![
        code.clone(),
        provider_state,
        "mockcode-1".to_owned(),
        CLIENT_SECRET.to_owned(),
        SEAL_KEY.to_owned(),
    ];
    for field in ["access_token", "refresh_token", "id_token"] {
        if let Some(token) = tokens[field].as_str() {
            secrets.push(token.to_owned());
        }
    }
    assert_no_secret(&contents, "the store", &secrets);
    let signing_key = std::fs::read_to_string(fleet._dir.path().join("k.pem")).unwrap();
    let key_body: String = signing_key
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert_no_secret(&contents, "the store", &[key_body]);
}
