//! The local disk store.
//!
//! ```text
//! ROOT/CACHEDIR.TAG
//! ROOT/v1/entries/ab/abcd…(64 hex)          one entry per key, 0600
//! ROOT/v1/entries/ab/.tmp.abcd….PID.RANDOM  an entry being written (flocked)
//! ROOT/v1/locks/ab/abcd….lock               single-flight lock files
//! ```
//!
//! 256 shards keep a directory under ~4,000 files at a million entries
//! (the names are `layout.rs`).
//! Nothing under the root is reached through a symlink: files are opened
//! with `openat2(RESOLVE_NO_SYMLINKS)` from the root's descriptor (see
//! `beneath.rs`), and path-based operations (readdir, mkdir, rename,
//! unlink) first check that the directories on the way are real ones.
//! An entry's age is its file's mtime: set when it is published, and easy
//! for tests and users to move (`touch`) without a hidden clock.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::beneath::RootDir;
use super::layout::{classify, own_files, random_u64, temp_entry_name, Own, TEMP_PREFIX};
use super::lock::{self, LockOutcome};
pub(crate) use super::verify::verify;
use super::{PendingEntry, Store, StoreError, StoredEntry};
use crate::entry::{DecodeError, MAGIC};
use crate::key::Key;

const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by cachecmd.\n\
# For information about cache directory tags see https://bford.info/cachedir/\n";

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

    /// Takes the lock of maintenance (gc, journal compaction) without
    /// waiting; `None` when another holder has it.
    pub fn try_maintenance_lock(&self) -> Option<File> {
        let path = self.v1().join("gc.lock");
        let file = self.open_in(&path, libc::O_RDWR | libc::O_CREAT, 0o600).ok()?;
        file.try_lock().ok().map(|()| file)
    }

    /// Takes the lock of maintenance, waiting for a running gc to finish.
    pub fn maintenance_lock(&self) -> std::io::Result<File> {
        let path = self.v1().join("gc.lock");
        let file = self.open_in(&path, libc::O_RDWR | libc::O_CREAT, 0o600)?;
        file.lock()?;
        Ok(file)
    }

    /// Takes the per-key single-flight lock.
    pub fn lock(&self, key: &Key, timeout: Duration) -> LockOutcome {
        let dir = self.shard_dir("locks", key);
        if let Err(e) = self.real_dir(&dir) {
            return LockOutcome::Unavailable(std::io::Error::other(e.to_string()));
        }
        let path = dir.join(format!("{}.lock", key.hex()));
        let open = || self.open_in(&path, libc::O_RDWR | libc::O_CREAT, 0o600);
        lock::acquire(&open, &path, timeout)
    }

    /// Removes a lock file of ours, only while holding its lock: a holder
    /// keeps it, and a waiter that then gets the unlinked file notices and
    /// locks the new one (see `lock.rs`).
    pub(crate) fn remove_lock_file(&self, path: &Path) -> bool {
        let Ok(file) = self.open_in(path, libc::O_RDWR, 0) else { return false };
        file.try_lock().is_ok()
            && lock::still_at(&file, path).unwrap_or(false)
            && self.remove_file(path)
    }

    /// Removes a temp file left by a dead writer: one whose `flock` nobody
    /// holds (a writer holds it from `begin` until it is done, and the
    /// kernel drops it when the writer dies) and whose mtime is older than
    /// `stale` (covering the instant between creating and locking it).
    pub(crate) fn remove_dead_temp(&self, path: &Path, stale: Duration) -> bool {
        let Ok(file) = self.open_in(path, libc::O_RDONLY, 0) else { return false };
        let old = file
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|m| SystemTime::now().duration_since(m).unwrap_or_default() > stale);
        old && file.try_lock().is_ok() && self.remove_file(path)
    }

    /// Whether `path` is an entry of ours to delete: a regular file that
    /// starts with our magic. A file with a key-like name and other content
    /// is someone else's.
    pub(crate) fn is_own_entry(&self, path: &Path) -> bool {
        self.has_magic(path)
    }
}

