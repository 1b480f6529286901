//! The local disk store.
//!
//! ```text
//! ROOT/CACHEDIR.TAG
//! ROOT/v1/entries/ab/abcd…(64 hex)          one entry per key, 0600
//! ROOT/v1/entries/ab/.tmp.abcd….PID.N       an entry being written
//! ROOT/v1/locks/ab/abcd….lock               single-flight lock files
//! ```
//!
//! 256 shards keep a directory under ~4,000 files at a million entries.
//! Nothing under the root is reached through a symlink: files are opened
//! with `openat2(RESOLVE_NO_SYMLINKS)` from the root's descriptor (see
//! `beneath.rs`), and path-based operations (readdir, mkdir, rename,
//! unlink) first check that the directories on the way are real ones.
//! An entry's age is its file's mtime: set when it is published, and easy
//! for tests and users to move (`touch`) without a hidden clock.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use super::beneath::RootDir;
use super::lock::{self, LockOutcome};
use super::{PendingEntry, Store, StoreError, StoredEntry};
use crate::entry::{DecodeError, Header, HEADER_LEN, MAGIC};
use crate::key::Key;

/// Entries up to this size are read and verified in one `pread`.
const SMALL_ENTRY: usize = 64 * 1024;
const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by cachecmd.\n\
# For information about cache directory tags see https://bford.info/cachedir/\n";
pub const TEMP_PREFIX: &str = ".tmp.";

pub struct DiskStore {
    root: PathBuf,
    dir: RootDir,
}

impl DiskStore {
    /// Opens an existing, safe root; `Ok(None)` when it does not exist yet
    /// (every lookup is then a miss, and nothing needs creating on a hit).
    pub fn open_existing(root: &Path) -> Result<Option<DiskStore>, StoreError> {
        let dir = match RootDir::open(root) {
            Ok(dir) => dir,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {
                let reason = "it is not a directory".into();
                return Err(StoreError::UnsafeRoot { path: root.to_path_buf(), reason });
            }
            Err(e) => return Err(StoreError::io(root, e)),
        };
        let meta = dir.metadata().map_err(|e| StoreError::io(root, e))?;
        check_root(root, &meta)?;
        Ok(Some(DiskStore { root: root.to_path_buf(), dir }))
    }

    /// Opens a file under the root, refusing symlinks anywhere on the way.
    pub(crate) fn open_in(
        &self,
        path: &Path,
        flags: libc::c_int,
        mode: u32,
    ) -> std::io::Result<File> {
        self.dir.open_path(path, flags, mode)
    }

    /// The internal directories, where they exist, must be real ones: a
    /// symlink there would take path-based operations somewhere else.
    pub(crate) fn verify_tree(&self) -> Result<(), StoreError> {
        for rel in ["v1", "v1/entries", "v1/locks"] {
            match fs::symlink_metadata(self.root.join(rel)) {
                Ok(meta) if meta.is_dir() => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Ok(_) => {
                    return Err(StoreError::UnsafeRoot {
                        path: self.root.clone(),
                        reason: format!("{rel} is not a real directory (a symlink?)"),
                    })
                }
                Err(e) => return Err(StoreError::io(self.root.join(rel), e)),
            }
        }
        Ok(())
    }

    /// Creates (0700) a shard directory and checks it is a real one.
    fn real_dir(&self, dir: &Path) -> Result<(), StoreError> {
        self.verify_tree()?;
        private_dir_all(dir)?;
        match fs::symlink_metadata(dir) {
            Ok(meta) if meta.is_dir() => Ok(()),
            _ => Err(StoreError::UnsafeRoot {
                path: self.root.clone(),
                reason: format!("{} is not a real directory (a symlink?)", dir.display()),
            }),
        }
    }

    /// Removes a file of ours: a regular file (never a symlink) in a real
    /// directory of the store.
    pub(crate) fn remove_file(&self, path: &Path) -> bool {
        let parent_is_real =
            path.parent().and_then(|p| fs::symlink_metadata(p).ok()).is_some_and(|m| m.is_dir());
        parent_is_real && self.verify_tree().is_ok() && remove_own_file(path)
    }

