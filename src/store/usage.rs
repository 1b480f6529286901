//! Hit and miss counts, kept off the hit path's critical work: a hit appends
//! one fixed-size record to a journal (`open(O_APPEND)` + one `write`, atomic
//! between concurrent appenders), and `gc` folds the journal into a compact
//! summary file. `list` and `stats` read both.
//!
//! Both files are streamed in fixed-size records, never read whole, and
//! folded into totals plus a map holding only keys that still have an
//! entry: memory is bounded by the cache, whatever the journal's size. A
//! cache that only ever gets hits still compacts: the append that takes the
//! journal past `COMPACT_AT` (an `fstat` of the appended file) compacts it.
//! Every decoded value is range-checked: a record with an unknown event,
//! non-zero padding or a timestamp outside `PLAUSIBLE` is skipped, and
//! totals saturate.
//!
//! Counts are statistics, not data: a record lost to a crash or to a race
//! with compaction makes a count slightly low, never an output wrong.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use super::disk::DiskStore;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::key::Key;

const RECORD_LEN: usize = 48;
/// Version 3 of the summary: its header holds `remote_rejected` too.
const SUMMARY_MAGIC: &[u8; 8] = b"CCUSAGE3";
const SUMMARY_HEADER_LEN: usize = 56;
/// Version 2 (no `remote_rejected`) is still read; the next compaction
/// rewrites it as version 3.
const SUMMARY_V2_MAGIC: &[u8; 8] = b"CCUSAGE2";
const SUMMARY_V2_HEADER_LEN: usize = 48;
/// A journal past this size (about 170,000 records) is compacted by the
/// append that grew it.
pub const COMPACT_AT: u64 = 8 << 20;
/// Timestamps before 2001 or more than a day ahead of the clock are damage.
const PLAUSIBLE_FROM: u64 = 978_307_200;
const CLOCK_SLACK: u64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Hit = 1,
    Miss = 2,
    /// A hit served from the remote tier (also counted as a hit).
    RemoteHit = 3,
    /// A run in which the remote tier failed.
    RemoteError = 4,
    /// A remote value refused: unsigned, mis-signed or corrupt (a miss).
    RemoteRejected = 5,
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
    /// Remote values refused (unsigned, mis-signed, corrupt).
    pub remote_rejected: u64,
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

fn plausible(at: u64, now: u64) -> bool {
    (PLAUSIBLE_FROM..=now.saturating_add(CLOCK_SLACK)).contains(&at)
}

/// Appends one event; failures are ignored (statistics never fail a run).
/// The append that takes the journal past `COMPACT_AT` compacts it.
pub fn record(store: &DiskStore, event: Event, key: &Key) {
    let mut record = [0u8; RECORD_LEN];
    record[..32].copy_from_slice(key.bytes());
    record[32..40].copy_from_slice(&now_secs().to_le_bytes());
    record[40] = event as u8;
    let flags = libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT;
    let Ok(mut journal) = store.open_in(&journal_path(&store.v1()), flags, 0o600) else {
        return;
    };
    if journal.write_all(&record).is_ok() && journal.metadata().is_ok_and(|m| m.len() >= COMPACT_AT)
    {
        drop(journal);
        compact_now(store);
    }
}

/// Folds the journal into its summary, keeping the counts of keys that
/// still have an entry; skipped when a gc runs (it compacts too).
pub fn compact_now(store: &DiskStore) {
    let Some(_lock) = store.try_maintenance_lock() else { return };
    let live: std::collections::HashSet<_> =
        store.entry_files().into_iter().map(|f| f.key).collect();
    let _ = Usage::compact(store, &|key| live.contains(key), 0);
}

/// Reads a header from the file at `path` into `header` (nothing if it is
/// empty; else its 8-byte magic, and the rest of the length `header_len`
/// gives for that magic, which refuses the file with `None`), then calls
/// `each` with every whole record after it, reading in bounded chunks; a
/// torn final record is ignored.
fn stream(
    store: &DiskStore,
    path: &Path,
    header: &mut [u8],
    header_len: impl Fn(&[u8]) -> Option<usize>,
    mut each: impl FnMut(&[u8]),
) {
    let Ok(file) = store.open_in(path, libc::O_RDONLY, 0) else { return };
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    if !header.is_empty() {
        if reader.read_exact(&mut header[..8]).is_err() {
            return;
        }
        let Some(len) = header_len(&header[..8]).filter(|&n| (8..=header.len()).contains(&n))
        else {
            return;
        };
        if reader.read_exact(&mut header[8..len]).is_err() {
            return;
        }
    }
    let mut record = [0u8; RECORD_LEN];
    while reader.read_exact(&mut record).is_ok() {
        each(&record);
    }
}

