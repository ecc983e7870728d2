//! The exchange with the provider: attempts over per-thread idle connections
//! or new ones from Pingora's connector, with the one retry policy a token
//! gateway can afford: an attempt is repeated only while the provider cannot
//! have received the whole request.

use std::net::SocketAddr;
use std::pin::Pin;
use std::time::{Duration, Instant};

use bytes::Bytes;
use pingora::connectors::TransportConnector;
use pingora::{Error, ErrorType};
use tokio::io::AsyncWriteExt;
use tokio::time::Sleep;

use crate::plan::TokenRoute;
use crate::telemetry::metrics::METRICS;
use crate::upstream::idle_connections::{self, PoolKey};
use crate::upstream::peers::build_peer;
use crate::upstream::provider_wire::read_answer;
use quirkgate_core::http1::ProviderAnswer;
use quirkgate_core::oauth_error::{FailureKind, OAuthError};

/// How exchanges reach providers: Pingora's connector for new connections
/// (TCP, TLS with the route's trust anchors), and per-thread idle pools.
pub struct ProviderConnector {
    pub transport: TransportConnector,
    /// Idle connections kept per worker thread and provider peer.
    pub idle_per_thread: usize,
}

/// What the exchange did, for the access log and metrics.
#[derive(Default, Debug)]
pub struct ExchangeReport {
    pub attempts: u32,
    pub reused_connection: bool,
    pub upstream_status: Option<u16>,
    pub upstream_elapsed: Duration,
}

/// Why an attempt failed, and whether the provider may have acted on it.
struct AttemptFailure {
    error: Box<Error>,
    /// The request was written in full: the provider may have consumed the code.
    sent: bool,
    reused: bool,
}

/// Why an attempt is made again: the `reason` label of `quirkgate_retries_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryReason {
    /// The connection could not be made (or its TLS handshake failed).
    Connect,
    /// A pooled connection failed before the request went out.
    StaleConnection,
    /// Another failure before the request was written in full.
    Unsent,
    /// After the full write, for a grant listed in `retry_after_send`.
    AfterSend,
}

impl RetryReason {
    pub const ALL: [RetryReason; 4] = [
        RetryReason::Connect,
        RetryReason::StaleConnection,
        RetryReason::Unsent,
        RetryReason::AfterSend,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RetryReason::Connect => "connect",
            RetryReason::StaleConnection => "stale_connection",
            RetryReason::Unsent => "unsent",
            RetryReason::AfterSend => "after_send",
        }
    }
}

/// How an upstream attempt failed, from Pingora's error type.
pub fn failure_kind(error: &Error) -> FailureKind {
    use ErrorType::*;
    match error.etype() {
        ConnectTimedout | ConnectRefused | ConnectNoRoute | ConnectError | BindError
        | SocketError | ConnectProxyFailure => FailureKind::Connect,
        TLSWantX509Lookup | TLSHandshakeFailure | TLSHandshakeTimedout | InvalidCert
        | HandshakeError => FailureKind::Tls,
        ReadTimedout | WriteTimedout => FailureKind::Timeout,
        ReadError | WriteError | ConnectionClosed => FailureKind::Reset,
        _ => FailureKind::Protocol,
    }
}

/// Runs the exchange within the route's `timeout`, retrying only what is safe:
/// failed connects (up to `retries`, with backoff, on the next address), a
/// write that failed on a pooled connection (once, at once, on a fresh
/// connection), and, for grants listed in `retry_after_send`, failures after
/// the write. A provider's close of a pooled connection usually shows only on
/// the read, after the request went out in full: that is never retried for a
/// code, which is why `idle_connections` checks a connection before handing it out.
///
/// `deadline` is a timer the caller owns (the fast path keeps one per
/// connection); it is set to the route's timeout here, so an exchange costs no
/// timer allocation.
pub async fn exchange(
    route: &TokenRoute,
    connector: &ProviderConnector,
    request: &Bytes,
    grant_type: Option<&str>,
    report: &mut ExchangeReport,
    mut deadline: Pin<&mut Sleep>,
) -> Result<ProviderAnswer, OAuthError> {
    let started = Instant::now();
    deadline
        .as_mut()
        .reset(tokio::time::Instant::from_std(started) + route.provider.timeout);
    let result = tokio::select! {
        biased;
        outcome = async {
            // A turn at the provider (`provider_concurrency`): waiting counts
            // against the timeout, and nothing is sent before it comes.
            let _turn = match &route.provider.turns {
                Some(turns) => Some(turns.acquire().await.expect("a route's turns are never closed")),
                None => None,
            };
            attempts(route, connector, request, grant_type, report).await
        } => Ok(outcome),
        () = deadline => Err(()),
    };
    report.upstream_elapsed = started.elapsed();
    route.metrics.upstream_exchanged(report.upstream_elapsed);
    match result {
        Ok(outcome) => outcome,
        Err(_) => {
            METRICS
                .upstream_errors
                .with_label_values(&[&route.name, FailureKind::Timeout.as_str()])
                .inc();
            Err(OAuthError::gateway_timeout())
        }
    }
}

