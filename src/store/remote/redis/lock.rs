//! The Redis single-flight lock: `SET NX PX` of a random token, renewed
//! (`PEXPIRE`) and released by scripts that act only while the key still
//! holds our token.

use std::time::{Duration, Instant};

use super::super::keys::{random_token, LOCK_PREFIX};
use super::super::{HeldLock, RemoteError, RemoteLock};
use super::RedisStore;

/// Deletes a lock only while it still holds our token.
const RELEASE_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0";

/// Extends a lock's lease only while it still holds our token.
const RENEW_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0";

fn lease_ms(lease: Duration) -> u64 {
    lease.as_millis().clamp(1, i64::MAX as u128 / 2) as u64
}

/// Takes the lock of `key_hex` (already checked), polling with backoff for
/// up to `wait`.
pub(super) fn take<'a>(
    store: &'a RedisStore,
    key_hex: &str,
    lease: Duration,
    wait: Duration,
) -> Result<Option<RemoteLock<'a>>, RemoteError> {
    let key = format!("{LOCK_PREFIX}{key_hex}");
    let token = random_token();
    let lease_ms = lease_ms(lease);
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(10);
    loop {
        let set = redis::cmd("SET").arg(&key).arg(&token).arg("NX").arg("PX").arg(lease_ms).clone();
        let taken: Option<String> = store.run("SET NX", &set)?;
        if taken.is_some() {
            return Ok(Some(RemoteLock::new(RedisLock { store, key, token })));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

struct RedisLock<'a> {
    store: &'a RedisStore,
    key: String,
    token: String,
}

impl HeldLock for RedisLock<'_> {
    fn release(&mut self) -> Result<bool, RemoteError> {
        let eval =
            redis::cmd("EVAL").arg(RELEASE_SCRIPT).arg(1).arg(&self.key).arg(&self.token).clone();
        // Only over a connection still in step, never a new one: the lock
        // expires with its lease anyway.
        let deleted: i64 = self.store.command("release lock", &eval, true)?;
        Ok(deleted == 1)
    }

    fn renew(&mut self, lease: Duration) -> Result<bool, RemoteError> {
        let eval = redis::cmd("EVAL")
            .arg(RENEW_SCRIPT)
            .arg(1)
            .arg(&self.key)
            .arg(&self.token)
            .arg(lease_ms(lease))
            .clone();
        let renewed: i64 = self.store.run("renew lock", &eval)?;
        Ok(renewed == 1)
    }
}
