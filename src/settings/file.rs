//! The config file: where it is, its schema, and refusing one that others
//! could have written.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The config file's contents; every field optional, unknown fields refused
/// so a typo is reported instead of silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConfigFile {
    pub ttl: Option<String>,
    pub failure_ttl: Option<String>,
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
}

/// A size as a byte count or as text such as `64 MiB`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum SizeValue {
    Bytes(u64),
    Text(String),
}

/// `CACHECMD_CONFIG` (unless empty), else `$XDG_CONFIG_HOME/cachecmd/config.toml`;
/// `None` when there is no home to look in.
pub(super) fn path() -> Option<PathBuf> {
    match super::env_path("CACHECMD_CONFIG") {
        Some(path) => Some(path),
        None => directories::ProjectDirs::from("", "", "cachecmd")
            .map(|dirs| dirs.config_dir().join("config.toml")),
    }
}

/// The config file's text; `None` when it is missing, or when others could
/// have written it (a planted `cache_dir` or `env` would redirect or leak
/// our outputs), which is ignored with a warning.
pub(super) fn read_private(path: &Path) -> std::io::Result<Option<String>> {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mode = file.metadata()?.mode() & 0o7777;
    if mode & 0o022 != 0 {
        crate::error::warn(format_args!(
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
