//! Running the command on a miss: the attempts (`--retry` with its backoff),
//! streaming or capturing each, and what stands in for a failed run
//! (`--stale-if-error`). Recording and publishing are in `publish.rs`.

use std::time::Duration;

use super::{spawn_failed, Outcome, Run};
use crate::exec::runner::{self, Mode};
use crate::exit_codes;
use crate::freshness;
use crate::record::{Completed, Recorder};
use crate::store::disk::DiskStore;
use crate::store::{Store, StoredEntry};

impl Run<'_> {
    pub(super) fn run_uncached(&self) -> i32 {
        match runner::run(&self.settings.command, self.stdin.as_ref(), None, Mode::Stream) {
            Ok(finished) => finished.exit_code(),
            Err(e) => spawn_failed(&e),
        }
    }

    /// `previous` is the expired entry, if any, for `--stale-if-error`.
    pub(super) fn run_and_record(
        &mut self,
        store: &DiskStore,
        previous: Option<StoredEntry>,
    ) -> Outcome {
        let settings = self.settings;
        let fallback = previous.filter(|entry| self.may_fall_back_to(entry));
        let mut mode = if settings.freshness.retries > 0 || fallback.is_some() {
            Mode::Capture
        } else {
            Mode::Stream
        };
        let mut attempt = 0;
        let mut backoffs = Vec::new();
        let (finished, recorder, run_time) = loop {
            if attempt > 0 {
                let attempt = u32::try_from(attempt).unwrap_or(u32::MAX);
                let backoff = freshness::backoff(settings.freshness.retry_delay, attempt);
                backoffs.push(backoff);
                self.clock.sleep(backoff);
            }
            let recorder = self.recorder(store, mode);
            let mut last_attempt = attempt >= settings.freshness.retries;
            if recorder.is_none() && mode == Mode::Capture {
                // Capturing needs the entry file; without it, fail open:
                // stream this attempt and stop retrying.
                mode = Mode::Stream;
                last_attempt = true;
            }
            let sinks = recorder.as_ref().map(Recorder::sinks);
            // The wall time of the attempt that is recorded: what a hit saves.
            let started = std::time::Instant::now();
            let finished = match self.run_command(sinks, mode) {
                Ok(finished) => finished,
                Err(e) => {
                    self.note("not recorded (could not run)");
                    return Outcome::Done(spawn_failed(&e));
                }
            };
            // A user interruption ends the retries too.
            if finished.status.success() || last_attempt || finished.interrupted.is_some() {
                break (finished, recorder, started.elapsed());
            }
            attempt += 1;
        };
        if attempt > 0 {
            let waits: Vec<String> =
                backoffs.iter().map(|d| humantime::format_duration(*d).to_string()).collect();
            self.note(format!("{} attempts (backoff {})", attempt + 1, waits.join(", ")));
        }
        let code = exit_codes::from_status(finished.status);
        // The last good entry stands in for a failed run only whole: its
        // outputs restored as well as its streams.
        let interrupted = finished.interrupted.is_some();
        if let Some(entry) = fallback.filter(|_| code != 0 && !interrupted) {
            if self.restore_outputs(&entry) {
                self.note(format!(
                    "run failed (exit {code}): served the last good entry (--stale-if-error)"
                ));
                return Outcome::Replay(entry);
            }
        }
        let finished_entry = match recorder {
            Some(recorder) => self.finish(recorder, &finished, run_time),
            None => return Outcome::Done(finished.exit_code()),
        };
        match (mode, finished_entry) {
            (Mode::Stream, Some(Completed::Entry(pending, header, _))) => {
                self.publish(store, pending, &header, &finished);
                Outcome::Done(finished.exit_code())
            }
            (Mode::Capture, Some(Completed::Entry(pending, header, _))) => {
                let replayed = pending.file.try_clone().map(|file| StoredEntry {
                    file,
                    header,
                    age: Duration::ZERO,
                    contents: None,
                });
                self.publish(store, pending, &header, &finished);
                match replayed {
                    Ok(entry) => Outcome::Replay(entry),
                    Err(_) => Outcome::Done(self.run_uncached()),
                }
            }
            // The disk could not hold the captured run: it is replayed from
            // memory, and the command does not run again.
            (_, Some(Completed::Memory(file, header))) => {
                Outcome::Replay(StoredEntry { file, header, age: Duration::ZERO, contents: None })
            }
            (Mode::Stream, None) => Outcome::Done(finished.exit_code()),
            // The captured output is lost (not even memory could hold it):
            // run once more, streaming, rather than lose the command's output.
            (Mode::Capture, None) => Outcome::Done(self.run_uncached()),
        }
    }

    /// With `--stale-if-error`: a good entry that expired less than the
    /// grace period ago.
    fn may_fall_back_to(&self, entry: &StoredEntry) -> bool {
        let grace = self.settings.freshness.stale_if_error;
        let (code, at) = (entry.header.exit_code, entry.header.expires_at);
        self.rules().may_fall_back(code, at, entry.age, grace, self.clock.now())
    }

    fn recorder(&mut self, store: &DiskStore, mode: Mode) -> Option<Recorder> {
        // Captured output must be kept whole to be replayed; the size cap
        // then only decides whether it is published.
        let limit = match mode {
            Mode::Stream => self.settings.max_entry_size,
            Mode::Capture => u64::MAX,
        };
        let key = self.new_entry_key();
        let pending = store.begin(&key).map_err(|e| e.to_string());
        let recorder = pending.and_then(|pending| {
            let spill_dir = pending.temp_dir().to_path_buf();
            Recorder::new(pending, &self.meta(), limit, &spill_dir, mode == Mode::Capture)
                .map_err(|e| e.to_string())
        });
        match recorder {
            Ok(recorder) => Some(recorder),
            Err(e) => {
                self.note(format!("not recorded ({e})"));
                None
            }
        }
    }
}
