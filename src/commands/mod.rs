//! One file per subcommand; `run` is the default mode.

pub mod clear;
pub mod evict;
pub mod gc;
pub mod key;
pub mod list;
pub mod run;
pub mod show;
pub mod stats;

use std::ffi::OsString;

use crate::key::{select_env, EnvPatternError, Key, KeyMaterial};
use crate::settings::KeySettings;

/// The key of `command` under `settings`, reading the environment now.
pub fn key_for(settings: &KeySettings, command: &[OsString]) -> Result<Key, EnvPatternError> {
    let env = select_env(&settings.env_patterns)?;
    Ok(KeyMaterial {
        argv: command,
        cwd: settings.cwd.as_deref(),
        env,
        scope: settings.scope.as_deref(),
        extra: &settings.extra,
    }
    .key())
}