async fn attempts(
    route: &TokenRoute,
    connector: &ProviderConnector,
    request: &Bytes,
    grant_type: Option<&str>,
    report: &mut ExchangeReport,
) -> Result<ProviderAnswer, OAuthError> {
    let replay_safe =
        grant_type.is_some_and(|g| route.provider.retry_after_send.iter().any(|r| r == g));
    let mut failures: u32 = 0;
    // Set once a pooled connection failed before the request went out: from then on, fresh ones.
    let mut force_fresh = false;
    loop {
        let Some(address) = route.provider.addresses.pick(failures) else {
            METRICS
                .upstream_errors
                .with_label_values(&[&route.name, FailureKind::Resolve.as_str()])
                .inc();
            return Err(OAuthError::bad_gateway(
                "the provider's host name has not resolved",
                FailureKind::Resolve,
            ));
        };
        report.attempts += 1;
        let failure = match attempt(route, connector, address, request, force_fresh, report).await {
            Ok(reply) => return Ok(reply),
            Err(failure) => failure,
        };
        let kind = failure_kind(&failure.error);
        METRICS
            .upstream_errors
            .with_label_values(&[&route.name, kind.as_str()])
            .inc();
        log::warn!(
            "route {} attempt {} to {address} failed ({}, request {}): {}",
            route.name,
            report.attempts,
            kind.as_str(),
            if failure.sent {
                "sent in full"
            } else {
                "not sent in full"
            },
            failure.error.etype().as_str()
        );
        if !failure.sent && failure.reused && !force_fresh {
            // A pooled connection the provider had closed: it never got the request.
            force_fresh = true;
            METRICS
                .retries
                .with_label_values(&[&route.name, RetryReason::StaleConnection.as_str()])
                .inc();
            continue;
        }
        if failure.sent && !replay_safe {
            return Err(OAuthError::bad_gateway(
                "the provider dropped the exchange after receiving it; it is not sent again because the code or refresh token may already be consumed",
                kind,
            ));
        }
        if failures >= route.provider.retries {
            return Err(OAuthError::bad_gateway(
                format!(
                    "the provider could not be reached ({}) after {} attempts",
                    kind.as_str(),
                    report.attempts
                ),
                kind,
            ));
        }
        failures += 1;
        let reason = if failure.sent {
            RetryReason::AfterSend
        } else if matches!(kind, FailureKind::Connect | FailureKind::Tls) {
            RetryReason::Connect
        } else {
            RetryReason::Unsent
        };
        METRICS
            .retries
            .with_label_values(&[&route.name, reason.as_str()])
            .inc();
        tokio::time::sleep(backoff(failures, route.provider.timeout)).await;
    }
}

async fn attempt(
    route: &TokenRoute,
    connector: &ProviderConnector,
    address: SocketAddr,
    request: &Bytes,
    force_fresh: bool,
    report: &mut ExchangeReport,
) -> Result<ProviderAnswer, AttemptFailure> {
    let key = PoolKey::new(&route.provider.peer, address);
    let pooled = if force_fresh {
        None
    } else {
        idle_connections::take(key, route.provider.peer.idle_timeout)
    };
    let (mut stream, reused) = match pooled {
        Some(stream) => (stream, true),
        None => {
            let peer = build_peer(&route.provider.upstream, address, &route.provider.peer);
            // Boxed: the connect future (TLS included) is large and rarely needed.
            let stream = Box::pin(connector.transport.new_stream(&peer))
                .await
                .map_err(|error| AttemptFailure {
                    error,
                    sent: false,
                    reused: false,
                })?;
            (stream, false)
        }
    };
    report.reused_connection = reused;
    route.metrics.connection_used(reused);
    let unsent = |e: std::io::Error| AttemptFailure {
        error: Error::because(ErrorType::WriteError, "writing the request", e),
        sent: false,
        reused,
    };
    // Head and body in one write: one syscall, as nginx's writev does.
    stream.write_all(request).await.map_err(unsent)?;
    stream.flush().await.map_err(unsent)?;
    // From here on the provider may have the whole request.
    let (answer, reusable) = read_answer(&mut stream)
        .await
        .map_err(|error| AttemptFailure {
            error,
            sent: true,
            reused,
        })?;
    report.upstream_status = Some(answer.status);
    route.metrics.upstream_answered(answer.status);
    if reusable {
        idle_connections::put(
            key,
            stream,
            connector.idle_per_thread,
            route.provider.peer.idle_timeout,
        );
    }
    Ok(answer)
}

/// Jittered exponential backoff: 50 ms, 100 ms, 200 ms… at most a quarter of
/// the route's timeout (and 1 s), so retries always fit inside it.
pub fn backoff(failures: u32, timeout: Duration) -> Duration {
    let cap = (timeout / 4).min(Duration::from_secs(1));
    let base = Duration::from_millis(50).saturating_mul(1 << failures.saturating_sub(1).min(10));
    let ceiling = base.min(cap);
    // Jitter in [50%, 100%] of the ceiling, from the clock's low bits.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    ceiling.mul_f64(0.5 + f64::from(nanos % 1000) / 2000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_inside_the_timeout() {
        let timeout = Duration::from_secs(10);
        assert!(backoff(1, timeout) <= Duration::from_millis(50));
        assert!(backoff(3, timeout) >= Duration::from_millis(100));
        for failures in 1..20 {
            assert!(backoff(failures, timeout) <= Duration::from_secs(1));
            assert!(backoff(failures, Duration::from_millis(400)) <= Duration::from_millis(100));
        }
    }

    #[test]
    fn error_kinds_are_bounded_labels() {
        let kind = |etype| failure_kind(&Error::new(etype)).as_str();
        assert_eq!(kind(ErrorType::ConnectRefused), "connect");
        assert_eq!(kind(ErrorType::InvalidCert), "tls");
        assert_eq!(kind(ErrorType::ReadTimedout), "timeout");
        assert_eq!(kind(ErrorType::ConnectionClosed), "reset");
        assert_eq!(kind(ErrorType::InvalidHTTPHeader), "protocol");
    }
}
