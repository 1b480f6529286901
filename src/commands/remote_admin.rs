//! `list --remote` and `clear --remote`: the shared tier's entries. The URL
//! comes from `CACHECMD_REMOTE` or the config file's `remote`.

use crate::error::{Error, Result};

use crate::cli::RemoteArgs;
use crate::settings::{Config, RemoteSettings};
use crate::store::remote::{self, RemoteStore};

fn settings(config: &Config) -> Result<RemoteSettings> {
    let env = |var: &str| std::env::var(var).ok().filter(|v| !v.is_empty());
    let timeout = env("CACHECMD_REMOTE_TIMEOUT")
        .map(|t| crate::units::parse_timeout(&t))
        .transpose()
        .map_err(|m| Error::Usage(format!("CACHECMD_REMOTE_TIMEOUT: {m}")))?;
    let args = RemoteArgs {
        url: env("CACHECMD_REMOTE"),
        mode: env("CACHECMD_REMOTE_MODE"),
        read_only: std::env::var_os("CACHECMD_REMOTE_READ_ONLY")
            .is_some_and(|v| !v.is_empty() && v != "0" && v != "false"),
        timeout,
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
    Ok(remote::open(&settings(config)?.config())?)
}

/// Prints the key of every remote entry (one per line, or a JSON array of
/// `list --json`'s objects, with what only a local entry tells as `null`).
pub fn list(config: &Config, json: bool) -> Result<i32> {
    let remote = connect(config)?;
    let mut keys = remote.list_keys()?;
    keys.sort();
    if json {
        let entries: Vec<_> = keys.into_iter().map(super::listed::EntryJson::remote).collect();
        println!("{}", serde_json::to_string_pretty(&entries)?);
    } else {
        let noun = if keys.len() == 1 { "entry" } else { "entries" };
        println!("{} {noun} in {}", keys.len(), remote.redacted_url());
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
