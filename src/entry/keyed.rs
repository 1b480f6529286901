//! The key material an entry records beyond its command line, working
//! directory, variable names and scope: the `--key` strings, the `--input`
//! files with their digests, the `--modtime` paths, whether stdin was keyed
//! and the declared `--output` paths, so `show` can say exactly what an
//! entry was keyed on and `list` can mark it. Never a value that could be
//! secret: no variable values, no stdin digest (a digest of a short secret
//! is undone by guessing).
//!
//! Every field is optional in the JSON, so entries written before it decode
//! with an empty set (they are then shown without these details). The
//! inputs are capped at [`MAX_RECORDED_INPUTS`]: a glob over a large tree
//! would otherwise make every entry's metadata, which `list` reads whole,
//! as large as its file list; `inputs_total` says how many there were.

use serde::{Deserialize, Serialize};

use super::Bytes;
use crate::key::{KeyMaterial, Kind};

/// At most this many `--input` files are recorded by name and digest.
pub const MAX_RECORDED_INPUTS: usize = 256;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDetails {
    /// `--key` strings, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_strings: Vec<Bytes>,
    /// `--input` files (the first [`MAX_RECORDED_INPUTS`], sorted as
    /// keyed); `None` without `--input` (an empty set is keyed too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Vec<KeyedInput>>,
    /// How many `--input` files were keyed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub inputs_total: u64,
    /// `--modtime` paths with their mtime in nanoseconds (`None`: absent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modtimes: Vec<(Bytes, Option<i64>)>,
    /// Whether stdin's content was keyed (`--stdin`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub stdin: bool,
    /// Declared `--output` paths, as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<Bytes>,
}

/// One keyed `--input` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyedInput {
    pub path: Bytes,
    /// `file`, `exec`, `link`, `absent` or `unreadable`.
    pub kind: String,
    /// SHA-256 of the content, hex; empty when there is none (absent).
    pub digest: String,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The word `show`, `key --explain` and the JSON use for a kind of input.
pub fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::File => "file",
        Kind::Executable => "exec",
        Kind::Symlink => "link",
        Kind::Absent => "absent",
        Kind::Unreadable => "unreadable",
    }
}

impl KeyDetails {
    pub fn is_empty(&self) -> bool {
        *self == KeyDetails::default()
    }

    /// What `material` keyed, with at most `max_inputs` inputs by name.
    pub fn from_material(material: &KeyMaterial, max_inputs: usize) -> KeyDetails {
        let os = |s: &std::ffi::OsString| Bytes::from_os(s);
        let inputs = material.inputs.as_ref().map(|inputs| {
            let input = |i: &crate::key::Input| KeyedInput {
                path: Bytes::from_os(std::os::unix::ffi::OsStrExt::from_bytes(&i.path)),
                kind: kind_name(i.kind).to_string(),
                digest: if i.digest == [0; 32] { String::new() } else { hex::encode(i.digest) },
            };
            inputs.iter().take(max_inputs).map(input).collect()
        });
        KeyDetails {
            key_strings: material.extra.iter().map(os).collect(),
            inputs_total: material.inputs.as_ref().map_or(0, |i| i.len() as u64),
            inputs,
            modtimes: material.modtimes.iter().map(|(p, t)| (os(p), *t)).collect(),
            stdin: material.stdin.is_some(),
            outputs: material.outputs.iter().map(os).collect(),
        }
    }

    /// One-letter marks of what beyond the command line is keyed, in a
    /// fixed order: `e` --env, `i` --input, `m` --modtime, `s` --stdin,
    /// `k` --key, `o` --output; `env` says whether variables were keyed.
    pub fn marks(&self, env: bool) -> String {
        let flags = [
            (env, 'e'),
            (self.inputs.is_some(), 'i'),
            (!self.modtimes.is_empty(), 'm'),
            (self.stdin, 's'),
            (!self.key_strings.is_empty(), 'k'),
            (!self.outputs.is_empty(), 'o'),
        ];
        flags.iter().filter(|(on, _)| *on).map(|(_, c)| *c).collect()
    }

    /// The same as words, for JSON: `env`, `input`, `modtime`, `stdin`,
    /// `key`, `output`.
    pub fn keyed_on(&self, env: bool) -> Vec<&'static str> {
        let words = [
            ('e', "env"),
            ('i', "input"),
            ('m', "modtime"),
            ('s', "stdin"),
            ('k', "key"),
            ('o', "output"),
        ];
        let marks = self.marks(env);
        words.iter().filter(|(c, _)| marks.contains(*c)).map(|(_, w)| *w).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Meta;

    #[test]
    fn older_metadata_decodes_with_no_details_and_empty_details_are_not_written() {
        let old = br#"{"argv":[{"t":"ls"}],"cwd":null,"env_names":[],"scope":null,
            "created":1,"ttl_secs":null,"failure_ttl_secs":null}"#;
        let meta: Meta = serde_json::from_slice(old).unwrap();
        assert!(meta.keyed.is_empty());
        let text = String::from_utf8(meta.encode()).unwrap();
        assert!(!text.contains("keyed"), "{text}");
    }

    #[test]
    fn details_round_trip_and_mark_what_was_keyed() {
        let keyed = KeyDetails {
            key_strings: vec![Bytes::Raw(vec![0xff])],
            inputs: Some(vec![KeyedInput {
                path: Bytes::Text("a.txt".into()),
                kind: "file".into(),
                digest: "00".repeat(32),
            }]),
            inputs_total: 1,
            modtimes: vec![],
            stdin: true,
            outputs: vec![],
        };
        let meta = Meta { keyed: keyed.clone(), ..Meta::default() };
        let decoded: Meta = serde_json::from_slice(&meta.encode()).unwrap();
        assert_eq!(decoded.keyed, keyed);
        assert_eq!(keyed.marks(true), "eisk");
        assert_eq!(keyed.keyed_on(false), ["input", "stdin", "key"]);
        assert_eq!(KeyDetails::default().marks(false), "");
    }

    #[test]
    fn inputs_past_the_cap_are_counted_not_named() {
        let input = |name: &str| crate::key::Input {
            path: name.as_bytes().to_vec(),
            kind: Kind::File,
            digest: [1; 32],
        };
        let material = KeyMaterial {
            argv: vec!["make".into()],
            cwd: None,
            env: Default::default(),
            scope: None,
            extra: vec!["v1".into()],
            inputs: Some(vec![input("a"), input("b"), input("c")]),
            modtimes: vec![("stamp".into(), None)],
            stdin: None,
            outputs: vec!["out".into()],
            expires_from: None,
            trace: false,
        };
        let keyed = KeyDetails::from_material(&material, 2);
        let names: Vec<_> = keyed.inputs.iter().flatten().map(|i| i.path.clone()).collect();
        assert_eq!(names, [Bytes::Text("a".into()), Bytes::Text("b".into())]);
        assert_eq!(keyed.inputs_total, 3);
        assert_eq!(keyed.inputs.as_ref().unwrap()[0].digest, "01".repeat(32));
        assert_eq!(keyed.modtimes, [(Bytes::Text("stamp".into()), None)]);
        assert_eq!(keyed.marks(false), "imko");
    }
}
