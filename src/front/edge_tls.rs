//! Optional TLS termination on `listen`: the certificate is served through a
//! resolver whose key pair is swapped on SIGHUP, so a renewed certificate is
//! picked up without a restart. HTTP/2 is offered through ALPN.

use std::sync::Arc;

use arc_swap::ArcSwap;
use pingora::tls::sign::CertifiedKey;
use pingora::tls::{ClientHello, CryptoProvider, ResolvesServerCert};

use crate::plan::file::EdgeTlsFile;

/// The edge certificate in use; `reload` swaps it atomically.
#[derive(Debug)]
pub struct EdgeCertificate {
    current: ArcSwap<CertifiedKey>,
}

impl EdgeCertificate {
    pub fn load(files: &EdgeTlsFile) -> Result<Self, String> {
        Ok(EdgeCertificate {
            current: ArcSwap::from_pointee(certified_key(files)?),
        })
    }

    /// Reads the files again; on error the certificate in use stays.
    pub fn reload(&self, files: &EdgeTlsFile) -> Result<(), String> {
        self.current.store(Arc::new(certified_key(files)?));
        Ok(())
    }
}

impl ResolvesServerCert for EdgeCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

fn certified_key(files: &EdgeTlsFile) -> Result<CertifiedKey, String> {
    pingora::tls::install_default_crypto_provider();
    let cert_pem = std::fs::read(&files.cert_file)
        .map_err(|e| format!("tls.cert_file {}: {e}", files.cert_file))?;
    let certs = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("tls.cert_file {}: {e}", files.cert_file))?;
    if certs.is_empty() {
        return Err(format!(
            "tls.cert_file {}: no PEM certificate in it",
            files.cert_file
        ));
    }
    let key_pem = std::fs::read(&files.key_file)
        .map_err(|e| format!("tls.key_file {}: {e}", files.key_file))?;
    let key = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| format!("tls.key_file {}: {e}", files.key_file))?
        .ok_or_else(|| format!("tls.key_file {}: no PEM private key in it", files.key_file))?;
    let provider = CryptoProvider::get_default().ok_or("no TLS crypto provider installed")?;
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| format!("tls.key_file {}: {e}", files.key_file))?;
    let certified = CertifiedKey::new(certs, signing_key);
    certified
        .keys_match()
        .map_err(|e| format!("tls: the key does not match the certificate: {e}"))?;
    Ok(certified)
}
