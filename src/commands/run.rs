//! Run mode: serve a fresh entry, or run the command once (single-flight)
//! and record it. Every cache problem degrades to running the command
//! uncached; only the command's own output and exit status reach the caller.
//!
//! Freshness beyond the TTL: `--stale` serves an aging entry and refreshes
//! it in a detached process (`--refresh`, also what `--warm` starts);
//! `--retry` and `--stale-if-error` capture a run instead of streaming it, so
//! the caller sees one attempt's output or the last good entry, never a mix.

use std::ffi::OsString;
use std::fs::File;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::background;
use crate::entry::{Bytes, Header, Meta};
use crate::exit_codes;
use crate::gc;
use crate::key::Key;
use crate::record::{Abandoned, OutputsSpec, Recorder};
use crate::replay::replay;
use crate::runner::{self, Finished, Mode, SpawnError};
use crate::settings::RunSettings;
use crate::store::disk::DiskStore;
use crate::store::lock::LockOutcome;
use crate::store::statcache::StatCache;
use crate::store::usage::{self, Event};
use crate::store::{PendingEntry, Store, StoredEntry};
use crate::tier::{Fetched, Tier};

/// One invocation in run mode.
struct Run<'a> {
    settings: &'a RunSettings,
    key: Key,
    /// The spooled `--stdin`, fed to every attempt.
    stdin: Option<File>,
    /// The validated `--output` paths, when any.
    outputs: Option<OutputsSpec>,
    /// The shared Redis tier, with `--remote`.
    tier: Option<&'a Tier>,
    /// The parts of the one `-v` line, in the order things happened.
    notes: Vec<String>,
}

pub fn run(settings: &RunSettings) -> crate::error::Result<i32> {
    let existing = DiskStore::open_existing(&settings.common.cache_dir);
    let mut stat_cache = StatCache::new(existing.as_ref().ok().and_then(Option::as_ref));
    let material = settings.key.capture(&settings.command, &mut stat_cache)?;
    let key = material.key();
    let outputs = if settings.key.outputs.is_empty() {
        None
    } else {
        let cwd = std::env::current_dir()?;
        let paths = crate::outputs::validate_declared(&settings.key.outputs, &cwd)?;
        Some(OutputsSpec { paths, cwd })
    };
    let stdin = material.stdin.map(|stdin| stdin.file);
    let tier = Tier::new(settings.remote.as_ref());
    let mut run = Run { settings, key, stdin, outputs, tier: tier.as_ref(), notes: Vec::new() };
    for input in material.inputs.iter().flatten() {
        if input.kind == crate::key::Kind::Absent {
            let path = String::from_utf8_lossy(&input.path);
            run.note(format!("input {path} is absent"));
        }
    }
    let freshness = &settings.freshness;
    let code = if freshness.refresh {
        run.refresh(existing.ok().flatten())
    } else if freshness.warm {
        start_refresh(existing.ok().flatten().as_ref(), &key);
        return Ok(0);
    } else {
        run.serve(existing.ok().flatten())
    };
    if settings.common.verbose {
        crate::error::warn(format_args!("{}, key {}", run.notes.join(", "), key.short()));
    }
    Ok(code)
}

fn age(age: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(Duration::from_secs(age.as_secs()))
}

/// Starts the detached refresh of this invocation unless one is running
/// (its holder has the key's lock). Two stale hits racing here may both
/// start one; the second finds the lock held or the entry fresh and quits.
fn start_refresh(store: Option<&DiskStore>, key: &Key) {
    if let Some(store) = store {
        if matches!(store.lock(key, Duration::ZERO), LockOutcome::TimedOut) {
            return;
        }
    }
    let mut args: Vec<OsString> = vec!["--refresh".into()];
    args.extend(std::env::args_os().skip(1));
    background::spawn_self(&args);
}

