//! Lookups that never run the command (`--cached-only`, `--check`) and the
//! exit-status policy (`--cache-exit-codes`).

use super::{Config, SettingsError};
use crate::cli::LookupOnlyArgs;
use crate::freshness::ExitCodes;

pub use crate::exit_codes::MISS as DEFAULT_MISS_STATUS;

const EXIT_CODES_VAR: &str = "CACHECMD_CACHE_EXIT_CODES";

/// A run that only reads the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupOnly {
    /// `--cached-only`: replay a fresh entry, else exit with the miss status.
    CachedOnly,
    /// `--check`: exit 0 when a fresh entry exists, else the miss status.
    Check,
}

impl LookupOnly {
    pub(super) fn from_args(args: &LookupOnlyArgs) -> Option<LookupOnly> {
        if args.cached_only {
            Some(LookupOnly::CachedOnly)
        } else if args.check {
            Some(LookupOnly::Check)
        } else {
            None
        }
    }
}

impl Config {
    /// `--miss-status` (or its variable), else config `miss_status`, else 3.
    pub fn miss_status(&self, args: &LookupOnlyArgs) -> i32 {
        args.miss_status.or(self.file.miss_status).map_or(DEFAULT_MISS_STATUS, i32::from)
    }

    /// `--cache-exit-codes` (or its variable), else config `cache_exit_codes`;
    /// a bad list names where it came from.
    pub(super) fn cache_exit_codes(
        &self,
        args: &LookupOnlyArgs,
    ) -> Result<Option<ExitCodes>, SettingsError> {
        let flag = super::given(args.cache_exit_codes.as_ref(), EXIT_CODES_VAR);
        if let Some(text) = flag {
            let from_env = std::env::var(EXIT_CODES_VAR).is_ok_and(|v| &v == text);
            let name = if from_env { EXIT_CODES_VAR } else { "--cache-exit-codes" };
            let codes = ExitCodes::parse(text);
            return codes.map(Some).map_err(|m| SettingsError::Invalid(format!("{name}: {m}")));
        }
        match &self.file.cache_exit_codes {
            Some(text) => {
                ExitCodes::parse(text).map(Some).map_err(|m| self.error("cache_exit_codes", m))
            }
            None => Ok(None),
        }
    }
}
