//! `cachecmd key [--explain]`: print the key a run would use, or each part
//! that went into it. Variable values never appear (see `key::explain`).

use crate::error::Result;

use crate::cli::KeyCommandArgs;
use crate::settings::Config;
use crate::store::disk::DiskStore;
use crate::store::statcache::StatCache;

pub fn key(config: &Config, args: KeyCommandArgs) -> Result<i32> {
    let spec = config.key(&args.key)?;
    let common = config.common(&args.key.common)?;
    let store = DiskStore::open_existing(&common.cache_dir).ok().flatten();
    let material = spec.capture(&args.command, &mut StatCache::new(store.as_ref()))?;
    if args.explain {
        print!("{}", material.explain());
        print_traced_inputs(store.as_ref(), &material);
    } else {
        println!("{}", material.key().hex());
    }
    Ok(0)
}

/// With `--trace-inputs`, the inputs the recorded runs were found to use.
fn print_traced_inputs(store: Option<&DiskStore>, material: &crate::key::KeyMaterial) {
    let index =
        store.filter(|_| material.trace).and_then(|s| super::run::read_index(s, &material.key()));
    match index {
        Some(index) => print!("{}", super::run::describe_index(&index)),
        None if material.trace => println!("traced inputs: none recorded yet"),
        None => {}
    }
}
