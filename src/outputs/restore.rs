//! Applying an archive: stage everything beside its destination, check it
//! all, then swap each output into place.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::ffi::{CString, OsStr};
use std::fs::{self, FileTimes, OpenOptions, Permissions};
use std::hash::BuildHasher;
use std::io::{self, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tar::{Archive, Entry, EntryType, PaxExtensions};

use super::{
    decode_manifest, entry_path, locate, normalize_all, symlink_inside, OutputError,
    RestoreSummary, Unusable, MANIFEST_MAX, MANIFEST_NAME, STAGING_PREFIX,
};

/// The largest zstd window accepted (16 MiB): bounds the decoder's memory
/// whatever a crafted frame asks for. The encoder (level 3) uses 2 MiB.
const WINDOW_LOG_MAX: u32 = 24;
const COPY_BUFFER: usize = 256 * 1024;

/// Restores an archive written by [`archive`](super::archive) into `cwd`:
/// each present output replaces what is at its path (file or whole tree),
/// each absent one is removed. `input` must yield exactly the archive.
///
/// `declared` are this invocation's `--output` paths (as given to
/// `archive`): the archive's manifest must list exactly those, so a crafted
/// entry cannot replace or delete anything else in the cwd.
///
/// Nothing outside staging names (`.cachecmd-restore.*` beside each
/// destination) is written until the whole archive has been read and
/// checked; on any error the staging is removed and the outputs are as they
/// were. See the module docs for what is refused.
pub fn restore(
    input: impl Read,
    cwd: &Path,
    declared: &[PathBuf],
) -> Result<RestoreSummary, OutputError> {
    let declared = normalize_all(declared.iter().map(PathBuf::as_path), cwd)?;
    let canon_cwd = cwd.canonicalize().map_err(OutputError::io("cannot resolve", cwd))?;
    let mut decoder = zstd::Decoder::new(input).map_err(stream_error)?;
    decoder.window_log_max(WINDOW_LOG_MAX).map_err(stream_error)?;
    let mut archive = Archive::new(BufReader::with_capacity(128 * 1024, decoder));
    let mut restorer = Restorer::new(cwd, &canon_cwd, declared);
    let read = restorer.read(&mut archive).and_then(|()| {
        // Read to the end of the zstd frame so that its checksum is checked.
        io::copy(&mut archive.into_inner(), &mut io::sink()).map(drop).map_err(stream_error)
    });
    if let Err(e) = read {
        restorer.discard();
        return Err(e);
    }
    restorer.commit()
}

fn stream_error(e: io::Error) -> OutputError {
    OutputError::Io {
        what: "corrupt or unreadable outputs archive",
        path: PathBuf::new(),
        source: e,
    }
}

/// An mtime: seconds since the epoch (maybe negative) and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mtime {
    pub secs: i64,
    pub nanos: u32,
}

impl Mtime {
    fn system_time(self) -> Option<SystemTime> {
        let whole = if self.secs >= 0 {
            UNIX_EPOCH.checked_add(Duration::from_secs(self.secs as u64))?
        } else {
            UNIX_EPOCH.checked_sub(Duration::from_secs(self.secs.unsigned_abs()))?
        };
        whole.checked_add(Duration::from_nanos(u64::from(self.nanos)))
    }
}

/// Parses a pax time, `[-]SECS[.FRACTION]`.
pub(crate) fn parse_mtime(value: &[u8]) -> Option<Mtime> {
    let text = std::str::from_utf8(value).ok()?;
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let mut nanos = 0u32;
    for digit in frac.bytes().chain(std::iter::repeat(b'0')).take(9) {
        nanos = nanos * 10 + u32::from(digit - b'0');
    }
    Some(match (negative, nanos) {
        (false, _) => Mtime { secs: whole, nanos },
        (true, 0) => Mtime { secs: -whole, nanos: 0 },
        (true, _) => Mtime { secs: -whole - 1, nanos: 1_000_000_000 - nanos },
    })
}

struct Output {
    rel: PathBuf,
    present: bool,
    /// Where its root is staged.
    root: PathBuf,
    /// Its real location relative to the canonical cwd.
    real: PathBuf,
    seen: bool,
}

