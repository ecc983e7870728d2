//! The optional shared store (Redis or Valkey) that lets replicas agree:
//! codes claimed once fleet-wide, long login contexts kept behind short
//! handles, and fleet-wide rate-limit windows. Absent from the plan when no
//! `store:` is configured, so nothing here runs on such a gateway's request path.
//!
//! Connections are made on first use and made again after a failure (never
//! more often than every [`RECONNECT_PAUSE`]), so a store that comes back is
//! used again without a restart. Every command is bounded by the command
//! timeout; its latency and failures are counted under closed label sets.

pub(crate) mod code_claim;
pub(crate) mod keys;
pub(crate) mod login_context;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use redis::aio::MultiplexedConnection;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, Client, Cmd, FromRedisValue, RedisError, Script};

use crate::telemetry::metrics::METRICS;

/// After a failed connect, callers fail fast for this long instead of each
/// trying again: a store that is down costs the request path nothing.
pub(crate) const RECONNECT_PAUSE: Duration = Duration::from_millis(250);

/// How a store is reached.
pub(crate) enum StoreTarget {
    /// One server (or a proxy in front of several).
    Standalone(Client),
    /// The master Sentinel names, asked again on each connect.
    Sentinel(tokio::sync::Mutex<redis::sentinel::SentinelClient>),
    /// A Redis Cluster, from its seed nodes.
    Cluster(redis::cluster::ClusterClient),
}

/// What a refused store call gives up on: the `on_store_error` policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnStoreError {
    /// Refuse with `temporarily_unavailable` (the default).
    Refuse,
    /// Fall back to this replica's own memory.
    Allow,
}

/// The compiled `store:` block.
pub(crate) struct StoreSettings {
    pub target: StoreTarget,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    pub pool_size: usize,
    pub on_error: OnStoreError,
}

/// What a store call was for: the `op` label of the store's metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StoreOp {
    ClaimCode,
    RateLimit,
    PutContext,
    TakeContext,
    Ping,
}

impl StoreOp {
    pub(crate) const ALL: [StoreOp; 5] = [
        StoreOp::ClaimCode,
        StoreOp::RateLimit,
        StoreOp::PutContext,
        StoreOp::TakeContext,
        StoreOp::Ping,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StoreOp::ClaimCode => "claim_code",
            StoreOp::RateLimit => "rate_limit",
            StoreOp::PutContext => "put_context",
            StoreOp::TakeContext => "take_context",
            StoreOp::Ping => "ping",
        }
    }
}

/// Why a store call failed: the `kind` label of `quirkgate_store_errors_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StoreFailure {
    /// No answer within the command timeout (or no connection within the connect timeout).
    Timeout,
    /// The store could not be reached, or the connection broke.
    Connection,
    /// The store answered with an error (auth, cluster state, script).
    Refused,
}

impl StoreFailure {
    pub(crate) const ALL: [StoreFailure; 3] = [
        StoreFailure::Timeout,
        StoreFailure::Connection,
        StoreFailure::Refused,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StoreFailure::Timeout => "timeout",
            StoreFailure::Connection => "connection",
            StoreFailure::Refused => "refused",
        }
    }

    fn of(error: &RedisError) -> Self {
        if error.is_timeout() {
            StoreFailure::Timeout
        } else if error.is_io_error()
            || error.is_connection_dropped()
            || error.is_connection_refusal()
            || error.is_unrecoverable_error()
        {
            StoreFailure::Connection
        } else {
            StoreFailure::Refused
        }
    }
}

/// One connection, shared by every request it serves (commands are pipelined).
#[derive(Clone)]
enum Connection {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

/// One of the pool's connections: held while it works, dropped when it fails.
#[derive(Default)]
struct Slot {
    connection: ArcSwapOption<Connection>,
    /// Held while connecting, so one caller connects and the others wait for it.
    connecting: tokio::sync::Mutex<Option<Instant>>,
}

/// The shared store and its connections.
pub(crate) struct Store {
    settings: StoreSettings,
    slots: Vec<Slot>,
    next: AtomicUsize,
}

/// The fleet rate-limit script: counts one request in each window key and
/// answers the 1-based index of the first budget spent (0: admitted). A key
/// after a refusing one is not counted, as the per-replica counting does.
const COUNT_WINDOWS: &str = r"
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('PEXPIRE', key, ARGV[#ARGV]) end
  if n > tonumber(ARGV[i]) then return i end
end
return 0
";

static COUNT_WINDOWS_SCRIPT: std::sync::LazyLock<Script> =
    std::sync::LazyLock::new(|| Script::new(COUNT_WINDOWS));

impl Store {
    pub(crate) fn new(settings: StoreSettings) -> Arc<Self> {
        // `rediss://` uses rustls: the provider the rest of the gateway uses.
        pingora::tls::install_default_crypto_provider();
        let slots = (0..settings.pool_size.max(1))
            .map(|_| Slot::default())
            .collect();
        for op in StoreOp::ALL {
            METRICS.store_duration.with_label_values(&[op.as_str()]);
            for kind in StoreFailure::ALL {
                METRICS
                    .store_errors
                    .with_label_values(&[op.as_str(), kind.as_str()]);
            }
        }
        for (used, outcome) in [
            ("claim_code", "refused"),
            ("claim_code", "replica_memory"),
            ("rate_limit", "replica_count"),
        ] {
            METRICS.store_fallbacks.with_label_values(&[used, outcome]);
        }
        Arc::new(Store {
            settings,
            slots,
            next: AtomicUsize::new(0),
        })
    }

    pub(crate) fn on_error(&self) -> OnStoreError {
        self.settings.on_error
    }

    /// `SET key 1 NX PX ttl`: `true` for the one caller that set it.
    pub(crate) async fn claim(&self, key: &str, ttl: Duration) -> Result<bool, StoreFailure> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key)
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64);
        let set: Option<String> = self.run(StoreOp::ClaimCode, &cmd).await?;
        Ok(set.is_some())
    }

