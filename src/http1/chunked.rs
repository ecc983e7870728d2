//! Chunked body decoding (RFC 9112 §7.1), strict CRLF framing, trailers skipped.

use super::provider_answer::{AnswerError, MAX_ANSWER_BYTES};

/// Progress decoding a chunked body.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunks {
    /// More bytes are needed.
    Partial,
    /// The body ended after this many bytes of input.
    Complete(usize),
}

/// Decodes a whole chunked body from `input` into `body` (cleared first).
pub fn decode_chunked(input: &[u8], body: &mut Vec<u8>) -> Result<Chunks, AnswerError> {
    body.clear();
    let bad = AnswerError::Malformed("provider sent malformed chunked framing");
    let mut at = 0;
    loop {
        let Some(line_end) = find_crlf(&input[at..]) else {
            return if input.len() - at > 1024 {
                Err(bad)
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
            return Err(bad);
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
            return Err(AnswerError::TooLarge);
        }
        if input.len() < at + size + 2 {
            return Ok(Chunks::Partial);
        }
        body.extend_from_slice(&input[at..at + size]);
        if &input[at + size..at + size + 2] != b"\r\n" {
            return Err(bad);
        }
        at += size + 2;
    }
}

fn find_crlf(data: &[u8]) -> Option<usize> {
    data.windows(2).position(|pair| pair == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_body_past_the_buffer_is_too_large() {
        let mut body = Vec::new();
        let wire = format!("{:x}\r\n", MAX_ANSWER_BYTES + 1);
        assert_eq!(
            decode_chunked(wire.as_bytes(), &mut body),
            Err(AnswerError::TooLarge)
        );
    }
}
