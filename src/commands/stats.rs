//! `cachecmd stats [--json]`: size and effectiveness of the cache. Reads
//! only directory entries and `stat` data, never entry contents, so it stays
//! fast with a hundred thousand entries.

use std::io::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use crate::error::Result;
use serde::Serialize;

use super::list::rfc3339;
use crate::cli::StatsArgs;
use crate::format;
use crate::settings::Config;
use crate::store::disk::DiskStore;
use crate::store::usage::Usage;

#[derive(Debug, Default, Serialize)]
struct Stats {
    cache_dir: String,
    entries: u64,
    bytes: u64,
    hits: u64,
    misses: u64,
    hit_ratio: Option<f64>,
    evictions: u64,
    remote_hits: u64,
    remote_errors: u64,
    /// Remote values refused as unsigned, mis-signed or corrupt.
    remote_rejected: u64,
    oldest: Option<String>,
    newest: Option<String>,
    max_size: u64,
    max_entries: Option<u64>,
}

pub fn stats(config: &Config, args: StatsArgs) -> Result<i32> {
    let common = config.common(&args.common)?;
    let limits = config.limits(&args.limits)?;
    let mut stats = Stats {
        cache_dir: common.cache_dir.display().to_string(),
        max_size: limits.max_size,
        max_entries: limits.max_entries,
        ..Stats::default()
    };
    let mut oldest = None;
    let mut newest = None;
    if let Some(store) = DiskStore::open_existing(&common.cache_dir)? {
        for (len, secs) in store.entry_stats() {
            stats.entries += 1;
            stats.bytes += len;
            oldest = Some(oldest.map_or(secs, |o: u64| o.min(secs)));
            newest = Some(newest.map_or(secs, |n: u64| n.max(secs)));
        }
        let usage = Usage::totals(&store);
        (stats.hits, stats.misses, stats.evictions) = (usage.hits, usage.misses, usage.evictions);
        (stats.remote_hits, stats.remote_errors) = (usage.remote_hits, usage.remote_errors);
        stats.remote_rejected = usage.remote_rejected;
    }
    let lookups = stats.hits.saturating_add(stats.misses);
    stats.hit_ratio = (lookups > 0).then(|| stats.hits as f64 / lookups as f64);
    stats.oldest = oldest.map(rfc3339);
    stats.newest = newest.map(rfc3339);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
        return Ok(0);
    }
    let now = crate::freshness::clock().now();
    let ago = |secs: Option<u64>| match secs {
        Some(secs) => {
            let age =
                now.duration_since(UNIX_EPOCH + Duration::from_secs(secs)).unwrap_or_default();
            format!("{} ({} ago)", rfc3339(secs), format::age(age))
        }
        None => "-".into(),
    };
    let ratio = stats.hit_ratio.map_or("-".into(), |r| format!("{:.1}%", r * 100.0));
    let max_entries = stats.max_entries.map_or("unlimited".into(), |n| n.to_string());
    let rows = [
        ("cache dir", crate::error::escape(&stats.cache_dir)),
        ("entries", format!("{} (limit {max_entries})", stats.entries)),
        ("size", format!("{} (limit {})", format::size(stats.bytes), format::size(stats.max_size))),
        ("hits", stats.hits.to_string()),
        ("misses", stats.misses.to_string()),
        ("hit ratio", ratio),
        ("evictions", stats.evictions.to_string()),
        (
            "remote",
            format!(
                "{} hits, {} runs with errors, {} values rejected",
                stats.remote_hits, stats.remote_errors, stats.remote_rejected
            ),
        ),
        ("oldest", ago(oldest)),
        ("newest", ago(newest)),
    ];
    let mut out = format::report_stdout(args.color.color);
    let heading = format::HEADING;
    for (name, value) in rows {
        let _ = writeln!(out, "{heading}{name:<11}{heading:#} {value}");
    }
    Ok(0)
}
