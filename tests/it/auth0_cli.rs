//! `quirkgate auth0 connection`: the real binary against the mock Auth0
//! Management API on loopback. What it prints is accepted by the API; with
//! `--apply` it creates the connection, a second run writes nothing, an
//! update keeps every option set by hand, Auth0's refusals come back as one
//! line, and no secret is ever printed.

use std::process::Command;

use quirkgate_mocks::auth0::MockManagementApi;
use serde_json::{json, Value};

const DOMAIN: &str = "tenant.example.auth0.com";
const M2M_ID: &str = "m2m-client-id";
const M2M_SECRET: &str = "m2m-secret-do-not-print";
const PROVIDER_SECRET: &str = "provider-secret-do-not-print";
const SHARED_SECRET: &str = "shared-secret-do-not-print";

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// A config file with a TikTok route guarded by a shared secret from `${VAR}`.
fn config(extra_routes: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("quirkgate.yaml"),
        format!(
            "listen: \"127.0.0.1:1\"\nroutes:\n  - path: /token/proxy\n    preset: tiktok\n    upstream: \"http://127.0.0.1:1/\"\n    shared_secret: {{ header: X-Quirkgate-Secret, value: \"${{TEST_SHARED_SECRET}}\" }}\n{extra_routes}"
        ),
    )
    .unwrap();
    dir
}

async fn run(dir: &tempfile::TempDir, api: Option<&MockManagementApi>, args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quirkgate"));
    command
        .arg("--config")
        .arg(dir.path().join("quirkgate.yaml"))
        .args(["auth0", "connection", "--route", "/token/proxy"])
        .args([
            "--gateway-url",
            "https://gw.example.com",
            "--client-id",
            "ck_test",
        ])
        .args(args)
        .env("TEST_SHARED_SECRET", SHARED_SECRET)
        .env("PROVIDER_CLIENT_SECRET", PROVIDER_SECRET)
        .env("AUTH0_DOMAIN", DOMAIN)
        .env("AUTH0_CLIENT_ID", M2M_ID)
        .env("AUTH0_CLIENT_SECRET", M2M_SECRET);
    if let Some(api) = api {
        command.env("AUTH0_MANAGEMENT_URL", api.base_url());
    }
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let run = Run {
        ok: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    for secret in [M2M_SECRET, PROVIDER_SECRET, SHARED_SECRET, "mgmt-token-"] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{secret} printed:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    run
}

async fn mock() -> MockManagementApi {
    MockManagementApi::start("127.0.0.1:0", DOMAIN, M2M_ID, M2M_SECRET)
        .await
        .unwrap()
}

/// A Management API token from the mock, as a test client would get one.
async fn token(api: &MockManagementApi) -> String {
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/oauth/token", api.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", M2M_ID),
            ("client_secret", M2M_SECRET),
            ("audience", &format!("https://{DOMAIN}/api/v2/")),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"].as_str().unwrap().to_owned()
}

fn stored(api: &MockManagementApi, name: &str) -> Value {
    let tenant = api.tenant.lock().unwrap();
    tenant
        .connections
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
        .unwrap_or(Value::Null)
}

