//! The remote tier: entries shared through a Redis server (`--remote URL`).
//!
//! ```text
//! cachecmd:v1:<key hex>              an entry: the very bytes of the local entry file
//! cachecmd:v1:tmp:<key hex>:<token>  an entry being uploaded in chunks (expires on its own)
//! cachecmd:v1:lock:<key hex>         single-flight lock: a random token, SET NX PX
//! ```
//!
//! Synchronous and time-boxed: every socket operation has a deadline
//! (`connect_timeout`, then `op_timeout` per command), and the first failure
//! (timeout, refused connection, a full server, a wrong password) disables
//! the remote for the rest of the run, so a dead, blackholed or full server
//! costs one timeout at most and then nothing. Memory stays bounded: values
//! move in [`CHUNK`]-sized `GETRANGE` / `APPEND` pieces.
//!
//! The server is untrusted: [`Remote::fetch`] only copies bytes into a local
//! file, and the caller must check them ([`verify_entry`]) before anything is
//! replayed or published. A value that is too large, changes while it is
//! read or does not verify is a miss.
//!
//! Secrets: the password (from the URL or [`RemoteConfig::password`]) never
//! appears in an error, a `Debug` string or [`redacted_url`].

use std::cell::{Cell, RefCell, RefMut};
use std::fmt;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use redis::{Connection, IntoConnectionInfo, RedisError};
use thiserror::Error;

use crate::entry::{DecodeError, Header, Meta};

/// Every key this module creates starts with this.
pub const PREFIX: &str = "cachecmd:v1:";
/// Values move in pieces of this size (memory stays at a few of these).
pub const CHUNK: u64 = 4 << 20;
pub const DEFAULT_MAX_ENTRY_SIZE: u64 = 64 << 20;
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(200);
pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_secs(2);

const TMP_PREFIX: &str = "cachecmd:v1:tmp:";
const LOCK_PREFIX: &str = "cachecmd:v1:lock:";
/// An abandoned upload disappears after at least this (longer for big ones).
const TMP_TTL: Duration = Duration::from_secs(120);
const SCAN_COUNT: u64 = 1000;

/// Publishes an upload only if it is complete: `RENAME` onto the entry key
/// and set (or clear) its expiry, atomically.
const FINISH_SCRIPT: &str = r"
if redis.call('STRLEN', KEYS[1]) ~= tonumber(ARGV[1]) then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
if ARGV[2] == '' then redis.call('PERSIST', KEYS[2]) else redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 1";

/// Deletes a lock only while it still holds our token.
const RELEASE_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0";

#[derive(Clone)]
pub struct RemoteConfig {
    /// `redis://[user[:pass]@]host[:port][/db]` or `rediss://…` (TLS).
    pub url: String,
    /// Overrides any password in the URL (`CACHECMD_REMOTE_PASSWORD`).
    pub password: Option<String>,
    /// Read entries, never write anything (no entries, no locks, no clear).
    pub read_only: bool,
    /// Larger entries stay local-only.
    pub max_entry_size: u64,
    pub connect_timeout: Duration,
    /// Deadline of each command (each chunk of a large value is one).
    pub op_timeout: Duration,
}

