//! `cachecmd evict [KEY OPTIONS] [--] COMMAND...`: forget one invocation;
//! `cachecmd evict --key KEY-PREFIX`: forget one entry by key.

use crate::error::{Error, Result};

use super::clear::report;
use super::show::resolve_prefix;
use crate::cli::EvictArgs;
use crate::settings::Config;
use crate::store::disk::DiskStore;
use crate::store::statcache::StatCache;
use crate::store::Store;

pub fn evict(config: &Config, args: EvictArgs) -> Result<i32> {
    let common = config.common(&args.key.common)?;
    let store = DiskStore::open_existing(&common.cache_dir)?;
    let key = if args.command.is_empty() {
        let [prefix] = args.key.extra.as_slice() else {
            return Err(Error::Usage(
                "evict without a COMMAND takes exactly one --key KEY-PREFIX".into(),
            ));
        };
        resolve_prefix(store.as_ref(), &prefix.to_string_lossy())?.key
    } else {
        let spec = config.key(&args.key)?;
        spec.capture(&args.command, &mut StatCache::new(store.as_ref()))?.key()
    };
    let removed = match &store {
        Some(store) => store.remove(&key)?,
        None => false,
    };
    // Nothing to remove is exit 1 (NO_ENTRY) however the entry was named,
    // as for `show`.
    if !removed {
        return Err(Error::NoEntry(format!("no entry for key {}", key.short())));
    }
    if common.verbose {
        println!("removed {}", key.short());
    } else {
        report(1);
    }
    Ok(0)
}