fn writes(api: &MockManagementApi) -> Vec<String> {
    api.tenant.lock().unwrap().writes.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_printed_connection_is_accepted_by_the_management_api() {
    let dir = config("");
    let printed = run(&dir, None, &[]).await;
    assert!(printed.ok, "{}", printed.stderr);
    let body: Value = serde_json::from_str(&printed.stdout).unwrap();
    let options = &body["options"];
    assert_eq!(body["strategy"], "oauth2");
    assert_eq!(options["tokenURL"], "https://gw.example.com/token/proxy");
    assert_eq!(
        options["authorizationURL"],
        "https://www.tiktok.com/v2/auth/authorize/"
    );
    assert_eq!(
        options["upstream_params"],
        json!({ "client_key": { "value": "ck_test" } })
    );
    // Secrets show as the variables they come from.
    assert_eq!(options["client_secret"], "${PROVIDER_CLIENT_SECRET}");
    assert_eq!(
        options["customHeaders"],
        json!({ "X-Quirkgate-Secret": "${TEST_SHARED_SECRET}" })
    );
    let script = options["scripts"]["fetchUserProfile"].as_str().unwrap();
    assert!(
        script.contains("body.data.user") && script.contains("union_id"),
        "{script}"
    );

    let api = mock().await;
    let created = reqwest::Client::new()
        .post(format!("{}/api/v2/connections", api.base_url()))
        .bearer_auth(token(&api).await)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiktok_userinfo_route_in_the_file_gives_the_flat_profile_script() {
    let dir = config("  - path: /tiktok/userinfo\n    preset: tiktok-userinfo\n    upstream: \"http://127.0.0.1:1/\"\n");
    let printed = run(&dir, None, &[]).await;
    let body: Value = serde_json::from_str(&printed.stdout).unwrap();
    let script = body["options"]["scripts"]["fetchUserProfile"]
        .as_str()
        .unwrap();
    assert!(
        script.contains("\"https://gw.example.com/tiktok/userinfo\""),
        "{script}"
    );
    assert!(!script.contains("data.user"), "{script}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_creates_the_connection_and_a_second_apply_changes_nothing() {
    let dir = config("");
    let api = mock().await;
    let first = run(
        &dir,
        Some(&api),
        &["--apply", "--enable-client", "app-1", "app-2"],
    )
    .await;
    assert!(first.ok, "{}", first.stderr);
    assert!(
        first.stdout.starts_with("connection 'tiktok': create\n"),
        "{}",
        first.stdout
    );
    assert!(
        first
            .stdout
            .contains("  + options.tokenURL: \"https://gw.example.com/token/proxy\""),
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("  + options.client_secret: <secret>"),
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("  + enabled for application app-2"),
        "{}",
        first.stdout
    );

    let connection = stored(&api, "tiktok");
    let options = &connection["options"];
    assert_eq!(
        options["client_secret"], PROVIDER_SECRET,
        "the real secret is what Auth0 gets"
    );
    assert_eq!(
        options["customHeaders"]["X-Quirkgate-Secret"],
        SHARED_SECRET
    );
    assert_eq!(options["upstream_params"]["client_key"]["value"], "ck_test");
    let id = connection["id"].as_str().unwrap().to_owned();
    assert_eq!(
        writes(&api),
        vec![
            "POST /api/v2/connections".to_owned(),
            format!("PATCH /api/v2/connections/{id}/clients")
        ]
    );
    assert_eq!(
        api.tenant.lock().unwrap().enabled_clients[&id],
        vec!["app-1", "app-2"]
    );

    let second = run(
        &dir,
        Some(&api),
        &["--apply", "--enable-client", "app-1", "app-2"],
    )
    .await;
    assert!(second.ok, "{}", second.stderr);
    assert_eq!(
        second.stdout,
        format!("connection 'tiktok' ({id}): no changes\n")
    );
    assert_eq!(writes(&api).len(), 2, "a second run writes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_keeps_every_option_set_by_hand() {
    let dir = config("");
    let api = mock().await;
    let by_hand = json!({
        "authorizationURL": "https://www.tiktok.com/v2/auth/authorize/",
        "tokenURL": "https://old-gateway.example.com/token",
        "client_id": "ck_test",
        "client_secret": "old",
        "scope": "user.info.basic,user.info.profile",
        "scripts": { "fetchUserProfile": "function fetchUserProfile(a, c, cb) { cb(null, {}); }" },
        "customHeaders": { "X-Tenant": "eu-1" },
        "upstream_params": { "prompt": { "value": "consent" } },
        "set_user_root_attributes": "on_first_login",
        "icon_url": "https://cdn.example.com/tiktok.png"
    });
    let created = reqwest::Client::new()
        .post(format!("{}/api/v2/connections", api.base_url()))
        .bearer_auth(token(&api).await)
        .json(&json!({ "name": "tiktok", "strategy": "oauth2", "options": by_hand }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    let update = run(&dir, Some(&api), &["--apply"]).await;
    assert!(update.ok, "{}", update.stderr);
    assert!(update.stdout.contains(": update\n"), "{}", update.stdout);
    assert!(
        update.stdout.contains("  ~ options.tokenURL: \"https://old-gateway.example.com/token\" -> \"https://gw.example.com/token/proxy\""),
        "{}",
        update.stdout
    );
    assert!(
        update
            .stdout
            .contains("  ~ options.client_secret: <secret> -> <secret>"),
        "{}",
        update.stdout
    );
    assert!(
        !update.stdout.contains("options.icon_url"),
        "unchanged options are not listed"
    );

    let options = stored(&api, "tiktok")["options"].clone();
    assert_eq!(options["set_user_root_attributes"], "on_first_login");
    assert_eq!(options["icon_url"], "https://cdn.example.com/tiktok.png");
    assert_eq!(
        options["customHeaders"],
        json!({ "X-Tenant": "eu-1", "X-Quirkgate-Secret": SHARED_SECRET })
    );
    assert_eq!(
        options["upstream_params"],
        json!({ "prompt": { "value": "consent" }, "client_key": { "value": "ck_test" } })
    );
    assert_eq!(options["tokenURL"], "https://gw.example.com/token/proxy");
    assert_eq!(
        options["scope"], "user.info.basic",
        "a managed option takes the preset's value"
    );
}

/// Why the merge matters: the mock, like Auth0, replaces the whole options object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_naive_patch_loses_every_option_it_does_not_send() {
    let dir = config("");
    let api = mock().await;
    assert!(run(&dir, Some(&api), &["--apply"]).await.ok);
    let id = stored(&api, "tiktok")["id"].as_str().unwrap().to_owned();
    let patched = reqwest::Client::new()
        .patch(format!("{}/api/v2/connections/{id}", api.base_url()))
        .bearer_auth(token(&api).await)
        .json(
            &json!({ "options": { "upstream_params": { "client_key": { "value": "ck_test" } } } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let options = stored(&api, "tiktok")["options"].clone();
    assert!(
        options.get("tokenURL").is_none() && options.get("client_secret").is_none(),
        "{options}"
    );

    // The mock refuses what Auth0 refuses: a name in a PATCH, an unknown property.
    let renamed = reqwest::Client::new()
        .patch(format!("{}/api/v2/connections/{id}", api.base_url()))
        .bearer_auth(token(&api).await)
        .json(&json!({ "name": "other" }))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 400);

    // quirkgate repairs it, and says what it puts back.
    let repair = run(&dir, Some(&api), &["--apply"]).await;
    assert!(
        repair.stdout.contains("  + options.tokenURL:"),
        "{}",
        repair.stdout
    );
    assert_eq!(
        stored(&api, "tiktok")["options"]["tokenURL"],
        "https://gw.example.com/token/proxy"
    );
}

fn one_line(run: &Run) -> &str {
    assert!(!run.ok, "should fail: {}", run.stdout);
    let line = run.stderr.trim_end();
    assert!(!line.contains('\n'), "one line, got:\n{}", run.stderr);
    line
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth0_refusals_become_one_line_that_says_what_to_do() {
    let dir = config("");
    let api = mock().await;

    // 401: wrong Machine-to-Machine credentials.
    api.tenant.lock().unwrap().client_secret = "rotated".into();
    let refused = run(&dir, Some(&api), &["--apply"]).await;
    let line = one_line(&refused);
    assert!(
        line.contains("POST /oauth/token: 401") && line.contains("AUTH0_CLIENT_SECRET"),
        "{line}"
    );
    api.tenant.lock().unwrap().client_secret = M2M_SECRET.into();

    // 403: the application may read but not create connections.
    api.tenant.lock().unwrap().granted_scopes = vec!["read:connections".into()];
    let scope = run(&dir, Some(&api), &["--apply"]).await;
    assert_eq!(
        one_line(&scope),
        "error: auth0: POST /api/v2/connections: 403 insufficient scope: grant the Machine-to-Machine application create:connections on the Auth0 Management API"
    );
    api.tenant.lock().unwrap().granted_scopes = quirkgate_mocks::auth0::CONNECTION_SCOPES
        .iter()
        .map(|s| s.to_string())
        .collect();

    // 429 with Retry-After.
    api.tenant.lock().unwrap().rate_limited_calls = 1;
    let limited = run(&dir, Some(&api), &["--apply"]).await;
    let line = one_line(&limited);
    assert!(
        line.contains("429") && line.ends_with("retry after 7 s"),
        "{line}"
    );

    // 409: the name is taken by a connection of another strategy.
    api.tenant
        .lock()
        .unwrap()
        .connections
        .push(json!({ "id": "con_github", "name": "tiktok", "strategy": "github", "options": {} }));
    let conflict = run(&dir, Some(&api), &["--apply"]).await;
    let line = one_line(&conflict);
    assert!(line.contains("409") && line.contains("--name"), "{line}");
    assert!(writes(&api).is_empty(), "no refused call wrote anything");

    // A missing setting is named before anything is sent.
    let mut no_domain = Command::new(env!("CARGO_BIN_EXE_quirkgate"));
    no_domain
        .arg("--config")
        .arg(dir.path().join("quirkgate.yaml"))
        .args([
            "auth0",
            "connection",
            "--route",
            "/token/proxy",
            "--gateway-url",
            "https://gw",
            "--client-id",
            "c",
            "--apply",
        ])
        .env("TEST_SHARED_SECRET", SHARED_SECRET)
        .env("PROVIDER_CLIENT_SECRET", PROVIDER_SECRET)
        .env_remove("AUTH0_DOMAIN")
        .env_remove("AUTH0_CLIENT_ID")
        .env_remove("AUTH0_CLIENT_SECRET");
    let output = no_domain.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET"),
        "{stderr}"
    );
}
