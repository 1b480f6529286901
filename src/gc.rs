//! Garbage collection: expired and undecodable entries, stray temp files,
//! idle lock files, then the size limits, least recently used first.
//! Runs on demand (`cachecmd gc`) and, in the background, at most every
//! `AUTO_INTERVAL` after a miss. The hit path only compacts the usage
//! journal, when it outgrows its bound (`usage::compact_now`).
//!
//! gc deletes only what the store created, recognised by the same rules as
//! `clear` (`layout::classify` plus the entry magic): a key-named file
//! without our magic, a `deploy.lock` in `locks/`, any other name, stays.
//! A temp file is deleted only when no writer holds its `flock` (writers
//! hold it from creation until done; the kernel drops it when one dies)
//! and it is older than `STALE_TEMP`; a lock file only when nobody holds it
//! and it has been idle for `STALE_TEMP`, and then while gc holds it.

use std::fs;
use std::time::{Duration, SystemTime};

use crate::par::par_filter_map;
use crate::store::disk::DiskStore;
use crate::store::inventory::EntryInfo;
use crate::store::layout::{classify, Own};
use crate::store::usage::Usage;

/// How often a miss may start a background gc.
pub const AUTO_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// Temp files older than this belong to dead writers.
const STALE_TEMP: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_size: u64,
    pub max_entries: Option<u64>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub expired: usize,
    pub corrupt: usize,
    pub evicted: usize,
    pub temp_files: usize,
    pub lock_files: usize,
    pub entries: usize,
    pub bytes: u64,
}

/// The time an entry was last served or written: the LRU order.
fn last_used(info: &EntryInfo, usage: &Usage) -> u64 {
    info.modified_secs().max(usage.key(&info.key).last_hit)
}

pub fn collect(store: &DiskStore, limits: Limits, now: SystemTime) -> Report {
    // Stamped first: the clock restarts when a gc starts, so misses during
    // a long one do not start more.
    touch_stamp(store);
    let mut report = Report::default();
    let usage = Usage::load(store);
    let files = store.entry_files();
    let read = par_filter_map(&files, |file| Some((file.path.clone(), store.read_info(file))));
    let mut live = Vec::with_capacity(read.len());
    for (path, info) in read {
        match info {
            Ok(info) if info.expired(now) => {
                report.expired += usize::from(store.remove_file(&info.path));
            }
            Ok(info) => live.push(info),
            // Named as our entry, with our magic, and undecodable: ours and
            // useless. Without the magic it is someone else's file.
            Err(_) if store.is_own_entry(&path) => {
                report.corrupt += usize::from(store.remove_file(&path));
            }
            Err(_) => {}
        }
    }
    for (path, modified) in store.temp_files() {
        if now.duration_since(modified).unwrap_or_default() > STALE_TEMP {
            report.temp_files += usize::from(store.remove_dead_temp(&path, STALE_TEMP));
        }
    }
    report.lock_files = remove_idle_locks(store, now);

    live.sort_by_key(|info| std::cmp::Reverse(last_used(info, &usage)));
    let mut bytes: u64 = live.iter().map(|i| i.size).sum();
    let max_entries = limits.max_entries.map_or(usize::MAX, |n| n as usize);
    while bytes > limits.max_size || live.len() > max_entries {
        let Some(oldest) = live.pop() else { break };
        bytes -= oldest.size;
        report.evicted += usize::from(store.remove_file(&oldest.path));
    }
    report.entries = live.len();
    report.bytes = bytes;

    let keep: std::collections::HashSet<_> = live.iter().map(|i| i.key).collect();
    let _ = Usage::compact(store, &|key| keep.contains(key), report.evicted as u64);
    report
}

/// Lock files nobody holds and nobody used for an hour, removed while gc
/// holds them (see `store/lock.rs`: a waiter on the removed file retries).
fn remove_idle_locks(store: &DiskStore, now: SystemTime) -> usize {
    let mut removed = 0;
    for (dir, name) in store.shard_files("locks") {
        if classify("locks", &name) != Own::Lock {
            continue;
        }
        let path = dir.join(&name);
        let idle = fs::symlink_metadata(&path)
            .ok()
            .and_then(|m| m.modified().ok())
            .is_some_and(|m| now.duration_since(m).unwrap_or_default() > STALE_TEMP);
        if idle {
            removed += usize::from(store.remove_lock_file(&path));
        }
    }
    removed
}

fn stamp_path(store: &DiskStore) -> std::path::PathBuf {
    store.v1().join("gc.stamp")
}

fn touch_stamp(store: &DiskStore) {
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC;
    let _ = store
        .open_in(&stamp_path(store), flags, 0o600)
        .and_then(|f| f.set_modified(SystemTime::now()));
}

/// Whether a background gc is due: the last one is older than
/// `AUTO_INTERVAL`. A new cache only starts the clock.
pub fn auto_due(store: &DiskStore) -> bool {
    match fs::symlink_metadata(stamp_path(store)).and_then(|m| m.modified()) {
        Ok(last) => SystemTime::now().duration_since(last).unwrap_or_default() > AUTO_INTERVAL,
        Err(_) => {
            touch_stamp(store);
            false
        }
    }
}

/// Takes the gc lock without waiting; `None` when another gc runs.
pub fn try_lock(store: &DiskStore) -> Option<fs::File> {
    store.try_maintenance_lock()
}
