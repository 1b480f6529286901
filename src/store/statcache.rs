//! A persistent map (path, size, mtime, ctime, inode, device) -> digest, so
//! an unchanged input tree is not read again. Kept in the cache dir as one
//! file, replaced atomically; concurrent savers race harmlessly (last wins).
//!
//! The "racily clean" problem (git's name): a file modified within the
//! timestamp granularity of the moment its digest was recorded can change
//! again without its mtime changing. A record is only trusted when the
//! file's mtime is older than the hashing time by more than that
//! granularity; otherwise the file is hashed again.

use std::collections::HashMap;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::OnceLock;
use std::time::UNIX_EPOCH;

use super::disk::{replace_private_file, DiskStore};
use crate::key::{DigestCache, Hashed};

const MAGIC: &[u8; 8] = b"CCSTAT01";
const FILE_NAME: &str = "statcache";
/// Coarse enough for file systems with one- or two-second timestamps.
const GRANULARITY_NS: i64 = 2_000_000_000;
/// Bounds the file: the oldest records beyond this are dropped.
const MAX_RECORDS: usize = 500_000;
const FIXED_LEN: usize = 4 + 8 * 6 + 32;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    path: Vec<u8>,
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    ino: u64,
    dev: u64,
    hashed_at_ns: i64,
    digest: [u8; 32],
}

fn nanos(secs: i64, nsec: i64) -> i64 {
    secs.saturating_mul(1_000_000_000).saturating_add(nsec)
}

impl Record {
    fn new(hashed: &Hashed) -> Record {
        let meta = &hashed.meta;
        let at = hashed.hashed_at.duration_since(UNIX_EPOCH).unwrap_or_default();
        Record {
            path: hashed.path.as_os_str().as_bytes().to_vec(),
            size: meta.size(),
            mtime_ns: nanos(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: nanos(meta.ctime(), meta.ctime_nsec()),
            ino: meta.ino(),
            dev: meta.dev(),
            hashed_at_ns: i64::try_from(at.as_nanos()).unwrap_or(i64::MAX),
            digest: hashed.digest,
        }
    }

    fn matches(&self, meta: &fs::Metadata) -> bool {
        let mtime = nanos(meta.mtime(), meta.mtime_nsec());
        self.size == meta.size()
            && self.mtime_ns == mtime
            && self.ctime_ns == nanos(meta.ctime(), meta.ctime_nsec())
            && self.ino == meta.ino()
            && self.dev == meta.dev()
            && mtime.saturating_add(GRANULARITY_NS) < self.hashed_at_ns
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.path.len() as u32).to_le_bytes());
        for n in [self.size, self.mtime_ns as u64, self.ctime_ns as u64, self.ino, self.dev] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        out.extend_from_slice(&(self.hashed_at_ns as u64).to_le_bytes());
        out.extend_from_slice(&self.digest);
        out.extend_from_slice(&self.path);
    }

    /// One record from the front of `bytes`, and its length; `None` on any
    /// inconsistency (the file is ours but may be cut short by a crash).
    fn decode(bytes: &[u8]) -> Option<(Record, usize)> {
        let fixed = bytes.get(..FIXED_LEN)?;
        let u64_at = |i: usize| -> Option<u64> {
            Some(u64::from_le_bytes(fixed[4 + 8 * i..12 + 8 * i].try_into().ok()?))
        };
        let path_len = u32::from_le_bytes(fixed[..4].try_into().ok()?) as usize;
        let path = bytes.get(FIXED_LEN..FIXED_LEN.checked_add(path_len)?)?.to_vec();
        let record = Record {
            path,
            size: u64_at(0)?,
            mtime_ns: u64_at(1)? as i64,
            ctime_ns: u64_at(2)? as i64,
            ino: u64_at(3)?,
            dev: u64_at(4)?,
            hashed_at_ns: u64_at(5)? as i64,
            digest: fixed[52..84].try_into().ok()?,
        };
        Some((record, FIXED_LEN + path_len))
    }
}

/// The stat cache of a store (none: nothing is remembered), read on the
/// first lookup so that runs without `--input` never read it.
pub struct StatCache<'a> {
    store: Option<&'a DiskStore>,
    records: OnceLock<HashMap<Vec<u8>, Record>>,
}

