//! The key schema every backend shares, and the random tokens that name
//! uploads and locks.
//!
//! ```text
//! cachecmd:v1:<key hex>              an entry: the very bytes of the local entry file
//! cachecmd:v1:tmp:<key hex>:<token>  an entry being uploaded in pieces (expires on its own)
//! cachecmd:v1:lock:<key hex>         single-flight lock: a random token
//! ```

use super::RemoteError;

/// Every key a backend creates starts with this.
pub const PREFIX: &str = "cachecmd:v1:";
pub const TMP_PREFIX: &str = "cachecmd:v1:tmp:";
pub const LOCK_PREFIX: &str = "cachecmd:v1:lock:";

/// `cachecmd:v1:<key hex>`.
pub fn entry_key(key_hex: &str) -> Result<String, RemoteError> {
    Ok(format!("{PREFIX}{}", check_key(key_hex)?))
}

/// `key_hex` itself if it is a cache key (64 lowercase hex digits): nothing
/// else may be spliced into a remote key name.
pub fn check_key(key_hex: &str) -> Result<&str, RemoteError> {
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
pub fn entry_hex(key: &str) -> Option<&str> {
    key.strip_prefix(PREFIX).filter(|hex| is_key_hex(hex))
}

/// 128 random bits as hex, from the kernel; never fails (falls back to
/// time, pid and a counter, which are still unique per holder).
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bytes[..8].copy_from_slice(&(nanos as u64).to_le_bytes());
        bytes[8..12].copy_from_slice(&std::process::id().to_le_bytes());
        bytes[12..].copy_from_slice(&(count as u32).to_le_bytes());
    }
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_keys_only() {
        let hex = "ab".repeat(32);
        assert_eq!(entry_hex(&format!("{PREFIX}{hex}")), Some(hex.as_str()));
        assert_eq!(entry_hex(&format!("{LOCK_PREFIX}{hex}")), None);
        assert!(entry_key("ABCD").is_err());
        assert!(entry_key("*").is_err());
    }

    #[test]
    fn tokens_are_32_hex_digits_and_differ() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
