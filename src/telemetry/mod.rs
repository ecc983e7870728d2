//! What operators see: Prometheus metrics with bounded labels, and logging
//! that never carries a secret.

pub mod logging;
pub mod metrics;
