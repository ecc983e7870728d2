//! A differential property test of the provider-answer codec: random valid
//! answers (status 200-599, random headers, Content-Length or chunked with
//! random chunk sizes, extensions and trailers), cut at random points between
//! reads, decode to the status, headers and body they were encoded from, and
//! the decoder stops exactly where the answer ends.

use proptest::prelude::*;

use quirkgate_core::http1::chunked::{ChunkedDecoder, Chunks};
use quirkgate_core::http1::provider_answer::{parse_answer_head, BodyFraming};

/// One answer, as the test encodes it.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    content_type: Option<String>,
    close: bool,
    /// Other header fields (names and values the grammar allows).
    fields: Vec<(String, String)>,
    body: Vec<u8>,
    /// `Some(chunk sizes, extensions, trailers)` for chunked, else Content-Length.
    chunked: Option<Chunking>,
}

/// Chunk sizes, chunk extensions and trailer fields of a chunked body.
type Chunking = (Vec<usize>, Vec<String>, Vec<(String, String)>);

/// Status, content type, keep-alive, body and the bytes the answer took.
type Decoded = (u16, Option<String>, bool, Vec<u8>, usize);

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9-]{0,15}".prop_filter("owned names", |name| {
        ![
            "content-length",
            "transfer-encoding",
            "connection",
            "content-type",
        ]
        .contains(&name.to_ascii_lowercase().as_str())
    })
}

fn field_value() -> impl Strategy<Value = String> {
    "[ -~]{0,40}".prop_map(|value| value.trim().to_owned())
}

fn answer() -> impl Strategy<Value = Answer> {
    (
        200u16..600,
        prop::option::of("application/[a-z]{1,10}(; charset=utf-8)?"),
        any::<bool>(),
        prop::collection::vec((token(), field_value()), 0..8),
        prop::collection::vec(any::<u8>(), 0..600),
        prop::option::of((
            prop::collection::vec(1usize..80, 1..20),
            prop::collection::vec(";[a-z]{1,8}(=[a-z0-9]{0,8})?", 0..4),
            prop::collection::vec((token(), field_value()), 0..4),
        )),
    )
        .prop_map(
            |(status, content_type, close, fields, body, chunked)| Answer {
                status,
                content_type,
                close,
                fields,
                // 204 and 304 carry no body.
                body: if status == 204 || status == 304 {
                    Vec::new()
                } else {
                    body
                },
                chunked,
            },
        )
}

fn encode(answer: &Answer) -> Vec<u8> {
    let mut wire = format!("HTTP/1.1 {} Whatever\r\n", answer.status).into_bytes();
    let mut field = |name: &str, value: &str| {
        wire.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    };
    if let Some(content_type) = &answer.content_type {
        field("Content-Type", content_type);
    }
    for (name, value) in &answer.fields {
        field(name, value);
    }
    if answer.close {
        field("Connection", "close");
    }
    let no_body = answer.status == 204 || answer.status == 304;
    match &answer.chunked {
        Some(_) if !no_body => field("Transfer-Encoding", "chunked"),
        _ => field("Content-Length", &answer.body.len().to_string()),
    }
    wire.extend_from_slice(b"\r\n");
    match &answer.chunked {
        Some((sizes, extensions, trailers)) if !no_body => {
            let mut rest = &answer.body[..];
            let mut turn = 0;
            while !rest.is_empty() {
                let size = sizes[turn % sizes.len()].min(rest.len());
                let extension = extensions
                    .get(turn % extensions.len().max(1))
                    .map_or("", String::as_str);
                wire.extend_from_slice(format!("{size:x}{extension}\r\n").as_bytes());
                wire.extend_from_slice(&rest[..size]);
                wire.extend_from_slice(b"\r\n");
                rest = &rest[size..];
                turn += 1;
            }
            wire.extend_from_slice(b"0\r\n");
            for (name, value) in trailers {
                wire.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
            }
            wire.extend_from_slice(b"\r\n");
        }
        _ => wire.extend_from_slice(&answer.body),
    }
    wire
}

/// What the reader makes of `wire` arriving in pieces: status, content type,
/// keep-alive, body, and the bytes the answer took.
fn decode_in_pieces(wire: &[u8], cuts: &[usize]) -> Option<Decoded> {
    let mut ends: Vec<usize> = cuts.iter().map(|&cut| cut % (wire.len() + 1)).collect();
    ends.sort_unstable();
    ends.push(wire.len());
    let mut ends = ends.into_iter();
    // The head, parsed again as more arrives.
    let mut arrived = 0;
    let head = loop {
        let end = ends.next()?;
        arrived = arrived.max(end);
        if let Some(head) = parse_answer_head(&wire[..arrived]).ok()? {
            break head;
        }
    };
    let content_type = head
        .content_type
        .clone()
        .map(|range| String::from_utf8(wire[range].to_vec()).unwrap());
    let (body, used) = match head.framing {
        BodyFraming::Empty => (Vec::new(), head.len),
        BodyFraming::Length(length) => (
            wire[head.len..head.len + length].to_vec(),
            head.len + length,
        ),
        BodyFraming::Chunked => {
            let mut decoder = ChunkedDecoder::new();
            let mut body = Vec::new();
            let mut start = head.len;
            let mut end = arrived;
            loop {
                if let Chunks::Complete(used) = decoder.feed(&wire[start..end], &mut body).ok()? {
                    break (body, start + used);
                }
                start = end;
                end = ends.next()?.max(start);
            }
        }
        BodyFraming::UntilClose => return None,
    };
    Some((head.status, content_type, head.keep_alive, body, used))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn answers_cut_anywhere_decode_to_what_was_encoded(
        answer in answer(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut wire = encode(&answer);
        let answer_len = wire.len();
        // What follows the answer is never part of it.
        wire.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        let decoded = decode_in_pieces(&wire, &cuts);
        prop_assert_eq!(
            decoded,
            Some((
                answer.status,
                answer.content_type.clone(),
                !answer.close,
                answer.body.clone(),
                answer_len,
            ))
        );
    }
}
