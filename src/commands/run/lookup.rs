//! The lookup state machine of run mode: a local hit, a remote hit, a hit
//! after waiting for another caller's run, or a miss that runs the command
//! under the key's locks. Replays happen after the locks are released.

use super::{age, refresh, Outcome, Run};
use crate::settings::LookupOnly;
use crate::store::disk::DiskStore;
use crate::store::lock::LockOutcome;
use crate::store::usage::{self, Event};
use crate::store::{Store, StoredEntry};
use crate::tier::Fetched;

impl Run<'_> {
    pub(super) fn lookup(&mut self, store: &DiskStore) -> Option<StoredEntry> {
        let key = self.entry_key(store)?;
        match store.lookup(&key) {
            Ok(Some(entry)) => Some(entry),
            Ok(None) => None,
            Err(e) => {
                self.note(format!("{e}"));
                None
            }
        }
    }

    pub(super) fn serve(&mut self, store: Option<DiskStore>) -> Outcome {
        let mut previous = None;
        if let (Some(store), false) = (&store, self.settings.force) {
            match self.lookup(store) {
                Some(entry) if self.is_fresh(&entry) && !self.restore_outputs(&entry) => {
                    // Refused or unreadable outputs: a miss that replaces the entry.
                    self.note("miss (outputs not restorable)");
                }
                Some(entry) if self.is_fresh(&entry) => {
                    self.note(format!("hit, age {}", age(entry.age)));
                    let stale = self.settings.freshness.stale;
                    if stale.is_some_and(|stale| entry.age >= stale) || self.in_margin(&entry) {
                        self.note("stale: refreshing in the background");
                        refresh::start_refresh(Some(store), &self.key);
                    }
                    usage::record_hit(store, Event::Hit, &self.hit_key(), entry.header.run_ms);
                    return Outcome::Replay(entry);
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
        if let Some(entry) = self.serve_remote() {
            return Outcome::Replay(entry);
        }
        self.miss(previous)
    }

    /// `--cached-only` and `--check`: a fresh entry (local, else remote) is
    /// a hit; nothing ever runs, and with `--stale` an aging entry is
    /// served without starting a refresh (that would run the command).
    pub(super) fn lookup_only(&mut self, store: Option<DiskStore>, only: LookupOnly) -> Outcome {
        let check = only == LookupOnly::Check;
        if let Some(store) = &store {
            if let Some(entry) = self.lookup(store).filter(|e| self.is_fresh(e)) {
                if check || self.restore_outputs(&entry) {
                    self.note(format!("hit, age {}", age(entry.age)));
                    if check {
                        return Outcome::Done(0);
                    }
                    usage::record_hit(store, Event::Hit, &self.hit_key(), entry.header.run_ms);
                    return Outcome::Replay(entry);
                }
            }
        }
        if let Some(entry) = self.serve_remote() {
            return if check { Outcome::Done(0) } else { Outcome::Replay(entry) };
        }
        self.note("miss (nothing run)");
        Outcome::Done(self.settings.miss_status)
    }

    /// A fresh entry from the remote tier, served from the local copy it
    /// was published to; `None` to carry on with a miss.
    fn serve_remote(&mut self) -> Option<StoredEntry> {
        let tier = self.tier?;
        if self.settings.force {
            return None;
        }
        let store = DiskStore::open_or_create(&self.settings.common.cache_dir).ok()?;
        let (rules, now) = (self.rules(), self.clock.now());
        let margin = self.settings.freshness.expiry_margin;
        let is_fresh = |h: &crate::entry::Header, age| {
            let cut = crate::freshness::margin_cut(h.expires_at, margin);
            rules.is_fresh(h.exit_code, cut, age, now)
        };
        let fetched = self.fetch_traced(tier, &store, is_fresh);
        if !matches!(fetched, Fetched::Hit) {
            return None;
        }
        let entry = self.lookup(&store)?;
        // --check leaves the declared outputs as they are.
        let check = self.settings.lookup_only == Some(LookupOnly::Check);
        if !check && !self.restore_outputs(&entry) {
            return None;
        }
        self.note(format!("remote hit, age {}", age(entry.age)));
        Some(entry)
    }

    fn miss(&mut self, previous: Option<StoredEntry>) -> Outcome {
        let store = match DiskStore::open_or_create(&self.settings.common.cache_dir) {
            Ok(store) => store,
            Err(e) => {
                // A bad root is persistent configuration: say so even without
                // -v (with -v the status line says it, still in one line).
                if !self.settings.common.verbose {
                    crate::error::warn(format_args!("{e}; running uncached"));
                }
                self.note(format!("not recorded ({e})"));
                return Outcome::Done(self.run_uncached());
            }
        };
        let _lock = match store.lock(&self.key, self.settings.lock_timeout) {
            LockOutcome::Acquired { _file, waited } => {
                if waited && !self.settings.force {
                    // Another caller just ran this key: its entry is ours to
                    // serve, replayed once the lock is dropped here.
                    let fresh = self.lookup(&store).filter(|e| self.is_fresh(e));
                    if let Some(entry) = fresh.filter(|e| self.restore_outputs(e)) {
                        self.note("hit after waiting for another run");
                        usage::record_hit(&store, Event::Hit, &self.hit_key(), entry.header.run_ms);
                        return Outcome::Replay(entry);
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
            if let Some(entry) = self.serve_remote() {
                return Outcome::Replay(entry);
            }
        }
        usage::record(&store, Event::Miss, &self.key);
        let outcome = self.run_and_record(&store, previous);
        self.start_auto_gc(&store);
        outcome
    }
}
