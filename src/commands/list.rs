//! `cachecmd list [FILTERS] [--sort ORDER] [--json]`: every entry, most
//! recently used first. On a terminal each row is cut to its width.

use std::io::Write as _;
use std::time::SystemTime;

use crate::error::Result;

use super::listed::{has_scope, rfc3339, Listed};
use crate::cli::{ColorWhen, ListArgs, SortBy};
use crate::format;
use crate::settings::Config;
use crate::store::disk::DiskStore;
use crate::store::usage::Usage;

pub fn list(config: &Config, args: ListArgs) -> Result<i32> {
    if args.remote {
        return super::remote_admin::list(config, args.json);
    }
    let common = config.common(&args.common)?;
    let pattern = super::clear::command_glob(args.command.as_deref())?;
    let here = if args.here { Some(std::env::current_dir()?) } else { None };
    let now = crate::freshness::clock().now();
    let mut rows: Vec<Listed> = match DiskStore::open_existing(&common.cache_dir)? {
        Some(store) => {
            let usage = Usage::load(&store);
            store
                .entry_infos()
                .into_iter()
                .filter(|info| args.scope.as_deref().is_none_or(|s| has_scope(info, s)))
                .filter(|info| !args.expired || info.expired(now))
                .filter(|info| {
                    pattern.as_ref().is_none_or(|p| super::clear::command_matches(p, info))
                })
                .map(|info| Listed::new(info, &usage))
                .filter(|row| here.as_deref().is_none_or(|dir| row.recorded_in(dir)))
                .collect()
        }
        None => Vec::new(),
    };
    sort(&mut rows, args.sort);
    if args.json {
        let json: Vec<_> = rows.iter().map(|row| row.json(now)).collect();
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print_table(&rows, now, args.color.color, format::terminal_width());
    }
    Ok(0)
}

/// Most recently used first, or by `order` (ties: most recently used first).
fn sort(rows: &mut [Listed], order: Option<SortBy>) {
    rows.sort_by_key(|row| std::cmp::Reverse(row.last_used));
    let Some(order) = order else { return };
    rows.sort_by_key(|row| {
        std::cmp::Reverse(match order {
            SortBy::Age => u64::MAX - row.info.modified_secs(),
            SortBy::Size => row.info.output_bytes(),
            SortBy::Hits => row.hits,
            SortBy::Saved => row.saved_ms,
        })
    });
}

const COLUMNS: usize = 11;
const HEADER: [&str; COLUMNS] =
    ["KEY", "AGE", "EXPIRES", "EXIT", "SIZE", "HITS", "RUN", "KEYED", "SCOPE", "DIR", "COMMAND"];

fn cells(row: &Listed, now: SystemTime, home: Option<&std::ffi::OsStr>) -> [String; COLUMNS] {
    let info = &row.info;
    let expires = match info.expires_in(now) {
        None => "never".to_string(),
        Some(left) if left.is_zero() => "expired".to_string(),
        Some(left) => match row.expires_from().and(row.expires_at()) {
            Some(at) => format!("{} from output", rfc3339(at)),
            None => format::age(left),
        },
    };
    let dash = || "-".to_string();
    let scope = info.meta.scope.as_ref().map(|s| format::shell_word(&s.to_os()));
    let dir = info.meta.cwd.as_ref().map(|cwd| format::dir(&cwd.to_os(), home));
    let marks = Some(row.marks()).filter(|m| !m.is_empty());
    [
        info.key.short(),
        format::age(info.age(now)),
        expires,
        info.header.exit_code.to_string(),
        format::size(info.output_bytes()),
        row.hits.to_string(),
        row.run_ms().map_or_else(dash, format::millis),
        marks.unwrap_or_else(dash),
        scope.unwrap_or_else(dash),
        dir.unwrap_or_else(dash),
        row.command(),
    ]
}

fn print_table(rows: &[Listed], now: SystemTime, color: ColorWhen, width: Option<usize>) {
    let home = std::env::var_os("HOME");
    let cells: Vec<[String; COLUMNS]> =
        rows.iter().map(|row| cells(row, now, home.as_deref())).collect();
    let mut widths = HEADER.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; COLUMNS]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = " ".repeat(widths[i] - cell.chars().count());
            match i {
                _ if i == COLUMNS - 1 => out.push_str(cell),
                // Numbers right-aligned, text left-aligned.
                3..=6 => out.push_str(&format!("{pad}{cell}  ")),
                _ => out.push_str(&format!("{cell}{pad}  ")),
            }
        }
        // Cut before styling, so no escape sequence is ever cut in half.
        width.map_or(out.clone(), |width| format::truncate(&out, width))
    };
    let (quiet, heading) = (format::QUIET, format::HEADING);
    let mut out = format::report_stdout(color);
    let _ = writeln!(out, "{heading}{}{heading:#}", line(HEADER));
    for row in &cells {
        let text = line(std::array::from_fn(|i| row[i].as_str()));
        // The key column is dimmed: it is for copying, not for reading.
        let split = text.char_indices().nth(widths[0]).map_or(text.len(), |(at, _)| at);
        let (key, rest) = text.split_at(split);
        let _ = writeln!(out, "{quiet}{key}{quiet:#}{rest}");
    }
}
