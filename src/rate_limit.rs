//! Requests per second per route and per caller address: this replica's
//! budget, checked after the caller's source and shared secret.

use std::net::IpAddr;
use std::time::Duration;

use pingora_limits::rate::Rate;
use quirkgate_core::oauth_error::OAuthError;

/// Requests per second, per caller address and for the whole route, counted
/// in one-second windows by Pingora's `Rate` estimator. The estimator is a
/// count-min sketch: collisions can only over-count, never let a flood through.
#[derive(Default)]
pub struct RateLimits {
    per_client: Option<(Rate, isize)>,
    per_route: Option<(Rate, isize)>,
}

const RATE_WINDOW: Duration = Duration::from_secs(1);

impl RateLimits {
    pub fn new(per_client_per_second: Option<u32>, per_route_per_second: Option<u32>) -> Self {
        RateLimits {
            per_client: per_client_per_second.map(|n| (Rate::new(RATE_WINDOW), n as isize)),
            // One key only: the smallest sketch holds it exactly.
            per_route: per_route_per_second.map(|n| {
                (
                    Rate::new_with_estimator_config(RATE_WINDOW, 1, 1),
                    n as isize,
                )
            }),
        }
    }

    /// Counts the request and refuses it when this window's budget is spent.
    /// A caller over its own limit is not counted against the route's.
    /// Callers whose address is unknown share one budget.
    pub fn admit(&self, client: Option<IpAddr>) -> Result<(), OAuthError> {
        if let Some((rate, limit)) = &self.per_client {
            if rate.observe(&client, 1) > *limit {
                return Err(OAuthError::rate_limited());
            }
        }
        if let Some((rate, limit)) = &self.per_route {
            if rate.observe(&(), 1) > *limit {
                return Err(OAuthError::rate_limited());
            }
        }
        Ok(())
    }
}

impl RateLimits {
    /// Whether a budget is kept per caller address (worth working out only then).
    pub fn counts_per_client(&self) -> bool {
        self.per_client.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_count_per_client_and_per_route() {
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let per_client = RateLimits::new(Some(2), None);
        assert!(per_client.admit(Some(a)).is_ok());
        assert!(per_client.admit(Some(a)).is_ok());
        let err = per_client.admit(Some(a)).unwrap_err();
        assert_eq!(
            (err.status, err.code.as_ref(), err.reason.as_str()),
            (429, "temporarily_unavailable", "rate_limited")
        );
        assert_eq!(err.retry_after_seconds, Some(1));
        assert!(
            per_client.admit(Some(b)).is_ok(),
            "another caller has its own budget"
        );

        let per_route = RateLimits::new(None, Some(3));
        for address in [a, b, a] {
            assert!(per_route.admit(Some(address)).is_ok());
        }
        assert!(per_route.admit(Some(b)).is_err());
    }
}