    /// Keeps `value` under `key` for `ttl` (`SET key value PX ttl`).
    pub(crate) async fn put_context(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<(), StoreFailure> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key)
            .arg(value)
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64);
        let _: String = self.run(StoreOp::PutContext, &cmd).await?;
        Ok(())
    }

    /// Takes the value under `key` exactly once (`GETDEL`).
    pub(crate) async fn take_context(&self, key: &str) -> Result<Option<Vec<u8>>, StoreFailure> {
        let mut cmd = redis::cmd("GETDEL");
        cmd.arg(key);
        self.run(StoreOp::TakeContext, &cmd).await
    }

    /// Counts one request in each window key against its budget, in one
    /// round trip: `Some(i)` when budget `i` (0-based) is spent.
    pub(crate) async fn count_windows(
        &self,
        keys: &[String],
        limits: &[u32],
        window: Duration,
    ) -> Result<Option<usize>, StoreFailure> {
        let mut invocation = COUNT_WINDOWS_SCRIPT.prepare_invoke();
        for (key, limit) in keys.iter().zip(limits) {
            invocation.key(key).arg(*limit);
        }
        // Kept a window past its end, so a late replica's count still lands in it.
        invocation.arg(2 * window.as_millis() as u64);
        let refused: usize = self
            .timed(StoreOp::RateLimit, |mut connection| async move {
                match &mut connection {
                    Connection::Single(c) => invocation.invoke_async(c).await,
                    Connection::Cluster(c) => invocation.invoke_async(c).await,
                }
            })
            .await?;
        Ok(refused.checked_sub(1))
    }

    /// `PING`: whether the store answers now (`/readyz`).
    pub(crate) async fn ping(&self) -> Result<(), StoreFailure> {
        let _: String = self.run(StoreOp::Ping, &redis::cmd("PING")).await?;
        Ok(())
    }

    async fn run<T: FromRedisValue + Send + 'static>(
        &self,
        op: StoreOp,
        cmd: &Cmd,
    ) -> Result<T, StoreFailure> {
        self.timed(op, |mut connection| async move {
            match &mut connection {
                Connection::Single(c) => cmd.query_async(c).await,
                Connection::Cluster(c) => cmd.query_async(c).await,
            }
        })
        .await
    }

    /// One command on the pool's next connection, within the command timeout
    /// (a connect first, if needed, within the connect timeout); timed and
    /// its failure counted. A connection that failed is dropped.
    async fn timed<T, F, Fut>(&self, op: StoreOp, command: F) -> Result<T, StoreFailure>
    where
        F: FnOnce(Connection) -> Fut,
        Fut: std::future::Future<Output = Result<T, RedisError>>,
    {
        let started = Instant::now();
        let slot = &self.slots[self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len()];
        let outcome = async {
            let connection = self.connection(slot).await?;
            match tokio::time::timeout(self.settings.command_timeout, command(connection)).await {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(error)) => {
                    let failure = StoreFailure::of(&error);
                    if failure == StoreFailure::Connection {
                        slot.connection.store(None);
                    }
                    Err(failure)
                }
                Err(_) => Err(StoreFailure::Timeout),
            }
        }
        .await;
        METRICS
            .store_duration
            .with_label_values(&[op.as_str()])
            .observe(started.elapsed().as_secs_f64());
        if let Err(failure) = &outcome {
            METRICS
                .store_errors
                .with_label_values(&[op.as_str(), failure.as_str()])
                .inc();
        }
        outcome
    }

    /// The slot's connection, made now if it has none (one caller connects;
    /// within [`RECONNECT_PAUSE`] of a failed connect, callers fail at once).
    async fn connection(&self, slot: &Slot) -> Result<Connection, StoreFailure> {
        if let Some(connection) = slot.connection.load_full() {
            return Ok((*connection).clone());
        }
        let mut failed_at = slot.connecting.lock().await;
        if let Some(connection) = slot.connection.load_full() {
            return Ok((*connection).clone());
        }
        if failed_at.is_some_and(|at| at.elapsed() < RECONNECT_PAUSE) {
            return Err(StoreFailure::Connection);
        }
        match tokio::time::timeout(self.settings.connect_timeout, self.connect()).await {
            Ok(Ok(connection)) => {
                *failed_at = None;
                slot.connection.store(Some(Arc::new(connection.clone())));
                Ok(connection)
            }
            Ok(Err(error)) => {
                *failed_at = Some(Instant::now());
                // The kind only: an error's text may quote a command.
                let failure = StoreFailure::of(&error);
                log::warn!(target: "quirkgate::store", "store connect failed: {}", failure.as_str());
                Err(failure)
            }
            Err(_) => {
                *failed_at = Some(Instant::now());
                log::warn!(target: "quirkgate::store", "store connect timed out");
                Err(StoreFailure::Timeout)
            }
        }
    }

    async fn connect(&self) -> Result<Connection, RedisError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.settings.connect_timeout))
            .set_response_timeout(Some(self.settings.command_timeout));
        match &self.settings.target {
            StoreTarget::Standalone(client) => client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .map(Connection::Single),
            StoreTarget::Sentinel(sentinel) => sentinel
                .lock()
                .await
                .get_async_connection_with_config(&config)
                .await
                .map(Connection::Single),
            StoreTarget::Cluster(client) => {
                client.get_async_connection().await.map(Connection::Cluster)
            }
        }
    }
}
