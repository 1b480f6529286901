//! Flags + `CACHECMD_*` environment (both already merged by clap) + config
//! file + built-in defaults -> validated settings. Nothing past this module
//! sees a raw flag.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

use crate::cli::{CommonArgs, KeyArgs, LimitArgs, RunArgs};
use crate::gc::Limits;
use crate::units::{parse_lifetime, parse_size, parse_timeout, Lifetime};

pub const DEFAULT_TTL: Lifetime = Lifetime::For(Duration::from_secs(3600));
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(600);
pub const DEFAULT_MAX_ENTRY_SIZE: u64 = 1 << 30;
pub const DEFAULT_MAX_SIZE: u64 = 1 << 30;

#[derive(Debug, Error)]
pub enum SettingsError {
    #[error("config file {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("cannot tell where the cache lives: no --cache-dir, CACHECMD_DIR or home directory")]
    NoCacheDir,
    #[error("cannot read the current directory: {0}")]
    Cwd(std::io::Error),
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

/// What goes into the key, before reading the environment's values.
#[derive(Debug, Clone)]
pub struct KeySettings {
    pub env_patterns: Vec<String>,
    pub cwd: Option<PathBuf>,
    pub scope: Option<OsString>,
    pub extra: Vec<OsString>,
}

#[derive(Debug, Clone)]
pub struct RunSettings {
    pub common: CommonSettings,
    pub key: KeySettings,
    pub command: Vec<OsString>,
    pub ttl: Lifetime,
    pub failure_ttl: Option<Lifetime>,
    pub force: bool,
    pub lock_timeout: Duration,
    pub max_entry_size: u64,
    pub limits: Limits,
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
        let file = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| SettingsError::Config {
                path: path.clone(),
                message: e.message().to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => ConfigFile::default(),
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
    pub fn key(&self, args: &KeyArgs) -> Result<KeySettings, SettingsError> {
        let mut env_patterns = self.file.env.clone().unwrap_or_default();
        env_patterns.extend(args.env.iter().cloned());
        let cwd = if args.no_cwd {
            None
        } else {
            Some(std::env::current_dir().map_err(SettingsError::Cwd)?)
        };
        Ok(KeySettings { env_patterns, cwd, scope: args.scope.clone(), extra: args.extra.clone() })
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
        Ok(RunSettings {
            common: self.common(&args.key.common)?,
            key: self.key(&args.key)?,
            command: args.command,
            ttl,
            failure_ttl,
            force: args.force,
            lock_timeout,
            max_entry_size,
            limits: self.limits(&args.limits)?,
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
