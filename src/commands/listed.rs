//! One entry with its use counts, as `list` and `show` present it, and its
//! JSON object (also the shape of `list --remote --json`, with what only the
//! local cache knows as `null`).

use std::ffi::OsStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::json::{OsJson, SCHEMA};
use crate::format;
use crate::store::inventory::EntryInfo;
use crate::store::usage::Usage;

/// One entry as `list --json` prints it. Every field but `schema` and
/// `key` is `null` for a remote entry (only its key is known).
#[derive(Debug, Serialize)]
pub struct EntryJson {
    pub schema: u32,
    pub key: String,
    pub command: Option<Vec<OsJson>>,
    /// `null` when the working directory was not keyed (`--no-cwd`).
    pub cwd: Option<OsJson>,
    pub scope: Option<OsJson>,
    pub env_names: Option<Vec<OsJson>>,
    /// What besides the command line is keyed: `env`, `input`, `modtime`,
    /// `stdin`, `key`, `output`.
    pub keyed_on: Option<Vec<&'static str>>,
    pub created: Option<String>,
    pub last_used: Option<String>,
    pub ttl_secs: Option<u64>,
    /// When the entry stops being served (its lifetime or its absolute
    /// expiry, whichever comes first), RFC 3339; `null` is never.
    pub expires_at: Option<String>,
    /// The `--expires-from` PATH when the absolute expiry came from the output.
    pub expires_from: Option<String>,
    pub expired: Option<bool>,
    pub exit_code: Option<i32>,
    /// The recorded run's wall time; `null` for entries recorded before
    /// cachecmd kept it.
    pub run_ms: Option<u64>,
    pub stdout_bytes: Option<u64>,
    pub stderr_bytes: Option<u64>,
    /// The compressed `--output` archive; 0 without `--output`.
    pub outputs_bytes: Option<u64>,
    pub bytes: Option<u64>,
    pub hits: Option<u64>,
    /// The run time its hits saved.
    pub saved_ms: Option<u64>,
}

impl EntryJson {
    /// A remote entry: only its key is known.
    pub fn remote(key: String) -> EntryJson {
        EntryJson {
            schema: SCHEMA,
            key,
            command: None,
            cwd: None,
            scope: None,
            env_names: None,
            keyed_on: None,
            created: None,
            last_used: None,
            ttl_secs: None,
            expires_at: None,
            expires_from: None,
            expired: None,
            exit_code: None,
            run_ms: None,
            stdout_bytes: None,
            stderr_bytes: None,
            outputs_bytes: None,
            bytes: None,
            hits: None,
            saved_ms: None,
        }
    }
}

/// An entry with its use counts.
pub struct Listed {
    pub info: EntryInfo,
    pub hits: u64,
    pub last_used: u64,
    pub saved_ms: u64,
}

impl Listed {
    pub fn new(info: EntryInfo, usage: &Usage) -> Listed {
        let use_ = usage.key(&info.key);
        let last_used = info.modified_secs().max(use_.last_hit);
        Listed { info, hits: use_.hits, last_used, saved_ms: use_.saved_ms }
    }

    pub fn command(&self) -> String {
        let argv: Vec<_> = self.info.meta.argv.iter().map(|a| a.to_os()).collect();
        format::command_line(argv.iter().map(|a| a.as_os_str()))
    }

    /// The header's absolute expiry, epoch seconds.
    pub fn expires_at(&self) -> Option<u64> {
        Some(self.info.header.expires_at).filter(|at| *at != 0)
    }

    /// The `--expires-from` PATH, when the absolute expiry came from it.
    pub fn expires_from(&self) -> Option<&str> {
        self.info.meta.expires_from.as_deref().filter(|_| self.expires_at().is_some())
    }

    /// The recorded run time; `None` when the entry predates it.
    pub fn run_ms(&self) -> Option<u64> {
        Some(u64::from(self.info.header.run_ms)).filter(|ms| *ms != 0)
    }

    /// One-letter marks of what besides the command line is keyed.
    pub fn marks(&self) -> String {
        let meta = &self.info.meta;
        meta.keyed.marks(!meta.env_names.is_empty())
    }

    /// Whether the entry was recorded with `dir` as its working directory.
    pub fn recorded_in(&self, dir: &std::path::Path) -> bool {
        self.info.meta.cwd.as_ref().is_some_and(|cwd| cwd.to_path() == dir)
    }

    pub fn json(&self, now: SystemTime) -> EntryJson {
        let meta = &self.info.meta;
        let header = &self.info.header;
        EntryJson {
            schema: SCHEMA,
            key: self.info.key.hex(),
            command: Some(meta.argv.iter().map(OsJson::entry).collect()),
            cwd: meta.cwd.as_ref().map(OsJson::entry),
            scope: meta.scope.as_ref().map(OsJson::entry),
            env_names: Some(meta.env_names.iter().map(OsJson::entry).collect()),
            keyed_on: Some(meta.keyed.keyed_on(!meta.env_names.is_empty())),
            created: Some(rfc3339(self.info.modified_secs())),
            last_used: Some(rfc3339(self.last_used)),
            ttl_secs: self.info.ttl_secs(),
            expires_at: self.info.expires_at_secs().map(rfc3339),
            expires_from: self.expires_from().map(str::to_string),
            expired: Some(self.info.expired(now)),
            exit_code: Some(header.exit_code),
            run_ms: self.run_ms(),
            stdout_bytes: Some(header.stdout_len),
            stderr_bytes: Some(header.stderr_len),
            outputs_bytes: Some(header.outputs_len),
            bytes: Some(self.info.size),
            hits: Some(self.hits),
            saved_ms: Some(self.saved_ms),
        }
    }
}

/// An instant as RFC 3339 (UTC, seconds); past year 9999 it is shown as
/// the last second of 9999.
pub fn rfc3339(secs: u64) -> String {
    let secs = secs.min(crate::entry::MAX_EPOCH_SECS);
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

/// Whether an entry's recorded scope is `scope`.
pub fn has_scope(info: &EntryInfo, scope: &OsStr) -> bool {
    info.meta.scope.as_ref().is_some_and(|s| s.to_os() == scope)
}
