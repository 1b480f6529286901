//! Flags + `CACHECMD_*` environment (both already merged by clap) + config
//! file + built-in defaults -> validated settings. Nothing past this module
//! sees a raw flag.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Deserialize;
use thiserror::Error;

use crate::cli::{CommonArgs, KeyArgs, LimitArgs, RemoteArgs, RunArgs};
use crate::gc::Limits;
use crate::key::KeySpec;
use crate::units::{parse_lifetime, parse_size, parse_timeout, Lifetime};

pub const DEFAULT_TTL: Lifetime = Lifetime::For(Duration::from_secs(3600));
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(600);
pub const DEFAULT_MAX_ENTRY_SIZE: u64 = 1 << 30;
pub const DEFAULT_MAX_SIZE: u64 = 1 << 30;
pub const DEFAULT_REMOTE_MAX_ENTRY_SIZE: u64 = 64 << 20;

/// The shared tier, when one is configured.
#[derive(Debug, Clone)]
pub struct RemoteSettings {
    pub url: String,
    /// From `CACHECMD_REMOTE_PASSWORD`, so it need not be in the URL.
    pub password: Option<String>,
    pub read_only: bool,
    pub max_entry_size: u64,
}

#[derive(Debug, Error)]
pub enum SettingsError {
    #[error("config file {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("cannot tell where the cache lives: no --cache-dir, CACHECMD_DIR or home directory")]
    NoCacheDir,
    #[error("cannot read the current directory: {0}")]
    Cwd(std::io::Error),
    #[error("{0}")]
    Invalid(String),
}

/// The config file's contents; every field optional, unknown fields refused
/// so a typo is reported instead of silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    ttl: Option<String>,
    failure_ttl: Option<String>,
    cache_dir: Option<PathBuf>,
    env: Option<Vec<String>>,
    lock_timeout: Option<String>,
    max_entry_size: Option<SizeValue>,
    max_size: Option<SizeValue>,
    max_entries: Option<u64>,
    remote: Option<String>,
    remote_read_only: Option<bool>,
    remote_max_entry_size: Option<SizeValue>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SizeValue {
    Bytes(u64),
    Text(String),
}

/// Where the cache is and whether to talk about it.
#[derive(Debug, Clone)]
pub struct CommonSettings {
    pub cache_dir: PathBuf,
    pub verbose: bool,
}

/// How entries age beyond the plain TTL.
#[derive(Debug, Clone, Default)]
pub struct Freshness {
    pub stale: Option<Duration>,
    pub warm: bool,
    pub stale_if_error: Option<Duration>,
    pub retries: u64,
    pub retry_delay: Duration,
    /// Absolute expiry for entries written by this run.
    pub expires_at: Option<SystemTime>,
    /// This process is the background refresh itself.
    pub refresh: bool,
}

#[derive(Debug, Clone)]
pub struct RunSettings {
    pub common: CommonSettings,
    pub key: KeySpec,
    pub command: Vec<OsString>,
    pub ttl: Lifetime,
    pub failure_ttl: Option<Lifetime>,
    pub force: bool,
    pub lock_timeout: Duration,
    pub max_entry_size: u64,
    pub limits: Limits,
    pub freshness: Freshness,
    pub remote: Option<RemoteSettings>,
}

/// The config file, loaded once per run.
pub struct Config {
    file: ConfigFile,
    path: PathBuf,
}

impl Config {
    /// `CACHECMD_CONFIG`, else `$XDG_CONFIG_HOME/cachecmd/config.toml`. A
    /// missing file is an empty config; an unreadable or malformed one is an error.
    pub fn load() -> Result<Config, SettingsError> {
        let path = match std::env::var_os("CACHECMD_CONFIG") {
            Some(path) => PathBuf::from(path),
            None => match directories::ProjectDirs::from("", "", "cachecmd") {
                Some(dirs) => dirs.config_dir().join("config.toml"),
                None => return Ok(Config { file: ConfigFile::default(), path: PathBuf::new() }),
            },
        };
        let file = match read_private(&path) {
            Ok(Some(text)) => toml::from_str(&text).map_err(|e| SettingsError::Config {
                path: path.clone(),
                message: e.message().to_string(),
            })?,
            Ok(None) => ConfigFile::default(),
            Err(e) => {
                return Err(SettingsError::Config { path, message: e.to_string() });
            }
        };
        Ok(Config { file, path })
    }

    fn error(&self, key: &str, message: String) -> SettingsError {
        SettingsError::Config { path: self.path.clone(), message: format!("{key}: {message}") }
    }

    fn lifetime(
        &self,
        key: &str,
        value: &Option<String>,
    ) -> Result<Option<Lifetime>, SettingsError> {
        value.as_deref().map(parse_lifetime).transpose().map_err(|m| self.error(key, m))
    }

