//! `cachecmd config`: the settings' flags, taken as given (no `env =`, no
//! parser), so that the command can tell a flag from its `CACHECMD_*`
//! variable and check each value itself, naming where it came from.

use std::path::PathBuf;

use clap::{Args, ValueHint};

/// The options that carry settings, as in a run; each is optional.
#[derive(Debug, Args)]
#[command(after_help = "Each setting comes from its flag, else its CACHECMD_* variable, \
else the config file (CACHECMD_CONFIG or $XDG_CONFIG_HOME/cachecmd/config.toml), \
else the default; the output names which (the file with the line). Secrets \
(passwords, tokens, the signing key, credentials in URLs) are never printed.")]
pub struct ConfigArgs {
    /// Print a JSON array instead of text
    #[arg(long)]
    pub json: bool,

    /// Cache directory
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub cache_dir: Option<PathBuf>,

    /// Accepted as in every subcommand; it changes nothing here
    #[arg(short, long)]
    pub verbose: bool,

    /// The TTL of a run: `30s`, `10m`, `forever`
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<String>,

    /// How long failures are cached
    #[arg(long, value_name = "DURATION")]
    pub failure_ttl: Option<String>,

    /// Which exit statuses are cached, e.g. `0,1,100-199`
    #[arg(long, value_name = "LIST")]
    pub cache_exit_codes: Option<String>,

    /// The exit status of a miss under --cached-only or --check
    #[arg(long, value_name = "N")]
    pub miss_status: Option<String>,

    /// Key on this environment variable (repeatable, adds to the config's `env`)
    #[arg(long = "env", value_name = "NAME", value_delimiter = ',')]
    pub env: Vec<String>,

    /// A namespace for entries
    #[arg(long, value_name = "NAME")]
    pub scope: Option<String>,

    /// Where the JSON output says when it expires
    #[arg(long, value_name = "PATH")]
    pub expires_from: Option<String>,

    /// How much earlier an absolute expiry counts
    #[arg(long, value_name = "DURATION")]
    pub expiry_margin: Option<String>,

    /// Longest wait for another caller running the same key
    #[arg(long, value_name = "DURATION")]
    pub lock_timeout: Option<String>,

    /// Larger outputs are not cached
    #[arg(long, value_name = "SIZE")]
    pub max_entry_size: Option<String>,

    /// gc keeps the cache under this size
    #[arg(long, value_name = "SIZE")]
    pub max_size: Option<String>,

    /// gc keeps at most this many entries
    #[arg(long, value_name = "N")]
    pub max_entries: Option<String>,

    /// The remote store's URL (shown without its secrets)
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url)]
    pub remote: Option<String>,

    /// read-write, read-only or write-only
    #[arg(long, value_name = "MODE")]
    pub remote_mode: Option<String>,

    /// Alias of `--remote-mode read-only`
    #[arg(long)]
    pub remote_read_only: bool,

    /// Deadline of one whole remote operation
    #[arg(long, value_name = "DURATION")]
    pub remote_timeout: Option<String>,
}
