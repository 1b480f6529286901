//! `cachecmd audit [KEY OPTIONS] -- COMMAND`: runs the command traced and
//! prints, one per line, the files it read that the given `--input` flags
//! do not cover: those under the working directory, or with `--all`
//! every one. Exit 0 when there are none, 1 when there are some (so CI can
//! gate on it), 2 when the command could not be traced. The command's own
//! output is discarded, so the list is all that reaches stdout.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;

use crate::cli::AuditArgs;
use crate::error::Result;
use crate::exec::runner::{self, Mode, Trace};
use crate::settings::Config;
use crate::store::disk::DiskStore;
use crate::store::statcache::StatCache;
use crate::trace::manifest::{Check, State};
use crate::trace::{observe, paths};

/// The command could not be traced: nothing can be said about its reads.
pub const UNTRACED: i32 = 2;

pub fn audit(config: &Config, args: AuditArgs) -> Result<i32> {
    let spec = config.key(&args.key)?;
    let common = config.common(&args.key.common)?;
    let store = DiskStore::open_existing(&common.cache_dir).ok().flatten();
    let mut cache = StatCache::new(store.as_ref());
    let material = spec.capture(&args.command, &mut cache)?;
    let declared: BTreeSet<Vec<u8>> =
        material.inputs.iter().flatten().map(|input| input.path.clone()).collect();
    let stdin = material.stdin.as_ref().map(|s| &s.file);
    let accesses = match runner::run_traced(&args.command, stdin, None, Mode::Capture) {
        Ok((_, Trace::Traced(accesses))) => accesses,
        Ok((_, Trace::Untraced(why))) => {
            crate::error::warn(format_args!("cannot trace the command: {why}"));
            return Ok(UNTRACED);
        }
        Err(e) => {
            crate::error::warn(&e);
            return Ok(e.exit_code());
        }
    };
    let cwd = std::env::current_dir()?;
    let ignore = paths::Ignore::new(&common.cache_dir, &spec.trace_ignore)
        .map_err(crate::error::Error::Usage)?;
    let manifest = observe::build(&accesses, &cwd, &ignore, &mut cache);
    let undeclared: Vec<String> = manifest
        .iter()
        .filter(|item| item.check == Check::Content && matches!(item.state, State::Content(_)))
        .filter(|item| args.all || under_cwd(&item.path))
        .filter(|item| !declared.contains(&item.path))
        .map(|item| String::from_utf8_lossy(&item.path).into_owned())
        .collect();
    let mut out = std::io::stdout().lock();
    for path in &undeclared {
        let _ = writeln!(out, "{path}");
    }
    Ok(if undeclared.is_empty() { 0 } else { 1 })
}

/// Whether a stored path names something under the working directory: a
/// relative one whose `..` never climbs above it (`../Makefile`, read by a
/// command run in `src`, is outside; paths keep `..` as written).
fn under_cwd(stored: &[u8]) -> bool {
    use std::path::Component;
    let path = std::path::Path::new(std::ffi::OsStr::from_bytes(stored));
    let mut depth = 0usize;
    for part in path.components() {
        match part {
            Component::Normal(_) => depth += 1,
            Component::ParentDir if depth == 0 => return false,
            Component::ParentDir => depth -= 1,
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_climbing_out_of_the_cwd_are_not_under_it() {
        for inside in ["a.c", "src/a.c", "src/../a.c", ".", "./x"] {
            assert!(super::under_cwd(inside.as_bytes()), "{inside}");
        }
        for outside in ["/etc/x", "../Makefile", "src/../../x", "a/../.."] {
            assert!(!super::under_cwd(outside.as_bytes()), "{outside}");
        }
    }
}
