//! Requests per second per route and per caller address, checked after the
//! caller's source and shared secret: this replica's budget, or with
//! `scope: fleet` the whole fleet's, counted in the store (one script call
//! per decision) and by this replica alone while the store cannot answer.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pingora_limits::rate::Rate;
use quirkgate_core::oauth_error::OAuthError;

use crate::store::{keys, Store};
use crate::telemetry::metrics::METRICS;

/// Requests per second, per caller address and for the whole route, counted
/// in one-second windows by Pingora's `Rate` estimator. The estimator is a
/// count-min sketch: collisions can only over-count, never let a flood through.
#[derive(Default)]
pub struct RateLimits {
    per_client: Option<(Rate, isize)>,
    per_route: Option<(Rate, isize)>,
    /// `scope: fleet`: the budgets are the fleet's; the per-replica counters
    /// above are the fallback.
    fleet: Option<FleetLimits>,
}

/// The fleet's budgets, counted in the store's one-second windows.
pub(crate) struct FleetLimits {
    store: Arc<Store>,
    route_tag: String,
    /// The store failed the last decision: its recovery is logged once.
    degraded: AtomicBool,
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
            fleet: None,
        }
    }

    /// The same budgets, for the whole fleet: counted in `store` under the route's name.
    pub(crate) fn fleet_wide(mut self, store: Arc<Store>, route: &str) -> Self {
        self.fleet = Some(FleetLimits {
            store,
            route_tag: keys::route_tag(route),
            degraded: AtomicBool::new(false),
        });
        self
    }

    /// Whether the decision needs the store (then [`RateLimits::admit_fleet`], not `admit`).
    pub(crate) fn is_fleet_wide(&self) -> bool {
        self.fleet.is_some()
    }

    /// The fleet's decision, in one store round trip; while the store cannot
    /// answer, this replica's own counting (counted in
    /// `quirkgate_store_fallbacks_total`, logged when it starts and ends).
    pub(crate) async fn admit_fleet(&self, client: Option<IpAddr>) -> Result<(), OAuthError> {
        let Some(fleet) = &self.fleet else {
            return self.admit_here(client);
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let window_keys = keys::rate_windows(
            &fleet.route_tag,
            now,
            self.per_client.as_ref().map(|_| client),
            self.per_route.is_some(),
        );
        let limits: Vec<u32> = [&self.per_client, &self.per_route]
            .into_iter()
            .flatten()
            .map(|(_, limit)| *limit as u32)
            .collect();
        match fleet
            .store
            .count_windows(&window_keys, &limits, RATE_WINDOW)
            .await
        {
            Ok(refused) => {
                if fleet.degraded.swap(false, Ordering::Relaxed) {
                    log::warn!(target: "quirkgate::store", "fleet rate limit: the store answers again; counting fleet-wide");
                }
                match refused {
                    Some(_) => Err(OAuthError::rate_limited()),
                    None => Ok(()),
                }
            }
            Err(failure) => {
                if !fleet.degraded.swap(true, Ordering::Relaxed) {
                    log::warn!(target: "quirkgate::store", "fleet rate limit: store {}; counting per replica until it answers", failure.as_str());
                }
                METRICS
                    .store_fallbacks
                    .with_label_values(&["rate_limit", "replica_count"])
                    .inc();
                self.admit_here(client)
            }
        }
    }

    /// Counts the request and refuses it when this window's budget is spent.
    /// A caller over its own limit is not counted against the route's.
    /// Callers whose address is unknown share one budget.
    pub fn admit(&self, client: Option<IpAddr>) -> Result<(), OAuthError> {
        if self.fleet.is_some() {
            return Ok(());
        }
        self.admit_here(client)
    }

    /// This replica's own count.
    fn admit_here(&self, client: Option<IpAddr>) -> Result<(), OAuthError> {
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
