//! Hit and miss counts, kept off the hit path's critical work: a hit appends
//! one fixed-size record to a journal (`open(O_APPEND)` + one `write`, atomic
//! between concurrent appenders), and `gc` folds the journal into a compact
//! summary file. `list` and `stats` read both.
//!
//! Counts are statistics, not data: a record lost to a crash or to a race
//! with compaction makes a count slightly low, never an output wrong.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::disk::DiskStore;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::key::Key;

const RECORD_LEN: usize = 48;
const SUMMARY_MAGIC: &[u8; 8] = b"CCUSAGE2";
const SUMMARY_HEADER_LEN: usize = 48;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Hit = 1,
    Miss = 2,
    /// A hit served from the remote tier (also counted as a hit).
    RemoteHit = 3,
    /// A run in which the remote tier failed.
    RemoteError = 4,
}

/// Use of one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyUsage {
    pub hits: u64,
    /// Seconds since the epoch of the last hit; 0 when never hit.
    pub last_hit: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub remote_hits: u64,
    pub remote_errors: u64,
    pub keys: HashMap<Key, KeyUsage>,
}

fn journal_path(v1: &Path) -> PathBuf {
    v1.join("journal")
}

fn summary_path(v1: &Path) -> PathBuf {
    v1.join("usage")
}

pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Appends one event; failures are ignored (statistics never fail a run).
pub fn record(store: &DiskStore, event: Event, key: &Key) {
    let mut record = [0u8; RECORD_LEN];
    record[..32].copy_from_slice(key.bytes());
    record[32..40].copy_from_slice(&now_secs().to_le_bytes());
    record[40] = event as u8;
    let flags = libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT;
    let _ = store
        .open_in(&journal_path(&store.v1()), flags, 0o600)
        .and_then(|mut journal| journal.write_all(&record));
}

impl Usage {
    /// The summary plus whatever the journal holds since the last compaction.
    pub fn load(store: &DiskStore) -> Usage {
        let v1 = store.v1();
        let mut usage = Usage::default();
        if let Ok(bytes) = store.read_in(&summary_path(&v1)) {
            usage.read_summary(&bytes);
        }
        if let Ok(bytes) = store.read_in(&journal_path(&v1)) {
            usage.read_journal(&bytes);
        }
        usage
    }

    fn read_summary(&mut self, bytes: &[u8]) {
        if bytes.len() < SUMMARY_HEADER_LEN || &bytes[..8] != SUMMARY_MAGIC {
            return;
        }
        self.hits += u64_at(bytes, 8);
        self.misses += u64_at(bytes, 16);
        self.evictions += u64_at(bytes, 24);
        self.remote_hits += u64_at(bytes, 32);
        self.remote_errors += u64_at(bytes, 40);
        for record in bytes[SUMMARY_HEADER_LEN..].chunks_exact(RECORD_LEN) {
            let Some(key) = Key::from_slice(&record[..32]) else {
                continue;
            };
            let entry = self.keys.entry(key).or_default();
            entry.hits += u64_at(record, 32);
            entry.last_hit = entry.last_hit.max(u64_at(record, 40));
        }
    }

    /// A torn final record (a crash mid-append) is ignored by `chunks_exact`.
    fn read_journal(&mut self, bytes: &[u8]) {
        for record in bytes.chunks_exact(RECORD_LEN) {
            let Some(key) = Key::from_slice(&record[..32]) else {
                continue;
            };
            let at = u64_at(record, 32);
            match record[40] {
                3 => self.remote_hits += 1,
                4 => self.remote_errors += 1,
                _ => {}
            }
            match record[40] {
                1 | 3 => {
                    self.hits += 1;
                    let entry = self.keys.entry(key).or_default();
                    entry.hits += 1;
                    entry.last_hit = entry.last_hit.max(at);
                }
                2 => self.misses += 1,
                _ => {}
            }
        }
    }

    pub fn key(&self, key: &Key) -> KeyUsage {
        self.keys.get(key).copied().unwrap_or_default()
    }

    /// Folds the journal into the summary, keeping only `live` keys. The
    /// journal is renamed aside first so appends racing with us start a new
    /// one instead of being truncated away.
    pub fn compact(
        store: &DiskStore,
        live: &dyn Fn(&Key) -> bool,
        evicted: u64,
    ) -> std::io::Result<()> {
        store.verify_tree().map_err(|e| std::io::Error::other(e.to_string()))?;
        let v1 = &store.v1();
        let journal = journal_path(v1);
        let aside = v1.join(format!("journal.{}", std::process::id()));
        let moved = fs::rename(&journal, &aside).is_ok();
        let mut usage = Usage::default();
        if let Ok(bytes) = store.read_in(&summary_path(v1)) {
            usage.read_summary(&bytes);
        }
        if moved {
            if let Ok(bytes) = store.read_in(&aside) {
                usage.read_journal(&bytes);
            }
        }
        usage.evictions += evicted;
        usage.keys.retain(|key, _| live(key));
        let mut out = Vec::with_capacity(SUMMARY_HEADER_LEN + usage.keys.len() * RECORD_LEN);
        out.extend_from_slice(SUMMARY_MAGIC);
        for total in
            [usage.hits, usage.misses, usage.evictions, usage.remote_hits, usage.remote_errors]
        {
            out.extend_from_slice(&total.to_le_bytes());
        }
        for (key, use_) in &usage.keys {
            out.extend_from_slice(key.bytes());
            out.extend_from_slice(&use_.hits.to_le_bytes());
            out.extend_from_slice(&use_.last_hit.to_le_bytes());
        }
        let written = super::disk::replace_private_file(&summary_path(v1), &out);
        if moved {
            let _ = fs::remove_file(&aside);
        }
        written
    }
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    bytes.get(at..at + 8).and_then(|b| b.try_into().ok()).map_or(0, u64::from_le_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;

    fn key(n: u8) -> Key {
        Key::from_slice(&[n; 32]).unwrap()
    }

    #[test]
    fn journal_and_summary_add_up() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskStore::open_or_create(&dir.path().join("root")).unwrap();
        std::fs::create_dir_all(store.v1()).unwrap();
        record(&store, Event::Hit, &key(1));
        record(&store, Event::Hit, &key(1));
        record(&store, Event::Miss, &key(2));
        let before = Usage::load(&store);
        assert_eq!((before.hits, before.misses), (2, 1));
        assert_eq!(before.key(&key(1)).hits, 2);

        Usage::compact(&store, &|_| true, 3).unwrap();
        record(&store, Event::Hit, &key(1));
        let after = Usage::load(&store);
        assert_eq!((after.hits, after.misses, after.evictions), (3, 1, 3));
        assert_eq!(after.key(&key(1)).hits, 3);
    }

    #[test]
    fn compaction_drops_dead_keys_and_torn_records_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskStore::open_or_create(&dir.path().join("root")).unwrap();
        std::fs::create_dir_all(store.v1()).unwrap();
        record(&store, Event::Hit, &key(1));
        record(&store, Event::Hit, &key(2));
        let mut journal = OpenOptions::new().append(true).open(journal_path(&store.v1())).unwrap();
        journal.write_all(&[7; 20]).unwrap();
        Usage::compact(&store, &|k| *k == key(1), 0).unwrap();
        let usage = Usage::load(&store);
        assert_eq!(usage.key(&key(2)).hits, 0);
        assert_eq!(usage.key(&key(1)).hits, 1);
        assert_eq!(usage.hits, 2);
    }
}
