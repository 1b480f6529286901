//! The remote tier: entries shared through a store other machines reach
//! too (`--remote URL`), behind one synchronous interface, [`RemoteStore`].
//!
//! [`open`] picks the backend from the URL's scheme and wraps it in the
//! decorators every backend gets: [`Signed`] (HMAC trailers with
//! `CACHECMD_REMOTE_SIGNING_KEY`), the mode ([`ReadOnly`], [`WriteOnly`];
//! `--remote-mode`) and [`FailFast`] (the first server failure of a run
//! disables the remote for the rest of it, so a dead, blackholed or full
//! server costs one timeout at most and then nothing). Run mode and `list`/`clear --remote` know only the
//! trait and the factory.
//!
//! The server is untrusted: [`RemoteStore::fetch`] only copies bytes into a
//! local file, and the caller must check them ([`verify_entry`]) before
//! anything is replayed or published. Secrets (the password in the URL or
//! [`RemoteConfig::password`], tokens in the query) never appear in an
//! error, a `Debug` string or [`redacted_url`].
//!
//! # Adding a backend
//!
//! 1. One file beside `redis.rs` implementing [`RemoteStore`] (keys follow
//!    [`keys`]; time-box every network call; scrub client errors with
//!    [`redact::Scrubber`]), with a constructor
//!    `fn open(&RemoteConfig) -> Result<Box<dyn RemoteStore>, RemoteError>`
//!    that parses the URL but does not touch the network.
//! 2. One match arm for its scheme(s) in [`opener`] below.
//! 3. One cargo feature that gates the file, the arm and its client crate.
//!
//! Nothing else changes: the decorators, the tier and the admin commands
//! work through the trait.

mod fail_fast;
mod forward;
#[cfg(feature = "http")]
mod http;
// Without a backend, the helpers only backends use are unused.
#[cfg_attr(not(any(feature = "redis", feature = "http", feature = "s3")), allow(dead_code))]
pub mod keys;
mod outcome;
mod read_only;
// Without a backend, the helpers only backends use are unused.
#[cfg_attr(not(any(feature = "redis", feature = "http", feature = "s3")), allow(dead_code))]
pub mod redact;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "s3")]
mod s3;
mod signed;
mod verify;
mod write_only;

use std::fmt;
use std::fs::File;
use std::time::Duration;

pub use fail_fast::FailFast;
pub use outcome::{RemoteCounters, RemoteError, SkipReason, Stored};
pub use read_only::ReadOnly;
pub use redact::redact as redacted_url;
pub use signed::{Signed, SigningKey};
pub use verify::verify_entry;
pub use write_only::WriteOnly;

/// Values move in pieces of this size (memory stays at a few of these).
pub const CHUNK: u64 = 4 << 20;
pub const DEFAULT_MAX_ENTRY_SIZE: u64 = 64 << 20;
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(200);
pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a remote lock outlives a holder that stopped renewing it (one
/// killed with SIGKILL, say); the holder renews it every third of this.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(15);

/// Which way entries flow between this machine and the remote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RemoteMode {
    #[default]
    ReadWrite,
    /// Fetch, never write (no entries, no locks, no clear).
    ReadOnly,
    /// Never fetch (every lookup is a miss); upload after a miss.
    WriteOnly,
}

