//! Arbitrary bytes into the edge TLS server side (quirkgate's session over
//! rustls's unbuffered API), fed in arbitrary chunks as socket reads would
//! come, and into the record splitter. Nothing may panic; the bytes carried
//! between reads stay bounded; plaintext comes out only from records the
//! real client sealed, in order, never from injected bytes.
//!
//! The first byte picks the mode:
//! - 0: the record splitter alone;
//! - 1: the bytes as a ClientHello (before any handshake);
//! - otherwise: a real handshake with a rustls client first (TLS 1.3, or
//!   TLS 1.2 for odd bytes), then the client's records with the fuzzer's
//!   bytes spliced in at a point it picks.
#![no_main]

use std::sync::{Arc, LazyLock};

use libfuzzer_sys::fuzz_target;
use quirkgate::fuzzing::{complete_records, ServerSide, MAX_CARRY};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig};

struct Configs {
    server: Arc<ServerConfig>,
    client13: Arc<ClientConfig>,
    client12: Arc<ClientConfig>,
}

static CONFIGS: LazyLock<Configs> = LazyLock::new(|| {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let cert_der = CertificateDer::from(cert.der().to_vec());
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let mut server = ServerConfig::builder_with_protocol_versions(&[
        &rustls::version::TLS12,
        &rustls::version::TLS13,
    ])
    .with_no_client_auth()
    .with_single_cert(vec![cert_der.clone()], key_der)
    .unwrap();
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let mut roots = RootCertStore::empty();
    roots.add(cert_der).unwrap();
    let client = |version| {
        Arc::new(
            ClientConfig::builder_with_protocol_versions(&[version])
                .with_root_certificates(roots.clone())
                .with_no_client_auth(),
        )
    };
    Configs {
        server: Arc::new(server),
        client13: client(&rustls::version::TLS13),
        client12: client(&rustls::version::TLS12),
    }
});

/// Chunk sizes for the feeding, cycled: from the fuzzer's bytes, 1..=256.
fn chunks<'a>(bytes: &'a [u8], sizes: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < bytes.len() {
        let size = sizes.get(i % sizes.len().max(1)).map_or(bytes.len(), |s| *s as usize + 1);
        let end = (at + size).min(bytes.len());
        out.push(&bytes[at..end]);
        at = end;
        i += 1;
    }
    out
}

fn split_properties(data: &[u8]) {
    if let Ok((count, len, missing)) = complete_records(data) {
        assert!(len <= data.len());
        assert!(missing <= 5 + 18431);
        assert_eq!(complete_records(&data[..len]), Ok((count, len, 0)));
        if missing == 0 {
            assert_eq!(len, data.len());
        }
    }
}

fn client_hello_properties(data: &[u8]) {
    let (sizes, bytes) = data.split_at(data.len().min(4));
    let mut server = ServerSide::new(CONFIGS.server.clone());
    let mut plaintext = Vec::new();
    let mut to_client = Vec::new();
    for chunk in chunks(bytes, sizes) {
        if server.receive(chunk, &mut plaintext, &mut to_client).is_err() {
            break;
        }
        assert!(server.carried_len() <= MAX_CARRY);
    }
    assert!(plaintext.is_empty(), "plaintext from no handshake");
    assert!(server.is_handshaking());
}

/// Runs the handshake in memory; the server, the client.
fn handshake(tls12: bool) -> (ServerSide, ClientConnection) {
    let configs = &*CONFIGS;
    let config = if tls12 { &configs.client12 } else { &configs.client13 };
    let mut client =
        ClientConnection::new(config.clone(), ServerName::try_from("localhost").unwrap()).unwrap();
    let mut server = ServerSide::new(configs.server.clone());
    for _ in 0..8 {
        let mut from_client = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut from_client).unwrap();
        }
        let mut to_client = Vec::new();
        let mut plaintext = Vec::new();
        server.receive(&from_client, &mut plaintext, &mut to_client).unwrap();
        let mut reader = to_client.as_slice();
        while !reader.is_empty() {
            client.read_tls(&mut reader).unwrap();
            client.process_new_packets().unwrap();
        }
        if !server.is_handshaking() && !client.is_handshaking() {
            return (server, client);
        }
    }
    panic!("the in-memory handshake did not finish");
}

fn traffic_properties(data: &[u8]) {
    let tls12 = data[0] & 1 == 1;
    let rest = &data[1..];
    let (control, injected) = rest.split_at(rest.len().min(6));
    let (mut server, mut client) = handshake(tls12);
    let message: Vec<u8> = (0..control.first().map_or(100, |b| *b as usize * 40))
        .map(|i| (i % 251) as u8)
        .collect();
    std::io::Write::write_all(&mut client.writer(), &message).unwrap();
    let mut sealed = Vec::new();
    while client.wants_write() {
        client.write_tls(&mut sealed).unwrap();
    }
    // The fuzzer's bytes at a point it picks among the client's records.
    let at = control
        .get(1..3)
        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]) as usize)
        .min(sealed.len());
    let mut wire = sealed[..at].to_vec();
    wire.extend_from_slice(injected);
    wire.extend_from_slice(&sealed[at..]);
    let mut plaintext = Vec::new();
    let mut to_client = Vec::new();
    let mut failed = false;
    for chunk in chunks(&wire, control.get(3..).unwrap_or(&[])) {
        if server.receive(chunk, &mut plaintext, &mut to_client).is_err() {
            failed = true;
            break;
        }
        assert!(server.carried_len() <= MAX_CARRY);
    }
    // Only what the client sealed comes out, in order.
    assert!(
        message.starts_with(&plaintext),
        "plaintext the client never sent"
    );
    if injected.is_empty() {
        assert!(!failed);
        assert_eq!(plaintext, message);
        assert_eq!(server.buffered_bytes(), 0, "an idle connection holds no buffer");
    }
    if !failed {
        // The server can still answer, and the client reads it.
        let mut answer = Vec::new();
        if server.seal(b"answer", &mut answer).is_ok() {
            let mut reader = answer.as_slice();
            while !reader.is_empty() {
                client.read_tls(&mut reader).unwrap();
                if client.process_new_packets().is_err() {
                    return;
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode {
        0 => split_properties(rest),
        1 => client_hello_properties(rest),
        _ if rest.is_empty() => {}
        _ => traffic_properties(data),
    }
});
