//! The shared tier's settings: the URL from `--remote`/`CACHECMD_REMOTE` or
//! the config file, checked by the remote module (the one list of schemes),
//! the mode, the deadline, and the secrets (password, token, signing key),
//! which come only from the environment or a private file.

use std::path::Path;
use std::time::Duration;

use super::limits::DEFAULT_REMOTE_MAX_ENTRY_SIZE;
use super::{given, Config, SettingsError};
use crate::cli::RemoteArgs;
use crate::store::remote::{self, RemoteConfig, RemoteMode, SigningKey};
use crate::units::parse_timeout;

/// Schemes a cachecmd build with the matching cargo feature can open. A
/// build without it warns and runs local-only (see `tier.rs`) so a shared
/// config works across builds; any other scheme is a usage error.
const OPTIONAL_BACKEND_SCHEMES: [&str; 5] = ["redis", "rediss", "http", "https", "s3"];
/// A key file larger than this is not a key.
const MAX_KEY_FILE: u64 = 4096;

/// The shared tier, when one is configured. `Debug` shows no secret.
#[derive(Clone)]
pub struct RemoteSettings {
    pub url: String,
    /// From `CACHECMD_REMOTE_PASSWORD`, so it need not be in the URL.
    pub password: Option<String>,
    /// From `CACHECMD_REMOTE_TOKEN` (HTTP stores).
    pub token: Option<String>,
    pub mode: RemoteMode,
    pub signing_key: Option<SigningKey>,
    pub s3_endpoint: Option<String>,
    pub max_entry_size: u64,
    /// `--remote-timeout`: one whole remote operation.
    pub timeout: Duration,
    /// How long a remote lock outlives a holder that stopped renewing it.
    pub lease: Duration,
}

impl RemoteSettings {
    /// What the remote module needs to open the store.
    pub fn config(&self) -> RemoteConfig {
        let mut config = RemoteConfig::new(self.url.clone());
        config.password = self.password.clone();
        config.token = self.token.clone();
        config.read_only = self.mode == RemoteMode::ReadOnly;
        config.write_only = self.mode == RemoteMode::WriteOnly;
        config.signing_key = self.signing_key.clone();
        config.s3_endpoint = self.s3_endpoint.clone();
        config.max_entry_size = self.max_entry_size;
        config.op_timeout = self.timeout;
        config.connect_timeout = config.connect_timeout.min(self.timeout);
        config
    }
}