impl RemoteMode {
    pub const NAMES: [&'static str; 3] = ["read-write", "read-only", "write-only"];

    pub fn parse(text: &str) -> Option<RemoteMode> {
        match text {
            "read-write" => Some(RemoteMode::ReadWrite),
            "read-only" => Some(RemoteMode::ReadOnly),
            "write-only" => Some(RemoteMode::WriteOnly),
            _ => None,
        }
    }
}

/// Where the remote is and how to use it; every backend reads the fields
/// that apply to it.
#[derive(Clone)]
pub struct RemoteConfig {
    /// The backend's URL: `redis://[user[:pass]@]host[:port][/db]` or
    /// `rediss://…` (TLS); `http[s]://[user[:pass]@]host[:port]/prefix`;
    /// `s3://BUCKET[/PREFIX]`.
    pub url: String,
    /// Overrides any password in the URL (`CACHECMD_REMOTE_PASSWORD`).
    pub password: Option<String>,
    /// A bearer token for HTTP stores (`CACHECMD_REMOTE_TOKEN`); wins over
    /// a password.
    pub token: Option<String>,
    /// Read entries, never write anything (no entries, no locks, no clear).
    pub read_only: bool,
    /// Never read entries; write them (`--remote-mode write-only`).
    pub write_only: bool,
    /// Sign uploads and serve only values whose signature verifies.
    pub signing_key: Option<SigningKey>,
    /// An S3-compatible endpoint instead of AWS (`http://host:port`, path-style
    /// addressing; `CACHECMD_S3_ENDPOINT`, config `s3_endpoint`); unset: AWS.
    pub s3_endpoint: Option<String>,
    /// Larger entries stay local-only.
    pub max_entry_size: u64,
    pub connect_timeout: Duration,
    /// Deadline of one whole operation (`--remote-timeout`): a lookup's
    /// connect, fetch and checks together.
    pub op_timeout: Duration,
}

impl RemoteConfig {
    /// `url` with the defaults above.
    pub fn new(url: impl Into<String>) -> RemoteConfig {
        RemoteConfig {
            url: url.into(),
            password: None,
            token: None,
            read_only: false,
            write_only: false,
            signing_key: None,
            s3_endpoint: None,
            max_entry_size: DEFAULT_MAX_ENTRY_SIZE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            op_timeout: DEFAULT_OP_TIMEOUT,
        }
    }
}

impl fmt::Debug for RemoteConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteConfig")
            .field("url", &redacted_url(&self.url))
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("read_only", &self.read_only)
            .field("write_only", &self.write_only)
            .field("signing_key", &self.signing_key)
            .field("max_entry_size", &self.max_entry_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("op_timeout", &self.op_timeout)
            .field("s3_endpoint", &self.s3_endpoint.as_deref().map(redacted_url))
            .finish()
    }
}

/// A remote store of entries, addressed by key hex. Synchronous (a CLI needs
/// no async runtime) and not `Sync`: one per thread.
pub trait RemoteStore {
    /// The store's URL without secrets, for messages.
    fn redacted_url(&self) -> &str;

    /// Copies the entry of `key_hex` into `dest` (from offset 0; `dest` is
    /// truncated to the value's length). `Ok(false)`: no such entry, or it
    /// changed while it was read. A value over `max_len` is
    /// `Err(TooLarge)`. On anything but `Ok(true)` `dest` is left empty.
    /// The bytes are untrusted: verify them before use.
    fn fetch(&self, key_hex: &str, dest: &mut File, max_len: u64) -> Result<bool, RemoteError>;

    /// Uploads the first `len` bytes of `src` (read at offsets, the cursor
    /// is not used) as the entry of `key_hex`, expiring after `lifetime`
    /// (`None`: never). Readers never see a partial upload.
    fn store(
        &self,
        key_hex: &str,
        src: &File,
        len: u64,
        lifetime: Option<Duration>,
    ) -> Result<Stored, RemoteError>;

    /// Takes the cross-machine single-flight lock of `key_hex`, waiting up
    /// to `wait`; it expires by itself after `lease`. `Ok(None)`: someone
    /// else held it the whole time. `Err`: no remote lock (none in this
    /// backend, read-only mode, server down): fall back to the local lock.
    fn lock(
        &self,
        key_hex: &str,
        lease: Duration,
        wait: Duration,
    ) -> Result<Option<RemoteLock<'_>>, RemoteError> {
        keys::check_key(key_hex)?;
        let _ = (lease, wait);
        Err(RemoteError::NoLock)
    }

    /// The key hex of every entry (uploads in progress and locks aside).
    fn list_keys(&self) -> Result<Vec<String>, RemoteError>;

    /// Removes everything cachecmd keeps in the store (entries, uploads,
    /// locks) and nothing else; returns how many entries went.
    fn clear(&self) -> Result<u64, RemoteError>;

    /// Whether every write is declined ([`ReadOnly`]).
    fn is_read_only(&self) -> bool {
        false
    }

    /// Whether an error disabled the remote for the rest of this run
    /// ([`FailFast`]).
    fn is_disabled(&self) -> bool {
        false
    }

    /// The error that disabled the remote (already redacted).
    fn last_error(&self) -> Option<String> {
        None
    }

    fn counters(&self) -> RemoteCounters {
        RemoteCounters::default()
    }
}

/// What a backend's lock needs to give its lock up.
pub trait HeldLock {
    /// Whether the lock was still ours (one whose lease ran out may belong
    /// to someone else by now, and is left alone).
    fn release(&mut self) -> Result<bool, RemoteError>;

    /// Extends the lock to expire `lease` from now; whether it was still
    /// ours. A backend whose locks cannot be extended keeps the first lease.
    fn renew(&mut self, lease: Duration) -> Result<bool, RemoteError> {
        let _ = lease;
        Ok(true)
    }
}

