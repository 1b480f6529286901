//! Writing the archive: a streaming walk of each declared output.

use std::fs::{File, Metadata};
use std::io::{self, BufReader, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use tar::{Builder, EntryType, Header};
use walkdir::WalkDir;

use super::{
    encode_manifest, locate, normalize_all, symlink_inside, ArchiveSummary, OutputError, Unusable,
    MANIFEST_NAME,
};

/// zstd level: the library default, fast and a good ratio.
const LEVEL: i32 = 3;

/// Archives the declared `outputs` (relative to `cwd`, or absolute inside
/// it) as a zstd-compressed tar stream written to `out`; see the module docs
/// for the layout. An output that does not exist is recorded as absent.
///
/// Streams: memory does not depend on the size of the tree. On error, what
/// was written to `out` is garbage and must be discarded.
pub fn archive(
    outputs: &[PathBuf],
    cwd: &Path,
    out: &mut impl Write,
) -> Result<ArchiveSummary, OutputError> {
    let declared = normalize_all(outputs.iter().map(PathBuf::as_path), cwd)?;
    let canon_cwd = cwd.canonicalize().map_err(OutputError::io("cannot resolve", cwd))?;

    // Which outputs exist, and where they really are.
    let mut manifest = Vec::with_capacity(declared.len());
    let mut present = Vec::new();
    for rel in declared {
        let abs = cwd.join(&rel);
        match abs.symlink_metadata() {
            Ok(_) => {
                let location = locate(&rel, cwd, &canon_cwd).map_err(|e| unusable(&rel, e))?;
                present.push((rel.clone(), abs, location.real));
                manifest.push((rel, true));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => manifest.push((rel, false)),
            Err(e) => return Err(OutputError::io("cannot read", &abs)(e)),
        }
    }

    let write_err =
        |e| OutputError::Io { what: "cannot write the archive", path: PathBuf::new(), source: e };
    let mut encoder = zstd::Encoder::new(out, LEVEL).map_err(write_err)?;
    encoder.include_checksum(true).map_err(write_err)?;
    let mut builder = Builder::new(encoder);
    let mut writer = Writer {
        builder: &mut builder,
        summary: ArchiveSummary::default(),
        cwd,
        canon_cwd: &canon_cwd,
    };

    let manifest = encode_manifest(&manifest);
    let mut header = Header::new_gnu();
    header.set_entry_type(EntryType::Regular);
    header.set_mode(0o600);
    header.set_mtime(0);
    header.set_size(manifest.len() as u64);
    writer
        .builder
        .append_data(&mut header, MANIFEST_NAME, manifest.as_slice())
        .map_err(write_err)?;

    for (rel, abs, real) in &present {
        writer.output(rel, abs, real)?;
    }
    let summary = writer.summary;
    let encoder = builder.into_inner().map_err(write_err)?;
    encoder.finish().map_err(write_err)?;
    Ok(summary)
}

fn unusable(rel: &Path, e: Unusable) -> OutputError {
    let reason = match e {
        Unusable::NotADirectory => "a parent is not a directory".to_string(),
        Unusable::Escapes => {
            "a parent directory is a symlink leading outside the working directory".to_string()
        }
        Unusable::Io(e, _) => e.to_string(),
    };
    OutputError::Unarchivable { path: rel.to_path_buf(), reason }
}

struct Writer<'a, W: Write> {
    builder: &'a mut Builder<W>,
    summary: ArchiveSummary,
    cwd: &'a Path,
    canon_cwd: &'a Path,
}

impl<W: Write> Writer<'_, W> {
    /// One declared output: its root, then (a directory) everything below,
    /// depth first, sorted by name, symlinks not followed.
    fn output(&mut self, rel: &Path, abs: &Path, real: &Path) -> Result<(), OutputError> {
        let walk =
            WalkDir::new(abs).follow_links(false).follow_root_links(false).sort_by_file_name();
        for entry in walk {
            let entry = entry.map_err(|e| {
                let path = e.path().unwrap_or(abs).to_path_buf();
                OutputError::Io { what: "cannot read", path, source: e.into() }
            })?;
            let inner = entry.path().strip_prefix(abs).unwrap_or(Path::new(""));
            let name =
                if inner.as_os_str().is_empty() { rel.to_path_buf() } else { rel.join(inner) };
            let meta = entry.metadata().map_err(|e| OutputError::Io {
                what: "cannot read",
                path: entry.path().to_path_buf(),
                source: e.into(),
            })?;
            // The real directory holding this entry, relative to the
            // canonical cwd: every component below `real` is a directory
            // this walk did not reach through a symlink.
            let link_dir = match inner.parent() {
                Some(p) if !inner.as_os_str().is_empty() => real.join(p),
                _ => real.parent().unwrap_or(Path::new("")).to_path_buf(),
            };
            self.entry(&name, entry.path(), &meta, &link_dir)?;
        }
        Ok(())
    }

    fn entry(
        &mut self,
        name: &Path,
        path: &Path,
        meta: &Metadata,
        link_dir: &Path,
    ) -> Result<(), OutputError> {
        let write_err = |e| OutputError::Io {
            what: "cannot write the archive",
            path: PathBuf::new(),
            source: e,
        };
        let file_type = meta.file_type();
        let mut header = Header::new_gnu();
        header.set_mode(meta.mode() & 0o7777);
        header.set_uid(0);
        header.set_gid(0);
        self.mtime(&mut header, meta).map_err(write_err)?;
        if file_type.is_dir() {
            header.set_entry_type(EntryType::Directory);
            header.set_size(0);
            self.builder.append_data(&mut header, name, io::empty()).map_err(write_err)?;
        } else if file_type.is_symlink() {
            let target = std::fs::read_link(path).map_err(OutputError::io("cannot read", path))?;
            if !symlink_inside(link_dir, &target, self.cwd, self.canon_cwd) {
                return Err(OutputError::Unarchivable {
                    path: name.to_path_buf(),
                    reason: format!(
                        "symlink to '{}' leads outside the working directory",
                        target.display()
                    ),
                });
            }
            header.set_entry_type(EntryType::Symlink);
            header.set_size(0);
            self.builder.append_link(&mut header, name, &target).map_err(write_err)?;
            self.summary.files += 1;
        } else if file_type.is_file() {
            let file = File::open(path).map_err(OutputError::io("cannot read", path))?;
            let size = file.metadata().map_err(OutputError::io("cannot read", path))?.len();
            header.set_entry_type(EntryType::Regular);
            header.set_size(size);
            let mut reader =
                Exact { inner: BufReader::with_capacity(256 * 1024, file), left: size };
            self.builder.append_data(&mut header, name, &mut reader).map_err(|e| {
                if e.kind() == io::ErrorKind::UnexpectedEof {
                    changed(name)
                } else {
                    write_err(e)
                }
            })?;
            let now =
                reader.inner.get_ref().metadata().map_err(OutputError::io("cannot read", path))?;
            if now.len() != size {
                return Err(changed(name));
            }
            self.summary.files += 1;
            self.summary.bytes += size;
        } else {
            return Err(OutputError::Unarchivable {
                path: name.to_path_buf(),
                reason: "is a socket, FIFO or device; only files, directories and symlinks can be cached"
                    .into(),
            });
        }
        Ok(())
    }

    /// Seconds in the header; a pax record first when there is more to it.
    fn mtime(&mut self, header: &mut Header, meta: &Metadata) -> io::Result<()> {
        let (secs, nanos) = (meta.mtime(), meta.mtime_nsec());
        header.set_mtime(secs.max(0) as u64);
        if nanos != 0 || secs < 0 {
            let value = format_mtime(secs, nanos);
            self.builder.append_pax_extensions([("mtime", value.as_bytes())])?;
        }
        Ok(())
    }
}

fn changed(name: &Path) -> OutputError {
    OutputError::Unarchivable {
        path: name.to_path_buf(),
        reason: "changed while it was archived".into(),
    }
}

/// `SECS.NANOS` as pax writes it; negative times count down from the epoch
/// (`-1.25` is a quarter second before `-1`).
pub(crate) fn format_mtime(secs: i64, nanos: i64) -> String {
    if nanos == 0 {
        return secs.to_string();
    }
    if secs < 0 {
        // secs + nanos/1e9 with secs negative: e.g. -2 + 0.75 = -1.25.
        let whole = secs + 1;
        let frac = 1_000_000_000 - nanos;
        let sign = if whole == 0 { "-" } else { "" };
        return format!("{sign}{whole}.{frac:09}");
    }
    format!("{secs}.{nanos:09}")
}

/// Yields exactly `left` bytes of `inner`, or fails with `UnexpectedEof`
/// (the file shrank while it was read).
struct Exact<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let max = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.left -= n as u64;
        Ok(n)
    }
}