impl RemoteConfig {
    /// `url` with the defaults above.
    pub fn new(url: impl Into<String>) -> RemoteConfig {
        RemoteConfig {
            url: url.into(),
            password: None,
            read_only: false,
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
            .field("read_only", &self.read_only)
            .field("max_entry_size", &self.max_entry_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("op_timeout", &self.op_timeout)
            .finish()
    }
}

/// Every message here is already free of the password and URL userinfo.
#[derive(Debug, Error)]
pub enum RemoteError {
    #[error("remote cache {url}: invalid URL: {message}")]
    BadUrl { url: String, message: String },
    #[error("remote cache {url}: cannot connect: {message}")]
    Connect { url: String, message: String },
    #[error("remote cache {url}: {op} failed: {message}")]
    Command { url: String, op: &'static str, message: String },
    /// The remote was disabled by an earlier error of this run.
    #[error("remote cache skipped for this run after an earlier error ({cause})")]
    Disabled { cause: String },
    /// The stored value is larger than the caller accepts: a miss.
    #[error("remote value of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: u64, max: u64 },
    #[error("remote cache is read-only")]
    ReadOnly,
    #[error("not a cache key: {0:?}")]
    BadKey(String),
    /// Reading or writing the local file; the remote stays enabled.
    #[error("remote transfer: local file: {0}")]
    Local(#[source] std::io::Error),
}

impl RemoteError {
    /// Whether the server itself failed (and the remote is now disabled).
    fn disables(&self) -> bool {
        matches!(
            self,
            RemoteError::BadUrl { .. } | RemoteError::Connect { .. } | RemoteError::Command { .. }
        )
    }
}

/// What [`Remote::store`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Written,
    Skipped(SkipReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    ReadOnly,
    TooLarge {
        len: u64,
        max: u64,
    },
    /// The TTL left is zero: nothing worth sharing.
    Expired,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::ReadOnly => f.write_str("remote is read-only"),
            SkipReason::TooLarge { len, max } => {
                write!(f, "entry of {len} bytes is over remote_max_entry_size ({max})")
            }
            SkipReason::Expired => f.write_str("entry has already expired"),
        }
    }
}

/// What this `Remote` did so far (this process only; nothing is counted on
/// the server).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoteCounters {
    /// `fetch` calls that copied a value (before the caller verified it).
    pub fetched: u64,
    /// `fetch` calls that found nothing.
    pub missed: u64,
    /// `store` calls that wrote an entry.
    pub stored: u64,
    /// Calls that failed, `Disabled` and `ReadOnly` aside.
    pub errors: u64,
}

/// A Redis connection that fails fast and then stays out of the way.
/// Not `Sync`: one per thread (a CLI run needs one).
pub struct Remote {
    config: RemoteConfig,
    redacted: String,
    /// Strings that must never reach a message, longest first.
    secrets: Vec<String>,
    client: Option<redis::Client>,
    conn: RefCell<Option<Connection>>,
    disabled: Cell<bool>,
    /// The error that disabled the remote was the server's reply (say OOM),
    /// not a timeout or a broken socket: the connection is still in step
    /// and may be used to release our locks, so other machines do not wait
    /// out the lease.
    replied_when_disabled: Cell<bool>,
    last_error: RefCell<Option<String>>,
    counters: Cell<RemoteCounters>,
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Remote")
            .field("url", &self.redacted)
            .field("read_only", &self.config.read_only)
            .field("disabled", &self.disabled.get())
            .field("last_error", &self.last_error.borrow())
            .finish_non_exhaustive()
    }
}

impl Remote {
    /// Never fails and never blocks: the URL is parsed now, the connection
    /// is opened by the first call that needs it (so a run served by the
    /// local tier never touches the network). A bad URL disables the remote;
    /// every call then returns `Disabled` with the reason.
    pub fn connect(config: &RemoteConfig) -> Remote {
        let mut secrets: Vec<String> = Vec::new();
        let push = |secrets: &mut Vec<String>, s: String| {
            if !s.is_empty() && !secrets.contains(&s) {
                secrets.push(s);
            }
        };
        push(&mut secrets, config.url.clone());
        if let Some(userinfo) = userinfo(&config.url) {
            push(&mut secrets, userinfo.to_string());
            push(&mut secrets, percent_decode(userinfo));
            if let Some((_, password)) = userinfo.split_once(':') {
                push(&mut secrets, password.to_string());
                push(&mut secrets, percent_decode(password));
            }
        }
        if let Some(password) = &config.password {
            push(&mut secrets, password.clone());
        }
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut remote = Remote {
            config: config.clone(),
            redacted: redacted_url(&config.url),
            secrets,
            client: None,
            conn: RefCell::new(None),
            disabled: Cell::new(false),
            replied_when_disabled: Cell::new(false),
            last_error: RefCell::new(None),
            counters: Cell::new(RemoteCounters::default()),
        };
        match remote.client() {
            Ok(client) => remote.client = Some(client),
            Err(e) => {
                remote.fail(e);
            }
        }
        remote
    }

