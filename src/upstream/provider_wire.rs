//! The provider leg's HTTP/1.1 bytes: the request encoded once, straight to
//! the wire, and the answer read and framed (Content-Length, chunked, or
//! until close) into one buffer with `httparse`. Pure except `read_answer`,
//! which only reads.

use std::ops::Range;

use pingora::protocols::Stream;
use pingora::{Error, ErrorType};
use tokio::io::AsyncReadExt;

use crate::plan::MAX_ANSWER_BYTES;

/// Largest answer head read from a provider.
pub const MAX_ANSWER_HEAD_BYTES: usize = 32 * 1024;
const MAX_ANSWER_FIELDS: usize = 64;

/// A header value HTTP allows on the wire: no control bytes but tab.
pub fn is_field_value(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80)
}

/// A header name: an HTTP token.
pub fn is_field_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Appends one `name: value` line; `false` (nothing appended) when either
/// would break the message.
pub fn push_field(wire: &mut Vec<u8>, name: &[u8], value: &[u8]) -> bool {
    if !is_field_name(name) || !is_field_value(value) {
        return false;
    }
    wire.extend_from_slice(name);
    wire.extend_from_slice(b": ");
    wire.extend_from_slice(value);
    wire.extend_from_slice(b"\r\n");
    true
}

/// A provider's answer, fully read.
#[derive(Debug)]
pub struct ProviderReply {
    pub status: u16,
    /// The Content-Type value as received.
    pub content_type: Option<bytes::Bytes>,
    pub body: bytes::Bytes,
    /// The connection can carry another exchange.
    pub reusable: bool,
}

/// How an answer's body is delimited.
#[derive(Debug, PartialEq, Eq)]
enum BodyFraming {
    Empty,
    Length(usize),
    Chunked,
    UntilClose,
}

/// The parts of an answer head the exchange needs.
#[derive(Debug)]
struct AnswerHead {
    len: usize,
    status: u16,
    content_type: Option<Range<usize>>,
    framing: BodyFraming,
    keep_alive: bool,
}

fn protocol_error(why: &'static str) -> Box<Error> {
    Error::explain(ErrorType::InvalidHTTPHeader, why)
}

/// Parses an answer head; `Ok(None)` while it is incomplete.
fn parse_head(received: &[u8]) -> Result<Option<AnswerHead>, Box<Error>> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_ANSWER_FIELDS];
    let mut answer = httparse::Response::new(&mut fields);
    let len = match answer.parse(received) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if received.len() <= MAX_ANSWER_HEAD_BYTES => {
            return Ok(None)
        }
        Ok(httparse::Status::Partial) => {
            return Err(protocol_error("provider answer head is too long"))
        }
        Err(_) => return Err(protocol_error("provider answer is not HTTP/1")),
    };
    let status = answer.code.unwrap_or(0);
    let mut keep_alive = answer.version == Some(1);
    let mut content_length: Option<usize> = None;
    let mut chunked = false;
    let mut other_coding = false;
    let mut content_type = None;
    for field in answer.headers.iter() {
        if field.name.eq_ignore_ascii_case("content-length") {
            let text = std::str::from_utf8(field.value).unwrap_or("");
            let length = text
                .trim()
                .parse::<usize>()
                .map_err(|_| protocol_error("provider Content-Length is not a number"))?;
            if content_length.is_some_and(|seen| seen != length) {
                return Err(protocol_error("provider sent two Content-Lengths"));
            }
            content_length = Some(length);
        } else if field.name.eq_ignore_ascii_case("transfer-encoding") {
            let last = list_items(field.value).next_back().unwrap_or_default();
            chunked = last.eq_ignore_ascii_case(b"chunked");
            other_coding = !chunked;
        } else if field.name.eq_ignore_ascii_case("connection") {
            if list_items(field.value).any(|token| token.eq_ignore_ascii_case(b"close")) {
                keep_alive = false;
            }
        } else if field.name.eq_ignore_ascii_case("content-type") {
            content_type = Some(offset_in(received, field.value));
        }
    }
    // RFC 9112 §6.3: no body for 1xx, 204 and 304; Transfer-Encoding wins over
    // Content-Length (and the connection cannot be trusted after both).
    let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
        BodyFraming::Empty
    } else if chunked {
        if content_length.is_some() {
            keep_alive = false;
        }
        BodyFraming::Chunked
    } else if other_coding {
        BodyFraming::UntilClose
    } else if let Some(length) = content_length {
        BodyFraming::Length(length)
    } else {
        BodyFraming::UntilClose
    };
    if framing == BodyFraming::UntilClose {
        keep_alive = false;
    }
    Ok(Some(AnswerHead {
        len,
        status,
        content_type,
        framing,
        keep_alive,
    }))
}

