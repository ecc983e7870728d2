//! Chunked body decoding (RFC 9112 §7.1), strict CRLF framing, extensions and
//! trailers skipped. The decoder is resumable: each call takes only the bytes
//! read since the last one and never looks at a consumed byte again, so a
//! provider that drips or floods framing costs linear time, and the caller
//! can drop what was consumed.

use super::provider_answer::{AnswerError, MAX_ANSWER_BYTES};

/// Longest chunk-size line (size and extensions) or trailer line. The bytes
/// of every line also count against the reader's bound on the whole answer.
pub(crate) const MAX_CHUNK_LINE_BYTES: usize = 4096;
/// Most hex digits in a chunk size (`MAX_ANSWER_BYTES` needs 5).
const MAX_SIZE_DIGITS: usize = 8;

/// Progress decoding a chunked body.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunks {
    /// More bytes are needed; every byte given was consumed.
    Partial,
    /// The body ended after this many bytes of the last input given.
    Complete(usize),
}

/// Where the decoder stands between two inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// In a chunk-size line: `digits` hex digits read so far, `size` their value.
    Size { digits: usize, size: usize },
    /// Whitespace after the size digits, before `;` or CR.
    SizeSpace { size: usize },
    /// In the chunk extensions, until CR.
    Extension { size: usize },
    /// CR of the size line seen; LF next.
    SizeLf { size: usize },
    /// In chunk data: this many bytes are still to come.
    Data { left: usize },
    /// After chunk data: CR next.
    DataCr,
    /// After chunk data: LF next.
    DataLf,
    /// In the trailer section, at the start of a line or in one.
    Trailer { line: usize },
    /// CR of a trailer line seen; LF next (`empty`: the line was the last).
    TrailerLf { empty: bool },
    /// The body ended.
    Done,
}

/// A resumable chunked-body decoder. Feed it the bytes as they arrive.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    /// Bytes of the current line so far (size line or trailer line).
    line: usize,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

const MALFORMED: AnswerError = AnswerError::Malformed("provider sent malformed chunked framing");

impl ChunkedDecoder {
    pub fn new() -> Self {
        ChunkedDecoder {
            state: State::Size { digits: 0, size: 0 },
            line: 0,
        }
    }

    /// Decodes `input` (the bytes that follow the ones fed before), appending
    /// chunk data to `body`. After `Complete`, the decoder takes no more input.
    pub fn feed(&mut self, input: &[u8], body: &mut Vec<u8>) -> Result<Chunks, AnswerError> {
        let mut at = 0;
        while at < input.len() {
            if let State::Data { left } = self.state {
                let take = left.min(input.len() - at);
                body.extend_from_slice(&input[at..at + take]);
                at += take;
                self.state = if take == left {
                    State::DataCr
                } else {
                    State::Data { left: left - take }
                };
                continue;
            }
            let byte = input[at];
            at += 1;
            self.state = self.step(byte, body.len())?;
            if self.state == State::Done {
                return Ok(Chunks::Complete(at));
            }
        }
        if self.state == State::Done {
            return Ok(Chunks::Complete(0));
        }
        Ok(Chunks::Partial)
    }

    /// The body ended (the tests' view; the reader goes by `Chunks::Complete`).
    #[cfg(test)]
    fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// One byte of framing (never chunk data).
    fn step(&mut self, byte: u8, body_len: usize) -> Result<State, AnswerError> {
        // Every byte of a size or trailer line counts against the line bound.
        if matches!(
            self.state,
            State::Size { .. }
                | State::SizeSpace { .. }
                | State::Extension { .. }
                | State::Trailer { .. }
        ) {
            self.line += 1;
            if self.line > MAX_CHUNK_LINE_BYTES {
                return Err(MALFORMED);
            }
        }
        Ok(match (self.state, byte) {
            (State::Size { digits, size }, _) if byte.is_ascii_hexdigit() => {
                if digits == MAX_SIZE_DIGITS {
                    return Err(MALFORMED);
                }
                let digit = (byte as char).to_digit(16).unwrap_or(0) as usize;
                State::Size {
                    digits: digits + 1,
                    size: size * 16 + digit,
                }
            }
            (State::Size { digits: 0, .. }, _) => return Err(MALFORMED),
            (State::Size { size, .. } | State::SizeSpace { size }, b' ' | b'\t') => {
                State::SizeSpace { size }
            }
            (State::Size { size, .. } | State::SizeSpace { size }, b';') => {
                State::Extension { size }
            }
            (
                State::Size { size, .. } | State::SizeSpace { size } | State::Extension { size },
                b'\r',
            ) => State::SizeLf { size },
            (State::Extension { size }, _) if byte != b'\n' => State::Extension { size },
            (State::SizeLf { size }, b'\n') => {
                self.line = 0;
                if size == 0 {
                    State::Trailer { line: 0 }
                } else if body_len + size > MAX_ANSWER_BYTES {
                    return Err(AnswerError::TooLarge);
                } else {
                    State::Data { left: size }
                }
            }
            (State::DataCr, b'\r') => State::DataLf,
            (State::DataLf, b'\n') => {
                self.line = 0;
                State::Size { digits: 0, size: 0 }
            }
            (State::Trailer { line }, b'\r') => State::TrailerLf { empty: line == 0 },
            (State::Trailer { line }, _) if byte != b'\n' => State::Trailer { line: line + 1 },
            (State::TrailerLf { empty: true }, b'\n') => State::Done,
            (State::TrailerLf { empty: false }, b'\n') => {
                self.line = 0;
                State::Trailer { line: 0 }
            }
            _ => return Err(MALFORMED),
        })
    }
}

