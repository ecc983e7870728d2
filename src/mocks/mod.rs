//! Mock providers on loopback, for curl, tests and benchmarks.

pub mod kinds;
pub mod long_tail;
pub mod provider;
