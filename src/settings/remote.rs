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

/// The shared tier, when one is configured. `Debug` shows no secret.
#[derive(Clone)]
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

impl std::fmt::Debug for RemoteSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSettings")
            .field("url", &redact(&self.url))
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("read_only", &self.read_only)
            .field("max_entry_size", &self.max_entry_size)
            .finish()
    }
}

/// A URL without its secrets, for messages (see `store::remote::redact`).
pub fn redact(url: &str) -> String {
    remote::redacted_url(url)
}

/// `text` with every URL in it redacted: for messages that quote a config
/// value, which may be a URL with a password under the wrong key.
pub fn redact_urls_in(text: &str) -> String {
    // ASCII only, so every delimiter is one byte wide.
    let delimiter = |c: char| c.is_ascii_whitespace() || "'\"`".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let start = rest[..at].rfind(delimiter).map_or(0, |i| i + 1);
        let end = rest[at..].find(delimiter).map_or(rest.len(), |i| at + i);
        out.push_str(&rest[..start]);
        out.push_str(&redact(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_in_messages_lose_their_secrets() {
        let message = "invalid type: string \"redis://u:pw1@h/0\", expected 'https://tok@x?a=1' or `s3://k:pw2@b`";
        let clean = super::redact_urls_in(message);
        assert!(
            !clean.contains("pw1") && !clean.contains("tok") && !clean.contains("pw2"),
            "{clean}"
        );
        assert!(
            clean.starts_with("invalid type: string \"redis://h/0\", expected 'https://x/?a=1'"),
            "{clean}"
        );
        assert_eq!(super::redact_urls_in("no url here"), "no url here");
    }

    #[test]
    fn debug_shows_no_secret() {
        let settings = super::RemoteSettings {
            url: "redis://u:pw1@h/0".into(),
            password: Some("pw2".into()),
            read_only: false,
            max_entry_size: 1,
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("pw1") && !shown.contains("pw2"), "{shown}");
    }
}
