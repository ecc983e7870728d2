//! The rule types: request edits and response shaping, as built from the
//! operator's rule specs (`plan::rule_specs`).

pub mod request;
pub mod response;
pub mod signed;
pub mod two_step;
pub mod wrapped;
