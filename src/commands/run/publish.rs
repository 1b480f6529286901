//! Recording a finished run: completing the pending entry, deciding (by
//! [`freshness::cacheable`]) whether it may be published, publishing it
//! locally and sharing it remotely.

use super::Run;
use crate::entry::Header;
use crate::exec::runner::Finished;
use crate::exit_codes;
use crate::freshness::{self, CachePolicy, RunEnd};
use crate::record::{Abandoned, Completed, Recorder};
use crate::store::disk::DiskStore;
use crate::store::{PendingEntry, Store};

/// What became of a completed entry.
enum Published {
    Recorded,
    NotRecorded(String),
}

impl Run<'_> {
    /// Completes the recording of a finished run, or says why not.
    pub(super) fn finish(&mut self, recorder: Recorder, finished: &Finished) -> Option<Completed> {
        let (out, err) = finished.recorded?;
        let code = exit_codes::from_status(finished.status);
        let expires_at = freshness::expires_at_secs(self.settings.freshness.expires_at);
        let outputs = self.outputs.as_ref().filter(|_| code == 0);
        match recorder.finish(out, err, code, expires_at, outputs) {
            Ok(Completed::Entry(pending, header, summary)) => {
                if let Some(summary) = summary {
                    self.note(format!("archived {summary}"));
                }
                Some(Completed::Entry(pending, header, summary))
            }
            Ok(memory @ Completed::Memory(..)) => {
                self.note("not recorded (the entry could not be written; replayed from memory)");
                Some(memory)
            }
            Err(why) => {
                self.note(match why {
                    Abandoned::TooLarge => "not recorded (output over --max-entry-size)".into(),
                    Abandoned::WriteFailed => {
                        "not recorded (the entry could not be written)".into()
                    }
                    Abandoned::Interleaved => {
                        "not recorded (stdout and stderr alternate too often)".into()
                    }
                    Abandoned::Outputs(why) => format!("not recorded ({why})"),
                });
                None
            }
        }
    }

    /// Publishes a completed entry when its outcome may be cached.
    pub(super) fn publish(
        &mut self,
        store: &DiskStore,
        pending: PendingEntry,
        header: &Header,
        finished: &Finished,
    ) {
        let settings = self.settings;
        let end = RunEnd {
            code: finished.status.code(),
            signal: exit_codes::from_status(finished.status) - 128,
            interrupted: finished.interrupted.is_some(),
            output_closed: crate::exec::stdio::closed_mask() & 0b110 != 0,
            size: header.stdout_len + header.stderr_len,
        };
        let policy = CachePolicy {
            failure_ttl: settings.failure_ttl.is_some(),
            has_outputs: self.outputs.is_some(),
            refresh: settings.freshness.refresh,
            max_entry_size: settings.max_entry_size,
        };
        let published = match freshness::cacheable(&end, &policy) {
            Err(why) => Published::NotRecorded(why.to_string()),
            Ok(()) => match store.publish(pending) {
                Ok(()) => Published::Recorded,
                Err(e) => Published::NotRecorded(e.to_string()),
            },
        };
        match published {
            Published::Recorded => {
                self.note(format!("recorded (exit {})", header.exit_code));
                if let Some(tier) = self.tier {
                    let lifetime = self.rules().remote_lifetime(
                        header.exit_code,
                        settings.freshness.expires_at,
                        self.clock.now(),
                    );
                    tier.upload(store, &self.key, lifetime, &mut self.notes);
                }
            }
            Published::NotRecorded(why) => self.note(format!("not recorded ({why})")),
        }
    }
}