    fn client(&self) -> Result<redis::Client, RemoteError> {
        let bad = |e: RedisError| RemoteError::BadUrl {
            url: self.redacted.clone(),
            message: self.scrub(&e.to_string()),
        };
        let scheme = self.config.url.split_once("://").map(|(s, _)| s);
        if !matches!(scheme, Some("redis" | "rediss")) {
            return Err(RemoteError::BadUrl {
                url: self.redacted.clone(),
                message: "expected redis://host[:port][/db] or rediss://…".into(),
            });
        }
        let mut info = self.config.url.as_str().into_connection_info().map_err(bad)?;
        // No CLIENT SETINFO round trip: without a password the connection
        // then costs only the TCP (and TLS) handshake.
        let mut settings = info.redis_settings().clone().set_skip_set_lib_name();
        if let Some(password) = &self.config.password {
            settings = settings.set_password(password);
        }
        info = info.set_redis_settings(settings);
        redis::Client::open(info).map_err(bad)
    }

    /// The URL without its userinfo, for messages.
    pub fn redacted_url(&self) -> &str {
        &self.redacted
    }

    pub fn is_read_only(&self) -> bool {
        self.config.read_only
    }

    /// Whether an error disabled the remote for the rest of this run.
    pub fn is_disabled(&self) -> bool {
        self.disabled.get()
    }

    /// The error that disabled the remote (already redacted).
    pub fn last_error(&self) -> Option<String> {
        self.last_error.borrow().clone()
    }

    pub fn counters(&self) -> RemoteCounters {
        self.counters.get()
    }

    /// Copies the entry of `key_hex` into `dest` (from offset 0; `dest` is
    /// truncated to the value's length). `Ok(false)`: no such entry, or it
    /// changed while it was read. A value over `max_len` is
    /// `Err(TooLarge)`. On anything but `Ok(true)` `dest` is left empty.
    /// The bytes are untrusted: verify them before use.
    pub fn fetch(&self, key_hex: &str, dest: &mut File, max_len: u64) -> Result<bool, RemoteError> {
        let key = entry_key(key_hex)?;
        let result = self.fetch_into(&key, dest, max_len);
        if !matches!(result, Ok(true)) {
            let _ = dest.set_len(0);
        }
        self.count(&result, |c, found| if *found { c.fetched += 1 } else { c.missed += 1 });
        result
    }

    fn fetch_into(&self, key: &str, dest: &File, max_len: u64) -> Result<bool, RemoteError> {
        let mut conn = self.conn()?;
        // One GETRANGE reads a small entry whole (one command is atomic);
        // asking for a byte past `max_len` tells an oversized value apart.
        // (No MULTI pipelines: the sync client mishandles their errors.)
        let want = CHUNK.min(max_len.saturating_add(1));
        let first: Vec<u8> =
            self.run(&mut conn, "GETRANGE", redis::cmd("GETRANGE").arg(key).arg(0).arg(want - 1))?;
        let got = first.len() as u64;
        if got == 0 {
            return Ok(false);
        }
        let len = if got < want {
            got
        } else {
            self.run::<u64>(&mut conn, "STRLEN", redis::cmd("STRLEN").arg(key))?
        };
        if len > max_len || got > max_len {
            return Err(RemoteError::TooLarge { len: len.max(got), max: max_len });
        }
        if len < got {
            return Ok(false); // replaced under us
        }
        dest.set_len(0).map_err(RemoteError::Local)?;
        dest.write_all_at(&first, 0).map_err(RemoteError::Local)?;
        drop(first);
        let deadline = self.transfer_deadline(len);
        let mut at = got;
        while at < len {
            self.check_deadline(deadline, "GETRANGE")?;
            let end = len.min(at + CHUNK);
            let chunk: Vec<u8> = self.run(
                &mut conn,
                "GETRANGE",
                redis::cmd("GETRANGE").arg(key).arg(at).arg(end - 1),
            )?;
            if chunk.len() as u64 != end - at {
                return Ok(false); // replaced or expired under us
            }
            dest.write_all_at(&chunk, at).map_err(RemoteError::Local)?;
            at = end;
        }
        if len > got {
            let now: u64 = self.run(&mut conn, "STRLEN", redis::cmd("STRLEN").arg(key))?;
            if now != len {
                return Ok(false);
            }
        }
        dest.set_len(len).map_err(RemoteError::Local)?;
        Ok(true)
    }

    /// A chunked transfer may take one `op_timeout` per command (plus two)
    /// in all, so a server that trickles cannot stretch a run without bound.
    fn transfer_deadline(&self, len: u64) -> Instant {
        let commands = u32::try_from(len.div_ceil(CHUNK) + 2).unwrap_or(u32::MAX);
        Instant::now() + self.config.op_timeout.saturating_mul(commands)
    }

