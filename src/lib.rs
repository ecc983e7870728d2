//! quirkgate: an OAuth 2.0 token gateway that rewrites provider quirks.
//!
//! The layers are crates and modules. The bottom one is the crate
//! `quirkgate-core` (pure: the form codec, rules, rewrite, RFC 6749 errors,
//! the HTTP/1.1 codec of both legs, the bridge's pure parts); Cargo refuses an
//! import from it into anything above. Within this crate, each module imports
//! only from the modules listed before it (`tests/it/architecture.rs` reads
//! this list):
//!
//! 1. [`telemetry`]: Prometheus metrics and capped logging.
//! 2. [`store`]: the optional shared store (Redis) replicas agree through:
//!    code claims, login contexts, fleet rate-limit windows.
//! 3. [`rate_limit`]: request-rate budgets, this replica's or the fleet's.
//! 4. [`plan`]: the file operators edit, and the plan compiled from it once
//!    per load; the request path only reads it.
//! 5. [`upstream`]: the provider leg: retry policy, answer reading, idle
//!    connections, peers.
//! 5. [`corp_login`]: the two-step corp login (WeCom), served from a
//!    route's own provider legs.
//! 6. [`gateway`]: one request's lifecycle, shared by both front ends.
//! 7. [`bridge`]: the OpenID Connect bridge's endpoints, running the token
//!    and user-info legs through the gateway.
//! 8. [`front`]: the listener app (HTTP/1.1 fast path), the Pingora front end,
//!    edge TLS.
//! 9. [`server`]: the Pingora server a configuration describes.
//! 10. [`broker`]: the identity broker's side of a route (`quirkgate auth0`):
//!    the connection a route needs, the diff, the Auth0 Management API.
//!
//! The mock providers and the mock Auth0 live in the crate `quirkgate-mocks`,
//! which only tests and benchmarks depend on: they are not in this binary.

mod bridge;
mod broker;
mod corp_login;
mod front;
mod gateway;
mod plan;
mod rate_limit;
mod server;
mod store;
mod telemetry;
mod upstream;

// The public surface, narrow on purpose: what the command line, the tests,
// the benchmarks and the fuzz targets use. Everything else is crate-private,
// so the compiler reports what nobody uses.

/// Loading and checking a configuration file (`--test`, `presets`, tests, fuzz targets).
pub mod config {
    pub use crate::plan::file::{
        load_file, load_preset, parse_duration, preset_description, preset_text, GatewayFile,
        PRESETS,
    };
    pub use crate::plan::rule_specs::compile_request_rules;
    pub use crate::plan::{compile, preset_request_rules, Resolution};
    pub use crate::server::{load_plan, DEFAULT_GRACE_PERIOD};
}

/// Running the gateway a configuration describes.
pub mod run {
    pub use crate::front::edge_tls::EdgeCertificate;
    pub use crate::server::build_server;
    pub use crate::telemetry::logging::init as init_logging;
}

/// The edge TLS record handling, for the fuzz targets only.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::front::edge_tls::fuzzing::*;
}

/// The identity broker's side of a route (`quirkgate auth0 connection`).
pub mod auth0 {
    pub use crate::broker::apply::apply_connection;
    pub use crate::broker::connection::{build_connection, ConnectionInputs, Secret};
    pub use crate::broker::management_api::{ManagementApi, ManagementSettings};
}
