//! `cachecmd config`: each setting's effective value and where it came
//! from (flag, `CACHECMD_*` variable, config file and line, default), with
//! the precedence of a run and each value checked by the parser a run uses,
//! so a bad one is the same usage error here as there. Secrets are never
//! shown: URLs go through the one redactor, passwords, tokens and the
//! signing key are only said to be set.

use std::path::PathBuf;

use super::{env_path, file, Config, SettingsError};
use crate::cli::{CommonArgs, ConfigArgs, RemoteArgs};
use crate::store::remote::RemoteMode;
use crate::units::{parse_count, parse_lifetime, parse_size, parse_timeout};

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag(&'static str),
    Env(&'static str),
    File { path: PathBuf, line: Option<usize> },
    Default,
}

/// A value as shown: text, or a list (`env`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    Text(String),
    List(Vec<String>),
}

/// One setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The config file's name for it (or the variable's, lower-cased).
    pub key: &'static str,
    /// Redacted where secret; `None` when not set.
    pub value: Option<Shown>,
    pub origin: Origin,
    /// A word on the value: the config file not found, or ignored.
    pub note: Option<&'static str>,
}

const REDACTED: &str = "<redacted>";

/// How a value may be shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Show {
    Plain,
    /// A URL: shown without its credentials.
    Url,
    /// Only said to be set.
    Secret,
}

/// A setting with one value taken from the first of flag, variable, file.
struct Spec {
    key: &'static str,
    flag: Option<&'static str>,
    var: Option<&'static str>,
    in_file: bool,
    default: Option<&'static str>,
    check: fn(&str) -> Result<(), String>,
    show: Show,
}

const fn spec(
    key: &'static str,
    flag: &'static str,
    var: &'static str,
    default: Option<&'static str>,
    check: fn(&str) -> Result<(), String>,
) -> Spec {
    Spec { key, flag: Some(flag), var: Some(var), in_file: true, default, check, show: Show::Plain }
}

/// Read from a variable only (no flag, no config key).
const fn env_only(key: &'static str, var: &'static str, show: Show) -> Spec {
    Spec { flag: None, in_file: false, show, ..spec(key, "", var, None, any) }
}

/// Read from the config file only.
const fn file_only(
    key: &'static str,
    default: Option<&'static str>,
    check: fn(&str) -> Result<(), String>,
) -> Spec {
    Spec { flag: None, var: None, ..spec(key, "", "", default, check) }
}

fn lifetime(t: &str) -> Result<(), String> {
    parse_lifetime(t).map(drop)
}
fn timeout(t: &str) -> Result<(), String> {
    parse_timeout(t).map(drop)
}
fn size(t: &str) -> Result<(), String> {
    parse_size(t).map(drop)
}
fn any(_: &str) -> Result<(), String> {
    Ok(())
}
fn exit_codes(t: &str) -> Result<(), String> {
    crate::freshness::ExitCodes::parse(t).map(drop)
}
fn exit_status(t: &str) -> Result<(), String> {
    t.parse::<u8>().map(drop).map_err(|_| format!("'{t}' is not an exit status (0-255)"))
}
fn json_path(t: &str) -> Result<(), String> {
    crate::expiry::parse_path(t).map(drop)
}
fn margin(t: &str) -> Result<(), String> {
    crate::expiry::parse_margin(t).map(drop)
}
fn count(t: &str) -> Result<(), String> {
    parse_count(t).map(drop)
}
fn yes_no(t: &str) -> Result<(), String> {
    super::parse_bool(t).map(drop)
}

