//! `--input PATH|GLOB`: the content of files as key material.
//!
//! Each spec expands to files: a file is itself, a directory is every file
//! under it, a glob (`**` allowed, matched by `globset`) is every file under
//! its literal prefix whose path matches. `.git/` is always skipped. Each
//! file contributes its path relative to the cwd, its kind (file, executable
//! file, symlink) and a SHA-256 of its content (a symlink: of its target), in
//! sorted order. An explicit path that does not exist is keyed as absent.
//! A FIFO, socket or device is never opened (reading one could block
//! forever or consume someone's data): it is keyed by its type alone, as an
//! unreadable file whose digest names that type.
//!
//! Hashing runs on every core; a `DigestCache` (the store's persistent stat
//! cache) makes an unchanged tree cost little more than its `stat` calls.

use std::fs::{self, File};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use globset::GlobBuilder;
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::{Input, Kind};
use crate::par::par_filter_map;

#[derive(Debug, Error)]
pub enum InputError {
    #[error("--input pattern '{pattern}': {message}")]
    Pattern { pattern: String, message: String },
}

/// Digests remembered from earlier runs, so an unchanged tree is not read
/// again. Lookups run on many threads at once.
pub trait DigestCache: Sync {
    /// The digest recorded for `path`, when `meta` (taken before any read)
    /// proves the file unchanged since.
    fn lookup(&self, path: &Path, meta: &fs::Metadata) -> Option<[u8; 32]>;
    /// Remembers the digests computed in this pass.
    fn save(&mut self, fresh: Vec<Hashed>);
}

/// No cache: every file is hashed.
#[cfg(test)]
pub struct NoCache;

#[cfg(test)]
impl DigestCache for NoCache {
    fn lookup(&self, _: &Path, _: &fs::Metadata) -> Option<[u8; 32]> {
        None
    }

    fn save(&mut self, _: Vec<Hashed>) {}
}

/// A digest computed just now, for a `DigestCache` to remember.
#[derive(Debug)]
pub struct Hashed {
    pub path: PathBuf,
    /// Taken before reading, so a change during hashing shows up as a
    /// later ctime.
    pub meta: fs::Metadata,
    /// When hashing finished.
    pub hashed_at: SystemTime,
    pub digest: [u8; 32],
}

/// A file found by expanding the specs, before hashing.
struct Found {
    absolute: PathBuf,
    shown: Vec<u8>,
}

fn is_glob(spec: &str) -> bool {
    spec.contains(['*', '?', '[', '{'])
}

/// The path as the key shows it: relative to `cwd` when inside it.
fn shown_path(path: &Path, cwd: &Path) -> Vec<u8> {
    let relative = path.strip_prefix(cwd).unwrap_or(path);
    let shown = if relative.as_os_str().is_empty() { Path::new(".") } else { relative };
    shown.as_os_str().as_bytes().to_vec()
}

/// Every file (and symlink) under `dir`, not descending into `.git`.
fn walk(dir: &Path) -> impl Iterator<Item = PathBuf> {
    walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git" || e.depth() == 0)
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .map(walkdir::DirEntry::into_path)
}

/// The directory a glob's matches must be under: its components before the
/// first one with a wildcard.
fn glob_base(pattern: &str) -> PathBuf {
    let mut base = PathBuf::new();
    for component in Path::new(pattern).components() {
        match component {
            Component::Normal(part) if is_glob(&part.to_string_lossy()) => break,
            other => base.push(other),
        }
    }
    if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base
    }
}

