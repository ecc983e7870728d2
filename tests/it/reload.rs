//! Configuration reload on SIGHUP, and Pingora's graceful upgrade (`--upgrade`
//! plus SIGQUIT to the old process), against the real binary.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::*;

/// Replaces the `routes:` list of the gateway's file, keeping the top-level keys.
fn rewrite_config(gateway: &Gateway, routes: &str, extra_top_level: &str) {
    let text = std::fs::read_to_string(&gateway.config_path).unwrap();
    let head = text.split("\nroutes:\n").next().unwrap();
    let new = format!("{head}\n{extra_top_level}\nroutes:\n{routes}\n");
    let tmp = gateway.config_path.with_extension("tmp");
    std::fs::write(&tmp, new).unwrap();
    std::fs::rename(&tmp, &gateway.config_path).unwrap();
}

#[tokio::test]
async fn sighup_reloads_a_valid_file_and_keeps_the_plan_on_an_invalid_one() {
    let first = mock(ProviderKind::TikTok).await;
    let second = mock(ProviderKind::TikTok).await;
    let url = |m: &MockProvider| tiktok_token_url(m.addr);
    let gateway = Gateway::start(&route("/a", "tiktok", &url(&first), ""));

    let (status, body) = post_url(&gateway.url("/a"), good_body("one")).await;
    assert_eq!(
        (status, body["access_token"].as_str()),
        (200, Some("act.one"))
    );
    let (status, _) = post_url(&gateway.url("/b"), good_body("x")).await;
    assert_eq!(status, 404);
    assert_eq!(first.requests().len(), 1);

    // /a moves to the second mock; /b appears (a WeChat-style GET route would
    // do too, but a second TikTok route is enough to see it is new).
    let routes = [
        route("/a", "tiktok", &url(&second), "aliases: [/a-alias]"),
        route("/b", "tiktok", &url(&first), ""),
    ]
    .concat();
    rewrite_config(&gateway, &routes, "");
    gateway.signal("HUP");

    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body) = post_url(&gateway.url("/b"), good_body("bee")).await;
        if status == 200 {
            assert_eq!(body["access_token"], "act.bee");
            break;
        }
        assert_eq!(status, 404, "{body}");
        assert!(
            Instant::now() < deadline,
            "/b never answered; log:\n{}",
            gateway.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, body) = post_url(&gateway.url("/a"), good_body("two")).await;
    assert_eq!(
        (status, body["access_token"].as_str()),
        (200, Some("act.two"))
    );
    assert_eq!(
        second.requests().len(),
        1,
        "/a now goes to the second upstream"
    );
    assert_eq!(second.requests()[0].body_param("code"), Some("two"));
    let (status, _) = post_url(&gateway.url("/a-alias"), good_body("three")).await;
    assert_eq!(status, 200);
    assert_eq!(
        gateway
            .metric("quirkgate_config_reloads_total", &[("result", "ok")])
            .await,
        1.0
    );
    assert_zero(
        &gateway.metrics().await,
        "quirkgate_config_reloads_total",
        &[("result", "error")],
    );
    assert!(gateway.log().contains("configuration reloaded"));

    // An unknown key: refused, the running plan stays.
    let bad = format!(
        "{}  - path: /c\n    preset: tiktok\n    upstream: \"{}\"\n    timeuot_typo: 2s\n",
        route("/b", "tiktok", &url(&first), ""),
        url(&first)
    );
    rewrite_config(&gateway, &bad, "");
    gateway.signal("HUP");
    gateway
        .wait_for_metric(
            "quirkgate_config_reloads_total",
            &[("result", "error")],
            1.0,
        )
        .await;
    assert_eq!(
        gateway
            .metric("quirkgate_config_reloads_total", &[("result", "ok")])
            .await,
        1.0
    );
    let (status, body) = post_url(&gateway.url("/a"), good_body("four")).await;
    assert_eq!(
        (status, body["access_token"].as_str()),
        (200, Some("act.four"))
    );
    assert_eq!(
        second.requests().len(),
        3,
        "the old plan's /a (and its alias) still serves"
    );
    let (status, _) = post_url(&gateway.url("/b"), good_body("five")).await;
    assert_eq!(status, 200);
    let (status, _) = post_url(&gateway.url("/c"), good_body("six")).await;
    assert_eq!(status, 404, "nothing of the refused file is used");
    let log = gateway.log();
    let line = log
        .lines()
        .find(|l| l.contains("reload refused"))
        .unwrap_or_else(|| panic!("no refusal logged:\n{log}"));
    assert!(line.contains("timeuot_typo"), "{line}");

    // The gateway keeps reloading after a refused file.
    rewrite_config(&gateway, &route("/a", "tiktok", &url(&first), ""), "");
    gateway.signal("HUP");
    gateway
        .wait_for_metric("quirkgate_config_reloads_total", &[("result", "ok")], 2.0)
        .await;
    let (status, _) = post_url(&gateway.url("/b"), good_body("seven")).await;
    assert_eq!(status, 404);
}