impl<'a> StatCache<'a> {
    pub fn new(store: Option<&'a DiskStore>) -> StatCache<'a> {
        StatCache { store, records: OnceLock::new() }
    }

    fn records(&self) -> &HashMap<Vec<u8>, Record> {
        self.records.get_or_init(|| self.store.map(load).unwrap_or_default())
    }
}

fn load(store: &DiskStore) -> HashMap<Vec<u8>, Record> {
    let mut records = HashMap::new();
    if let Ok(bytes) = store.read_in(&store.v1().join(FILE_NAME)) {
        if let Some(mut rest) = bytes.strip_prefix(MAGIC.as_slice()) {
            while let Some((record, len)) = Record::decode(rest) {
                rest = &rest[len..];
                records.insert(record.path.clone(), record);
            }
        }
    }
    records
}

impl DigestCache for StatCache<'_> {
    /// The recorded digest when the file is provably unchanged.
    fn lookup(&self, path: &Path, meta: &fs::Metadata) -> Option<[u8; 32]> {
        let record = self.records().get(path.as_os_str().as_bytes())?;
        record.matches(meta).then_some(record.digest)
    }

    /// Adds `fresh` records and writes the cache back atomically.
    fn save(&mut self, fresh: Vec<Hashed>) {
        let Some(store) = self.store else { return };
        if store.verify_tree().is_err() || fs::create_dir_all(store.v1()).is_err() {
            return;
        }
        let mut records = self.records.take().unwrap_or_else(|| load(store));
        for hashed in &fresh {
            let record = Record::new(hashed);
            records.insert(record.path.clone(), record);
        }
        let mut all: Vec<&Record> = records.values().collect();
        if all.len() > MAX_RECORDS {
            all.sort_by_key(|r| std::cmp::Reverse(r.hashed_at_ns));
            all.truncate(MAX_RECORDS);
        }
        let mut out = MAGIC.to_vec();
        for record in all {
            record.encode(&mut out);
        }
        let _ = replace_private_file(&store.v1().join(FILE_NAME), &out);
        let _ = self.records.set(records);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::collect;
    use sha2::Digest;
    use std::time::SystemTime;

    fn hashed(path: &Path, meta: &fs::Metadata, digest: [u8; 32]) -> Hashed {
        Hashed {
            path: path.to_path_buf(),
            meta: meta.clone(),
            hashed_at: SystemTime::now(),
            digest,
        }
    }

    #[test]
    fn records_round_trip_and_cut_files_stop_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, "x").unwrap();
        let meta = fs::metadata(&file).unwrap();
        let record = Record::new(&hashed(&file, &meta, [7; 32]));
        let mut bytes = Vec::new();
        record.encode(&mut bytes);
        assert_eq!(Record::decode(&bytes), Some((record, bytes.len())));
        for cut in 0..bytes.len() {
            assert!(Record::decode(&bytes[..cut]).is_none());
        }
    }

    #[test]
    fn a_racily_clean_file_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskStore::open_or_create(&dir.path().join("root")).unwrap();
        let file = dir.path().join("f");
        fs::write(&file, "x").unwrap();
        let meta = fs::metadata(&file).unwrap();
        // Hashed in the same instant it was written: must be re-hashed.
        StatCache::new(Some(&store)).save(vec![hashed(&file, &meta, [1; 32])]);
        assert_eq!(StatCache::new(Some(&store)).lookup(&file, &meta), None);

        // Written well before it was hashed: trusted.
        let old = SystemTime::now() - std::time::Duration::from_secs(60);
        fs::File::options().write(true).open(&file).unwrap().set_modified(old).unwrap();
        let meta = fs::metadata(&file).unwrap();
        let mut cache = StatCache::new(Some(&store));
        cache.save(vec![hashed(&file, &meta, [2; 32])]);
        assert_eq!(StatCache::new(Some(&store)).lookup(&file, &meta), Some([2; 32]));
    }

    #[test]
    fn the_stat_cache_returns_the_same_digests() {
        let dir = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let store = DiskStore::open_or_create(&cache.path().join("root")).unwrap();
        fs::write(dir.path().join("f"), "content").unwrap();
        let specs = ["f".to_string()];
        let cold = collect(&specs, dir.path(), &mut StatCache::new(Some(&store))).unwrap();
        let warm = collect(&specs, dir.path(), &mut StatCache::new(Some(&store))).unwrap();
        assert_eq!(cold, warm);
        assert_eq!(cold[0].digest, <[u8; 32]>::from(sha2::Sha256::digest(b"content")));
    }
}
