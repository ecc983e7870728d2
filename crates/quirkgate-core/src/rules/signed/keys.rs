//! The keys signed requests use, read from the files operators name: the
//! app's RSA private key (PKCS#8 or PKCS#1 PEM) and a provider's RSA public
//! key (a `PUBLIC KEY` PEM, or the bare base64 Alipay's console hands out).

use crate::signed_jwt::{JwtAlgorithm, SigningKey};

/// Why a key file cannot be used; never holds key material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// No PEM block, or not the kind of key the rule needs.
    NotAKey(&'static str),
    /// A PEM block ring refuses (too short a modulus, a broken encoding).
    Unusable(String),
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::NotAKey(what) => write!(f, "the file holds no {what}"),
            KeyError::Unusable(why) => write!(f, "the key is unusable: {why}"),
        }
    }
}

/// An RSA private key that signs with RSASSA-PKCS1-v1_5 and SHA-256 (`RSA2`).
pub struct RsaSigningKey(SigningKey);

/// Key material never prints.
impl std::fmt::Debug for RsaSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaSigningKey(<redacted>)")
    }
}

impl RsaSigningKey {
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        if !pem.windows(5).any(|w| w == b"-----") {
            return Err(KeyError::NotAKey("PEM RSA private key"));
        }
        SigningKey::from_pem(pem, JwtAlgorithm::Rs256)
            .map(RsaSigningKey)
            .map_err(KeyError::Unusable)
    }

    /// base64 (standard, padded) of the SHA256withRSA signature of `message`.
    pub fn sign_base64(&self, message: &[u8]) -> String {
        use base64::Engine;
        let SigningKey::Rs256(key) = &self.0 else {
            unreachable!("from_pem only builds RSA keys")
        };
        let mut signature = vec![0; key.public().modulus_len()];
        key.sign(
            &ring::signature::RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            message,
            &mut signature,
        )
        .expect("PKCS#1 v1.5 signing with a valid key and a buffer of the modulus' size");
        base64::engine::general_purpose::STANDARD.encode(signature)
    }
}

/// An RSA public key that checks SHA256withRSA signatures.
#[derive(Clone, Debug)]
pub struct RsaVerifyingKey {
    /// PKCS#1 `RSAPublicKey` DER, as ring reads it.
    pkcs1: Vec<u8>,
}

impl RsaVerifyingKey {
    /// A `BEGIN PUBLIC KEY` PEM (SubjectPublicKeyInfo), a `BEGIN RSA PUBLIC
    /// KEY` PEM, or the bare base64 of a SubjectPublicKeyInfo.
    pub fn from_text(text: &[u8]) -> Result<Self, KeyError> {
        use base64::Engine;
        let spki = match rustls_pemfile::read_one(&mut &text[..]) {
            Ok(Some(rustls_pemfile::Item::SubjectPublicKeyInfo(der))) => der.as_ref().to_vec(),
            Ok(Some(_)) => return Err(KeyError::NotAKey("RSA public key")),
            _ if text.starts_with(b"-----BEGIN RSA PUBLIC KEY-----") => {
                return Self::from_pkcs1(pem_body(text)?);
            }
            _ => {
                let bare: Vec<u8> = text
                    .iter()
                    .copied()
                    .filter(|b| !b.is_ascii_whitespace())
                    .collect();
                base64::engine::general_purpose::STANDARD
                    .decode(bare)
                    .map_err(|_| KeyError::NotAKey("RSA public key (PEM or base64)"))?
            }
        };
        Self::from_pkcs1(rsa_key_of_spki(&spki)?)
    }

    fn from_pkcs1(pkcs1: Vec<u8>) -> Result<Self, KeyError> {
        if !is_rsa_public_key(&pkcs1) {
            return Err(KeyError::NotAKey("RSA public key of 2048 bits or more"));
        }
        Ok(RsaVerifyingKey { pkcs1 })
    }

    /// Whether `signature_base64` is this key's SHA256withRSA signature of `message`.
    pub fn verifies(&self, message: &[u8], signature_base64: &str) -> bool {
        use base64::Engine;
        let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(signature_base64)
        else {
            return false;
        };
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            &self.pkcs1,
        )
        .verify(message, &signature)
        .is_ok()
    }
}