impl Usage {
    /// The summary plus whatever the journal holds since the last
    /// compaction, per key only for keys that have an entry now.
    pub fn load(store: &DiskStore) -> Usage {
        let live: HashSet<Key> = store.entry_files().into_iter().map(|f| f.key).collect();
        Usage::fold(store, &|key| live.contains(key), Some(&journal_path(&store.v1())))
    }

    /// The totals alone (no per-key map): what `stats` shows.
    pub fn totals(store: &DiskStore) -> Usage {
        Usage::fold(store, &|_| false, Some(&journal_path(&store.v1())))
    }

    fn fold(store: &DiskStore, keep: &dyn Fn(&Key) -> bool, journal: Option<&Path>) -> Usage {
        let mut usage = Usage::default();
        let now = now_secs();
        usage.read_summary(store, keep, now);
        if let Some(journal) = journal {
            stream(store, journal, &mut [], |_| None, |r| usage.add_journal_record(r, keep, now));
        }
        usage
    }

    fn read_summary(&mut self, store: &DiskStore, keep: &dyn Fn(&Key) -> bool, now: u64) {
        let mut header = [0u8; SUMMARY_HEADER_LEN];
        let mut records = Vec::new();
        let path = summary_path(&store.v1());
        let header_len = |magic: &[u8]| match magic {
            m if m == SUMMARY_MAGIC => Some(SUMMARY_HEADER_LEN),
            m if m == SUMMARY_V2_MAGIC => Some(SUMMARY_V2_HEADER_LEN),
            _ => None,
        };
        stream(store, &path, &mut header, header_len, |record| {
            let Some(key) = Key::from_slice(&record[..32]).filter(|k| keep(k)) else { return };
            let last_hit = u64_at(record, 40);
            let last_hit = if plausible(last_hit, now) { last_hit } else { 0 };
            records.push((key, u64_at(record, 32), last_hit));
        });
        if header_len(&header[..8]).is_none() {
            return;
        }
        // A version 2 header is zero past its end: no rejections counted.
        for (total, at) in [
            (&mut self.hits, 8),
            (&mut self.misses, 16),
            (&mut self.evictions, 24),
            (&mut self.remote_hits, 32),
            (&mut self.remote_errors, 40),
            (&mut self.remote_rejected, 48),
        ] {
            *total = total.saturating_add(u64_at(&header, at));
        }
        for (key, hits, last_hit) in records {
            let entry = self.keys.entry(key).or_default();
            entry.hits = entry.hits.saturating_add(hits);
            entry.last_hit = entry.last_hit.max(last_hit);
        }
    }