    /// The whole content of a (small, bookkeeping) file under the root.
    pub(crate) fn read_in(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.open_in(path, libc::O_RDONLY, 0)?.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// Whether a file starts with our magic: the last check before deleting it.
    pub(crate) fn has_magic(&self, path: &Path) -> bool {
        let mut magic = [0u8; 8];
        self.open_in(path, libc::O_RDONLY, 0).and_then(|mut f| f.read_exact(&mut magic)).is_ok()
            && &magic == MAGIC
    }

    /// Opens the root, creating it and any missing parents 0700.
    pub fn open_or_create(root: &Path) -> Result<DiskStore, StoreError> {
        if let Some(store) = DiskStore::open_existing(root)? {
            return Ok(store);
        }
        private_dir_all(root)?;
        let tag = root.join("CACHEDIR.TAG");
        // Best effort: the tag only tells backup tools to skip the cache.
        let _ = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tag)
            .and_then(|mut f| std::io::Write::write_all(&mut f, CACHEDIR_TAG.as_bytes()));
        DiskStore::open_existing(root)?
            .ok_or_else(|| StoreError::io(root, std::io::ErrorKind::NotFound.into()))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The versioned tree that holds everything but the tag.
    pub fn v1(&self) -> PathBuf {
        self.root.join("v1")
    }

    /// `(shard dir, file name)` of every file under `v1/<base>/<2 hex>/`;
    /// nothing when the tree is not made of real directories.
    pub(crate) fn shard_files(&self, base: &str) -> Vec<(PathBuf, String)> {
        if self.verify_tree().is_err() {
            return Vec::new();
        }
        own_files(&self.v1().join(base))
    }

    fn shard_dir(&self, base: &str, key: &Key) -> PathBuf {
        self.root.join("v1").join(base).join(&key.hex()[..2])
    }

    pub fn entry_path(&self, key: &Key) -> PathBuf {
        self.shard_dir("entries", key).join(key.hex())
    }

    /// Takes the per-key single-flight lock.
    pub fn lock(&self, key: &Key, timeout: Duration) -> LockOutcome {
        let dir = self.shard_dir("locks", key);
        if let Err(e) = self.real_dir(&dir) {
            return LockOutcome::Unavailable(std::io::Error::other(e.to_string()));
        }
        let path = dir.join(format!("{}.lock", key.hex()));
        match self.open_in(&path, libc::O_RDWR | libc::O_CREAT, 0o600) {
            Ok(file) => lock::acquire(file, timeout),
            Err(e) => LockOutcome::Unavailable(e),
        }
    }
}

/// The root must be a directory owned by us and writable by nobody else:
/// otherwise another user could read our outputs or plant entries.
fn check_root(root: &Path, meta: &fs::Metadata) -> Result<(), StoreError> {
    let refuse = |reason: String| StoreError::UnsafeRoot { path: root.to_path_buf(), reason };
    if !meta.is_dir() {
        return Err(refuse("it is not a directory".into()));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(refuse(format!(
            "it is owned by uid {}, not by you (uid {me}); use a directory of your own",
            meta.uid()
        )));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(refuse(format!(
            "it is writable by others (mode {mode:04o}); fix with: chmod 700 {}",
            root.display()
        )));
    }
    Ok(())
}

/// Creates `dir` and missing parents with mode 0700 whatever the umask.
fn private_dir_all(dir: &Path) -> Result<(), StoreError> {
    match DirBuilder::new().recursive(true).mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) => Err(StoreError::io(dir, e)),
    }
}

fn is_key_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
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

/// Reads exactly `buf.len()` bytes at `offset`, or fails as truncated.
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> Result<(), DecodeError> {
    file.read_exact_at(buf, offset).map_err(|_| DecodeError::Short)
}

/// Hashes a region of the file in bounded chunks.
fn hash_region(file: &File, range: std::ops::Range<u64>) -> Result<u64, DecodeError> {
    let mut hasher = Xxh3::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut at = range.start;
    while at < range.end {
        let n = (range.end - at).min(buf.len() as u64) as usize;
        read_exact_at(file, &mut buf[..n], at)?;
        hasher.update(&buf[..n]);
        at += n as u64;
    }
    Ok(hasher.digest())
}

/// Checks every checksum of an entry. Small entries come back whole.
pub(crate) fn verify(file: &File, size: u64) -> Result<(Header, Option<Vec<u8>>), DecodeError> {
    if size <= SMALL_ENTRY as u64 {
        let mut contents = vec![0u8; size as usize];
        read_exact_at(file, &mut contents, 0)?;
        let header = Header::decode(&contents, size)?;
        let region = |r: std::ops::Range<u64>| &contents[r.start as usize..r.end as usize];
        check(xxh3_64(region(header.meta_range())), header.meta_hash, "metadata")?;
        check(xxh3_64(region(header.stdout_range())), header.stdout_hash, "stdout")?;
        check(xxh3_64(region(header.stderr_range())), header.stderr_hash, "stderr")?;
        check(xxh3_64(region(header.outputs_range())), header.outputs_hash, "outputs")?;
        check(xxh3_64(region(header.runs_range())), header.runs_hash, "runs")?;
        return Ok((header, Some(contents)));
    }
    let mut bytes = [0u8; HEADER_LEN];
    read_exact_at(file, &mut bytes, 0)?;
    let header = Header::decode(&bytes, size)?;
    check(hash_region(file, header.meta_range())?, header.meta_hash, "metadata")?;
    check(hash_region(file, header.stdout_range())?, header.stdout_hash, "stdout")?;
    check(hash_region(file, header.stderr_range())?, header.stderr_hash, "stderr")?;
    check(hash_region(file, header.outputs_range())?, header.outputs_hash, "outputs")?;
    check(hash_region(file, header.runs_range())?, header.runs_hash, "runs")?;
    Ok((header, None))
}

