//! The cache key: what selects an entry, from the command line to the
//! content of `--input` files.
//!
//! A [`KeySpec`] (validated settings) is captured into [`KeyMaterial`]
//! (the values read from the world now), which encodes to a [`Key`]
//! (see `material.rs` for the stable encoding).

mod capture;
mod explain;
mod inputs;
mod material;

use std::fmt;

pub use capture::{env_glob, CaptureError, KeySpec};
#[cfg(test)]
pub use inputs::{collect, NoCache};
pub use inputs::{hash_file, DigestCache, Hashed};
pub use material::{Input, KeyMaterial, KeyView, Kind, SpooledStdin};

/// A 32-byte SHA-256 key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key([u8; 32]);

impl Key {
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The short prefix shown to users.
    pub fn short(&self) -> String {
        self.hex()[..12].to_string()
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn from_slice(bytes: &[u8]) -> Option<Key> {
        bytes.try_into().ok().map(Key)
    }

    /// The key named by 64 lowercase hex digits (as `hex` writes it and as
    /// entry file names are spelled); anything else is not a key.
    pub fn parse_hex(text: &str) -> Option<Key> {
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let mut key = [0u8; 32];
        hex::decode_to_slice(text, &mut key).ok()?;
        Some(Key(key))
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lowercase_hex_names_a_key() {
        // Entry files are named in lowercase; an uppercase twin is not ours.
        let key = Key([0xa5; 32]);
        assert_eq!(Key::parse_hex(&key.hex().to_uppercase()), None);
        assert_eq!(Key::parse_hex(&key.hex()[..62]), None);
    }
}
