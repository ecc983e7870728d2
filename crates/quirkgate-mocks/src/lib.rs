//! Mock providers and a mock Auth0 Management API on loopback, for curl,
//! tests and benchmarks.

pub mod auth0;
pub mod callback_pages;
pub mod endpoints;
pub mod id_tokens;
pub mod kinds;
pub mod login_legs;
pub mod long_tail;
pub mod long_tail_two;
pub mod long_tail_users;
pub mod provider;
pub mod qq;
pub mod signed;
pub mod strict;
pub mod tenant;
pub mod wecom;
