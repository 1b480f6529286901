//! Run mode with `--trace-inputs`. The entry at the run's key is an index
//! of manifests (see `trace::manifest`), each naming the entry recorded
//! with it: a lookup serves the first entry whose manifest still matches
//! the file system, checked through the stat cache. A miss runs the command
//! traced, records its output under a new key, and adds the manifest of
//! what it touched to the index. A run that could not be traced is not
//! recorded at all (fail open: same output and status, no entry).

use std::os::unix::fs::FileExt as _;

use super::Run;
use crate::exec::runner::{self, Finished, Mode, SpawnError, Trace};
use crate::key::Key;
use crate::record::{Completed, Recorder};
use crate::store::disk::DiskStore;
use crate::store::statcache::StatCache;
use crate::store::Store;
use crate::tier::{Fetched, Tier};
use crate::trace::manifest::Index;
use crate::trace::observe;
use crate::trace::paths::Ignore;

/// The traced run of this invocation.
#[derive(Default)]
pub(super) struct Traced {
    /// The key the new entry is recorded under.
    result: Option<Key>,
    /// The entry the index pointed a lookup to.
    served: Option<Key>,
    outcome: Option<Trace>,
}

/// The index stored at `key`, if any (an entry that is not one is none).
pub fn read_index(store: &DiskStore, key: &Key) -> Option<Index> {
    let entry = store.lookup(key).ok()??;
    let range = entry.header.stdout_range();
    let mut bytes = vec![0u8; usize::try_from(range.end - range.start).ok()?];
    entry.file.read_exact_at(&mut bytes, range.start).ok()?;
    Index::decode(&bytes)
}

impl Run<'_> {
    fn tracing(&self) -> bool {
        self.settings.key.trace_inputs
    }

    /// The key whose entry answers this lookup: the run's own key, or with
    /// `--trace-inputs` the entry of the first manifest that matches.
    pub(super) fn entry_key(&mut self, store: &DiskStore) -> Option<Key> {
        if !self.tracing() {
            return Some(self.key);
        }
        let index = read_index(store, &self.key)?;
        let cwd = std::env::current_dir().ok()?;
        let mut cache = StatCache::new(Some(store));
        let mut changed = None;
        for (manifest, result) in &index.manifests {
            match observe::mismatch(manifest, &cwd, &mut cache) {
                None => {
                    self.traced.served = Some(*result);
                    return Some(*result);
                }
                Some(path) => {
                    changed.get_or_insert(path);
                }
            }
        }
        if let Some(path) = changed {
            self.note(format!("traced input {path} changed"));
        }
        None
    }

    /// The key a hit is counted under: the entry served, so that gc's
    /// least-recently-used order sees the result that was used.
    pub(super) fn hit_key(&self) -> Key {
        self.traced.served.unwrap_or(self.key)
    }

    /// The key a new entry is written under: a fresh one per traced run.
    pub(super) fn new_entry_key(&mut self) -> Key {
        if !self.tracing() {
            return self.key;
        }
        let mut bytes = [0u8; 32];
        // Without randomness, derive one from the time: still unique enough.
        if getrandom::fill(&mut bytes).is_err() {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            bytes[..16].copy_from_slice(&now.unwrap_or_default().as_nanos().to_le_bytes());
        }
        let key = Key::from_slice(&bytes).unwrap_or(self.key);
        self.traced.result = Some(key);
        key
    }

    /// Runs the command, traced with `--trace-inputs`.
    pub(super) fn run_command(
        &mut self,
        sinks: Option<(crate::record::Sink<'_>, crate::record::Sink<'_>)>,
        mode: Mode,
    ) -> Result<Finished, SpawnError> {
        let (command, stdin) = (&self.settings.command, self.stdin.as_ref());
        if !self.tracing() {
            return runner::run(command, stdin, sinks, mode);
        }
        let (finished, trace) = runner::run_traced(command, stdin, sinks, mode)?;
        self.traced.outcome = Some(trace);
        Ok(finished)
    }

    /// Why this run may not be recorded: it should have been traced and
    /// was not.
    pub(super) fn untraced(&self) -> Option<String> {
        match &self.traced.outcome {
            Some(Trace::Untraced(why)) => Some(format!("not traced: {why}")),
            _ => None,
        }
    }

    /// After the new entry is published: its manifest joins the index.
    /// Returns the keys to share remotely, the entry's first.
    pub(super) fn publish_manifest(&mut self, store: &DiskStore) -> Vec<Key> {
        let (Some(result), Some(Trace::Traced(accesses))) =
            (self.traced.result, self.traced.outcome.take())
        else {
            return vec![self.key];
        };
        let Ok(cwd) = std::env::current_dir() else { return vec![] };
        let ignore =
            match Ignore::new(&self.settings.common.cache_dir, &self.settings.key.trace_ignore) {
                Ok(ignore) => ignore,
                Err(why) => {
                    self.note(why);
                    return vec![];
                }
            };
        let manifest = observe::build(&accesses, &cwd, &ignore, &mut StatCache::new(Some(store)));
        let inputs = manifest.len();
        let mut index = read_index(store, &self.key).unwrap_or_default();
        index.add(manifest, result);
        let meta = self.meta();
        match write_index(store, &self.key, &index, &meta) {
            Ok(()) => {
                self.note(format!("{inputs} traced inputs"));
                vec![result, self.key]
            }
            Err(why) => {
                self.note(format!("manifest not recorded ({why})"));
                vec![]
            }
        }
    }

    /// With `--trace-inputs`, a remote lookup fetches the index, then the
    /// entry of its first matching manifest.
    pub(super) fn fetch_traced(
        &mut self,
        tier: &Tier,
        store: &DiskStore,
        is_fresh: impl Fn(&crate::entry::Header, std::time::Duration) -> bool,
    ) -> Fetched {
        if !self.tracing() {
            return tier.fetch(store, &self.key, is_fresh, &mut self.notes);
        }
        if let Fetched::Miss = tier.fetch(store, &self.key, |_, _| true, &mut self.notes) {
            return Fetched::Miss;
        }
        match self.entry_key(store) {
            Some(result) => tier.fetch(store, &result, is_fresh, &mut self.notes),
            None => Fetched::Miss,
        }
    }
}

