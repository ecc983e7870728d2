//! A caller's request head, judged for the fast path: HTTP/1.1 with one
//! Host, an origin-form target and a body framed by at most one plain
//! Content-Length. Anything else is handed to Pingora's HTTP stack, which
//! keeps every framing rule it enforces.

use super::fields::list_items;

/// Header fields the fast path parses; a head with more goes to Pingora.
pub const MAX_FIELDS: usize = 48;
/// Head bytes the fast path waits for; a longer head goes to Pingora.
pub(crate) const MAX_HEAD_BYTES: usize = 16 * 1024;

/// How a request the fast path takes is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    /// Bytes of the head, through the blank line.
    pub head_len: usize,
    pub content_length: usize,
    /// The caller asked to close after this answer.
    pub close: bool,
}

/// What the bytes received so far hold.
#[derive(Debug, PartialEq, Eq)]
pub enum HeadCheck {
    /// The head is not complete yet.
    Partial,
    /// Pingora's HTTP stack takes this request.
    HandOver,
    /// The fast path takes it, framed so.
    Framed(Framing),
}

/// Parses what has arrived into `request` and judges it with [`judge`].
pub fn parse_caller_head<'b>(
    request: &mut httparse::Request<'_, 'b>,
    received: &'b [u8],
) -> HeadCheck {
    match request.parse(received) {
        Ok(httparse::Status::Complete(head_len)) => judge(request, head_len),
        Ok(httparse::Status::Partial) if received.len() < MAX_HEAD_BYTES => HeadCheck::Partial,
        // Too long, too many fields, or not HTTP/1 as httparse reads it.
        Ok(httparse::Status::Partial) | Err(_) => HeadCheck::HandOver,
    }
}

/// Judges a parsed head: whether the fast path takes it, and how it is framed.
fn judge(request: &httparse::Request<'_, '_>, head_len: usize) -> HeadCheck {
    // HEAD answers carry no body: Pingora's stack writes those.
    if request.version != Some(1)
        || !request.path.is_some_and(|p| p.starts_with('/'))
        || request.method == Some("HEAD")
    {
        return HeadCheck::HandOver;
    }
    let mut content_length = None;
    let mut hosts = 0;
    let mut close = false;
    for field in request.headers.iter() {
        let name = field.name;
        if name.eq_ignore_ascii_case("content-length") {
            if content_length.is_some() {
                return HeadCheck::HandOver;
            }
            match plain_length(field.value) {
                Some(length) => content_length = Some(length),
                None => return HeadCheck::HandOver,
            }
        } else if name.eq_ignore_ascii_case("host") {
            hosts += 1;
        } else if name.eq_ignore_ascii_case("connection") {
            for token in list_items(field.value) {
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if !token.eq_ignore_ascii_case(b"keep-alive") {
                    // `upgrade` and hop-by-hop header lists: Pingora's call.
                    return HeadCheck::HandOver;
                }
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            || name.eq_ignore_ascii_case("expect")
            || name.eq_ignore_ascii_case("upgrade")
            || name.eq_ignore_ascii_case("te")
        {
            return HeadCheck::HandOver;
        }
    }
    if hosts != 1 {
        return HeadCheck::HandOver;
    }
    HeadCheck::Framed(Framing {
        head_len,
        content_length: content_length.unwrap_or(0),
        close,
    })
}

/// A Content-Length of 1 to 9 plain digits; anything else (a sign, a list,
/// a number too large to be a token request) is not for the fast path.
fn plain_length(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        digits
            .iter()
            .fold(0usize, |n, d| n * 10 + usize::from(d - b'0')),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_head(received: &[u8]) -> HeadCheck {
        let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
        parse_caller_head(&mut httparse::Request::new(&mut fields), received)
    }

    fn framed(head: &str) -> Framing {
        match check_head(head.as_bytes()) {
            HeadCheck::Framed(framing) => framing,
            other => panic!("{head:?}: {other:?}"),
        }
    }

    #[test]
    fn a_token_request_is_taken_with_its_length() {
        let head = "POST /token/proxy HTTP/1.1\r\nHost: gw\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 42\r\n\r\n";
        assert_eq!(
            framed(&format!("{head}grant_type=")),
            Framing {
                head_len: head.len(),
                content_length: 42,
                close: false
            }
        );
        let close = framed("GET /u HTTP/1.1\r\nHost: gw\r\nConnection: keep-alive, Close\r\n\r\n");
        assert_eq!((close.content_length, close.close), (0, true));
    }

    #[test]
    fn an_incomplete_head_waits_until_it_is_too_long() {
        assert_eq!(check_head(b""), HeadCheck::Partial);
        assert_eq!(
            check_head(b"POST /t HTTP/1.1\r\nHost: gw\r\n"),
            HeadCheck::Partial
        );
        let long = format!(
            "POST /t HTTP/1.1\r\nX-Pad: {}\r\n",
            "a".repeat(MAX_HEAD_BYTES)
        );
        assert_eq!(check_head(long.as_bytes()), HeadCheck::HandOver);
    }

    #[test]
    fn everything_unusual_goes_to_pingora() {
        for head in [
            // HTTP/1.0, HEAD, absolute-form, no Host, two Hosts
            "POST /t HTTP/1.0\r\nHost: gw\r\n\r\n",
            "HEAD /t HTTP/1.1\r\nHost: gw\r\n\r\n",
            "POST http://gw/t HTTP/1.1\r\nHost: gw\r\n\r\n",
            "POST /t HTTP/1.1\r\n\r\n",
            "POST /t HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            // framing Pingora must judge
            "POST /t HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST /t HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST /t HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
            "POST /t HTTP/1.1\r\nHost: gw\r\nContent-Length: 5, 5\r\n\r\n",
            "POST /t HTTP/1.1\r\nHost: gw\r\nContent-Length: +5\r\n\r\n",
            "POST /t HTTP/1.1\r\nHost: gw\r\nContent-Length: \r\n\r\n",
            "POST /t HTTP/1.1\r\nHost: gw\r\nContent-Length: 99999999999\r\n\r\n",
            "POST /t HTTP/1.1\r\nHost: gw\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
            "GET /t HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
            "GET /t HTTP/1.1\r\nHost: gw\r\nTE: trailers\r\n\r\n",
            // not HTTP/1 as httparse reads it
            "\x16\x03\x01\x02\x00\x01\x00\x01\x03\x03",
            "POST /t HTTP/1.1\r\nHost: gw\r\nBad Header: x\r\n\r\n",
            "POST /t HTTP/1.1\r\nHost: gw\r\nFolded: a\r\n b\r\n\r\n",
        ] {
            assert_eq!(check_head(head.as_bytes()), HeadCheck::HandOver, "{head:?}");
        }
        let many: String = (0..MAX_FIELDS + 1)
            .map(|i| format!("X-{i}: v\r\n"))
            .collect();
        let head = format!("POST /t HTTP/1.1\r\nHost: gw\r\n{many}\r\n");
        assert_eq!(check_head(head.as_bytes()), HeadCheck::HandOver);
    }

    #[test]
    fn content_lengths_are_plain_digits_of_at_most_nine() {
        assert_eq!(plain_length(b"0"), Some(0));
        assert_eq!(plain_length(b"999999999"), Some(999_999_999));
        for bad in [&b""[..], b"1000000000", b"-1", b" 5", b"5a"] {
            assert_eq!(plain_length(bad), None, "{bad:?}");
        }
    }
}
