//! Run mode: serve a fresh entry, or run the command once (single-flight)
//! and record it. Every cache problem degrades to running the command
//! uncached; only the command's own output and exit status reach the caller.
//!
//! Freshness beyond the TTL: `--stale` serves an aging entry and refreshes
//! it in a detached process (`--refresh`, also what `--warm` starts);
//! `--retry` and `--stale-if-error` capture a run instead of streaming it, so
//! the caller sees one attempt's output or the last good entry, never a mix.
//!
//! This module holds the entry point and the state of one invocation; the
//! rules themselves are in [`crate::freshness`].

mod attempts;
mod lookup;
mod outputs;
mod publish;
mod refresh;
mod traced;

pub use traced::{describe_index, read_index};

use std::fs::File;
use std::time::Duration;

use crate::entry::{Bytes, KeyDetails, Meta, MAX_RECORDED_INPUTS};
use crate::exec::replay::replay;
use crate::exec::runner::{self, Mode, SpawnError};
use crate::freshness::{self, Clock, Rules};
use crate::key::{CaptureError, Key};
use crate::record::OutputsSpec;
use crate::settings::RunSettings;
use crate::store::disk::DiskStore;
use crate::store::statcache::StatCache;
use crate::store::StoredEntry;
use crate::tier::Tier;

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
    clock: Clock,
    /// The parts of the one `-v` line, in the order things happened.
    notes: Vec<String>,
    /// Why `--expires-from` found no expiry worth caching under.
    expiry_refused: Option<String>,
    /// The key material the entry records for `show`.
    keyed: KeyDetails,
    /// `--trace-inputs`: the traced run.
    traced: traced::Traced,
}

/// How a path through run mode ends: an exit status already produced, or
/// an entry still to replay, which the caller does only after releasing
/// the key's locks, so a caller's slow reader never holds up the others.
enum Outcome {
    Done(i32),
    Replay(StoredEntry),
}

impl Outcome {
    fn finish(self) -> i32 {
        match self {
            Outcome::Done(code) => code,
            Outcome::Replay(entry) => replay(&entry),
        }
    }
}

pub fn run(settings: &RunSettings) -> crate::error::Result<i32> {
    let existing = DiskStore::open_existing(&settings.common.cache_dir);
    let mut stat_cache = StatCache::new(existing.as_ref().ok().and_then(Option::as_ref));
    let material = match settings.key.capture(&settings.command, &mut stat_cache) {
        Ok(material) => material,
        // No directory to key on: the command can still run, uncached.
        Err(CaptureError::Cwd(e)) => {
            return Ok(unkeyed(&settings.command, settings.common.verbose, &e));
        }
        Err(e) => return Err(e.into()),
    };
    let key = material.key();
    let keyed = KeyDetails::from_material(&material, MAX_RECORDED_INPUTS);
    let outputs = if settings.key.outputs.is_empty() {
        None
    } else {
        let cwd = std::env::current_dir()?;
        let paths = crate::outputs::validate_declared(&settings.key.outputs, &cwd)?;
        Some(OutputsSpec { paths, cwd })
    };
    let stdin = material.stdin.map(|stdin| stdin.file);
    let tier = Tier::new(settings.remote.as_ref());
    let clock = freshness::clock();
    let tier = tier.as_ref();
    let (notes, expiry_refused) = (Vec::new(), None);
    let traced = traced::Traced::default();
    let mut run =
        Run { settings, key, stdin, outputs, tier, clock, notes, expiry_refused, keyed, traced };
    for input in material.inputs.iter().flatten() {
        if input.kind == crate::key::Kind::Absent {
            let path = String::from_utf8_lossy(&input.path);
            run.note(format!("input {path} is absent"));
        }
    }
    let freshness = &settings.freshness;
    let code = if let Some(only) = settings.lookup_only {
        run.lookup_only(existing.ok().flatten(), only).finish()
    } else if freshness.refresh {
        run.refresh(existing.ok().flatten())
    } else if freshness.warm {
        refresh::start_refresh(existing.ok().flatten().as_ref(), &key);
        return Ok(0);
    } else {
        run.serve(existing.ok().flatten()).finish()
    };
    if settings.common.verbose {
        crate::error::warn(format_args!("{}, key {}", run.notes.join(", "), key.short()));
    }
    Ok(code)
}

/// Runs the command uncached when no key can be computed (the working
/// directory is gone): its output and status are still the caller's.
pub fn unkeyed(command: &[std::ffi::OsString], verbose: bool, why: &std::io::Error) -> i32 {
    if verbose {
        crate::error::warn(format_args!(
            "not cached (cannot read the current directory: {why}), running uncached"
        ));
    }
    match runner::run(command, None, None, Mode::Stream) {
        Ok(finished) => finished.exit_code(),
        Err(e) => spawn_failed(&e),
    }
}

fn age(age: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(Duration::from_secs(age.as_secs()))
}

impl Run<'_> {
    fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    fn rules(&self) -> Rules {
        let settings = self.settings;
        Rules {
            ttl: settings.ttl,
            failure_ttl: settings.failure_ttl,
            codes: settings.cache_exit_codes,
        }
    }

    /// Whether the caller's rules accept this entry now: before its
    /// absolute expiry less `--expiry-margin`, or with `--stale` inside
    /// the margin too (then [`Run::in_margin`] starts a refresh).
    fn is_fresh(&self, entry: &StoredEntry) -> bool {
        let (header, now) = (&entry.header, self.clock.now());
        let fresh = |at| self.rules().is_fresh(header.exit_code, at, entry.age, now);
        let cut = freshness::margin_cut(header.expires_at, self.settings.freshness.expiry_margin);
        fresh(cut) || (self.settings.freshness.stale.is_some() && fresh(header.expires_at))
    }

    /// Whether a served entry is inside its `--expiry-margin`.
    fn in_margin(&self, entry: &StoredEntry) -> bool {
        let expires_at = entry.header.expires_at;
        let cut = freshness::margin_cut(expires_at, self.settings.freshness.expiry_margin);
        cut != expires_at && freshness::past_expiry(cut, self.clock.now())
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
            created: freshness::unix_secs(self.clock.now()),
            ttl_secs: settings.ttl.as_secs(),
            failure_ttl_secs: settings.failure_ttl.and_then(|t| t.as_secs()),
            expires_from: settings.key.expires_from.clone(),
            keyed: self.keyed.clone(),
        }
    }
}

fn spawn_failed(e: &SpawnError) -> i32 {
    crate::error::warn(e);
    e.exit_code()
}
