//! The one stderr printer of cachecmd's own messages: a `cachecmd:` prefix,
//! one write per line, and control characters in names and paths escaped so
//! a crafted file name can never drive the terminal. A leaf: every layer
//! may print through it.

use std::fmt::{self, Display, Write as _};
use std::io::Write as _;

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
}
