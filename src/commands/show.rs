//! `cachecmd show KEY-PREFIX` or `cachecmd show [KEY OPTIONS] -- COMMAND...`:
//! everything known about one entry, or (`--stdout`/`--stderr`) its output.

use std::io::Write as _;
use std::time::SystemTime;

use crate::error::{self, Error, Result};

use serde::Serialize;

use super::json::{MaterialJson, OsJson};
use super::listed::{rfc3339, EntryJson, Listed};
use crate::cli::ShowArgs;
use crate::entry::KeyDetails;
use crate::exec::replay::{write_stream, Stream};
use crate::exit_codes;
use crate::format;
use crate::settings::Config;
use crate::store::disk::DiskStore;
use crate::store::inventory::EntryFile;
use crate::store::statcache::StatCache;
use crate::store::usage::Usage;
use crate::store::Store;

/// Resolves a key prefix to exactly one entry, or says why not (exit 1).
pub fn resolve_prefix(store: Option<&DiskStore>, prefix: &str) -> Result<EntryFile> {
    let prefix = prefix.to_ascii_lowercase();
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::NoEntry(format!(
            "'{prefix}' is not a key prefix (hex digits, from `cachecmd list`)"
        )));
    }
    let mut found = store.map(|s| s.entries_with_prefix(&prefix)).unwrap_or_default();
    match found.len() {
        0 => Err(Error::NoEntry(format!("no entry has a key starting with '{prefix}'"))),
        1 => Ok(found.remove(0)),
        n => Err(Error::NoEntry(format!(
            "key prefix '{prefix}' is ambiguous: {n} entries match; give more digits"
        ))),
    }
}

pub fn show(config: &Config, args: ShowArgs) -> Result<i32> {
    let common = config.common(&args.key.common)?;
    let store = DiskStore::open_existing(&common.cache_dir)?;
    let file = if args.command.is_empty() {
        resolve_prefix(store.as_ref(), args.prefix.as_deref().unwrap_or_default())?
    } else {
        let spec = config.key(&args.key)?;
        let key = spec.capture(&args.command, &mut StatCache::new(store.as_ref()))?.key();
        match &store {
            Some(store) => EntryFile { key, path: store.entry_path(&key) },
            None => {
                let message = format!("no entry for that command (key {})", key.short());
                return Err(Error::NoEntry(message));
            }
        }
    };
    let Some(store) = store else { return no_entry(&file) };
    if args.stdout || args.stderr {
        let stream = if args.stdout { Stream::Stdout } else { Stream::Stderr };
        return match store.lookup(&file.key) {
            Ok(Some(entry)) => {
                let _ = write_stream(&entry, stream);
                Ok(0)
            }
            Ok(None) => no_entry(&file),
            Err(e) => {
                error::warn(e);
                Ok(exit_codes::NO_ENTRY)
            }
        };
    }
    let info = match store.read_info(&file) {
        Ok(info) => info,
        Err(_) if !file.path.exists() => return no_entry(&file),
        Err(e) => {
            error::warn(format_args!("entry {} is unreadable: {e}", file.key.short()));
            return Ok(exit_codes::NO_ENTRY);
        }
    };
    let now = crate::freshness::clock().now();
    let listed = Listed::new(info, &Usage::load(&store));
    if args.json {
        let json = ShowJson {
            entry: listed.json(now),
            material: MaterialJson::from(&listed.info.meta.keyed),
            file: OsJson::os(listed.info.path.as_os_str()),
        };
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(0);
    }
    let _ = write!(format::report_stdout(args.color.color), "{}", describe(&listed, now));
    print_traced_inputs(&store, &file.key);
    Ok(0)
}

/// `show --json`: `list --json`'s object, the rest of the key material and
/// the entry's file.
#[derive(Serialize)]
struct ShowJson {
    #[serde(flatten)]
    entry: EntryJson,
    #[serde(flatten)]
    material: MaterialJson,
    file: OsJson,
}

/// With `--trace-inputs` the entry is an index of manifests: list them.
fn print_traced_inputs(store: &DiskStore, key: &crate::key::Key) {
    if let Some(index) = super::run::read_index(store, key) {
        print!("traced inputs\n{}", super::run::describe_index(&index));
    }
}

fn no_entry(file: &EntryFile) -> Result<i32> {
    Err(Error::NoEntry(format!("no entry for key {}", file.key.short())))
}

/// A byte count, with its human size beside it from 1 KiB on.
fn bytes(n: u64) -> String {
    if n < 1024 {
        format!("{n} bytes")
    } else {
        format!("{n} bytes ({})", format::size(n))
    }
}