/// Progress decoding a chunked body.
#[derive(Debug, PartialEq, Eq)]
enum Chunks {
    /// More bytes are needed.
    Partial,
    /// The body ended after this many bytes of input.
    Complete(usize),
}

/// Decodes a whole chunked body from `input` into `body` (cleared first),
/// trailers skipped; strict CRLF framing.
fn decode_chunked(input: &[u8], body: &mut Vec<u8>) -> Result<Chunks, Box<Error>> {
    body.clear();
    let bad = || protocol_error("provider sent malformed chunked framing");
    let mut at = 0;
    loop {
        let Some(line_end) = find_crlf(&input[at..]) else {
            return if input.len() - at > 1024 {
                Err(bad())
            } else {
                Ok(Chunks::Partial)
            };
        };
        let line = &input[at..at + line_end];
        let size_text = line
            .split(|&b| b == b';')
            .next()
            .unwrap_or(b"")
            .trim_ascii();
        if size_text.is_empty()
            || size_text.len() > 8
            || !size_text.iter().all(u8::is_ascii_hexdigit)
        {
            return Err(bad());
        }
        let size = size_text.iter().fold(0usize, |n, &d| {
            n * 16 + (d as char).to_digit(16).unwrap_or(0) as usize
        });
        at += line_end + 2;
        if size == 0 {
            // Trailer fields, then the empty line.
            loop {
                let Some(line_end) = find_crlf(&input[at..]) else {
                    return Ok(Chunks::Partial);
                };
                at += line_end + 2;
                if line_end == 0 {
                    return Ok(Chunks::Complete(at));
                }
            }
        }
        if body.len() + size > MAX_ANSWER_BYTES {
            return Err(too_large());
        }
        if input.len() < at + size + 2 {
            return Ok(Chunks::Partial);
        }
        body.extend_from_slice(&input[at..at + size]);
        if &input[at + size..at + size + 2] != b"\r\n" {
            return Err(bad());
        }
        at += size + 2;
    }
}

fn find_crlf(data: &[u8]) -> Option<usize> {
    data.windows(2).position(|pair| pair == b"\r\n")
}

/// Reads more of the answer; end of stream is an error unless `eof_ok`.
async fn read_more(stream: &mut Stream, received: &mut Vec<u8>) -> Result<usize, Box<Error>> {
    if received.capacity() - received.len() < 2048 {
        received.reserve(4096);
    }
    stream
        .read_buf(received)
        .await
        .map_err(|e| Error::because(ErrorType::ReadError, "reading the provider's answer", e))
}

fn closed_early() -> Box<Error> {
    Error::explain(
        ErrorType::ConnectionClosed,
        "the provider closed the connection before its answer was complete",
    )
}

/// Reads one whole answer (skipping interim 1xx answers) from `stream`.
pub async fn read_answer(stream: &mut Stream) -> Result<ProviderReply, Box<Error>> {
    let mut received = Vec::with_capacity(4096);
    let head = loop {
        match parse_head(&received)? {
            Some(head) if (100..200).contains(&head.status) && head.status != 101 => {
                received.drain(..head.len);
                continue;
            }
            Some(head) if head.status == 101 => {
                return Err(protocol_error("provider switched protocols"))
            }
            Some(head) => break head,
            None => {}
        }
        if read_more(stream, &mut received).await? == 0 {
            return Err(closed_early());
        }
    };
    // Where the body sits in `received`, and its bytes when chunks were decoded.
    let (raw_body, decoded) = match head.framing {
        BodyFraming::Empty => (head.len..head.len, None),
        BodyFraming::Length(length) => {
            if length > MAX_ANSWER_BYTES {
                return Err(too_large());
            }
            while received.len() < head.len + length {
                if read_more(stream, &mut received).await? == 0 {
                    return Err(closed_early());
                }
            }
            (head.len..head.len + length, None)
        }
        BodyFraming::Chunked => {
            let mut body = Vec::new();
            loop {
                match decode_chunked(&received[head.len..], &mut body)? {
                    Chunks::Complete(used) => break (head.len..head.len + used, Some(body)),
                    Chunks::Partial => {
                        if read_more(stream, &mut received).await? == 0 {
                            return Err(closed_early());
                        }
                    }
                }
            }
        }
        BodyFraming::UntilClose => {
            while read_more(stream, &mut received).await? > 0 {
                if received.len() - head.len > MAX_ANSWER_BYTES {
                    return Err(too_large());
                }
            }
            (head.len..received.len(), None)
        }
    };
    // Anything after the answer: the connection cannot be trusted again.
    let reusable = head.keep_alive && received.len() == raw_body.end;
    // Content type and body are views of the bytes read: no copies.
    let received = bytes::Bytes::from(received);
    Ok(ProviderReply {
        status: head.status,
        content_type: head.content_type.map(|range| received.slice(range)),
        body: decoded.map_or_else(|| received.slice(raw_body), bytes::Bytes::from),
        reusable,
    })
}

