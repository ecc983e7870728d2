//! Idle provider connections, kept per worker thread: a connection is used
//! again only by the runtime it was registered with, and taking one is a
//! thread-local stack pop with no lock, no task and no syscall.
//!
//! Connections are keyed by everything that decides whether one may serve an
//! exchange: address, TLS, server name and trust group (a connection verified
//! against one route's `ca_file` never serves a route that would have refused
//! its certificate). A connection is handed out only while it is younger than
//! the route's `upstream_idle_timeout` and the provider has neither closed it
//! nor written to it unasked.
//!
//! Idle connections are also swept without waiting for their key to be used
//! again: the first `put` on a worker thread starts a small task on that
//! thread that, every `SWEEP_INTERVAL` while the thread holds idle
//! connections, closes the expired and dead ones and drops empty keys. So a
//! provider's close is answered within a sweep, and connections under a key
//! no request uses any more (after a DNS change or a reload) last no longer
//! than their idle timeout.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use pingora::protocols::Stream;
use tokio::io::{AsyncRead, ReadBuf};

use rustc_hash::FxHashMap;

use crate::plan::upstream::PeerSettings;

/// Which idle connections may serve an exchange: the provider's address and
/// the route's pool identity (TLS, server name, trust group), both compared
/// exactly. Built per exchange from values the plan computed at load, so it
/// costs two copies, and the map hashes it with FxHash: its keys come from
/// the configuration and DNS, never from callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PoolKey {
    address: SocketAddr,
    identity: u64,
}

impl PoolKey {
    pub fn new(settings: &PeerSettings, address: SocketAddr) -> Self {
        PoolKey {
            address,
            identity: settings.pool_identity,
        }
    }
}

/// How often a worker thread's idle connections are swept.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

struct IdleConnection {
    stream: Stream,
    since: Instant,
    /// The route's `upstream_idle_timeout` when the connection was put back.
    idle_timeout: Duration,
}

impl IdleConnection {
    /// Young enough, and the provider has neither closed it nor written to it.
    fn usable(&mut self, now: Instant) -> bool {
        now.duration_since(self.since) < self.idle_timeout && still_quiet(&mut self.stream)
    }
}

thread_local! {
    static IDLE: RefCell<FxHashMap<PoolKey, VecDeque<IdleConnection>>> = RefCell::default();
    /// This thread's sweep task is running.
    static SWEEPING: Cell<bool> = const { Cell::new(false) };
}

/// The most recently used live connection for `key`, if any. Each one is
/// checked before it is handed out: younger than `idle_timeout` (the route's
/// current setting, which a reload may have shortened), and one non-blocking
/// read finds neither end of stream (the provider closed it) nor bytes it
/// was never asked for. Expired and dead ones met on the way are closed.
///
/// This check cannot see a close that is still on its way: a provider may
/// close the connection just after the check, and the request written to it
/// then usually "succeeds" (the kernel takes it) with the end of stream
/// showing up only on the read, after the request was sent in full.
pub fn take(key: PoolKey, idle_timeout: Duration) -> Option<Stream> {
    let now = Instant::now();
    IDLE.with_borrow_mut(|pools| {
        let idle = pools.get_mut(&key)?;
        while let Some(mut connection) = idle.pop_back() {
            connection.idle_timeout = connection.idle_timeout.min(idle_timeout);
            if connection.usable(now) {
                return Some(connection.stream);
            }
        }
        None
    })
}

/// Keeps a connection that finished an exchange cleanly; the oldest goes
/// past `capacity`, and expired ones are closed.
pub fn put(key: PoolKey, stream: Stream, capacity: usize, idle_timeout: Duration) {
    if capacity == 0 {
        return;
    }
    let now = Instant::now();
    IDLE.with_borrow_mut(|pools| {
        let idle = pools.entry(key).or_default();
        while idle
            .front()
            .is_some_and(|oldest| now.duration_since(oldest.since) >= idle_timeout)
        {
            idle.pop_front();
        }
        if idle.len() >= capacity {
            idle.pop_front();
        }
        idle.push_back(IdleConnection {
            stream,
            since: now,
            idle_timeout,
        });
    });
    start_sweeping();
}

