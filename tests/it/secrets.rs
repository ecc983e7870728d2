//! Secrets never leak: every route type and error path at the most verbose log
//! level, then the log, the metrics and every error body are searched for each
//! client secret, code, refresh token, access token, Authorization value and
//! shared secret that went through the gateway; and the OpenID Connect
//! bridge's whole login, with its signing key, seal key, state and nonce.

use crate::support::*;
use openidconnect::OAuth2TokenResponse;
use std::time::Duration;

const SECRET: &str = "SECRET-9f8e7d6c5b";
const SHARED: &str = "SHARED-5a4b3c2d1e";

struct Probe {
    gateway: Gateway,
    http: reqwest::Client,
    error_bodies: Vec<String>,
    needles: Vec<String>,
}

impl Probe {
    async fn send(
        &mut self,
        path: &str,
        body: String,
        headers: &[(&str, String)],
    ) -> (u16, serde_json::Value) {
        let mut request = self.http.post(self.gateway.url(path)).body(body);
        if !headers.iter().any(|(name, _)| *name == "content-type") {
            request = request.header("content-type", FORM);
        }
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        self.finish(request).await
    }

    async fn get(&mut self, path: &str, authorization: &str) -> (u16, serde_json::Value) {
        let request = self
            .http
            .get(self.gateway.url(path))
            .header("authorization", authorization);
        self.finish(request).await
    }