/// One rename at commit: `staged` becomes `dest`. `replace`: `dest` is the
/// output itself and may exist (it is swapped out); otherwise `dest` is a
/// missing parent directory of outputs, created whole.
struct Unit {
    staged: PathBuf,
    dest: PathBuf,
    replace: bool,
}

/// A directory being restored: its mode and mtime are set once everything
/// inside it is written (the archive is depth first).
struct Frame {
    rel: PathBuf,
    staged: PathBuf,
    mode: u32,
    mtime: Mtime,
}

/// Extension records that describe the next entry.
#[derive(Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax_path: Option<Vec<u8>>,
    pax_link: Option<Vec<u8>>,
    mtime: Option<Mtime>,
    any: bool,
}

enum Undo {
    Exchange(PathBuf, PathBuf),
    Rename { from: PathBuf, to: PathBuf },
}

struct Restorer<'a> {
    cwd: &'a Path,
    canon_cwd: &'a Path,
    declared: Vec<PathBuf>,
    manifest_read: bool,
    outputs: Vec<Output>,
    by_path: HashMap<PathBuf, usize>,
    units: Vec<Unit>,
    removals: Vec<PathBuf>,
    current: Option<usize>,
    stack: Vec<Frame>,
    buf: Vec<u8>,
    summary: RestoreSummary,
}

impl<'a> Restorer<'a> {
    fn new(cwd: &'a Path, canon_cwd: &'a Path, declared: Vec<PathBuf>) -> Self {
        Restorer {
            cwd,
            canon_cwd,
            declared,
            manifest_read: false,
            outputs: Vec::new(),
            by_path: HashMap::new(),
            units: Vec::new(),
            removals: Vec::new(),
            current: None,
            stack: Vec::new(),
            buf: Vec::new(),
            summary: RestoreSummary::default(),
        }
    }

    /// Phase one: every entry into staging, checked.
    fn read<R: Read>(&mut self, archive: &mut Archive<R>) -> Result<(), OutputError> {
        // Raw: long names and pax records are handled here, with bounds.
        let entries = archive.entries().map_err(stream_error)?.raw(true);
        let mut pending = Pending::default();
        for entry in entries {
            let mut entry = entry.map_err(stream_error)?;
            let kind = entry.header().entry_type();
            match kind {
                EntryType::GNULongName if pending.long_name.is_none() => {
                    pending.long_name = Some(trim_nul(read_small(&mut entry, "long name")?));
                    pending.any = true;
                }
                EntryType::GNULongLink if pending.long_link.is_none() => {
                    pending.long_link = Some(trim_nul(read_small(&mut entry, "long link")?));
                    pending.any = true;
                }
                EntryType::XHeader if !pending.any => {
                    let data = read_small(&mut entry, "pax header")?;
                    pax(&data, &mut pending)?;
                    pending.any = true;
                }
                EntryType::Regular | EntryType::Directory | EntryType::Symlink => {
                    let pending = std::mem::take(&mut pending);
                    self.entry(&mut entry, kind, pending)?;
                }
                _ => {
                    let path = entry.header().path_bytes().into_owned();
                    let path = Path::new(OsStr::from_bytes(&path));
                    return Err(OutputError::refused(
                        path,
                        format!("{} entries are not restored", describe(kind)),
                    ));
                }
            }
        }
        if pending.any {
            return Err(OutputError::refused(Path::new(""), "extension header without an entry"));
        }
        self.finish_dirs()?;
        if !self.manifest_read {
            return Err(OutputError::refused(Path::new(MANIFEST_NAME), "archive has no manifest"));
        }
        if let Some(missing) = self.outputs.iter().find(|o| o.present && !o.seen) {
            return Err(OutputError::refused(
                &missing.rel,
                "declared present but missing from the archive",
            ));
        }
        Ok(())
    }

