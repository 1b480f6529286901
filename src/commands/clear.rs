//! `cachecmd clear`: forget every entry.

use anyhow::Result;

use crate::cli::ClearArgs;
use crate::settings::Config;
use crate::store::disk::DiskStore;
use crate::store::Store;

pub fn clear(config: &Config, args: ClearArgs) -> Result<i32> {
    let common = config.common(&args.common)?;
    let removed = match DiskStore::open_existing(&common.cache_dir)? {
        Some(store) => store.clear()?,
        None => 0,
    };
    let plural = if removed == 1 { "entry" } else { "entries" };
    println!("removed {removed} {plural}");
    Ok(0)
}
