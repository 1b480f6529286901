//! The names of the store's files: two-hex-digit shard directories, entry
//! files named by their key, and the temp names entries are written under.
//! Only files named this way are ever listed, counted or deleted.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::key::Key;

pub const TEMP_PREFIX: &str = ".tmp.";

static TEMP_COUNTER: AtomicU32 = AtomicU32::new(0);

/// `.tmp.<64 hex key>.<pid>.<n>`: unique among this process's writers and
/// every other process's.
pub(crate) fn temp_entry_name(key: &Key) -> String {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{TEMP_PREFIX}{}.{}.{n}", key.hex(), std::process::id())
}

/// An entry's file name: its key in lowercase hex.
pub(crate) fn is_key_name(name: &str) -> bool {
    Key::parse_hex(name).is_some()
}

/// `.tmp.<64 hex key>.<pid>.<n>`: the only temp files `begin` creates.
pub(crate) fn is_temp_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(TEMP_PREFIX) else { return false };
    let mut parts = rest.split('.');
    let key_ok = parts.next().is_some_and(is_key_name);
    let numbers: Vec<_> = parts.collect();
    key_ok
        && numbers.len() == 2
        && numbers.iter().all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `(shard dir, file name)` of every file in real (non-symlink) two-hex-digit
/// shard directories under `base`; vanished files and shards are skipped.
pub(crate) fn own_files(base: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for shard in shard_dirs(base) {
        let Ok(entries) = fs::read_dir(&shard) else {
            continue;
        };
        for entry in entries.flatten() {
            if let Ok(name) = entry.file_name().into_string() {
                files.push((shard.clone(), name));
            }
        }
    }
    files
}

/// The real (non-symlink) two-hex-digit shard directories under `base`.
pub(crate) fn shard_dirs(base: &Path) -> Vec<PathBuf> {
    let Ok(shards) = fs::read_dir(base) else {
        return Vec::new();
    };
    shards
        .flatten()
        .filter(|shard| {
            let name = shard.file_name();
            let is_shard = name.to_str().is_some_and(|n| {
                n.len() == 2 && n.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            });
            is_shard && shard.file_type().is_ok_and(|t| t.is_dir())
        })
        .map(|shard| shard.path())
        .collect()
}
