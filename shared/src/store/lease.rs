//! How every operation of the store meets the database: on a connection leased from the
//! pool, under a deadline, and with one retry when a connection turns out to be dead.
//!
//! A connection whose operation timed out or failed at the connection level is discarded,
//! never returned to the pool: sqlx would ping it first, and a peer that went silent (a
//! partition, a failover) never answers. Connections that were idle when such a failure was
//! seen are probed, with a short deadline, before they are used again.

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::pool::{PoolConnection, PoolConnectionMetadata};
use sqlx::{Connection, Database, Pool, Transaction};

use crate::error::{BoxError, Error, Result};

/// How long a connection that may predate a failure gets to answer a ping.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// When the store last saw a connection fail: the connections idle since before then are
/// suspect.
#[derive(Debug, Default)]
pub(super) struct FailureClock {
    last: Mutex<Option<Instant>>,
}

impl FailureClock {
    fn failed(&self) {
        *self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Instant::now());
    }

    /// Whether a connection idle for `idle_for` was already idle when a failure was seen.
    fn suspects(&self, idle_for: Duration) -> bool {
        let last = *self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        last.is_some_and(|failed| Instant::now().checked_sub(idle_for) <= Some(failed))
    }

    /// The pool's `before_acquire` hook: a suspect connection must answer a ping first.
    pub(super) fn check<'c, C: Connection>(
        &self,
        connection: &'c mut C,
        meta: PoolConnectionMetadata,
    ) -> futures_util::future::BoxFuture<'c, sqlx::Result<bool>> {
        let suspect = self.suspects(meta.idle_for);
        Box::pin(async move {
            if !suspect {
                return Ok(true);
            }
            match tokio::time::timeout(PROBE_TIMEOUT, connection.ping()).await {
                Ok(Ok(())) => Ok(true),
                // An error closes the connection without the courtesy of a goodbye.
                Ok(Err(err)) => Err(err),
                Err(_) => Err(sqlx::Error::Io(std::io::ErrorKind::TimedOut.into())),
            }
        })
    }
}

/// A pooled connection that goes back to the pool only when its operation ended cleanly.
pub(super) struct Lease<DB: Database> {
    connection: Option<PoolConnection<DB>>,
    clean: bool,
}

impl<DB: Database> Lease<DB> {
    pub(super) async fn acquire(pool: &Pool<DB>) -> Result<Self> {
        Ok(Self {
            connection: Some(pool.acquire().await?),
            clean: false,
        })
    }

    /// Lets the connection go back to the pool, unless `outcome` says it is broken.
    pub(super) fn settle<T>(&mut self, outcome: &Result<T>) {
        self.clean = outcome
            .as_ref()
            .err()
            .is_none_or(|err| failure(err) == Failure::None);
    }
}

impl<DB: Database> Deref for Lease<DB> {
    type Target = PoolConnection<DB>;

    fn deref(&self) -> &PoolConnection<DB> {
        self.connection.as_ref().expect("leased until dropped")
    }
}

impl<DB: Database> DerefMut for Lease<DB> {
    fn deref_mut(&mut self) -> &mut PoolConnection<DB> {
        self.connection.as_mut().expect("leased until dropped")
    }
}

impl<DB: Database> Drop for Lease<DB> {
    fn drop(&mut self) {
        if !self.clean
            && let Some(connection) = self.connection.take()
        {
            // Detached, the pool may open a replacement at once; dropping the connection
            // closes its socket without sending anything.
            drop(connection.detach());
        }
    }
}

/// What a failed operation says about its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    /// The connection is fine (a constraint, a bad value).
    None,
    /// The connection is broken; `retry` when nothing the operation sent can have taken effect.
    Connection { retry: bool },
}

fn failure(err: &Error) -> Failure {
    let Error::Unavailable { source, .. } = err else {
        return Failure::None;
    };
    if source.is::<CommitInDoubt>() {
        return Failure::Connection { retry: false };
    }
    match source.downcast_ref::<sqlx::Error>() {
        Some(err) if crate::error::is_connection_failure(err) => {
            Failure::Connection { retry: true }
        }
        _ => Failure::None,
    }
}

