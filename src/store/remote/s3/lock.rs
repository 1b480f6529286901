//! The S3 single-flight lock: an object `PREFIX/cachecmd:v1:lock:<key>`
//! holding a random token and the wall-clock instant its lease ends,
//! created only if absent (`If-None-Match: *`). A lock whose lease has
//! ended is taken over by overwriting it only while it is unchanged
//! (`If-Match` its ETag); renewing rewrites our own the same way, and
//! releasing deletes it only while it still holds our token.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusty_s3::actions::{GetObject, PutObject, S3Action};
use ureq::http::Method;

use super::super::keys::{random_token, LOCK_PREFIX};
use super::super::{HeldLock, RemoteError, RemoteLock};
use super::http::{etag, Op};
use super::S3Store;

/// A lock object is a token and a number: anything longer is not one.
const LOCK_BODY: u64 = 256;

/// Takes the lock of `key_hex` (already checked), polling with backoff for
/// up to `wait`.
pub(super) fn take<'a>(
    store: &'a S3Store,
    key_hex: &str,
    lease: Duration,
    wait: Duration,
) -> Result<Option<RemoteLock<'a>>, RemoteError> {
    let object = store.object(&format!("{LOCK_PREFIX}{key_hex}"));
    let token = random_token();
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(10);
    loop {
        let op = store.op("lock");
        let body = lock_body(&token, lease);
        let mut taken = put(&op, &object, &body, ("if-none-match", "*"))?;
        if taken.is_none() {
            if let Some((_, until, their_etag)) = read(&op, &object)? {
                if until <= unix_millis() {
                    taken = put(&op, &object, &body, ("if-match", &their_etag))?;
                }
            }
        }
        if let Some(etag) = taken {
            // Read it back: a store whose conditional writes are not atomic
            // (two creates racing may both be told they won) leaves only
            // one token there, and the loser must not run too.
            match read(&op, &object)? {
                Some((theirs, _, etag_now)) if theirs == token => {
                    let etag = if etag_now.is_empty() { etag } else { etag_now };
                    return Ok(Some(RemoteLock::new(S3Lock { store, object, token, etag })));
                }
                _ => {}
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

fn lock_body(token: &str, lease: Duration) -> String {
    let lease_ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX);
    format!("{token} {}", unix_millis().saturating_add(lease_ms))
}

fn unix_millis() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// Writes the lock object under `condition`; its new ETag, or `None` when
/// the condition failed.
fn put(
    op: &Op<'_>,
    object: &str,
    body: &str,
    condition: (&str, &str),
) -> Result<Option<String>, RemoteError> {
    let store = op.store;
    let mut action = PutObject::new(&store.bucket, store.creds.as_ref(), object);
    action.headers_mut().insert(condition.0, condition.1);
    let mut resp = op.send(Method::PUT, &op.sign(&action), &[condition], body.as_bytes())?;
    match resp.status().as_u16() {
        // 409: a concurrent conditional write won.
        412 | 409 => Ok(None),
        s if (200..300).contains(&s) => {
            Ok(Some(etag(&resp).ok_or_else(|| op.fail("no ETag for the lock".into()))?))
        }
        _ => Err(op.status_error(&mut resp).1),
    }
}

/// The lock object's token, lease end (Unix ms; 0 if it is not a lock
/// object) and ETag; `None` if there is none.
fn read(op: &Op<'_>, object: &str) -> Result<Option<(String, u64, String)>, RemoteError> {
    let store = op.store;
    let action = GetObject::new(&store.bucket, store.creds.as_ref(), object);
    let mut resp = op.send(Method::GET, &op.sign(&action), &[], ())?;
    match resp.status().as_u16() {
        404 => return Ok(None),
        200 => {}
        _ => return Err(op.status_error(&mut resp).1),
    }
    let tag = etag(&resp).ok_or_else(|| op.fail("no ETag for the lock".into()))?;
    // Garbage is no one's lock: it reads as expired and is taken over.
    let body = op.read_body(&mut resp, LOCK_BODY).unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    let (token, until) = text.split_once(' ').unwrap_or(("", ""));
    Ok(Some((token.to_string(), until.trim().parse().unwrap_or(0), tag)))
}

struct S3Lock<'a> {
    store: &'a S3Store,
    object: String,
    token: String,
    etag: String,
}

impl HeldLock for S3Lock<'_> {
    fn release(&mut self) -> Result<bool, RemoteError> {
        let op = self.store.op("release lock");
        match read(&op, &self.object)? {
            Some((token, _, tag)) if token == self.token => {
                let store = self.store;
                let mut action = rusty_s3::actions::DeleteObject::new(
                    &store.bucket,
                    store.creds.as_ref(),
                    &self.object,
                );
                action.headers_mut().insert("if-match", tag.as_str());
                let url = op.sign(&action);
                let mut resp = op.send(Method::DELETE, &url, &[("if-match", &tag)], ())?;
                match resp.status().as_u16() {
                    s if (200..300).contains(&s) => Ok(true),
                    404 | 412 => Ok(false),
                    _ => Err(op.status_error(&mut resp).1),
                }
            }
            _ => Ok(false),
        }
    }

    fn renew(&mut self, lease: Duration) -> Result<bool, RemoteError> {
        let op = self.store.op("renew lock");
        let body = lock_body(&self.token, lease);
        match put(&op, &self.object, &body, ("if-match", &self.etag.clone()))? {
            Some(etag) => {
                self.etag = etag;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}
