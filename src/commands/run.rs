//! Run mode: serve a fresh entry, or run the command once (single-flight)
//! and record it. Every cache problem degrades to running the command
//! uncached; only the command's own output and exit status reach the caller.

use std::ffi::OsString;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::background;
use crate::gc;
use crate::store::usage::{self, Event};

use crate::entry::{Bytes, Meta};
use crate::exit_codes;
use crate::key::Key;
use crate::record::{Abandoned, Recorder};
use crate::replay::replay;
use crate::runner::{self, SpawnError};
use crate::settings::RunSettings;
use crate::store::disk::DiskStore;
use crate::store::lock::LockOutcome;
use crate::store::{Store, StoredEntry};

pub fn run(settings: &RunSettings, key: Key) -> i32 {
    let mut status = Status { verbose: settings.common.verbose, key, note: String::new() };
    let code = match lookup_fresh(settings, &key, &mut status) {
        Some((store, entry)) => {
            status.note = format!("hit, age {}", age(entry.age));
            let code = replay(&entry);
            usage::record(&store.v1(), Event::Hit, &key);
            code
        }
        None => miss(settings, &key, &mut status),
    };
    status.print();
    code
}

/// The one verbose line: what happened, and the key prefix.
struct Status {
    verbose: bool,
    key: Key,
    note: String,
}

impl Status {
    fn print(&self) {
        if self.verbose {
            eprintln!("cachecmd: {}, key {}", self.note, self.key.short());
        }
    }
}

fn age(age: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(Duration::from_secs(age.as_secs()))
}

/// Whether the caller's freshness rules accept an entry of this age.
fn is_fresh(settings: &RunSettings, entry: &StoredEntry) -> bool {
    if entry.header.exit_code == 0 {
        settings.ttl.covers(entry.age)
    } else {
        settings.failure_ttl.is_some_and(|ttl| ttl.covers(entry.age))
    }
}

fn lookup_fresh(
    settings: &RunSettings,
    key: &Key,
    status: &mut Status,
) -> Option<(DiskStore, StoredEntry)> {
    if settings.force {
        status.note = "miss (--force)".into();
        return None;
    }
    let store = match DiskStore::open_existing(&settings.common.cache_dir) {
        Ok(Some(store)) => store,
        Ok(None) => {
            status.note = "miss".into();
            return None;
        }
        // The root problem is reported once, by the miss path below.
        Err(_) => return None,
    };
    lookup_in(&store, settings, key, status).map(|entry| (store, entry))
}

fn lookup_in(
    store: &DiskStore,
    settings: &RunSettings,
    key: &Key,
    status: &mut Status,
) -> Option<StoredEntry> {
    match store.lookup(key) {
        Ok(Some(entry)) if is_fresh(settings, &entry) => Some(entry),
        Ok(Some(entry)) => {
            status.note = format!("miss (expired, age {})", age(entry.age));
            None
        }
        Ok(None) => {
            status.note = "miss".into();
            None
        }
        Err(e) => {
            status.note = format!("miss ({e})");
            None
        }
    }
}

fn miss(settings: &RunSettings, key: &Key, status: &mut Status) -> i32 {
    let store = match DiskStore::open_or_create(&settings.common.cache_dir) {
        Ok(store) => store,
        Err(e) => {
            // A bad root is persistent configuration: say so even without -v
            // (with -v the status line says it, still in one line).
            if !settings.common.verbose {
                eprintln!("cachecmd: {e}; running uncached");
            }
            status.note = format!("{}, not recorded ({e})", status.note);
            return run_uncached(settings);
        }
    };
    let _lock = match store.lock(key, settings.lock_timeout) {
        LockOutcome::Acquired { _file, waited } => {
            if waited && !settings.force {
                // Another caller just ran this key: its entry is ours to serve.
                if let Some(entry) = lookup_in(&store, settings, key, status) {
                    status.note = "hit after waiting for another run".into();
                    let code = replay(&entry);
                    usage::record(&store.v1(), Event::Hit, key);
                    return code;
                }
            }
            Some(_file)
        }
        LockOutcome::TimedOut => {
            status.note = format!("{} (lock wait timed out)", status.note);
            None
        }
        LockOutcome::Unavailable(e) => {
            status.note = format!("{} (no lock: {e})", status.note);
            None
        }
    };
    usage::record(&store.v1(), Event::Miss, key);
    let code = run_and_record(settings, &store, key, status);
    start_auto_gc(settings, &store);
    code
}

/// A miss may start a background gc, at most every few minutes; the hit
/// path never does.
fn start_auto_gc(settings: &RunSettings, store: &DiskStore) {
    if !gc::auto_due(&store.v1()) {
        return;
    }
    let mut args: Vec<OsString> = vec!["gc".into(), "--auto".into(), "--cache-dir".into()];
    args.push(store.root().into());
    args.extend(["--max-size".into(), settings.limits.max_size.to_string().into()]);
    if let Some(max) = settings.limits.max_entries {
        args.extend(["--max-entries".into(), max.to_string().into()]);
    }
    background::spawn_self(&args);
}

fn run_uncached(settings: &RunSettings) -> i32 {
    match runner::run(&settings.command, None) {
        Ok(finished) => exit_codes::from_status(finished.status),
        Err(e) => spawn_failed(&e),
    }
}

fn spawn_failed(e: &SpawnError) -> i32 {
    eprintln!("cachecmd: {e}");
    e.exit_code()
}

fn run_and_record(
    settings: &RunSettings,
    store: &DiskStore,
    key: &Key,
    status: &mut Status,
) -> i32 {
    let recorder = store.begin(key).map_err(|e| e.to_string()).and_then(|pending| {
        let meta = meta(settings);
        let spill_dir = store.entry_path(key).parent().map(|p| p.to_path_buf());
        let spill_dir = spill_dir.unwrap_or_else(|| store.root().to_path_buf());
        Recorder::new(pending, &meta, settings.max_entry_size, &spill_dir)
            .map_err(|e| e.to_string())
    });
    let recorder = match recorder {
        Ok(recorder) => Some(recorder),
        Err(e) => {
            status.note = format!("{}, not recorded ({e})", status.note);
            None
        }
    };
    let sinks = recorder.as_ref().map(Recorder::sinks);
    let finished = match runner::run(&settings.command, sinks) {
        Ok(finished) => finished,
        Err(e) => {
            status.note = format!("{}, not recorded (could not run)", status.note);
            return spawn_failed(&e);
        }
    };
    let code = exit_codes::from_status(finished.status);
    let (Some(recorder), Some((out, err))) = (recorder, finished.recorded) else {
        return code;
    };
    status.note = match finished.status.code() {
        None => format!("{}, not recorded (killed by signal {})", status.note, code - 128),
        Some(c) if c != 0 && settings.failure_ttl.is_none() => {
            format!("{}, not recorded (exit {c}; add --failure-ttl to cache failures)", status.note)
        }
        Some(c) => match recorder.finish(out, err, c).map(|p| store.publish(p)) {
            Ok(Ok(())) => format!("{}, recorded (exit {c})", status.note),
            Ok(Err(e)) => format!("{}, not recorded ({e})", status.note),
            Err(Abandoned::TooLarge) => {
                format!("{}, not recorded (output over --max-entry-size)", status.note)
            }
            Err(Abandoned::WriteFailed) => {
                format!("{}, not recorded (write failed or output not fully read)", status.note)
            }
        },
    };
    code
}

/// What the entry says about the run, written before it starts. Both
/// lifetimes are kept; `list`/`gc` pick by the recorded exit code.
fn meta(settings: &RunSettings) -> Meta {
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