/// In output order; `env` follows `scope`, `remote_mode` follows `remote`.
const SPECS: [Spec; 21] = [
    spec("ttl", "--ttl", "CACHECMD_TTL", Some("1h"), lifetime),
    spec("failure_ttl", "--failure-ttl", "CACHECMD_FAILURE_TTL", None, lifetime),
    spec(
        "cache_exit_codes",
        "--cache-exit-codes",
        "CACHECMD_CACHE_EXIT_CODES",
        Some("0"),
        exit_codes,
    ),
    spec("miss_status", "--miss-status", "CACHECMD_MISS_STATUS", Some("3"), exit_status),
    Spec { in_file: false, ..spec("scope", "--scope", "CACHECMD_SCOPE", None, any) },
    spec("expires_from", "--expires-from", "CACHECMD_EXPIRES_FROM", None, json_path),
    spec("expiry_margin", "--expiry-margin", "CACHECMD_EXPIRY_MARGIN", Some("0s"), margin),
    // `--trace-inputs` and `--trace-ignore` are run flags `config` does not take.
    Spec { flag: None, ..spec("trace_inputs", "", "CACHECMD_TRACE_INPUTS", Some("false"), yes_no) },
    file_only("trace_ignore", None, any),
    spec("lock_timeout", "--lock-timeout", "CACHECMD_LOCK_TIMEOUT", Some("10m"), timeout),
    spec("max_entry_size", "--max-entry-size", "CACHECMD_MAX_ENTRY_SIZE", Some("1GiB"), size),
    spec("max_size", "--max-size", "CACHECMD_MAX_SIZE", Some("1GiB"), size),
    spec("max_entries", "--max-entries", "CACHECMD_MAX_ENTRIES", None, count),
    Spec { show: Show::Url, ..spec("remote", "--remote", "CACHECMD_REMOTE", None, any) },
    spec("remote_timeout", "--remote-timeout", "CACHECMD_REMOTE_TIMEOUT", Some("2s"), timeout),
    file_only("remote_max_entry_size", Some("64MiB"), size),
    env_only("remote_password", "CACHECMD_REMOTE_PASSWORD", Show::Secret),
    env_only("remote_token", "CACHECMD_REMOTE_TOKEN", Show::Secret),
    env_only("remote_signing_key", "CACHECMD_REMOTE_SIGNING_KEY", Show::Secret),
    file_only("remote_signing_key_file", None, any),
    Spec {
        flag: None,
        show: Show::Url,
        ..spec("s3_endpoint", "", "CACHECMD_S3_ENDPOINT", None, any)
    },
];

/// The value of `key`'s flag in `args`.
fn flag_value<'a>(args: &'a ConfigArgs, key: &str) -> Option<&'a str> {
    match key {
        "ttl" => args.ttl.as_deref(),
        "failure_ttl" => args.failure_ttl.as_deref(),
        "cache_exit_codes" => args.cache_exit_codes.as_deref(),
        "miss_status" => args.miss_status.as_deref(),
        "scope" => args.scope.as_deref(),
        "expires_from" => args.expires_from.as_deref(),
        "expiry_margin" => args.expiry_margin.as_deref(),
        "lock_timeout" => args.lock_timeout.as_deref(),
        "max_entry_size" => args.max_entry_size.as_deref(),
        "max_size" => args.max_size.as_deref(),
        "max_entries" => args.max_entries.as_deref(),
        "remote" => args.remote.as_deref(),
        "remote_timeout" => args.remote_timeout.as_deref(),
        _ => None,
    }
}

/// A variable's value, unless unset or empty (empty counts as unset).
fn var(name: &str) -> Option<String> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(|v| v.to_string_lossy().into_owned())
}

