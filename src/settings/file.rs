//! The config file: where it is, its schema, and refusing one that others
//! could have written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::SettingsError;

/// The config file's contents; every field optional, unknown fields refused
/// so a typo is reported instead of silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConfigFile {
    pub ttl: Option<String>,
    pub failure_ttl: Option<String>,
    pub cache_exit_codes: Option<String>,
    pub miss_status: Option<u8>,
    pub cache_dir: Option<PathBuf>,
    pub env: Option<Vec<String>>,
    pub lock_timeout: Option<String>,
    pub max_entry_size: Option<SizeValue>,
    pub max_size: Option<SizeValue>,
    pub max_entries: Option<u64>,
    pub remote: Option<String>,
    pub remote_read_only: Option<bool>,
    pub remote_max_entry_size: Option<SizeValue>,
    pub remote_mode: Option<String>,
    pub remote_timeout: Option<String>,
    pub remote_signing_key_file: Option<PathBuf>,
    pub s3_endpoint: Option<String>,
    pub expires_from: Option<String>,
    pub expiry_margin: Option<String>,
    pub trace_inputs: Option<bool>,
    pub trace_ignore: Option<Vec<String>>,
}

/// A size as a byte count or as text such as `64 MiB`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum SizeValue {
    Bytes(u64),
    Text(String),
}

/// `CACHECMD_CONFIG` (unless empty), else `$XDG_CONFIG_HOME/cachecmd/config.toml`;
/// `None` when there is no home to look in. A file named by the variable
/// must exist: a typo there would otherwise silently drop the config.
pub(super) fn path() -> Result<Option<PathBuf>, SettingsError> {
    match super::env_path("CACHECMD_CONFIG") {
        Some(path) if !path.exists() => Err(SettingsError::Invalid(format!(
            "CACHECMD_CONFIG: {}: no such file",
            path.display()
        ))),
        Some(path) => Ok(Some(path)),
        None => Ok(directories::ProjectDirs::from("", "", "cachecmd")
            .map(|dirs| dirs.config_dir().join("config.toml"))),
    }
}

/// The config file's contents, or one line saying where it is wrong: the
/// line, and the key when the value is at fault.
pub(super) fn parse(text: &str) -> Result<ConfigFile, String> {
    toml::from_str(text).map_err(|e: toml::de::Error| {
        let message = e.message().trim_end();
        let Some(start) = e.span().map(|span| span.start.min(text.len())) else {
            return message.to_string();
        };
        let line_start = text[..start].rfind('\n').map_or(0, |at| at + 1);
        let line = text[..start].matches('\n').count() + 1;
        // `key = value` with the span on the value: name the key.
        match text[line_start..start].trim().strip_suffix('=') {
            Some(key) if !key.trim().is_empty() => {
                format!("line {line}: {}: {message}", key.trim())
            }
            _ => format!("line {line}: {message}"),
        }
    })
}

/// The line (from 1) where `key` is set, for errors found after parsing.
pub(super) fn line_of_key(text: &str, key: &str) -> Option<usize> {
    values(text).remove(key).map(|(_, line)| line)
}

/// Every top-level key of the file with its value and the line (from 1)
/// the value starts on, from the parser's own spans: quoted keys and
/// values over several lines are placed right. Empty when unparsable
/// (`parse` reports that).
pub(super) fn values(text: &str) -> BTreeMap<String, (toml::Value, usize)> {
    let Ok(table) = toml::from_str::<BTreeMap<String, toml::Spanned<toml::Value>>>(text) else {
        return BTreeMap::new();
    };
    let line = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
    table
        .into_iter()
        .map(|(key, value)| {
            let at = line(value.span().start);
            (key, (value.into_inner(), at))
        })
        .collect()
}

/// The config file's text; `None` when it is missing, or when others could
/// have written it (a planted `cache_dir` or `env` would redirect or leak
/// our outputs), which is ignored with a warning.
pub(super) fn read_private(path: &Path) -> std::io::Result<Option<String>> {
    use std::io::Read;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    // Non-blocking, so a FIFO at the path cannot hang every run in open().
    let opened = std::fs::File::options().read(true).custom_flags(libc::O_NONBLOCK).open(path);
    let mut file = match opened {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        crate::diag::warn(format_args!(
            "ignoring config file {}: it is writable by others (mode {mode:04o}); \
             fix with: chmod go-w {}",
            path.display(),
            path.display()
        ));
        return Ok(None);
    }
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_placed_on_their_lines() {
        let text = "# a comment\nttl = \"1h\"\n\n\"max_size\" = 10\nenv = [\n  \"A\",\n]\n";
        let values = values(text);
        assert_eq!(values["ttl"], (toml::Value::String("1h".into()), 2));
        assert_eq!(values["max_size"].1, 4);
        assert_eq!(values["env"].1, 5);
        assert_eq!(line_of_key(text, "env"), Some(5));
        assert_eq!(line_of_key(text, "remote"), None);
        assert!(super::values("ttl = ").is_empty());
    }
}