/// The root must be a directory owned by us and writable by nobody else:
/// otherwise another user could read our outputs or plant entries.
fn check_root(root: &Path, meta: &fs::Metadata) -> Result<(), StoreError> {
    let refuse = |reason: String| StoreError::UnsafeRoot { path: root.to_path_buf(), reason };
    if !meta.is_dir() {
        return Err(refuse("it is not a directory".into()));
    }
    let me = rustix::process::geteuid().as_raw();
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
    // Random, not the PID: a crashed writer's leftover with a repeated PID
    // would otherwise stop every later save.
    let temp = path.with_file_name(format!("{TEMP_PREFIX}{name}.{:016x}", random_u64()));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&temp)
        .and_then(|mut f| std::io::Write::write_all(&mut f, bytes))
        .and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

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
        let (header, contents) = verify(&file, meta.len(), key)
            .map_err(|source| StoreError::Corrupt { path: path.clone(), source })?;
        // A future mtime (skewed clock, restored cache) ages the entry too.
        let now = crate::freshness::clock().now();
        let age = meta.modified().map_or(Duration::ZERO, |mtime| crate::freshness::age(now, mtime));
        Ok(Some(StoredEntry { file, header, age, contents }))
    }

    fn begin(&self, key: &Key) -> Result<PendingEntry, StoreError> {
        let dir = self.shard_dir("entries", key);
        self.real_dir(&dir)?;
        let mut attempts = 0;
        loop {
            let temp_path = dir.join(temp_entry_name(key));
            let flags = libc::O_RDWR | libc::O_CREAT | libc::O_EXCL;
            match self.open_in(&temp_path, flags, 0o600) {
                Ok(file) => {
                    // Held until the writer is done or dead: tells `clear`
                    // and gc this temp file is alive. Best effort (no flock:
                    // gc's age bound still applies).
                    let _ = file.try_lock();
                    let final_path = dir.join(key.hex());
                    return Ok(PendingEntry { file, temp_path, final_path, key: *key });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempts < 16 => {
                    attempts += 1;
                }
                Err(e) => return Err(StoreError::io(&temp_path, e)),
            }
        }
    }

    fn publish(&self, mut pending: PendingEntry) -> Result<(), StoreError> {
        // Something other than an entry file (a FIFO, a directory) at the
        // entry's name is not ours to replace: the run is not cached.
        match fs::symlink_metadata(&pending.final_path) {
            Ok(meta) if !meta.is_file() => {
                let error = super::beneath::not_regular();
                return Err(StoreError::io(&pending.final_path, error));
            }
            _ => {}
        }
        fs::rename(&pending.temp_path, &pending.final_path)
            .map_err(|e| StoreError::io(&pending.final_path, e))?;
        pending.temp_path = PathBuf::new();
        Ok(())
    }

    fn remove(&self, key: &Key) -> Result<bool, StoreError> {
        self.verify_tree()?;
        let path = self.entry_path(key);
        let removed = self.is_own_entry(&path) && self.remove_file(&path);
        let lock = self.shard_dir("locks", key).join(format!("{}.lock", key.hex()));
        self.remove_lock_file(&lock);
        Ok(removed)
    }

    fn clear(&self) -> Result<usize, StoreError> {
        self.verify_tree()?;
        let mut removed = 0;
        for (shard, name) in self.shard_files("entries") {
            let path = shard.join(&name);
            match classify("entries", &name) {
                // A live writer's temp file stays: it is removed when it is
                // published, abandoned, or found dead by gc.
                Own::Temp => {
                    self.remove_dead_temp(&path, Duration::ZERO);
                }
                Own::Entry(_) if self.is_own_entry(&path) && self.remove_file(&path) => {
                    removed += 1
                }
                _ => {}
            }
        }
        for (shard, name) in self.shard_files("locks") {
            if classify("locks", &name) == Own::Lock {
                self.remove_lock_file(&shard.join(name));
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
