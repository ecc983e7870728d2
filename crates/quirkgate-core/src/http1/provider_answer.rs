//! A provider's answer head: status line and the headers the exchange needs,
//! framed as RFC 9112 §6.3 says.

use std::ops::Range;

use super::fields::{list_items, offset_in};

/// Largest answer head read from a provider.
pub const MAX_ANSWER_HEAD_BYTES: usize = 32 * 1024;
/// Largest provider answer body the gateway buffers; token answers are a few hundred bytes.
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;
/// Most bytes read off the wire for one answer: interim answers, head,
/// chunk framing, extensions and trailers included. Past it the answer is
/// refused, whatever its framing, and the connection is dropped.
pub const MAX_ANSWER_WIRE_BYTES: usize = MAX_ANSWER_HEAD_BYTES + MAX_ANSWER_BYTES;
/// Most interim (1xx) answers before the final one.
pub const MAX_INTERIM_ANSWERS: usize = 8;
const MAX_ANSWER_FIELDS: usize = 64;

/// Why a provider's answer cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerError {
    /// Not HTTP/1.1 as RFC 9112 frames it; the text says what.
    Malformed(&'static str),
    /// Larger than the gateway buffers.
    TooLarge,
}

/// What a status code makes of an answer head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    /// 1xx other than 101: an interim answer; the final one follows.
    Interim,
    /// 200–599: the final answer.
    Final,
}

/// Judges a provider's status code: 101 (the gateway never asks to switch
/// protocols) and anything outside 100–599 are protocol errors, never
/// passed on to a caller.
pub fn status_kind(status: u16) -> Result<StatusKind, AnswerError> {
    match status {
        101 => Err(AnswerError::Malformed("provider switched protocols")),
        100..=199 => Ok(StatusKind::Interim),
        200..=599 => Ok(StatusKind::Final),
        _ => Err(AnswerError::Malformed(
            "provider status code is outside 100-599",
        )),
    }
}

/// How an answer's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    Empty,
    Length(usize),
    Chunked,
    UntilClose,
}

/// The parts of an answer head the exchange needs.
#[derive(Debug)]
pub struct AnswerHead {
    /// Bytes of the head, through the blank line.
    pub len: usize,
    pub status: u16,
    /// Where the Content-Type value sits in the bytes parsed.
    pub content_type: Option<Range<usize>>,
    pub framing: BodyFraming,
    /// The connection can carry another exchange after this answer.
    pub keep_alive: bool,
}

/// Parses an answer head; `Ok(None)` while it is incomplete.
pub fn parse_answer_head(received: &[u8]) -> Result<Option<AnswerHead>, AnswerError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_ANSWER_FIELDS];
    let mut answer = httparse::Response::new(&mut fields);
    let len = match answer.parse(received) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if received.len() <= MAX_ANSWER_HEAD_BYTES => {
            return Ok(None)
        }
        Ok(httparse::Status::Partial) => {
            return Err(AnswerError::Malformed("provider answer head is too long"))
        }
        Err(_) => return Err(AnswerError::Malformed("provider answer is not HTTP/1")),
    };
    let status = answer.code.unwrap_or(0);
    status_kind(status)?;
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
                .map_err(|_| AnswerError::Malformed("provider Content-Length is not a number"))?;
            if content_length.is_some_and(|seen| seen != length) {
                return Err(AnswerError::Malformed("provider sent two Content-Lengths"));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str) -> AnswerHead {
        parse_answer_head(raw.as_bytes()).unwrap().unwrap()
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
        let raw = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n";
        let typed = head(raw);
        assert_eq!(&raw[typed.content_type.unwrap()], "application/json");
        assert!(parse_answer_head(b"HTTP/1.1 200 OK\r\nContent-Le")
            .unwrap()
            .is_none());
    }

    #[test]
    fn only_100_to_599_are_status_codes_and_only_200_to_599_are_final() {
        for status in 0..1000u16 {
            let expected = match status {
                101 => None,
                100..=199 => Some(StatusKind::Interim),
                200..=599 => Some(StatusKind::Final),
                _ => None,
            };
            assert_eq!(status_kind(status).ok(), expected, "{status}");
        }
        assert_eq!(head("HTTP/1.1 599 Odd\r\n\r\n").status, 599);
        assert_eq!(
            head("HTTP/1.1 103 Early Hints\r\n\r\n").framing,
            BodyFraming::Empty
        );
    }

    #[test]
    fn bad_answer_heads_are_protocol_errors() {
        for raw in [
            "<html>oops</html>\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 042 Odd\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 600 Beyond\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 101 Switching Protocols\r\n\r\n",
        ] {
            assert!(
                matches!(
                    parse_answer_head(raw.as_bytes()),
                    Err(AnswerError::Malformed(_))
                ),
                "{raw:?}"
            );
        }
        let long = format!(
            "HTTP/1.1 200 OK\r\nX: {}",
            "a".repeat(MAX_ANSWER_HEAD_BYTES)
        );
        assert!(parse_answer_head(long.as_bytes()).is_err());
    }
}
