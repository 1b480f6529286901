//! The command-line declaration only; meaning (config defaults, validation)
//! is in `settings`, what clap cannot declare (options before a subcommand) in `args.rs`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::builder::TypedValueParser as _;
use clap::{Args, Parser, Subcommand, ValueHint};

pub use crate::format::ColorWhen;
use crate::units::{parse_count, parse_lifetime, parse_size, parse_timeout, Lifetime};

mod expiry;
pub use expiry::{ExpiresFromArgs, ExpiryMarginArgs};
mod examples;
mod generated;
mod lookup_only;
mod trace;
use examples::EXAMPLES;
pub use generated::{CompleteKeysArgs, CompletionsArgs, Generated, ManArgs};
pub use lookup_only::LookupOnlyArgs;
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
    /// Run a command traced; print the files it read that no --input covers (exit 1 if any)
    Audit(AuditArgs),
    #[command(flatten)]
    Generated(Generated),
}

/// Options of run mode.
#[derive(Debug, Args)]
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
#[derive(Debug, Args)]
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
#[derive(Debug, Args)]
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

/// The shared tier. Secrets (password, token, signing key) come only from
/// the environment or files, never from flags, and help never shows them.
#[derive(Debug, Args)]
pub struct RemoteArgs {
    /// Share entries through a remote store: `redis://[user:pass@]host:port/db`, `rediss://` (TLS), `http[s]://host/prefix`, `s3://bucket/prefix`
    #[arg(long = "remote", env = "CACHECMD_REMOTE", hide_env_values = true, value_name = "URL", value_hint = ValueHint::Url)]
    pub url: Option<String>,

    /// Which way entries flow: read-write, read-only (untrusted jobs), write-only (never serve remote entries) [default: read-write]
    #[arg(
        long = "remote-mode",
        env = "CACHECMD_REMOTE_MODE",
        value_name = "MODE",
        hide_possible_values = true,
        value_parser = clap::builder::PossibleValuesParser::new(crate::store::remote::RemoteMode::NAMES)
    )]
    pub mode: Option<String>,

    /// Alias of `--remote-mode read-only`
    #[arg(long = "remote-read-only", env = "CACHECMD_REMOTE_READ_ONLY", value_parser = clap::builder::BoolishValueParser::new())]
    pub read_only: bool,

    /// Deadline of one whole remote lookup or upload (connect, transfer, checks) [default: 2s]
    #[arg(long = "remote-timeout", env = "CACHECMD_REMOTE_TIMEOUT", value_name = "DURATION", value_parser = parse_timeout)]
    pub timeout: Option<std::time::Duration>,
}

/// Size limits, enforced by `gc` (and the automatic background gc).
#[derive(Debug, Args)]
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
pub struct ListArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub color: ColorArgs,

    /// Only entries with this scope
    #[arg(long, value_name = "NAME")]
    pub scope: Option<OsString>,

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

#[derive(Debug, Args)]
pub struct KeyCommandArgs {
    #[command(flatten)]
    pub key: KeyArgs,

    /// Print each part of the key (values of variables only as digests)
    #[arg(long)]
    pub explain: bool,

    /// The command line to compute the key of
    #[arg(value_name = "COMMAND", required = true, trailing_var_arg = true)]
    pub command: Vec<OsString>,
}
