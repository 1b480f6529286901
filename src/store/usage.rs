//! Hit and miss counts, kept off the hit path's critical work: a hit appends
//! one fixed-size record to a journal (`open(O_APPEND)` + one `write`, atomic
//! between concurrent appenders), and `gc` folds the journal into a compact
//! summary file. `list` and `stats` read both.
//!
//! The journal (`v1/journal`) is a sequence of 48-byte records:
//!
//! ```text
//!  0  32  key
//! 32   8  seconds since the epoch (u64 LE)
//! 40   1  event (see `Event`)
//! 41   3  zero
//! 44   4  for a hit: the run time it saved, ms (u32 LE; 0 when unknown)
//! ```
//!
//! Records written before the saved time existed have zero at 44..48 and
//! count as hits that saved nothing known. (An older cachecmd skips the
//! newer records as damage: its counts of them are low, never wrong.)
//! The summary's format is in `summary.rs`; it also holds the instant the
//! counts start from, which `stats --zero` and a `clear` of everything
//! reset (see [`zero`]).
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
//! with compaction makes a count slightly low, never an output wrong. A
//! record torn by a full disk or a crash loses only itself: the reader
//! slides past it to the next valid record (see [`stream_journal`]).

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use super::disk::DiskStore;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::key::Key;

mod summary;

const RECORD_LEN: usize = 48;
/// The longest record of either file (a version 4 summary's).
const MAX_RECORD_LEN: usize = summary::RECORD_LEN;
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
    /// The run time its hits saved, ms.
    pub saved_ms: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// Seconds since the epoch the counts start from (the last `stats
    /// --zero` or `clear` of everything); 0 for the cache's creation.
    pub since: u64,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub remote_hits: u64,
    pub remote_errors: u64,
    /// Remote values refused (unsigned, mis-signed, corrupt).
    pub remote_rejected: u64,
    /// The run time every counted hit (local and remote) saved, ms.
    pub saved_ms: u64,
    pub keys: HashMap<Key, KeyUsage>,
}

fn journal_path(v1: &Path) -> PathBuf {
    v1.join("journal")
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
    append(store, event, key, 0);
}

/// Appends a served hit (`Event::Hit` or `Event::RemoteHit`) that saved the
/// entry's recorded run time, `saved_ms`.
pub fn record_hit(store: &DiskStore, event: Event, key: &Key, saved_ms: u32) {
    append(store, event, key, saved_ms);
}

fn append(store: &DiskStore, event: Event, key: &Key, saved_ms: u32) {
    let mut record = [0u8; RECORD_LEN];
    record[..32].copy_from_slice(key.bytes());
    record[32..40].copy_from_slice(&now_secs().to_le_bytes());
    record[40] = event as u8;
    record[44..48].copy_from_slice(&saved_ms.to_le_bytes());
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
    let live: HashSet<_> = store.entry_files().into_iter().map(|f| f.key).collect();
    let _ = Usage::compact(store, &|key| live.contains(key), 0);
}

/// Starts the counts again from `since` (seconds since the epoch): every
/// total and each entry's hits and saved time go to zero; each entry's last
/// hit is kept, since gc's least-recently-used order depends on it. Waits
/// for a running gc (which compacts too) rather than race it.
pub fn zero(store: &DiskStore, since: u64) -> std::io::Result<()> {
    let _lock = store.maintenance_lock()?;
    let live: HashSet<_> = store.entry_files().into_iter().map(|f| f.key).collect();
    Usage::rewrite(store, &|key| live.contains(key), 0, Some(since))
}

/// When the counts start: the last reset, else when the cache was created
/// (its `CACHEDIR.TAG`, written once); `None` when neither is known.
pub fn counting_since(store: &DiskStore, usage: &Usage) -> Option<u64> {
    if usage.since != 0 {
        return Some(usage.since);
    }
    let tag = fs::symlink_metadata(store.root().join("CACHEDIR.TAG")).ok()?;
    tag.modified().ok()?.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}

/// Reads a header from the file at `path` into `header` (nothing if it is
/// empty; else its 8-byte magic, and the rest of the length `layout` gives
/// for that magic, which refuses the file with `None`), then calls `each`
/// with every whole record after it (of the length `layout` gives),
/// reading in bounded chunks; a torn final record is ignored.
fn stream(
    store: &DiskStore,
    path: &Path,
    header: &mut [u8],
    layout: impl Fn(&[u8]) -> Option<(usize, usize)>,
    mut each: impl FnMut(&[u8]),
) {
    let Ok(file) = store.open_in(path, libc::O_RDONLY, 0) else { return };
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    if header.len() < 8 || reader.read_exact(&mut header[..8]).is_err() {
        return;
    }
    let fits = |&(len, rec): &(usize, usize)| {
        (8..=header.len()).contains(&len) && (1..=MAX_RECORD_LEN).contains(&rec)
    };
    let Some((len, record_len)) = layout(&header[..8]).filter(fits) else { return };
    if reader.read_exact(&mut header[8..len]).is_err() {
        return;
    }
    let mut record = [0u8; MAX_RECORD_LEN];
    while reader.read_exact(&mut record[..record_len]).is_ok() {
        each(&record[..record_len]);
    }
}