fn check(actual: u64, expected: u64, what: &'static str) -> Result<(), DecodeError> {
    if actual == expected {
        Ok(())
    } else {
        Err(DecodeError::BodyChecksum(what))
    }
}

/// Removes `path` only if it is a regular file (not a symlink); callers
/// check the directories on the way (`DiskStore::remove_file`).
fn remove_own_file(path: &Path) -> bool {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() => fs::remove_file(path).is_ok(),
        _ => false,
    }
}

/// Replaces `path` with `bytes` atomically (a private temp file beside it,
/// then rename), for cachecmd's small bookkeeping files. Best effort.
pub(crate) fn replace_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = path.with_file_name(format!("{TEMP_PREFIX}{name}.{}", std::process::id()));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&temp)
        .and_then(|mut f| std::io::Write::write_all(&mut f, bytes))
        .and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

static TEMP_COUNTER: AtomicU32 = AtomicU32::new(0);

impl Store for DiskStore {
    fn lookup(&self, key: &Key) -> Result<Option<StoredEntry>, StoreError> {
        let path = self.entry_path(key);
        let file = match self.open_in(&path, libc::O_RDONLY, 0) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io(path, e)),
        };
        let meta = file.metadata().map_err(|e| StoreError::io(&path, e))?;
        if !meta.is_file() {
            return Err(StoreError::Corrupt { path, source: DecodeError::Magic });
        }
        let (header, contents) = verify(&file, meta.len())
            .map_err(|source| StoreError::Corrupt { path: path.clone(), source })?;
        let age = meta
            .modified()
            .ok()
            .and_then(|mtime| SystemTime::now().duration_since(mtime).ok())
            .unwrap_or(Duration::ZERO);
        Ok(Some(StoredEntry { file, header, age, contents }))
    }

    fn begin(&self, key: &Key) -> Result<PendingEntry, StoreError> {
        let dir = self.shard_dir("entries", key);
        self.real_dir(&dir)?;
        let temp_path = dir.join(format!(
            "{TEMP_PREFIX}{}.{}.{}",
            key.hex(),
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let file = self
            .open_in(&temp_path, libc::O_RDWR | libc::O_CREAT | libc::O_EXCL, 0o600)
            .map_err(|e| StoreError::io(&temp_path, e))?;
        Ok(PendingEntry { file, temp_path, final_path: dir.join(key.hex()) })
    }

    fn publish(&self, mut pending: PendingEntry) -> Result<(), StoreError> {
        fs::rename(&pending.temp_path, &pending.final_path)
            .map_err(|e| StoreError::io(&pending.final_path, e))?;
        pending.temp_path = PathBuf::new();
        Ok(())
    }

    fn remove(&self, key: &Key) -> Result<bool, StoreError> {
        self.verify_tree()?;
        let path = self.entry_path(key);
        let removed = self.has_magic(&path) && self.remove_file(&path);
        let lock = self.shard_dir("locks", key).join(format!("{}.lock", key.hex()));
        self.remove_file(&lock);
        Ok(removed)
    }

    fn clear(&self) -> Result<usize, StoreError> {
        self.verify_tree()?;
        let mut removed = 0;
        for (shard, name) in self.shard_files("entries") {
            let path = shard.join(&name);
            if is_temp_name(&name) {
                self.remove_file(&path);
            } else if is_key_name(&name) && self.has_magic(&path) && self.remove_file(&path) {
                removed += 1;
            }
        }
        for (shard, name) in self.shard_files("locks") {
            if name.strip_suffix(".lock").is_some_and(is_key_name) {
                self.remove_file(&shard.join(name));
            }
        }
        Ok(removed)
    }
}

impl Drop for PendingEntry {
    /// An entry abandoned before `publish` leaves no temp file behind.
    fn drop(&mut self) {
        if !self.temp_path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.temp_path);
        }
    }
}

/// `(shard dir, file name)` of every file in real (non-symlink) two-hex-digit
/// shard directories under `base`; vanished files and shards are skipped.
fn own_files(base: &Path) -> Vec<(PathBuf, String)> {
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
