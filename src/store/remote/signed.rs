//! Signed entries (`CACHECMD_REMOTE_SIGNING_KEY`), over any backend: a
//! writer with the key appends a trailer (magic + HMAC-SHA256 of the key hex
//! and the whole entry) to each value it uploads; a reader with the key
//! serves only values whose trailer verifies, so a store that untrusted jobs
//! can write to cannot feed trusted ones. A reader without the key strips a
//! trailer and serves the entry as before. Values are hashed in chunks,
//! never held whole in memory.

use std::fmt;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::forward::forward_to_inner;
use super::keys::check_key;
use super::{RemoteError, RemoteStore, Stored};

const MAGIC: &[u8; 8] = b"CCSIG1\0\0";
const MAC_LEN: usize = 32;
/// The bytes a signature adds to a value.
pub const TRAILER_LEN: u64 = (MAGIC.len() + MAC_LEN) as u64;
const PIECE: usize = 64 << 10;

/// The HMAC key; never printed (its `Debug` is redacted).
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(Vec<u8>);

impl SigningKey {
    /// `None` for an empty key, which would sign nothing worth trusting.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Option<SigningKey> {
        let bytes = bytes.into();
        (!bytes.is_empty()).then_some(SigningKey(bytes))
    }

    /// The MAC of the first `len` bytes of `file` as the entry of `key_hex`.
    fn mac(&self, key_hex: &str, file: &File, len: u64) -> std::io::Result<[u8; MAC_LEN]> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        // The key hex binds the value to its key: a signed value copied to
        // another key does not verify there.
        mac.update(b"cachecmd-entry-v1\0");
        mac.update(key_hex.as_bytes());
        mac.update(&len.to_le_bytes());
        let mut buf = vec![0u8; PIECE];
        let mut at = 0;
        while at < len {
            let n = (len - at).min(PIECE as u64) as usize;
            file.read_exact_at(&mut buf[..n], at)?;
            mac.update(&buf[..n]);
            at += n as u64;
        }
        Ok(mac.finalize().into_bytes().into())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

pub struct Signed {
    inner: Box<dyn RemoteStore>,
    key: Option<SigningKey>,
}

impl Signed {
    pub fn new(inner: Box<dyn RemoteStore>, key: Option<SigningKey>) -> Signed {
        Signed { inner, key }
    }

    /// Checks (with a key) or strips (without) the trailer of the `len`
    /// bytes in `dest`; `false`: unsigned or mis-signed.
    fn check(&self, key_hex: &str, dest: &File, len: u64) -> Result<bool, RemoteError> {
        let mut trailer = [0u8; TRAILER_LEN as usize];
        let signed = len >= TRAILER_LEN && {
            dest.read_exact_at(&mut trailer, len - TRAILER_LEN).map_err(RemoteError::Local)?;
            trailer[..MAGIC.len()] == MAGIC[..]
        };
        let body = if signed { len - TRAILER_LEN } else { len };
        if let Some(key) = &self.key {
            if !signed {
                return Ok(false);
            }
            let mac = key.mac(key_hex, dest, body).map_err(RemoteError::Local)?;
            // Constant-time comparison: a timing oracle would let a writer
            // forge a trailer byte by byte.
            if !constant_time_eq(&mac, &trailer[MAGIC.len()..]) {
                return Ok(false);
            }
        }
        dest.set_len(body).map_err(RemoteError::Local)?;
        Ok(true)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl RemoteStore for Signed {
    forward_to_inner!(
        redacted_url,
        lock,
        list_keys,
        clear,
        is_read_only,
        is_disabled,
        last_error,
        counters
    );

    fn fetch(&self, key_hex: &str, dest: &mut File, max_len: u64) -> Result<bool, RemoteError> {
        check_key(key_hex)?;
        let fetched = self.inner.fetch(key_hex, dest, max_len.saturating_add(TRAILER_LEN));
        match fetched {
            Ok(true) => {}
            Err(RemoteError::TooLarge { len, .. }) => {
                return Err(RemoteError::TooLarge { len, max: max_len })
            }
            other => return other,
        }
        let len = dest.metadata().map_err(RemoteError::Local)?.len();
        let result = self.check(key_hex, dest, len);
        if !matches!(result, Ok(true)) {
            let _ = dest.set_len(0);
        }
        match result? {
            true if dest.metadata().map_err(RemoteError::Local)?.len() > max_len => {
                let _ = dest.set_len(0);
                Err(RemoteError::TooLarge { len, max: max_len })
            }
            true => Ok(true),
            false => Err(RemoteError::BadSignature),
        }
    }

    fn store(
        &self,
        key_hex: &str,
        src: &File,
        len: u64,
        lifetime: Option<Duration>,
    ) -> Result<Stored, RemoteError> {
        check_key(key_hex)?;
        let Some(key) = &self.key else {
            return self.inner.store(key_hex, src, len, lifetime);
        };
        // The signed value goes through an unlinked temporary file: the
        // backend reads its source at offsets, and the entry is published.
        let mac = key.mac(key_hex, src, len).map_err(RemoteError::Local)?;
        let mut copy = tempfile::tempfile().map_err(RemoteError::Local)?;
        copy_range(src, &mut copy, len).map_err(RemoteError::Local)?;
        copy.write_all(MAGIC).map_err(RemoteError::Local)?;
        copy.write_all(&mac).map_err(RemoteError::Local)?;
        self.inner.store(key_hex, &copy, len + TRAILER_LEN, lifetime)
    }
}

/// Copies the first `len` bytes of `src` to the end of `dest`, in pieces.
fn copy_range(src: &File, dest: &mut File, len: u64) -> std::io::Result<()> {
    dest.seek(SeekFrom::End(0))?;
    let mut buf = vec![0u8; PIECE];
    let mut at = 0;
    while at < len {
        let n = (len - at).min(PIECE as u64) as usize;
        src.read_exact_at(&mut buf[..n], at)?;
        dest.write_all(&buf[..n])?;
        at += n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
