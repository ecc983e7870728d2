//! Two-step token legs (WeCom): the corp `access_token` an app fetches with
//! `corpid` and `corpsecret` and shares for all its users, cached per route
//! and replica (never per caller) and refreshed before it expires. One
//! caller fetches while the others wait for it (or, when the old token is
//! still good, keep using it); a fetch that is dropped unfinished lets the
//! next caller try. Pure: the caller brings the clock and does the fetch.

pub mod wecom;

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A corp token: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct CorpToken {
    value: String,
    expires_at: Instant,
}

impl std::fmt::Debug for CorpToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CorpToken {{ value: <redacted>, expires_at: {:?} }}",
            self.expires_at
        )
    }
}

impl CorpToken {
    pub fn value(&self) -> &str {
        &self.value
    }
}

#[derive(Debug, Default)]
struct State {
    token: Option<CorpToken>,
    fetching: bool,
    /// Counts completed fetches, so a waiter knows one finished.
    generation: u64,
}

/// The cache of one route's corp token on this replica.
#[derive(Debug)]
pub struct CorpTokenCache {
    state: Mutex<State>,
    /// How long before its expiry a token is renewed.
    refresh_before: Duration,
}

/// What a caller does next.
#[derive(Debug)]
pub enum Lease<'c> {
    /// Use this token.
    Cached(CorpToken),
    /// Fetch a token and hand it to [`Fetch::complete`]; dropping it unfinished frees the slot.
    Fetch(Fetch<'c>),
    /// Another caller is fetching and there is no good token: wait until the
    /// generation moves past this one, then ask again.
    Wait { generation: u64 },
}

/// The right (and duty) to fetch the corp token.
#[derive(Debug)]
pub struct Fetch<'c> {
    cache: &'c CorpTokenCache,
    done: bool,
}

impl CorpTokenCache {
    pub fn new(refresh_before: Duration) -> Self {
        CorpTokenCache {
            state: Mutex::new(State::default()),
            refresh_before,
        }
    }

    /// The token if it is good for a while yet; else the fetch, to one caller at a time.
    pub fn lease(&self, now: Instant) -> Lease<'_> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let usable = state.token.as_ref().filter(|t| now < t.expires_at).cloned();
        let fresh = usable
            .as_ref()
            .filter(|t| now + self.refresh_before < t.expires_at)
            .cloned();
        match (fresh, usable, state.fetching) {
            (Some(token), _, _) => Lease::Cached(token),
            // Due for renewal, already being renewed: the old one is still good.
            (None, Some(token), true) => Lease::Cached(token),
            (None, None, true) => Lease::Wait {
                generation: state.generation,
            },
            (None, _, false) => {
                state.fetching = true;
                Lease::Fetch(Fetch {
                    cache: self,
                    done: false,
                })
            }
        }
    }

    /// Drops `refused` (the provider called it invalid or expired before its
    /// time) unless a newer token replaced it already.
    pub fn forget(&self, refused: &CorpToken) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.token.as_ref() == Some(refused) {
            state.token = None;
        }
    }

    /// How many fetches have finished (or been given up).
    pub fn generation(&self) -> u64 {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .generation
    }
}

impl Fetch<'_> {
    /// Stores the fetched token, good for `lifetime` from `now` (WeCom's `expires_in`).
    pub fn complete(mut self, value: String, lifetime: Duration, now: Instant) -> CorpToken {
        let token = CorpToken {
            value,
            expires_at: now + lifetime,
        };
        let mut state = self.cache.state.lock().unwrap_or_else(|p| p.into_inner());
        state.token = Some(token.clone());
        state.fetching = false;
        state.generation += 1;
        self.done = true;
        token
    }
}

