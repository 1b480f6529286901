//! The pieces of the JSON that `list`, `show`, `stats` and `key` print:
//! one schema version for all of them, and raw OS bytes (arguments, paths,
//! names) carried losslessly.
//!
//! An OS string is a JSON string when it is valid UTF-8, else an object
//! `{"hex": "…"}` holding its bytes in lowercase hex: a reader never gets a
//! replacement character where the command had bytes.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use serde::Serialize;

use crate::entry::{Bytes, KeyDetails};

/// The version of every JSON report's shape; bumped when a field changes
/// meaning or type or goes away (new fields do not bump it).
pub const SCHEMA: u32 = 1;

/// Raw bytes as JSON: a string when UTF-8, else `{"hex": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum OsJson {
    Text(String),
    Hex { hex: String },
}

impl OsJson {
    pub fn bytes(bytes: &[u8]) -> OsJson {
        match std::str::from_utf8(bytes) {
            Ok(text) => OsJson::Text(text.to_string()),
            Err(_) => OsJson::Hex { hex: hex::encode(bytes) },
        }
    }

    pub fn os(value: &OsStr) -> OsJson {
        OsJson::bytes(value.as_bytes())
    }

    pub fn entry(value: &Bytes) -> OsJson {
        match value {
            Bytes::Text(text) => OsJson::Text(text.clone()),
            Bytes::Raw(raw) => OsJson::bytes(raw),
        }
    }
}

/// One `--input` file: its path, kind and content digest.
#[derive(Debug, Serialize)]
pub struct InputJson {
    pub path: OsJson,
    /// `file`, `exec`, `link`, `absent` or `unreadable`.
    pub kind: String,
    /// SHA-256 of the content, hex; `null` when there is none.
    pub sha256: Option<String>,
}

/// One `--modtime` path and the modification time keyed.
#[derive(Debug, Serialize)]
pub struct ModtimeJson {
    pub path: OsJson,
    /// Nanoseconds since the epoch; `null` when the file was absent.
    pub mtime_ns: Option<i64>,
}

/// The key material beyond argv, cwd, variables and scope, as `show
/// --json` and `key --json` print it (flattened into their objects).
#[derive(Debug, Serialize)]
pub struct MaterialJson {
    pub key_strings: Vec<OsJson>,
    /// `null` without `--input`.
    pub inputs: Option<Vec<InputJson>>,
    /// How many input files were keyed (`inputs` may list fewer: an
    /// entry records at most 256).
    pub inputs_total: Option<u64>,
    pub modtimes: Vec<ModtimeJson>,
    /// Whether stdin's content was keyed (`--stdin`).
    pub stdin: bool,
    pub outputs: Vec<OsJson>,
}

impl From<&KeyDetails> for MaterialJson {
    fn from(keyed: &KeyDetails) -> MaterialJson {
        let inputs = keyed.inputs.as_ref().map(|inputs| {
            let input = |i: &crate::entry::KeyedInput| InputJson {
                path: OsJson::entry(&i.path),
                kind: i.kind.clone(),
                sha256: Some(i.digest.clone()).filter(|d| !d.is_empty()),
            };
            inputs.iter().map(input).collect()
        });
        MaterialJson {
            key_strings: keyed.key_strings.iter().map(OsJson::entry).collect(),
            inputs_total: keyed.inputs.as_ref().map(|_| keyed.inputs_total),
            inputs,
            modtimes: keyed
                .modtimes
                .iter()
                .map(|(path, mtime_ns)| ModtimeJson {
                    path: OsJson::entry(path),
                    mtime_ns: *mtime_ns,
                })
                .collect(),
            stdin: keyed.stdin,
            outputs: keyed.outputs.iter().map(OsJson::entry).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_stays_a_string_and_other_bytes_become_hex() {
        let json = |v: &OsJson| serde_json::to_string(v).unwrap();
        assert_eq!(json(&OsJson::bytes("héllo".as_bytes())), r#""héllo""#);
        assert_eq!(json(&OsJson::bytes(&[b'a', 0xff, 0])), r#"{"hex":"61ff00"}"#);
        assert_eq!(json(&OsJson::entry(&Bytes::Raw(vec![0xfe]))), r#"{"hex":"fe"}"#);
        // Raw bytes that happen to be UTF-8 are text.
        assert_eq!(json(&OsJson::entry(&Bytes::Raw(b"ok".to_vec()))), r#""ok""#);
    }
}