    pub fn common(&self, args: &CommonArgs) -> Result<CommonSettings, SettingsError> {
        let cache_dir = match (&args.cache_dir, &self.file.cache_dir) {
            (Some(dir), _) | (None, Some(dir)) => dir.clone(),
            (None, None) => directories::ProjectDirs::from("", "", "cachecmd")
                .map(|dirs| dirs.cache_dir().to_path_buf())
                .ok_or(SettingsError::NoCacheDir)?,
        };
        Ok(CommonSettings { cache_dir: absolute(&cache_dir)?, verbose: args.verbose })
    }

    /// Config `env` names are always keyed; `--env` adds to them.
    pub fn key(&self, args: &KeyArgs) -> Result<KeySpec, SettingsError> {
        let mut env_patterns = self.file.env.clone().unwrap_or_default();
        env_patterns.extend(args.env.iter().cloned());
        let cwd = if args.no_cwd {
            None
        } else {
            Some(std::env::current_dir().map_err(SettingsError::Cwd)?)
        };
        Ok(KeySpec {
            env_patterns,
            cwd,
            scope: args.scope.clone(),
            extra: args.extra.clone(),
            inputs: args.input.clone(),
            modtimes: args.modtime.clone(),
            stdin: args.stdin,
            outputs: args.output.clone(),
        })
    }

    pub fn run(&self, args: RunArgs) -> Result<RunSettings, SettingsError> {
        let ttl = match args.ttl {
            Some(ttl) => ttl,
            None => self.lifetime("ttl", &self.file.ttl)?.unwrap_or(DEFAULT_TTL),
        };
        let failure_ttl = match args.failure_ttl {
            Some(ttl) => Some(ttl),
            None => self.lifetime("failure_ttl", &self.file.failure_ttl)?,
        };
        let lock_timeout = match (args.lock_timeout, &self.file.lock_timeout) {
            (Some(timeout), _) => timeout,
            (None, Some(text)) => parse_timeout(text).map_err(|m| self.error("lock_timeout", m))?,
            (None, None) => DEFAULT_LOCK_TIMEOUT,
        };
        let max_entry_size = self.size(
            "max_entry_size",
            args.max_entry_size,
            &self.file.max_entry_size,
            DEFAULT_MAX_ENTRY_SIZE,
        )?;
        let freshness = freshness(&args, ttl)?;
        let key = self.key(&args.key)?;
        Ok(RunSettings {
            common: self.common(&args.key.common)?,
            key,
            remote: self.remote(&args.remote)?,
            command: args.command,
            ttl,
            failure_ttl,
            force: args.force,
            lock_timeout,
            max_entry_size,
            limits: self.limits(&args.limits)?,
            freshness,
        })
    }

    fn size(
        &self,
        key: &str,
        flag: Option<u64>,
        file: &Option<SizeValue>,
        default: u64,
    ) -> Result<u64, SettingsError> {
        match (flag, file) {
            (Some(size), _) => Ok(size),
            (None, Some(SizeValue::Bytes(size))) => Ok(*size),
            (None, Some(SizeValue::Text(text))) => parse_size(text).map_err(|m| self.error(key, m)),
            (None, None) => Ok(default),
        }
    }

