//! The identity broker's side of a route, set up by quirkgate: the Auth0
//! custom social connection that sends users to the provider and its token
//! calls to the gateway (`quirkgate auth0 connection`).
//!
//! `connection` builds the connection a route needs from the file and the
//! route's preset (pure); `changes` merges it into what the tenant has and
//! says what would change (pure); `management_api` is the thin HTTP adapter
//! to Auth0's Management API.

pub mod apply;
pub mod changes;
pub mod connection;
pub mod management_api;
