//! Capturing a key: the validated key settings (`KeySpec`) read against
//! the world now (environment, files, stdin) into `KeyMaterial`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSetBuilder};
use thiserror::Error;

use super::inputs::{self, DigestCache, InputError};
use super::{KeyMaterial, SpooledStdin};
use crate::spool;

/// What goes into a key besides the command line: validated from flags,
/// environment and config file (`Config::key` in settings.rs), not yet read
/// against the world; [`KeySpec::capture`] does that.
///
/// To add a key input:
/// 1. declare its flag in `KeyArgs` (cli.rs, clap only);
/// 2. add a field here and fill it in `Config::key` (settings.rs);
/// 3. in this folder: read its value in `capture` into a new field of
///    `KeyMaterial`, pass it through `KeyMaterial::view` to `KeyView`,
///    encode it in `KeyView::key` (material.rs) only when used and after
///    every existing field, so existing keys stay what they were, and show
///    it in `KeyMaterial::explain` (explain.rs).
#[derive(Debug, Clone)]
pub struct KeySpec {
    /// `--env` names and globs, after the config file's `env`.
    pub env_patterns: Vec<String>,
    /// bkt's `--env` (cachecmd invoked as `bkt`): literal names, keyed only
    /// while set. An unset one is left out of the key, as bkt does, where
    /// `env_patterns` keys it as unset.
    pub env_if_set: Vec<OsString>,
    /// The directory keyed, read at start-up; `None` with `--no-cwd`
    /// (relative paths are then still taken from the current directory).
    pub cwd: Option<PathBuf>,
    pub scope: Option<OsString>,
    /// `--key` strings.
    pub extra: Vec<OsString>,
    /// `--input` paths, directories and globs.
    pub inputs: Vec<String>,
    /// `--modtime` paths.
    pub modtimes: Vec<OsString>,
    pub stdin: bool,
    /// `--output` paths as given; part of the key (a different set of
    /// outputs is a different archive).
    pub outputs: Vec<OsString>,
    /// `--expires-from` PATH as given: a different path reads a different
    /// expiry, so it is a different entry.
    pub expires_from: Option<String>,
    /// `--trace-inputs` (flag, `CACHECMD_TRACE_INPUTS` or config).
    pub trace_inputs: bool,
    /// `--trace-ignore` globs after the config file's (checked); not keyed.
    pub trace_ignore: Vec<String>,
}

