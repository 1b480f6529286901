//! The summary file (`v1/usage`): what compaction folded the journal into.
//!
//! ```text
//! version 4 ("CCUSAGE4"):
//!   header  72 bytes: magic, since, hits, misses, evictions, remote_hits,
//!                     remote_errors, remote_rejected, saved_ms (u64 LE each)
//!   records 56 bytes: key (32), hits, last_hit, saved_ms (u64 LE each)
//! version 3 ("CCUSAGE3"): header 56 bytes (no since, no saved_ms),
//!                         records 48 bytes (no saved_ms)
//! version 2 ("CCUSAGE2"): as version 3 without remote_rejected (48 bytes)
//! ```
//!
//! `since` is the instant (seconds since the epoch) the counts start from;
//! 0 means the cache's creation. Versions 2 and 3 are still read (what they
//! lack reads as zero); the next compaction rewrites them as version 4.

use super::{plausible, stream, u64_at, KeyUsage, Usage};
use crate::key::Key;
use crate::store::disk::DiskStore;

const MAGIC: &[u8; 8] = b"CCUSAGE4";
const HEADER_LEN: usize = 72;
pub(super) const RECORD_LEN: usize = 56;
const V3_MAGIC: &[u8; 8] = b"CCUSAGE3";
const V3_HEADER_LEN: usize = 56;
const V2_MAGIC: &[u8; 8] = b"CCUSAGE2";
const V2_HEADER_LEN: usize = 48;
const OLD_RECORD_LEN: usize = 48;

pub(super) fn path(v1: &std::path::Path) -> std::path::PathBuf {
    v1.join("usage")
}

/// Header and record length for a magic; `None` for anything else.
fn layout(magic: &[u8]) -> Option<(usize, usize)> {
    match magic {
        m if m == MAGIC => Some((HEADER_LEN, RECORD_LEN)),
        m if m == V3_MAGIC => Some((V3_HEADER_LEN, OLD_RECORD_LEN)),
        m if m == V2_MAGIC => Some((V2_HEADER_LEN, OLD_RECORD_LEN)),
        _ => None,
    }
}

impl Usage {
    pub(super) fn read_summary(
        &mut self,
        store: &DiskStore,
        keep: &dyn Fn(&Key) -> bool,
        now: u64,
    ) {
        let mut header = [0u8; HEADER_LEN];
        let mut records = Vec::new();
        stream(store, &path(&store.v1()), &mut header, layout, |record| {
            let Some(key) = Key::from_slice(&record[..32]).filter(|k| keep(k)) else { return };
            let last_hit = u64_at(record, 40);
            let last_hit = if plausible(last_hit, now) { last_hit } else { 0 };
            // Older records end at 48 bytes: no saved time.
            let saved_ms = u64_at(record, 48);
            records.push((key, KeyUsage { hits: u64_at(record, 32), last_hit, saved_ms }));
        });
        let Some((header_len, _)) = layout(&header[..8]) else { return };
        // Older headers lack `since` (and version 2 `remote_rejected`): the
        // totals sit 8 bytes earlier and what is missing is zero.
        let (since, totals) =
            if header_len == HEADER_LEN { (u64_at(&header, 8), 16) } else { (0, 8) };
        self.since = since;
        let header = &header[..header_len];
        for (i, total) in [
            &mut self.hits,
            &mut self.misses,
            &mut self.evictions,
            &mut self.remote_hits,
            &mut self.remote_errors,
            &mut self.remote_rejected,
            &mut self.saved_ms,
        ]
        .into_iter()
        .enumerate()
        {
            *total = total.saturating_add(u64_at(header, totals + 8 * i));
        }
        for (key, use_) in records {
            let entry = self.keys.entry(key).or_default();
            entry.hits = entry.hits.saturating_add(use_.hits);
            entry.saved_ms = entry.saved_ms.saturating_add(use_.saved_ms);
            entry.last_hit = entry.last_hit.max(use_.last_hit);
        }
    }

    /// Replaces the summary with these counts, as version 4.
    pub(super) fn write_summary(&self, store: &DiskStore) -> std::io::Result<()> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.keys.len() * RECORD_LEN);
        out.extend_from_slice(MAGIC);
        for total in [
            self.since,
            self.hits,
            self.misses,
            self.evictions,
            self.remote_hits,
            self.remote_errors,
            self.remote_rejected,
            self.saved_ms,
        ] {
            out.extend_from_slice(&total.to_le_bytes());
        }
        for (key, use_) in &self.keys {
            out.extend_from_slice(key.bytes());
            for n in [use_.hits, use_.last_hit, use_.saved_ms] {
                out.extend_from_slice(&n.to_le_bytes());
            }
        }
        crate::store::disk::replace_private_file(&path(&store.v1()), &out)
    }
}
