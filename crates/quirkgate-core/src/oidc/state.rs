//! The provider-bound `state`, as short as the seal allows: the login packed
//! in binary (no JSON names), the broker's `redirect_uri` and `client_id` as
//! indexes into the bridge's allow-lists, the PKCE challenge as its 32 raw
//! bytes and the expiry as four, then sealed (AES-256-GCM, as every seal) and
//! written in the alphabet the provider accepts. A provider may cap `state`
//! (WeChat: 128 bytes of `[a-zA-Z0-9]`): a login that does not fit is refused
//! with the sizes, never truncated.
//!
//! Packed form, version 1 (before sealing):
//! `flags u8 | expiry u32 BE | redirect (index varint, check u16) |
//! client (index varint, check u16) or (len varint, bytes) |
//! [state len varint, bytes] | [nonce len varint, bytes] | [challenge 32 bytes]`.
//! A check is the first two bytes of the entry's SHA-256: an allow-list
//! reordered by a reload makes an in-flight login start again rather than
//! go back to another entry.

use ring::digest::{digest, SHA256};
use serde::{Deserialize, Serialize};

use super::authorize::BrokerLogin;
use super::seal::{SealError, SealPurpose, Sealer, MAX_SEALED_TEXT};
use crate::oauth_error::{OAuthError, Reason};
use crate::signed_jwt::base64url;

/// How long a user may take on the provider's authorize page, in seconds.
pub const LOGIN_LIFETIME: u64 = 600;

/// What the provider's `state` carries from `/authorize` to `/callback`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedLogin {
    #[serde(rename = "c")]
    pub client_id: String,
    #[serde(rename = "r")]
    pub redirect_uri: String,
    /// The broker's `state`, handed back with the code.
    #[serde(rename = "s", skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(rename = "n", skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The broker's PKCE S256 challenge.
    #[serde(rename = "p", skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
}

impl SealedLogin {
    pub fn of(login: &BrokerLogin) -> Self {
        SealedLogin {
            client_id: login.client_id.clone(),
            redirect_uri: login.redirect_uri.clone(),
            state: login.state.clone(),
            nonce: login.nonce.clone(),
            code_challenge: login.code_challenge.clone(),
        }
    }

    /// The provider's `state` in its packed form (`state.rs`), valid for
    /// [`LOGIN_LIFETIME`]; refused when longer than the provider takes.
    pub fn seal(
        &self,
        sealer: &Sealer,
        shape: &StateShape<'_>,
        now: u64,
    ) -> Result<String, StateTooLong> {
        seal_state(self, sealer, shape, now + LOGIN_LIFETIME)
    }

    /// The login the provider's `state` carries back, refused with the text the browser sees.
    pub fn open(
        sealer: &Sealer,
        shape: &StateShape<'_>,
        state: Option<&str>,
        now: u64,
    ) -> Result<Self, OAuthError> {
        state
            .ok_or(SealError::Invalid)
            .and_then(|state| open_state(sealer, shape, state, now))
            .map_err(|why| {
                OAuthError::invalid_request(
                    match why {
                        SealError::Expired => "the login took too long: start it again",
                        SealError::Invalid => {
                            "the login's state is missing, altered or not this gateway's: start it again"
                        }
                    },
                    Reason::InvalidGrant,
                )
            })
    }
}

const VERSION: u8 = 1 << 4;
const HAS_STATE: u8 = 1;
const HAS_NONCE: u8 = 1 << 1;
const HAS_CHALLENGE: u8 = 1 << 2;
const CLIENT_BY_INDEX: u8 = 1 << 3;

/// The characters a provider accepts in `state`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StateAlphabet {
    /// `[A-Za-z0-9_-]`, four characters per three bytes.
    #[default]
    Base64Url,
    /// `[A-Za-z0-9]` (WeChat), eleven characters per eight bytes.
    Alphanumeric,
}

impl StateAlphabet {
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "base64url" => Some(StateAlphabet::Base64Url),
            "alphanumeric" => Some(StateAlphabet::Alphanumeric),
            _ => None,
        }
    }
}

