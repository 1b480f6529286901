//! The common run-mode command line without clap.
//!
//! A hit is mostly start-up, and clap's start-up (building the declaration
//! of every option and subcommand, then matching) costs a 4 KiB hit about
//! as many instructions as all of `cat`. Most runs use a handful of key and
//! freshness options, so those are read here directly; anything else —
//! another option, a subcommand, `--help`, a value clap would refuse, a
//! constraint between options — makes [`parse`] answer `None` and clap
//! parses the whole line as before, with its own messages. This is a
//! shortcut, never a second grammar: for every line it accepts it builds
//! the very `Cli` clap builds (the tests compare the two on generated lines).

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use crate::cli::{Cli, RunArgs};
use crate::units::{parse_lifetime, parse_size, parse_timeout};

/// Words that clap reads as a subcommand when they come first (`help` is
/// clap's own). A test keeps this list equal to the declaration's.
pub(super) const SUBCOMMANDS: &[&str] = &[
    "evict",
    "clear",
    "key",
    "list",
    "show",
    "stats",
    "gc",
    "config",
    "audit",
    "completions",
    "man",
    "__complete-keys",
    "help",
];

/// The variables `from_environment` reads as clap reads them (listed for
/// the test that compares them with the declaration).
#[cfg(test)]
pub(super) const HANDLED_VARS: &[&str] = &[
    "CACHECMD_TTL",
    "CACHECMD_FAILURE_TTL",
    "CACHECMD_ENV",
    "CACHECMD_SCOPE",
    "CACHECMD_DIR",
    "CACHECMD_LOCK_TIMEOUT",
    "CACHECMD_MAX_ENTRY_SIZE",
];

/// The run-mode variables of the options not handled here: when one is set,
/// clap parses. A test keeps `HANDLED_VARS` and this list together equal to
/// every variable of the declaration's run options.
pub(super) const OTHER_VARS: &[&str] = &[
    "CACHECMD_EXPIRES_FROM",
    "CACHECMD_EXPIRY_MARGIN",
    "CACHECMD_MISS_STATUS",
    "CACHECMD_CACHE_EXIT_CODES",
    "CACHECMD_MAX_SIZE",
    "CACHECMD_MAX_ENTRIES",
    "CACHECMD_REMOTE",
    "CACHECMD_REMOTE_MODE",
    "CACHECMD_REMOTE_READ_ONLY",
    "CACHECMD_REMOTE_TIMEOUT",
];

/// The `Cli` of a plain run, or `None` when clap must decide. `var` reads
/// the environment (injected so tests can give one).
pub fn parse(argv: &[OsString], var: &dyn Fn(&str) -> Option<OsString>) -> Option<Cli> {
    // Set and non-empty, as clap sees variables after `args::command()`.
    let var = |name: &str| var(name).filter(|value| !value.is_empty());
    if OTHER_VARS.iter().any(|name| var(name).is_some()) {
        return None;
    }
    let mut run = RunArgs::default();
    let mut given = Given::default();
    let mut at = 1;
    loop {
        let word = argv.get(at)?;
        at += 1;
        if word == "--" {
            break;
        }
        let text = word.to_str()?;
        if !text.starts_with('-') {
            // First, even after options: `cachecmd -v clear` is `clear -v`.
            if SUBCOMMANDS.contains(&text) {
                return None;
            }
            at -= 1;
            break;
        }
        if text == "-v" || text == "--verbose" {
            run.key.common.verbose = true;
            continue;
        }
        let (name, inline) = match text.split_once('=') {
            Some((name, value)) => (name, Some(OsStr::new(value))),
            None => (text, None),
        };
        let flag = match name {
            "--force" => Some(&mut run.force),
            "--no-cwd" => Some(&mut run.key.no_cwd),
            "--stdin" => Some(&mut run.key.stdin),
            "--warm" => Some(&mut run.warm),
            _ => None,
        };
        if let Some(flag) = flag {
            // `--force=…` is clap's error to report.
            inline.is_none().then_some(())?;
            *flag = true;
            continue;
        }
        let value = match inline {
            Some(value) => value,
            None => {
                at += 1;
                argv.get(at - 1)?.as_os_str()
            }
        };
        // Empty values and values that look like options are clap's to
        // judge (it refuses most of them).
        if value.is_empty() || value.as_encoded_bytes().starts_with(b"-") {
            return None;
        }
        option(&mut run, &mut given, name, value)?;
    }
    run.command = argv.get(at..)?.to_vec();
    if run.command.is_empty() {
        return None;
    }
    from_environment(&mut run, &given, &var)?;
    Some(Cli { subcommand: None, run })
}