/// Writes one token request on a kept-alive raw connection and reads its
/// answer whole (by Content-Length); (status, JSON body).
async fn exchange_on(stream: &mut tokio::net::TcpStream, code: &str) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = good_body(code);
    let request = format!(
        "POST /a HTTP/1.1\r\nHost: gw\r\nContent-Type: {FORM}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    let answer = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&received[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().unwrap());
                if received.len() >= end + 4 + length {
                    let status = head[9..12].parse().unwrap();
                    let json =
                        serde_json::from_slice(&received[end + 4..end + 4 + length]).unwrap();
                    return (status, json);
                }
            }
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the gateway closed the kept-alive connection");
            received.extend_from_slice(&chunk[..n]);
        }
    });
    answer.await.expect("an answer within 5 s")
}

#[tokio::test]
async fn a_reload_applies_to_the_next_request_on_a_kept_alive_connection() {
    let first = mock(ProviderKind::TikTok).await;
    let second = mock(ProviderKind::TikTok).await;
    let url = |m: &MockProvider| tiktok_token_url(m.addr);
    let gateway = Gateway::start(&route("/a", "tiktok", &url(&first), ""));
    let mut connection = tokio::net::TcpStream::connect(gateway.addr())
        .await
        .unwrap();
    let (status, body) = exchange_on(&mut connection, "before").await;
    assert_eq!(
        (status, body["access_token"].as_str()),
        (200, Some("act.before"))
    );

    rewrite_config(&gateway, &route("/a", "tiktok", &url(&second), ""), "");
    gateway.signal("HUP");
    gateway
        .wait_for_metric("quirkgate_config_reloads_total", &[("result", "ok")], 1.0)
        .await;
    // The same connection, idle across the reload: its next request runs on the new plan.
    let (status, body) = exchange_on(&mut connection, "after").await;
    assert_eq!(
        (status, body["access_token"].as_str()),
        (200, Some("act.after"))
    );
    let codes = |mock: &MockProvider| {
        mock.requests()
            .iter()
            .map(|r| r.body_param("code").unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(codes(&first), ["before"]);
    assert_eq!(codes(&second), ["after"]);
}

/// An upstream that answers every request after `delay` with a TikTok token.
async fn slow_upstream(delay: Duration) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    scripted_upstream(move |stream, _request| async move {
        tokio::time::sleep(delay).await;
        let body = serde_json::json!({"access_token": "slow-token", "token_type": "Bearer", "expires_in": 86400, "open_id": "open-1"}).to_string();
        write_answer(stream, 200, "application/json", &body).await
    })
    .await
}

#[tokio::test]
async fn an_exchange_in_flight_during_a_reload_finishes_on_its_plan() {
    let (slow, slow_seen) = slow_upstream(Duration::from_secs(1)).await;
    let fast = mock(ProviderKind::TikTok).await;
    let gateway = Gateway::start(&route("/t", "tiktok", &format!("http://{slow}/token"), ""));

    let url = gateway.url("/t");
    let started = Instant::now();
    let in_flight = tokio::spawn({
        let url = url.clone();
        async move { post_url(&url, good_body("slow")).await }
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while slow_seen.load(Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "the slow upstream was never asked"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    rewrite_config(
        &gateway,
        &route("/t", "tiktok", &tiktok_token_url(fast.addr), ""),
        "",
    );
    gateway.signal("HUP");
    gateway
        .wait_for_metric("quirkgate_config_reloads_total", &[("result", "ok")], 1.0)
        .await;
    assert!(
        !in_flight.is_finished(),
        "the reload must land while the exchange is still in flight"
    );
    // A new exchange already takes the new plan…
    let (status, body) = post_url(&url, good_body("fresh")).await;
    assert_eq!(
        (status, body["access_token"].as_str()),
        (200, Some("act.fresh"))
    );

    // …while the one in flight finishes on the old one.
    let (status, body) = in_flight.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["access_token"], "slow-token");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(slow_seen.load(Ordering::SeqCst), 1);
    assert_eq!(fast.requests().len(), 1);
}

// ---------------------------------------------------------------- graceful upgrade

struct Process {
    child: Child,
    log: std::path::PathBuf,
}

impl Process {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_gateway(
    config: &std::path::Path,
    pingora_conf: &std::path::Path,
    log: std::path::PathBuf,
    upgrade: bool,
) -> Process {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quirkgate"));
    command
        .arg("--config")
        .arg(config)
        .arg("--conf")
        .arg(pingora_conf)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    if upgrade {
        command.arg("--upgrade");
    }
    Process {
        child: command.spawn().unwrap(),
        log,
    }
}

#[tokio::test]
async fn graceful_upgrade_hands_the_listener_over_without_refusing_a_request() {
    let tiktok = mock(ProviderKind::TikTok).await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let metrics_port = free_port();
    let config = dir.path().join("quirkgate.yaml");
    std::fs::write(
        &config,
        format!(
            "threads: 1\nlisten: \"127.0.0.1:{port}\"\nmetrics_listen: \"127.0.0.1:{metrics_port}\"\ngrace_period: 1s\nroutes:\n{}",
            route("/t", "tiktok", &tiktok_token_url(tiktok.addr), "")
        ),
    )
    .unwrap();
    let sock = dir.path().join("upgrade.sock");
    let pingora_conf = dir.path().join("pingora.yaml");
    std::fs::write(
        &pingora_conf,
        format!(
            "---\nversion: 1\nupgrade_sock: {}\npid_file: {}\n",
            sock.display(),
            dir.path().join("quirkgate.pid").display()
        ),
    )
    .unwrap();

    let mut old = spawn_gateway(&config, &pingora_conf, dir.path().join("old.log"), false);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "old process never listened:\n{}",
            old.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("http://127.0.0.1:{port}/t");
    let (status, _) = post_url(&url, good_body("before")).await;
    assert_eq!(status, 200);

    // The new process waits on the upgrade socket for the listeners.
    let mut new = spawn_gateway(&config, &pingora_conf, dir.path().join("new.log"), true);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !sock.exists() {
        assert!(
            Instant::now() < deadline,
            "new process never opened {}:\n{}",
            sock.display(),
            new.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(new.child.try_wait().unwrap().is_none(), "{}", new.log());

    // No connection pooling: every request is a new connection to the listener.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let kill = Command::new("kill")
        .arg("-QUIT")
        .arg(old.child.id().to_string())
        .status()
        .unwrap();
    assert!(kill.success());

    // Requests without pause until the old process is gone (Pingora keeps it
    // for its close timeout, then the grace period), and a second after.
    let started = Instant::now();
    let mut sent = 0;
    let mut failures = Vec::new();
    let mut old_exited_at = None;
    loop {
        sent += 1;
        let result = client
            .post(&url)
            .header("content-type", FORM)
            .body(good_body(&format!("u{sent}")))
            .send()
            .await;
        match result {
            Ok(response) if response.status() == 200 => {}
            Ok(response) => failures.push(format!("#{sent}: HTTP {}", response.status())),
            Err(e) => failures.push(format!("#{sent}: {e:?}")),
        }
        if old_exited_at.is_none() && old.child.try_wait().unwrap().is_some() {
            old_exited_at = Some(started.elapsed());
        }
        match old_exited_at {
            Some(at) if started.elapsed() > at + Duration::from_secs(1) => break,
            None if started.elapsed() > Duration::from_secs(20) => {
                panic!("the old process never exited:\n{}", old.log())
            }
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        failures.is_empty(),
        "{} of {sent} requests failed: {failures:?}\nold log:\n{}\nnew log:\n{}",
        failures.len(),
        old.log(),
        new.log()
    );
    assert!(sent > 20, "only {sent} requests were sent");

    // Only the new process is left, and it serves.
    assert!(new.child.try_wait().unwrap().is_none(), "{}", new.log());
    let (status, body) = post_url(&url, good_body("after")).await;
    assert_eq!(
        (status, body["access_token"].as_str()),
        (200, Some("act.after"))
    );
    let metrics = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metric_value(&metrics, "quirkgate_requests_total", &[("route", "/t")]) >= 1.0);
    assert!(old.log().contains("listener sockets sent"), "{}", old.log());
    assert_eq!(tiktok.requests().len(), sent + 2);
}
