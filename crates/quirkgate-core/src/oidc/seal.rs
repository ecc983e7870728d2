//! What a login must remember between legs, carried by the login itself:
//! sealed (AES-256-GCM) into the `state` sent to the provider, into the code
//! given to the broker, and into access tokens that need a provider field at
//! `/userinfo`. Any replica holding the key opens them; nothing is stored.
//!
//! A seal names its purpose and its bridge's issuer in the authenticated
//! data, so a sealed state cannot pass as a code, nor one bridge's code at
//! another. It carries its own expiry.

use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What a seal is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealPurpose {
    /// The `state` sent to the provider's authorize page.
    State,
    /// The code handed to the broker.
    Code,
    /// An access token that carries a provider field `/userinfo` needs.
    AccessToken,
}

impl SealPurpose {
    fn label(self) -> &'static str {
        match self {
            SealPurpose::State => "state",
            SealPurpose::Code => "code",
            SealPurpose::AccessToken => "access_token",
        }
    }
}

/// Why a seal did not open.
#[derive(Debug, PartialEq, Eq)]
pub enum SealError {
    /// Not sealed by a key this bridge holds, for this purpose, or altered.
    Invalid,
    Expired,
}

/// Seals with the first key; opens with any (so a key can be rotated).
pub struct Sealer {
    keys: Vec<LessSafeKey>,
    issuer: String,
}

/// The keys never print.
impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealer {{ {} key(s): <redacted> }}", self.keys.len())
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    /// Expiry, Unix seconds.
    x: u64,
    v: T,
}

/// Reads a 256-bit key written as base64 (standard or URL-safe, padded or
/// not) or as 64 hex digits.
pub fn parse_seal_key(text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    let decoded = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .ok()
    } else {
        let unpadded = text.trim_end_matches('=');
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(unpadded)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(unpadded))
            .ok()
    };
    decoded
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| {
            "a seal key is 32 random bytes, as base64 or 64 hex digits (openssl rand -base64 32)"
                .to_owned()
        })
}

impl Sealer {
    /// `keys`: the sealing key first, then older ones still accepted.
    pub fn new(keys: &[[u8; 32]], issuer: &str) -> Result<Self, String> {
        if keys.is_empty() {
            return Err("at least one seal key is needed".to_owned());
        }
        let keys = keys
            .iter()
            .map(|key| {
                UnboundKey::new(&AES_256_GCM, key)
                    .map(LessSafeKey::new)
                    .map_err(|_| "the seal key is not an AES-256 key".to_owned())
            })
            .collect::<Result<_, _>>()?;
        Ok(Sealer {
            keys,
            issuer: issuer.to_owned(),
        })
    }

    fn aad(&self, purpose: SealPurpose) -> Vec<u8> {
        format!("quirkgate-oidc/{}/{}", purpose.label(), self.issuer).into_bytes()
    }

    /// `value`, valid until `expires_at` (Unix seconds), as URL-safe text.
    pub fn seal<T: Serialize>(&self, purpose: SealPurpose, value: &T, expires_at: u64) -> String {
        let message = serde_json::to_vec(&Envelope {
            x: expires_at,
            v: value,
        })
        .expect("sealed values are plain data");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.seal_bytes(purpose, message))
    }

    /// `plain` sealed for `purpose`: nonce, ciphertext and tag. The caller
    /// packs its own expiry into `plain` (the provider state's binary form).
    pub fn seal_bytes(&self, purpose: SealPurpose, mut plain: Vec<u8>) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the system random source works");
        self.keys[0]
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(self.aad(purpose)),
                &mut plain,
            )
            .expect("AES-GCM seals any message this size");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&plain);
        sealed
    }

    /// What [`Sealer::seal_bytes`] sealed for `purpose` with any of the keys, if intact.
    pub fn open_bytes(&self, purpose: SealPurpose, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(SealError::Invalid);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::Invalid)?;
        let aad = self.aad(purpose);
        self.keys
            .iter()
            .find_map(|key| {
                let mut buffer = ciphertext.to_vec();
                key.open_in_place(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(&aad),
                    &mut buffer,
                )
                .ok()
                .map(|plain| plain.to_vec())
            })
            .ok_or(SealError::Invalid)
    }

    /// The value sealed for `purpose`, if it is intact and `now` is before its expiry.
    pub fn open<T: DeserializeOwned>(
        &self,
        purpose: SealPurpose,
        text: &str,
        now: u64,
    ) -> Result<T, SealError> {
        // Sealed values here are a few hundred bytes; refuse to decode a flood.
        if text.len() > MAX_SEALED_TEXT {
            return Err(SealError::Invalid);
        }
        let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| SealError::Invalid)?;
        let plain = self.open_bytes(purpose, &sealed)?;
        let envelope: Envelope<T> =
            serde_json::from_slice(&plain).map_err(|_| SealError::Invalid)?;
        if now >= envelope.x {
            return Err(SealError::Expired);
        }
        Ok(envelope.v)
    }
}