/// Whether `--env` was given (then `CACHECMD_ENV` is not read); the other
/// options with a variable are `Some` once given.
#[derive(Default)]
struct Given {
    env: bool,
}

/// Sets one value option; `None` for an unknown option or a value its
/// parser refuses (clap then reports it).
fn option(run: &mut RunArgs, given: &mut Given, name: &str, value: &OsStr) -> Option<()> {
    let text = || value.to_str();
    match name {
        "--ttl" => run.ttl = Some(parse_lifetime(text()?).ok()?),
        "--failure-ttl" => run.failure_ttl = Some(parse_lifetime(text()?).ok()?),
        "--stale" => run.stale = Some(parse_timeout(text()?).ok()?),
        "--lock-timeout" => run.lock_timeout = Some(parse_timeout(text()?).ok()?),
        "--max-entry-size" => run.max_entry_size = Some(parse_size(text()?).ok()?),
        "--env" => {
            given.env = true;
            run.key.env.extend(text()?.split(',').map(str::to_owned));
        }
        "--scope" => run.key.scope = Some(value.to_owned()),
        "--key" => run.key.extra.push(value.to_owned()),
        "--input" => run.key.input.push(text()?.to_owned()),
        "--modtime" => run.key.modtime.push(value.to_owned()),
        "--cache-dir" => run.key.common.cache_dir = Some(PathBuf::from(value)),
        _ => return None,
    }
    Some(())
}

/// Fills what the command line left unset from `HANDLED_VARS`.
fn from_environment(
    run: &mut RunArgs,
    given: &Given,
    var: &dyn Fn(&str) -> Option<OsString>,
) -> Option<()> {
    fill(&mut run.ttl, var, "CACHECMD_TTL", parse_lifetime)?;
    fill(&mut run.failure_ttl, var, "CACHECMD_FAILURE_TTL", parse_lifetime)?;
    fill(&mut run.lock_timeout, var, "CACHECMD_LOCK_TIMEOUT", parse_timeout)?;
    fill(&mut run.max_entry_size, var, "CACHECMD_MAX_ENTRY_SIZE", parse_size)?;
    if !given.env {
        if let Some(value) = var("CACHECMD_ENV") {
            run.key.env = value.into_string().ok()?.split(',').map(str::to_owned).collect();
        }
    }
    if run.key.scope.is_none() {
        run.key.scope = var("CACHECMD_SCOPE");
    }
    if run.key.common.cache_dir.is_none() {
        run.key.common.cache_dir = var("CACHECMD_DIR").map(PathBuf::from);
    }
    Some(())
}

/// An unset option from its variable, parsed as clap would; `None` when the
/// value is refused (clap then reports it, naming the variable).
fn fill<T>(
    slot: &mut Option<T>,
    var: &dyn Fn(&str) -> Option<OsString>,
    name: &str,
    parse: fn(&str) -> Result<T, String>,
) -> Option<()> {
    if slot.is_none() {
        if let Some(value) = var(name) {
            *slot = Some(parse(value.to_str()?).ok()?);
        }
    }
    Some(())
}

#[cfg(test)]
mod tests;
