//! The Redis backend (`redis://`, `rediss://` over TLS; feature `redis`):
//! one connection, opened by the first call that needs it. Every command
//! runs on a worker thread that the caller waits for only until the
//! operation's deadline (a whole lookup: `op_timeout`; anything else:
//! `op_timeout` per command): socket timeouts alone cannot stop a server
//! that trickles one byte at a time. Values move in
//! [`CHUNK`](super::CHUNK)-sized pieces (`chunked`); the single-flight lock
//! is `SET NX PX`, renewed while held (`lock`).

mod chunked;
mod lock;
mod raw;

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use redis::{Connection, IntoConnectionInfo, RedisError};

use super::keys::{check_key, entry_hex, entry_key, PREFIX};
use super::redact::Scrubber;
use super::{RemoteConfig, RemoteError, RemoteLock, RemoteStore, SkipReason, Stored};

const SCAN_COUNT: u64 = 1000;

pub struct RedisStore {
    config: RemoteConfig,
    scrubber: Scrubber,
    client: redis::Client,
    conn: RefCell<Option<Connection>>,
    /// The last command timed out or broke the socket: the connection may
    /// be out of step, so it is never used again (not even to release a
    /// lock); the next call opens a new one.
    broken: Cell<bool>,
    /// The end of the operation in progress, when it has one deadline
    /// (a lookup); `None`: each command gets `op_timeout`.
    deadline: Cell<Option<Instant>>,
}

/// What a command's worker thread hands back.
type Worked = Result<(Connection, redis::RedisResult<redis::Value>), RedisError>;

impl RedisStore {
    /// Parses the URL; the connection is opened by the first call that
    /// needs it (so a run served by the local tier never touches the
    /// network).
    pub fn open(config: &RemoteConfig) -> Result<Box<dyn RemoteStore>, RemoteError> {
        let scrubber = Scrubber::new(&config.url, config.password.as_deref());
        let bad = |e: RedisError| RemoteError::BadUrl {
            url: scrubber.redacted().to_string(),
            message: scrubber.scrub(&e.to_string()),
        };
        let mut info = config.url.as_str().into_connection_info().map_err(bad)?;
        // No CLIENT SETINFO round trip: without a password the connection
        // then costs only the TCP (and TLS) handshake.
        let mut settings = info.redis_settings().clone().set_skip_set_lib_name();
        if let Some(password) = &config.password {
            settings = settings.set_password(password);
        }
        info = info.set_redis_settings(settings);
        let client = redis::Client::open(info).map_err(bad)?;
        Ok(Box::new(RedisStore {
            config: config.clone(),
            scrubber,
            client,
            conn: RefCell::new(None),
            broken: Cell::new(false),
            deadline: Cell::new(None),
        }))
    }

    /// Runs one command on the open connection, opening it first if
    /// needed (and `reuse_only` is false). The command runs on a worker
    /// thread; past the deadline the caller gives up, and the worker (and
    /// its connection, now out of step) is abandoned.
    fn command<T: redis::FromRedisValue>(
        &self,
        op: &'static str,
        command: &redis::Cmd,
        reuse_only: bool,
    ) -> Result<T, RemoteError> {
        let end = self.deadline.get().unwrap_or_else(|| Instant::now() + self.config.op_timeout);
        let timed_out = || {
            self.broken.set(true);
            self.command_error(op, format!("timed out after {:?}", self.config.op_timeout))
        };
        let Some(remaining) = end.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
        else {
            return Err(timed_out());
        };
        let mut slot = self.conn.try_borrow_mut().map_err(|_| timed_out())?;
        if self.broken.replace(false) {
            *slot = None;
        }
        let conn = slot.take();
        if conn.is_none() && reuse_only {
            return Err(self.command_error(op, "the connection was lost".into()));
        }
        let (client, command) = (self.client.clone(), command.clone());
        let connect_timeout = at_least_1ms(self.config.connect_timeout.min(remaining));
        let (tx, rx) = mpsc::sync_channel::<Worked>(1);
        let worker = move || {
            let worked = conn.map_or_else(|| connect(&client, connect_timeout), Ok).map(|mut c| {
                // The socket gives up too, so an abandoned worker ends.
                let _ = c.set_read_timeout(Some(remaining));
                let _ = c.set_write_timeout(Some(remaining));
                let result = command.query::<redis::Value>(&mut c);
                (c, result)
            });
            let _ = tx.send(worked);
        };
        crate::quiet_thread::spawn("redis", worker)
            .map_err(|e| self.command_error(op, e.to_string()))?;
        let (conn, result) = match rx.recv_timeout(remaining) {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => return Err(self.connect_error(&e)),
            Err(_) => return Err(timed_out()),
        };
        let value = result.map_err(|e| {
            let broken = e.is_timeout()
                || e.is_io_error()
                || e.is_connection_dropped()
                || e.is_connection_refusal();
            self.broken.set(broken);
            let message = if e.is_timeout() {
                format!("timed out after {:?}", self.config.op_timeout)
            } else {
                self.scrubber.scrub(&e.to_string())
            };
            self.command_error(op, message)
        });
        *slot = Some(conn);
        drop(slot);
        T::from_redis_value(value?).map_err(|e| self.command_error(op, e.to_string()))
    }

