//! The Redis backend (`redis://`, `rediss://` over TLS; feature `redis`):
//! one connection, opened by the first call that needs it, with a deadline
//! on every socket operation (`connect_timeout`, then `op_timeout` per
//! command). Values move in [`CHUNK`](super::CHUNK)-sized pieces
//! (`chunked`); the single-flight lock is `SET NX PX` (`lock`).

mod chunked;
mod lock;

use std::cell::{Cell, RefCell, RefMut};
use std::fs::File;
use std::time::Duration;

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
}

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
        }))
    }

    /// The open connection, opening it on first use (or after it broke).
    fn conn(&self) -> Result<RefMut<'_, Connection>, RemoteError> {
        let mut slot = self.conn.borrow_mut();
        if self.broken.replace(false) {
            *slot = None;
        }
        if slot.is_none() {
            *slot = Some(self.connect()?);
        }
        Ok(RefMut::map(slot, |slot| slot.as_mut().expect("opened above")))
    }

    /// The connection for releasing a lock: the existing one while it is in
    /// step, never a new one (the lock expires with its lease anyway).
    fn release_conn(&self) -> Result<RefMut<'_, Connection>, RemoteError> {
        let lost = || self.command_error("release lock", "the connection was lost".into());
        if self.broken.get() {
            return Err(lost());
        }
        let slot = self.conn.try_borrow_mut().map_err(|_| lost())?;
        RefMut::filter_map(slot, Option::as_mut).map_err(|_| lost())
    }

    fn connect(&self) -> Result<Connection, RemoteError> {
        let connect_err = |e: RedisError| RemoteError::Connect {
            url: self.scrubber.redacted().to_string(),
            message: if e.is_timeout() {
                format!("timed out after {:?}", self.config.connect_timeout)
            } else {
                self.scrubber.scrub(&e.to_string())
            },
        };
        let conn = self
            .client
            .get_connection_with_timeout(at_least_1ms(self.config.connect_timeout))
            .map_err(connect_err)?;
        let op = Some(at_least_1ms(self.config.op_timeout));
        conn.set_read_timeout(op).map_err(connect_err)?;
        conn.set_write_timeout(op).map_err(connect_err)?;
        Ok(conn)
    }

    /// Runs one command; an error that may leave the connection out of step
    /// marks it broken.
    fn run<T: redis::FromRedisValue>(
        &self,
        conn: &mut Connection,
        op: &'static str,
        command: &redis::Cmd,
    ) -> Result<T, RemoteError> {
        command.query(conn).map_err(|e| {
            let broken = e.is_timeout()
                || e.is_io_error()
                || e.is_connection_dropped()
                || e.is_connection_refusal();
            if broken {
                self.broken.set(true);
            }
            let message = if e.is_timeout() {
                format!("timed out after {:?}", self.config.op_timeout)
            } else {
                self.scrubber.scrub(&e.to_string())
            };
            self.command_error(op, message)
        })
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
}

impl RemoteStore for RedisStore {
    fn redacted_url(&self) -> &str {
        self.scrubber.redacted()
    }

    fn fetch(&self, key_hex: &str, dest: &mut File, max_len: u64) -> Result<bool, RemoteError> {
        let key = entry_key(key_hex)?;
        let result = self.fetch_into(&key, dest, max_len);
        if !matches!(result, Ok(true)) {
            let _ = dest.set_len(0);
        }
        result
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
            let mut conn = self.conn()?;
            if !entries.is_empty() {
                removed +=
                    self.run::<u64>(&mut conn, "UNLINK", redis::cmd("UNLINK").arg(entries))?;
            }
            if !others.is_empty() {
                self.run::<u64>(&mut conn, "UNLINK", redis::cmd("UNLINK").arg(others))?;
            }
            Ok(())
        })?;
        Ok(removed)
    }
}

fn at_least_1ms(d: Duration) -> Duration {
    d.max(Duration::from_millis(1))
}
