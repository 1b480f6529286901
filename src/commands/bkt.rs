//! cachecmd invoked as `bkt` (a symlink or a copy named `bkt`): bkt's
//! command line (`cli/bkt.rs`) translated into run settings
//! (`settings/bkt.rs`) and run by cachecmd's own run mode, so existing bkt
//! scripts get single-flight misses, private entries and kernel-copy hits.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::FromArgMatches;

use crate::cli::bkt::{self, BktCli};
use crate::error;
use crate::exit_codes;
use crate::settings::{self, Config, SettingsError};

/// Whether argv[0] names bkt: a comparison of the last path component, so
/// cachecmd's own start-up pays nothing else for it.
pub fn invoked_as_bkt(argv: &[OsString]) -> bool {
    let Some(arg0) = argv.first() else { return false };
    let bytes = arg0.as_bytes();
    let name = bytes.rsplit(|&b| b == b'/').next().unwrap_or(bytes);
    name == b"bkt"
}

/// Parses bkt's command line and runs it; returns the exit status.
pub fn main(argv: Vec<OsString>) -> i32 {
    let cli = match parse(argv) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // A refused command line is a usage error, 125 as for cachecmd
            // (bkt exits 2), so a script can tell it from the command's own.
            return if e.use_stderr() { exit_codes::USAGE } else { 0 };
        }
    };
    match settings::env_bool("CACHECMD_DISABLE") {
        Ok(Some(true)) => return crate::pass_through(&cli.command),
        Ok(_) => {}
        Err(e) => return error::report(&e.into()),
    }
    run(cli).unwrap_or_else(|e| error::report(&e))
}

fn parse(argv: Vec<OsString>) -> Result<BktCli, clap::Error> {
    match bkt::command().try_get_matches_from(argv) {
        Ok(matches) => BktCli::from_arg_matches(&matches),
        Err(mut e) => {
            if e.kind() == ErrorKind::MissingRequiredArgument && names_ttl(&e) {
                // bkt's own hint: before 0.8 --ttl was optional.
                let tip = "bkt 0.8 requires a TTL; before 0.8 it defaulted to 60 seconds: \
                           pass `--ttl=1m` or set `BKT_TTL=1m` for that behaviour";
                e.insert(ContextKind::Suggested, ContextValue::StyledStrs(vec![tip.into()]));
            }
            Err(e)
        }
    }
}

fn names_ttl(e: &clap::Error) -> bool {
    match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::Strings(args)) => args.iter().any(|a| a.starts_with("--ttl")),
        Some(ContextValue::String(arg)) => arg.starts_with("--ttl"),
        _ => false,
    }
}

fn run(cli: BktCli) -> error::Result<i32> {
    let command = cli.command.clone();
    let config = Config::load()?;
    match config.bkt_run(cli) {
        // `--cwd` with no working directory to key on: run uncached.
        Err(SettingsError::Cwd(e)) => Ok(super::run::unkeyed(&command, false, &e)),
        settings => {
            let settings = settings?;
            if !settings.common.verbose {
                crate::warn_if_unwritable(&settings.common.cache_dir);
            }
            super::run::run(&settings)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_name_bkt_is_bkt() {
        let named = |arg0: &str| invoked_as_bkt(&[OsString::from(arg0)]);
        assert!(named("bkt") && named("/usr/local/bin/bkt") && named("./bkt"));
        assert!(!named("cachecmd") && !named("/opt/bkt/cachecmd") && !named("bkt2"));
        assert!(!named("") && !invoked_as_bkt(&[]));
    }
}