    /// Runs one command, opening the connection if needed.
    fn run<T: redis::FromRedisValue>(
        &self,
        op: &'static str,
        command: &redis::Cmd,
    ) -> Result<T, RemoteError> {
        self.command(op, command, false)
    }

    /// Runs one command, and with a deadline for all commands until `body`
    /// is done.
    fn within<T>(&self, body: impl FnOnce() -> T) -> T {
        self.deadline.set(Some(Instant::now() + self.config.op_timeout));
        let result = body();
        self.deadline.set(None);
        result
    }

    fn connect_error(&self, e: &RedisError) -> RemoteError {
        RemoteError::Connect {
            url: self.scrubber.redacted().to_string(),
            message: if e.is_timeout() {
                format!("timed out after {:?}", self.config.connect_timeout)
            } else {
                self.scrubber.scrub(&e.to_string())
            },
        }
    }

    fn command_error(&self, op: &'static str, message: String) -> RemoteError {
        RemoteError::Command { url: self.scrubber.redacted().to_string(), op, message }
    }

    fn scan(
        &self,
        mut each: impl FnMut(&[String]) -> Result<(), RemoteError>,
    ) -> Result<(), RemoteError> {
        let pattern = format!("{PREFIX}*");
        let mut cursor = 0u64;
        loop {
            let scan = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .clone();
            let (next, batch): (u64, Vec<String>) = self.run("SCAN", &scan)?;
            // SCAN may return a key twice; UNLINK and the caller cope.
            let batch: Vec<String> = batch.into_iter().filter(|k| k.starts_with(PREFIX)).collect();
            each(&batch)?;
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }
}

impl RemoteStore for RedisStore {
    fn redacted_url(&self) -> &str {
        self.scrubber.redacted()
    }

    fn fetch(&self, key_hex: &str, dest: &mut File, max_len: u64) -> Result<bool, RemoteError> {
        let key = entry_key(key_hex)?;
        let result = self.within(|| self.fetch_into(&key, dest, max_len));
        crate::store::remote::empty_unless_found(result, dest)
    }

    /// Small entries take one `SET … PX`; larger ones go to a temporary key
    /// chunk by chunk and are renamed into place only when complete.
    fn store(
        &self,
        key_hex: &str,
        src: &File,
        len: u64,
        lifetime: Option<Duration>,
    ) -> Result<Stored, RemoteError> {
        let key = entry_key(key_hex)?;
        if let Some(why) = SkipReason::for_upload(len, self.config.max_entry_size, lifetime) {
            return Ok(Stored::Skipped(why));
        }
        let px = lifetime
            .map(|ttl| u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).min(i64::MAX as u64 / 2));
        self.store_chunks(key_hex, &key, src, len, px)
    }

    fn lock(
        &self,
        key_hex: &str,
        lease: Duration,
        wait: Duration,
    ) -> Result<Option<RemoteLock<'_>>, RemoteError> {
        lock::take(self, check_key(key_hex)?, lease, wait)
    }

    fn list_keys(&self) -> Result<Vec<String>, RemoteError> {
        let mut keys = Vec::new();
        self.scan(|batch| {
            keys.extend(batch.iter().filter_map(|k| entry_hex(k)).map(str::to_string));
            Ok(())
        })?;
        Ok(keys)
    }

    /// SCAN + UNLINK under `cachecmd:v1:`.
    fn clear(&self) -> Result<u64, RemoteError> {
        let mut removed = 0;
        self.scan(|batch| {
            let (entries, others): (Vec<&String>, Vec<&String>) =
                batch.iter().partition(|k| entry_hex(k).is_some());
            if !entries.is_empty() {
                removed += self.run::<u64>("UNLINK", redis::cmd("UNLINK").arg(entries))?;
            }
            if !others.is_empty() {
                self.run::<u64>("UNLINK", redis::cmd("UNLINK").arg(others))?;
            }
            Ok(())
        })?;
        Ok(removed)
    }
}

/// A new connection with socket timeouts, so no read or write blocks forever.
fn connect(client: &redis::Client, timeout: Duration) -> Result<Connection, RedisError> {
    let conn = client.get_connection_with_timeout(timeout)?;
    conn.set_read_timeout(Some(timeout))?;
    conn.set_write_timeout(Some(timeout))?;
    Ok(conn)
}

fn at_least_1ms(d: Duration) -> Duration {
    d.max(Duration::from_millis(1))
}
