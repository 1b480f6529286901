//! The shared tier's settings: the URL from `--remote`/`CACHECMD_REMOTE` or
//! the config file, checked by the remote module (the one list of schemes).

use super::limits::DEFAULT_REMOTE_MAX_ENTRY_SIZE;
use super::{given, Config, SettingsError};
use crate::cli::RemoteArgs;
use crate::store::remote::{self, RemoteConfig};

/// Schemes a cachecmd build with the matching cargo feature can open. A
/// build without it warns and runs local-only (see `tier.rs`) so a shared
/// config works across builds; any other scheme is a usage error.
const OPTIONAL_BACKEND_SCHEMES: [&str; 5] = ["redis", "rediss", "http", "https", "s3"];

/// The shared tier, when one is configured.
#[derive(Debug, Clone)]
pub struct RemoteSettings {
    pub url: String,
    /// From `CACHECMD_REMOTE_PASSWORD`, so it need not be in the URL.
    pub password: Option<String>,
    pub read_only: bool,
    pub max_entry_size: u64,
}

impl Config {
    /// The remote tier from `--remote`/`CACHECMD_REMOTE`, else the config.
    pub fn remote(&self, args: &RemoteArgs) -> Result<Option<RemoteSettings>, SettingsError> {
        let flag = given(args.url.as_ref(), "CACHECMD_REMOTE");
        let Some(url) = flag.or(self.file.remote.as_ref()).cloned() else {
            return Ok(None);
        };
        // `open` never touches the network; it fails only for a scheme this
        // build has no backend for.
        if let Err(e) = remote::open(&RemoteConfig::new(url.clone())) {
            let scheme = url.split_once("://").map_or("", |(scheme, _)| scheme);
            if !OPTIONAL_BACKEND_SCHEMES.contains(&scheme) {
                return Err(SettingsError::Invalid(format!("--remote: {e}")));
            }
        }
        Ok(Some(RemoteSettings {
            url,
            password: std::env::var("CACHECMD_REMOTE_PASSWORD").ok().filter(|p| !p.is_empty()),
            read_only: args.read_only || self.file.remote_read_only.unwrap_or(false),
            max_entry_size: self.size(
                "remote_max_entry_size",
                None,
                &self.file.remote_max_entry_size,
                DEFAULT_REMOTE_MAX_ENTRY_SIZE,
            )?,
        }))
    }
}

/// A URL without its secrets, for messages (see `store::remote::redact`).
pub fn redact(url: &str) -> String {
    remote::redacted_url(url)
}
