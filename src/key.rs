//! The cache key: SHA-256 over an unambiguous, length-prefixed encoding of
//! everything that selects an entry. The encoding is stable across machines
//! and releases of the same format version (`FORMAT` below); never change it
//! without bumping that version.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use globset::{Glob, GlobSetBuilder};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::inputs::Input;

const FORMAT: &[u8] = b"cachecmd key v1";

#[derive(Debug, Error)]
#[error("--env pattern '{pattern}': {message}")]
pub struct EnvPatternError {
    pattern: String,
    message: String,
}

/// The values that go into a key, read from the command line and environment.
#[derive(Debug, Clone)]
pub struct KeyMaterial<'a> {
    pub argv: &'a [OsString],
    pub cwd: Option<&'a Path>,
    /// Selected variables by name; `None` is unset, distinct from empty.
    pub env: BTreeMap<OsString, Option<OsString>>,
    pub scope: Option<&'a OsStr>,
    pub extra: &'a [OsString],
    /// `--input` files; `None` without `--input` (an empty set is keyed).
    pub inputs: Option<&'a [Input]>,
    /// `--modtime` paths with their mtime in nanoseconds, `None` if absent.
    pub modtimes: &'a [(OsString, Option<i64>)],
    /// SHA-256 of stdin with `--stdin`.
    pub stdin: Option<[u8; 32]>,
    /// `--output` paths as given.
    pub outputs: &'a [OsString],
}

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

/// Reads the selected variables from the process environment. Literal names
/// are keyed even when unset; glob patterns key every variable they match.
pub fn select_env(
    patterns: &[String],
) -> Result<BTreeMap<OsString, Option<OsString>>, EnvPatternError> {
    let mut selected = BTreeMap::new();
    let mut globs = GlobSetBuilder::new();
    let mut any_glob = false;
    for pattern in patterns {
        if pattern.contains(['*', '?', '[']) {
            let glob = Glob::new(pattern).map_err(|e| EnvPatternError {
                pattern: pattern.clone(),
                message: e.kind().to_string(),
            })?;
            globs.add(glob);
            any_glob = true;
        } else {
            selected.insert(OsString::from(pattern), std::env::var_os(pattern));
        }
    }
    if any_glob {
        let globs = globs
            .build()
            .map_err(|e| EnvPatternError { pattern: patterns.join(" "), message: e.to_string() })?;
        for (name, value) in std::env::vars_os() {
            if globs.is_match(Path::new(&name)) {
                selected.insert(name, Some(value));
            }
        }
    }
    Ok(selected)
}

impl KeyMaterial<'_> {
    pub fn key(&self) -> Key {
        let mut encoder = Encoder(Sha256::new());
        encoder.bytes(FORMAT);
        encoder.tag(b'A');
        encoder.count(self.argv.len());
        for arg in self.argv {
            encoder.bytes(arg.as_bytes());
        }
        match self.cwd {
            Some(cwd) => {
                encoder.tag(b'C');
                encoder.bytes(cwd.as_os_str().as_bytes());
            }
            None => encoder.tag(b'c'),
        }
        encoder.tag(b'E');
        encoder.count(self.env.len());
        for (name, value) in &self.env {
            encoder.bytes(name.as_bytes());
            match value {
                Some(value) => {
                    encoder.tag(1);
                    encoder.bytes(value.as_bytes());
                }
                None => encoder.tag(0),
            }
        }
        match self.scope {
            Some(scope) => {
                encoder.tag(b'S');
                encoder.bytes(scope.as_bytes());
            }
            None => encoder.tag(b's'),
        }
        encoder.tag(b'K');
        encoder.count(self.extra.len());
        for extra in self.extra {
            encoder.bytes(extra.as_bytes());
        }
        // Later additions are encoded only when used, so keys without them
        // stay what they were.
        if let Some(inputs) = self.inputs {
            encoder.tag(b'I');
            encoder.count(inputs.len());
            for input in inputs {
                encoder.bytes(&input.path);
                encoder.tag(input.kind.tag());
                encoder.bytes(&input.digest);
            }
        }
        if !self.modtimes.is_empty() {
            encoder.tag(b'M');
            encoder.count(self.modtimes.len());
            for (path, mtime) in self.modtimes {
                encoder.bytes(path.as_bytes());
                match mtime {
                    Some(ns) => {
                        encoder.tag(1);
                        encoder.bytes(&ns.to_le_bytes());
                    }
                    None => encoder.tag(0),
                }
            }
        }
        if let Some(digest) = self.stdin {
            encoder.tag(b'D');
            encoder.bytes(&digest);
        }
        if !self.outputs.is_empty() {
            encoder.tag(b'O');
            encoder.count(self.outputs.len());
            for output in self.outputs {
                encoder.bytes(output.as_bytes());
            }
        }
        Key(encoder.0.finalize().into())
    }
}

