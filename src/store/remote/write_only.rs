//! `--remote-mode write-only`: a decorator that never fetches (every lookup
//! is a remote miss, so nothing from the store is ever served) and passes
//! writes (entries, locks) through, for trusted writers that must not trust
//! what is already there.

use std::fs::File;
use std::time::Duration;

use super::forward::forward_to_inner;
use super::keys::check_key;
use super::{RemoteError, RemoteStore, Stored};

pub struct WriteOnly {
    inner: Box<dyn RemoteStore>,
}

impl WriteOnly {
    pub fn new(inner: Box<dyn RemoteStore>) -> WriteOnly {
        WriteOnly { inner }
    }
}

impl RemoteStore for WriteOnly {
    forward_to_inner!(redacted_url, lock, list_keys, clear, is_disabled, last_error, counters);

    fn fetch(&self, key_hex: &str, dest: &mut File, _: u64) -> Result<bool, RemoteError> {
        check_key(key_hex)?;
        dest.set_len(0).map_err(RemoteError::Local)?;
        Ok(false)
    }

    fn store(
        &self,
        key_hex: &str,
        src: &File,
        len: u64,
        lifetime: Option<Duration>,
    ) -> Result<Stored, RemoteError> {
        self.inner.store(key_hex, src, len, lifetime)
    }
}