impl Run<'_> {
    fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    /// Whether the caller's rules accept this entry now.
    fn is_fresh(&self, entry: &StoredEntry) -> bool {
        is_fresh(self.settings, &entry.header, entry.age)
    }

    /// A fresh entry from the remote tier, served from the local copy it
    /// was published to; `None` to carry on with a miss.
    fn serve_remote(&mut self) -> Option<i32> {
        let tier = self.tier?;
        if self.settings.force {
            return None;
        }
        let store = DiskStore::open_or_create(&self.settings.common.cache_dir).ok()?;
        let settings = self.settings;
        let fetched =
            tier.fetch(&store, &self.key, |h, age| is_fresh(settings, h, age), &mut self.notes);
        if !matches!(fetched, Fetched::Hit) {
            return None;
        }
        let entry = self.lookup(&store)?;
        if !self.restore_outputs(&entry) {
            return None;
        }
        self.note(format!("remote hit, age {}", age(entry.age)));
        Some(replay(&entry))
    }

    fn lookup(&mut self, store: &DiskStore) -> Option<StoredEntry> {
        match store.lookup(&self.key) {
            Ok(Some(entry)) => Some(entry),
            Ok(None) => None,
            Err(e) => {
                self.note(format!("{e}"));
                None
            }
        }
    }

    fn serve(&mut self, store: Option<DiskStore>) -> i32 {
        let mut previous = None;
        if let (Some(store), false) = (&store, self.settings.force) {
            match self.lookup(store) {
                Some(entry) if self.is_fresh(&entry) && !self.restore_outputs(&entry) => {
                    // Refused or unreadable outputs: a miss that replaces the entry.
                    self.note("miss (outputs not restorable)");
                }
                Some(entry) if self.is_fresh(&entry) => {
                    self.note(format!("hit, age {}", age(entry.age)));
                    if self.settings.freshness.stale.is_some_and(|stale| entry.age >= stale) {
                        self.note("stale: refreshing in the background");
                        start_refresh(Some(store), &self.key);
                    }
                    let code = replay(&entry);
                    usage::record(store, Event::Hit, &self.key);
                    return code;
                }
                Some(entry) => {
                    self.note(format!("miss (expired, age {})", age(entry.age)));
                    previous = Some(entry);
                }
                None => self.note("miss"),
            }
        } else {
            self.note(if self.settings.force { "miss (--force)" } else { "miss" });
        }
        if let Some(code) = self.serve_remote() {
            return code;
        }
        self.miss(previous)
    }

    fn miss(&mut self, previous: Option<StoredEntry>) -> i32 {
        let store = match DiskStore::open_or_create(&self.settings.common.cache_dir) {
            Ok(store) => store,
            Err(e) => {
                // A bad root is persistent configuration: say so even without
                // -v (with -v the status line says it, still in one line).
                if !self.settings.common.verbose {
                    crate::error::warn(format_args!("{e}; running uncached"));
                }
                self.note(format!("not recorded ({e})"));
                return self.run_uncached();
            }
        };
        let _lock = match store.lock(&self.key, self.settings.lock_timeout) {
            LockOutcome::Acquired { _file, waited } => {
                if waited && !self.settings.force {
                    // Another caller just ran this key: its entry is ours to serve.
                    let fresh = self.lookup(&store).filter(|e| self.is_fresh(e));
                    if let Some(entry) = fresh.filter(|e| self.restore_outputs(e)) {
                        self.note("hit after waiting for another run");
                        let code = replay(&entry);
                        usage::record(&store, Event::Hit, &self.key);
                        return code;
                    }
                }
                Some(_file)
            }
            LockOutcome::TimedOut => {
                self.note("lock wait timed out");
                None
            }
            LockOutcome::Unavailable(e) => {
                self.note(format!("no lock: {e}"));
                None
            }
        };
        // Across machines: the remote lock, then whatever its holder shared.
        let tier = self.tier;
        let _remote_lock = tier
            .and_then(|t| t.lock(&store, &self.key, self.settings.lock_timeout, &mut self.notes));
        if _remote_lock.is_some() {
            if let Some(code) = self.serve_remote() {
                return code;
            }
        }
        usage::record(&store, Event::Miss, &self.key);
        let code = self.run_and_record(&store, previous);
        self.start_auto_gc(&store);
        code
    }

    /// The background refresh: run once more unless another refresh holds
    /// the lock or already made the entry young; keep the old entry on failure.
    fn refresh(&mut self, store: Option<DiskStore>) -> i32 {
        let Ok(store) =
            store.map_or_else(|| DiskStore::open_or_create(&self.settings.common.cache_dir), Ok)
        else {
            return 0;
        };
        let LockOutcome::Acquired { _file, .. } = store.lock(&self.key, Duration::ZERO) else {
            return 0;
        };
        if let (Some(entry), Some(stale)) = (self.lookup(&store), self.settings.freshness.stale) {
            if self.is_fresh(&entry) && entry.age < stale {
                return 0;
            }
        }
        self.note("refresh");
        self.run_and_record(&store, None)
    }

    fn run_uncached(&self) -> i32 {
        match runner::run(&self.settings.command, self.stdin.as_ref(), None, Mode::Stream) {
            Ok(finished) => finished.exit_code(),
            Err(e) => spawn_failed(&e),
        }
    }

    /// `previous` is the expired entry, if any, for `--stale-if-error`.
    fn run_and_record(&mut self, store: &DiskStore, previous: Option<StoredEntry>) -> i32 {
        let settings = self.settings;
        let fallback = previous.filter(|entry| self.may_fall_back_to(entry));
        let mut mode = if settings.freshness.retries > 0 || fallback.is_some() {
            Mode::Capture
        } else {
            Mode::Stream
        };
        let mut attempt = 0;
        let (finished, recorder) = loop {
            if attempt > 0 {
                let backoff =
                    settings.freshness.retry_delay * 2u32.saturating_pow(attempt as u32 - 1);
                std::thread::sleep(backoff);
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
            let finished = match runner::run(&settings.command, self.stdin.as_ref(), sinks, mode) {
                Ok(finished) => finished,
                Err(e) => {
                    self.note("not recorded (could not run)");
                    return spawn_failed(&e);
                }
            };
            // A user interruption ends the retries too.
            if finished.status.success() || last_attempt || finished.interrupted.is_some() {
                break (finished, recorder);
            }
            attempt += 1;
        };
        if attempt > 0 {
            self.note(format!("{} attempts", attempt + 1));
        }
        let code = exit_codes::from_status(finished.status);
        // The last good entry stands in for a failed run only whole: its
        // outputs restored as well as its streams.
        let interrupted = finished.interrupted.is_some();
        if let Some(entry) = fallback.as_ref().filter(|_| code != 0 && !interrupted) {
            if self.restore_outputs(entry) {
                self.note(format!(
                    "run failed (exit {code}): served the last good entry (--stale-if-error)"
                ));
                return replay(entry);
            }
        }
        let finished_entry = match recorder {
            Some(recorder) => self.finish(recorder, &finished),
            None => return finished.exit_code(),
        };
        match (mode, finished_entry) {
            (Mode::Stream, Some((pending, header))) => {
                self.publish(store, pending, &header, &finished);
                finished.exit_code()
            }
            (Mode::Capture, Some((pending, header))) => {
                let replayed = pending.file.try_clone().map(|file| {
                    replay(&StoredEntry { file, header, age: Duration::ZERO, contents: None })
                });
                self.publish(store, pending, &header, &finished);
                replayed.unwrap_or_else(|_| self.run_uncached())
            }
            (Mode::Stream, None) => finished.exit_code(),
            // The captured output could not be completed: run once more,
            // streaming, rather than lose the command's output.
            (Mode::Capture, None) => self.run_uncached(),
        }
    }

    /// Restores the entry's `--output` archive; `false` (after noting why)
    /// when it cannot, which makes the lookup a miss that replaces the entry.
    fn restore_outputs(&mut self, entry: &StoredEntry) -> bool {
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
                use std::io::{Read, Seek, SeekFrom};
                let reader = entry.file.try_clone().and_then(|mut file| {
                    file.seek(SeekFrom::Start(range.start))?;
                    Ok(file.take(range.end - range.start))
                });
                match reader {
                    Ok(reader) => crate::outputs::restore(reader, &spec.cwd, &spec.paths),
                    Err(e) => Err(crate::outputs::OutputError::Io {
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

    /// With `--stale-if-error`: a good entry that expired less than the
    /// grace period ago.
    fn may_fall_back_to(&self, entry: &StoredEntry) -> bool {
        let Some(grace) = self.settings.freshness.stale_if_error else { return false };
        if entry.header.exit_code != 0 {
            return false;
        }
        let now = SystemTime::now();
        let by_ttl = match self.settings.ttl {
            crate::units::Lifetime::For(ttl) => entry.age.checked_sub(ttl),
            crate::units::Lifetime::Forever => None,
        };
        let by_instant = (entry.header.expires_at != 0)
            .then(|| UNIX_EPOCH.checked_add(Duration::from_secs(entry.header.expires_at)))
            .flatten()
            .and_then(|at| now.duration_since(at).ok());
        by_ttl.max(by_instant).is_some_and(|expired_for| expired_for < grace)
    }

    fn recorder(&mut self, store: &DiskStore, mode: Mode) -> Option<Recorder> {
        // Captured output must be kept whole to be replayed; the size cap
        // then only decides whether it is published.
        let limit = match mode {
            Mode::Stream => self.settings.max_entry_size,
            Mode::Capture => u64::MAX,
        };
        let pending = store.begin(&self.key).map_err(|e| e.to_string());
        let recorder = pending.and_then(|pending| {
            let spill_dir = pending.temp_dir().to_path_buf();
            Recorder::new(pending, &self.meta(), limit, &spill_dir).map_err(|e| e.to_string())
        });
        match recorder {
            Ok(recorder) => Some(recorder),
            Err(e) => {
                self.note(format!("not recorded ({e})"));
                None
            }
        }
    }

    /// Completes the recording of a finished run, or says why not.
    fn finish(
        &mut self,
        recorder: Recorder,
        finished: &Finished,
    ) -> Option<(PendingEntry, Header)> {
        let (out, err) = finished.recorded?;
        let code = exit_codes::from_status(finished.status);
        let expires_at = self
            .settings
            .freshness
            .expires_at
            .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let outputs = self.outputs.as_ref().filter(|_| code == 0);
        match recorder.finish(out, err, code, expires_at, outputs) {
            Ok((pending, header, summary)) => {
                if let Some(summary) = summary {
                    self.note(format!("archived {summary}"));
                }
                Some((pending, header))
            }
            Err(Abandoned::TooLarge) => {
                self.note("not recorded (output over --max-entry-size)");
                None
            }
            Err(Abandoned::WriteFailed) => {
                self.note("not recorded (the entry could not be written)");
                None
            }
            Err(Abandoned::Interleaved) => {
                self.note("not recorded (stdout and stderr alternate too often)");
                None
            }
            Err(Abandoned::Outputs(why)) => {
                self.note(format!("not recorded ({why})"));
                None
            }
        }
    }

    /// Publishes a completed entry when its outcome may be cached.
    fn publish(
        &mut self,
        store: &DiskStore,
        pending: PendingEntry,
        header: &Header,
        finished: &Finished,
    ) {
        let settings = self.settings;
        let closed = crate::stdio::closed_mask() & 0b110 != 0;
        let why_not = match finished.status.code() {
            _ if finished.interrupted.is_some() => Some("interrupted".to_string()),
            // Its output went nowhere, so it says nothing about the next run.
            _ if closed => Some("stdout or stderr closed".to_string()),
            None => {
                Some(format!("killed by signal {}", exit_codes::from_status(finished.status) - 128))
            }
            Some(0) => None,
            Some(_) if settings.freshness.refresh => {
                Some("the refresh failed; the old entry stays".to_string())
            }
            Some(c) if self.outputs.is_some() => {
                Some(format!("exit {c}; runs with --output are cached only when they succeed"))
            }
            Some(c) if settings.failure_ttl.is_none() => {
                Some(format!("exit {c}; add --failure-ttl to cache failures"))
            }
            Some(_) => None,
        };
        let size = header.stdout_len + header.stderr_len;
        let why_not = why_not.or_else(|| {
            (size > settings.max_entry_size).then(|| "output over --max-entry-size".into())
        });
        let note = match why_not {
            Some(why) => format!("not recorded ({why})"),
            None => match store.publish(pending) {
                Ok(()) => format!("recorded (exit {})", header.exit_code),
                Err(e) => format!("not recorded ({e})"),
            },
        };
        let published = note.starts_with("recorded");
        self.note(note);
        if let (true, Some(tier)) = (published, self.tier) {
            tier.upload(store, &self.key, self.remote_lifetime(header), &mut self.notes);
        }
    }

    /// How long a just-written entry stays worth sharing: its lifetime
    /// (failure lifetime for a failure), cut short by `--expires-at`.
    fn remote_lifetime(&self, header: &Header) -> Option<Duration> {
        let settings = self.settings;
        let lifetime =
            if header.exit_code == 0 { Some(settings.ttl) } else { settings.failure_ttl };
        let by_ttl = lifetime.and_then(|l| l.as_secs()).map(Duration::from_secs);
        let by_instant = settings
            .freshness
            .expires_at
            .map(|at| at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO));
        match (by_ttl, by_instant) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// What the entry says about the run, written before it starts. Both
    /// lifetimes are kept; `list`/`gc` pick by the recorded exit code.
    fn meta(&self) -> Meta {
        let settings = self.settings;
        Meta {
            argv: settings.command.iter().map(|a| Bytes::from_os(a)).collect(),
            cwd: settings.key.cwd.as_deref().map(Bytes::from_path),
            env_names: settings.key.env_patterns.iter().map(|n| Bytes::Text(n.clone())).collect(),
            scope: settings.key.scope.as_deref().map(Bytes::from_os),
            created: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            ttl_secs: settings.ttl.as_secs(),
            failure_ttl_secs: settings.failure_ttl.and_then(|t| t.as_secs()),
        }
    }

    /// A miss may start a background gc, at most every few minutes; the hit
    /// path never does.
    fn start_auto_gc(&self, store: &DiskStore) {
        if self.settings.freshness.refresh || !gc::auto_due(store) {
            return;
        }
        let limits = self.settings.limits;
        let mut args: Vec<OsString> = vec!["gc".into(), "--auto".into(), "--cache-dir".into()];
        args.push(store.root().into());
        args.extend(["--max-size".into(), limits.max_size.to_string().into()]);
        if let Some(max) = limits.max_entries {
            args.extend(["--max-entries".into(), max.to_string().into()]);
        }
        background::spawn_self(&args);
    }
}

/// Whether the caller's rules accept an entry with this header and age.
fn is_fresh(settings: &RunSettings, header: &Header, age: Duration) -> bool {
    let ttl = if header.exit_code == 0 { Some(settings.ttl) } else { settings.failure_ttl };
    ttl.is_some_and(|ttl| ttl.covers(age)) && !header.past_expiry(SystemTime::now())
}

fn spawn_failed(e: &SpawnError) -> i32 {
    crate::error::warn(e);
    e.exit_code()
}
