//! The names of the store's files: two-hex-digit shard directories, entry
//! files named by their key, and the temp names entries are written under.
//! Only files named this way are ever listed, counted or deleted.

use crate::key::Key;
use std::fs;
use std::path::{Path, PathBuf};

pub const TEMP_PREFIX: &str = ".tmp.";

/// 64 random bits (a counter mixed with the clock if the kernel's generator
/// fails): never derived from the PID alone, which repeats in containers
/// (every run may be PID 1) and after a crash.
pub(crate) fn random_u64() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static FALLBACK: AtomicU64 = AtomicU64::new(0);
    getrandom::u64().unwrap_or_else(|_| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        nanos ^ FALLBACK.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
    })
}

/// `.tmp.<64 hex key>.<pid>.<random>`: the PID only says who wrote it; the
/// random part makes the name unique, and `begin` creates it with `O_EXCL`
/// (retrying on a collision), so a dead writer's leftover never blocks a
/// later one.
pub(crate) fn temp_entry_name(key: &Key) -> String {
    format!("{TEMP_PREFIX}{}.{}.{}", key.hex(), std::process::id(), random_u64())
}

/// What a file in a shard is to the store. `clear`, `gc` and `evict` all
/// decide from this one function what they may touch; anything `Foreign`
/// is never opened for writing or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Own {
    /// `<64 hex key>` in `entries/` (deleted only if it also has our magic).
    Entry(Key),
    /// `.tmp.<key>.<pid>.<n>` in `entries/`.
    Temp,
    /// `<64 hex key>.lock` in `locks/`.
    Lock,
    Foreign,
}

/// Classifies `name` found in a shard of `v1/<base>/`.
pub(crate) fn classify(base: &str, name: &str) -> Own {
    match base {
        "entries" if is_temp_name(name) => Own::Temp,
        "entries" => Key::parse_hex(name).map_or(Own::Foreign, Own::Entry),
        "locks" if name.strip_suffix(".lock").is_some_and(is_key_name) => Own::Lock,
        _ => Own::Foreign,
    }
}

/// An entry's file name: its key in lowercase hex.
pub(crate) fn is_key_name(name: &str) -> bool {
    Key::parse_hex(name).is_some()
}

/// `.tmp.<64 hex key>.<pid>.<n>`: the only temp files `begin` creates
/// (older versions used a small counter for `n`, still recognised).
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