fn too_large() -> Box<Error> {
    Error::explain(
        ErrorType::H1Error,
        "provider answer exceeds the gateway's buffer",
    )
}

/// The items of a comma-separated header value, trimmed.
pub fn list_items(value: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(<[u8]>::trim_ascii)
}

/// Where `part` (a slice of `whole`) sits in `whole`.
pub fn offset_in(whole: &[u8], part: &[u8]) -> Range<usize> {
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    start..start + part.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str) -> AnswerHead {
        parse_head(raw.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn answer_heads_are_framed_as_rfc_9112_says() {
        let plain =
            head("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n");
        assert_eq!(
            (plain.status, plain.framing, plain.keep_alive),
            (200, BodyFraming::Length(12), true)
        );
        let chunked = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        assert_eq!(
            (chunked.framing, chunked.keep_alive),
            (BodyFraming::Chunked, true)
        );
        let both =
            head("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(
            (both.framing, both.keep_alive),
            (BodyFraming::Chunked, false)
        );
        let close =
            head("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(
            (close.framing, close.keep_alive),
            (BodyFraming::Length(0), false)
        );
        let old = head("HTTP/1.0 200 OK\r\n\r\n");
        assert_eq!(
            (old.framing, old.keep_alive),
            (BodyFraming::UntilClose, false)
        );
        let empty = head("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n");
        assert_eq!(empty.framing, BodyFraming::Empty);
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Le")
            .unwrap()
            .is_none());
    }

    #[test]
    fn bad_answer_heads_are_protocol_errors() {
        for raw in [
            "<html>oops</html>\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        ] {
            let error = parse_head(raw.as_bytes()).unwrap_err();
            assert_eq!(error.etype(), &ErrorType::InvalidHTTPHeader, "{raw:?}");
        }
        let long = format!(
            "HTTP/1.1 200 OK\r\nX: {}",
            "a".repeat(MAX_ANSWER_HEAD_BYTES)
        );
        assert!(parse_head(long.as_bytes()).is_err());
    }

    #[test]
    fn chunked_bodies_decode_with_extensions_and_trailers() {
        let mut body = Vec::new();
        let wire = b"4;ext=1\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
        assert_eq!(
            decode_chunked(wire, &mut body).unwrap(),
            Chunks::Complete(wire.len() - 4)
        );
        assert_eq!(body, b"{\"a\":1}");
        for cut in 0..wire.len() - 4 {
            assert_eq!(
                decode_chunked(&wire[..cut], &mut body).unwrap(),
                Chunks::Partial,
                "cut at {cut}"
            );
        }
        for bad in [
            &b"zz\r\nab\r\n0\r\n\r\n"[..],
            b"2\r\nabc\r\n0\r\n\r\n",
            b"123456789\r\n",
        ] {
            assert!(
                decode_chunked(bad, &mut body).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn fields_that_would_split_the_message_are_refused() {
        let mut wire = Vec::new();
        assert!(push_field(&mut wire, b"X-Api-Version", b"2"));
        assert!(!push_field(&mut wire, b"X-Bad", b"a\r\nInjected: yes"));
        assert!(!push_field(&mut wire, b"Bad Name", b"v"));
        assert!(!push_field(&mut wire, b"", b"v"));
        assert_eq!(wire, b"X-Api-Version: 2\r\n");
    }
}
