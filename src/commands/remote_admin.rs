//! `list --remote` and `clear --remote`: the shared tier's entries. The URL
//! comes from `CACHECMD_REMOTE` or the config file's `remote`.

use crate::error::{Error, Result};

use crate::cli::RemoteArgs;
use crate::settings::{Config, RemoteSettings};
use crate::store::remote::{self, RemoteConfig, RemoteStore};

fn settings(config: &Config) -> Result<RemoteSettings> {
    let args = RemoteArgs {
        url: std::env::var("CACHECMD_REMOTE").ok().filter(|u| !u.is_empty()),
        read_only: std::env::var_os("CACHECMD_REMOTE_READ_ONLY")
            .is_some_and(|v| !v.is_empty() && v != "0" && v != "false"),
    };
    match config.remote(&args)? {
        Some(settings) => Ok(settings),
        None => Err(Error::Usage(
            "--remote: no remote configured (set CACHECMD_REMOTE or `remote` in the config file)"
                .into(),
        )),
    }
}

fn connect(config: &Config) -> Result<Box<dyn RemoteStore>> {
    let settings = settings(config)?;
    let mut remote = RemoteConfig::new(settings.url);
    remote.password = settings.password;
    remote.read_only = settings.read_only;
    Ok(remote::open(&remote)?)
}

/// Prints the key of every remote entry (one per line, or a JSON array).
pub fn list(config: &Config, json: bool) -> Result<i32> {
    let remote = connect(config)?;
    let mut keys = remote.list_keys()?;
    keys.sort();
    if json {
        println!("{}", serde_json::to_string_pretty(&keys)?);
    } else {
        println!("{} entries in {}", keys.len(), remote.redacted_url());
        for key in keys {
            println!("{key}");
        }
    }
    Ok(0)
}

/// Removes every remote entry (only what cachecmd keeps there).
pub fn clear(config: &Config) -> Result<u64> {
    Ok(connect(config)?.clear()?)
}
