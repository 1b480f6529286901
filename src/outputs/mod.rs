//! `--output PATH`: files a command produces, archived into its cache entry
//! after a successful miss and restored, before stdout/stderr are replayed,
//! on a hit.
//!
//! # Archive layout
//!
//! One zstd frame (level 3, content checksum on) holding a tar stream of GNU
//! headers, written and read strictly in this order:
//!
//! 1. A regular file named `.cachecmd-outputs` (the manifest): the bytes
//!    `cachecmd-outputs 1\n`, then one record per declared output, sorted by
//!    path: a tag byte (`+` present, `-` absent), the path relative to the
//!    cwd as raw bytes, a NUL. Declared paths are normalized (no `.`, no
//!    `..`, not absolute, not the cwd itself) and none is inside another.
//! 2. For each present output, in manifest order: its root entry under its
//!    relative path, then (for a directory) everything below it, depth first,
//!    sorted by name. Entry types: directory, regular file, symlink, nothing
//!    else (a hard link is stored as a second copy of the file).
//!
//! Each entry carries its permission bits and its mtime (seconds in the
//! header; a pax `mtime=SECS.NANOS` record before it when the time has a
//! fractional part). Paths or link targets longer than 100 bytes use GNU
//! long-name / long-link records. Owners are written as 0 and ignored.
//!
//! Plain `tar --zstd -xf` can unpack an archive (the manifest comes out as a
//! file); `restore` is the way to apply one safely.
//!
//! # Safety of restore
//!
//! `restore` treats the archive as hostile. It never writes outside a staging
//! name (`.cachecmd-restore.<random>`, 64 bits from the OS generator) beside
//! each destination until the whole archive has been read and checked, so a
//! refused or corrupt archive changes nothing (staging is removed). It
//! refuses: a manifest that does not list exactly the caller's declared
//! outputs (so an entry can neither replace nor delete anything else);
//! manifest paths that are absolute or contain `..`; entries outside the
//! declared outputs;
//! hard links, devices, FIFOs, sparse and other special entries; symlinks
//! whose target leaves the cwd; any entry whose parent is not a directory
//! created earlier by the same archive (so nothing is ever written through a
//! symlink); a destination whose existing parent directories lead outside
//! the cwd through a symlink. Then each output is swapped into place with
//! `renameat2(RENAME_EXCHANGE)` (rename-aside fallback) and the old version
//! deleted; if any swap fails the earlier ones are undone. Setuid, setgid and
//! sticky bits are not restored (mode & 0o777). A restore killed midway
//! leaves each output either old or new, never mixed, plus possibly a
//! `.cachecmd-restore.*` name beside it (garbage, safe to delete).
//!
//! `archive` applies the same rules, so that what it writes can be restored:
//! an output holding a symlink that leads outside the cwd (say a virtualenv's
//! `bin/python -> /usr/bin/python3`), a FIFO, socket or device, or reached
//! through a parent symlink leading outside, is `Unarchivable` (don't cache
//! the run).
//!
//! Memory is constant in the size of the tree: files are streamed through one
//! 256 KiB buffer, long names and pax records are bounded, and zstd's window
//! is capped at 16 MiB when decoding. (Archiving reads one directory's
//! listing at a time to sort it.)

mod archive;
mod restore;
#[cfg(test)]
mod tests;

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use thiserror::Error;

pub use archive::archive;
pub use restore::restore;

/// The name of the manifest, the first entry of every archive.
pub const MANIFEST_NAME: &str = ".cachecmd-outputs";
const MANIFEST_MAGIC: &[u8] = b"cachecmd-outputs 1\n";
/// Upper bound on the manifest, long names and pax records read on restore.
const MANIFEST_MAX: u64 = 1 << 20;
/// The prefix of staging names `restore` creates beside destinations.
pub const STAGING_PREFIX: &str = ".cachecmd-restore.";

/// What `archive` stored: regular files and symlinks, and the bytes of the
/// regular files (uncompressed).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveSummary {
    pub files: u64,
    pub bytes: u64,
}

/// What `restore` wrote: regular files and symlinks, and the bytes of the
/// regular files.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RestoreSummary {
    pub files: u64,
    pub bytes: u64,
}

/// `1 file, 10 bytes`: for the `-v` status line.
fn describe_counts(f: &mut std::fmt::Formatter<'_>, files: u64, bytes: u64) -> std::fmt::Result {
    let files_word = if files == 1 { "file" } else { "files" };
    let bytes_word = if bytes == 1 { "byte" } else { "bytes" };
    write!(f, "{files} {files_word}, {bytes} {bytes_word}")
}

impl std::fmt::Display for ArchiveSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        describe_counts(f, self.files, self.bytes)
    }
}

