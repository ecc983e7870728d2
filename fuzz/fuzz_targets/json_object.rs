//! Arbitrary bytes as a provider's JSON answer: the one-pass object scanner
//! must agree with `serde_json` reading the same object field by field (names
//! decoded, selected values built, the others skipped), except that the
//! scanner also wants the whole body to be UTF-8.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quirkgate_core::json_object::object_fields;
use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

const KEEP: [&str; 3] = ["error", "data", "errcode"];

struct Selected;

impl<'de> Visitor<'de> for Selected {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if KEEP.contains(&key.as_str()) {
                fields.insert(key, map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(fields)
    }
}

fn serde_json_reading(body: &[u8]) -> Option<Map<String, Value>> {
    std::str::from_utf8(body).ok()?;
    let mut input = serde_json::Deserializer::from_slice(body);
    let fields = (&mut input).deserialize_map(Selected).ok()?;
    input.end().ok()?;
    Some(fields)
}

fuzz_target!(|body: &[u8]| {
    let ours = object_fields(body, |name| KEEP.contains(&name));
    assert_eq!(ours, serde_json_reading(body));
});
