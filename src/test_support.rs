//! The items the integration tests, the fuzz targets, the benchmark example
//! and the completion/man generator (xtask) reach inside the library for.
//! This is not a stable API: it exists so those tools can exercise the real
//! code, and it changes with them. The binary is the product; everything
//! else is private.

pub use crate::cli::Cli;
pub use crate::entry::{
    Bytes, DecodeError, Header, Meta, HEADER_LEN, MAX_EPOCH_SECS, MAX_META_LEN, VERSION,
};
pub use crate::generate::{files as generated_files, COMPLETIONS_DIR, MAN_DIR};
pub use crate::key::{Input, Key, KeyView, Kind};
pub use crate::outputs::{archive, restore};
pub use crate::settings::{parse_expires_at, Config, SettingsError};
pub use crate::store::disk::DiskStore;
pub use crate::store::inventory::EntryFile;
pub use crate::store::remote::{
    redacted_url, validate_url, verify_entry, Remote, RemoteConfig, RemoteError, SkipReason,
    Stored, CHUNK,
};
pub use crate::store::Store;
pub use crate::units::{parse_lifetime, parse_size, parse_timeout, Lifetime};
