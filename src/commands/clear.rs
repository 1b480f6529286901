//! `cachecmd clear [FILTERS]`: forget every entry, or those matching all of
//! the filters given. Clearing everything also restarts the statistics.

use std::time::SystemTime;

use crate::error::{Error, Result};
use globset::{Glob, GlobMatcher};

use super::listed::has_scope;
use crate::cli::ClearArgs;
use crate::format;
use crate::settings::Config;
use crate::store::disk::DiskStore;
use crate::store::inventory::EntryInfo;
use crate::store::Store;

pub fn clear(config: &Config, args: ClearArgs) -> Result<i32> {
    let common = config.common(&args.common)?;
    let pattern = command_glob(args.command.as_deref())?;
    let filters_given =
        args.scope.is_some() || args.expired || args.older_than.is_some() || pattern.is_some();
    if args.remote {
        if filters_given {
            return Err(Error::Usage(
                "--remote clears every remote entry; filters apply to the local cache only".into(),
            ));
        }
        let removed = super::remote_admin::clear(config)?;
        let plural = if removed == 1 { "entry" } else { "entries" };
        println!("removed {removed} remote {plural}");
    }
    let Some(store) = DiskStore::open_existing(&common.cache_dir)? else {
        report(0);
        return Ok(0);
    };
    let filtered =
        args.scope.is_some() || args.expired || args.older_than.is_some() || pattern.is_some();
    if !filtered && !common.verbose {
        report(store.clear()?);
        restart_counts(&store);
        return Ok(0);
    }
    let now = SystemTime::now();
    let matches = |info: &EntryInfo| {
        args.scope.as_deref().is_none_or(|s| has_scope(info, s))
            && (!args.expired || info.expired(now))
            && args.older_than.is_none_or(|limit| info.age(now) > limit)
            && pattern.as_ref().is_none_or(|p| command_matches(p, info))
    };
    let mut removed = 0;
    for info in store.entry_infos().into_iter().filter(matches) {
        if store.remove_file(&info.path) {
            removed += 1;
            if common.verbose {
                let argv: Vec<_> = info.meta.argv.iter().map(|a| a.to_os()).collect();
                let command = format::command_line(argv.iter().map(|a| a.as_os_str()));
                println!("removed {}  {command}", info.key.short());
            }
        }
    }
    if !filtered {
        // Temp files and locks go too when everything is cleared.
        store.clear()?;
        restart_counts(&store);
    }
    report(removed);
    Ok(0)
}

/// The `--command` glob (of `clear` and `list`); a bad one is a usage error.
pub fn command_glob(pattern: Option<&str>) -> Result<Option<GlobMatcher>> {
    pattern
        .map(|p| Glob::new(p).map(|g| g.compile_matcher()))
        .transpose()
        .map_err(|e| Error::Usage(format!("--command pattern '{}': {e}", pattern.unwrap_or(""))))
}

/// The glob matches the program (as written, or its file name) or the
/// whole command line joined by spaces.
pub fn command_matches(pattern: &GlobMatcher, info: &EntryInfo) -> bool {
    let argv: Vec<_> = info.meta.argv.iter().map(|a| a.to_os()).collect();
    let Some(program) = argv.first() else { return false };
    let name = std::path::Path::new(program).file_name().unwrap_or(program);
    let line = argv.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ");
    pattern.is_match(program) || pattern.is_match(name) || pattern.is_match(line)
}

/// A cleared cache starts its statistics again, as `stats --zero` does:
/// misses of entries that are gone would only mislead. Best effort: the
/// counts are statistics.
fn restart_counts(store: &DiskStore) {
    let now = crate::freshness::unix_secs(crate::freshness::clock().now());
    let _ = crate::store::usage::zero(store, now);
}

pub fn report(removed: usize) {
    let plural = if removed == 1 { "entry" } else { "entries" };
    println!("removed {removed} {plural}");
}
