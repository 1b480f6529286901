//! Where entries live. `disk` is the only backend today; the trait is what a
//! remote tier (Redis) slots into later. Synchronous on purpose: a CLI needs
//! no async runtime.

mod beneath;
pub mod disk;
pub mod inventory;
pub(crate) mod layout;
pub mod lock;
pub mod remote;
pub mod statcache;
pub mod usage;
mod verify;

use std::fs::File;
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

use crate::entry::{DecodeError, Header};
use crate::key::Key;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("refusing cache dir {path}: {reason}")]
    UnsafeRoot { path: PathBuf, reason: String },
    #[error("cache dir {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("corrupt entry {path}: {source}")]
    Corrupt { path: PathBuf, source: DecodeError },
}

impl StoreError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> StoreError {
        StoreError::Io { path: path.into(), source }
    }
}

/// A complete, verified entry ready to replay.
pub struct StoredEntry {
    pub file: File,
    pub header: Header,
    pub age: Duration,
    /// The whole file when it was small enough to read in one go; replay then
    /// writes from memory instead of asking the kernel to copy again.
    pub contents: Option<Vec<u8>>,
}

/// An entry being written: a private temp file that becomes visible only
/// when published.
pub struct PendingEntry {
    pub file: File,
    pub(crate) temp_path: PathBuf,
    pub(crate) final_path: PathBuf,
    /// The key the entry answers: the writer stamps it into the header.
    pub(crate) key: crate::key::Key,
}

impl PendingEntry {
    /// The directory the entry is written in (for spill files beside it).
    pub fn temp_dir(&self) -> &std::path::Path {
        self.temp_path.parent().unwrap_or(std::path::Path::new("."))
    }
}

pub trait Store {
    /// The entry for `key`, verified; `Ok(None)` when absent.
    fn lookup(&self, key: &Key) -> Result<Option<StoredEntry>, StoreError>;
    /// Starts a new entry for `key`; nothing is visible until `publish`.
    fn begin(&self, key: &Key) -> Result<PendingEntry, StoreError>;
    /// Atomically replaces any entry for the same key.
    fn publish(&self, pending: PendingEntry) -> Result<(), StoreError>;
    /// Forgets `key`; whether there was an entry.
    fn remove(&self, key: &Key) -> Result<bool, StoreError>;
    /// Forgets every entry; how many there were.
    fn clear(&self) -> Result<usize, StoreError>;
}
