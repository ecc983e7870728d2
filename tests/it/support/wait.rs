//! Waiting for a condition: poll it until a deadline, never one fixed sleep.

use std::future::Future;
use std::time::{Duration, Instant};

/// Polls `attempt` every 20 ms until it gives `Some`, or `within` has passed
/// (then `None`): for a metric series, a log line, a state that comes "soon".
pub async fn eventually<T, F, Fut>(within: Duration, mut attempt: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = attempt().await {
            return Some(found);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