fn describe(listed: &Listed, now: SystemTime) -> String {
    let info = &listed.info;
    let meta = &info.meta;
    let text = |b: &crate::entry::Bytes| format::shell_word(&b.to_os());
    let env: Vec<_> = meta.env_names.iter().map(text).collect();
    let ttl = match info.ttl_secs() {
        Some(ttl) => format::age(std::time::Duration::from_secs(ttl)),
        None if listed.expires_at().is_some() => "until it expires".into(),
        None => "forever".into(),
    };
    let lifetime = match info.expires_in(now) {
        None => ttl,
        Some(left) if !left.is_zero() => format!("{ttl} (expires in {})", format::age(left)),
        Some(_) => format!("{ttl} (expired)"),
    };
    let expires = match (listed.expires_at(), listed.expires_from()) {
        (Some(at), Some(path)) => format!("{} (from the output at {path})", rfc3339(at)),
        (Some(at), None) => format!("{} (--expires-at)", rfc3339(at)),
        (None, _) => "-".into(),
    };
    let mut rows = vec![
        ("key", info.key.hex()),
        ("command", listed.command()),
        ("cwd", meta.cwd.as_ref().map_or("- (not keyed)".into(), text)),
        ("scope", meta.scope.as_ref().map_or("-".into(), text)),
        ("env", if env.is_empty() { "-".into() } else { env.join(" ") + " (values not stored)" }),
    ];
    rows.extend(key_material(&meta.keyed));
    let run = listed.run_ms().map_or("- (not recorded)".into(), format::millis);
    let saved = match listed.saved_ms {
        0 => "-".into(),
        ms => {
            let hits = if listed.hits == 1 { "hit" } else { "hits" };
            format!("{} by {} {hits}", format::millis(ms), listed.hits)
        }
    };
    rows.extend([
        (
            "created",
            format!("{} ({} ago)", rfc3339(info.modified_secs()), format::age(info.age(now))),
        ),
        ("run time", run),
        ("lifetime", lifetime),
        ("expires", expires),
        ("exit code", info.header.exit_code.to_string()),
        ("stdout", bytes(info.header.stdout_len)),
        ("stderr", bytes(info.header.stderr_len)),
    ]);
    if info.header.outputs_len != 0 {
        let outputs = bytes(info.header.outputs_len);
        rows.push(("outputs", format!("{outputs}, compressed archive")));
    }
    rows.extend([
        ("hits", listed.hits.to_string()),
        ("saved", saved),
        ("last used", rfc3339(listed.last_used)),
        ("file", crate::error::escape(&info.path.display().to_string())),
    ]);
    let heading = format::HEADING;
    rows.iter().map(|(name, value)| format!("{heading}{name:<10}{heading:#} {value}\n")).collect()
}

/// One row per part of the key material beyond the command line.
fn key_material(keyed: &KeyDetails) -> Vec<(&'static str, String)> {
    let text = |b: &crate::entry::Bytes| format::shell_word(&b.to_os());
    let mut rows = Vec::new();
    for string in &keyed.key_strings {
        rows.push(("key string", text(string)));
    }
    if let Some(inputs) = &keyed.inputs {
        if inputs.is_empty() {
            rows.push(("input", "- (no file matched)".into()));
        }
        for input in inputs {
            let digest = if input.digest.is_empty() { "-" } else { &input.digest };
            rows.push(("input", format!("{:<6} {digest} {}", input.kind, text(&input.path))));
        }
        let more = keyed.inputs_total.saturating_sub(inputs.len() as u64);
        if more > 0 {
            rows.push(("input", format!("... and {more} more (not recorded in the entry)")));
        }
    }
    for (path, mtime) in &keyed.modtimes {
        let mtime = mtime.map_or("(absent)".into(), |ns| format!("{ns}ns"));
        rows.push(("modtime", format!("{mtime} {}", text(path))));
    }
    if keyed.stdin {
        rows.push(("stdin", "keyed (its content's digest)".into()));
    }
    if !keyed.outputs.is_empty() {
        let outputs: Vec<_> = keyed.outputs.iter().map(text).collect();
        rows.push(("output", outputs.join(" ")));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{Bytes, KeyedInput};

    #[test]
    fn key_material_rows_name_each_part_and_count_what_was_not_recorded() {
        let input = KeyedInput {
            path: Bytes::Raw(vec![b'a', 0xff]),
            kind: "file".into(),
            digest: "ab".repeat(32),
        };
        let keyed = KeyDetails {
            key_strings: vec![Bytes::Text("v 2".into())],
            inputs: Some(vec![input]),
            inputs_total: 3,
            modtimes: vec![(Bytes::Text("stamp".into()), Some(5))],
            stdin: true,
            outputs: vec![Bytes::Text("out".into()), Bytes::Text("dist".into())],
        };
        let rows = key_material(&keyed);
        let digest = "ab".repeat(32);
        let expected = [
            ("key string", "'v 2'".to_string()),
            ("input", format!("file   {digest} $'a\\xff'")),
            ("input", "... and 2 more (not recorded in the entry)".into()),
            ("modtime", "5ns stamp".into()),
            ("stdin", "keyed (its content's digest)".into()),
            ("output", "out dist".into()),
        ];
        assert_eq!(rows, expected);
        assert!(key_material(&KeyDetails::default()).is_empty());
        let none_matched = KeyDetails { inputs: Some(vec![]), ..KeyDetails::default() };
        assert_eq!(key_material(&none_matched), [("input", "- (no file matched)".to_string())]);
    }

    #[test]
    fn byte_counts_get_a_human_size_from_one_kib() {
        assert_eq!(bytes(1023), "1023 bytes");
        assert_eq!(bytes(2048), "2048 bytes (2.0 KiB)");
    }
}