fn expand(specs: &[String], cwd: &Path) -> Result<(Vec<Found>, Vec<Input>), InputError> {
    let mut found = Vec::new();
    let mut absent = Vec::new();
    for spec in specs {
        if is_glob(spec) {
            let matcher = GlobBuilder::new(spec)
                .literal_separator(true)
                .build()
                .map_err(|e| InputError::Pattern {
                    pattern: spec.clone(),
                    message: e.kind().to_string(),
                })?
                .compile_matcher();
            let base = cwd.join(glob_base(spec));
            let absolute_pattern = Path::new(spec).is_absolute();
            for path in walk(&base) {
                // Match as the user wrote the pattern: relative to the cwd
                // unless the pattern itself is absolute.
                let candidate =
                    if absolute_pattern { path.clone() } else { relative_to(&path, cwd) };
                if matcher.is_match(&candidate) {
                    found.push(Found { shown: shown_path(&path, cwd), absolute: path });
                }
            }
        } else {
            let path = cwd.join(spec);
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => found
                    .extend(walk(&path).map(|p| Found { shown: shown_path(&p, cwd), absolute: p })),
                Ok(_) => found.push(Found { shown: shown_path(&path, cwd), absolute: path }),
                Err(_) => absent.push(Input {
                    path: shown_path(&path, cwd),
                    kind: Kind::Absent,
                    digest: [0; 32],
                }),
            }
        }
    }
    Ok((found, absent))
}

fn relative_to(path: &Path, cwd: &Path) -> PathBuf {
    let relative = path.strip_prefix(cwd).unwrap_or(path);
    relative.strip_prefix(".").unwrap_or(relative).to_path_buf()
}

/// Expands and hashes the specs, through `cache` (`NoCache`: hash
/// everything).
pub fn collect(
    specs: &[String],
    cwd: &Path,
    cache: &mut dyn DigestCache,
) -> Result<Vec<Input>, InputError> {
    let (mut found, absent) = expand(specs, cwd)?;
    found.sort_by(|a, b| a.shown.cmp(&b.shown));
    found.dedup_by(|a, b| a.shown == b.shown);
    let shared: &dyn DigestCache = cache;
    let hashed = par_filter_map(&found, |file| Some(hash_one(file, shared)));
    let mut inputs: Vec<Input> = Vec::with_capacity(hashed.len() + absent.len());
    let mut fresh = Vec::new();
    for (input, record) in hashed {
        inputs.push(input);
        fresh.extend(record);
    }
    if !fresh.is_empty() {
        cache.save(fresh);
    }
    inputs.extend(absent);
    inputs.sort();
    Ok(inputs)
}

fn hash_one(file: &Found, cache: &dyn DigestCache) -> (Input, Option<Hashed>) {
    let input = |kind, digest| Input { path: file.shown.clone(), kind, digest };
    let Ok(meta) = fs::symlink_metadata(&file.absolute) else {
        return (input(Kind::Absent, [0; 32]), None);
    };
    if meta.file_type().is_symlink() {
        let target = fs::read_link(&file.absolute).unwrap_or_default();
        let digest = Sha256::digest(target.as_os_str().as_bytes()).into();
        return (input(Kind::Symlink, digest), None);
    }
    if !meta.is_file() {
        return (input(Kind::Unreadable, special_digest(&meta)), None);
    }
    let kind = if meta.mode() & 0o111 != 0 { Kind::Executable } else { Kind::File };
    if let Some(digest) = cache.lookup(&file.absolute, &meta) {
        return (input(kind, digest), None);
    }
    match hash_file(&file.absolute) {
        Ok(digest) => {
            let path = file.absolute.clone();
            let hashed = Hashed { path, meta, hashed_at: SystemTime::now(), digest };
            (input(kind, digest), Some(hashed))
        }
        Err(_) => (input(Kind::Unreadable, [0; 32]), None),
    }
}

/// The digest standing for a special file: its type, never its content.
fn special_digest(meta: &fs::Metadata) -> [u8; 32] {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    let name: &[u8] = if kind.is_fifo() {
        b"special:fifo"
    } else if kind.is_socket() {
        b"special:socket"
    } else if kind.is_char_device() {
        b"special:char-device"
    } else if kind.is_block_device() {
        b"special:block-device"
    } else {
        b"special:other"
    };
    Sha256::digest(name).into()
}

