//! Arbitrary bytes as a caller's request head: the fast path's judge may
//! hand anything over to Pingora, but must never panic, and what it frames
//! must lie inside the bytes it saw and agree with any longer prefix.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quirkgate_core::http1::caller_head::{parse_caller_head, HeadCheck, MAX_FIELDS};

fn judge(data: &[u8]) -> HeadCheck {
    let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
    let mut request = httparse::Request::new(&mut fields);
    parse_caller_head(&mut request, data)
}

fuzz_target!(|data: &[u8]| {
    if let HeadCheck::Framed(framing) = judge(data) {
        assert!(framing.head_len <= data.len());
        assert!(framing.head_len > 0);
        // The same head followed by its body gets the same verdict.
        let mut longer = data.to_vec();
        longer.extend(std::iter::repeat(b'x').take(framing.content_length.min(4096)));
        assert_eq!(judge(&longer), HeadCheck::Framed(framing));
    }
});
