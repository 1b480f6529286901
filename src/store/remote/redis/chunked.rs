//! Moving values of any size through Redis with bounded memory: reads in
//! `GETRANGE` pieces, checked against `STRLEN` so a value replaced midway is
//! a miss; uploads in `APPEND` pieces to a temporary key that a script
//! renames into place only when complete, so readers never see a partial
//! upload. A whole transfer has a deadline too.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use super::super::keys::{random_token, TMP_PREFIX};
use super::super::{RemoteError, Stored, CHUNK};
use super::RedisStore;

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
        // One GETRANGE reads a small entry whole (one command is atomic);
        // asking for a byte past `max_len` tells an oversized value apart.
        // (No MULTI pipelines: the sync client mishandles their errors.)
        let want = CHUNK.min(max_len.saturating_add(1));
        let first: Vec<u8> =
            self.run("GETRANGE", redis::cmd("GETRANGE").arg(key).arg(0).arg(want - 1))?;
        let got = first.len() as u64;
        if got == 0 {
            return Ok(false);
        }
        let len = if got < want {
            got
        } else {
            self.run::<u64>("STRLEN", redis::cmd("STRLEN").arg(key))?
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
        // The lookup's one deadline (see `RedisStore::within`) bounds the
        // whole transfer.
        let mut at = got;
        while at < len {
            let end = len.min(at + CHUNK);
            let chunk: Vec<u8> =
                self.run("GETRANGE", redis::cmd("GETRANGE").arg(key).arg(at).arg(end - 1))?;
            if chunk.len() as u64 != end - at {
                return Ok(false); // replaced or expired under us
            }
            dest.write_all_at(&chunk, at).map_err(RemoteError::Local)?;
            at = end;
        }
        if len > got {
            let now: u64 = self.run("STRLEN", redis::cmd("STRLEN").arg(key))?;
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
