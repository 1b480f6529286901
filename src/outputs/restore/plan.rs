//! From the manifest to a plan: check it names exactly the declared
//! outputs, then pick where each present one is staged and which absent
//! ones get removed.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use tar::{Entry, EntryType};

use super::fsops::staging_name;
use super::pax::read_small;
use super::{Restorer, COPY_BUFFER};
use crate::outputs::{decode_manifest, locate, OutputError, Unusable, MANIFEST_NAME};

/// A declared output, as the manifest lists it.
pub(super) struct Output {
    pub rel: PathBuf,
    pub present: bool,
    /// Where its root is staged.
    pub root: PathBuf,
    /// Its real location relative to the canonical cwd.
    pub real: PathBuf,
    pub seen: bool,
}

/// One rename at commit: `staged` becomes `dest`. `replace`: `dest` is the
/// output itself and may exist (it is swapped out); otherwise `dest` is a
/// missing parent directory of outputs, created whole.
pub(super) struct Unit {
    pub staged: PathBuf,
    pub dest: PathBuf,
    pub replace: bool,
}

impl Restorer<'_> {
    /// The first entry: the manifest, read whole (bounded) and planned.
    pub(super) fn manifest<R: Read>(
        &mut self,
        entry: &mut Entry<'_, R>,
        kind: EntryType,
        path: &Path,
    ) -> Result<(), OutputError> {
        if kind != EntryType::Regular || path != Path::new(MANIFEST_NAME) {
            return Err(OutputError::refused(path, "the archive does not start with its manifest"));
        }
        let manifest = read_small(entry, "manifest")?;
        self.plan(decode_manifest(&manifest)?)?;
        self.manifest_read = true;
        self.buf = vec![0; COPY_BUFFER];
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
                let staged = staging_name(&location.existing)?;
                self.units.push(Unit { staged: staged.clone(), dest, replace: true });
                staged
            } else {
                let top = location.existing.join(&location.missing[0]);
                let unit = match self.units.iter().find(|u| u.dest == top) {
                    Some(unit) => unit.staged.clone(),
                    None => {
                        let staged = staging_name(&location.existing)?;
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
