//! The entry format. One file per key:
//!
//! ```text
//! offset size
//!      0    8  magic "CACHECMD"
//!      8    4  format version (u32 LE)
//!     12    4  metadata length (u32 LE)
//!     16    8  stdout length (u64 LE)
//!     24    8  stderr length (u64 LE)
//!     32    4  exit code (i32 LE)
//!     36    4  run wall time in milliseconds (u32 LE, saturating; 0: unknown)
//!     40    8  xxh3-64 of the metadata
//!     48    8  xxh3-64 of stdout
//!     56    8  xxh3-64 of stderr
//!     64    8  absolute expiry, seconds since the epoch (0: none)
//!     72    8  outputs archive length (u64 LE; 0 without `--output`)
//!     80    8  xxh3-64 of the outputs archive
//!     88    8  runs length in bytes (u64 LE; a multiple of 8)
//!     96    8  xxh3-64 of the runs
//!    104   32  the key this entry answers (SHA-256)
//!    136    8  xxh3-64 of bytes 0..136
//!    144       metadata (JSON), stdout, stderr, outputs archive, runs
//! ```
//!
//! The key (version 3) binds an entry to the one lookup it answers: a file
//! moved, copied or swapped to another key's path, or a remote value stored
//! under another key, decodes fine but every verifier compares it with the
//! key it was asked for and refuses a mismatch as a miss, never a replay.
//!
//! The runs (since version 2) keep the order in which the command wrote to its
//! two streams, so a hit into `2>&1` shows what the miss showed: each run is
//! a u64 LE whose top bit names the stream (0 stdout, 1 stderr) and whose
//! other bits give a non-zero length; stdout's runs add up to the stdout
//! length and stderr's to the stderr length. No runs means stdout, then
//! stderr. Entries of another version are a miss.
//!
//! The run time (bytes 36..40) was a zero flags word before it was defined,
//! so older entries read as "unknown" without a format change. It sits in
//! the header, not the metadata, because the header is written last (the
//! metadata goes in before the command starts) and because a hit reads the
//! header anyway: counting the time a hit saved costs no extra read.
//!
//! Times (`expires_at`, the metadata's `created`) above [`MAX_EPOCH_SECS`]
//! are refused when decoding, so no later time computation can overflow.
//!
//! The header is written last (the body streams in first), so a file that a
//! crash cut short never carries a valid header for its length. Every length
//! is checked against the real file size before anything is allocated or
//! read, and every region carries a checksum, so garbage, truncation, zero
//! fill and byte flips all decode as errors: a miss, never wrong bytes.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use xxhash_rust::xxh3::xxh3_64;

pub const MAGIC: &[u8; 8] = b"CACHECMD";
pub const VERSION: u32 = 3;
pub const HEADER_LEN: usize = 144;
const CHECKED_LEN: usize = HEADER_LEN - 8;
/// Metadata is a command line and a few fields; anything larger is corrupt.
/// The writer enforces the same bound (it skips recording a run whose
/// metadata is larger), so what is recorded can always be read back. 16 MiB
/// holds any command line Linux accepts (ARG_MAX is a quarter of the stack
/// limit) even hex-encoded.
pub const MAX_META_LEN: u32 = 16 << 20;
/// The last second of the year 9999: later instants are refused as corrupt.
pub const MAX_EPOCH_SECS: u64 = 253_402_300_799;

mod keyed;
mod runs;
pub use keyed::{KeyDetails, KeyedInput, MAX_RECORDED_INPUTS};
pub use runs::{Runs, MAX_RUNS};

#[derive(Debug, Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("entry is shorter than its header")]
    Short,
    #[error("not a cachecmd entry (bad magic)")]
    Magic,
    #[error("entry format version {0}, expected {VERSION}")]
    Version(u32),
    #[error("entry header checksum mismatch")]
    HeaderChecksum,
    #[error("entry lengths do not match its size")]
    Length,
    #[error("entry {0} checksum mismatch")]
    BodyChecksum(&'static str),
    #[error("entry metadata is invalid: {0}")]
    Meta(String),
    #[error("entry time is out of range")]
    Time,
    #[error("entry runs are invalid")]
    Runs,
    #[error("entry belongs to another key")]
    Key,
}

/// The fixed-size header, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub meta_len: u32,
    pub stdout_len: u64,
    pub stderr_len: u64,
    pub exit_code: i32,
    /// The recorded run's wall time in milliseconds; 0 when unknown.
    pub run_ms: u32,
    pub meta_hash: u64,
    pub stdout_hash: u64,
    pub stderr_hash: u64,
    /// `--expires-at` of the writer, seconds since the epoch; 0 for none.
    pub expires_at: u64,
    /// The `--output` archive (tar + zstd) after stderr; 0 when none.
    pub outputs_len: u64,
    pub outputs_hash: u64,
    /// The stream runs (see the module doc), after the outputs archive.
    pub runs_len: u64,
    pub runs_hash: u64,
    /// The key the entry was recorded for; see the module doc.
    pub key: [u8; 32],
}

