//! `cachecmd evict [KEY OPTIONS] -- COMMAND...`: forget one invocation.

use anyhow::Result;

use crate::cli::EvictArgs;
use crate::settings::Config;
use crate::store::disk::DiskStore;
use crate::store::Store;

pub fn evict(config: &Config, args: EvictArgs) -> Result<i32> {
    let common = config.common(&args.key.common)?;
    let key = super::key_for(&config.key(&args.key)?, &args.command)?;
    let removed = match DiskStore::open_existing(&common.cache_dir)? {
        Some(store) => store.remove(&key)?,
        None => false,
    };
    if common.verbose {
        let what = if removed { "evicted" } else { "no entry for" };
        eprintln!("cachecmd: {what} key {}", key.short());
    }
    Ok(0)
}