    fn check_deadline(&self, deadline: Instant, op: &'static str) -> Result<(), RemoteError> {
        if Instant::now() <= deadline {
            return Ok(());
        }
        Err(self.fail(RemoteError::Command {
            url: self.redacted.clone(),
            op,
            message: "the transfer is too slow (over one op timeout per chunk)".into(),
        }))
    }

    /// Uploads the first `len` bytes of `src` (read at offsets, the cursor
    /// is not used) as the entry of `key_hex`, expiring after `ttl` (`None`:
    /// never). Small entries take one `SET … PX`; larger ones go to a
    /// temporary key chunk by chunk and are renamed into place only when
    /// complete, so readers never see a partial upload.
    pub fn store(
        &self,
        key_hex: &str,
        src: &File,
        len: u64,
        ttl: Option<Duration>,
    ) -> Result<Stored, RemoteError> {
        let key = entry_key(key_hex)?;
        if self.config.read_only {
            return Ok(Stored::Skipped(SkipReason::ReadOnly));
        }
        if len > self.config.max_entry_size {
            let max = self.config.max_entry_size;
            return Ok(Stored::Skipped(SkipReason::TooLarge { len, max }));
        }
        let px = match ttl {
            None => None,
            Some(ttl) if ttl.as_millis() == 0 => return Ok(Stored::Skipped(SkipReason::Expired)),
            Some(ttl) => {
                Some(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).min(i64::MAX as u64 / 2))
            }
        };
        let result = self.store_chunks(key_hex, &key, src, len, px);
        self.count(&result, |c, stored| {
            if *stored == Stored::Written {
                c.stored += 1
            }
        });
        result
    }

    fn store_chunks(
        &self,
        key_hex: &str,
        key: &str,
        src: &File,
        len: u64,
        px: Option<u64>,
    ) -> Result<Stored, RemoteError> {
        let mut buf = vec![0u8; len.min(CHUNK) as usize];
        if len <= CHUNK {
            src.read_exact_at(&mut buf, 0).map_err(RemoteError::Local)?;
            let mut conn = self.conn()?;
            let mut set = redis::cmd("SET");
            set.arg(key).arg(&buf);
            if let Some(px) = px {
                set.arg("PX").arg(px);
            }
            self.run::<()>(&mut conn, "SET", &set)?;
            return Ok(Stored::Written);
        }
        let tmp = format!("{TMP_PREFIX}{key_hex}:{}", random_token());
        let deadline = self.transfer_deadline(len);
        // The temp key outlives the longest upload the deadline allows; if
        // it still expired, the length check when finishing refuses it.
        let tmp_ttl = TMP_TTL.max(deadline.saturating_duration_since(Instant::now()) * 2);
        let tmp_ms = u64::try_from(tmp_ttl.as_millis()).unwrap_or(u64::MAX);
        let mut at = 0;
        while at < len {
            self.check_deadline(deadline, "APPEND")?;
            let n = (len - at).min(CHUNK) as usize;
            src.read_exact_at(&mut buf[..n], at).map_err(RemoteError::Local)?;
            let mut conn = self.conn()?;
            if at == 0 {
                let set = redis::cmd("SET").arg(&tmp).arg(&buf[..n]).arg("PX").arg(tmp_ms).clone();
                self.run::<()>(&mut conn, "SET", &set)?;
            } else {
                let append = redis::cmd("APPEND").arg(&tmp).arg(&buf[..n]).clone();
                self.run::<u64>(&mut conn, "APPEND", &append)?;
            }
            at += n as u64;
        }
        drop(buf);
        let mut conn = self.conn()?;
        let px = px.map_or(String::new(), |px| px.to_string());
        let finish = redis::cmd("EVAL")
            .arg(FINISH_SCRIPT)
            .arg(2)
            .arg(&tmp)
            .arg(key)
            .arg(len)
            .arg(px)
            .clone();
        let done: i64 = self.run(&mut conn, "RENAME", &finish)?;
        if done == 1 {
            Ok(Stored::Written)
        } else {
            let _ = self.run::<()>(&mut conn, "UNLINK", redis::cmd("UNLINK").arg(&tmp));
            Err(self.fail(RemoteError::Command {
                url: self.redacted.clone(),
                op: "RENAME",
                message: "the upload was incomplete (temporary key expired?)".into(),
            }))
        }
    }

    /// Takes the cross-machine single-flight lock of `key_hex`, waiting up
    /// to `wait`; it expires by itself after `lease`. `Ok(None)`: someone
    /// else held it the whole time. `Err`: no remote lock (read-only mode,
    /// server down): fall back to the local lock.
    pub fn lock(
        &self,
        key_hex: &str,
        lease: Duration,
        wait: Duration,
    ) -> Result<Option<RemoteLock<'_>>, RemoteError> {
        let key = format!("{LOCK_PREFIX}{}", check_key(key_hex)?);
        if self.config.read_only {
            return Err(RemoteError::ReadOnly);
        }
        let token = random_token();
        let lease_ms = lease.as_millis().clamp(1, i64::MAX as u128 / 2) as u64;
        let deadline = Instant::now() + wait;
        let mut pause = Duration::from_millis(10);
        loop {
            let taken: Option<String> = {
                let mut conn = self.conn()?;
                let set = redis::cmd("SET")
                    .arg(&key)
                    .arg(&token)
                    .arg("NX")
                    .arg("PX")
                    .arg(lease_ms)
                    .clone();
                self.run(&mut conn, "SET NX", &set).inspect_err(|e| self.count_error(e))?
            };
            if taken.is_some() {
                return Ok(Some(RemoteLock { remote: self, key, token, released: false }));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    /// The key hex of every entry on the server (temp and lock keys aside).
    pub fn scan_keys(&self) -> Result<Vec<String>, RemoteError> {
        let mut keys = Vec::new();
        self.scan(|batch| {
            keys.extend(batch.iter().filter_map(|k| entry_hex(k)).map(str::to_string));
            Ok(())
        })
        .inspect_err(|e| self.count_error(e))?;
        Ok(keys)
    }

    /// Removes every key under `cachecmd:v1:` (entries, uploads, locks)
    /// with SCAN + UNLINK, nothing else; returns how many entries went.
    pub fn clear(&self) -> Result<u64, RemoteError> {
        if self.config.read_only {
            return Err(RemoteError::ReadOnly);
        }
        let mut removed = 0;
        self.scan(|batch| {
            let (entries, others): (Vec<&String>, Vec<&String>) =
                batch.iter().partition(|k| entry_hex(k).is_some());
            let mut conn = self.conn()?;
            if !entries.is_empty() {
                removed +=
                    self.run::<u64>(&mut conn, "UNLINK", redis::cmd("UNLINK").arg(entries))?;
            }
            if !others.is_empty() {
                self.run::<u64>(&mut conn, "UNLINK", redis::cmd("UNLINK").arg(others))?;
            }
            Ok(())
        })
        .inspect_err(|e| self.count_error(e))?;
        Ok(removed)
    }

    fn scan(
        &self,
        mut each: impl FnMut(&[String]) -> Result<(), RemoteError>,
    ) -> Result<(), RemoteError> {
        let pattern = format!("{PREFIX}*");
        let mut cursor = 0u64;
        loop {
            let (next, batch): (u64, Vec<String>) = {
                let mut conn = self.conn()?;
                let scan = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(SCAN_COUNT)
                    .clone();
                self.run(&mut conn, "SCAN", &scan)?
            };
            // SCAN may return a key twice; UNLINK and the caller cope.
            let batch: Vec<String> = batch.into_iter().filter(|k| k.starts_with(PREFIX)).collect();
            each(&batch)?;
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// The open connection, opening it on first use.
    fn conn(&self) -> Result<RefMut<'_, Connection>, RemoteError> {
        if self.disabled.get() {
            return Err(self.disabled_error());
        }
        let mut slot = self.conn.borrow_mut();
        if slot.is_none() {
            match self.open() {
                Ok(conn) => *slot = Some(conn),
                Err(e) => {
                    drop(slot);
                    return Err(self.fail(e));
                }
            }
        }
        RefMut::filter_map(slot, Option::as_mut).map_err(|_| self.disabled_error())
    }

    /// The connection for releasing a lock: the usual one, or, once the
    /// remote is disabled, the existing connection if the server was still
    /// answering (never a new one).
    fn release_conn(&self) -> Result<RefMut<'_, Connection>, RemoteError> {
        if !self.disabled.get() {
            return self.conn();
        }
        if !self.replied_when_disabled.get() {
            return Err(self.disabled_error());
        }
        let slot = self.conn.try_borrow_mut().map_err(|_| self.disabled_error())?;
        RefMut::filter_map(slot, Option::as_mut).map_err(|_| self.disabled_error())
    }

    fn open(&self) -> Result<Connection, RemoteError> {
        let Some(client) = &self.client else {
            return Err(self.disabled_error());
        };
        let connect_err = |e: RedisError| RemoteError::Connect {
            url: self.redacted.clone(),
            message: if e.is_timeout() {
                format!("timed out after {:?}", self.config.connect_timeout)
            } else {
                self.scrub(&e.to_string())
            },
        };
        let conn = client
            .get_connection_with_timeout(at_least_1ms(self.config.connect_timeout))
            .map_err(connect_err)?;
        let op = Some(at_least_1ms(self.config.op_timeout));
        conn.set_read_timeout(op).map_err(connect_err)?;
        conn.set_write_timeout(op).map_err(connect_err)?;
        Ok(conn)
    }

    /// Runs one command; any failure disables the remote.
    fn run<T: redis::FromRedisValue>(
        &self,
        conn: &mut Connection,
        op: &'static str,
        command: &redis::Cmd,
    ) -> Result<T, RemoteError> {
        command.query(conn).map_err(|e| {
            if !self.disabled.get() {
                let broken = e.is_timeout()
                    || e.is_io_error()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal();
                self.replied_when_disabled.set(!broken);
            }
            let message = if e.is_timeout() {
                format!("timed out after {:?}", self.config.op_timeout)
            } else {
                self.scrub(&e.to_string())
            };
            self.fail(RemoteError::Command { url: self.redacted.clone(), op, message })
        })
    }

    /// Records an error; a server failure disables the remote.
    fn fail(&self, error: RemoteError) -> RemoteError {
        if error.disables() && !self.disabled.get() {
            self.disabled.set(true);
            *self.last_error.borrow_mut() = Some(error.to_string());
            if let Ok(mut slot) = self.conn.try_borrow_mut() {
                *slot = None;
            }
        }
        error
    }

    fn disabled_error(&self) -> RemoteError {
        let cause = self.last_error().unwrap_or_else(|| "disabled".into());
        RemoteError::Disabled { cause }
    }

    fn count<T>(&self, result: &Result<T, RemoteError>, ok: impl FnOnce(&mut RemoteCounters, &T)) {
        match result {
            Ok(value) => {
                let mut counters = self.counters.get();
                ok(&mut counters, value);
                self.counters.set(counters);
            }
            Err(e) => self.count_error(e),
        }
    }

    fn count_error(&self, error: &RemoteError) {
        if !matches!(error, RemoteError::Disabled { .. } | RemoteError::ReadOnly) {
            let mut counters = self.counters.get();
            counters.errors += 1;
            self.counters.set(counters);
        }
    }

    /// Removes every secret from a message that came from the redis crate.
    fn scrub(&self, message: &str) -> String {
        let mut out = message.to_string();
        for secret in &self.secrets {
            let replacement =
                if *secret == self.config.url { &self.redacted } else { "<redacted>" };
            out = out.replace(secret.as_str(), replacement);
        }
        out
    }
}

/// A held remote lock; released (only if it is still ours) on drop.
pub struct RemoteLock<'a> {
    remote: &'a Remote,
    key: String,
    token: String,
    released: bool,
}