/// A `COMMIT` whose connection failed: it may or may not have taken effect, so the operation
/// is never retried.
#[derive(Debug, thiserror::Error)]
#[error("the outcome of a commit is unknown")]
struct CommitInDoubt(#[source] sqlx::Error);

/// Commits `tx`; a connection failure on the way is a [`CommitInDoubt`].
pub(super) async fn commit<DB: Database>(tx: Transaction<'_, DB>) -> Result<()> {
    tx.commit().await.map_err(|err| {
        if crate::error::is_connection_failure(&err) {
            Error::unavailable("database", CommitInDoubt(err))
        } else {
            err.into()
        }
    })
}

/// A store operation that did not finish within its deadline.
#[derive(Debug, thiserror::Error)]
#[error("no answer within {0:?}")]
struct DeadlineExceeded(Duration);

/// The attempts of one operation: all of them (the waits for a connection included) within
/// one deadline, and a second one only after a connection-level failure that cannot have
/// taken effect. [`super::with_db!`] drives them.
pub(super) struct Attempts<'a> {
    clock: &'a FailureClock,
    deadline: Duration,
    until: tokio::time::Instant,
    retried: bool,
}

/// What to do after an attempt.
pub(super) enum Step<T> {
    Done(Result<T>),
    Retry,
}

impl<'a> Attempts<'a> {
    pub(super) fn new(clock: &'a FailureClock, deadline: Duration) -> Self {
        Self {
            clock,
            deadline,
            until: tokio::time::Instant::now() + deadline,
            retried: false,
        }
    }

    pub(super) fn until(&self) -> tokio::time::Instant {
        self.until
    }

    pub(super) fn judge<T>(
        &mut self,
        attempt: std::result::Result<Result<T>, tokio::time::error::Elapsed>,
    ) -> Step<T> {
        let outcome = match attempt {
            Ok(outcome) => outcome,
            Err(_) => {
                self.clock.failed();
                let cause: BoxError = Box::new(DeadlineExceeded(self.deadline));
                return Step::Done(Err(Error::Unavailable {
                    dependency: "database",
                    source: cause,
                }));
            }
        };
        let Err(err) = &outcome else {
            return Step::Done(outcome);
        };
        match failure(err) {
            Failure::None => Step::Done(outcome),
            Failure::Connection { retry } => {
                self.clock.failed();
                if !retry || self.retried {
                    return Step::Done(outcome);
                }
                tracing::warn!(error = %crate::error::WithCauses(err), "retrying on another connection");
                self.retried = true;
                Step::Retry
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_idle_since_before_a_failure_are_suspect() {
        let clock = FailureClock::default();
        assert!(!clock.suspects(Duration::from_secs(3600)));
        clock.failed();
        assert!(clock.suspects(Duration::from_secs(1)));
        std::thread::sleep(Duration::from_millis(5));
        // Released (and so tested by its ping) after the failure: fine.
        assert!(!clock.suspects(Duration::from_millis(1)));
    }

    #[test]
    fn only_connection_failures_discard_and_commits_are_never_retried() {
        let broken = Error::from(sqlx::Error::Io(std::io::ErrorKind::BrokenPipe.into()));
        assert_eq!(failure(&broken), Failure::Connection { retry: true });
        let in_doubt = Error::unavailable(
            "database",
            CommitInDoubt(sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into())),
        );
        assert_eq!(failure(&in_doubt), Failure::Connection { retry: false });
        assert_eq!(
            failure(&Error::from(sqlx::Error::PoolTimedOut)),
            Failure::None
        );
        assert_eq!(failure(&Error::NotFound("x")), Failure::None);
        assert_eq!(
            failure(&Error::from(sqlx::Error::RowNotFound)),
            Failure::None
        );
    }
}
