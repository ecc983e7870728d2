//! The provider leg: the exchange with its retry policy, the answer read off
//! the wire, idle connections kept per worker thread, and Pingora peers.

pub mod exchange;
pub mod idle_connections;
pub mod peers;
pub mod provider_wire;