    fn entry<R: Read>(
        &mut self,
        entry: &mut Entry<'_, R>,
        kind: EntryType,
        pending: Pending,
    ) -> Result<(), OutputError> {
        let header = entry.header();
        let raw_path = match pending.pax_path.or(pending.long_name) {
            Some(path) => path,
            None => header.path_bytes().into_owned(),
        };
        let path = entry_path(&raw_path)?;
        let bad_header = |e: io::Error| OutputError::refused(&path, format!("bad header: {e}"));
        let mode = header.mode().map_err(bad_header)? & 0o777;
        let mtime = match pending.mtime {
            Some(mtime) => mtime,
            None => Mtime {
                secs: i64::try_from(header.mtime().map_err(bad_header)?).unwrap_or(i64::MAX),
                nanos: 0,
            },
        };
        let raw_link = match pending.pax_link.or(pending.long_link) {
            Some(link) => Some(link),
            None => header.link_name_bytes().map(|l| l.into_owned()),
        };

        if !self.manifest_read {
            if kind != EntryType::Regular || path != Path::new(MANIFEST_NAME) {
                return Err(OutputError::refused(
                    &path,
                    "the archive does not start with its manifest",
                ));
            }
            let manifest = read_small(entry, "manifest")?;
            self.plan(decode_manifest(&manifest)?)?;
            self.manifest_read = true;
            self.buf = vec![0; COPY_BUFFER];
            return Ok(());
        }

        // Where it goes: an output's root, or inside the directory on top of
        // the stack. Nothing else: an entry can never land inside a symlink
        // or anywhere this archive did not create.
        let (staged, link_dir) = if let Some(&index) = self.by_path.get(&path) {
            if self.outputs[index].seen {
                return Err(OutputError::refused(&path, "appears twice in the archive"));
            }
            self.finish_dirs()?;
            self.current = Some(index);
            let output = &mut self.outputs[index];
            output.seen = true;
            (output.root.clone(), output.real.parent().unwrap_or(Path::new("")).to_path_buf())
        } else {
            let output = match self.current {
                Some(index) if path.starts_with(&self.outputs[index].rel) => index,
                _ => return Err(OutputError::refused(&path, "not inside a declared output")),
            };
            let parent = path.parent().unwrap_or(Path::new(""));
            while self.stack.last().is_some_and(|top| top.rel != parent) {
                self.pop_dir()?;
            }
            let Some(top) = self.stack.last() else {
                return Err(OutputError::refused(
                    &path,
                    "its parent is not a directory restored before it in this archive",
                ));
            };
            let staged = top.staged.join(path.file_name().unwrap_or_default());
            let output = &self.outputs[output];
            let inner = parent.strip_prefix(&output.rel).unwrap_or(Path::new(""));
            (staged, output.real.join(inner))
        };

        let exists = |e: io::Error, staged: &Path| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                OutputError::refused(&path, "appears twice in the archive")
            } else {
                OutputError::io("cannot create", staged)(e)
            }
        };
        match kind {
            EntryType::Directory => {
                fs::DirBuilder::new()
                    .mode(0o700)
                    .create(&staged)
                    .map_err(|e| exists(e, &staged))?;
                self.stack.push(Frame { rel: path.clone(), staged, mode, mtime });
            }
            EntryType::Regular => {
                let time = mtime
                    .system_time()
                    .ok_or_else(|| OutputError::refused(&path, "mtime out of range"))?;
                let mut file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&staged)
                    .map_err(|e| exists(e, &staged))?;
                let size = entry.size();
                let mut copied = 0u64;
                loop {
                    let n = entry.read(&mut self.buf).map_err(stream_error)?;
                    if n == 0 {
                        break;
                    }
                    file.write_all(&self.buf[..n])
                        .map_err(OutputError::io("cannot write", &staged))?;
                    copied += n as u64;
                }
                if copied != size {
                    return Err(OutputError::refused(&path, "truncated archive"));
                }
                file.set_permissions(Permissions::from_mode(mode))
                    .map_err(OutputError::io("cannot set the mode of", &staged))?;
                file.set_times(FileTimes::new().set_modified(time))
                    .map_err(OutputError::io("cannot set the mtime of", &staged))?;
                self.summary.files += 1;
                self.summary.bytes += size;
            }
            EntryType::Symlink => {
                let Some(raw_link) = raw_link.filter(|l| !l.is_empty() && !l.contains(&0)) else {
                    return Err(OutputError::refused(&path, "symlink without a target"));
                };
                let target = Path::new(OsStr::from_bytes(&raw_link));
                if !symlink_inside(&link_dir, target, self.cwd, self.canon_cwd) {
                    return Err(OutputError::refused(
                        &path,
                        format!(
                            "symlink to '{}' leads outside the working directory",
                            target.display()
                        ),
                    ));
                }
                std::os::unix::fs::symlink(target, &staged).map_err(|e| exists(e, &staged))?;
                set_symlink_mtime(&staged, mtime)
                    .map_err(OutputError::io("cannot set the mtime of", &staged))?;
                self.summary.files += 1;
            }
            _ => unreachable!("filtered by read"),
        }
        Ok(())
    }

    /// From the manifest: where each output is staged, which get removed.
    /// Creates only staging names (a missing parent chain is built inside
    /// one, renamed into place at commit).
    fn plan(&mut self, manifest: Vec<(PathBuf, bool)>) -> Result<(), OutputError> {
        if !manifest.iter().map(|(path, _)| path).eq(self.declared.iter()) {
            let stray = manifest
                .iter()
                .map(|(path, _)| path)
                .find(|path| !self.declared.contains(path))
                .or_else(|| self.declared.iter().find(|d| !manifest.iter().any(|(p, _)| p == *d)))
                .cloned()
                .unwrap_or_default();
            return Err(OutputError::refused(
                &stray,
                "the archive's outputs are not the declared --output paths",
            ));
        }
        for (rel, present) in manifest {
            let dest = self.cwd.join(&rel);
            let location = locate(&rel, self.cwd, self.canon_cwd);
            if !present {
                match location {
                    Ok(location) if location.missing.is_empty() => self.removals.push(dest),
                    // Cannot exist.
                    Ok(_) | Err(Unusable::NotADirectory) => {}
                    Err(e) => return Err(unusable(&rel, e)),
                }
                self.outputs.push(Output {
                    rel,
                    present,
                    root: PathBuf::new(),
                    real: PathBuf::new(),
                    seen: false,
                });
                continue;
            }
            let location = location.map_err(|e| unusable(&rel, e))?;
            let root = if location.missing.is_empty() {
                let staged = staging_name(&location.existing);
                self.units.push(Unit { staged: staged.clone(), dest, replace: true });
                staged
            } else {
                let top = location.existing.join(&location.missing[0]);
                let unit = match self.units.iter().find(|u| u.dest == top) {
                    Some(unit) => unit.staged.clone(),
                    None => {
                        let staged = staging_name(&location.existing);
                        fs::create_dir(&staged)
                            .map_err(OutputError::io("cannot create", &staged))?;
                        self.units.push(Unit { staged: staged.clone(), dest: top, replace: false });
                        staged
                    }
                };
                let mut parent = unit;
                parent.extend(&location.missing[1..]);
                fs::create_dir_all(&parent).map_err(OutputError::io("cannot create", &parent))?;
                parent.join(rel.file_name().unwrap_or_default())
            };
            self.by_path.insert(rel.clone(), self.outputs.len());
            self.outputs.push(Output { rel, present, root, real: location.real, seen: false });
        }
        Ok(())
    }

    fn pop_dir(&mut self) -> Result<(), OutputError> {
        let Some(frame) = self.stack.pop() else { return Ok(()) };
        let time = frame
            .mtime
            .system_time()
            .ok_or_else(|| OutputError::refused(&frame.rel, "mtime out of range"))?;
        let dir = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
            .open(&frame.staged)
            .map_err(OutputError::io("cannot open", &frame.staged))?;
        dir.set_times(FileTimes::new().set_modified(time))
            .map_err(OutputError::io("cannot set the mtime of", &frame.staged))?;
        dir.set_permissions(Permissions::from_mode(frame.mode))
            .map_err(OutputError::io("cannot set the mode of", &frame.staged))?;
        Ok(())
    }

    fn finish_dirs(&mut self) -> Result<(), OutputError> {
        while !self.stack.is_empty() {
            self.pop_dir()?;
        }
        Ok(())
    }

    /// Phase two: swap every output into place, undoing all on failure.
    fn commit(self) -> Result<RestoreSummary, OutputError> {
        let mut undo = Vec::new();
        let mut garbage = Vec::new();
        if let Err(e) = self.swap_in(&mut undo, &mut garbage) {
            for step in undo.into_iter().rev() {
                let _ = match step {
                    Undo::Exchange(a, b) => exchange(&a, &b),
                    Undo::Rename { from, to } => fs::rename(to, from),
                };
            }
            self.discard();
            return Err(e);
        }
        // The old versions: best effort, the outputs are in place.
        for path in garbage {
            let _ = remove_tree(&path);
        }
        Ok(self.summary)
    }

    fn swap_in(&self, undo: &mut Vec<Undo>, garbage: &mut Vec<PathBuf>) -> Result<(), OutputError> {
        for unit in &self.units {
            let (staged, dest) = (&unit.staged, &unit.dest);
            match dest.symlink_metadata() {
                Ok(_) if unit.replace => match exchange(staged, dest) {
                    Ok(()) => {
                        undo.push(Undo::Exchange(staged.clone(), dest.clone()));
                        garbage.push(staged.clone());
                    }
                    Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
                        // No atomic swap here: move the old one aside first.
                        let aside = staging_name(dest.parent().unwrap_or(self.cwd));
                        fs::rename(dest, &aside)
                            .map_err(OutputError::io("cannot move aside", dest))?;
                        undo.push(Undo::Rename { from: dest.clone(), to: aside.clone() });
                        garbage.push(aside);
                        fs::rename(staged, dest)
                            .map_err(OutputError::io("cannot rename into place", dest))?;
                        undo.push(Undo::Rename { from: staged.clone(), to: dest.clone() });
                    }
                    Err(e) => return Err(OutputError::io("cannot swap into place", dest)(e)),
                },
                Ok(_) => {
                    let e = io::Error::from(io::ErrorKind::AlreadyExists);
                    return Err(OutputError::io("appeared during the restore", dest)(e));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    fs::rename(staged, dest)
                        .map_err(OutputError::io("cannot rename into place", dest))?;
                    undo.push(Undo::Rename { from: staged.clone(), to: dest.clone() });
                }
                Err(e) => return Err(OutputError::io("cannot read", dest)(e)),
            }
        }
        for dest in &self.removals {
            match dest.symlink_metadata() {
                Ok(_) => {
                    let aside = staging_name(dest.parent().unwrap_or(self.cwd));
                    fs::rename(dest, &aside).map_err(OutputError::io("cannot remove", dest))?;
                    undo.push(Undo::Rename { from: dest.clone(), to: aside.clone() });
                    garbage.push(aside);
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(OutputError::io("cannot read", dest)(e)),
            }
        }
        Ok(())
    }

    /// Removes everything staged.
    fn discard(&self) {
        for unit in &self.units {
            let _ = remove_tree(&unit.staged);
        }
    }
}