/// Whether `der` is a PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER,
/// publicExponent INTEGER }` with a modulus of at least 2048 bits.
fn is_rsa_public_key(der: &[u8]) -> bool {
    let parsed = der_element(der, 0x30).and_then(|(body, rest)| {
        let (n, after_n) = der_element(body, 0x02)?;
        let (_, tail) = der_element(after_n, 0x02)?;
        Ok(rest.is_empty() && tail.is_empty() && n.len() >= 256)
    });
    parsed == Ok(true)
}

fn pem_body(text: &[u8]) -> Result<Vec<u8>, KeyError> {
    use base64::Engine;
    let text = std::str::from_utf8(text).map_err(|_| KeyError::NotAKey("PEM"))?;
    let body: String = text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .flat_map(|line| line.trim().chars())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| KeyError::NotAKey("PEM"))
}

/// The `RSAPublicKey` inside `SubjectPublicKeyInfo ::= SEQUENCE {
/// algorithm SEQUENCE { rsaEncryption OID, NULL }, subjectPublicKey BIT STRING }`.
fn rsa_key_of_spki(spki: &[u8]) -> Result<Vec<u8>, KeyError> {
    const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    let not_rsa = || KeyError::NotAKey("RSA public key");
    let (body, _) = der_element(spki, 0x30).map_err(|_| not_rsa())?;
    let (algorithm, rest) = der_element(body, 0x30).map_err(|_| not_rsa())?;
    let (oid, _) = der_element(algorithm, 0x06).map_err(|_| not_rsa())?;
    if oid != RSA_ENCRYPTION {
        return Err(not_rsa());
    }
    let (bits, _) = der_element(rest, 0x03).map_err(|_| not_rsa())?;
    match bits.split_first() {
        Some((0, key)) => Ok(key.to_vec()),
        _ => Err(not_rsa()),
    }
}

/// One DER element of tag `tag`: (its contents, what follows it).
fn der_element(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), ()> {
    let (&found, rest) = input.split_first().ok_or(())?;
    let (&first, rest) = rest.split_first().ok_or(())?;
    if found != tag {
        return Err(());
    }
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 3 || rest.len() < count {
            return Err(());
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (length, &rest[count..])
    };
    if rest.len() < length {
        return Err(());
    }
    Ok(rest.split_at(length))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PKCS8: &str = include_str!("../../../testdata/signed/app_private_pkcs8.pem");
    const PKCS1: &str = include_str!("../../../testdata/signed/app_private_pkcs1.pem");
    const PUBLIC: &str = include_str!("../../../testdata/signed/app_public.pem");

    #[test]
    fn private_keys_are_read_from_pkcs8_and_pkcs1_pem_and_sign_alike() {
        let a = RsaSigningKey::from_pem(PKCS8.as_bytes()).unwrap();
        let b = RsaSigningKey::from_pem(PKCS1.as_bytes()).unwrap();
        // PKCS#1 v1.5 is deterministic: the same key signs the same bytes alike.
        assert_eq!(a.sign_base64(b"x"), b.sign_base64(b"x"));
        assert!(format!("{a:?}").contains("redacted"));
    }

    #[test]
    fn public_keys_are_read_from_pem_and_from_bare_base64() {
        let signer = RsaSigningKey::from_pem(PKCS8.as_bytes()).unwrap();
        let signature = signer.sign_base64(b"message");
        let pem = RsaVerifyingKey::from_text(PUBLIC.as_bytes()).unwrap();
        let bare: String = PUBLIC.lines().filter(|l| !l.starts_with("-----")).collect();
        let bare = RsaVerifyingKey::from_text(bare.as_bytes()).unwrap();
        for key in [pem, bare] {
            assert!(key.verifies(b"message", &signature));
            assert!(!key.verifies(b"messagf", &signature));
            assert!(!key.verifies(b"message", "not base64!"));
        }
    }

    #[test]
    fn what_is_not_the_right_key_is_refused() {
        assert!(RsaSigningKey::from_pem(PUBLIC.as_bytes()).is_err());
        assert!(RsaSigningKey::from_pem(b"garbage").is_err());
        assert!(RsaVerifyingKey::from_text(PKCS8.as_bytes()).is_err());
        assert!(RsaVerifyingKey::from_text(b"bm90IGEga2V5").is_err());
        assert!(RsaVerifyingKey::from_text(b"").is_err());
    }
}
