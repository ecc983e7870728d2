//! quirkgate: an OAuth 2.0 token gateway that rewrites provider quirks.
//!
//! The modules are layers; each imports only from the layers listed before it:
//!
//! 1. [`core`]: the pure core (form codec, rules, rewrite, RFC 6749 errors,
//!    the caller's request as the core reads it, access control). No network,
//!    no Pingora.
//! 2. [`http1`]: the hand-written HTTP/1.1 codec of both legs, as pure
//!    functions (caller heads, provider answers, chunked bodies, encoding).
//! 3. [`telemetry`]: Prometheus metrics and capped logging.
//! 4. [`plan`]: the file operators edit, and the plan compiled from it once
//!    per load; the request path only reads it.
//! 5. [`upstream`]: the provider leg: retry policy, answer reading, idle
//!    connections, peers.
//! 6. [`gateway`]: one request's lifecycle, shared by both front ends.
//! 7. [`bridge`]: the OpenID Connect bridge's endpoints, running the token
//!    and user-info legs through the gateway.
//! 8. [`front`]: the listener app (HTTP/1.1 fast path), the Pingora front end,
//!    edge TLS.
//! 9. [`server`]: the Pingora server a configuration describes.
//! 10. [`broker`]: the identity broker's side of a route (`quirkgate auth0`):
//!     the connection a route needs, the diff, the Auth0 Management API.
//!
//! [`mocks`] stands apart: mock providers and a mock Auth0 Management API
//! for trying the gateway, tests and benchmarks; it imports nothing from the
//! layers.

pub mod bridge;
pub mod broker;
pub mod core;
pub mod front;
pub mod gateway;
pub mod http1;
pub mod mocks;
pub mod plan;
pub mod server;
pub mod telemetry;
pub mod upstream;