    /// The remote tier from `--remote`/`CACHECMD_REMOTE`, else the config.
    pub fn remote(&self, args: &RemoteArgs) -> Result<Option<RemoteSettings>, SettingsError> {
        let Some(url) = args.url.clone().or_else(|| self.file.remote.clone()) else {
            return Ok(None);
        };
        let schemes = ["redis://", "rediss://", "http://", "https://"];
        if !schemes.iter().any(|scheme| url.starts_with(scheme)) {
            return Err(SettingsError::Invalid(format!(
                "--remote: expected redis://host:port/db, rediss://..., http://host/prefix or https://..., got '{}'",
                crate::settings::redact(&url)
            )));
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

    pub fn limits(&self, args: &LimitArgs) -> Result<Limits, SettingsError> {
        Ok(Limits {
            max_size: self.size(
                "max_size",
                args.max_size,
                &self.file.max_size,
                DEFAULT_MAX_SIZE,
            )?,
            max_entries: args.max_entries.or(self.file.max_entries),
        })
    }
}

fn freshness(args: &RunArgs, ttl: Lifetime) -> Result<Freshness, SettingsError> {
    let invalid = |m: String| Err(SettingsError::Invalid(m));
    if let (Some(stale), Lifetime::For(ttl)) = (args.stale, ttl) {
        if stale >= ttl {
            return invalid(format!(
                "--stale ({}) must be shorter than --ttl ({})",
                humantime::format_duration(stale),
                humantime::format_duration(ttl)
            ));
        }
    }
    if args.key.stdin && (args.stale.is_some() || args.warm) {
        return invalid(
            "--stale and --warm cannot refresh a run keyed on --stdin: the \
                        background refresh has no stdin to replay"
                .into(),
        );
    }
    let expires_at = match &args.expires_at {
        Some(text) => {
            Some(parse_expires_at(text, SystemTime::now()).map_err(SettingsError::Invalid)?)
        }
        None => None,
    };
    Ok(Freshness {
        stale: args.stale,
        warm: args.warm,
        stale_if_error: args.stale_if_error,
        retries: args.retry.unwrap_or(0),
        retry_delay: args.retry_delay.unwrap_or(Duration::from_secs(1)),
        expires_at,
        refresh: args.refresh,
    })
}

/// A URL without its secrets, for messages (see `store::remote::redact`).
pub fn redact(url: &str) -> String {
    crate::store::remote::redacted_url(url)
}

/// `17:00` (the next time the local clock shows it) or an RFC 3339 instant.
pub fn parse_expires_at(text: &str, now: SystemTime) -> Result<SystemTime, String> {
    let bad = |why: String| format!("--expires-at '{text}': {why}");
    let text = text.trim();
    if let Ok(instant) = text.parse::<jiff::Timestamp>() {
        let instant = SystemTime::from(instant);
        return if instant > now {
            Ok(instant)
        } else {
            Err(bad("that instant is in the past".into()))
        };
    }
    let time: jiff::civil::Time = text.parse().map_err(|_| {
        bad("give a local time of day such as 17:00 or an RFC 3339 instant \
             such as 2026-12-01T09:00:00Z"
            .into())
    })?;
    let now = jiff::Timestamp::try_from(now).map_err(|e| bad(e.to_string()))?;
    let zone = jiff::tz::TimeZone::system();
    let today = now.to_zoned(zone.clone()).date().to_datetime(time);
    let mut at = today.to_zoned(zone.clone()).map_err(|e| bad(e.to_string()))?;
    if at.timestamp() <= now {
        let tomorrow = today.tomorrow().map_err(|e| bad(e.to_string()))?;
        at = tomorrow.to_zoned(zone).map_err(|e| bad(e.to_string()))?;
    }
    Ok(SystemTime::from(at.timestamp()))
}

/// The config file's text; `None` when it is missing, or when others could
/// have written it (a planted `cache_dir` or `env` would redirect or leak
/// our outputs), which is ignored with a warning.
fn read_private(path: &Path) -> std::io::Result<Option<String>> {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mode = file.metadata()?.mode() & 0o7777;
    if mode & 0o022 != 0 {
        eprintln!(
            "cachecmd: ignoring config file {}: it is writable by others (mode {mode:04o}); \
             fix with: chmod go-w {}",
            path.display(),
            path.display()
        );
        return Ok(None);
    }
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    Ok(Some(text))
}

/// A relative cache dir is taken from the cwd at startup, so a command that
/// changes directory cannot move the cache under it.
fn absolute(path: &Path) -> Result<PathBuf, SettingsError> {
    if path.is_absolute() {
        Ok(path.to_path_buf())
    } else {
        Ok(std::env::current_dir().map_err(SettingsError::Cwd)?.join(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Result<Config, SettingsError> {
        let file = toml::from_str(text).map_err(|e: toml::de::Error| SettingsError::Config {
            path: "test.toml".into(),
            message: e.message().to_string(),
        })?;
        Ok(Config { file, path: "test.toml".into() })
    }

    #[test]
    fn expires_at_takes_a_time_of_day_or_an_instant() {
        let now = SystemTime::from("2026-11-22T12:00:00Z".parse::<jiff::Timestamp>().unwrap());
        let at = |t| parse_expires_at(t, now).map(|s| jiff::Timestamp::try_from(s).unwrap());
        // The test process's zone decides "local"; compare within it.
        let zone = jiff::tz::TimeZone::system();
        let later = at("23:30").unwrap().to_zoned(zone.clone());
        assert_eq!((later.hour(), later.minute()), (23, 30));
        assert!(at("23:30").unwrap() > jiff::Timestamp::try_from(now).unwrap());
        let next = at("00:05").unwrap();
        assert!(next > jiff::Timestamp::try_from(now).unwrap());
        assert_eq!(at("2026-12-01T09:00:00Z").unwrap().to_string(), "2026-12-01T09:00:00Z");
        assert!(at("2020-01-01T00:00:00Z").is_err());
        assert!(at("tomorrowish").is_err());
    }

    #[test]
    fn unknown_config_keys_are_refused() {
        assert!(config("tll = \"1h\"").is_err());
        assert!(config("ttl = \"1h\"\nmax_entry_size = 10").is_ok());
    }

    #[test]
    fn bad_config_values_name_the_key() {
        let config = config("lock_timeout = \"never\"").unwrap();
        let cli = <crate::cli::Cli as clap::Parser>::try_parse_from(["cachecmd", "true"]).unwrap();
        let err = config.run(cli.run).unwrap_err().to_string();
        assert!(err.contains("lock_timeout"), "{err}");
    }
}