impl Header {
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..8].copy_from_slice(MAGIC);
        out[8..12].copy_from_slice(&VERSION.to_le_bytes());
        out[12..16].copy_from_slice(&self.meta_len.to_le_bytes());
        out[16..24].copy_from_slice(&self.stdout_len.to_le_bytes());
        out[24..32].copy_from_slice(&self.stderr_len.to_le_bytes());
        out[32..36].copy_from_slice(&self.exit_code.to_le_bytes());
        out[36..40].copy_from_slice(&self.run_ms.to_le_bytes());
        out[40..48].copy_from_slice(&self.meta_hash.to_le_bytes());
        out[48..56].copy_from_slice(&self.stdout_hash.to_le_bytes());
        out[56..64].copy_from_slice(&self.stderr_hash.to_le_bytes());
        out[64..72].copy_from_slice(&self.expires_at.to_le_bytes());
        out[72..80].copy_from_slice(&self.outputs_len.to_le_bytes());
        out[80..88].copy_from_slice(&self.outputs_hash.to_le_bytes());
        out[88..96].copy_from_slice(&self.runs_len.to_le_bytes());
        out[96..104].copy_from_slice(&self.runs_hash.to_le_bytes());
        out[104..136].copy_from_slice(&self.key);
        let check = xxh3_64(&out[..CHECKED_LEN]);
        out[CHECKED_LEN..].copy_from_slice(&check.to_le_bytes());
        out
    }

    /// Decodes and checks the header against the file's real size.
    pub fn decode(bytes: &[u8], file_size: u64) -> Result<Header, DecodeError> {
        let bytes: &[u8; HEADER_LEN] =
            bytes.get(..HEADER_LEN).and_then(|b| b.try_into().ok()).ok_or(DecodeError::Short)?;
        if &bytes[0..8] != MAGIC {
            return Err(DecodeError::Magic);
        }
        let version = u32_at(bytes, 8);
        if version != VERSION {
            return Err(DecodeError::Version(version));
        }
        if u64_at(bytes, CHECKED_LEN) != xxh3_64(&bytes[..CHECKED_LEN]) {
            return Err(DecodeError::HeaderChecksum);
        }
        let header = Header {
            meta_len: u32_at(bytes, 12),
            stdout_len: u64_at(bytes, 16),
            stderr_len: u64_at(bytes, 24),
            exit_code: u32_at(bytes, 32) as i32,
            run_ms: u32_at(bytes, 36),
            meta_hash: u64_at(bytes, 40),
            stdout_hash: u64_at(bytes, 48),
            stderr_hash: u64_at(bytes, 56),
            expires_at: u64_at(bytes, 64),
            outputs_len: u64_at(bytes, 72),
            outputs_hash: u64_at(bytes, 80),
            runs_len: u64_at(bytes, 88),
            runs_hash: u64_at(bytes, 96),
            key: bytes[104..136].try_into().unwrap_or_default(),
        };
        let total = (HEADER_LEN as u64)
            .checked_add(u64::from(header.meta_len))
            .and_then(|n| n.checked_add(header.stdout_len))
            .and_then(|n| n.checked_add(header.stderr_len))
            .and_then(|n| n.checked_add(header.outputs_len))
            .and_then(|n| n.checked_add(header.runs_len));
        if header.meta_len > MAX_META_LEN || total != Some(file_size) {
            return Err(DecodeError::Length);
        }
        if !header.runs_len.is_multiple_of(8) || header.runs_len > MAX_RUNS as u64 * 8 {
            return Err(DecodeError::Runs);
        }
        if header.expires_at > MAX_EPOCH_SECS {
            return Err(DecodeError::Time);
        }
        Ok(header)
    }

    /// Refuses an entry recorded for another key than the one looked up.
    pub fn check_key(&self, key: &crate::key::Key) -> Result<(), DecodeError> {
        if self.key == *key.bytes() {
            Ok(())
        } else {
            Err(DecodeError::Key)
        }
    }

    /// Whether the writer's absolute expiry has passed.
    pub fn past_expiry(&self, now: std::time::SystemTime) -> bool {
        self.expires_at != 0
            && now.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
                >= self.expires_at
    }

    pub fn meta_range(&self) -> std::ops::Range<u64> {
        HEADER_LEN as u64..HEADER_LEN as u64 + u64::from(self.meta_len)
    }

    pub fn stdout_range(&self) -> std::ops::Range<u64> {
        let start = self.meta_range().end;
        start..start + self.stdout_len
    }

    pub fn stderr_range(&self) -> std::ops::Range<u64> {
        let start = self.stdout_range().end;
        start..start + self.stderr_len
    }

    pub fn outputs_range(&self) -> std::ops::Range<u64> {
        let start = self.stderr_range().end;
        start..start + self.outputs_len
    }

    pub fn runs_range(&self) -> std::ops::Range<u64> {
        let start = self.outputs_range().end;
        start..start + self.runs_len
    }
}