impl RemoteLock<'_> {
    /// Releases the lock now; whether it was still ours (a lock whose lease
    /// ran out may belong to someone else by now, and is left alone).
    pub fn release(mut self) -> Result<bool, RemoteError> {
        self.released = true;
        self.release_inner()
    }

    fn release_inner(&self) -> Result<bool, RemoteError> {
        let mut conn = self.remote.release_conn()?;
        let eval =
            redis::cmd("EVAL").arg(RELEASE_SCRIPT).arg(1).arg(&self.key).arg(&self.token).clone();
        let deleted: i64 = self.remote.run(&mut conn, "release lock", &eval)?;
        Ok(deleted == 1)
    }
}

impl fmt::Debug for RemoteLock<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteLock").field("key", &self.key).finish_non_exhaustive()
    }
}

impl Drop for RemoteLock<'_> {
    fn drop(&mut self) {
        if !self.released {
            // A lock we cannot release expires with its lease.
            let _ = self.release_inner();
        }
    }
}

/// Checks the bytes `fetch` wrote to `file` exactly as the local store checks
/// its own entries (header, lengths against the real size, every region's
/// checksum), then decodes the metadata. Only an `Ok` entry may be published
/// or replayed. `Meta::created` is the entry's real birth: its age on this
/// machine must come from it, not from the local file.
pub fn verify_entry(file: &File) -> Result<(Header, Meta), DecodeError> {
    let size = file.metadata().map_err(|_| DecodeError::Short)?.len();
    let (header, _) = crate::store::disk::verify(file, size)?;
    let range = header.meta_range();
    // `Header::decode` bounded the metadata length by MAX_META_LEN.
    let mut meta = vec![0u8; (range.end - range.start) as usize];
    file.read_exact_at(&mut meta, range.start).map_err(|_| DecodeError::Short)?;
    Ok((header, Meta::decode(&meta, header.meta_hash)?))
}

