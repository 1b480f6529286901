//! `list --remote` and `clear --remote`: the shared tier's entries. The URL
//! comes from `CACHECMD_REMOTE` or the config file's `remote`.

use anyhow::{bail, Result};

use crate::cli::RemoteArgs;
use crate::settings::{Config, RemoteSettings};

fn settings(config: &Config) -> Result<RemoteSettings> {
    let args = RemoteArgs {
        url: std::env::var("CACHECMD_REMOTE").ok().filter(|u| !u.is_empty()),
        read_only: std::env::var_os("CACHECMD_REMOTE_READ_ONLY")
            .is_some_and(|v| !v.is_empty() && v != "0" && v != "false"),
    };
    match config.remote(&args)? {
        Some(settings) => Ok(settings),
        None => bail!(
            "--remote: no remote configured (set CACHECMD_REMOTE or `remote` in the config file)"
        ),
    }
}

#[cfg(feature = "redis")]
fn connect(config: &Config) -> Result<crate::store::remote::Remote> {
    use crate::store::remote::{Remote, RemoteConfig};
    let settings = settings(config)?;
    let mut remote = RemoteConfig::new(settings.url);
    remote.password = settings.password;
    remote.read_only = settings.read_only;
    Ok(Remote::connect(&remote))
}

/// Prints the key of every remote entry (one per line, or a JSON array).
#[cfg(feature = "redis")]
pub fn list(config: &Config, json: bool) -> Result<i32> {
    let remote = connect(config)?;
    let mut keys = remote.scan_keys()?;
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

/// Removes every remote entry (SCAN + UNLINK under the cachecmd prefix).
#[cfg(feature = "redis")]
pub fn clear(config: &Config) -> Result<u64> {
    Ok(connect(config)?.clear()?)
}

#[cfg(not(feature = "redis"))]
pub fn list(config: &Config, _json: bool) -> Result<i32> {
    settings(config)?;
    bail!("--remote: this cachecmd was built without the `redis` feature")
}

#[cfg(not(feature = "redis"))]
pub fn clear(config: &Config) -> Result<u64> {
    settings(config)?;
    bail!("--remote: this cachecmd was built without the `redis` feature")
}
