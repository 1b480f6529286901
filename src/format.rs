//! Human-readable sizes, ages, command lines and colour for `list`, `show`,
//! `stats`.

/// When a report may use colour (`--color`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    #[default]
    Auto,
    Always,
    Never,
}

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use anstream::{AutoStream, ColorChoice};
use anstyle::Style;

/// `0 B`, `4.0 KiB`, `64.0 MiB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The largest whole unit: `45s`, `12m`, `3h`, `2d`.
pub fn age(duration: Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86400),
    }
}

/// A run time: `850ms`, `1.2s`, `45s`, `2m 5s`, `1h 3m`, `2d 4h`.
pub fn millis(ms: u64) -> String {
    let secs = ms / 1000;
    match ms {
        0..1000 => format!("{ms}ms"),
        1000..10_000 => format!("{}.{}s", secs, ms % 1000 / 100),
        10_000..60_000 => format!("{secs}s"),
        60_000..3_600_000 => two_units(secs, 60, "m", "s"),
        3_600_000..86_400_000 => two_units(secs / 60, 60, "h", "m"),
        _ => two_units(secs / 3600, 24, "d", "h"),
    }
}

fn two_units(n: u64, per: u64, big: &str, small: &str) -> String {
    match n % per {
        0 => format!("{}{big}", n / per),
        rest => format!("{}{big} {rest}{small}", n / per),
    }
}

/// The width a report line may take: `Some` only when stdout is a
/// terminal, from `COLUMNS` when it holds a number, else from the terminal.
pub fn terminal_width() -> Option<usize> {
    use std::io::IsTerminal as _;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let columns = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse().ok());
    columns.filter(|c: &usize| *c > 0).or_else(|| {
        terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| usize::from(w.0))
    })
}

/// `line` cut to `width` characters, the last of them `…` when anything
/// was cut.
pub fn truncate(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        return line.to_string();
    }
    let mut out: String = line.chars().take(width.saturating_sub(1)).collect();
    if width > 0 {
        out.push('…');
    }
    out
}

/// A directory as a listing shows it: `~` for the home directory, shell
/// quoted (so control characters are escaped).
pub fn dir(path: &OsStr, home: Option<&OsStr>) -> String {
    let bytes = path.as_bytes();
    if let Some(home) = home.map(OsStr::as_bytes).filter(|h| h.len() > 1) {
        if let Some(rest) = bytes.strip_prefix(home) {
            if rest.is_empty() {
                return "~".into();
            }
            if rest.starts_with(b"/") {
                return format!("~{}", shell_word(OsStr::from_bytes(rest)));
            }
        }
    }
    shell_word(path)
}

/// One argument as a POSIX shell would need it: bare when safe, else single
/// quoted, else (control characters inside) `$'...'` with escapes, so a
/// listing can never carry a terminal escape sequence.
pub fn shell_word(arg: &OsStr) -> String {
    let bytes = arg.as_bytes();
    let safe = |b: &u8| b.is_ascii_alphanumeric() || b"-_./=:,+@%^".contains(b);
    if !bytes.is_empty() && bytes.iter().all(safe) {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let text = std::str::from_utf8(bytes).ok();
    let printable = text.is_some_and(|t| !t.chars().any(char::is_control));
    if printable {
        return format!("'{}'", text.unwrap_or_default().replace('\'', r"'\''"));
    }
    let mut out = String::from("$'");
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str(r"\n"),
                '\t' => out.push_str(r"\t"),
                '\r' => out.push_str(r"\r"),
                '\\' => out.push_str(r"\\"),
                '\'' => out.push_str(r"\'"),
                c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('\'');
    out
}

pub fn command_line<'a>(argv: impl IntoIterator<Item = &'a OsStr>) -> String {
    argv.into_iter().map(shell_word).collect::<Vec<_>>().join(" ")
}

/// Table headers and field names.
pub const HEADING: Style = Style::new().bold();
/// What the eye may skip (a row's key).
pub const QUIET: Style = Style::new().dimmed();

/// Stdout for a report: styles pass through or are stripped as `when`
/// says (`auto`: only on a terminal, and never with `NO_COLOR` set).
pub fn report_stdout(when: ColorWhen) -> AutoStream<std::io::Stdout> {
    let choice = match when {
        ColorWhen::Auto => ColorChoice::Auto,
        ColorWhen::Always => ColorChoice::Always,
        ColorWhen::Never => ColorChoice::Never,
    };
    AutoStream::new(std::io::stdout(), choice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;

    #[test]
    fn sizes_are_binary_and_short() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(4096), "4.0 KiB");
        assert_eq!(size(64 << 20), "64.0 MiB");
    }

    #[test]
    fn ages_use_the_largest_unit() {
        assert_eq!(age(Duration::from_secs(59)), "59s");
        assert_eq!(age(Duration::from_secs(600)), "10m");
        assert_eq!(age(Duration::from_secs(7200)), "2h");
        assert_eq!(age(Duration::from_secs(3 * 86400)), "3d");
    }

    #[test]
    fn run_times_keep_two_units_at_most() {
        assert_eq!(millis(0), "0ms");
        assert_eq!(millis(850), "850ms");
        assert_eq!(millis(1250), "1.2s");
        assert_eq!(millis(45_000), "45s");
        assert_eq!(millis(125_000), "2m 5s");
        assert_eq!(millis(3_780_000), "1h 3m");
        assert_eq!(millis(7_200_000), "2h");
        assert_eq!(millis(187_200_000), "2d 4h");
    }

    #[test]
    fn lines_are_cut_to_the_width_with_an_ellipsis() {
        assert_eq!(truncate("make test", 20), "make test");
        assert_eq!(truncate("make test", 9), "make test");
        assert_eq!(truncate("make test", 8), "make te…");
        assert_eq!(truncate("héllo wörld", 5), "héll…");
        assert_eq!(truncate("abc", 1), "…");
        assert_eq!(truncate("abc", 0), "");
    }

    #[test]
    fn directories_under_home_are_abbreviated() {
        let home = Some(OsStr::new("/home/me"));
        assert_eq!(dir(OsStr::new("/home/me"), home), "~");
        assert_eq!(dir(OsStr::new("/home/me/src/x"), home), "~/src/x");
        assert_eq!(dir(OsStr::new("/home/me/a b"), home), "~'/a b'");
        assert_eq!(dir(OsStr::new("/home/meow"), home), "/home/meow");
        assert_eq!(dir(OsStr::new("/srv"), None), "/srv");
        assert_eq!(dir(OsStr::new("/home/me/x"), Some(OsStr::new("/"))), "/home/me/x");
    }

    #[test]
    fn shell_words_are_quoted_and_escaped() {
        assert_eq!(shell_word(OsStr::new("ls")), "ls");
        assert_eq!(shell_word(OsStr::new("a b")), "'a b'");
        assert_eq!(shell_word(OsStr::new("it's")), r"'it'\''s'");
        assert_eq!(shell_word(OsStr::new("")), "''");
        assert_eq!(shell_word(OsStr::new("\x1b[31mred")), r"$'\x1b[31mred'");
        assert_eq!(shell_word(&OsString::from_vec(vec![b'a', 0xff])), r"$'a\xff'");
    }
}
