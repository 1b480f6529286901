//! Work started in the background: the detached `--refresh` of a `--stale`
//! hit or `--warm` (our own argv, re-run), that refresh itself, and the
//! occasional automatic gc after a miss.

use std::ffi::OsString;
use std::time::Duration;

use super::Run;
use crate::exec::background;
use crate::gc;
use crate::key::Key;
use crate::store::disk::DiskStore;
use crate::store::lock::LockOutcome;

/// Starts the detached refresh of this invocation unless one is running
/// (its holder has the key's lock). Two stale hits racing here may both
/// start one; the second finds the lock held or the entry fresh and quits.
pub(super) fn start_refresh(store: Option<&DiskStore>, key: &Key) {
    if let Some(store) = store {
        if matches!(store.lock(key, Duration::ZERO), LockOutcome::TimedOut) {
            return;
        }
    }
    let mut argv = std::env::args_os();
    let arg0 = argv.next().unwrap_or_else(|| "cachecmd".into());
    let mut args: Vec<OsString> = vec!["--refresh".into()];
    args.extend(argv);
    background::spawn_self(&arg0, &args);
}

impl Run<'_> {
    /// The background refresh: run once more unless another refresh holds
    /// the lock or already made the entry young; keep the old entry on failure.
    pub(super) fn refresh(&mut self, store: Option<DiskStore>) -> i32 {
        let Ok(store) =
            store.map_or_else(|| DiskStore::open_or_create(&self.settings.common.cache_dir), Ok)
        else {
            return 0;
        };
        let LockOutcome::Acquired { _file, .. } = store.lock(&self.key, Duration::ZERO) else {
            return 0;
        };
        if let (Some(entry), Some(stale)) = (self.lookup(&store), self.settings.freshness.stale) {
            if self.is_fresh(&entry) && entry.age < stale && !self.in_margin(&entry) {
                return 0;
            }
        }
        self.note("refresh");
        let outcome = self.run_and_record(&store, None);
        drop(_file);
        outcome.finish()
    }

    /// A miss may start a background gc, at most every few minutes; the hit
    /// path never does.
    pub(super) fn start_auto_gc(&self, store: &DiskStore) {
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
        background::spawn_self("cachecmd".as_ref(), &args);
    }
}
