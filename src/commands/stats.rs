//! `cachecmd stats [--json] [--zero]`: size and effectiveness of the cache,
//! counted since the last reset. Reads only directory entries and `stat`
//! data, and the metadata of the few entries that saved the most time, so
//! it stays fast with a hundred thousand entries.

use std::io::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use crate::error::Result;
use serde::Serialize;

use super::json::{OsJson, SCHEMA};
use super::listed::{rfc3339, Listed};
use crate::cli::StatsArgs;
use crate::error::Error;
use crate::format;
use crate::settings::Config;
use crate::store::disk::DiskStore;
use crate::store::inventory::EntryFile;
use crate::store::usage::{self, Usage};

/// How many entries `stats` names as the ones that saved the most time.
const TOP: usize = 5;

#[derive(Debug, Default, Serialize)]
struct Stats {
    schema: u32,
    cache_dir: String,
    /// When the counts start (the last `stats --zero` or `clear` of
    /// everything, else the cache's creation), RFC 3339.
    since: Option<String>,
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
    /// The recorded run time of every served hit, local and remote.
    saved_ms: u64,
    /// The entries whose hits saved the most, most first.
    top: Vec<TopJson>,
    oldest: Option<String>,
    newest: Option<String>,
    max_size: u64,
    max_entries: Option<u64>,
}

/// One of the entries that saved the most time.
#[derive(Debug, Serialize)]
struct TopJson {
    key: String,
    command: Vec<OsJson>,
    cwd: Option<OsJson>,
    hits: u64,
    saved_ms: u64,
    run_ms: Option<u64>,
}

pub fn stats(config: &Config, args: StatsArgs) -> Result<i32> {
    let common = config.common(&args.common)?;
    let limits = config.limits(&args.limits)?;
    if args.zero {
        let now = crate::freshness::unix_secs(crate::freshness::clock().now());
        if let Some(store) = DiskStore::open_existing(&common.cache_dir)? {
            let cache_dir = common.cache_dir.display();
            usage::zero(&store, now).map_err(|e| {
                Error::Io(std::io::Error::new(e.kind(), format!("stats --zero: {cache_dir}: {e}")))
            })?;
        }
        if args.json {
            // `--json` promises JSON: the instant the counts now start from.
            let zeroed = serde_json::json!({ "schema": SCHEMA, "since": rfc3339(now) });
            println!("{}", serde_json::to_string_pretty(&zeroed)?);
        } else {
            println!("statistics zeroed at {}", rfc3339(now));
        }
        return Ok(0);
    }
    let mut stats = Stats {
        schema: SCHEMA,
        cache_dir: common.cache_dir.display().to_string(),
        max_size: limits.max_size,
        max_entries: limits.max_entries,
        ..Stats::default()
    };
    let (mut oldest, mut newest, mut since, mut top) = (None, None, None, Vec::new());
    if let Some(store) = DiskStore::open_existing(&common.cache_dir)? {
        for (len, secs) in store.entry_stats() {
            stats.entries += 1;
            stats.bytes += len;
            oldest = Some(oldest.map_or(secs, |o: u64| o.min(secs)));
            newest = Some(newest.map_or(secs, |n: u64| n.max(secs)));
        }
        let usage = Usage::load(&store);
        (stats.hits, stats.misses, stats.evictions) = (usage.hits, usage.misses, usage.evictions);
        (stats.remote_hits, stats.remote_errors) = (usage.remote_hits, usage.remote_errors);
        (stats.remote_rejected, stats.saved_ms) = (usage.remote_rejected, usage.saved_ms);
        since = usage::counting_since(&store, &usage);
        top = top_entries(&store, &usage);
    }
    stats.since = since.map(rfc3339);
    stats.top = top.iter().map(top_json).collect();
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
    let saved = match stats.saved_ms {
        0 => "-".into(),
        ms => format!("{} (the recorded run time of every hit)", format::millis(ms)),
    };
    let mut rows = vec![
        ("cache dir", crate::error::escape(&stats.cache_dir)),
        (
            "counting",
            since.map_or("since the cache was created".into(), |s| {
                format!("since {}", ago(Some(s)))
            }),
        ),
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
        ("time saved", saved),
        ("oldest", ago(oldest)),
        ("newest", ago(newest)),
    ];
    let home = std::env::var_os("HOME");
    for (i, row) in top.iter().enumerate() {
        let dir = row.info.meta.cwd.as_ref().map(|cwd| format::dir(&cwd.to_os(), home.as_deref()));
        let hits = if row.hits == 1 { "hit" } else { "hits" };
        let line = format!(
            "{:>7}  {:>5} {hits:<4}  {}{}",
            format::millis(row.saved_ms),
            row.hits,
            row.command(),
            dir.map_or(String::new(), |d| format!("  (in {d})"))
        );
        rows.push((if i == 0 { "top saved" } else { "" }, line));
    }
    let mut out = format::report_stdout(args.color.color);
    let heading = format::HEADING;
    for (name, value) in rows {
        let _ = writeln!(out, "{heading}{name:<11}{heading:#} {value}");
    }
    Ok(0)
}

/// The entries whose hits saved the most time, most first.
fn top_entries(store: &DiskStore, usage: &Usage) -> Vec<Listed> {
    let mut keys: Vec<_> = usage.keys.iter().filter(|(_, u)| u.saved_ms > 0).collect();
    keys.sort_by_key(|(key, u)| (std::cmp::Reverse(u.saved_ms), key.hex()));
    keys.iter()
        .filter_map(|(key, _)| {
            let file = EntryFile { key: **key, path: store.entry_path(key) };
            store.read_info(&file).ok().map(|info| Listed::new(info, usage))
        })
        .take(TOP)
        .collect()
}

fn top_json(row: &Listed) -> TopJson {
    let meta = &row.info.meta;
    TopJson {
        key: row.info.key.hex(),
        command: meta.argv.iter().map(OsJson::entry).collect(),
        cwd: meta.cwd.as_ref().map(OsJson::entry),
        hits: row.hits,
        saved_ms: row.saved_ms,
        run_ms: row.run_ms(),
    }
}