fn u32_at(bytes: &[u8; HEADER_LEN], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or_default())
}

fn u64_at(bytes: &[u8; HEADER_LEN], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default())
}

/// What an entry says about the run that produced it. Environment values are
/// never here: only the names of the variables that were keyed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub argv: Vec<Bytes>,
    pub cwd: Option<Bytes>,
    pub env_names: Vec<Bytes>,
    pub scope: Option<Bytes>,
    /// Seconds since the epoch when the run finished.
    pub created: u64,
    /// The lifetime the writer asked for; `None` is forever.
    pub ttl_secs: Option<u64>,
    /// The writer's `--failure-ttl`, which applies to a non-zero exit; a
    /// failure is only recorded with one, so `None` there is forever.
    pub failure_ttl_secs: Option<u64>,
    /// `--expires-from` PATH: the header's expiry, when set, came from the
    /// output. Absent in entries written without it, which stay unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_from: Option<String>,
    /// The rest of the key material, for `show` (absent in older entries).
    #[serde(default, skip_serializing_if = "KeyDetails::is_empty")]
    pub keyed: KeyDetails,
}

impl Meta {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8], expected_hash: u64) -> Result<Meta, DecodeError> {
        if xxh3_64(bytes) != expected_hash {
            return Err(DecodeError::BodyChecksum("metadata"));
        }
        let meta: Meta =
            serde_json::from_slice(bytes).map_err(|e| DecodeError::Meta(e.to_string()))?;
        if meta.created > MAX_EPOCH_SECS {
            return Err(DecodeError::Time);
        }
        Ok(meta)
    }
}

/// Raw OS bytes: text when valid UTF-8, else the bytes themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "BytesRepr", into = "BytesRepr")]
pub enum Bytes {
    Text(String),
    Raw(Vec<u8>),
}

/// How `Bytes` is stored: `{"t": "text"}` or `{"x": "hex"}`. Externally
/// tagged on purpose: serde's untagged enums buffer every element of the
/// input (tens of bytes per byte), so decoding a crafted entry could
/// allocate far more than its size.
#[derive(Serialize, Deserialize)]
enum BytesRepr {
    #[serde(rename = "t")]
    Text(String),
    #[serde(rename = "x")]
    Hex(String),
}

impl From<Bytes> for BytesRepr {
    fn from(bytes: Bytes) -> BytesRepr {
        match bytes {
            Bytes::Text(text) => BytesRepr::Text(text),
            Bytes::Raw(raw) => BytesRepr::Hex(raw.iter().map(|b| format!("{b:02x}")).collect()),
        }
    }
}

impl TryFrom<BytesRepr> for Bytes {
    type Error = String;

    fn try_from(repr: BytesRepr) -> Result<Bytes, String> {
        match repr {
            BytesRepr::Text(text) => Ok(Bytes::Text(text)),
            BytesRepr::Hex(hex) => {
                let digits = hex.as_bytes();
                if digits.len() % 2 != 0 {
                    return Err("odd number of hex digits".into());
                }
                digits
                    .chunks(2)
                    .map(|pair| {
                        std::str::from_utf8(pair)
                            .ok()
                            .and_then(|p| u8::from_str_radix(p, 16).ok())
                            .ok_or_else(|| "bad hex digit".to_string())
                    })
                    .collect::<Result<Vec<u8>, String>>()
                    .map(Bytes::Raw)
            }
        }
    }
}

impl Bytes {
    pub fn from_os(value: &std::ffi::OsStr) -> Bytes {
        match value.to_str() {
            Some(text) => Bytes::Text(text.to_string()),
            None => Bytes::Raw(value.as_bytes().to_vec()),
        }
    }

    pub fn from_path(path: &std::path::Path) -> Bytes {
        Bytes::from_os(path.as_os_str())
    }

    pub fn to_os(&self) -> OsString {
        match self {
            Bytes::Text(text) => OsString::from(text),
            Bytes::Raw(raw) => OsString::from_vec(raw.clone()),
        }
    }

    pub fn to_path(&self) -> PathBuf {
        PathBuf::from(self.to_os())
    }
}

#[cfg(test)]
mod tests;
