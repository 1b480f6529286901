//! Applying an archive: stage everything beside its destination, check it
//! all, then swap each output into place. This module drives the two
//! phases; `pax` reads extension records, `plan` turns the manifest into
//! staging names, `stage` writes each entry, `swap` commits or undoes, and
//! `fsops` holds the filesystem calls `std` lacks.

mod fsops;
mod pax;
mod plan;
mod stage;
mod swap;

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{self, BufReader, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use tar::{Archive, EntryType};

use self::pax::{pax, read_small, trim_nul, Pending};
use self::plan::{Output, Unit};
use self::stage::Frame;
use super::{normalize_all, OutputError, RestoreSummary, MANIFEST_NAME};

#[cfg(test)]
pub(super) use self::fsops::remove_tree;

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

/// The state of one restore, shared by both phases.
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
