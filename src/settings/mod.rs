//! Flags + `CACHECMD_*` environment (both already merged by clap) + config
//! file + built-in defaults -> validated settings. Nothing past this module
//! sees a raw flag. [`Config`] is the entry point; this module assembles
//! run settings from the parts in its submodules.

mod file;
mod freshness;
mod limits;
mod remote;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

use crate::cli::{CommonArgs, KeyArgs, RunArgs};
use crate::gc::Limits;
use crate::key::KeySpec;
use crate::units::{parse_lifetime, parse_timeout, Lifetime};
use file::ConfigFile;
pub use freshness::{parse_expires_at, Freshness};
pub use limits::{DEFAULT_MAX_ENTRY_SIZE, DEFAULT_MAX_SIZE, DEFAULT_REMOTE_MAX_ENTRY_SIZE};
pub use remote::{redact, RemoteSettings};

pub const DEFAULT_TTL: Lifetime = Lifetime::For(Duration::from_secs(3600));
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(600);

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

/// Where the cache is and whether to talk about it.
#[derive(Debug, Clone)]
pub struct CommonSettings {
    pub cache_dir: PathBuf,
    pub verbose: bool,
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
        let Some(path) = file::path() else {
            return Ok(Config { file: ConfigFile::default(), path: PathBuf::new() });
        };
        let file = match file::read_private(&path) {
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
        let flag = given(args.cache_dir.as_ref(), "CACHECMD_DIR");
        if flag.is_some_and(|dir| dir.as_os_str().is_empty()) {
            return Err(SettingsError::Invalid("--cache-dir: a directory is required".into()));
        }
        let cache_dir = match (flag, &self.file.cache_dir) {
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
        let freshness = freshness::freshness(&args, ttl)?;
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
}

/// A flag's value, unless it came from a `CACHECMD_*` variable set to the
/// empty string: `CACHECMD_DIR= cachecmd ...` means "unset", as for most
/// tools, not "the current directory".
fn given<'a, T: AsRef<OsStr>>(value: Option<&'a T>, var: &str) -> Option<&'a T> {
    let from_empty_env = || std::env::var_os(var).is_some_and(|v| v.is_empty());
    value.filter(|v| !(v.as_ref().is_empty() && from_empty_env()))
}

/// The path in `var`, unless it is unset or empty.
fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from)
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

    #[test]
    fn remote_schemes_are_checked_by_the_remote_module() {
        let config = config("").unwrap();
        let args = |url: &str| crate::cli::RemoteArgs {
            url: Some(url.into()),
            mode: None,
            read_only: false,
            timeout: None,
        };
        let err = config.remote(&args("s4://user:hunter2@bucket/x")).unwrap_err().to_string();
        assert!(err.starts_with("--remote: "), "{err}");
        assert!(err.contains("unsupported scheme 's4'") && !err.contains("hunter2"), "{err}");
        // A scheme of an optional backend is kept: a build without it warns
        // and runs local-only.
        let remote = config.remote(&args("redis://127.0.0.1:1/0")).unwrap().unwrap();
        assert_eq!(remote.url, "redis://127.0.0.1:1/0");
    }
}