/// The traced inputs of an index, for `show` and `key --explain`: each
/// manifest (newest first) with the entry it answers, then one line per
/// input: how it is checked, what it was, its path.
pub fn describe_index(index: &Index) -> String {
    use crate::trace::manifest::{Check, State};
    let mut out = String::new();
    for (n, (manifest, result)) in index.manifests.iter().enumerate() {
        let count = manifest.len();
        out.push_str(&format!("manifest {} -> entry {} ({count} inputs)\n", n + 1, result.short()));
        for item in manifest {
            let check = match item.check {
                Check::Content => "read",
                Check::Stat => "stat",
                Check::StatLink => "lstat",
                Check::List => "list",
            };
            let state = match &item.state {
                State::Absent => "absent".to_string(),
                State::Content(d) => format!("sha256:{}", &hex::encode(d)[..12]),
                State::Dir => "directory".into(),
                State::Listing { digest, .. } => format!("names:{}", &hex::encode(digest)[..12]),
                State::Link(target) => format!("-> {}", String::from_utf8_lossy(target)),
                State::Meta { size, .. } => format!("{size} bytes"),
                State::Special(_) => "special file".into(),
                State::Unreadable => "unreadable".into(),
            };
            let path =
                crate::format::shell_word(std::os::unix::ffi::OsStrExt::from_bytes(&item.path));
            out.push_str(&format!("  {check:<5} {state:<19} {path}\n"));
        }
    }
    out
}

/// Writes `index` as the entry at `key` (its stdout; exit status 0).
fn write_index(
    store: &DiskStore,
    key: &Key,
    index: &Index,
    meta: &crate::entry::Meta,
) -> Result<(), String> {
    let pending = store.begin(key).map_err(|e| e.to_string())?;
    let spill_dir = pending.temp_dir().to_path_buf();
    let recorder =
        Recorder::new(pending, meta, u64::MAX, &spill_dir, false).map_err(|e| e.to_string())?;
    let (mut out, err) = recorder.sinks();
    if !out.record(&index.encode()) {
        return Err("the index could not be written".into());
    }
    let (out, err) = (out.finish(), err.finish());
    match recorder.finish(out, err, 0, 0, std::time::Duration::ZERO, None) {
        Ok(Completed::Entry(pending, _, _)) => store.publish(pending).map_err(|e| e.to_string()),
        Ok(Completed::Memory(..)) | Err(_) => Err("the index could not be written".into()),
    }
}
