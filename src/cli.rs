//! The command-line declaration only; meaning (config defaults, validation)
//! is in `settings`, what clap cannot declare (options before a subcommand) in `args.rs`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::builder::TypedValueParser as _;
use clap::{Args, Parser, Subcommand, ValueHint};

pub use crate::format::ColorWhen;
use crate::units::{parse_count, parse_lifetime, parse_size, parse_timeout, Lifetime};

pub mod bkt;
mod config;
mod expiry;
pub use config::ConfigArgs;
pub use expiry::{ExpiresFromArgs, ExpiryMarginArgs};
mod examples;
mod generated;
mod introspect;
mod lookup_only;
mod remote;
mod trace;
use examples::EXAMPLES;
pub use generated::{CompleteKeysArgs, CompletionsArgs, Generated, ManArgs};
pub use introspect::{KeyCommandArgs, ListArgs, ShowArgs, SortBy, StatsArgs};
pub use lookup_only::LookupOnlyArgs;
pub use remote::RemoteArgs;
pub use trace::{AuditArgs, TraceArgs};

/// Cache the output of a command: the first run records stdout, stderr and
/// the exit code; later runs with the same key replay them while fresh.
#[derive(Debug, Parser)]
#[command(
    name = "cachecmd",
    version,
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    args_override_self = true,
    subcommand_negates_reqs = true,
    max_term_width = 100,
    override_usage = "cachecmd [OPTIONS] [--] <COMMAND>...\n       cachecmd <SUBCOMMAND> [OPTIONS]"
)]
pub struct Cli {
    #[command(subcommand)]
    pub subcommand: Option<Command>,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Forget the cached entry of one invocation (same key options as a run)
    Evict(EvictArgs),
    /// Forget cached entries: all, or those matching the filters
    Clear(ClearArgs),
    /// Print the key a run with these options would use (`--explain`: its parts)
    Key(KeyCommandArgs),
    /// List cached entries, most recently used first
    List(ListArgs),
    /// Show everything known about one entry
    Show(ShowArgs),
    /// Summarize the cache: entries, bytes, hits, misses, evictions
    Stats(StatsArgs),
    /// Remove expired entries and stray files; enforce the size limits
    Gc(GcArgs),
    /// Print the effective configuration and where each value comes from
    Config(ConfigArgs),
    /// Run a command traced; print the files it read that no --input covers (exit 1 if any)
    Audit(AuditArgs),
    #[command(flatten)]
    Generated(Generated),
}

/// Options of run mode.
#[derive(Debug, Default, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub key: KeyArgs,

    /// How long an entry is served: `30s`, `10m`, `1h 30m`, `7d` or `forever` [default: 1h]
    #[arg(long, env = "CACHECMD_TTL", value_name = "DURATION", value_parser = parse_lifetime)]
    pub ttl: Option<Lifetime>,

    /// Also cache non-zero exits, served for this long [default: failures are not cached]
    #[arg(long, env = "CACHECMD_FAILURE_TTL", value_name = "DURATION", value_parser = parse_lifetime)]
    pub failure_ttl: Option<Lifetime>,

    /// Run the command and record it even if a fresh entry exists
    #[arg(long)]
    pub force: bool,

    /// Serve entries older than this at once, refreshing them in the background (< --ttl)
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub stale: Option<std::time::Duration>,

    /// Refresh the entry in the background and return at once, printing nothing
    #[arg(long)]
    pub warm: bool,

    /// If a run fails, serve the last good entry expired less than this ago
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub stale_if_error: Option<std::time::Duration>,

    /// Retry a failed run up to N more times (output of the final attempt only)
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub retry: Option<u64>,

    /// Wait before the first retry, doubling each time [default: 1s]
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout, requires = "retry")]
    pub retry_delay: Option<std::time::Duration>,

    /// Expire the entry at a local time of day (`17:00`) or an RFC 3339 instant
    #[arg(long, value_name = "TIME")]
    pub expires_at: Option<String>,

    #[command(flatten)]
    pub margin: ExpiryMarginArgs,

    #[command(flatten)]
    pub lookup_only: LookupOnlyArgs,

    /// Internal: the background refresh started by --stale or --warm
    #[arg(long, hide = true)]
    pub refresh: bool,

    /// Longest wait for another caller running the same key; past it, run anyway [default: 10m]
    #[arg(long, env = "CACHECMD_LOCK_TIMEOUT", value_name = "DURATION", value_parser = parse_timeout)]
    pub lock_timeout: Option<std::time::Duration>,

    /// Larger outputs are streamed but not cached: `500M`, `2GiB` [default: 1GiB]
    #[arg(long, env = "CACHECMD_MAX_ENTRY_SIZE", value_name = "SIZE", value_parser = parse_size)]
    pub max_entry_size: Option<u64>,

    #[command(flatten)]
    pub limits: LimitArgs,

    #[command(flatten)]
    pub remote: RemoteArgs,

    /// The command to run and its arguments (run directly, not through a shell)
    #[arg(
        value_name = "COMMAND",
        required = true,
        trailing_var_arg = true,
        value_hint = ValueHint::CommandWithArguments
    )]
    pub command: Vec<OsString>,
}

