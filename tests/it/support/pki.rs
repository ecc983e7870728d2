//! A test CA generated per run, and a server certificate for 127.0.0.1 and
//! localhost signed by it: TLS for mock providers and for the gateway itself.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// A test CA and a server certificate for 127.0.0.1 / localhost signed by it.
pub struct TestPki {
    pub ca_pem: String,
    pub ca_path: PathBuf,
    /// The server certificate chain and key, for serving TLS from the gateway itself.
    pub leaf_cert_path: PathBuf,
    pub leaf_key_path: PathBuf,
    pub acceptor: pingora::tls::TlsAcceptor,
    _dir: tempfile::TempDir,
}

impl TestPki {
    pub fn new() -> TestPki {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
        pingora::tls::install_default_crypto_provider();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "quirkgate test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf_params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        leaf_params
            .subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        let leaf = leaf_params.signed_by(&leaf_key, &ca_cert, &ca_key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca_path = dir.path().join("ca.pem");
        std::fs::File::create(&ca_path)
            .unwrap()
            .write_all(ca_cert.pem().as_bytes())
            .unwrap();
        let leaf_cert_path = dir.path().join("leaf.pem");
        std::fs::write(&leaf_cert_path, format!("{}{}", leaf.pem(), ca_cert.pem())).unwrap();
        let leaf_key_path = dir.path().join("leaf.key");
        std::fs::write(&leaf_key_path, leaf_key.serialize_pem()).unwrap();
        let key = pingora::tls::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
        let config = pingora::tls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone(), ca_cert.der().clone()], key)
            .unwrap();
        TestPki {
            ca_pem: ca_cert.pem(),
            ca_path,
            leaf_cert_path,
            leaf_key_path,
            acceptor: pingora::tls::TlsAcceptor::from(Arc::new(config)),
            _dir: dir,
        }
    }
}