impl Drop for Fetch<'_> {
    fn drop(&mut self) {
        if !self.done {
            let mut state = self.cache.state.lock().unwrap_or_else(|p| p.into_inner());
            state.fetching = false;
            state.generation += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};

    const HOUR: Duration = Duration::from_secs(3600);
    const MARGIN: Duration = Duration::from_secs(300);

    fn fetch_now(cache: &CorpTokenCache, now: Instant, value: &str) -> CorpToken {
        match cache.lease(now) {
            Lease::Fetch(fetch) => fetch.complete(value.into(), 2 * HOUR, now),
            other => panic!("expected to fetch, got {other:?}"),
        }
    }

    #[test]
    fn a_fetched_token_is_used_until_shortly_before_it_expires() {
        let cache = CorpTokenCache::new(MARGIN);
        let start = Instant::now();
        fetch_now(&cache, start, "corp-1");
        for later in [
            Duration::ZERO,
            HOUR,
            2 * HOUR - MARGIN - Duration::from_secs(1),
        ] {
            match cache.lease(start + later) {
                Lease::Cached(token) => assert_eq!(token.value(), "corp-1"),
                other => panic!("{later:?}: {other:?}"),
            }
        }
        // Within the margin: renewed before it expires, not after.
        let renewal = start + 2 * HOUR - MARGIN + Duration::from_secs(1);
        let renewed = fetch_now(&cache, renewal, "corp-2");
        assert_eq!(renewed.value(), "corp-2");
        assert_eq!(cache.generation(), 2);
    }

    #[test]
    fn while_one_caller_renews_the_others_keep_the_good_token_or_wait() {
        let cache = CorpTokenCache::new(MARGIN);
        let start = Instant::now();
        // Nothing cached: the second caller waits for the first one's fetch.
        let Lease::Fetch(first) = cache.lease(start) else {
            panic!()
        };
        let Lease::Wait { generation } = cache.lease(start) else {
            panic!()
        };
        first.complete("corp-1".into(), 2 * HOUR, start);
        assert!(cache.generation() > generation);
        // Due for renewal: one renews, the others use the old token meanwhile.
        let due = start + 2 * HOUR - MARGIN / 2;
        let Lease::Fetch(renewing) = cache.lease(due) else {
            panic!()
        };
        let Lease::Cached(old) = cache.lease(due) else {
            panic!()
        };
        assert_eq!(old.value(), "corp-1");
        // A renewal given up (the provider failed) frees the slot for the next caller.
        drop(renewing);
        assert!(matches!(cache.lease(due), Lease::Fetch(_)));
        // Past expiry an old token is never handed out.
        let Lease::Fetch(_) = cache.lease(start + 2 * HOUR) else {
            panic!()
        };
    }

    #[test]
    fn concurrent_callers_share_one_fetch() {
        let cache = Arc::new(CorpTokenCache::new(MARGIN));
        let fetches = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(Barrier::new(8));
        let start = Instant::now();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (cache, fetches, barrier) = (cache.clone(), fetches.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    loop {
                        match cache.lease(start) {
                            Lease::Cached(token) => return token.value().to_owned(),
                            Lease::Fetch(fetch) => {
                                fetches.fetch_add(1, Ordering::SeqCst);
                                return fetch
                                    .complete("corp-1".into(), 2 * HOUR, start)
                                    .value()
                                    .to_owned();
                            }
                            Lease::Wait { generation } => {
                                while cache.generation() == generation {
                                    std::thread::yield_now();
                                }
                            }
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            assert_eq!(thread.join().unwrap(), "corp-1");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_refused_token_is_forgotten_unless_a_newer_one_replaced_it() {
        let cache = CorpTokenCache::new(MARGIN);
        let start = Instant::now();
        let first = fetch_now(&cache, start, "corp-1");
        cache.forget(&first);
        let second = fetch_now(&cache, start, "corp-2");
        // A late report about the first token leaves the second in place.
        cache.forget(&first);
        match cache.lease(start) {
            Lease::Cached(token) => assert_eq!(token, second),
            other => panic!("{other:?}"),
        };
    }

    #[test]
    fn the_token_never_prints() {
        let cache = CorpTokenCache::new(MARGIN);
        let token = fetch_now(&cache, Instant::now(), "corp-secret-token");
        assert!(!format!("{token:?} {cache:?}").contains("corp-secret-token"));
    }
}