fn unusable(rel: &Path, e: Unusable) -> OutputError {
    match e {
        Unusable::NotADirectory => {
            OutputError::refused(rel, "a parent of this output is not a directory")
        }
        Unusable::Escapes => OutputError::refused(
            rel,
            "a parent directory is a symlink leading outside the working directory",
        ),
        Unusable::Io(e, path) => OutputError::io("cannot read", &path)(e),
    }
}

/// Applies a pax record set: path, linkpath and mtime are honoured, atime
/// and ctime ignored, anything else refused (it could change how the entry
/// reads, e.g. `size`).
fn pax(data: &[u8], pending: &mut Pending) -> Result<(), OutputError> {
    for record in PaxExtensions::new(data) {
        let record = record
            .map_err(|e| OutputError::refused(Path::new(""), format!("bad pax header: {e}")))?;
        match record.key_bytes() {
            b"path" => pending.pax_path = Some(record.value_bytes().to_vec()),
            b"linkpath" => pending.pax_link = Some(record.value_bytes().to_vec()),
            b"mtime" => {
                let mtime = parse_mtime(record.value_bytes())
                    .ok_or_else(|| OutputError::refused(Path::new(""), "bad pax mtime"))?;
                pending.mtime = Some(mtime);
            }
            b"atime" | b"ctime" => {}
            key => {
                let key = String::from_utf8_lossy(key);
                return Err(OutputError::refused(
                    Path::new(""),
                    format!("unsupported pax record '{key}'"),
                ));
            }
        }
    }
    Ok(())
}