#[derive(Debug, Error)]
pub enum CaptureError {
    #[error(transparent)]
    Env(#[from] EnvPatternError),
    #[error(transparent)]
    Input(#[from] InputError),
    /// The current directory is gone or unreadable: nothing to key on.
    #[error("cannot read the current directory: {0}")]
    Cwd(std::io::Error),
    /// Spooling stdin.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Error)]
#[error("--env pattern '{pattern}': {message}")]
pub struct EnvPatternError {
    pattern: String,
    message: String,
}

impl KeySpec {
    /// The material of `argv`'s key, reading the environment, input files
    /// (through `cache`) and, with `--stdin`, stdin now.
    pub fn capture(
        &self,
        argv: &[OsString],
        cache: &mut dyn DigestCache,
    ) -> Result<KeyMaterial, CaptureError> {
        let mut env = select_env(&self.env_patterns)?;
        for name in &self.env_if_set {
            if let Some(value) = std::env::var_os(name) {
                env.insert(name.clone(), Some(value));
            }
        }
        let cwd = match &self.cwd {
            Some(cwd) => cwd.clone(),
            None => std::env::current_dir().map_err(CaptureError::Cwd)?,
        };
        let inputs = if self.inputs.is_empty() {
            None
        } else {
            Some(inputs::collect(&self.inputs, &cwd, cache)?)
        };
        let modtimes = self.modtimes.iter().map(|path| (path.clone(), mtime_ns(&cwd.join(path))));
        let modtimes = modtimes.collect();
        let stdin = if self.stdin {
            let (file, digest) = spool::stdin()?;
            Some(SpooledStdin { file, digest })
        } else {
            None
        };
        Ok(KeyMaterial {
            argv: argv.to_vec(),
            cwd: self.cwd.clone(),
            env,
            scope: self.scope.clone(),
            extra: self.extra.clone(),
            inputs,
            modtimes,
            stdin,
            outputs: self.outputs.clone(),
            expires_from: self.expires_from.clone(),
            trace: self.trace_inputs,
        })
    }
}

/// A file's mtime in nanoseconds (following symlinks); `None` if absent.
fn mtime_ns(path: &Path) -> Option<i64> {
    let meta = std::fs::metadata(path).ok()?;
    Some(meta.mtime().saturating_mul(1_000_000_000).saturating_add(meta.mtime_nsec()))
}

/// An `--env` pattern compiled when it is a glob (`None` for a plain
/// name); the error says what is wrong with it. Settings check every pattern
/// with it, so a bad one is refused naming where it came from.
pub fn env_glob(pattern: &str) -> Result<Option<Glob>, String> {
    if pattern.is_empty() {
        return Err("a variable name cannot be empty".into());
    }
    if pattern.contains('=') {
        return Err("a variable name cannot contain '='".into());
    }
    if !pattern.contains(['*', '?', '[']) {
        return Ok(None);
    }
    Glob::new(pattern).map(Some).map_err(|e| e.kind().to_string())
}

/// Reads the selected variables from the process environment. Literal names
/// are keyed even when unset; glob patterns key every variable they match.
pub fn select_env(
    patterns: &[String],
) -> Result<BTreeMap<OsString, Option<OsString>>, EnvPatternError> {
    let mut selected = BTreeMap::new();
    let mut globs = GlobSetBuilder::new();
    let mut any_glob = false;
    for pattern in patterns {
        let glob = env_glob(pattern)
            .map_err(|message| EnvPatternError { pattern: pattern.clone(), message })?;
        if let Some(glob) = glob {
            globs.add(glob);
            any_glob = true;
        } else {
            selected.insert(OsString::from(pattern), std::env::var_os(pattern));
        }
    }
    if any_glob {
        let globs = globs
            .build()
            .map_err(|e| EnvPatternError { pattern: patterns.join(" "), message: e.to_string() })?;
        for (name, value) in std::env::vars_os() {
            if globs.is_match(Path::new(&name)) {
                selected.insert(name, Some(value));
            }
        }
    }
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::inputs::NoCache;
    use std::ffi::OsStr;

    fn spec(env_patterns: &[&str], env_if_set: &[&str]) -> KeySpec {
        KeySpec {
            env_patterns: env_patterns.iter().map(|s| s.to_string()).collect(),
            env_if_set: env_if_set.iter().map(OsString::from).collect(),
            cwd: None,
            scope: None,
            extra: Vec::new(),
            inputs: Vec::new(),
            modtimes: Vec::new(),
            stdin: false,
            outputs: Vec::new(),
            expires_from: None,
            trace_inputs: false,
            trace_ignore: Vec::new(),
        }
    }

    #[test]
    fn bkt_names_are_keyed_only_while_set() {
        // PATH is set in any test process; the other name in none.
        let unset = "CACHECMD_TEST_NEVER_SET_4711";
        assert!(std::env::var_os(unset).is_none());
        let argv = [OsString::from("true")];
        let capture = |spec: KeySpec| spec.capture(&argv, &mut NoCache).unwrap();
        let bkt = capture(spec(&[], &["PATH", unset]));
        assert_eq!(bkt.env.keys().collect::<Vec<_>>(), ["PATH"]);
        assert_eq!(bkt.env[OsStr::new("PATH")], std::env::var_os("PATH"));
        // Left out, so the key is that of a run without the name...
        assert_eq!(bkt.key(), capture(spec(&[], &["PATH"])).key());
        // ...where cachecmd's --env keys it as unset: another key.
        let cachecmd = capture(spec(&["PATH", unset], &[]));
        assert_eq!(cachecmd.env[OsStr::new(unset)], None);
        assert_ne!(bkt.key(), cachecmd.key());
        // A name is literal, never a glob.
        assert!(capture(spec(&[], &["PAT*"])).env.is_empty());
    }
}
