//! Secrets never leak: every route type and error path at the most verbose log
//! level, then the log, the metrics and every error body are searched for each
//! client secret, code, refresh token, access token, Authorization value and
//! shared secret that went through the gateway.

use crate::common::*;
use base64::Engine;

const SECRET: &str = "SECRET-9f8e7d6c5b";
const SHARED: &str = "SHARED-5a4b3c2d1e";
const FORM: &str = "application/x-www-form-urlencoded";

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

fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_logs_metrics_or_error_bodies_on_any_route_at_trace_level() {
    let providers = [
        ("/tiktok", "tiktok", ProviderKind::TikTok),
        ("/tiktok-v1", "tiktok-v1", ProviderKind::TikTokV1),
        ("/wechat", "wechat", ProviderKind::WeChat),
        ("/github", "github", ProviderKind::GitHub),
        ("/slack", "slack", ProviderKind::Slack),
        ("/reddit", "basic-auth", ProviderKind::Reddit),
    ];
    let mut mocks = Vec::new();
    let mut routes = String::new();
    for (path, preset, kind) in providers {
        let provider = mock(kind).await;
        routes.push_str(&route(
            path,
            preset,
            &format!("http://{}/token", provider.addr),
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
        &format!("http://{}/token", guarded.addr),
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

    for (path, _, _) in providers {
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

    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let log = probe.gateway.log();
    let metrics = probe.gateway.metrics().await;
    assert!(
        log.matches("quirkgate::access").count() > 50,
        "every exchange was logged:\n{log}"
    );
    needles.extend(probe.needles.iter().cloned());
    for needle in &needles {
        assert!(!log.contains(needle.as_str()), "the log leaks {needle}");
        assert!(
            !metrics.contains(needle.as_str()),
            "the metrics leak {needle}"
        );
        for body in &probe.error_bodies {
            assert!(
                !body.contains(needle.as_str()),
                "an error body leaks {needle}: {body}"
            );
        }
    }
    assert!(
        probe.error_bodies.len() > 30,
        "every error path was exercised"
    );
}
