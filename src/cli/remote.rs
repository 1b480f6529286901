//! The flags of the shared tier (`--remote` and its mode and deadline).

use clap::{Args, ValueHint};

use crate::units::parse_timeout;

/// The shared tier. Secrets (password, token, signing key) come only from
/// the environment or files, never from flags, and help never shows them.
#[derive(Debug, Default, Args)]
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
