//! Mock providers on loopback, for curl, tests and benchmarks.

pub mod provider;
