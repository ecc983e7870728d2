//! What the black-box tests share, by subject: the gateway process, the
//! caller's HTTP, upstreams, the test PKI, OAuth clients, an OpenID Connect relying party, metrics, the
//! shipped dashboard and rules, and secret scanning. Nothing leaves 127.0.0.1.

mod dashboard;
mod gateway;
mod http;
mod oauth;
mod oidc;
mod pki;
mod prometheus;
mod redis;
mod secrets;
mod upstream;
mod wait;

pub use dashboard::*;
pub use gateway::*;
pub use http::*;
pub use oauth::*;
pub use oidc::*;
pub use pki::*;
pub use prometheus::*;
pub use redis::*;
pub use secrets::*;
pub use upstream::*;
pub use wait::*;

pub use quirkgate_mocks::provider::{MockProvider, ProviderKind, SeenRequest};