fn env_secret(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

impl Config {
    /// The remote tier from `--remote`/`CACHECMD_REMOTE`, else the config.
    /// `None` also when the signing key file is not private (with a
    /// warning): a reader that was meant to verify must not trust blindly.
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
                // Name where the URL came from: the flag or variable, or the
                // config file's line.
                return Err(match flag {
                    Some(_) => SettingsError::Invalid(format!("--remote: {e}")),
                    None => self.error("remote", e.to_string()),
                });
            }
        }
        let signing_key = match env_secret("CACHECMD_REMOTE_SIGNING_KEY") {
            Some(key) => SigningKey::new(key.into_bytes()),
            None => match &self.file.remote_signing_key_file {
                Some(path) => match self.signing_key_file(path)? {
                    Some(key) => Some(key),
                    None => return Ok(None),
                },
                None => None,
            },
        };
        let timeout = match (args.timeout, &self.file.remote_timeout) {
            (Some(timeout), _) => timeout,
            (None, Some(text)) => {
                parse_timeout(text).map_err(|m| self.error("remote_timeout", m))?
            }
            (None, None) => remote::DEFAULT_OP_TIMEOUT,
        };
        Ok(Some(RemoteSettings {
            url,
            password: env_secret("CACHECMD_REMOTE_PASSWORD"),
            token: env_secret("CACHECMD_REMOTE_TOKEN"),
            mode: self.remote_mode(args)?,
            signing_key,
            s3_endpoint: env_secret("CACHECMD_S3_ENDPOINT")
                .or_else(|| self.file.s3_endpoint.clone()),
            max_entry_size: self.size(
                "remote_max_entry_size",
                None,
                &self.file.remote_max_entry_size,
                DEFAULT_REMOTE_MAX_ENTRY_SIZE,
            )?,
            timeout,
            lease: test_lease().unwrap_or(remote::DEFAULT_LEASE),
        }))
    }

    /// `--remote-mode` (clap checked its value), else the deprecated
    /// `--remote-read-only`, else the config's `remote_mode`/`remote_read_only`.
    pub(super) fn remote_mode(&self, args: &RemoteArgs) -> Result<RemoteMode, SettingsError> {
        let flag = match args.mode.as_deref().filter(|m| !m.is_empty()) {
            Some(text) => Some(RemoteMode::parse(text).ok_or_else(|| {
                let names = RemoteMode::NAMES.join(", ");
                SettingsError::Invalid(format!(
                    "--remote-mode (CACHECMD_REMOTE_MODE): '{}' is not one of {names}",
                    crate::diag::escape(text)
                ))
            })?),
            None => None,
        };
        match (flag, args.read_only) {
            (Some(mode), true) if mode != RemoteMode::ReadOnly => {
                return Err(SettingsError::Invalid(
                    "--remote-read-only conflicts with --remote-mode (CACHECMD_REMOTE_MODE)".into(),
                ));
            }
            (Some(mode), _) => return Ok(mode),
            (None, true) => return Ok(RemoteMode::ReadOnly),
            (None, false) => {}
        }
        if let Some(text) = &self.file.remote_mode {
            return RemoteMode::parse(text).ok_or_else(|| {
                let names = RemoteMode::NAMES.join(", ");
                self.error("remote_mode", format!("'{text}' is not one of {names}"))
            });
        }
        Ok(if self.file.remote_read_only.unwrap_or(false) {
            RemoteMode::ReadOnly
        } else {
            RemoteMode::ReadWrite
        })
    }

    /// The key in `path`; `None` (with a warning) when others could read or
    /// write it, like a config file others could write.
    fn signing_key_file(&self, path: &Path) -> Result<Option<SigningKey>, SettingsError> {
        use std::io::Read;
        use std::os::unix::fs::MetadataExt;
        let key = "remote_signing_key_file";
        let shown = crate::diag::escape(&path.display().to_string());
        let file =
            std::fs::File::open(path).map_err(|e| self.error(key, format!("{shown}: {e}")))?;
        let meta = file.metadata().map_err(|e| self.error(key, format!("{shown}: {e}")))?;
        let mode = meta.mode() & 0o7777;
        let mine = meta.uid() == rustix::process::geteuid().as_raw();
        if mode & 0o077 != 0 || !mine {
            let why =
                if mine { format!("its mode is {mode:04o}") } else { "it is not yours".into() };
            crate::diag::warn(format_args!(
                "ignoring {key} {shown}: {why}, so others may know the key; the remote is \
                 not used; fix with: chmod 600 {shown}"
            ));
            return Ok(None);
        }
        if !meta.is_file() || meta.len() > MAX_KEY_FILE {
            return Err(self.error(key, format!("{shown}: not a key file")));
        }
        let mut bytes = Vec::new();
        file.take(MAX_KEY_FILE)
            .read_to_end(&mut bytes)
            .map_err(|e| self.error(key, format!("{shown}: {e}")))?;
        // A key written with `echo` ends in a newline that is not part of it.
        while bytes.last().is_some_and(u8::is_ascii_whitespace) {
            bytes.pop();
        }
        SigningKey::new(bytes).map(Some).ok_or_else(|| self.error(key, format!("{shown}: empty")))
    }
}

/// `CACHECMD_TEST_REMOTE_LEASE`: a short lease, for tests only.
fn test_lease() -> Option<Duration> {
    std::env::var("CACHECMD_TEST_REMOTE_LEASE").ok().and_then(|t| parse_timeout(&t).ok())
}

impl std::fmt::Debug for RemoteSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSettings")
            .field("url", &redact(&self.url))
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("mode", &self.mode)
            .field("signing_key", &self.signing_key)
            .field("s3_endpoint", &self.s3_endpoint.as_deref().map(redact))
            .field("max_entry_size", &self.max_entry_size)
            .field("timeout", &self.timeout)
            .field("lease", &self.lease)
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
            token: Some("tok3".into()),
            mode: super::RemoteMode::ReadWrite,
            signing_key: None,
            s3_endpoint: Some("http://u:pw4@s3.local".into()),
            max_entry_size: 1,
            timeout: std::time::Duration::from_secs(2),
            lease: std::time::Duration::from_secs(15),
        };
        let shown = format!("{settings:?}");
        for secret in ["pw1", "pw2", "tok3", "pw4"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
