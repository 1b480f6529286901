//! The subcommands that look at the cache without changing entries:
//! `list`, `show`, `stats` and `key`.

use std::ffi::OsString;

use clap::{Args, ValueEnum};

use super::{ColorArgs, CommonArgs, KeyArgs, LimitArgs};

/// The orders `list --sort` offers (without it: most recently used first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortBy {
    /// Oldest first
    Age,
    /// Largest output first
    Size,
    /// Most hits first
    Hits,
    /// Most time saved first
    Saved,
}

#[derive(Debug, Args)]
#[command(after_help = "KEYED marks what besides the command line is in the key: \
e --env, i --input, m --modtime, s --stdin, k --key, o --output.")]
pub struct ListArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub color: ColorArgs,

    /// Only entries with this scope
    #[arg(long, value_name = "NAME")]
    pub scope: Option<OsString>,

    /// Only entries whose program name or whole command line matches this glob
    #[arg(long, value_name = "PATTERN")]
    pub command: Option<String>,

    /// Only entries recorded in the current directory
    #[arg(long)]
    pub here: bool,

    /// Only entries past the lifetime they were recorded with
    #[arg(long)]
    pub expired: bool,

    /// Order by age (oldest first), size, hits or saved (largest first) [default: most recently used first]
    #[arg(long, value_enum, value_name = "ORDER", hide_possible_values = true)]
    pub sort: Option<SortBy>,

    /// Print a JSON array instead of a table
    #[arg(long)]
    pub json: bool,

    /// List the remote tier's keys (CACHECMD_REMOTE or config `remote`) instead
    #[arg(long)]
    pub remote: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Name the entry by a key prefix (from `cachecmd list`) or, after `--`, \
by the command line and key options of the run.")]
pub struct ShowArgs {
    #[command(flatten)]
    pub key: KeyArgs,

    #[command(flatten)]
    pub color: ColorArgs,

    /// A prefix of the entry's key
    #[arg(
        value_name = "KEY-PREFIX",
        required_unless_present = "command",
        conflicts_with = "command"
    )]
    pub prefix: Option<String>,

    /// Print the stored stdout instead of the description
    #[arg(long, conflicts_with = "stderr")]
    pub stdout: bool,

    /// Print the stored stderr instead of the description
    #[arg(long)]
    pub stderr: bool,

    /// Print the description as a JSON object
    #[arg(long, conflicts_with_all = ["stdout", "stderr"])]
    pub json: bool,

    /// The command line of the run (after `--`)
    #[arg(value_name = "COMMAND", last = true)]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub color: ColorArgs,

    #[command(flatten)]
    pub limits: LimitArgs,

    /// Print a JSON object instead of text
    #[arg(long)]
    pub json: bool,

    /// Reset the counters (hits, misses, evictions, time saved) to zero, from now
    #[arg(long)]
    pub zero: bool,
}

#[derive(Debug, Args)]
pub struct KeyCommandArgs {
    #[command(flatten)]
    pub key: KeyArgs,

    /// Print each part of the key (values of variables only as digests)
    #[arg(long)]
    pub explain: bool,

    /// Print the key and each part of it as a JSON object
    #[arg(long, conflicts_with = "explain")]
    pub json: bool,

    /// The command line to compute the key of
    #[arg(value_name = "COMMAND", required = true, trailing_var_arg = true)]
    pub command: Vec<OsString>,
}
