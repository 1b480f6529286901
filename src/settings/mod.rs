//! Flags + `CACHECMD_*` environment (both already merged by clap) + config
//! file + built-in defaults -> validated settings. Nothing past this module
//! sees a raw flag. [`Config`] is the entry point; this module assembles
//! run settings from the parts in its submodules.

mod bkt;
mod describe;
mod file;
mod freshness;
mod limits;
mod lookup;
mod remote;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

use crate::cli::{CommonArgs, KeyArgs, RunArgs};
use crate::gc::Limits;
use crate::key::KeySpec;
use crate::units::{parse_lifetime, parse_timeout, Lifetime};
pub use describe::{Origin, Setting, Shown};
use file::ConfigFile;
pub use freshness::{parse_expires_at, Freshness};
pub use limits::DEFAULT_MAX_ENTRY_SIZE;
pub use lookup::{LookupOnly, DEFAULT_MISS_STATUS};
pub use remote::{redact_urls_in, RemoteSettings};

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
    /// `--cache-exit-codes`: only these statuses are cached and served.
    pub cache_exit_codes: Option<crate::freshness::ExitCodes>,
    pub lookup_only: Option<LookupOnly>,
    pub miss_status: i32,
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
    /// The file's text, to name the line of a bad value.
    text: Option<String>,
}

impl Config {
    /// `CACHECMD_CONFIG`, else `$XDG_CONFIG_HOME/cachecmd/config.toml`. A
    /// missing file is an empty config; an unreadable or malformed one is an error.
    pub fn load() -> Result<Config, SettingsError> {
        let Some(path) = file::path()? else {
            return Ok(Config { file: ConfigFile::default(), path: PathBuf::new(), text: None });
        };
        let text = match file::read_private(&path) {
            Ok(text) => text,
            Err(e) => return Err(SettingsError::Config { path, message: e.to_string() }),
        };
        let file = match &text {
            Some(text) => file::parse(text).map_err(|message| SettingsError::Config {
                path: path.clone(),
                message: redact_urls_in(&message),
            })?,
            None => ConfigFile::default(),
        };
        Ok(Config { file, path, text })
    }

