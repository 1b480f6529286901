//! `cachecmd show KEY-PREFIX` or `cachecmd show [KEY OPTIONS] -- COMMAND...`:
//! everything known about one entry, or (`--stdout`/`--stderr`) its output.

use std::io::Write as _;
use std::time::SystemTime;

use crate::error::{self, Error, Result};

use super::list::{rfc3339, Listed};
use crate::cli::ShowArgs;
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
    let _ = write!(format::report_stdout(args.color.color), "{}", describe(&listed, now));
    print_traced_inputs(&store, &file.key);
    Ok(0)
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
    let rows = [
        ("key", info.key.hex()),
        ("command", listed.command()),
        ("cwd", meta.cwd.as_ref().map_or("- (not keyed)".into(), text)),
        ("scope", meta.scope.as_ref().map_or("-".into(), text)),
        ("env", if env.is_empty() { "-".into() } else { env.join(" ") + " (values not stored)" }),
        (
            "created",
            format!("{} ({} ago)", rfc3339(info.modified_secs()), format::age(info.age(now))),
        ),
        ("lifetime", lifetime),
        ("expires", expires),
        ("exit code", info.header.exit_code.to_string()),
        ("stdout", format!("{} bytes", info.header.stdout_len)),
        ("stderr", format!("{} bytes", info.header.stderr_len)),
        ("outputs", format!("{} bytes (compressed archive)", info.header.outputs_len)),
        ("hits", listed.hits.to_string()),
        ("last used", rfc3339(listed.last_used)),
        ("file", crate::error::escape(&info.path.display().to_string())),
    ];
    let heading = format::HEADING;
    rows.iter().map(|(name, value)| format!("{heading}{name:<10}{heading:#} {value}\n")).collect()
}
