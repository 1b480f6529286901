//! Recording a finished run: completing the pending entry, deciding (by
//! [`freshness::cacheable`]) whether it may be published, publishing it
//! locally and sharing it remotely.

use std::io::Read;

use super::Run;
use crate::entry::Header;
use crate::exec::runner::Finished;
use crate::exit_codes;
use crate::freshness::{self, CachePolicy, RunEnd};
use crate::record::{Abandoned, Completed, Recorded, Recorder};
use crate::store::disk::DiskStore;
use crate::store::{PendingEntry, Store};

/// What became of a completed entry.
enum Published {
    Recorded,
    NotRecorded(String),
}

impl Run<'_> {
    /// Completes the recording of a finished run (which took `run_time`),
    /// or says why not.
    pub(super) fn finish(
        &mut self,
        recorder: Recorder,
        finished: &Finished,
        run_time: std::time::Duration,
    ) -> Option<Completed> {
        let (out, err) = finished.recorded?;
        let code = exit_codes::from_status(finished.status);
        let expires_at = match self.expiry(&recorder, &out, code) {
            Ok(at) => at,
            Err(why) => {
                self.expiry_refused = Some(why);
                0
            }
        };
        let outputs = self.outputs.as_ref().filter(|_| code == 0);
        match recorder.finish(out, err, code, expires_at, run_time, outputs) {
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

    /// The header's expiry: `--expires-at`, or with `--expires-from` what a
    /// successful run's output says; `Err` says why the run is not cached.
    fn expiry(&mut self, recorder: &Recorder, out: &Recorded, code: i32) -> Result<u64, String> {
        let freshness = &self.settings.freshness;
        let Some(path) = &freshness.expires_from else {
            return Ok(freshness::expires_at_secs(freshness.expires_at));
        };
        // A failure lives by --failure-ttl; a run in memory is never published.
        let Some(stdout) = recorder.stdout(out).filter(|_| code == 0) else { return Ok(0) };
        let stdout = stdout.take(self.settings.max_entry_size);
        let (end, margin) = (self.clock.now(), freshness.expiry_margin);
        match crate::expiry::from_output(stdout, path, end, margin) {
            Ok(at) => {
                let when = jiff::Timestamp::from_second(at as i64).unwrap_or_default();
                self.note(format!("expires {when} (from the output)"));
                Ok(at)
            }
            Err(why) if freshness.ttl_explicit => {
                self.note(format!("{why}: cached for --ttl"));
                Ok(0)
            }
            Err(why) => Err(why),
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
            codes: settings.cache_exit_codes,
            has_outputs: self.outputs.is_some(),
            refresh: settings.freshness.refresh,
            max_entry_size: settings.max_entry_size,
        };
        let published = match freshness::cacheable(&end, &policy) {
            Err(why) => Published::NotRecorded(why.to_string()),
            Ok(()) if self.expiry_refused.is_some() => {
                Published::NotRecorded(self.expiry_refused.take().unwrap_or_default())
            }
            Ok(()) if self.untraced().is_some() => {
                Published::NotRecorded(self.untraced().unwrap_or_default())
            }
            Ok(()) => match store.publish(pending) {
                Ok(()) => Published::Recorded,
                Err(e) => Published::NotRecorded(e.to_string()),
            },
        };
        match published {
            Published::Recorded => {
                self.note(format!("recorded (exit {})", header.exit_code));
                let shared = self.publish_manifest(store);
                if let Some(tier) = self.tier {
                    // The header's instant: `--expires-at` or the output's.
                    let expires_at = (header.expires_at != 0).then(|| {
                        std::time::UNIX_EPOCH + std::time::Duration::from_secs(header.expires_at)
                    });
                    let now = self.clock.now();
                    let lifetime = self.rules().remote_lifetime(header.exit_code, expires_at, now);
                    for key in &shared {
                        tier.upload(store, key, lifetime, &mut self.notes);
                    }
                }
            }
            Published::NotRecorded(why) => self.note(format!("not recorded ({why})")),
        }
    }
}
