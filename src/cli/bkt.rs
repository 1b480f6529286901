//! bkt's command line, as cachecmd accepts it when invoked under the name
//! `bkt` (a symlink or a copy): the flags, aliases, variables, requirements
//! and conflicts of bkt 0.8, declared the way bkt declares them, so a bkt
//! script parses (or is refused) exactly as before. What they mean in
//! cachecmd's terms is in `settings/bkt.rs`.
//!
//! cachecmd's own settings that bkt has no notion of (lock timeout, size
//! limits, the remote tier) are accepted too, hidden from `bkt --help`, with
//! their `CACHECMD_*` variables.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser};

use super::{LimitArgs, RemoteArgs};
use crate::units::{parse_size, parse_timeout};

const ABOUT: &str = "\
bkt's command line, served by cachecmd: caches a command's output, \
and returns it while it is younger than --ttl.";

const AFTER_HELP: &str = "\
This is cachecmd invoked as `bkt`. Entries are private (0700/0600) and live \
under $XDG_CACHE_HOME/cachecmd unless --cache-dir, BKT_CACHE_DIR or \
BKT_TMPDIR names a directory; concurrent misses of one key run the command \
once. Run `cachecmd --help` for cachecmd's own options.";

/// The parsed bkt command line.
#[derive(Debug, Parser)]
#[command(
    name = "bkt",
    // bkt's release whose command line this is, then ours.
    version = concat!("0.8.2 (cachecmd ", env!("CARGO_PKG_VERSION"), ")"),
    about = ABOUT,
    after_help = AFTER_HELP,
    max_term_width = 100
)]
pub struct BktCli {
    /// The command to run
    #[arg(required = true, last = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,

    /// Duration the cached result will be valid for
    #[arg(long, value_name = "DURATION", visible_alias = "time-to-live", env = "BKT_TTL", value_parser = parse_timeout)]
    pub ttl: Duration,

    /// Duration after which the result will be asynchronously refreshed
    #[arg(long, value_name = "DURATION", conflicts_with = "warm", value_parser = parse_timeout)]
    pub stale: Option<Duration>,

    /// Asynchronously execute and cache the given command, even if it's already cached
    #[arg(long)]
    pub warm: bool,

    /// Execute and cache the given command, even if it's already cached
    #[arg(long, conflicts_with = "warm")]
    pub force: bool,

    /// Includes the current working directory in the cache key
    #[arg(long, visible_alias = "use-working-dir")]
    pub cwd: bool,

    /// Includes the given environment variable in the cache key (left out while unset)
    #[arg(long, value_name = "NAME", visible_alias = "use-environment")]
    pub env: Vec<OsString>,

    /// Includes the last modification time of the given file(s) in the cache key
    #[arg(long, value_name = "FILE", visible_alias = "use-file-modtime")]
    pub modtime: Vec<OsString>,

    /// Don't cache invocations that fail (non-zero exit code)
    #[arg(long)]
    pub discard_failures: bool,

    /// If set, all cached data will be scoped to this value
    #[arg(long, value_name = "NAME", env = "BKT_SCOPE")]
    pub scope: Option<OsString>,

    /// The directory under which to persist cached invocations [default: cachecmd's cache]
    #[arg(long, value_name = "DIR", env = "BKT_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    #[command(flatten)]
    pub cachecmd: CachecmdArgs,
}

/// cachecmd's own settings, for what bkt has no flag for; hidden from help.
#[derive(Debug, Args)]
pub struct CachecmdArgs {
    /// Internal: the background refresh started by --stale or --warm
    #[arg(long)]
    pub refresh: bool,

    /// Print one status line on stderr (hit or miss, age, key)
    #[arg(long)]
    pub verbose: bool,

    #[arg(long, env = "CACHECMD_LOCK_TIMEOUT", value_name = "DURATION", value_parser = parse_timeout)]
    pub lock_timeout: Option<Duration>,

    #[arg(long, env = "CACHECMD_MAX_ENTRY_SIZE", value_name = "SIZE", value_parser = parse_size)]
    pub max_entry_size: Option<u64>,

    #[command(flatten)]
    pub limits: LimitArgs,

    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// The names bkt itself declares: every other argument is cachecmd's, hidden.
const BKT_ARGS: [&str; 12] = [
    "command",
    "ttl",
    "stale",
    "warm",
    "force",
    "cwd",
    "env",
    "modtime",
    "discard_failures",
    "scope",
    "cache_dir",
    "help",
];

/// The declaration: cachecmd's additions hidden, and every variable that is
/// set but empty ignored (as cachecmd does for its own variables).
pub fn command() -> clap::Command {
    BktCli::command().mut_args(|arg| {
        let arg = if BKT_ARGS.contains(&arg.get_id().as_str()) { arg } else { arg.hide(true) };
        let empty = arg.get_env().and_then(std::env::var_os).is_some_and(|v| v.is_empty());
        if empty {
            arg.env(None)
        } else {
            arg
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::FromArgMatches;

    fn parse(args: &[&str]) -> Result<BktCli, clap::Error> {
        let matches = command().try_get_matches_from(args)?;
        BktCli::from_arg_matches(&matches)
    }

    #[test]
    fn declaration_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn bkt_flags_and_aliases_parse() {
        let cli = parse(&[
            "bkt",
            "--time-to-live=1m",
            "--use-working-dir",
            "--use-environment=A",
            "--env",
            "B",
            "--use-file-modtime=f",
            "--scope=s",
            "--discard-failures",
            "--",
            "date",
            "-u",
        ])
        .unwrap();
        assert_eq!(cli.ttl, Duration::from_secs(60));
        assert!(cli.cwd && cli.discard_failures);
        assert_eq!(cli.env, ["A", "B"]);
        assert_eq!(cli.modtime, ["f"]);
        assert_eq!(cli.command, ["date", "-u"]);
    }

    #[test]
    fn bkt_rejections_are_kept() {
        let kind = |args: &[&str]| parse(args).unwrap_err().kind();
        use clap::error::ErrorKind;
        assert_eq!(
            kind(&["bkt", "--ttl=1m", "--warm", "--force", "--", "x"]),
            ErrorKind::ArgumentConflict
        );
        assert_eq!(
            kind(&["bkt", "--ttl=1m", "--warm", "--stale=1s", "--", "x"]),
            ErrorKind::ArgumentConflict
        );
        // The command comes after `--`, always.
        assert_eq!(kind(&["bkt", "--ttl=1m", "date"]), ErrorKind::UnknownArgument);
        assert_eq!(kind(&["bkt", "--ttl=0s", "--", "x"]), ErrorKind::ValueValidation);
    }

    #[test]
    fn cachecmd_additions_are_hidden() {
        let help = command().render_help().to_string();
        for hidden in ["--remote", "--lock-timeout", "--max-size", "--refresh", "--verbose"] {
            assert!(!help.contains(hidden), "{hidden} in\n{help}");
        }
        assert!(help.contains("--discard-failures"), "{help}");
    }
}
