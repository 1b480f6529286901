//! Phase one of a restore, per entry: decide where it lands (an output's
//! staged root or inside a directory this archive created just before) and
//! write it there with its mode and mtime.

use std::ffi::OsStr;
use std::fs::{self, FileTimes, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tar::{Entry, EntryType};

use super::fsops::{open_dir_nofollow, set_symlink_mtime};
use super::pax::{Mtime, Pending};
use super::{stream_error, Restorer};
use crate::outputs::{entry_path, symlink_inside, OutputError};

/// A directory being restored: its mode and mtime are set once everything
/// inside it is written (the archive is depth first).
pub(super) struct Frame {
    rel: PathBuf,
    staged: PathBuf,
    mode: u32,
    mtime: Mtime,
}

impl Restorer<'_> {
    /// One directory, file or symlink entry, with the extension records
    /// that preceded it. The first entry must be the manifest.
    pub(super) fn entry<R: Read>(
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
            return self.manifest(entry, kind, &path);
        }
        let (staged, link_dir) = self.place(&path)?;
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

    /// Where an entry goes, and the real directory (relative to the
    /// canonical cwd) its symlink target would be resolved from: an output's
    /// root, or inside the directory on top of the stack. Nothing else: an
    /// entry can never land inside a symlink or anywhere this archive did
    /// not create.
    fn place(&mut self, path: &Path) -> Result<(PathBuf, PathBuf), OutputError> {
        if let Some(&index) = self.by_path.get(path) {
            if self.outputs[index].seen {
                return Err(OutputError::refused(path, "appears twice in the archive"));
            }
            self.finish_dirs()?;
            self.current = Some(index);
            let output = &mut self.outputs[index];
            output.seen = true;
            let link_dir = output.real.parent().unwrap_or(Path::new("")).to_path_buf();
            return Ok((output.root.clone(), link_dir));
        }
        let output = match self.current {
            Some(index) if path.starts_with(&self.outputs[index].rel) => index,
            _ => return Err(OutputError::refused(path, "not inside a declared output")),
        };
        let parent = path.parent().unwrap_or(Path::new(""));
        while self.stack.last().is_some_and(|top| top.rel != parent) {
            self.pop_dir()?;
        }
        let Some(top) = self.stack.last() else {
            return Err(OutputError::refused(
                path,
                "its parent is not a directory restored before it in this archive",
            ));
        };
        let staged = top.staged.join(path.file_name().unwrap_or_default());
        let output = &self.outputs[output];
        let inner = parent.strip_prefix(&output.rel).unwrap_or(Path::new(""));
        Ok((staged, output.real.join(inner)))
    }

    fn pop_dir(&mut self) -> Result<(), OutputError> {
        let Some(frame) = self.stack.pop() else { return Ok(()) };
        let time = frame
            .mtime
            .system_time()
            .ok_or_else(|| OutputError::refused(&frame.rel, "mtime out of range"))?;
        let dir = open_dir_nofollow(&frame.staged)
            .map_err(OutputError::io("cannot open", &frame.staged))?;
        dir.set_times(FileTimes::new().set_modified(time))
            .map_err(OutputError::io("cannot set the mtime of", &frame.staged))?;
        dir.set_permissions(Permissions::from_mode(frame.mode))
            .map_err(OutputError::io("cannot set the mode of", &frame.staged))?;
        Ok(())
    }

    /// Closes every open directory, innermost first.
    pub(super) fn finish_dirs(&mut self) -> Result<(), OutputError> {
        while !self.stack.is_empty() {
            self.pop_dir()?;
        }
        Ok(())
    }
}
