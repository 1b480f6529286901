//! `cachecmd key`: print the key a run would use.

use anyhow::Result;

use crate::cli::KeyCommandArgs;
use crate::settings::Config;

pub fn key(config: &Config, args: KeyCommandArgs) -> Result<i32> {
    let settings = config.key(&args.key)?;
    println!("{}", super::key_for(&settings, &args.command)?.hex());
    Ok(0)
}
