//! Moving values of any size through Redis with bounded memory: reads in
//! `GETRANGE` pieces, checked against `STRLEN` so a value replaced midway is
//! a miss; uploads in `APPEND` pieces to a temporary key that a script
//! renames into place only when complete, so readers never see a partial
//! upload. A whole transfer has a deadline too. Over plain TCP a fetch
//! reads through `raw`, so a reply longer than asked is refused unread.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use super::super::keys::{random_token, TMP_PREFIX};
use super::super::{RemoteError, Stored, CHUNK};
use super::raw::Raw;
use super::RedisStore;

/// Where a fetch reads from: the bounded reader over plain TCP, or the
/// redis crate (TLS, Unix sockets), which reads whole replies.
enum Source {
    Raw(Raw),
    Crate,
}

/// An abandoned upload disappears after at least this (longer for big ones).
const TMP_TTL: Duration = Duration::from_secs(120);

/// Publishes an upload only if it is complete: `RENAME` onto the entry key
/// and set (or clear) its expiry, atomically.
const FINISH_SCRIPT: &str = r"
if redis.call('STRLEN', KEYS[1]) ~= tonumber(ARGV[1]) then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
if ARGV[2] == '' then redis.call('PERSIST', KEYS[2]) else redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 1";

impl RedisStore {
    pub(super) fn fetch_into(
        &self,
        key: &str,
        dest: &File,
        max_len: u64,
    ) -> Result<bool, RemoteError> {
        let end = self.deadline.get().unwrap_or_else(|| Instant::now() + self.config.op_timeout);
        let info = self.client.get_connection_info();
        let mut source = match Raw::open(info, self.config.connect_timeout, end) {
            Some(Ok(raw)) => Source::Raw(raw),
            Some(Err(e)) => return Err(self.raw_error("GETRANGE", &e, true)),
            None => Source::Crate,
        };
        // One GETRANGE reads a small entry whole (one command is atomic);
        // asking for a byte past `max_len` tells an oversized value apart.
        // (No MULTI pipelines: the sync client mishandles their errors.)
        dest.set_len(0).map_err(RemoteError::Local)?;
        let want = CHUNK.min(max_len.saturating_add(1));
        let got = self.getrange(&mut source, key, 0, want - 1, dest)?;
        if got == 0 {
            return Ok(false);
        }
        let len = if got < want { got } else { self.strlen(&mut source, key)? };
        if len > max_len || got > max_len {
            return Err(RemoteError::TooLarge { len: len.max(got), max: max_len });
        }
        if len < got {
            return Ok(false); // replaced under us
        }
        // The lookup's one deadline (see `RedisStore::within`) bounds the
        // whole transfer.
        let mut at = got;
        while at < len {
            let end = len.min(at + CHUNK);
            if self.getrange(&mut source, key, at, end - 1, dest)? != end - at {
                return Ok(false); // replaced or expired under us
            }
            at = end;
        }
        if len > got && self.strlen(&mut source, key)? != len {
            return Ok(false);
        }
        dest.set_len(len).map_err(RemoteError::Local)?;
        Ok(true)
    }

    /// `GETRANGE key start end` written to `dest` at `start`; its length.
    fn getrange(
        &self,
        source: &mut Source,
        key: &str,
        start: u64,
        end: u64,
        dest: &File,
    ) -> Result<u64, RemoteError> {
        match source {
            Source::Raw(raw) => raw
                .getrange(key, start, end, dest, start)
                .map_err(|e| self.raw_error("GETRANGE", &e, false)),
            Source::Crate => {
                let range = redis::cmd("GETRANGE").arg(key).arg(start).arg(end).clone();
                let chunk: Vec<u8> = self.run("GETRANGE", &range)?;
                if chunk.len() as u64 > end - start + 1 {
                    return Err(self.command_error("GETRANGE", "a reply over the range".into()));
                }
                dest.write_all_at(&chunk, start).map_err(RemoteError::Local)?;
                Ok(chunk.len() as u64)
            }
        }
    }

    fn strlen(&self, source: &mut Source, key: &str) -> Result<u64, RemoteError> {
        match source {
            Source::Raw(raw) => raw.strlen(key).map_err(|e| self.raw_error("STRLEN", &e, false)),
            Source::Crate => self.run("STRLEN", redis::cmd("STRLEN").arg(key)),
        }
    }

    /// The error for a failure of the bounded reader.
    fn raw_error(&self, op: &'static str, e: &std::io::Error, connecting: bool) -> RemoteError {
        use std::io::ErrorKind as K;
        let timed_out = matches!(e.kind(), K::TimedOut | K::WouldBlock);
        if connecting && e.kind() != K::Other && e.kind() != K::InvalidData {
            let message = if timed_out {
                format!("timed out after {:?}", self.config.connect_timeout)
            } else {
                self.scrubber.scrub(&e.to_string())
            };
            return RemoteError::Connect { url: self.scrubber.redacted().to_string(), message };
        }
        let message = if timed_out {
            format!("timed out after {:?}", self.config.op_timeout)
        } else {
            self.scrubber.scrub(&e.to_string())
        };
        self.command_error(op, message)
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
        // A server this slow may still owe us replies: the connection is
        // out of step.
        self.broken.set(true);
        Err(self
            .command_error(op, "the transfer is too slow (over one op timeout per chunk)".into()))
    }

    pub(super) fn store_chunks(
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
            let mut set = redis::cmd("SET");
            set.arg(key).arg(&buf);
            if let Some(px) = px {
                set.arg("PX").arg(px);
            }
            self.run::<()>("SET", &set)?;
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
            if at == 0 {
                let set = redis::cmd("SET").arg(&tmp).arg(&buf[..n]).arg("PX").arg(tmp_ms).clone();
                self.run::<()>("SET", &set)?;
            } else {
                let append = redis::cmd("APPEND").arg(&tmp).arg(&buf[..n]).clone();
                self.run::<u64>("APPEND", &append)?;
            }
            at += n as u64;
        }
        drop(buf);
        let px = px.map_or(String::new(), |px| px.to_string());
        let finish = redis::cmd("EVAL")
            .arg(FINISH_SCRIPT)
            .arg(2)
            .arg(&tmp)
            .arg(key)
            .arg(len)
            .arg(px)
            .clone();
        let done: i64 = self.run("RENAME", &finish)?;
        if done == 1 {
            Ok(Stored::Written)
        } else {
            let _ = self.run::<()>("UNLINK", redis::cmd("UNLINK").arg(&tmp));
            Err(self.command_error(
                "RENAME",
                "the upload was incomplete (temporary key expired?)".into(),
            ))
        }
    }
}