/// `cachecmd:v1:<key hex>`.
pub fn entry_key(key_hex: &str) -> Result<String, RemoteError> {
    Ok(format!("{PREFIX}{}", check_key(key_hex)?))
}

/// Whether `url` parses as a remote URL (for settings validation); the
/// error names the URL without its userinfo.
pub fn validate_url(url: &str) -> Result<(), RemoteError> {
    Remote::connect(&RemoteConfig::new(url)).client().map(drop)
}

/// `url` without userinfo (`redis://:pw@host:6379/0` → `redis://host:6379/0`).
pub fn redacted_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<invalid remote URL>".into();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    // A query string could carry a password too (`?password=`).
    let tail = tail.split(['?', '#']).next().unwrap_or("");
    format!("{scheme}://{host}{tail}")
}

fn userinfo(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    rest[..end].rsplit_once('@').map(|(userinfo, _)| userinfo)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' {
            if let (Some(hi), Some(lo)) =
                (bytes.get(i + 1).and_then(|&b| hex(b)), bytes.get(i + 2).and_then(|&b| hex(b)))
            {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn check_key(key_hex: &str) -> Result<&str, RemoteError> {
    if is_key_hex(key_hex) {
        Ok(key_hex)
    } else {
        Err(RemoteError::BadKey(key_hex.chars().take(80).collect()))
    }
}

fn is_key_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The key hex of an entry key; `None` for uploads, locks and strangers.
fn entry_hex(key: &str) -> Option<&str> {
    key.strip_prefix(PREFIX).filter(|hex| is_key_hex(hex))
}

fn at_least_1ms(d: Duration) -> Duration {
    d.max(Duration::from_millis(1))
}

/// 128 random bits as hex, from the kernel; never fails (falls back to
/// time, pid and a counter, which are still unique per holder).
fn random_token() -> String {
    let mut bytes = [0u8; 16];
    // SAFETY: the buffer is valid for its length.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if n != bytes.len() as isize {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bytes[..8].copy_from_slice(&(nanos as u64).to_le_bytes());
        bytes[8..12].copy_from_slice(&std::process::id().to_le_bytes());
        bytes[12..].copy_from_slice(&(count as u32).to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_drops_userinfo_and_query() {
        assert_eq!(redacted_url("redis://u:p@h:1/2"), "redis://h:1/2");
        assert_eq!(redacted_url("rediss://:p%40ss@h"), "rediss://h");
        assert_eq!(redacted_url("redis://h:1/0?password=x"), "redis://h:1/0");
        assert_eq!(redacted_url("nonsense:pw"), "<invalid remote URL>");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("p%40ss%2"), "p@ss%2");
        assert_eq!(percent_decode("%"), "%");
    }

    #[test]
    fn entry_keys_only() {
        let hex = "ab".repeat(32);
        assert_eq!(entry_hex(&format!("{PREFIX}{hex}")), Some(hex.as_str()));
        assert_eq!(entry_hex(&format!("{LOCK_PREFIX}{hex}")), None);
        assert!(entry_key("ABCD").is_err());
        assert!(entry_key("*").is_err());
    }
}