    async fn finish(&mut self, request: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        if status >= 400 {
            self.error_bodies.push(text);
        }
        for field in ["access_token", "refresh_token"] {
            if let Some(token) = json[field].as_str() {
                self.needles.push(token.to_owned());
            }
        }
        (status, json)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_logs_metrics_or_error_bodies_on_any_route_at_trace_level() {
    let providers = [
        (
            "/tiktok",
            "tiktok",
            ProviderKind::TikTok,
            "/v2/oauth/token/",
        ),
        (
            "/tiktok-v1",
            "tiktok-v1",
            ProviderKind::TikTokV1,
            "/oauth/access_token/",
        ),
        (
            "/wechat",
            "wechat",
            ProviderKind::WeChat,
            "/sns/oauth2/access_token",
        ),
        (
            "/github",
            "github",
            ProviderKind::GitHub,
            "/login/oauth/access_token",
        ),
        (
            "/slack",
            "slack",
            ProviderKind::Slack,
            "/api/oauth.v2.access",
        ),
        (
            "/reddit",
            "basic-auth",
            ProviderKind::Reddit,
            "/api/v1/access_token",
        ),
    ];
    let mut mocks = Vec::new();
    let mut routes = String::new();
    for (path, preset, kind, provider_path) in providers {
        let provider = mock(kind).await;
        routes.push_str(&route(
            path,
            preset,
            &format!("http://{}{provider_path}", provider.addr),
            "max_body_bytes: 2048",
        ));
        mocks.push(provider);
    }
    let userinfo = mock(ProviderKind::TikTokUserInfo).await;
    routes.push_str(&route(
        "/userinfo",
        "tiktok-userinfo",
        &format!("http://{}/v2/user/info/", userinfo.addr),
        "",
    ));
    let guarded = mock(ProviderKind::TikTok).await;
    routes.push_str(&route(
        "/guarded",
        "tiktok",
        &tiktok_token_url(guarded.addr),
        &format!("shared_secret: {{ header: x-gateway-secret, value: \"{SHARED}\" }}"),
    ));
    let closed = free_port();
    routes.push_str(&route(
        "/down",
        "tiktok",
        &format!("http://127.0.0.1:{closed}/token"),
        "retries: 1",
    ));

    let gateway = Gateway::start_with(&routes, "", "trace");
    let mut probe = Probe {
        gateway,
        http: http_client(),
        error_bodies: Vec::new(),
        needles: Vec::new(),
    };
    let mut needles: Vec<String> = vec![
        SECRET.into(),
        SHARED.into(),
        "SHARED-wrong-77".into(),
        "BADTOKEN-31337".into(),
    ];

    for (path, _, _, _) in providers {
        let name = path.trim_start_matches('/');
        let code = format!("CODE-{name}-1");
        let expired = format!("expired-CODE-{name}-2");
        let refresh = format!("REFRESH-{name}-3");
        needles.extend([
            code.clone(),
            expired.clone(),
            refresh.clone(),
            basic("app", SECRET),
        ]);
        let grant = |code: &str| {
            format!("grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Fx%2Fcb&client_id=app&client_secret={SECRET}")
        };
        let (status, _) = probe.send(path, grant(&code), &[]).await;
        assert_eq!(status, 200, "{path} success");
        let (status, _) = probe
            .send(
                path,
                format!("grant_type=authorization_code&code={code}x"),
                &[("authorization", basic("app", SECRET))],
            )
            .await;
        assert!(status == 200 || status == 400, "{path} Basic: {status}");
        let (status, _) = probe.send(path, grant(&expired), &[]).await;
        // The Reddit mock has no expired-code answer; every other provider refuses.
        let refused = status == 400 || status == 401;
        assert!(
            refused || (path == "/reddit" && status == 200),
            "{path} provider error: {status}"
        );
        let (status, _) = probe.send(path, format!("grant_type=refresh_token&refresh_token={refresh}&client_id=app&client_secret={SECRET}"), &[]).await;
        assert!(status < 500, "{path} refresh: {status}");
        // Gateway refusals that carry secrets in what they refuse.
        for body in [
            format!("grant_type=authorization_code&code={code}&client_secret={SECRET}&bad=%zz"),
            format!("grant_type=authorization_code&code={code}&code={code}&client_id=app&client_secret={SECRET}"),
            format!("grant_type=authorization_code&code={code}&client_id=app&client_secret={SECRET}&pad={}", "p".repeat(3000)),
        ] {
            let (status, _) = probe.send(path, body, &[]).await;
            assert!((400..500).contains(&status), "{path} refusal: {status}");
        }
        let (status, _) = probe
            .send(
                path,
                format!("code={code}&client_secret={SECRET}"),
                &[
                    ("authorization", basic("app", SECRET)),
                    ("content-type", "application/json".into()),
                ],
            )
            .await;
        assert_eq!(status, 415);
    }

    let (status, _) = probe.get("/userinfo", "Bearer act.CODE-userinfo").await;
    assert_eq!(status, 200);
    let (status, _) = probe.get("/userinfo", "Bearer BADTOKEN-31337").await;
    assert_eq!(status, 401);
    let good = format!(
        "grant_type=authorization_code&code=CODE-guarded-1&client_id=app&client_secret={SECRET}"
    );
    let (status, _) = probe
        .send(
            "/guarded",
            good.clone(),
            &[("x-gateway-secret", SHARED.into())],
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = probe
        .send(
            "/guarded",
            good.clone(),
            &[("x-gateway-secret", "SHARED-wrong-77".into())],
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = probe.send("/down", good, &[]).await;
    assert_eq!(status, 502);
    needles.push("CODE-guarded-1".into());
    assert!(
        guarded
            .requests()
            .iter()
            .all(|r| r.header("x-gateway-secret").is_none()),
        "the shared secret is never forwarded"
    );

    // The last request's access-log line: every earlier line is written too.
    let log = probe
        .gateway
        .wait_for_log("route=/down method=POST status=502", WAIT);
    let metrics = probe.gateway.metrics().await;
    assert!(
        log.matches("quirkgate::access").count() > 50,
        "every exchange was logged:\n{log}"
    );
    needles.extend(probe.needles.iter().cloned());
    assert_no_secret(&log, "the log", &needles);
    assert_no_secret(&metrics, "the metrics", &needles);
    for body in &probe.error_bodies {
        assert_no_secret(body, "an error body", &needles);
    }
    assert!(
        probe.error_bodies.len() > 30,
        "every error path was exercised"
    );
}

const WAIT: Duration = Duration::from_secs(10);

/// Chunked, HTTP/1.0 and HTTP/2 requests go through Pingora's own HTTP stack
/// (`PingoraFrontEnd`), whose internals log raw heads and bodies at trace:
/// the gateway's cap on `pingora*` targets must keep every secret out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_log_from_chunked_http10_or_http2_requests_at_trace_level() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let guarded = route(
        "/guarded",
        "tiktok",
        &tiktok_token_url(tiktok.addr),
        &format!("shared_secret: {{ header: x-gateway-secret, value: \"{SHARED}\" }}"),
    );
    let plain = Gateway::start_with(&guarded, "", "trace");
    let pki = TestPki::new();
    let tls = format!(
        "tls:\n  cert_file: {}\n  key_file: {}\n",
        pki.leaf_cert_path.display(),
        pki.leaf_key_path.display()
    );
    let edge = Gateway::start_with(&guarded, &tls, "trace");
    let mut secrets: Vec<String> = vec![SECRET.into(), SHARED.into(), basic("app", SECRET)];

    // Chunked, the code and the secret cut across chunks; credentials in Basic.
    let code = "CODE-chunked-7e6d5c4b";
    let body =
        format!("grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Fx%2Fcb");
    let (first, rest) = body.split_at(body.find(code).unwrap() + 9);
    let chunked = format!(
        "POST /guarded HTTP/1.1\r\nHost: gw\r\nContent-Type: {FORM}\r\nAuthorization: {}\r\nX-Gateway-Secret: {SHARED}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{first}\r\n{:x}\r\n{rest}\r\n0\r\n\r\n",
        basic("app", SECRET),
        first.len(),
        rest.len()
    );
    let answer = raw_exchange(&plain, &chunked).await;
    assert_eq!(raw_status(&answer), 200, "{answer}");
    let token = raw_json(&answer)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_cache_forbidden(&answer);
    secrets.extend([code.to_owned(), token]);
    assert_eq!(
        tiktok.requests().last().unwrap().body_param("code"),
        Some(code)
    );

    // Chunked with the secret in the body, split inside the secret itself.
    let code = "CODE-chunked-body-1f2e3d";
    let body =
        format!("grant_type=authorization_code&code={code}&client_id=app&client_secret={SECRET}");
    let cut = body.find(SECRET).unwrap() + 5;
    let chunked = format!(
        "POST /guarded HTTP/1.1\r\nHost: gw\r\nContent-Type: {FORM}\r\nX-Gateway-Secret: {SHARED}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n",
        cut,
        &body[..cut],
        body.len() - cut,
        &body[cut..]
    );
    let answer = raw_exchange(&plain, &chunked).await;
    assert_eq!(raw_status(&answer), 200, "{answer}");
    secrets.push(code.to_owned());
    secrets.push(
        raw_json(&answer)["access_token"]
            .as_str()
            .unwrap()
            .to_owned(),
    );

    // HTTP/1.0 with a refresh token, then a wrong shared secret (refused).
    let refresh = "REFRESH-http10-8a7b6c5d";
    let body = format!("grant_type=refresh_token&refresh_token={refresh}");
    let http10 = format!(
        "POST /guarded HTTP/1.0\r\nHost: gw\r\nContent-Type: {FORM}\r\nAuthorization: {}\r\nX-Gateway-Secret: {SHARED}\r\nContent-Length: {}\r\n\r\n{body}",
        basic("app", SECRET),
        body.len()
    );
    let answer = raw_exchange(&plain, &http10).await;
    assert_eq!(raw_status(&answer), 200, "{answer}");
    assert_cache_forbidden(&answer);
    secrets.push(refresh.to_owned());
    secrets.push(
        raw_json(&answer)["access_token"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    let wrong = "SHARED-wrong-http10-42";
    let http10 = http10.replace(SHARED, wrong);
    let answer = raw_exchange(&plain, &http10).await;
    assert_eq!(raw_status(&answer), 401, "{answer}");
    assert_cache_forbidden(&answer);
    secrets.push(wrong.to_owned());

    // HTTP/2 over the edge TLS listener, Basic credentials, a streamed body.
    let h2 = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let code = "CODE-h2-3c4d5e6f";
    let pieces: Vec<Result<String, std::io::Error>> = vec![
        Ok("grant_type=authorization_code&code=CODE-h2".into()),
        Ok("-3c4d5e6f&redirect_uri=https%3A%2F%2Fx%2Fcb".into()),
    ];
    let response = h2
        .post(format!("https://127.0.0.1:{}/guarded", edge.port))
        .header("content-type", FORM)
        .header("authorization", basic("app", SECRET))
        .header("x-gateway-secret", SHARED)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            pieces,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let json: serde_json::Value = response.json().await.unwrap();
    secrets.push(code.to_owned());
    secrets.push(json["access_token"].as_str().unwrap().to_owned());
    let response = h2
        .post(format!("https://127.0.0.1:{}/guarded", edge.port))
        .header("content-type", FORM)
        .header("x-gateway-secret", "SHARED-wrong-h2-4242")
        .body(format!("grant_type=authorization_code&code=CODE-h2-refused-99&client_id=app&client_secret={SECRET}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    secrets.extend(["SHARED-wrong-h2-4242".into(), "CODE-h2-refused-99".into()]);

    let log = plain.wait_for_log_count("route=/guarded method=POST status=", 4, WAIT);
    assert!(log.lines().count() > 4, "trace logging is on:\n{log}");
    assert!(log.contains("status=401"), "{log}");
    assert_no_secret(&log, "the plain gateway's log", &secrets);
    assert_no_secret(&plain.metrics().await, "the metrics", &secrets);
    let log = edge.wait_for_log_count("route=/guarded method=POST status=", 2, WAIT);
    assert_no_secret(&log, "the TLS gateway's log", &secrets);
}

/// RFC 6749 §5.1: a token answer is never cacheable.
fn assert_cache_forbidden(answer: &str) {
    let head = answer
        .split("\r\n\r\n")
        .next()
        .unwrap()
        .to_ascii_lowercase();
    assert!(head.contains("\r\ncache-control: no-store\r\n"), "{answer}");
    assert!(head.contains("\r\npragma: no-cache\r\n"), "{answer}");
}

/// Writes raw request bytes and reads the answer until the gateway closes.
async fn raw_exchange(gateway: &Gateway, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(gateway.addr())
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut answer))
        .await
        .expect("the gateway answers and closes")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_bridge_secrets_never_reach_logs_or_metrics() {
    let mock = mock(quirkgate_mocks::provider::ProviderKind::WeChat).await;
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), "k.pem", "ES256");
    let (routes, oidc) = bridge_config(&WECHAT, &mock, &[("k1", &key, "ES256")]);
    let gateway = Gateway::start_with(&routes, &oidc, "trace");
    let client = discover(&issuer(&gateway, &WECHAT)).await;
    let login = login(&client, &gateway, &WECHAT, &mock).await;
    verified_claims(&client, &login);
    let _: openidconnect::core::CoreUserInfoClaims = client
        .user_info(login.tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&rp_http())
        .await
        .unwrap();
    let key_pem = std::fs::read_to_string(&key).unwrap();
    let key_body: String = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let mut needles = vec![
        CLIENT_SECRET.to_owned(),
        SEAL_KEY.to_owned(),
        "mockcode-1".to_owned(),
        "wx.mockcode-1".to_owned(),
        login.tokens.access_token().secret().clone(),
        login.nonce.secret().clone(),
    ];
    needles.extend(
        key_body
            .as_bytes()
            .chunks(24)
            .map(|c| String::from_utf8(c.to_vec()).unwrap()),
    );
    if let Some(refresh) = login.tokens.refresh_token() {
        needles.push(refresh.secret().clone());
    }
    let secrets: Vec<String> = needles.iter().flat_map(|n| secret_forms(n)).collect();
    assert_no_secret(&gateway.log(), "the log", &secrets);
    assert_no_secret(&gateway.metrics().await, "the metrics", &secrets);
    assert!(
        gateway.log().contains("route=/oidc/wechat/token"),
        "the bridge logs its requests"
    );
}
