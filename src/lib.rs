//! quirkgate: an OAuth 2.0 token gateway that rewrites provider quirks.
//!
//! The pure core (`form`, `rules`, `rewrite`, `oauth_error`) knows nothing of
//! the network; `gateway` is the thin Pingora adapter around it.

pub mod access;
pub mod caller;
pub mod cidr;
pub mod config;
pub mod edge_tls;
pub mod exchange;
pub mod form;
pub mod front_door;
pub mod gateway;
pub mod idle_connections;
pub mod logging;
pub mod metrics;
pub mod mock_provider;
pub mod oauth_error;
pub mod plan;
pub mod provider_wire;
pub mod rewrite;
pub mod rules;
pub mod server;
pub mod upstream;
