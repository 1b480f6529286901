//! What remote calls return: errors (already free of secrets), the outcome
//! of a store, and the per-run counters `stats` reports.

use std::fmt;
use std::time::Duration;

use thiserror::Error;

/// Every message here is already free of the password and URL userinfo.
#[derive(Debug, Error)]
pub enum RemoteError {
    #[error("remote cache {url}: invalid URL: {message}")]
    BadUrl { url: String, message: String },
    #[error("remote cache {url}: cannot connect: {message}")]
    Connect { url: String, message: String },
    #[error("remote cache {url}: {op} failed: {message}")]
    Command { url: String, op: &'static str, message: String },
    /// The remote was disabled by an earlier error of this run.
    #[error("remote cache skipped for this run after an earlier error ({cause})")]
    Disabled { cause: String },
    /// The stored value is larger than the caller accepts: a miss.
    #[error("remote value of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: u64, max: u64 },
    /// The value is unsigned or its signature does not verify: a miss.
    #[error("remote value is unsigned or its signature does not verify")]
    BadSignature,
    #[error("remote cache is read-only")]
    ReadOnly,
    /// The backend has no cross-machine lock; the local lock alone guards.
    #[error("remote cache has no cross-machine lock")]
    NoLock,
    #[error("not a cache key: {0:?}")]
    BadKey(String),
    /// Reading or writing the local file; the remote stays enabled.
    #[error("remote transfer: local file: {0}")]
    Local(#[source] std::io::Error),
}

impl RemoteError {
    /// Whether the server itself failed (fail-fast then disables the remote).
    pub fn is_server_failure(&self) -> bool {
        matches!(
            self,
            RemoteError::BadUrl { .. } | RemoteError::Connect { .. } | RemoteError::Command { .. }
        )
    }

    /// Whether the call failed, as opposed to being declined by policy
    /// (disabled, read-only, no lock) or refused up front (a bad key).
    pub fn counts(&self) -> bool {
        !matches!(
            self,
            RemoteError::Disabled { .. }
                | RemoteError::ReadOnly
                | RemoteError::NoLock
                | RemoteError::BadKey(_)
                | RemoteError::BadSignature
        )
    }
}

/// What a store call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Written,
    Skipped(SkipReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    ReadOnly,
    TooLarge {
        len: u64,
        max: u64,
    },
    /// The TTL left is zero: nothing worth sharing.
    Expired,
}

impl SkipReason {
    /// Why a value of `len` bytes living `lifetime` (`None`: forever) is not
    /// worth uploading to a store that takes at most `max` bytes.
    pub fn for_upload(len: u64, max: u64, lifetime: Option<Duration>) -> Option<SkipReason> {
        if len > max {
            Some(SkipReason::TooLarge { len, max })
        } else if lifetime.is_some_and(|ttl| ttl.as_millis() == 0) {
            Some(SkipReason::Expired)
        } else {
            None
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::ReadOnly => f.write_str("remote is read-only"),
            SkipReason::TooLarge { len, max } => {
                write!(f, "entry of {len} bytes is over remote_max_entry_size ({max})")
            }
            SkipReason::Expired => f.write_str("entry has already expired"),
        }
    }
}

/// What a remote did so far (this process only; nothing is counted on the
/// server).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoteCounters {
    /// `fetch` calls that copied a value (before the caller verified it).
    pub fetched: u64,
    /// `fetch` calls that found nothing.
    pub missed: u64,
    /// `store` calls that wrote an entry.
    pub stored: u64,
    /// Calls that failed, `Disabled` and `ReadOnly` aside.
    pub errors: u64,
}
