//! The key's encoding: SHA-256 over an unambiguous, length-prefixed
//! encoding of everything that selects an entry. The encoding is stable
//! across machines and releases of the same format version (`FORMAT`
//! below); never change it without bumping that version.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::Key;

const FORMAT: &[u8] = b"cachecmd key v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    File,
    Executable,
    Symlink,
    /// An explicit path that does not exist.
    Absent,
    /// A file that exists but could not be read: keyed as such, so the run
    /// is not confused with one that read it.
    Unreadable,
}

impl Kind {
    pub fn tag(self) -> u8 {
        match self {
            Kind::File => b'f',
            Kind::Executable => b'x',
            Kind::Symlink => b'l',
            Kind::Absent => b'-',
            Kind::Unreadable => b'?',
        }
    }
}

/// One `--input` file as it goes into the key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Input {
    /// Relative to the cwd when under it, else absolute; raw bytes.
    pub path: Vec<u8>,
    pub kind: Kind,
    pub digest: [u8; 32],
}

/// `--stdin`, read once: the spooled bytes (to feed the command) and their
/// digest (for the key).
#[derive(Debug)]
pub struct SpooledStdin {
    pub file: File,
    pub digest: [u8; 32],
}

/// The values that went into a key, as `KeySpec::capture` read them.
#[derive(Debug)]
pub struct KeyMaterial {
    pub argv: Vec<OsString>,
    /// `None` with `--no-cwd`.
    pub cwd: Option<PathBuf>,
    /// Selected variables by name; `None` is unset, distinct from empty.
    pub env: BTreeMap<OsString, Option<OsString>>,
    pub scope: Option<OsString>,
    pub extra: Vec<OsString>,
    /// `--input` files; `None` without `--input` (an empty set is keyed).
    pub inputs: Option<Vec<Input>>,
    /// `--modtime` paths with their mtime in nanoseconds, `None` if absent.
    pub modtimes: Vec<(OsString, Option<i64>)>,
    pub stdin: Option<SpooledStdin>,
    /// `--output` paths as given.
    pub outputs: Vec<OsString>,
    /// `--expires-from` PATH as given.
    pub expires_from: Option<String>,
    /// `--trace-inputs`: the entry at this key is an index of manifests.
    pub trace: bool,
}

impl KeyMaterial {
    pub fn key(&self) -> Key {
        self.view().key()
    }

    pub fn view(&self) -> KeyView<'_> {
        KeyView {
            argv: &self.argv,
            cwd: self.cwd.as_deref(),
            env: self.env.clone(),
            scope: self.scope.as_deref(),
            extra: &self.extra,
            inputs: self.inputs.as_deref(),
            modtimes: &self.modtimes,
            stdin: self.stdin.as_ref().map(|stdin| stdin.digest),
            outputs: &self.outputs,
            expires_from: self.expires_from.as_deref(),
            trace: self.trace,
        }
    }
}

/// Exactly what is encoded, borrowed: the stdin file is not part of it,
/// only its digest.
#[derive(Debug, Clone)]
pub struct KeyView<'a> {
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
    /// `--expires-from` PATH as given.
    pub expires_from: Option<&'a str>,
    /// `--trace-inputs`.
    pub trace: bool,
}

impl KeyView<'_> {
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
        if let Some(path) = self.expires_from {
            encoder.tag(b'X');
            encoder.bytes(path.as_bytes());
        }
        if self.trace {
            encoder.tag(b'T');
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

    fn material(argv: &[OsString]) -> KeyView<'_> {
        KeyView {
            argv,
            cwd: None,
            env: BTreeMap::new(),
            scope: None,
            extra: &[],
            inputs: None,
            modtimes: &[],
            stdin: None,
            outputs: &[],
            expires_from: None,
            trace: false,
        }
    }

    fn argv(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn key_of(args: &[OsString]) -> Key {
        KeyView { argv: args, ..material(&[]) }.key()
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
            KeyView { env, ..material(&args) }.key()
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
            KeyView { cwd: Some(Path::new("/a")), ..base.clone() }.key(),
            KeyView { cwd: Some(Path::new("/b")), ..base.clone() }.key(),
            KeyView { scope: Some(OsStr::new("")), ..base.clone() }.key(),
            KeyView { scope: Some(OsStr::new("../x")), ..base.clone() }.key(),
            KeyView { extra: &extra, ..base.clone() }.key(),
            KeyView { inputs: Some(&[]), ..base.clone() }.key(),
            KeyView { stdin: Some([0; 32]), ..base.clone() }.key(),
            KeyView { expires_from: Some("/exp"), ..base.clone() }.key(),
            KeyView { expires_from: Some("$.exp"), ..base.clone() }.key(),
            KeyView { trace: true, ..base.clone() }.key(),
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
}
