//! `--output` around a run: restoring an entry's archive before it is
//! served. A restore that fails makes the lookup a miss.

use std::io::{Read, Seek, SeekFrom};

use super::Run;
use crate::outputs::OutputError;
use crate::store::StoredEntry;

impl Run<'_> {
    /// Restores the entry's `--output` archive; `false` (after noting why)
    /// when it cannot, which makes the lookup a miss that replaces the entry.
    pub(super) fn restore_outputs(&mut self, entry: &StoredEntry) -> bool {
        let Some(spec) = &self.outputs else { return true };
        let range = entry.header.outputs_range();
        if range.is_empty() {
            self.note("entry has no outputs archive");
            return false;
        }
        let restored = match &entry.contents {
            Some(contents) => {
                let archive = &contents[range.start as usize..range.end as usize];
                crate::outputs::restore(archive, &spec.cwd, &spec.paths)
            }
            None => {
                let reader = entry.file.try_clone().and_then(|mut file| {
                    file.seek(SeekFrom::Start(range.start))?;
                    Ok(file.take(range.end - range.start))
                });
                match reader {
                    Ok(reader) => crate::outputs::restore(reader, &spec.cwd, &spec.paths),
                    Err(e) => Err(OutputError::Io {
                        what: "cannot read the entry",
                        path: Default::default(),
                        source: e,
                    }),
                }
            }
        };
        match restored {
            Ok(summary) => {
                self.note(format!("restored {summary}"));
                true
            }
            Err(e) => {
                self.note(format!("outputs not restored ({e})"));
                false
            }
        }
    }
}
