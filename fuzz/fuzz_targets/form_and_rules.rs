//! Arbitrary bytes into the form codec and the TikTok rewrite: no input may
//! panic, and whatever the codec accepts must survive an encode round trip.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use quirkgate::config::load_preset;
use quirkgate_core::form::{encode_form, parse_form};
use quirkgate_core::rewrite::rewrite;
use quirkgate_core::rules::request::RequestRule;
use quirkgate::config::compile_request_rules;

static TIKTOK_RULES: LazyLock<Vec<Box<dyn RequestRule>>> = LazyLock::new(|| {
    compile_request_rules(&load_preset("tiktok").expect("shipped preset").request)
        .expect("shipped rules compile")
});

fuzz_target!(|data: &[u8]| {
    // The first line, when there is one, is the Authorization header.
    let (authorization, body) = match data.iter().position(|&b| b == b'\n') {
        Some(end) => (std::str::from_utf8(&data[..end]).ok(), &data[end + 1..]),
        None => (None, data),
    };
    if let Ok(params) = parse_form(body) {
        let encoded = encode_form(&params);
        assert_eq!(parse_form(encoded.as_bytes()).ok(), Some(params));
    }
    let _ = rewrite(&TIKTOK_RULES, body, authorization);
});