/// Longest sealed text opened: anything longer is refused undecoded.
pub const MAX_SEALED_TEXT: usize = 8 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];
    const OTHER: [u8; 32] = [9; 32];

    fn sealer(keys: &[[u8; 32]]) -> Sealer {
        Sealer::new(keys, "https://gw.example/oidc/tiktok").unwrap()
    }

    #[test]
    fn a_sealed_value_opens_until_it_expires() {
        let s = sealer(&[KEY]);
        let text = s.seal(SealPurpose::Code, &("code-1", 42), 1_000);
        assert!(!text.contains("code-1"), "sealed, not merely encoded");
        let opened: (String, u32) = s.open(SealPurpose::Code, &text, 999).unwrap();
        assert_eq!(opened, ("code-1".to_owned(), 42));
        assert_eq!(
            s.open::<(String, u32)>(SealPurpose::Code, &text, 1_000),
            Err(SealError::Expired)
        );
    }

    #[test]
    fn each_seal_differs_even_for_the_same_value() {
        let s = sealer(&[KEY]);
        assert_ne!(
            s.seal(SealPurpose::State, &"same", 10),
            s.seal(SealPurpose::State, &"same", 10)
        );
    }

    #[test]
    fn a_seal_opens_only_for_its_purpose_and_issuer() {
        let s = sealer(&[KEY]);
        let state = s.seal(SealPurpose::State, &"v", u64::MAX);
        assert_eq!(
            s.open::<String>(SealPurpose::Code, &state, 0),
            Err(SealError::Invalid)
        );
        let elsewhere = Sealer::new(&[KEY], "https://gw.example/oidc/github").unwrap();
        assert_eq!(
            elsewhere.open::<String>(SealPurpose::State, &state, 0),
            Err(SealError::Invalid)
        );
    }

    #[test]
    fn any_altered_byte_or_foreign_key_is_refused() {
        let s = sealer(&[KEY]);
        let text = s.seal(SealPurpose::Code, &"v", u64::MAX);
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&text)
            .unwrap();
        for i in 0..raw.len() {
            let mut altered = raw.clone();
            altered[i] ^= 0x01;
            let altered = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(altered);
            assert_eq!(
                s.open::<String>(SealPurpose::Code, &altered, 0),
                Err(SealError::Invalid),
                "byte {i}"
            );
        }
        for junk in ["", "not base64!", "AAAA", &"A".repeat(9000)] {
            assert_eq!(
                s.open::<String>(SealPurpose::Code, junk, 0),
                Err(SealError::Invalid)
            );
        }
        assert_eq!(
            sealer(&[OTHER]).open::<String>(SealPurpose::Code, &text, 0),
            Err(SealError::Invalid)
        );
    }

    #[test]
    fn a_seal_opens_up_to_8_kib_of_text_and_no_further() {
        let s = sealer(&[KEY]);
        let large = s.seal(SealPurpose::State, &"x".repeat(4000), u64::MAX);
        assert!(large.len() > 5000 && large.len() < 8192);
        assert_eq!(
            s.open::<String>(SealPurpose::State, &large, 0)
                .unwrap()
                .len(),
            4000
        );
        // Exactly 8 KiB of text still opens.
        let at_limit = (6000..6200)
            .map(|n| "x".repeat(n))
            .find(|v| s.seal(SealPurpose::State, v, u64::MAX).len() == 8192)
            .unwrap();
        let text = s.seal(SealPurpose::State, &at_limit, u64::MAX);
        assert_eq!(
            s.open::<String>(SealPurpose::State, &text, 0).unwrap(),
            at_limit
        );
        let oversized = s.seal(SealPurpose::State, &"x".repeat(7000), u64::MAX);
        assert!(oversized.len() > 8192);
        assert_eq!(
            s.open::<String>(SealPurpose::State, &oversized, 0),
            Err(SealError::Invalid),
            "never decoded: a flood costs no work"
        );
    }

    #[test]
    fn an_older_key_still_opens_after_rotation_and_the_new_one_seals() {
        let old = sealer(&[KEY]);
        let rotated = sealer(&[OTHER, KEY]);
        let before = old.seal(SealPurpose::State, &"v", u64::MAX);
        assert_eq!(
            rotated
                .open::<String>(SealPurpose::State, &before, 0)
                .unwrap(),
            "v"
        );
        let after = rotated.seal(SealPurpose::State, &"v", u64::MAX);
        assert_eq!(
            old.open::<String>(SealPurpose::State, &after, 0),
            Err(SealError::Invalid)
        );
    }

    #[test]
    fn seal_keys_read_as_base64_or_hex_and_nothing_shorter() {
        let hex = "07".repeat(32);
        assert_eq!(parse_seal_key(&hex).unwrap(), KEY);
        let b64 = base64::engine::general_purpose::STANDARD.encode(KEY);
        assert_eq!(parse_seal_key(&b64).unwrap(), KEY);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xfb; 32]);
        assert_eq!(parse_seal_key(&url).unwrap(), [0xfb; 32]);
        assert!(parse_seal_key("c2hvcnQ=").is_err());
        assert!(parse_seal_key("").is_err());
        assert!(format!("{:?}", sealer(&[KEY])).contains("redacted"));
    }
}