/// What goes into the key besides the command line, plus where the cache is.
#[derive(Debug, Default, Args)]
pub struct KeyArgs {
    /// Key on this environment variable (repeatable; globs such as `AWS_*`)
    #[arg(long = "env", env = "CACHECMD_ENV", value_name = "NAME", value_delimiter = ',')]
    pub env: Vec<String>,

    /// Leave the working directory out of the key (share across directories)
    #[arg(long)]
    pub no_cwd: bool,

    /// A namespace for the entry, part of the key (any string)
    #[arg(long, env = "CACHECMD_SCOPE", value_name = "NAME")]
    pub scope: Option<OsString>,

    /// Extra key material, e.g. a version or date (repeatable)
    #[arg(long = "key", value_name = "STRING")]
    pub extra: Vec<OsString>,

    /// Key on the content of these files: a path, a directory, or a glob with `**` (repeatable)
    #[arg(long, value_name = "PATH|GLOB", value_hint = ValueHint::AnyPath)]
    pub input: Vec<String>,

    /// Key on this file's modification time only (repeatable)
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub modtime: Vec<OsString>,

    /// Read stdin, key on its content, and feed it to the command
    #[arg(long)]
    pub stdin: bool,

    /// A file or directory the command writes: archived on a miss, restored on a hit (repeatable)
    #[arg(long, value_name = "PATH", value_hint = ValueHint::AnyPath)]
    pub output: Vec<OsString>,

    #[command(flatten)]
    pub expiry: ExpiresFromArgs,

    #[command(flatten)]
    pub trace: TraceArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options every subcommand understands.
#[derive(Debug, Default, Args)]
pub struct CommonArgs {
    /// Cache directory [default: $XDG_CACHE_HOME/cachecmd]
    // Not clap's path parser, which refuses an empty CACHECMD_DIR (= unset).
    #[arg(
        long,
        env = "CACHECMD_DIR",
        value_name = "DIR",
        value_hint = ValueHint::DirPath,
        value_parser = clap::builder::OsStringValueParser::new().map(PathBuf::from)
    )]
    pub cache_dir: Option<PathBuf>,

    /// Print one status line on stderr (hit or miss, age, key)
    #[arg(short, long)]
    pub verbose: bool,
}

/// Size limits, enforced by `gc` (and the automatic background gc).
#[derive(Debug, Default, Args)]
pub struct LimitArgs {
    /// Keep the cache under this size, evicting least recently used entries [default: 1GiB]
    #[arg(long, env = "CACHECMD_MAX_SIZE", value_name = "SIZE", value_parser = parse_size)]
    pub max_size: Option<u64>,

    /// Keep at most this many entries [default: unlimited]
    #[arg(long, env = "CACHECMD_MAX_ENTRIES", value_name = "N", value_parser = parse_count)]
    pub max_entries: Option<u64>,
}

#[derive(Debug, Args)]
#[command(after_help = "With a COMMAND, `--key` is key material as in a run; \
without one, `--key KEY-PREFIX` evicts the entry whose key starts with KEY-PREFIX. \
Exits 1 when there is no such entry, either way.")]
pub struct EvictArgs {
    #[command(flatten)]
    pub key: KeyArgs,

    /// The command line whose entry to forget
    #[arg(value_name = "COMMAND", trailing_var_arg = true, required_unless_present = "extra")]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct ClearArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Only entries with this scope
    #[arg(long, value_name = "NAME")]
    pub scope: Option<OsString>,

    /// Only entries past the lifetime they were recorded with
    #[arg(long)]
    pub expired: bool,

    /// Only entries older than this
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub older_than: Option<std::time::Duration>,

    /// Only entries whose program name or whole command line matches this glob
    #[arg(long, value_name = "PATTERN")]
    pub command: Option<String>,

    /// Also remove every entry in the remote tier (CACHECMD_REMOTE or config `remote`)
    #[arg(long)]
    pub remote: bool,
}

/// The colour switch of the subcommands that print reports.
#[derive(Debug, Args)]
pub struct ColorArgs {
    /// Colour the report: auto (only on a terminal, and never with NO_COLOR set), always or never
    // Values listed in the text: clap's list is malformed roff in the man page.
    #[arg(
        long,
        value_enum,
        env = "CACHECMD_COLOR",
        value_name = "WHEN",
        default_value_t,
        hide_possible_values = true
    )]
    pub color: ColorWhen,
}

#[derive(Debug, Args)]
pub struct GcArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub limits: LimitArgs,

    /// Started by a miss: quit at once if another gc is running
    #[arg(long, hide = true)]
    pub auto: bool,
}