/// SHA-256 of a regular file's content, streamed in bounded chunks. Opened
/// non-blocking and checked after opening, so a file swapped for a FIFO
/// since it was listed fails instead of hanging.
pub fn hash_file(path: &Path) -> std::io::Result<[u8; 32]> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = File::options().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"));
    }
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn paths(inputs: &[Input]) -> Vec<String> {
        inputs.iter().map(|i| String::from_utf8_lossy(&i.path).into_owned()).collect()
    }

    #[test]
    fn globs_directories_and_absent_paths() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        write(cwd, "src/a.rs", "a");
        write(cwd, "src/deep/b.rs", "b");
        write(cwd, "src/c.txt", "c");
        write(cwd, "docs/.git/HEAD", "x");
        write(cwd, "docs/d.md", "d");
        let specs = ["src/**/*.rs", "docs", "missing.lock", "none/*.zz"].map(String::from);
        let inputs = collect(&specs, cwd, &mut NoCache).unwrap();
        assert_eq!(paths(&inputs), ["docs/d.md", "missing.lock", "src/a.rs", "src/deep/b.rs"]);
        assert_eq!(inputs[1].kind, Kind::Absent);
    }

    #[test]
    fn a_fifo_is_keyed_by_its_type_without_being_opened() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "src/a", "a");
        let fifo = dir.path().join("src/p");
        rustix::fs::mkfifoat(rustix::fs::CWD, fifo, rustix::fs::Mode::from_bits_retain(0o600))
            .unwrap();
        let inputs = collect(&["src".to_string()], dir.path(), &mut NoCache).unwrap();
        assert_eq!(paths(&inputs), ["src/a", "src/p"]);
        assert_eq!(inputs[1].kind, Kind::Unreadable);
        assert_eq!(inputs[1].digest, <[u8; 32]>::from(Sha256::digest(b"special:fifo")));
        assert!(hash_file(&dir.path().join("src/p")).is_err());
    }

    #[test]
    fn single_star_does_not_cross_directories() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a/x.rs", "x");
        write(dir.path(), "a/b/y.rs", "y");
        let inputs = collect(&["a/*.rs".to_string()], dir.path(), &mut NoCache).unwrap();
        assert_eq!(paths(&inputs), ["a/x.rs"]);
    }

    #[test]
    fn a_bad_glob_names_the_pattern() {
        let dir = tempfile::tempdir().unwrap();
        let err = collect(&["src/[".to_string()], dir.path(), &mut NoCache).unwrap_err();
        assert!(err.to_string().contains("src/["), "{err}");
    }

    /// Remembers what it is given and answers every lookup with one digest.
    #[derive(Default)]
    struct Fixed {
        answer: Option<[u8; 32]>,
        saved: Vec<PathBuf>,
    }

    impl DigestCache for Fixed {
        fn lookup(&self, _: &Path, _: &fs::Metadata) -> Option<[u8; 32]> {
            self.answer
        }

        fn save(&mut self, fresh: Vec<Hashed>) {
            self.saved.extend(fresh.into_iter().map(|h| h.path));
        }
    }

    #[test]
    fn the_cache_answers_lookups_and_learns_fresh_digests() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "f", "content");
        let mut cold = Fixed::default();
        let inputs = collect(&["f".to_string()], dir.path(), &mut cold).unwrap();
        assert_eq!(inputs[0].digest, <[u8; 32]>::from(Sha256::digest(b"content")));
        assert_eq!(cold.saved, [dir.path().join("f")]);
        let mut warm = Fixed { answer: Some([9; 32]), saved: Vec::new() };
        let inputs = collect(&["f".to_string()], dir.path(), &mut warm).unwrap();
        assert_eq!(inputs[0].digest, [9; 32]);
        assert!(warm.saved.is_empty());
    }
}
