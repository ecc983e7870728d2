//! A broker login too long for the provider's `state` (WeChat-sized: at
//! most 128 bytes of `[a-zA-Z0-9]`), kept in the store: the provider sees a
//! 32-digit handle, any replica's `/callback` takes the sealed login once
//! (`GETDEL`), and the broker gets its whole state back. The store holds
//! only the seal. A store that cannot keep or give back the login refuses
//! it; nothing is truncated, and nothing reaches the provider's token endpoint.

use std::time::Duration;

use super::*;

const CAPPED: &str = "    state_max_bytes: 128\n    state_alphabet: alphanumeric\n";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// An Okta-sized broker state (several hundred characters) and a long nonce.
fn long_state() -> String {
    format!("okta-{}", "Zm9vYmFyYmF6".repeat(40))
}

fn long_query() -> String {
    authorize_query(
        BROKER_CALLBACK,
        &format!("&code_challenge={CHALLENGE}&code_challenge_method=S256"),
    )
    .replace("state=st-1", &format!("state={}", long_state()))
    .replace("nonce=nc-1", &format!("nonce=nonce-{}", "n".repeat(120)))
}

/// `/authorize` at `gateway` with a long login: where the browser is sent.
async fn authorize_long(gateway: &Gateway) -> String {
    location(
        &http_client()
            .get(format!(
                "{}?{}",
                gateway.url("/oidc/tiktok/authorize"),
                long_query()
            ))
            .send()
            .await
            .unwrap(),
    )
}

async fn get(url: &str) -> reqwest::Response {
    http_client().get(url).send().await.unwrap()
}

/// The callback URL at `gateway` with the provider's `state`, as the provider would send it.
fn callback_at(gateway: &Gateway, state: &str) -> String {
    format!(
        "{}?code=mockcode-1&state={state}",
        gateway.url("/oidc/tiktok/callback")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_too_long_for_the_state_is_kept_behind_a_handle_and_taken_once_at_any_replica() {
    let redis = Redis::start();
    let fleet = fleet_with(&store_block(&[redis.url()], ""), CAPPED).await;

    // The provider sees a short handle, not the login.
    let to_provider = authorize_long(&fleet.a).await;
    let handle = get_param(&query_of(&to_provider), "state").unwrap();
    assert_eq!(handle.len(), 32, "{handle}");
    assert!(handle.bytes().all(|b| b.is_ascii_hexdigit()), "{handle}");
    let kept = redis.contents();
    assert_eq!(kept.matches("qg:ctx:").count(), 1, "{kept}");
    let nonce = format!("nonce-{}", "n".repeat(120));
    assert_no_secret(
        &kept,
        "the store (the seal only)",
        &[long_state(), nonce, CHALLENGE.to_owned(), handle.clone()],
    );

    // The provider's page sends the browser to the other replica's callback.
    let from_provider = location(&get(&to_provider).await);
    let at_b = from_provider.replace(
        &fleet.a.url("/oidc/tiktok/callback"),
        &fleet.b.url("/oidc/tiktok/callback"),
    );
    assert_ne!(at_b, from_provider);
    let to_broker = location(&get(&at_b).await);
    let params = query_of(&to_broker);
    assert_eq!(
        get_param(&params, "state"),
        Some(long_state()),
        "the broker's state, whole"
    );
    assert!(
        !redis.contents().contains("qg:ctx:"),
        "taken, not left behind"
    );

    // The handle works once: a second callback with it is refused, with no redirect.
    let again = get(&callback_at(&fleet.a, &handle)).await;
    assert_eq!(again.status().as_u16(), 400);
    assert!(again.headers().get("location").is_none());

    // The broker's code redeems, with the PKCE challenge the kept login carried.
    let form = serde_urlencoded::to_string([
        ("grant_type", "authorization_code"),
        ("code", get_param(&params, "code").unwrap().as_str()),
        ("redirect_uri", BROKER_CALLBACK),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("code_verifier", VERIFIER),
    ])
    .unwrap();
    let (status, body) = post_url(&fleet.b.url("/oidc/tiktok/token"), form).await;
    assert_eq!(status, 200, "{body}\n{}", fleet.b.log());
    assert!(body["id_token"].is_string());
    assert_eq!(token_calls(&fleet.mock), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_that_fits_the_state_never_touches_the_store() {
    let redis = Redis::start();
    let fleet = fleet_with(&store_block(&[redis.url()], ""), CAPPED).await;
    let code = broker_code(&fleet.a).await;
    assert!(!code.is_empty());
    assert!(
        !redis.contents().contains("qg:ctx:"),
        "a short login rides in the state itself"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_that_was_never_kept_or_a_store_that_is_down_refuses_the_callback() {
    let mut redis = Redis::start();
    let fleet = fleet_with(
        &store_block(
            &[redis.url()],
            "  connect_timeout: 300ms\n  command_timeout: 300ms\n",
        ),
        CAPPED,
    )
    .await;
    let unknown = get(&callback_at(&fleet.a, "0123456789abcdef0123456789abcdef")).await;
    assert_eq!(unknown.status().as_u16(), 400, "a forged handle");
    assert!(unknown.headers().get("location").is_none());

    let to_provider = authorize_long(&fleet.a).await;
    let handle = get_param(&query_of(&to_provider), "state").unwrap();
    redis.kill();

    // The callback cannot find the login: 503, no redirect, nothing sent.
    let callback = get(&callback_at(&fleet.b, &handle)).await;
    assert_eq!(callback.status().as_u16(), 503);
    assert!(callback.headers().get("location").is_none());
    // A new long login goes back to the broker: the store cannot keep it.
    let back = authorize_long(&fleet.a).await;
    assert!(back.starts_with(BROKER_CALLBACK), "{back}");
    let params = query_of(&back);
    assert_eq!(
        get_param(&params, "error").as_deref(),
        Some("temporarily_unavailable")
    );
    assert_eq!(get_param(&params, "state"), Some(long_state()));
    assert_eq!(token_calls(&fleet.mock), 0);
    for (replica, use_) in [(&fleet.a, "put_context"), (&fleet.b, "take_context")] {
        replica
            .wait_for_metric(
                "quirkgate_store_fallbacks_total",
                &[("use", use_), ("outcome", "refused")],
                1.0,
            )
            .await;
    }

    // Restarted, the store keeps long logins again, with no gateway restart.
    redis.restart();
    let mock_page = format!("http://{}", fleet.mock.addr);
    let recovered = eventually(Duration::from_secs(10), || async {
        let to_provider = authorize_long(&fleet.a).await;
        if !to_provider.starts_with(&mock_page) {
            return None; // still refused back to the broker
        }
        let callback = get(&location(&get(&to_provider).await)).await;
        (callback.status().as_u16() == 302).then(|| location(&callback))
    })
    .await
    .expect("long logins are kept again once the store is back");
    assert_eq!(
        get_param(&query_of(&recovered), "state"),
        Some(long_state())
    );
}