/// Every variable-length field is preceded by its length, every optional
/// field by a tag, so no two different inputs encode to the same bytes.
struct Encoder(Sha256);

impl Encoder {
    fn tag(&mut self, tag: u8) {
        self.0.update([tag]);
    }

    fn count(&mut self, n: usize) {
        self.0.update((n as u64).to_le_bytes());
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.count(bytes.len());
        self.0.update(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    fn material(argv: &[OsString]) -> KeyMaterial<'_> {
        KeyMaterial {
            argv,
            cwd: None,
            env: BTreeMap::new(),
            scope: None,
            extra: &[],
            inputs: None,
            modtimes: &[],
            stdin: None,
            outputs: &[],
        }
    }

    fn argv(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn key_of(args: &[OsString]) -> Key {
        KeyMaterial { argv: args, ..material(&[]) }.key()
    }

    #[test]
    fn argument_boundaries_are_part_of_the_key() {
        let keys = [key_of(&argv(&["a b"])), key_of(&argv(&["a", "b"])), key_of(&argv(&["ab"]))];
        assert_ne!(keys[0], keys[1]);
        assert_ne!(keys[1], keys[2]);
        assert_ne!(keys[0], keys[2]);
        assert_ne!(key_of(&argv(&["foo", "bar"])), key_of(&argv(&["foo", "b", "ar"])));
    }

    #[test]
    fn non_utf8_arguments_are_keyed_by_their_bytes() {
        let a = vec![OsString::from_vec(vec![0xff, 0xfe])];
        let b = vec![OsString::from_vec(vec![0xff, 0xfd])];
        assert_ne!(key_of(&a), key_of(&b));
    }

    #[test]
    fn unset_and_empty_variables_differ() {
        let args = argv(&["true"]);
        let with = |value: Option<&str>| {
            let env = BTreeMap::from([(OsString::from("FOO"), value.map(OsString::from))]);
            KeyMaterial { env, ..material(&args) }.key()
        };
        assert_ne!(with(None), with(Some("")));
        assert_ne!(with(Some("")), with(Some("x")));
        assert_ne!(with(None), key_of(&args));
    }

    #[test]
    fn cwd_scope_and_extra_change_the_key() {
        let args = argv(&["true"]);
        let base = material(&args);
        let extra = argv(&["v2"]);
        let variants = [
            KeyMaterial { cwd: Some(Path::new("/a")), ..base.clone() }.key(),
            KeyMaterial { cwd: Some(Path::new("/b")), ..base.clone() }.key(),
            KeyMaterial { scope: Some(OsStr::new("")), ..base.clone() }.key(),
            KeyMaterial { scope: Some(OsStr::new("../x")), ..base.clone() }.key(),
            KeyMaterial { extra: &extra, ..base.clone() }.key(),
            KeyMaterial { inputs: Some(&[]), ..base.clone() }.key(),
            KeyMaterial { stdin: Some([0; 32]), ..base.clone() }.key(),
            base.key(),
        ];
        for (i, a) in variants.iter().enumerate() {
            for b in &variants[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn the_encoding_is_stable() {
        // A change here invalidates every user's cache: bump FORMAT instead.
        assert_eq!(
            key_of(&argv(&["echo", "hi"])).hex(),
            "7e2c92a44d4c6dfc1c078967cc21f88dd64f0a41386cb12cac725c5ab776afa7"
        );
    }

    #[test]
    fn hex_round_trips() {
        let key = key_of(&argv(&["x"]));
        assert_eq!(Key::parse_hex(&key.hex()), Some(key));
        assert_eq!(Key::parse_hex("zz"), None);
    }

    #[test]
    fn only_lowercase_hex_names_a_key() {
        // Entry files are named in lowercase; an uppercase twin is not ours.
        let key = key_of(&argv(&["x"]));
        assert_eq!(Key::parse_hex(&key.hex().to_uppercase()), None);
        assert_eq!(Key::parse_hex(&key.hex()[..62]), None);
    }
}
