//! One file per subcommand; `run` is the default mode.

pub mod clear;
pub mod evict;
pub mod gc;
pub mod key;
pub mod list;
pub mod remote_admin;
pub mod run;
pub mod show;
pub mod stats;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::File;
use std::os::unix::fs::MetadataExt;

use crate::inputs::{self, Input};
use crate::key::{select_env, Key, KeyMaterial};
use crate::settings::KeySettings;
use crate::spool;
use crate::store::disk::DiskStore;

/// Everything read from the outside world to build a key.
pub struct KeyParts {
    pub env: BTreeMap<OsString, Option<OsString>>,
    pub inputs: Option<Vec<Input>>,
    pub modtimes: Vec<(OsString, Option<i64>)>,
    /// With `--stdin`: the spooled bytes (to feed the command) and their digest.
    pub stdin: Option<(File, [u8; 32])>,
}

/// The key of `command` under `settings`, reading the environment, input
/// files and (with `--stdin`) stdin now. `stat_cache` is the store that
/// keeps the input stat cache, when the cache dir is usable.
pub fn key_for(
    settings: &KeySettings,
    command: &[OsString],
    stat_cache: Option<&DiskStore>,
) -> anyhow::Result<(Key, KeyParts)> {
    let env = select_env(&settings.env_patterns)?;
    let cwd = match &settings.cwd {
        Some(cwd) => cwd.clone(),
        None => std::env::current_dir()?,
    };
    let inputs = if settings.inputs.is_empty() {
        None
    } else {
        Some(inputs::collect(&settings.inputs, &cwd, stat_cache)?)
    };
    let modtimes = settings
        .modtimes
        .iter()
        .map(|path| {
            let mtime = std::fs::metadata(cwd.join(path))
                .ok()
                .map(|m| m.mtime().saturating_mul(1_000_000_000).saturating_add(m.mtime_nsec()));
            (path.clone(), mtime)
        })
        .collect();
    let stdin = if settings.stdin { Some(spool::stdin()?) } else { None };
    let parts = KeyParts { env, inputs, modtimes, stdin };
    let key = KeyMaterial {
        argv: command,
        cwd: settings.cwd.as_deref(),
        env: parts.env.clone(),
        scope: settings.scope.as_deref(),
        extra: &settings.extra,
        inputs: parts.inputs.as_deref(),
        modtimes: &parts.modtimes,
        stdin: parts.stdin.as_ref().map(|(_, digest)| *digest),
        outputs: &settings.outputs,
    }
    .key();
    Ok((key, parts))
}
