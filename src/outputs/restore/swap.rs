//! Phase two of a restore: swap every staged output into place, undo the
//! earlier swaps if a later one fails, then delete the old versions.

use std::fs;
use std::io;
use std::path::PathBuf;

use rustix::io::Errno;

use super::fsops::{exchange, remove_tree, staging_name};
use super::Restorer;
use crate::outputs::{OutputError, RestoreSummary};

/// How to take back one step of the swap.
enum Undo {
    Exchange(PathBuf, PathBuf),
    Rename { from: PathBuf, to: PathBuf },
}

impl Restorer<'_> {
    /// Swaps every output into place, undoing all on failure.
    pub(super) fn commit(self) -> Result<RestoreSummary, OutputError> {
        let mut undo = Vec::new();
        let mut garbage = Vec::new();
        if let Err(e) = self.swap_in(&mut undo, &mut garbage) {
            for step in undo.into_iter().rev() {
                let _ = match step {
                    Undo::Exchange(a, b) => exchange(&a, &b).map_err(io::Error::from),
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
                    Err(Errno::INVAL | Errno::NOSYS) => {
                        // No atomic swap here: move the old one aside first.
                        let dir = dest.parent().unwrap_or(self.cwd);
                        let aside = staging_name(dir)?;
                        fs::rename(dest, &aside)
                            .map_err(OutputError::io("cannot move aside", dest))?;
                        undo.push(Undo::Rename { from: dest.clone(), to: aside.clone() });
                        garbage.push(aside);
                        fs::rename(staged, dest)
                            .map_err(OutputError::io("cannot rename into place", dest))?;
                        undo.push(Undo::Rename { from: staged.clone(), to: dest.clone() });
                    }
                    Err(e) => {
                        return Err(OutputError::io("cannot swap into place", dest)(e.into()))
                    }
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
                    let dir = dest.parent().unwrap_or(self.cwd);
                    let aside = staging_name(dir)?;
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
    pub(super) fn discard(&self) {
        for unit in &self.units {
            let _ = remove_tree(&unit.staged);
        }
    }
}
