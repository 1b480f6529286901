//! Size limits: per entry, per cache, per remote value; a flag wins over
//! the config file, which wins over the default.

use super::file::SizeValue;
use super::{Config, SettingsError};
use crate::cli::LimitArgs;
use crate::gc::Limits;
use crate::units::parse_size;

pub const DEFAULT_MAX_ENTRY_SIZE: u64 = 1 << 30;
pub const DEFAULT_MAX_SIZE: u64 = 1 << 30;
pub const DEFAULT_REMOTE_MAX_ENTRY_SIZE: u64 = 64 << 20;

impl Config {
    pub(super) fn size(
        &self,
        key: &str,
        flag: Option<u64>,
        file: &Option<SizeValue>,
        default: u64,
    ) -> Result<u64, SettingsError> {
        match (flag, file) {
            (Some(size), _) => Ok(size),
            (None, Some(SizeValue::Bytes(size))) => Ok(*size),
            (None, Some(SizeValue::Text(text))) => parse_size(text).map_err(|m| self.error(key, m)),
            (None, None) => Ok(default),
        }
    }

    pub fn limits(&self, args: &LimitArgs) -> Result<Limits, SettingsError> {
        Ok(Limits {
            max_size: self.size(
                "max_size",
                args.max_size,
                &self.file.max_size,
                DEFAULT_MAX_SIZE,
            )?,
            max_entries: args.max_entries.or(self.file.max_entries),
        })
    }
}