    fn add_journal_record(&mut self, record: &[u8], keep: &dyn Fn(&Key) -> bool, now: u64) {
        let at = u64_at(record, 32);
        if !plausible(at, now) || record[41..].iter().any(|&b| b != 0) {
            return;
        }
        let Some(key) = Key::from_slice(&record[..32]) else { return };
        let bump = |n: &mut u64| *n = n.saturating_add(1);
        match record[40] {
            1 | 3 => {
                bump(&mut self.hits);
                if record[40] == 3 {
                    bump(&mut self.remote_hits);
                }
                if keep(&key) {
                    let entry = self.keys.entry(key).or_default();
                    bump(&mut entry.hits);
                    entry.last_hit = entry.last_hit.max(at);
                }
            }
            2 => bump(&mut self.misses),
            4 => bump(&mut self.remote_errors),
            5 => bump(&mut self.remote_rejected),
            _ => {}
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
        let aside = v1.join(format!("journal.{:016x}", super::layout::random_u64()));
        let moved = fs::rename(&journal, &aside).is_ok();
        let mut usage = Usage::fold(store, live, moved.then_some(aside.as_path()));
        usage.evictions = usage.evictions.saturating_add(evicted);
        let mut out = Vec::with_capacity(SUMMARY_HEADER_LEN + usage.keys.len() * RECORD_LEN);
        out.extend_from_slice(SUMMARY_MAGIC);
        for total in [
            usage.hits,
            usage.misses,
            usage.evictions,
            usage.remote_hits,
            usage.remote_errors,
            usage.remote_rejected,
        ] {
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

    fn load_all(store: &DiskStore) -> Usage {
        Usage::fold(store, &|_| true, Some(&journal_path(&store.v1())))
    }

    #[test]
    fn implausible_records_are_skipped_and_totals_saturate() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskStore::open_or_create(&dir.path().join("root")).unwrap();
        std::fs::create_dir_all(store.v1()).unwrap();
        record(&store, Event::Hit, &key(1));
        let mut bad = [0u8; RECORD_LEN];
        bad[..32].copy_from_slice(&[2; 32]);
        bad[32..40].copy_from_slice(&(now_secs() | 1 << 62).to_le_bytes());
        bad[40] = 1;
        let mut padded = [0u8; RECORD_LEN];
        padded[..32].copy_from_slice(&[3; 32]);
        padded[32..40].copy_from_slice(&now_secs().to_le_bytes());
        padded[40] = 1;
        padded[44] = 0x10;
        let mut summary = SUMMARY_MAGIC.to_vec();
        summary.extend_from_slice(&[0xff; 48]);
        std::fs::write(summary_path(&store.v1()), summary).unwrap();
        let mut journal = OpenOptions::new().append(true).open(journal_path(&store.v1())).unwrap();
        journal.write_all(&bad).unwrap();
        journal.write_all(&padded).unwrap();
        let usage = load_all(&store);
        assert_eq!(usage.hits, u64::MAX);
        assert_eq!(usage.key(&key(1)).hits, 1);
        assert_eq!(usage.key(&key(2)), KeyUsage::default());
        assert_eq!(usage.key(&key(3)), KeyUsage::default());
    }

    #[test]
    fn journal_and_summary_add_up() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskStore::open_or_create(&dir.path().join("root")).unwrap();
        std::fs::create_dir_all(store.v1()).unwrap();
        record(&store, Event::Hit, &key(1));
        record(&store, Event::Hit, &key(1));
        record(&store, Event::Miss, &key(2));
        let before = load_all(&store);
        assert_eq!((before.hits, before.misses), (2, 1));
        assert_eq!(before.key(&key(1)).hits, 2);

        Usage::compact(&store, &|_| true, 3).unwrap();
        record(&store, Event::Hit, &key(1));
        let after = load_all(&store);
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
        let usage = load_all(&store);
        assert_eq!(usage.key(&key(2)).hits, 0);
        assert_eq!(usage.key(&key(1)).hits, 1);
        assert_eq!(usage.hits, 2);
    }

    #[test]
    fn rejections_survive_compaction_and_old_summaries_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskStore::open_or_create(&dir.path().join("root")).unwrap();
        std::fs::create_dir_all(store.v1()).unwrap();
        record(&store, Event::RemoteRejected, &key(1));
        record(&store, Event::RemoteRejected, &key(2));
        Usage::compact(&store, &|_| true, 0).unwrap();
        record(&store, Event::RemoteRejected, &key(1));
        assert_eq!(load_all(&store).remote_rejected, 3);

        // A version 2 summary: five totals, then one key record.
        let mut v2 = SUMMARY_V2_MAGIC.to_vec();
        for total in [4u64, 5, 6, 7, 8] {
            v2.extend_from_slice(&total.to_le_bytes());
        }
        v2.extend_from_slice(key(9).bytes());
        v2.extend_from_slice(&11u64.to_le_bytes());
        v2.extend_from_slice(&now_secs().to_le_bytes());
        std::fs::write(summary_path(&store.v1()), v2).unwrap();
        std::fs::remove_file(journal_path(&store.v1())).unwrap();
        let old = load_all(&store);
        let totals = (old.hits, old.misses, old.evictions, old.remote_hits, old.remote_errors);
        assert_eq!(totals, (4, 5, 6, 7, 8));
        assert_eq!((old.remote_rejected, old.key(&key(9)).hits), (0, 11));
        Usage::compact(&store, &|_| true, 0).unwrap();
        assert_eq!(load_all(&store), old);
    }
}