/// A config file value as text (only `env` holds a list).
fn text_of(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn row(key: &'static str, value: Option<String>, origin: Origin) -> Setting {
    Setting { key, value: value.map(Shown::Text), origin, note: None }
}

impl Config {
    /// Every setting, in a fixed order, as a run with `args` would use it;
    /// the first bad value is an error naming its flag, variable or line.
    pub fn describe(&self, args: &ConfigArgs) -> Result<Vec<Setting>, SettingsError> {
        let mut settings = vec![self.config_file_row(), self.cache_dir_row(args)?];
        for spec in &SPECS {
            settings.push(self.spec_row(spec, args)?);
            match spec.key {
                "scope" => settings.extend(self.env_rows(args)?),
                "remote" => settings.push(self.remote_mode_row(args)?),
                _ => {}
            }
        }
        // The remote group as a run checks it (scheme, signing key file).
        self.remote(&RemoteArgs {
            url: args.remote.clone().or_else(|| var("CACHECMD_REMOTE")),
            mode: args.remote_mode.clone().or_else(|| var("CACHECMD_REMOTE_MODE")),
            read_only: args.remote_read_only
                || super::env_bool("CACHECMD_REMOTE_READ_ONLY")?.unwrap_or(false),
            timeout: None,
        })?;
        let disable = super::env_bool("CACHECMD_DISABLE")?;
        let origin =
            if disable.is_some() { Origin::Env("CACHECMD_DISABLE") } else { Origin::Default };
        let value = if disable == Some(true) { "1" } else { "0" };
        settings.push(row("disable", Some(value.into()), origin));
        Ok(settings)
    }

    fn spec_row(&self, spec: &Spec, args: &ConfigArgs) -> Result<Setting, SettingsError> {
        let flag = spec.flag.zip(flag_value(args, spec.key));
        let found = match (flag, spec.var.and_then(|name| var(name).map(|v| (name, v)))) {
            (Some((flag, text)), _) => Some((text.to_string(), Origin::Flag(flag))),
            (None, Some((name, text))) => Some((text, Origin::Env(name))),
            (None, None) if spec.in_file => self.in_file(spec.key).map(|(v, o)| (text_of(&v), o)),
            (None, None) => None,
        };
        let Some((text, origin)) = found else {
            return Ok(row(spec.key, spec.default.map(str::to_string), Origin::Default));
        };
        (spec.check)(&text).map_err(|m| self.blame(&origin, spec.key, m))?;
        let shown = match spec.show {
            Show::Plain => text,
            Show::Url => super::remote::redact(&text),
            Show::Secret => REDACTED.to_string(),
        };
        Ok(row(spec.key, Some(shown), origin))
    }

    /// `key`'s value in the config file, with its line.
    fn in_file(&self, key: &str) -> Option<(toml::Value, Origin)> {
        let (value, line) = file::values(self.text.as_deref()?).remove(key)?;
        Some((value, Origin::File { path: self.path.clone(), line: Some(line) }))
    }

    /// Every `env` pattern a run keys on checked, a bad glob blamed on the
    /// config line, `--env` or `CACHECMD_ENV` (clap merges the last two, so
    /// the variable is blamed when the patterns are its value).
    pub(super) fn check_env(&self, from_args: &[String]) -> Result<(), SettingsError> {
        let in_file = self.file.env.iter().flatten();
        let file = self.in_file("env").map_or(Origin::Default, |(_, origin)| origin);
        let from_var = var("CACHECMD_ENV").is_some_and(|v| v.split(',').eq(from_args));
        let given = if from_var { Origin::Env("CACHECMD_ENV") } else { Origin::Flag("--env") };
        let all = in_file.map(|p| (p, &file)).chain(from_args.iter().map(|p| (p, &given)));
        for (pattern, origin) in all {
            crate::key::env_glob(pattern.trim())
                .map_err(|m| self.blame(origin, "env", format!("pattern '{pattern}': {m}")))?;
        }
        Ok(())
    }

    /// A bad value, blamed on where it came from.
    fn blame(&self, origin: &Origin, key: &str, message: String) -> SettingsError {
        match origin {
            Origin::Flag(name) | Origin::Env(name) => {
                SettingsError::Invalid(format!("{name}: {}", super::redact_urls_in(&message)))
            }
            _ => self.error(key, message),
        }
    }

    fn config_file_row(&self) -> Setting {
        let origin = match env_path("CACHECMD_CONFIG") {
            Some(_) => Origin::Env("CACHECMD_CONFIG"),
            None => Origin::Default,
        };
        if self.path.as_os_str().is_empty() {
            return row("config_file", None, origin);
        }
        let note = match &self.text {
            Some(_) => None,
            None if self.path.exists() => Some("ignored: writable by others"),
            None => Some("not found"),
        };
        Setting { note, ..row("config_file", Some(self.path.display().to_string()), origin) }
    }

    fn cache_dir_row(&self, args: &ConfigArgs) -> Result<Setting, SettingsError> {
        let (given, origin) = match (&args.cache_dir, env_path("CACHECMD_DIR")) {
            (Some(dir), _) => (Some(dir.clone()), Origin::Flag("--cache-dir")),
            (None, Some(dir)) => (Some(dir), Origin::Env("CACHECMD_DIR")),
            (None, None) => (None, self.in_file("cache_dir").map_or(Origin::Default, |(_, o)| o)),
        };
        let common = self.common(&CommonArgs { cache_dir: given, verbose: false })?;
        Ok(row("cache_dir", Some(common.cache_dir.display().to_string()), origin))
    }

    /// The config's `env` list, and what `--env` (or `CACHECMD_ENV`, which
    /// the flags replace) adds to it: one row for each that is set.
    fn env_rows(&self, args: &ConfigArgs) -> Result<Vec<Setting>, SettingsError> {
        let list = |names: Vec<String>, origin| Setting {
            key: "env",
            value: Some(Shown::List(names)),
            origin,
            note: None,
        };
        let mut rows = Vec::new();
        if let (Some(names), Some((_, origin))) = (&self.file.env, self.in_file("env")) {
            rows.push(list(names.clone(), origin));
        }
        let added = if !args.env.is_empty() {
            Some((args.env.clone(), Origin::Flag("--env")))
        } else {
            var("CACHECMD_ENV")
                .map(|v| (v.split(',').map(str::to_string).collect(), Origin::Env("CACHECMD_ENV")))
        };
        self.check_env(added.as_ref().map_or(&[], |(names, _)| names.as_slice()))?;
        if let Some((names, origin)) = added {
            let note = (!rows.is_empty()).then_some("added to the config file's list");
            rows.push(Setting { note, ..list(names, origin) });
        }
        if rows.is_empty() {
            rows.push(row("env", None, Origin::Default));
        }
        Ok(rows)
    }

    /// `--remote-mode` or `--remote-read-only`, their variables, or the
    /// config's `remote_mode` or `remote_read_only`.
    fn remote_mode_row(&self, args: &ConfigArgs) -> Result<Setting, SettingsError> {
        let env_mode = var("CACHECMD_REMOTE_MODE");
        let env_read_only = super::env_bool("CACHECMD_REMOTE_READ_ONLY")?.unwrap_or(false);
        let origin = if args.remote_mode.is_some() {
            Origin::Flag("--remote-mode")
        } else if env_mode.is_some() {
            Origin::Env("CACHECMD_REMOTE_MODE")
        } else if args.remote_read_only {
            Origin::Flag("--remote-read-only")
        } else if env_read_only {
            Origin::Env("CACHECMD_REMOTE_READ_ONLY")
        } else {
            let file = self.in_file("remote_mode").or_else(|| self.in_file("remote_read_only"));
            file.map_or(Origin::Default, |(_, origin)| origin)
        };
        let mode = self.remote_mode(&RemoteArgs {
            url: None,
            mode: args.remote_mode.clone().or(env_mode),
            read_only: args.remote_read_only || env_read_only,
            timeout: None,
        })?;
        let name = match mode {
            RemoteMode::ReadWrite => "read-write",
            RemoteMode::ReadOnly => "read-only",
            RemoteMode::WriteOnly => "write-only",
        };
        Ok(row("remote_mode", Some(name.into()), origin))
    }
}
