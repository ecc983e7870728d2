//! The `quirkgate-mocks` binary serves every mock the library has, on the
//! address it is given, and says where.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// The child, and its standard output kept open (it prints more than one line).
struct Running(
    Child,
    #[allow(dead_code)] BufReader<std::process::ChildStdout>,
);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary and returns it with the first line it printed.
fn start(args: &[&str]) -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_quirkgate-mocks"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut line).unwrap();
    (Running(child, stdout), line)
}

/// The `host:port` after `http://` in a line the binary printed.
fn address(line: &str) -> &str {
    let rest = &line[line.find("http://").expect(line) + "http://".len()..];
    rest.split(|c: char| c == '/' || c.is_whitespace())
        .next()
        .unwrap()
}

/// The status of the mock's answer to a request (the mocks' own tests check
/// what each accepts and refuses; here it is enough that it answers HTTP).
fn answer_status(address: &str) -> u16 {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .write_all(b"DELETE /no-such-path HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n")
        .unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    // The status line is enough; a mock may keep the connection open.
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n") && stream.read(&mut byte).unwrap() == 1 {
        answer.push(byte[0]);
    }
    let answer = String::from_utf8_lossy(&answer);
    answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {answer:?}"))
}

#[test]
fn every_provider_mock_is_served() {
    let out = Command::new(env!("CARGO_BIN_EXE_quirkgate-mocks"))
        .arg("list")
        .output()
        .unwrap();
    let names: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let library: Vec<&str> = quirkgate_mocks::provider::PROVIDER_NAMES
        .iter()
        .map(|(name, _)| *name)
        .collect();
    assert_eq!(names, library);
    assert!(names.len() >= 20, "{names:?}");
    for name in &names {
        let (_mock, line) = start(&["provider", "--provider", name, "--listen", "127.0.0.1:0"]);
        assert!(
            line.starts_with(&format!("mock {name} provider on http://127.0.0.1:")),
            "{line}"
        );
        let status = answer_status(address(&line));
        assert!((200..600).contains(&status), "{name}: {status}");
    }
}

#[test]
fn an_unknown_provider_is_refused_with_the_list() {
    let out = Command::new(env!("CARGO_BIN_EXE_quirkgate-mocks"))
        .args(["provider", "--provider", "nosuch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown provider 'nosuch'") && stderr.contains("tiktok"),
        "{stderr}"
    );
}

#[test]
fn the_auth0_mock_is_served_and_prints_its_variables() {
    let (_mock, line) = start(&[
        "auth0",
        "--listen",
        "127.0.0.1:0",
        "--domain",
        "t.example.auth0.com",
    ]);
    assert!(
        line.starts_with("mock Auth0 Management API for t.example.auth0.com on http://"),
        "{line}"
    );
    let status = answer_status(address(&line));
    assert!((400..500).contains(&status), "{status}");
}
