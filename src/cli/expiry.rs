//! The flags of an expiry read from the command's own output.

use clap::Args;

/// Part of the key: a different PATH reads a different expiry.
#[derive(Debug, Default, Args)]
pub struct ExpiresFromArgs {
    /// Expire the entry when stdout (JSON) says: the instant, epoch seconds or seconds left at this JSON Pointer (`/Credentials/Expiration`) or `$.dotted.path`
    #[arg(long, env = "CACHECMD_EXPIRES_FROM", value_name = "PATH")]
    pub expires_from: Option<String>,
}

/// How long before that instant the entry already counts as expired.
#[derive(Debug, Default, Args)]
pub struct ExpiryMarginArgs {
    /// Treat an entry as expired this long before its absolute expiry; with --stale, refresh inside it [default: 0s]
    #[arg(long, env = "CACHECMD_EXPIRY_MARGIN", value_name = "DURATION", value_parser = crate::expiry::parse_margin)]
    pub expiry_margin: Option<std::time::Duration>,
}
