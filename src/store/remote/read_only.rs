//! `--remote-read-only`: a decorator that serves reads from any backend and
//! declines every write (entries, locks, clear) without reaching it.

use std::fs::File;
use std::time::Duration;

use super::forward::forward_to_inner;
use super::keys::check_key;
use super::{RemoteError, RemoteLock, RemoteStore, SkipReason, Stored};

pub struct ReadOnly {
    inner: Box<dyn RemoteStore>,
}

impl ReadOnly {
    pub fn new(inner: Box<dyn RemoteStore>) -> ReadOnly {
        ReadOnly { inner }
    }
}

impl RemoteStore for ReadOnly {
    forward_to_inner!(redacted_url, fetch, list_keys, is_disabled, last_error, counters);

    fn store(
        &self,
        key_hex: &str,
        _: &File,
        _: u64,
        _: Option<Duration>,
    ) -> Result<Stored, RemoteError> {
        check_key(key_hex)?;
        Ok(Stored::Skipped(SkipReason::ReadOnly))
    }

    fn lock(
        &self,
        key_hex: &str,
        _: Duration,
        _: Duration,
    ) -> Result<Option<RemoteLock<'_>>, RemoteError> {
        check_key(key_hex)?;
        Err(RemoteError::ReadOnly)
    }

    fn clear(&self) -> Result<u64, RemoteError> {
        Err(RemoteError::ReadOnly)
    }

    fn is_read_only(&self) -> bool {
        true
    }
}