/// A held remote lock; released (only if it is still ours) on drop.
pub struct RemoteLock<'a> {
    held: Box<dyn HeldLock + 'a>,
    released: bool,
}

impl<'a> RemoteLock<'a> {
    pub fn new(held: impl HeldLock + 'a) -> RemoteLock<'a> {
        RemoteLock { held: Box::new(held), released: false }
    }

    /// [`HeldLock::renew`].
    pub fn renew(&mut self, lease: Duration) -> Result<bool, RemoteError> {
        self.held.renew(lease)
    }

    /// Releases the lock now; whether it was still ours.
    pub fn release(mut self) -> Result<bool, RemoteError> {
        self.released = true;
        self.held.release()
    }
}

impl fmt::Debug for RemoteLock<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteLock").field("released", &self.released).finish_non_exhaustive()
    }
}

impl Drop for RemoteLock<'_> {
    fn drop(&mut self) {
        if !self.released {
            // A lock we cannot release expires with its lease.
            let _ = self.held.release();
        }
    }
}

type Opener = fn(&RemoteConfig) -> Result<Box<dyn RemoteStore>, RemoteError>;

/// The backend constructor for `url`'s scheme: the one list of backends.
fn opener(url: &str) -> Result<Opener, RemoteError> {
    let scheme = url.split_once("://").map_or("", |(scheme, _)| scheme);
    match scheme {
        #[cfg(feature = "redis")]
        "redis" | "rediss" => Ok(redis::RedisStore::open),
        #[cfg(feature = "http")]
        "http" | "https" => Ok(http::HttpStore::open),
        #[cfg(feature = "s3")]
        "s3" => Ok(s3::S3Store::open),
        _ => {
            // Only a plain scheme is quoted: a mangled URL could hold a secret there.
            let plain = !scheme.is_empty()
                && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
            let scheme = if plain { scheme } else { "?" };
            Err(RemoteError::BadUrl {
                url: redacted_url(url),
                message: format!(
                    "unsupported scheme '{scheme}' (unknown, or this cachecmd was built \
                     without the cargo feature of its backend)"
                ),
            })
        }
    }
}

/// The remote store for `config.url`, with the signing, mode and fail-fast
/// decorators. Never touches the network. `Err` only for a scheme this
/// build has no backend for; any other bad URL gives a store that is
/// disabled from the start (every call says why).
/// Keeps [`RemoteStore::fetch`]'s promise for `result`: on anything but a
/// found entry, `dest` is left empty (a partial copy must never look like
/// a value). Every store's `fetch` ends with this.
pub(crate) fn empty_unless_found(
    result: Result<bool, RemoteError>,
    dest: &File,
) -> Result<bool, RemoteError> {
    if !matches!(result, Ok(true)) {
        let _ = dest.set_len(0);
    }
    result
}

pub fn open(config: &RemoteConfig) -> Result<Box<dyn RemoteStore>, RemoteError> {
    let backend = opener(&config.url)?(config).map(|backend| {
        let signed: Box<dyn RemoteStore> =
            Box::new(Signed::new(backend, config.signing_key.clone()));
        if config.read_only {
            Box::new(ReadOnly::new(signed))
        } else if config.write_only {
            Box::new(WriteOnly::new(signed))
        } else {
            signed
        }
    });
    Ok(Box::new(FailFast::new(redacted_url(&config.url), backend)))
}

/// Whether `url` names a store this build can open (for settings
/// validation); the error names the URL without its secrets.
pub fn validate_url(url: &str) -> Result<(), RemoteError> {
    opener(url)?(&RemoteConfig::new(url)).map(drop)
}

/// [`open`] that never fails: an unsupported scheme gives a store that is
/// disabled from the start, like any other bad URL.
pub struct Remote(Box<dyn RemoteStore>);

impl Remote {
    pub fn connect(config: &RemoteConfig) -> Remote {
        Remote(
            open(config)
                .unwrap_or_else(|e| Box::new(FailFast::new(redacted_url(&config.url), Err(e)))),
        )
    }

    /// [`RemoteStore::list_keys`].
    pub fn scan_keys(&self) -> Result<Vec<String>, RemoteError> {
        self.0.list_keys()
    }
}

impl std::ops::Deref for Remote {
    type Target = dyn RemoteStore;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Remote")
            .field("url", &self.0.redacted_url())
            .field("read_only", &self.0.is_read_only())
            .field("disabled", &self.0.is_disabled())
            .field("last_error", &self.0.last_error())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
