//! The rule engine: request and response edits compiled from configuration.

pub mod request;
pub mod response;
pub mod spec;