/// How a bridge writes its provider `state`: who it may name by index, and
/// what the provider takes.
#[derive(Clone, Copy, Debug)]
pub struct StateShape<'a> {
    pub redirect_uris: &'a [String],
    pub client_ids: Option<&'a [String]>,
    pub alphabet: StateAlphabet,
    /// The provider's cap on `state`, in bytes (its characters are ASCII).
    pub max_bytes: Option<usize>,
}

/// A login whose sealed state is longer than the provider takes.
#[derive(Debug, PartialEq, Eq)]
pub struct StateTooLong {
    pub needed: usize,
    pub cap: usize,
}

/// The login as the provider's `state`, valid until `expires_at`.
pub fn seal_state(
    login: &SealedLogin,
    sealer: &Sealer,
    shape: &StateShape<'_>,
    expires_at: u64,
) -> Result<String, StateTooLong> {
    let sealed = sealer.seal_bytes(SealPurpose::State, pack(login, shape, expires_at));
    let text = match shape.alphabet {
        StateAlphabet::Base64Url => base64url(&sealed),
        StateAlphabet::Alphanumeric => base62::encode(&sealed),
    };
    match shape.max_bytes {
        Some(cap) if text.len() > cap => Err(StateTooLong {
            needed: text.len(),
            cap,
        }),
        _ => Ok(text),
    }
}

/// The login a provider `state` carries back, if it is intact, this bridge's, and not expired at `now`.
pub fn open_state(
    sealer: &Sealer,
    shape: &StateShape<'_>,
    text: &str,
    now: u64,
) -> Result<SealedLogin, SealError> {
    if text.len() > MAX_SEALED_TEXT {
        return Err(SealError::Invalid);
    }
    let sealed = match shape.alphabet {
        StateAlphabet::Base64Url => {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(text)
                .ok()
        }
        StateAlphabet::Alphanumeric => base62::decode(text),
    }
    .ok_or(SealError::Invalid)?;
    let plain = sealer.open_bytes(SealPurpose::State, &sealed)?;
    let (login, expires_at) = unpack(&plain, shape).ok_or(SealError::Invalid)?;
    if now >= expires_at {
        return Err(SealError::Expired);
    }
    Ok(login)
}

fn check(entry: &str) -> [u8; 2] {
    let hash = digest(&SHA256, entry.as_bytes());
    [hash.as_ref()[0], hash.as_ref()[1]]
}

fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_text(out: &mut Vec<u8>, text: &str) {
    put_varint(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

fn put_index(out: &mut Vec<u8>, index: usize, entry: &str) {
    put_varint(out, index);
    out.extend_from_slice(&check(entry));
}

fn pack(login: &SealedLogin, shape: &StateShape<'_>, expires_at: u64) -> Vec<u8> {
    let redirect = shape
        .redirect_uris
        .iter()
        .position(|uri| *uri == login.redirect_uri);
    let client = shape
        .client_ids
        .and_then(|ids| ids.iter().position(|id| *id == login.client_id));
    let challenge = login
        .code_challenge
        .as_deref()
        .and_then(|c| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(c)
                .ok()
        })
        .filter(|raw| raw.len() == 32);
    let mut flags = VERSION;
    flags |= if login.state.is_some() { HAS_STATE } else { 0 };
    flags |= if login.nonce.is_some() { HAS_NONCE } else { 0 };
    flags |= if challenge.is_some() {
        HAS_CHALLENGE
    } else {
        0
    };
    flags |= if client.is_some() { CLIENT_BY_INDEX } else { 0 };
    let mut out = vec![flags];
    // Logins last minutes; a u32 of Unix seconds lasts until 2106.
    out.extend_from_slice(&(expires_at.min(u64::from(u32::MAX)) as u32).to_be_bytes());
    // The authorize leg takes only an allowed redirect_uri.
    put_index(
        &mut out,
        redirect.unwrap_or(usize::MAX >> 8),
        &login.redirect_uri,
    );
    match client {
        Some(index) => put_index(&mut out, index, &login.client_id),
        None => put_text(&mut out, &login.client_id),
    }
    if let Some(state) = &login.state {
        put_text(&mut out, state);
    }
    if let Some(nonce) = &login.nonce {
        put_text(&mut out, nonce);
    }
    if let Some(raw) = &challenge {
        out.extend_from_slice(raw);
    }
    out
}

/// Reads what [`pack`] wrote, or `None`; nothing may be left over.
fn unpack(plain: &[u8], shape: &StateShape<'_>) -> Option<(SealedLogin, u64)> {
    let mut reader = Reader(plain);
    let flags = reader.byte()?;
    if flags & 0xf0 != VERSION {
        return None;
    }
    let expires_at = u64::from(u32::from_be_bytes(reader.take(4)?.try_into().ok()?));
    let redirect_uri = reader.indexed(shape.redirect_uris)?;
    let client_id = if flags & CLIENT_BY_INDEX != 0 {
        reader.indexed(shape.client_ids?)?
    } else {
        reader.text()?
    };
    let state = (flags & HAS_STATE != 0).then(|| reader.text()).flatten();
    if flags & HAS_STATE != 0 && state.is_none() {
        return None;
    }
    let nonce = (flags & HAS_NONCE != 0).then(|| reader.text()).flatten();
    if flags & HAS_NONCE != 0 && nonce.is_none() {
        return None;
    }
    let code_challenge = if flags & HAS_CHALLENGE != 0 {
        Some(base64url(reader.take(32)?))
    } else {
        None
    };
    if !reader.0.is_empty() {
        return None;
    }
    let login = SealedLogin {
        client_id,
        redirect_uri,
        state,
        nonce,
        code_challenge,
    };
    Some((login, expires_at))
}

struct Reader<'p>(&'p [u8]);

impl<'p> Reader<'p> {
    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn take(&mut self, n: usize) -> Option<&'p [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn varint(&mut self) -> Option<usize> {
        let mut n = 0usize;
        for shift in (0..28).step_by(7) {
            let byte = self.byte()?;
            n |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    fn text(&mut self) -> Option<String> {
        let len = self.varint()?;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }

    /// An allow-list entry by index, if its check still matches.
    fn indexed(&mut self, list: &[String]) -> Option<String> {
        let entry = list.get(self.varint()?)?;
        (self.take(2)? == check(entry)).then(|| entry.clone())
    }
}

/// Base62 in blocks: eight bytes to eleven characters (62^11 > 2^64), a
/// shorter last block to the fewest characters that hold it. Each block
/// length maps to one character count, so decoding knows where blocks end.
mod base62 {
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    /// Characters for a block of 0..=8 bytes.
    const CHARS_FOR: [usize; 9] = [0, 2, 3, 5, 6, 7, 9, 10, 11];

    pub(super) fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len() * 11 / 8 + 2);
        for block in bytes.chunks(8) {
            let mut n = block.iter().fold(0u128, |n, &b| (n << 8) | u128::from(b));
            let width = CHARS_FOR[block.len()];
            let mut digits = [b'0'; 11];
            for slot in digits[..width].iter_mut().rev() {
                *slot = DIGITS[(n % 62) as usize];
                n /= 62;
            }
            out.extend(digits[..width].iter().map(|&d| d as char));
        }
        out
    }

    pub(super) fn decode(text: &str) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(text.len() * 8 / 11 + 1);
        for block in text.as_bytes().chunks(11) {
            let bytes = CHARS_FOR.iter().position(|&w| w == block.len())?;
            let mut n = 0u128;
            for &c in block {
                let digit = DIGITS.iter().position(|&d| d == c)?;
                n = n * 62 + digit as u128;
            }
            // A value the block's bytes cannot hold is no encoding of them.
            if n >> (8 * bytes) != 0 {
                return None;
            }
            out.extend((0..bytes).rev().map(|i| (n >> (8 * i)) as u8));
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests;
