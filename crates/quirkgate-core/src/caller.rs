//! The caller's request head as the gateway core reads it, whichever front end
//! parsed it: Pingora's `RequestHeader` (HTTP/2, and HTTP/1 requests the fast
//! path hands over) or the fast path's borrowed `httparse` fields.

use std::net::IpAddr;

use crate::client_address::{client_address, Cidr};
use crate::http1::fields::header_text;

/// The caller's request head, as either front end parsed it.
pub struct CallerRequest<'a, H: CallerHeaders + ?Sized> {
    pub method: &'a str,
    pub path: &'a str,
    pub headers: &'a H,
    /// The TCP peer's address, when the connection has one.
    pub peer: Option<IpAddr>,
}

/// Header lookups the core needs; names are compared case-insensitively.
pub trait CallerHeaders {
    /// Every value of `name`, in the order received.
    fn all_values<'s>(&'s self, name: &'s str) -> impl DoubleEndedIterator<Item = &'s [u8]> + 's;

    /// Size of the header fields as received (names, values, `: ` and CRLF).
    fn wire_bytes(&self) -> usize;

    fn value<'s>(&'s self, name: &'s str) -> Option<&'s [u8]> {
        self.all_values(name).next()
    }
}

impl CallerHeaders for http::HeaderMap {
    fn all_values<'s>(&'s self, name: &'s str) -> impl DoubleEndedIterator<Item = &'s [u8]> + 's {
        self.get_all(name).iter().map(http::HeaderValue::as_bytes)
    }

    fn wire_bytes(&self) -> usize {
        self.iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum()
    }
}

impl CallerHeaders for [httparse::Header<'_>] {
    fn all_values<'s>(&'s self, name: &'s str) -> impl DoubleEndedIterator<Item = &'s [u8]> + 's {
        self.iter()
            .filter(move |field| field.name.eq_ignore_ascii_case(name))
            .map(|field| field.value)
    }

    fn wire_bytes(&self) -> usize {
        self.iter()
            .map(|field| field.name.len() + field.value.len() + 4)
            .sum()
    }
}

/// The caller: the TCP peer, or the client it forwards for when it is a
/// trusted proxy; `None` when unknown (a Unix socket, an unreadable hop).
pub fn caller_address(
    peer: Option<IpAddr>,
    headers: &(impl CallerHeaders + ?Sized),
    trusted_proxies: &[Cidr],
) -> Option<IpAddr> {
    // Not text is not an address: the hop, if it must be read, makes the caller unknown.
    let forwarded = headers
        .all_values("x-forwarded-for")
        .map(|value| header_text(value).unwrap_or("?"));
    client_address(peer?, forwarded, trusted_proxies)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed<'b>(
        raw: &'b [u8],
        fields: &'b mut [httparse::Header<'b>; 8],
    ) -> &'b [httparse::Header<'b>] {
        let mut request = httparse::Request::new(fields);
        assert!(request.parse(raw).unwrap().is_complete());
        request.headers
    }

    #[test]
    fn both_header_forms_answer_the_same() {
        let raw = b"POST / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.1\r\nx-forwarded-for: 10.0.0.2\r\nContent-Type: text/plain\r\n\r\n";
        let mut fields = [httparse::EMPTY_HEADER; 8];
        let fast = parsed(raw, &mut fields);
        let mut map = http::HeaderMap::new();
        map.insert("host", "a".parse().unwrap());
        map.append("x-forwarded-for", "10.0.0.1".parse().unwrap());
        map.append("x-forwarded-for", "10.0.0.2".parse().unwrap());
        map.insert("content-type", "text/plain".parse().unwrap());

        let fast_values: Vec<&[u8]> = fast.all_values("X-FORWARDED-FOR").collect();
        let map_values: Vec<&[u8]> = map.all_values("x-forwarded-for").collect();
        assert_eq!(fast_values, vec![&b"10.0.0.1"[..], &b"10.0.0.2"[..]]);
        assert_eq!(fast_values, map_values);
        assert_eq!(fast.value("content-type"), Some(&b"text/plain"[..]));
        assert_eq!(fast.value("authorization"), None);
        assert_eq!(fast.wire_bytes(), map.wire_bytes());
    }

    #[test]
    fn caller_address_reads_forwarded_hops_only_from_trusted_proxies() {
        let raw = b"POST / HTTP/1.1\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n";
        let mut fields = [httparse::EMPTY_HEADER; 8];
        let headers = parsed(raw, &mut fields);
        let proxy: IpAddr = "10.1.1.1".parse().unwrap();
        let trusted = crate::client_address::parse_list(&["10.0.0.0/8".to_owned()]).unwrap();
        assert_eq!(
            caller_address(Some(proxy), headers, &trusted),
            Some("203.0.113.9".parse().unwrap())
        );
        assert_eq!(caller_address(Some(proxy), headers, &[]), Some(proxy));
        assert_eq!(caller_address(None, headers, &trusted), None);
    }
}
