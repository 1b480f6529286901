//! `cachecmd list [--scope S] [--json]`: every entry, most recently used first.

use std::ffi::OsStr;
use std::io::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::Result;
use serde::Serialize;

use crate::cli::{ColorWhen, ListArgs};
use crate::format;
use crate::settings::Config;
use crate::store::disk::DiskStore;
use crate::store::inventory::EntryInfo;
use crate::store::usage::Usage;

/// One entry as `list --json` prints it.
#[derive(Debug, Serialize)]
pub struct EntryJson {
    pub key: String,
    pub command: Vec<String>,
    pub cwd: Option<String>,
    pub scope: Option<String>,
    pub env_names: Vec<String>,
    pub created: String,
    pub last_used: String,
    pub ttl_secs: Option<u64>,
    /// The absolute expiry (`--expires-at` or the output's), RFC 3339.
    pub expires_at: Option<String>,
    /// The `--expires-from` PATH when `expires_at` came from the output.
    pub expires_from: Option<String>,
    pub expired: bool,
    pub exit_code: i32,
    pub stdout_bytes: u64,
    pub stderr_bytes: u64,
    /// The compressed `--output` archive; 0 without `--output`.
    pub outputs_bytes: u64,
    pub bytes: u64,
    pub hits: u64,
}

/// An entry with its use counts, as `list` and `show` present it.
pub struct Listed {
    pub info: EntryInfo,
    pub hits: u64,
    pub last_used: u64,
}

impl Listed {
    pub fn new(info: EntryInfo, usage: &Usage) -> Listed {
        let use_ = usage.key(&info.key);
        let last_used = info.modified_secs().max(use_.last_hit);
        Listed { info, hits: use_.hits, last_used }
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

    pub fn json(&self, now: SystemTime) -> EntryJson {
        let text = |b: &crate::entry::Bytes| b.to_os().to_string_lossy().into_owned();
        let meta = &self.info.meta;
        EntryJson {
            key: self.info.key.hex(),
            command: meta.argv.iter().map(text).collect(),
            cwd: meta.cwd.as_ref().map(text),
            scope: meta.scope.as_ref().map(text),
            env_names: meta.env_names.iter().map(text).collect(),
            created: rfc3339(self.info.modified_secs()),
            last_used: rfc3339(self.last_used),
            ttl_secs: self.info.ttl_secs(),
            expires_at: self.expires_at().map(rfc3339),
            expires_from: self.expires_from().map(str::to_string),
            expired: self.info.expired(now),
            exit_code: self.info.header.exit_code,
            stdout_bytes: self.info.header.stdout_len,
            stderr_bytes: self.info.header.stderr_len,
            outputs_bytes: self.info.header.outputs_len,
            bytes: self.info.size,
            hits: self.hits,
        }
    }
}

pub fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

/// Whether an entry's recorded scope is `scope`.
pub fn has_scope(info: &EntryInfo, scope: &OsStr) -> bool {
    info.meta.scope.as_ref().is_some_and(|s| s.to_os() == scope)
}

pub fn list(config: &Config, args: ListArgs) -> Result<i32> {
    if args.remote {
        return super::remote_admin::list(config, args.json);
    }
    let common = config.common(&args.common)?;
    let now = crate::freshness::clock().now();
    let mut rows: Vec<Listed> = match DiskStore::open_existing(&common.cache_dir)? {
        Some(store) => {
            let usage = Usage::load(&store);
            store
                .entry_infos()
                .into_iter()
                .filter(|info| args.scope.as_deref().is_none_or(|s| has_scope(info, s)))
                .map(|info| Listed::new(info, &usage))
                .collect()
        }
        None => Vec::new(),
    };
    rows.sort_by_key(|row| std::cmp::Reverse(row.last_used));
    if args.json {
        let json: Vec<_> = rows.iter().map(|row| row.json(now)).collect();
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print_table(&rows, now, args.color.color);
    }
    Ok(0)
}

fn print_table(rows: &[Listed], now: SystemTime, color: ColorWhen) {
    let header = ["KEY", "AGE", "EXPIRES", "EXIT", "SIZE", "HITS", "SCOPE", "COMMAND"];
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|row| {
            let info = &row.info;
            let expires = match info.expires_in(now) {
                None => "never".to_string(),
                Some(left) if left.is_zero() => "expired".to_string(),
                Some(left) => match row.expires_from().and(row.expires_at()) {
                    Some(at) => format!("{} from output", rfc3339(at)),
                    None => format::age(left),
                },
            };
            let scope = info.meta.scope.as_ref().map(|s| format::shell_word(&s.to_os()));
            [
                info.key.short(),
                format::age(info.age(now)),
                expires,
                info.header.exit_code.to_string(),
                format::size(info.output_bytes()),
                row.hits.to_string(),
                scope.unwrap_or_else(|| "-".into()),
                row.command(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let (quiet, heading) = (format::QUIET, format::HEADING);
    let line = |cells: [&str; 8]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = " ".repeat(widths[i] - cell.chars().count());
            match i {
                7 => out.push_str(cell),
                // Numbers right-aligned, text left-aligned.
                3..=5 => out.push_str(&format!("{pad}{cell}  ")),
                _ => out.push_str(&format!("{cell}{pad}  ")),
            }
        }
        out
    };
    let mut out = format::report_stdout(color);
    let _ = writeln!(out, "{heading}{}{heading:#}", line(header));
    for row in &cells {
        let text = line(std::array::from_fn(|i| row[i].as_str()));
        // The key column is dimmed: it is for copying, not for reading.
        let (key, rest) = text.split_at(widths[0]);
        let _ = writeln!(out, "{quiet}{key}{quiet:#}{rest}");
    }
}
