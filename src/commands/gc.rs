//! `cachecmd gc`: collect garbage and enforce the size limits now.

use crate::error::Result;

use crate::cli::GcArgs;
use crate::format;
use crate::gc;
use crate::settings::Config;
use crate::store::disk::DiskStore;

pub fn gc(config: &Config, args: GcArgs) -> Result<i32> {
    let common = config.common(&args.common)?;
    let limits = config.limits(&args.limits)?;
    let Some(store) = DiskStore::open_existing(&common.cache_dir)? else {
        if !args.auto {
            println!("nothing to collect: {} does not exist", common.cache_dir.display());
        }
        return Ok(0);
    };
    let Some(_lock) = gc::try_lock(&store) else {
        if !args.auto {
            println!("another gc is running");
        }
        return Ok(0);
    };
    let report = gc::collect(&store, limits, crate::freshness::clock().now());
    if !args.auto {
        let temp = if report.temp_files == 1 { "file" } else { "files" };
        let entries = if report.entries == 1 { "entry" } else { "entries" };
        println!(
            "removed {} expired, {} corrupt, {} over the size limits, {} stale temp {temp}; \
             {} {entries}, {} left",
            report.expired,
            report.corrupt,
            report.evicted,
            report.temp_files,
            report.entries,
            format::size(report.bytes)
        );
    }
    Ok(0)
}