/// The data of a small entry (manifest, long name, pax), bounded.
fn read_small<R: Read>(entry: &mut Entry<'_, R>, what: &str) -> Result<Vec<u8>, OutputError> {
    if entry.size() > MANIFEST_MAX {
        return Err(OutputError::refused(Path::new(""), format!("{what} too large")));
    }
    let mut data = Vec::with_capacity(entry.size() as usize);
    entry.take(MANIFEST_MAX).read_to_end(&mut data).map_err(stream_error)?;
    if data.len() as u64 != entry.size() {
        return Err(OutputError::refused(Path::new(""), "truncated archive"));
    }
    Ok(data)
}

fn trim_nul(mut bytes: Vec<u8>) -> Vec<u8> {
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    bytes
}

fn describe(kind: EntryType) -> &'static str {
    match kind {
        EntryType::Link => "hard link",
        EntryType::Char | EntryType::Block => "device",
        EntryType::Fifo => "FIFO",
        EntryType::GNUSparse => "sparse file",
        EntryType::XGlobalHeader => "global pax header",
        EntryType::GNULongName | EntryType::GNULongLink | EntryType::XHeader => {
            "repeated extension header"
        }
        _ => "unsupported",
    }
}

/// `.cachecmd-restore.<pid>.<n>.<random>` in `dir`.
fn staging_name(dir: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = RandomState::new().hash_one(n) as u32;
    dir.join(format!("{STAGING_PREFIX}{}.{n}.{random:08x}", std::process::id()))
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| io::ErrorKind::InvalidInput.into())
}

