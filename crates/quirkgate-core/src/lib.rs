//! The pure core: decoding a form body, applying the rules, encoding the
//! result, and judging who may call; the hand-written HTTP/1.1 codec of both
//! legs ([`http1`]). Plain Rust with no network, no Pingora and no tokio
//! (this crate's dependencies say so), unit-tested and fuzzed on its own.

pub mod access;
pub mod byte_scan;
pub mod caller;
pub mod client_address;
pub mod credentials;
pub mod form;
pub mod http1;
pub mod json_object;
pub mod oauth_error;
pub mod oidc;
pub mod rewrite;
pub mod rules;
pub mod signed_jwt;