impl std::fmt::Display for RestoreSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        describe_counts(f, self.files, self.bytes)
    }
}

#[derive(Debug, Error)]
pub enum OutputError {
    /// A declared `--output` path is unusable (a usage error: exit 125
    /// before running anything).
    #[error("--output '{}': {reason}", path.display())]
    Declared { path: PathBuf, reason: &'static str },
    /// An output exists but cannot be archived faithfully or restorably
    /// (a FIFO, a symlink leading out of the cwd, a file that changed while
    /// it was read): the run should not be cached.
    #[error("output '{}': {reason}", path.display())]
    Unarchivable { path: PathBuf, reason: String },
    /// `restore` refused the archive (corrupt or crafted); nothing was
    /// changed outside staging.
    #[error("refusing to restore outputs: '{}': {reason}", path.display())]
    Refused { path: PathBuf, reason: String },
    #[error("{what}{}: {source}", quoted(path))]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn quoted(path: &Path) -> String {
    if path.as_os_str().is_empty() {
        String::new()
    } else {
        format!(" '{}'", path.display())
    }
}

impl OutputError {
    pub(crate) fn io(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> OutputError {
        let path = path.to_path_buf();
        move |source| OutputError::Io { what, path, source }
    }

    pub(crate) fn refused(path: &Path, reason: impl Into<String>) -> OutputError {
        OutputError::Refused { path: path.to_path_buf(), reason: reason.into() }
    }
}

/// Checks and normalizes `--output` arguments: each becomes a path relative
/// to `cwd` without `.` components. Refuses an empty path, one with a `..`
/// component, an absolute path outside `cwd`, and the cwd itself. The result
/// is sorted, without duplicates, and a path inside another declared one is
/// dropped (the outer one covers it).
pub fn validate_declared(paths: &[OsString], cwd: &Path) -> Result<Vec<PathBuf>, OutputError> {
    normalize_all(paths.iter().map(Path::new), cwd)
}

pub(crate) fn normalize_all<'a>(
    paths: impl Iterator<Item = &'a Path>,
    cwd: &Path,
) -> Result<Vec<PathBuf>, OutputError> {
    let canon_cwd = cwd.canonicalize().ok();
    let mut all =
        paths.map(|p| normalize(p, cwd, canon_cwd.as_deref())).collect::<Result<Vec<_>, _>>()?;
    all.sort();
    let mut kept: Vec<PathBuf> = Vec::with_capacity(all.len());
    for path in all {
        if kept.last().is_some_and(|last| path.starts_with(last)) {
            continue;
        }
        kept.push(path);
    }
    Ok(kept)
}

fn normalize(path: &Path, cwd: &Path, canon_cwd: Option<&Path>) -> Result<PathBuf, OutputError> {
    let declared = |reason| OutputError::Declared { path: path.to_path_buf(), reason };
    if path.as_os_str().is_empty() {
        return Err(declared("the path is empty"));
    }
    let relative = if path.is_absolute() {
        path.strip_prefix(cwd)
            .ok()
            .or_else(|| canon_cwd.and_then(|c| path.strip_prefix(c).ok()))
            .ok_or_else(|| declared("is outside the working directory"))?
    } else {
        path
    };
    let mut out = PathBuf::new();
    for component in relative.components() {
        match component {
            Component::Normal(name) => out.push(name),
            Component::CurDir => {}
            Component::ParentDir => return Err(declared("contains a '..' component")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(declared("is outside the working directory"));
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Err(declared("is the working directory itself; name what is inside it"));
    }
    Ok(out)
}

/// The manifest: declared outputs in order, and whether each exists.
pub(crate) fn encode_manifest(outputs: &[(PathBuf, bool)]) -> Vec<u8> {
    let mut out = MANIFEST_MAGIC.to_vec();
    for (path, present) in outputs {
        out.push(if *present { b'+' } else { b'-' });
        out.extend_from_slice(path.as_os_str().as_bytes());
        out.push(0);
    }
    out
}

/// Decodes and checks a manifest: every path relative and normalized, in
/// strictly increasing order, none inside another.
pub(crate) fn decode_manifest(bytes: &[u8]) -> Result<Vec<(PathBuf, bool)>, OutputError> {
    let manifest = Path::new(MANIFEST_NAME);
    let records = bytes.strip_prefix(MANIFEST_MAGIC).ok_or_else(|| {
        OutputError::refused(manifest, "not a cachecmd outputs manifest (version 1)")
    })?;
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let records = records
        .strip_suffix(b"\0")
        .ok_or_else(|| OutputError::refused(manifest, "truncated manifest"))?;
    let mut out: Vec<(PathBuf, bool)> = Vec::new();
    for record in records.split(|&b| b == 0) {
        let (present, raw) = match record.split_first() {
            Some((b'+', raw)) => (true, raw),
            Some((b'-', raw)) => (false, raw),
            _ => return Err(OutputError::refused(manifest, "malformed manifest record")),
        };
        let path = Path::new(OsStr::from_bytes(raw));
        let normal = entry_path(raw)?;
        if normal.as_os_str() != path.as_os_str() {
            return Err(OutputError::refused(
                path,
                "declared output is not a normalized relative path",
            ));
        }
        if let Some((last, _)) = out.last() {
            if normal <= *last || normal.starts_with(last) {
                return Err(OutputError::refused(path, "declared outputs out of order or nested"));
            }
        }
        out.push((normal, present));
    }
    Ok(out)
}

/// A path from an archive, checked: relative, no `..`, not empty. `.`
/// components are dropped.
pub(crate) fn entry_path(raw: &[u8]) -> Result<PathBuf, OutputError> {
    let path = Path::new(OsStr::from_bytes(raw));
    if raw.is_empty() || raw.contains(&0) {
        return Err(OutputError::refused(path, "empty or malformed path"));
    }
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(name) => out.push(name),
            Component::CurDir => {}
            Component::ParentDir => return Err(OutputError::refused(path, "path contains '..'")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(OutputError::refused(path, "absolute path"));
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Err(OutputError::refused(path, "path names the working directory"));
    }
    Ok(out)
}

/// Where a destination's parent chain stands.
pub(crate) struct Location {
    /// The deepest existing ancestor of the destination's parent (possibly
    /// the parent itself), as `cwd.join(...)`.
    pub existing: PathBuf,
    /// Components between `existing` and the destination's parent that do
    /// not exist yet.
    pub missing: Vec<OsString>,
    /// The destination's real location relative to the canonical cwd (every
    /// component a real directory), for checking symlink targets.
    pub real: PathBuf,
}

/// Why a destination's parents are unusable.
pub(crate) enum Unusable {
    /// A parent is a file (or a dangling symlink).
    NotADirectory,
    /// A parent is a symlink leading outside the cwd.
    Escapes,
    Io(io::Error, PathBuf),
}

/// Walks the parents of `rel` (relative to `cwd`) without creating anything:
/// each existing one must be a directory, or a symlink to one, and the
/// deepest existing one must really be inside the cwd.
pub(crate) fn locate(rel: &Path, cwd: &Path, canon_cwd: &Path) -> Result<Location, Unusable> {
    let parent = rel.parent().unwrap_or(Path::new(""));
    let mut existing = cwd.to_path_buf();
    let mut missing = Vec::new();
    for component in parent.components() {
        let name = component.as_os_str();
        if !missing.is_empty() {
            missing.push(name.to_os_string());
            continue;
        }
        let next = existing.join(name);
        match next.symlink_metadata() {
            Ok(meta) if meta.is_dir() => existing = next,
            Ok(meta) if meta.file_type().is_symlink() => match next.metadata() {
                Ok(target) if target.is_dir() => existing = next,
                _ => return Err(Unusable::NotADirectory),
            },
            Ok(_) => return Err(Unusable::NotADirectory),
            Err(e) if e.kind() == io::ErrorKind::NotFound => missing.push(name.to_os_string()),
            Err(e) => return Err(Unusable::Io(e, next)),
        }
    }
    let real = existing.canonicalize().map_err(|e| Unusable::Io(e, existing.clone()))?;
    let Ok(real) = real.strip_prefix(canon_cwd) else {
        return Err(Unusable::Escapes);
    };
    let mut real = real.to_path_buf();
    real.extend(&missing);
    real.push(rel.file_name().unwrap_or_default());
    Ok(Location { existing, missing, real })
}

/// Whether a symlink in directory `link_dir` (a real location relative to the
/// canonical cwd) pointing at `target` resolves inside the cwd. Relative
/// targets may climb with leading `..` but not after a normal component (a
/// component that is itself a symlink would make `..` go elsewhere);
/// absolute targets must lie under the cwd.
pub(crate) fn symlink_inside(link_dir: &Path, target: &Path, cwd: &Path, canon_cwd: &Path) -> bool {
    if target.as_os_str().is_empty() {
        return false;
    }
    let (mut depth, rest) = if target.is_absolute() {
        match target.strip_prefix(canon_cwd).or_else(|_| target.strip_prefix(cwd)) {
            Ok(rest) => (0usize, rest),
            Err(_) => return false,
        }
    } else {
        (link_dir.components().count(), target)
    };
    let mut seen_normal = false;
    for component in rest.components() {
        match component {
            Component::CurDir => {}
            Component::Normal(_) => seen_normal = true,
            Component::ParentDir => {
                if seen_normal || depth == 0 {
                    return false;
                }
                depth -= 1;
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}