    /// An error in the value of `key`, naming its line.
    fn error(&self, key: &str, message: String) -> SettingsError {
        let line = self.text.as_deref().and_then(|text| file::line_of_key(text, key));
        let message = redact_urls_in(&message);
        let message = match line {
            Some(line) => format!("line {line}: {key}: {message}"),
            None => format!("{key}: {message}"),
        };
        SettingsError::Config { path: self.path.clone(), message }
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
            (Some(dir), _) => dir.clone(),
            (None, Some(dir)) => self.file_path(dir),
            (None, None) => directories::ProjectDirs::from("", "", "cachecmd")
                .map(|dirs| dirs.cache_dir().to_path_buf())
                .ok_or(SettingsError::NoCacheDir)?,
        };
        Ok(CommonSettings { cache_dir: absolute(&cache_dir)?, verbose: args.verbose })
    }

    /// Config `env` names are always keyed; `--env` adds to them.
    pub fn key(&self, args: &KeyArgs) -> Result<KeySpec, SettingsError> {
        self.check_env(&args.env)?;
        let in_file = self.file.env.iter().flatten();
        // `A, B` means A and B, as `--cache-exit-codes 0, 1` means 0 and 1.
        let env_patterns = in_file.chain(&args.env).map(|p| p.trim().to_owned()).collect();
        let cwd = if args.no_cwd {
            None
        } else {
            Some(std::env::current_dir().map_err(SettingsError::Cwd)?)
        };
        Ok(KeySpec {
            env_patterns,
            env_if_set: Vec::new(),
            cwd,
            scope: args.scope.clone(),
            extra: args.extra.clone(),
            inputs: args.input.clone(),
            modtimes: args.modtime.clone(),
            stdin: args.stdin,
            outputs: args.output.clone(),
            expires_from: self.expires_from(args)?.map(|(text, _)| text),
            trace_inputs: self.trace_inputs(args)?,
            trace_ignore: self.trace_ignore(args)?,
        })
    }

    /// `--trace-inputs`, else `CACHECMD_TRACE_INPUTS` (any boolean spelling;
    /// `0` turns off a config file's), else config `trace_inputs`.
    fn trace_inputs(&self, args: &KeyArgs) -> Result<bool, SettingsError> {
        if args.trace.trace_inputs {
            return Ok(true);
        }
        Ok(env_bool("CACHECMD_TRACE_INPUTS")?.or(self.file.trace_inputs).unwrap_or(false))
    }

    /// Config `trace_ignore`, then `--trace-ignore`; a bad glob is a usage error.
    fn trace_ignore(&self, args: &KeyArgs) -> Result<Vec<String>, SettingsError> {
        let mut globs = self.file.trace_ignore.clone().unwrap_or_default();
        globs.extend(args.trace.trace_ignore.iter().cloned());
        // Checked only when given: compiling the default globs would cost
        // every hit more than the rest of its start-up.
        let check = |globs: &[String]| crate::trace::paths::Ignore::new(Path::new("/"), globs);
        if !globs.is_empty() {
            // A bad glob of the file's names its line.
            check(&globs).map_err(|m| match self.file.trace_ignore.as_deref().map(check) {
                Some(Err(m)) => self.error("trace_ignore", m.replace("--trace-ignore ", "")),
                _ => SettingsError::Invalid(m),
            })?;
        }
        Ok(globs)
    }

    /// `--expires-from` (else config `expires_from`), checked: a bad PATH
    /// is a usage error whichever command names it.
    fn expires_from(
        &self,
        args: &KeyArgs,
    ) -> Result<Option<(String, crate::expiry::JsonPath)>, SettingsError> {
        let flag = given(args.expiry.expires_from.as_ref(), "CACHECMD_EXPIRES_FROM");
        let Some(text) = flag.or(self.file.expires_from.as_ref()) else { return Ok(None) };
        let path = crate::expiry::parse_path(text).map_err(|m| match flag {
            None => self.error("expires_from", m),
            // clap merges the variable into the flag: blame the one given.
            Some(_) if std::env::var("CACHECMD_EXPIRES_FROM").is_ok_and(|v| &v == text) => {
                SettingsError::Invalid(format!("CACHECMD_EXPIRES_FROM '{text}': {m}"))
            }
            Some(_) => SettingsError::Invalid(format!("--expires-from '{text}': {m}")),
        })?;
        Ok(Some((text.clone(), path)))
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
        let cache_exit_codes = self.cache_exit_codes(&args.lookup_only)?;
        // A listed failure with no --failure-ttl lives as long as a success.
        let failure_ttl = match failure_ttl {
            None if cache_exit_codes.is_some_and(|c| c.any_failure()) => Some(ttl),
            ttl => ttl,
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
        if !args.key.output.is_empty() && (args.stale.is_some() || args.warm) {
            // The background refresh outlives this run: it would rewrite
            // files in the caller's directory after cachecmd returned.
            let flag = if args.warm { "--warm" } else { "--stale" };
            return Err(SettingsError::Invalid(format!(
                "{flag} cannot be combined with --output: a background refresh would rewrite the output files after cachecmd returned"
            )));
        }
        let expires_from = self.expires_from(&args.key)?.map(|(_, path)| path);
        if expires_from.is_some() && args.expires_at.is_some() {
            let m = "--expires-from and --expires-at cannot be combined: the entry has one expiry";
            return Err(SettingsError::Invalid(m.into()));
        }
        // The output's instant governs; only an explicit --ttl caps it.
        let ttl =
            if expires_from.is_some() && args.ttl.is_none() { Lifetime::Forever } else { ttl };
        let mut freshness = freshness::freshness(&args, ttl)?;
        freshness.expiry_margin = match (args.margin.expiry_margin, &self.file.expiry_margin) {
            (Some(margin), _) => margin,
            (None, Some(text)) => {
                crate::expiry::parse_margin(text).map_err(|m| self.error("expiry_margin", m))?
            }
            (None, None) => Duration::ZERO,
        };
        freshness.expires_from = expires_from;
        let key = self.key(&args.key)?;
        Ok(RunSettings {
            common: self.common(&args.key.common)?,
            key,
            remote: self.remote(&args.remote)?,
            command: args.command,
            ttl,
            failure_ttl,
            cache_exit_codes,
            lookup_only: LookupOnly::from_args(&args.lookup_only),
            miss_status: self.miss_status(&args.lookup_only),
            force: args.force,
            lock_timeout,
            max_entry_size,
            limits: self.limits(&args.limits)?,
            freshness,
        })
    }
}

