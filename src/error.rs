//! The one error type of cachecmd's own failures, its exit status, and the
//! one printer for everything cachecmd says on stderr.
//!
//! Messages quote paths, patterns, URLs and key prefixes that came from the
//! user, the environment or the file system; the printer escapes control
//! characters in them so a crafted name can never drive the terminal.

use thiserror::Error;

pub use crate::diag::{escape, warn};
use crate::exit_codes;
use crate::key::CaptureError;
use crate::outputs::OutputError;
use crate::settings::SettingsError;
use crate::store::remote::RemoteError;
use crate::store::StoreError;

/// Why cachecmd itself (not the command it runs) failed.
#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Remote(#[from] RemoteError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// A combination of flags that cannot work.
    #[error("{0}")]
    Usage(String),
    /// The entry asked for does not exist (or the prefix names none or
    /// several).
    #[error("{0}")]
    NoEntry(String),
}

impl Error {
    /// The status cachecmd exits with for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::NoEntry(_) => exit_codes::NO_ENTRY,
            _ => exit_codes::USAGE,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Prints `e` as one `cachecmd:` line; returns its exit status.
pub fn report(e: &Error) -> i32 {
    warn(e);
    e.exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_kind() {
        assert_eq!(Error::NoEntry("x".into()).exit_code(), exit_codes::NO_ENTRY);
        assert_eq!(Error::NoEntry("x".into()).exit_code(), 1);
        assert_eq!(Error::Usage("x".into()).exit_code(), exit_codes::USAGE);
        let settings = SettingsError::NoCacheDir;
        assert_eq!(Error::from(settings).exit_code(), 125);
        let io = std::io::Error::other("disk on fire");
        assert_eq!(Error::from(io).exit_code(), 125);
    }

    #[test]
    fn messages_keep_their_text() {
        let e = Error::NoEntry("no entry has a key starting with 'ab'".into());
        assert_eq!(e.to_string(), "no entry has a key starting with 'ab'");
    }
}
