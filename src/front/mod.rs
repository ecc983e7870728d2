//! The front ends callers reach: the listener app with its HTTP/1.1 fast
//! path, Pingora's HTTP stack behind it, and the edge TLS certificate.

pub mod edge_tls;
pub mod front_door;
pub mod pingora_front_end;
pub mod prefixed_io;
