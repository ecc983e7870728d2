//! The pure core: decoding a form body, applying the rules, encoding the
//! result, and judging who may call. Plain Rust with no network and no
//! Pingora types, unit-tested and fuzzed on its own.

pub mod access;
pub mod byte_scan;
pub mod caller;
pub mod client_address;
pub mod form;
pub mod json_object;
pub mod oauth_error;
pub mod oidc;
pub mod rewrite;
pub mod rules;
pub mod signed_jwt;