/// Whether `record` is a journal record this version writes: a known
/// event, zero padding, a plausible time, saved time only on a hit.
fn valid_journal_record(record: &[u8], now: u64) -> bool {
    let saved = record[44..48].iter().any(|&b| b != 0);
    (1..=5).contains(&record[40])
        && record[41..44].iter().all(|&b| b == 0)
        && plausible(u64_at(record, 32), now)
        && (!saved || matches!(record[40], 1 | 3))
}

/// Calls `each` with every valid record of the journal at `path`. After
/// bytes that make no valid record (a record torn by a full disk or a
/// crash, which would shift every later one), it slides a byte at a time
/// until records are valid again, so one torn record loses only itself.
/// (A shifted window passes as valid only by chance: its time field would
/// have to fall in the plausible years and its event and padding bytes
/// match too.)
fn stream_journal(
    store: &DiskStore,
    path: &Path,
    valid: impl Fn(&[u8]) -> bool,
    mut each: impl FnMut(&[u8]),
) {
    let Ok(file) = store.open_in(path, libc::O_RDONLY, 0) else { return };
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut window = [0u8; RECORD_LEN];
    if reader.read_exact(&mut window).is_err() {
        return;
    }
    loop {
        let next = if valid(&window) {
            each(&window);
            &mut window[..]
        } else {
            window.copy_within(1.., 0);
            &mut window[RECORD_LEN - 1..]
        };
        if reader.read_exact(next).is_err() {
            return;
        }
    }
}

impl Usage {
    /// The summary plus whatever the journal holds since the last
    /// compaction, per key only for keys that have an entry now.
    pub fn load(store: &DiskStore) -> Usage {
        let live: HashSet<Key> = store.entry_files().into_iter().map(|f| f.key).collect();
        Usage::fold(store, &|key| live.contains(key), Some(&journal_path(&store.v1())))
    }

    fn fold(store: &DiskStore, keep: &dyn Fn(&Key) -> bool, journal: Option<&Path>) -> Usage {
        let mut usage = Usage::default();
        let now = now_secs();
        usage.read_summary(store, keep, now);
        if let Some(journal) = journal {
            let valid = |r: &[u8]| valid_journal_record(r, now);
            stream_journal(store, journal, valid, |r| usage.add_journal_record(r, keep));
        }
        usage
    }

    /// Counts a record that [`valid_journal_record`] accepted.
    fn add_journal_record(&mut self, record: &[u8], keep: &dyn Fn(&Key) -> bool) {
        let at = u64_at(record, 32);
        let Some(key) = Key::from_slice(&record[..32]) else { return };
        let saved = u64::from(u32::from_le_bytes([record[44], record[45], record[46], record[47]]));
        let bump = |n: &mut u64| *n = n.saturating_add(1);
        match record[40] {
            1 | 3 => {
                bump(&mut self.hits);
                self.saved_ms = self.saved_ms.saturating_add(saved);
                if record[40] == 3 {
                    bump(&mut self.remote_hits);
                }
                if keep(&key) {
                    let entry = self.keys.entry(key).or_default();
                    bump(&mut entry.hits);
                    entry.saved_ms = entry.saved_ms.saturating_add(saved);
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

    /// Folds the journal into the summary, keeping only `live` keys.
    pub fn compact(
        store: &DiskStore,
        live: &dyn Fn(&Key) -> bool,
        evicted: u64,
    ) -> std::io::Result<()> {
        Usage::rewrite(store, live, evicted, None)
    }

    /// Folds the journal into the summary (zeroed from `zero_since` when
    /// given). The journal is renamed aside first so appends racing with
    /// us start a new one instead of being truncated away.
    fn rewrite(
        store: &DiskStore,
        live: &dyn Fn(&Key) -> bool,
        evicted: u64,
        zero_since: Option<u64>,
    ) -> std::io::Result<()> {
        store.verify_tree().map_err(|e| std::io::Error::other(e.to_string()))?;
        let v1 = &store.v1();
        let journal = journal_path(v1);
        let aside = v1.join(format!("journal.{:016x}", super::layout::random_u64()));
        let moved = fs::rename(&journal, &aside).is_ok();
        let mut usage = Usage::fold(store, live, moved.then_some(aside.as_path()));
        usage.evictions = usage.evictions.saturating_add(evicted);
        if let Some(since) = zero_since {
            let keys = std::mem::take(&mut usage.keys);
            usage = Usage { since, ..Usage::default() };
            for (key, use_) in keys.into_iter().filter(|(_, u)| u.last_hit != 0) {
                usage.keys.insert(key, KeyUsage { last_hit: use_.last_hit, ..KeyUsage::default() });
            }
        }
        let written = usage.write_summary(store);
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
mod tests;