impl Config {
    /// A path in the config file: `~` is the home directory, and a relative
    /// path is relative to the file's directory (never to the cwd of
    /// whichever command happens to run).
    fn file_path(&self, path: &Path) -> PathBuf {
        if let Ok(rest) = path.strip_prefix("~") {
            if let Some(home) = directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()) {
                return home.join(rest);
            }
        }
        match self.path.parent() {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.to_path_buf(),
        }
    }
}

/// A flag's value, unless it came from a `CACHECMD_*` variable set to the
/// empty string: `CACHECMD_DIR= cachecmd ...` means "unset", as for most
/// tools, not "the current directory".
fn given<'a, T: AsRef<OsStr>>(value: Option<&'a T>, var: &str) -> Option<&'a T> {
    let from_empty_env = || std::env::var_os(var).is_some_and(|v| v.is_empty());
    value.filter(|v| !(v.as_ref().is_empty() && from_empty_env()))
}

/// A yes/no value as every boolean variable and setting spells it:
/// `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off`, in any case.
pub fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("'{text}' is not a yes/no value (1/true/yes/on or 0/false/no/off)")),
    }
}

/// The boolean variable `var`: `None` when unset or empty, an error naming
/// it when its value is not a yes/no value.
pub fn env_bool(var: &str) -> Result<Option<bool>, SettingsError> {
    let Some(value) = std::env::var_os(var).filter(|v| !v.is_empty()) else { return Ok(None) };
    let text = value.to_string_lossy();
    parse_bool(&text).map(Some).map_err(|m| SettingsError::Invalid(format!("{var}: {m}")))
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
        let file = file::parse(text)
            .map_err(|message| SettingsError::Config { path: "test.toml".into(), message })?;
        Ok(Config { file, path: "/etc/test.toml".into(), text: Some(text.into()) })
    }

    #[test]
    fn unknown_config_keys_are_refused() {
        assert!(config("tll = \"1h\"").is_err());
        assert!(config("ttl = \"1h\"\nmax_entry_size = 10").is_ok());
    }

    #[test]
    fn bad_config_values_name_the_key() {
        let bad = config("lock_timeout = \"never\"").unwrap();
        let cli = <crate::cli::Cli as clap::Parser>::try_parse_from(["cachecmd", "true"]).unwrap();
        let err = bad.run(cli.run).unwrap_err().to_string();
        assert!(err.contains("line 1: lock_timeout: "), "{err}");
        let err = config("\n\nttl = 3600").err().unwrap().to_string();
        assert!(err.starts_with("config file test.toml: line 3: ttl: invalid type"), "{err}");
    }

    #[test]
    fn config_paths_expand_the_home_and_follow_the_file() {
        let config = config("").unwrap();
        let home = directories::BaseDirs::new().unwrap().home_dir().to_path_buf();
        assert_eq!(config.file_path(Path::new("~/foo")), home.join("foo"));
        assert_eq!(config.file_path(Path::new("foo")), Path::new("/etc/foo"));
        assert_eq!(config.file_path(Path::new("/abs")), Path::new("/abs"));
    }

    #[test]
    fn yes_no_values() {
        for yes in ["1", "true", "YES", "On"] {
            assert_eq!(parse_bool(yes), Ok(true), "{yes}");
        }
        for no in ["0", "false", "No", "OFF"] {
            assert_eq!(parse_bool(no), Ok(false), "{no}");
        }
        assert!(parse_bool("maybe").is_err());
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
