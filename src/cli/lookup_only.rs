//! The flags that read the cache without running the command, and the
//! exit-status policy of what a run may leave in it.

use clap::Args;

/// Lookups that never run the command, and which exit statuses are cached.
#[derive(Debug, Default, Args)]
pub struct LookupOnlyArgs {
    /// Serve a fresh entry as a hit; on a miss print nothing, run nothing and exit with --miss-status
    #[arg(long, conflicts_with_all = ["check", "force", "warm"])]
    pub cached_only: bool,

    /// Print nothing, run nothing: exit 0 when a fresh entry exists, else with --miss-status
    #[arg(long, conflicts_with_all = ["force", "warm"])]
    pub check: bool,

    /// The exit status of a miss under --cached-only or --check [default: 3]
    #[arg(long, env = "CACHECMD_MISS_STATUS", value_name = "N", value_parser = clap::value_parser!(u8))]
    pub miss_status: Option<u8>,

    /// Exit statuses that are cached, e.g. `0,1,100-199`; non-zero ones live for --failure-ttl (else --ttl) [default: 0, and all with --failure-ttl]
    #[arg(long, env = "CACHECMD_CACHE_EXIT_CODES", value_name = "LIST")]
    pub cache_exit_codes: Option<String>,
}
