//! The one error type of cachecmd's own failures, its exit status, and the
//! one printer for everything cachecmd says on stderr.
//!
//! Messages quote paths, patterns, URLs and key prefixes that came from the
//! user, the environment or the file system; the printer escapes control
//! characters in them so a crafted name can never drive the terminal.

use std::fmt::{self, Display, Write as _};
use std::io::Write as _;

use thiserror::Error;

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

/// Prints one `cachecmd: MESSAGE` line on stderr, control characters escaped.
pub fn warn(message: impl Display) {
    let mut line = String::from("cachecmd: ");
    let _ = write!(Escaper(&mut line), "{message}");
    line.push('\n');
    // One write, so concurrent runs sharing a stderr do not interleave
    // halves of lines.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// `text` with every control character (C0, DEL, C1) shown as an escape.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let _ = Escaper(&mut out).write_str(text);
    out
}

/// A `fmt::Write` that escapes as it appends, so the message is never held
/// unescaped.
struct Escaper<'a>(&'a mut String);

impl fmt::Write for Escaper<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for c in text.chars() {
            match c {
                '\n' => self.0.push_str(r"\n"),
                '\t' => self.0.push_str(r"\t"),
                '\r' => self.0.push_str(r"\r"),
                c if u32::from(c) < 0x80 && c.is_control() => {
                    write!(self.0, "\\x{:02x}", u32::from(c))?;
                }
                c if c.is_control() => write!(self.0, "\\u{{{:x}}}", u32::from(c))?,
                c => self.0.push(c),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape("/tmp/x\x1b[31m/y"), r"/tmp/x\x1b[31m/y");
        assert_eq!(escape("a\nb\tc\rd"), r"a\nb\tc\rd");
        assert_eq!(escape("\x00\x07\x7f"), r"\x00\x07\x7f");
        // C1 controls: U+009B is a one-character CSI on some terminals.
        assert_eq!(escape("\u{9b}31m\u{85}"), r"\u{9b}31m\u{85}");
        assert_eq!(escape("plain é ü ✓ 'q'"), "plain é ü ✓ 'q'");
    }

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