/// Decodes a whole chunked body from `input` into `body` (cleared first), in
/// one go: the decoder's one-shot form, for tests and fuzzing.
pub fn decode_chunked(input: &[u8], body: &mut Vec<u8>) -> Result<Chunks, AnswerError> {
    body.clear();
    ChunkedDecoder::new().feed(input, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `wire` in pieces cut at `cuts`; the verdict and the body.
    fn decode_in_pieces(wire: &[u8], cuts: &[usize]) -> (Result<Chunks, AnswerError>, Vec<u8>) {
        let mut decoder = ChunkedDecoder::new();
        let mut body = Vec::new();
        let mut start = 0;
        let mut ends: Vec<usize> = cuts.iter().copied().filter(|&c| c < wire.len()).collect();
        ends.sort_unstable();
        ends.push(wire.len());
        for end in ends {
            if end < start {
                continue;
            }
            match decoder.feed(&wire[start..end], &mut body) {
                Ok(Chunks::Complete(used)) => return (Ok(Chunks::Complete(start + used)), body),
                Ok(Chunks::Partial) => {}
                Err(error) => return (Err(error), body),
            }
            start = end;
        }
        (Ok(Chunks::Partial), body)
    }

    #[test]
    fn chunked_bodies_decode_with_extensions_and_trailers() {
        let mut body = Vec::new();
        let wire = b"4;ext=1\r\n{\"a\"\r\n3 ; x = \"y\"\r\n:1}\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
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
            b"\r\n",
            b" 2\r\nab\r\n0\r\n\r\n",
            b"2\nab\r\n0\r\n\r\n",
            b"2\r\nab\r\n0\r\nX: y\n\r\n",
            b"2 2\r\nab\r\n",
        ] {
            assert!(
                decode_chunked(bad, &mut body).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn any_split_decodes_as_the_whole() {
        let wire = b"4;ext=1\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
        let whole = decode_in_pieces(wire, &[]);
        assert_eq!(whole.0, Ok(Chunks::Complete(wire.len() - 4)));
        for first in 0..wire.len() {
            for second in first..wire.len() {
                assert_eq!(
                    decode_in_pieces(wire, &[first, second]),
                    whole,
                    "{first} {second}"
                );
            }
        }
        let one_byte_at_a_time: Vec<usize> = (0..wire.len()).collect();
        assert_eq!(decode_in_pieces(wire, &one_byte_at_a_time), whole);
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

    #[test]
    fn endless_lines_are_refused_and_consumed_bytes_are_never_read_again() {
        let mut body = Vec::new();
        // A trailer line that never ends, fed a byte at a time: refused at the
        // line bound, after linear work.
        let mut decoder = ChunkedDecoder::new();
        assert_eq!(
            decoder.feed(b"2\r\n{}\r\n0\r\n", &mut body),
            Ok(Chunks::Partial)
        );
        let mut fed = 0;
        let verdict = loop {
            match decoder.feed(b"x", &mut body) {
                Ok(Chunks::Partial) => fed += 1,
                other => break other,
            }
        };
        assert_eq!(verdict, Err(MALFORMED));
        assert_eq!(fed, MAX_CHUNK_LINE_BYTES);
        // Long extensions and long size lines alike.
        let long_extension = format!("1;{}\r\n", "e".repeat(MAX_CHUNK_LINE_BYTES));
        assert!(decode_chunked(long_extension.as_bytes(), &mut body).is_err());
        // Endless short trailer lines stay Partial: the reader's bound on the
        // whole answer ends them, and the decoder holds nothing while they come.
        let mut decoder = ChunkedDecoder::new();
        decoder.feed(b"2\r\n{}\r\n0\r\n", &mut body).unwrap();
        body.clear();
        for _ in 0..10_000 {
            assert_eq!(decoder.feed(b"X-T: 1\r\n", &mut body), Ok(Chunks::Partial));
        }
        assert!(body.is_empty());
        assert_eq!(
            decoder.feed(b"\r\nrest", &mut body),
            Ok(Chunks::Complete(2))
        );
        assert!(decoder.is_done());
    }
}
