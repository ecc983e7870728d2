//! The names things have in the store. A key never carries what it stands
//! for: a code, a handle or a caller address is hashed (SHA-256 under a
//! domain prefix naming its use and its issuer or route), so neither the
//! store's keys nor its values hold a code, token, state or key in any encoding.

use std::net::IpAddr;

use ring::digest::{Context, SHA256};

/// Hex of the first 16 bytes of SHA-256(`domain` NUL `scope` NUL `secret`).
fn digest_hex(domain: &str, scope: &str, secret: &[u8]) -> String {
    let mut context = Context::new(&SHA256);
    for part in [domain.as_bytes(), b"\0", scope.as_bytes(), b"\0", secret] {
        context.update(part);
    }
    let mut out = String::with_capacity(32);
    for byte in &context.finish().as_ref()[..16] {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// The claim on a sealed code at `issuer`: `qg:code:<hash>`.
pub(crate) fn code_claim(issuer: &str, sealed_code: &str) -> String {
    format!(
        "qg:code:{}",
        digest_hex("quirkgate redeemed code v1", issuer, sealed_code.as_bytes())
    )
}

/// A login context behind its short `handle`: `qg:ctx:<hash>`.
pub(crate) fn login_context(issuer: &str, handle: &str) -> String {
    format!(
        "qg:ctx:{}",
        digest_hex("quirkgate login context v1", issuer, handle.as_bytes())
    )
}

/// A route's name in its window keys (hashed: short, and any characters).
pub(crate) fn route_tag(route: &str) -> String {
    digest_hex("quirkgate rate limit v1", "", route.as_bytes())[..16].to_owned()
}

/// The window keys of one route for `window` (seconds since the epoch): the
/// caller's (when counted per caller) first, then the route's. One hash tag
/// per route and window, so a Cluster keeps both in one slot (one script call).
pub(crate) fn rate_windows(
    route_tag: &str,
    window: u64,
    client: Option<Option<IpAddr>>,
    per_route: bool,
) -> Vec<String> {
    let mut keys = Vec::with_capacity(2);
    if let Some(client) = client {
        let address = client.map_or_else(|| "unknown".to_owned(), |a| a.to_string());
        keys.push(format!(
            "qg:rl:{{{route_tag}:{window}}}:c:{}",
            digest_hex(
                "quirkgate rate limit caller v1",
                route_tag,
                address.as_bytes()
            )
        ));
    }
    if per_route {
        keys.push(format!("qg:rl:{{{route_tag}:{window}}}:r"));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_key_is_a_hash_that_names_neither_the_code_nor_its_issuer() {
        let key = code_claim("https://login.example", "sealed-code-value");
        assert!(key.starts_with("qg:code:"));
        assert_eq!(key.len(), "qg:code:".len() + 32);
        assert!(!key.contains("sealed") && !key.contains("example"));
        assert_eq!(
            key,
            code_claim("https://login.example", "sealed-code-value")
        );
        assert_ne!(
            key,
            code_claim("https://other.example", "sealed-code-value")
        );
        assert_ne!(
            key,
            code_claim("https://login.example", "sealed-code-valuf")
        );
        assert_ne!(
            key[8..],
            login_context("https://login.example", "sealed-code-value")[7..],
            "each use has its own domain"
        );
    }

    #[test]
    fn rate_windows_share_a_hash_tag_per_route_and_window() {
        let tag = route_tag("/oauth/token");
        let a: IpAddr = "192.0.2.7".parse().unwrap();
        let keys = rate_windows(&tag, 1_700_000_000, Some(Some(a)), true);
        assert_eq!(keys.len(), 2);
        let hash_tag = |k: &str| k[k.find('{').unwrap()..=k.find('}').unwrap()].to_owned();
        assert_eq!(hash_tag(&keys[0]), hash_tag(&keys[1]));
        assert!(keys.iter().all(|k| !k.contains("192.0.2.7")));
        assert_ne!(keys, rate_windows(&tag, 1_700_000_001, Some(Some(a)), true));
        assert_eq!(rate_windows(&tag, 1, None, true).len(), 1);
        assert_eq!(rate_windows(&tag, 1, Some(None), false).len(), 1);
    }
}
