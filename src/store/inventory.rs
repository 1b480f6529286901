//! Walking the disk store for `list`, `show`, `stats`, `gc` and `clear`.
//! Everything here tolerates concurrent writers and deleters: a file that
//! vanishes or changes mid-walk is skipped, never an error.

use std::fs::{self, File};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::beneath::open_regular_at;
use super::disk::DiskStore;
use super::layout::{classify, shard_dirs, Own};
use crate::entry::{DecodeError, Header, Meta, HEADER_LEN, MAX_META_LEN};
use crate::key::Key;
use crate::par::par_filter_map;

/// An entry file found in a shard (not yet read).
#[derive(Debug, Clone)]
pub struct EntryFile {
    pub key: Key,
    pub path: PathBuf,
}

/// An entry's header and metadata, read without touching its output.
#[derive(Debug, Clone)]
pub struct EntryInfo {
    pub key: Key,
    pub path: PathBuf,
    pub size: u64,
    pub modified: SystemTime,
    pub header: Header,
    pub meta: Meta,
}

impl EntryInfo {
    /// The lifetime the writer recorded for this outcome; `None` is forever.
    pub fn ttl_secs(&self) -> Option<u64> {
        if self.header.exit_code == 0 {
            self.meta.ttl_secs
        } else {
            self.meta.failure_ttl_secs
        }
    }

    pub fn age(&self, now: SystemTime) -> Duration {
        crate::freshness::age(now, self.modified)
    }

    /// Time left before the recorded lifetime (or `--expires-at`) runs
    /// out, whichever is sooner; `None` is forever.
    pub fn expires_in(&self, now: SystemTime) -> Option<Duration> {
        crate::freshness::expires_in(self.ttl_secs(), self.header.expires_at, self.age(now), now)
    }

    /// When the entry stops being served, seconds since the epoch: its
    /// lifetime counted from its write time, or its absolute expiry,
    /// whichever comes first; `None` is never.
    pub fn expires_at_secs(&self) -> Option<u64> {
        let by_ttl = self.ttl_secs().map(|ttl| self.modified_secs().saturating_add(ttl));
        let by_instant = Some(self.header.expires_at).filter(|at| *at != 0);
        let at = match (by_ttl, by_instant) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        at.map(|at| at.min(crate::entry::MAX_EPOCH_SECS))
    }

    pub fn expired(&self, now: SystemTime) -> bool {
        self.expires_in(now).is_some_and(|left| left.is_zero())
    }

    pub fn modified_secs(&self) -> u64 {
        self.modified.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
    }

    /// Recorded stdout, stderr and `--output` archive bytes.
    pub fn output_bytes(&self) -> u64 {
        self.header.stdout_len + self.header.stderr_len + self.header.outputs_len
    }
}

impl DiskStore {
    /// Every file named like an entry, in real shard directories.
    pub fn entry_files(&self) -> Vec<EntryFile> {
        self.shard_files("entries")
            .into_iter()
            .filter_map(|(dir, name)| match classify("entries", &name) {
                Own::Entry(key) => Some(EntryFile { key, path: dir.join(name) }),
                _ => None,
            })
            .collect()
    }

    /// In-progress or abandoned temp files, with their modification time.
    pub fn temp_files(&self) -> Vec<(PathBuf, SystemTime)> {
        self.shard_files("entries")
            .into_iter()
            .filter(|(_, name)| classify("entries", name) == Own::Temp)
            .filter_map(|(dir, name)| {
                let path = dir.join(name);
                let modified = fs::symlink_metadata(&path).ok()?.modified().ok()?;
                Some((path, modified))
            })
            .collect()
    }

    /// Entry files whose key starts with `prefix` (lowercase hex).
    pub fn entries_with_prefix(&self, prefix: &str) -> Vec<EntryFile> {
        self.entry_files().into_iter().filter(|f| f.key.hex().starts_with(prefix)).collect()
    }

    /// Reads header and metadata of every entry, on all cores; entries that
    /// vanish or fail to decode are left out (`gc` deals with the latter).
    /// Each shard is opened once and its entries relative to it, which
    /// spares a path walk per entry on a large cache.
    pub fn entry_infos(&self) -> Vec<EntryInfo> {
        let shards = self.entry_shards();
        let per_shard = par_filter_map(&shards, |shard| {
            let dir = self.open_in(shard, libc::O_RDONLY | libc::O_DIRECTORY, 0).ok()?;
            let infos = fs::read_dir(shard)
                .ok()?
                .flatten()
                .filter_map(|entry| {
                    let name = entry.file_name().into_string().ok()?;
                    let key = Key::parse_hex(&name)?;
                    let file = EntryFile { key, path: entry.path() };
                    read_opened(&file, open_regular_at(&dir, &name, libc::O_RDONLY).ok()?).ok()
                })
                .collect::<Vec<_>>();
            Some(infos)
        });
        per_shard.into_iter().flatten().collect()
    }

    /// `(size, mtime in seconds)` of every entry file, from `stat` alone
    /// (relative to each shard: no path walk per entry).
    pub fn entry_stats(&self) -> Vec<(u64, u64)> {
        let shards = self.entry_shards();
        let per_shard = par_filter_map(&shards, |shard| {
            let stats = fs::read_dir(shard)
                .ok()?
                .flatten()
                .filter(|entry| entry.file_name().to_str().and_then(Key::parse_hex).is_some())
                .filter_map(|entry| {
                    let meta = entry.metadata().ok().filter(fs::Metadata::is_file)?;
                    let secs = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?.as_secs();
                    Some((meta.len(), secs))
                })
                .collect::<Vec<_>>();
            Some(stats)
        });
        per_shard.into_iter().flatten().collect()
    }

    fn entry_shards(&self) -> Vec<PathBuf> {
        if self.verify_tree().is_err() {
            return Vec::new();
        }
        shard_dirs(&self.v1().join("entries"))
    }

    /// Header and metadata of one entry. Lengths are checked against the
    /// file's size and the metadata's checksum verified; the output is not read.
    pub fn read_info(&self, file: &EntryFile) -> Result<EntryInfo, DecodeError> {
        let handle: File =
            self.open_in(&file.path, libc::O_RDONLY, 0).map_err(|_| DecodeError::Short)?;
        read_opened(file, handle)
    }
}

fn read_opened(file: &EntryFile, handle: File) -> Result<EntryInfo, DecodeError> {
    let stat = handle.metadata().map_err(|_| DecodeError::Short)?;
    if !stat.is_file() {
        return Err(DecodeError::Magic);
    }
    let mut head = [0u8; HEADER_LEN];
    handle.read_exact_at(&mut head, 0).map_err(|_| DecodeError::Short)?;
    let header = Header::decode(&head, stat.len())?;
    header.check_key(&file.key)?;
    debug_assert!(header.meta_len <= MAX_META_LEN);
    let mut meta = vec![0u8; header.meta_len as usize];
    handle.read_exact_at(&mut meta, HEADER_LEN as u64).map_err(|_| DecodeError::Short)?;
    let meta = Meta::decode(&meta, header.meta_hash)?;
    Ok(EntryInfo {
        key: file.key,
        path: file.path.clone(),
        size: stat.len(),
        modified: stat.modified().unwrap_or(UNIX_EPOCH),
        header,
        meta,
    })
}
