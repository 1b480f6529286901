//! bkt's command line (`cli/bkt.rs`) in cachecmd's terms: the run settings
//! of cachecmd invoked as `bkt`, with bkt's semantics where they differ.
//!
//! bkt decides what it has a flag or variable for: the TTL (required, as in
//! bkt 0.8), what is keyed (the cwd only with `--cwd`; an `--env` variable
//! only while set, a `--modtime` file only while it exists), failures (cached unless `--discard-failures`), the
//! scope, and the cache directory (`--cache-dir`/`BKT_CACHE_DIR`/
//! `BKT_TMPDIR` name a parent, as in bkt). The config file and `CACHECMD_*`
//! variables supply only what bkt has no notion of: the default cache
//! directory, the lock timeout, size limits and the remote tier. cachecmd's
//! own key settings (config `env`, `CACHECMD_ENV`, `CACHECMD_SCOPE`) do not
//! apply, so a bkt script's keys do not depend on cachecmd's configuration.

use std::path::PathBuf;
use std::time::Duration;

use super::{
    absolute, env_path, CommonSettings, Config, Freshness, RunSettings, SettingsError,
    DEFAULT_LOCK_TIMEOUT, DEFAULT_MAX_ENTRY_SIZE, DEFAULT_MISS_STATUS,
};
use crate::cli::bkt::BktCli;
use crate::cli::CommonArgs;
use crate::key::KeySpec;
use crate::units::{parse_timeout, Lifetime};

impl Config {
    /// The run settings of a bkt command line.
    pub fn bkt_run(&self, args: BktCli) -> Result<RunSettings, SettingsError> {
        if let Some(stale) = args.stale {
            if stale >= args.ttl {
                return Err(SettingsError::Invalid(format!(
                    "--stale ({}) must be less than --ttl ({})",
                    humantime::format_duration(stale),
                    humantime::format_duration(args.ttl)
                )));
            }
        }
        let extra = &args.cachecmd;
        let ttl = Lifetime::For(args.ttl);
        let lock_timeout = match (extra.lock_timeout, &self.file.lock_timeout) {
            (Some(timeout), _) => timeout,
            (None, Some(text)) => parse_timeout(text).map_err(|m| self.error("lock_timeout", m))?,
            (None, None) => DEFAULT_LOCK_TIMEOUT,
        };
        let cwd = if args.cwd {
            Some(std::env::current_dir().map_err(SettingsError::Cwd)?)
        } else {
            None
        };
        let key = KeySpec {
            env_patterns: Vec::new(),
            env_if_set: args.env,
            cwd,
            scope: args.scope,
            extra: Vec::new(),
            inputs: Vec::new(),
            // bkt leaves an absent file out of the key (as an unset --env
            // variable): the entry is then that of a run without it.
            modtimes: args.modtime.into_iter().filter(|p| std::fs::metadata(p).is_ok()).collect(),
            stdin: false,
            outputs: Vec::new(),
            expires_from: None,
            trace_inputs: false,
            trace_ignore: Vec::new(),
        };
        let freshness = Freshness {
            stale: args.stale,
            warm: args.warm,
            refresh: extra.refresh,
            retry_delay: Duration::from_secs(1),
            ttl_explicit: true,
            ..Freshness::default()
        };
        Ok(RunSettings {
            common: CommonSettings {
                cache_dir: self.bkt_cache_dir(args.cache_dir)?,
                verbose: extra.verbose,
            },
            key,
            command: args.command,
            ttl,
            // bkt caches a failure as long as a success.
            failure_ttl: (!args.discard_failures).then_some(ttl),
            cache_exit_codes: None,
            lookup_only: None,
            miss_status: DEFAULT_MISS_STATUS,
            force: args.force,
            lock_timeout,
            max_entry_size: self.size(
                "max_entry_size",
                extra.max_entry_size,
                &self.file.max_entry_size,
                DEFAULT_MAX_ENTRY_SIZE,
            )?,
            limits: self.limits(&extra.limits)?,
            freshness,
            remote: self.remote(&extra.remote)?,
        })
    }

    /// `--cache-dir`, `BKT_CACHE_DIR` or `BKT_TMPDIR` is the directory under
    /// which bkt makes its own per-user one; we make `cachecmd-u<uid>`
    /// there (a shared parent such as /dev/shm or /tmp works, as with bkt).
    /// Without any, cachecmd's own cache: `CACHECMD_DIR`, config
    /// `cache_dir`, `$XDG_CACHE_HOME/cachecmd` (private, unlike bkt's /tmp).
    fn bkt_cache_dir(&self, flag: Option<PathBuf>) -> Result<PathBuf, SettingsError> {
        let parent =
            flag.filter(|dir| !dir.as_os_str().is_empty()).or_else(|| env_path("BKT_TMPDIR"));
        match parent {
            Some(parent) => {
                let uid = rustix::process::geteuid().as_raw();
                absolute(&parent.join(format!("cachecmd-u{uid}")))
            }
            None => {
                let args = CommonArgs { cache_dir: env_path("CACHECMD_DIR"), verbose: false };
                self.common(&args).map(|common| common.cache_dir)
            }
        }
    }
}