/// Starts this thread's sweep task, unless it runs already. On a
/// current-thread runtime (Pingora's default, `work_stealing: false`) the task
/// stays on this thread and sweeps this thread's pools; with work stealing a
/// task may move, so each sweep covers the thread it runs on, and the task
/// only ends on the thread that started it.
fn start_sweeping() {
    if SWEEPING.get() {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    SWEEPING.set(true);
    let home = std::thread::current().id();
    runtime.spawn(async move {
        loop {
            tokio::time::sleep(SWEEP_INTERVAL).await;
            let left = sweep(Instant::now());
            if left == 0 && std::thread::current().id() == home {
                SWEEPING.set(false);
                return;
            }
        }
    });
}

/// Closes this thread's expired and dead idle connections and drops empty
/// keys; the idle connections left.
fn sweep(now: Instant) -> usize {
    IDLE.with_borrow_mut(|pools| {
        pools.retain(|_, idle| {
            idle.retain_mut(|connection| connection.usable(now));
            !idle.is_empty()
        });
        pools.values().map(VecDeque::len).sum()
    })
}

/// Idle connections this thread holds for `key`.
#[cfg(test)]
fn count(key: PoolKey) -> usize {
    IDLE.with_borrow(|pools| pools.get(&key).map_or(0, VecDeque::len))
}

/// An idle connection must have nothing to read: end of stream means the
/// provider closed it, a read error means it was reset, and bytes it was
/// never asked for (a 408, say) mean it cannot be trusted with an exchange.
/// One non-blocking read tells; only "nothing yet" keeps the connection.
fn still_quiet(stream: &mut Stream) -> bool {
    let mut byte = [0u8; 1];
    let mut buf = ReadBuf::new(&mut byte);
    let mut cx = Context::from_waker(Waker::noop());
    matches!(
        AsyncRead::poll_read(Pin::new(stream), &mut cx, &mut buf),
        Poll::Pending
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::upstream::{pool_identity, UpstreamTarget};
    use tokio::io::AsyncWriteExt;
    use tokio::net::{TcpListener, TcpStream};

    async fn connected_pair() -> (Stream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (client, accepted) = tokio::join!(TcpStream::connect(address), listener.accept());
        let client: Stream = Box::new(pingora::protocols::l4::stream::Stream::from(
            client.unwrap(),
        ));
        (client, accepted.unwrap().0)
    }

    fn settings(url: &str, trust_group: u64) -> PeerSettings {
        let target = UpstreamTarget::parse(url).unwrap();
        PeerSettings {
            connect_timeout: Duration::from_secs(1),
            io_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
            ca: None,
            trust_group,
            pool_identity: pool_identity(&target, trust_group),
        }
    }

    fn key(port: u16) -> PoolKey {
        let settings = settings("https://provider.example/token", 7);
        PoolKey::new(&settings, SocketAddr::from(([127, 0, 0, 1], port)))
    }

    #[tokio::test(flavor = "current_thread")]
    async fn live_connections_come_back_most_recent_first() {
        let (first, _first_peer) = connected_pair().await;
        let (second, _second_peer) = connected_pair().await;
        let second_id = second.id();
        put(key(1), first, 8, Duration::from_secs(60));
        put(key(1), second, 8, Duration::from_secs(60));
        assert_eq!(count(key(1)), 2);
        assert!(
            take(key(2), Duration::from_secs(60)).is_none(),
            "another key"
        );
        let taken = take(key(1), Duration::from_secs(60)).unwrap();
        assert_eq!(taken.id(), second_id);
        assert_eq!(count(key(1)), 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn closed_chatty_and_expired_connections_are_never_handed_out() {
        let (closed, closed_peer) = connected_pair().await;
        drop(closed_peer);
        let (chatty, mut chatty_peer) = connected_pair().await;
        chatty_peer
            .write_all(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        put(key(3), closed, 8, Duration::from_secs(60));
        put(key(3), chatty, 8, Duration::from_secs(60));
        assert!(take(key(3), Duration::from_secs(60)).is_none());
        assert_eq!(count(key(3)), 0);

        let (old, _old_peer) = connected_pair().await;
        put(key(4), old, 8, Duration::from_secs(60));
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(take(key(4), Duration::from_millis(10)).is_none());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_pool_keeps_at_most_its_capacity() {
        let mut peers = Vec::new();
        for _ in 0..3 {
            let (stream, peer) = connected_pair().await;
            peers.push(peer);
            put(key(5), stream, 2, Duration::from_secs(60));
        }
        assert_eq!(count(key(5)), 2);
        let (stream, _peer) = connected_pair().await;
        put(key(6), stream, 0, Duration::from_secs(60));
        assert_eq!(count(key(6)), 0);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_sweep_closes_dead_and_expired_connections_without_a_take() {
        let (dead, dead_peer) = connected_pair().await;
        let (old, _old_peer) = connected_pair().await;
        let (live, _live_peer) = connected_pair().await;
        put(key(7), dead, 8, Duration::from_secs(60));
        put(key(8), old, 8, Duration::from_millis(10));
        put(key(9), live, 8, Duration::from_secs(60));
        drop(dead_peer);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(sweep(Instant::now()), 1);
        assert_eq!((count(key(7)), count(key(8)), count(key(9))), (0, 0, 1));
        IDLE.with_borrow(|pools| assert_eq!(pools.len(), 1, "empty keys are dropped"));
        // The thread's sweep task runs on its own, and ends once nothing is idle.
        assert!(SWEEPING.get());
        let (peer_closes, closing_peer) = connected_pair().await;
        put(key(10), peer_closes, 8, Duration::from_secs(60));
        drop(closing_peer);
        drop(take(key(9), Duration::from_secs(60)));
        tokio::time::sleep(SWEEP_INTERVAL * 2 + Duration::from_millis(200)).await;
        assert_eq!(count(key(10)), 0);
        assert!(!SWEEPING.get());
    }

    #[test]
    fn keys_differ_by_trust_group_name_tls_and_address() {
        let address = SocketAddr::from(([127, 0, 0, 1], 443));
        let key = |url: &str, trust_group| PoolKey::new(&settings(url, trust_group), address);
        let base = key("https://provider.example/token", 1);
        // Same route again, e.g. after a reload: its idle connections stay usable.
        assert_eq!(base, key("https://provider.example/other-path", 1));
        assert_ne!(
            base,
            key("https://provider.example/token", 2),
            "trust group"
        );
        assert_ne!(base, key("https://other.example/token", 1), "server name");
        assert_ne!(base, key("http://provider.example:443/token", 1), "TLS");
        let elsewhere = SocketAddr::from(([127, 0, 0, 2], 443));
        assert_ne!(
            base,
            PoolKey::new(&settings("https://provider.example/token", 1), elsewhere),
            "address"
        );
    }
}
