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
//! 2. [`rate_limit`]: this replica's request-rate budgets.
//! 3. [`plan`]: the file operators edit, and the plan compiled from it once
//!    per load; the request path only reads it.
//! 4. [`upstream`]: the provider leg: retry policy, answer reading, idle
//!    connections, peers.
//! 5. [`gateway`]: one request's lifecycle, shared by both front ends.
//! 6. [`bridge`]: the OpenID Connect bridge's endpoints, running the token
//!    and user-info legs through the gateway.
//! 7. [`front`]: the listener app (HTTP/1.1 fast path), the Pingora front end,
//!    edge TLS.
//! 8. [`server`]: the Pingora server a configuration describes.
//! 9. [`broker`]: the identity broker's side of a route (`quirkgate auth0`):
//!    the connection a route needs, the diff, the Auth0 Management API.
//!
//! The mock providers and the mock Auth0 live in the crate `quirkgate-mocks`,
//! which only tests and benchmarks depend on: they are not in this binary.

pub mod bridge;
pub mod broker;
pub mod front;
pub mod gateway;
pub mod plan;
pub mod rate_limit;
pub mod server;
pub mod telemetry;
pub mod upstream;