/// Atomically swaps two paths (Linux `renameat2(RENAME_EXCHANGE)`); fails
/// with EINVAL where unsupported.
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let (a, b) = (c_path(a)?, c_path(b)?);
        // SAFETY: two NUL-terminated paths that outlive the call; the raw
        // syscall avoids depending on the libc version providing renameat2.
        let r = unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                libc::AT_FDCWD,
                a.as_ptr(),
                libc::AT_FDCWD,
                b.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (a, b);
        Err(io::Error::from_raw_os_error(libc::EINVAL))
    }
}

fn set_symlink_mtime(path: &Path, mtime: Mtime) -> io::Result<()> {
    let path = c_path(path)?;
    // SAFETY: timespec is plain data; zero is a valid value of every field.
    let mut times: [libc::timespec; 2] = unsafe { std::mem::zeroed() };
    times[0].tv_nsec = libc::UTIME_OMIT;
    times[1].tv_sec = mtime.secs as libc::time_t;
    times[1].tv_nsec = mtime.nanos as _;
    // SAFETY: a NUL-terminated path and an array of two timespecs, both
    // valid for the call.
    let r = unsafe {
        libc::utimensat(libc::AT_FDCWD, path.as_ptr(), times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW)
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Removes a file, symlink or tree (not following symlinks), making
/// read-only directories writable if that is what stops it.
pub(crate) fn remove_tree(path: &Path) -> io::Result<()> {
    let meta = match path.symlink_metadata() {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.is_dir() {
        return fs::remove_file(path);
    }
    if fs::remove_dir_all(path).is_ok() {
        return Ok(());
    }
    make_writable(path);
    fs::remove_dir_all(path)
}

fn make_writable(dir: &Path) {
    let _ = fs::set_permissions(dir, Permissions::from_mode(0o700));
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            make_writable(&entry.path());
        }
    }
}
