//! Arbitrary bytes as a provider's answer: the head parser and the chunked
//! decoder must never panic, and the decoder fed the body in pieces cut at
//! fuzzer-chosen offsets must reach exactly the one-shot verdict and body.
//!
//! Input: one byte N (0-15 cut points), N cut offsets of two bytes each,
//! then the answer bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quirkgate_core::http1::chunked::{decode_chunked, ChunkedDecoder, Chunks};
use quirkgate_core::http1::provider_answer::{parse_answer_head, status_kind, BodyFraming};

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 16);
    if rest.len() < 2 * n {
        return;
    }
    let (cut_bytes, wire) = rest.split_at(2 * n);
    let mut cuts: Vec<usize> = cut_bytes
        .chunks(2)
        .map(|pair| usize::from(u16::from_le_bytes([pair[0], pair[1]])) % (wire.len() + 1))
        .collect();
    cuts.sort_unstable();

    // The head: never a panic, and a parsed status is always a real one.
    let body_start = match parse_answer_head(wire) {
        Ok(Some(head)) => {
            assert!(head.len <= wire.len());
            assert!(status_kind(head.status).is_ok());
            if let Some(range) = &head.content_type {
                assert!(range.end <= head.len);
            }
            if head.framing == BodyFraming::Chunked {
                head.len
            } else {
                0
            }
        }
        _ => 0,
    };
    let body = &wire[body_start..];

    // The chunked decoder: one shot against pieces.
    let mut whole = Vec::new();
    let one_shot = decode_chunked(body, &mut whole);
    let mut decoder = ChunkedDecoder::new();
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut verdict = Ok(Chunks::Partial);
    for end in cuts.into_iter().map(|c| c.saturating_sub(body_start)).chain([body.len()]) {
        if end < start {
            continue;
        }
        verdict = match decoder.feed(&body[start..end], &mut pieces) {
            Ok(Chunks::Complete(used)) => Ok(Chunks::Complete(start + used)),
            other => other,
        };
        if verdict != Ok(Chunks::Partial) {
            break;
        }
        start = end;
    }
    assert_eq!(verdict, one_shot);
    if let Ok(Chunks::Complete(used)) = one_shot {
        assert!(used <= body.len());
        assert_eq!(pieces, whole);
    }
});
