//! `cachecmd key --explain`: each part of the key in words. Variable values
//! appear only as digests: the output may end up in a bug report.

use std::ffi::OsStr;
use std::fmt::Write;
use std::os::unix::ffi::OsStrExt;

use sha2::{Digest, Sha256};

use super::{KeyMaterial, Kind};
use crate::format::shell_word;

impl KeyMaterial {
    /// One line per part, starting with the key itself.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let mut line = |text: String| {
            let _ = writeln!(out, "{text}");
        };
        line(format!("key      {}", self.key().hex()));
        for (i, arg) in self.argv.iter().enumerate() {
            line(format!("argv[{i}]  {}", shell_word(arg)));
        }
        match &self.cwd {
            Some(cwd) => line(format!("cwd      {}", shell_word(cwd.as_os_str()))),
            None => line("cwd      (not keyed: --no-cwd)".into()),
        }
        for (name, value) in &self.env {
            let value = match value {
                Some(value) => {
                    format!("sha256:{}", &hex::encode(Sha256::digest(value.as_bytes()))[..16])
                }
                None => "(unset)".into(),
            };
            line(format!("env      {} {value}", shell_word(name)));
        }
        if let Some(scope) = &self.scope {
            line(format!("scope    {}", shell_word(scope)));
        }
        for extra in &self.extra {
            line(format!("key      {}", shell_word(extra)));
        }
        for input in self.inputs.iter().flatten() {
            let kind = match input.kind {
                Kind::File => "file",
                Kind::Executable => "exec",
                Kind::Symlink => "link",
                Kind::Absent => "absent",
                Kind::Unreadable => "unreadable",
            };
            let digest =
                if input.digest == [0; 32] { "-".into() } else { hex::encode(input.digest) };
            let path = shell_word(OsStr::from_bytes(&input.path));
            line(format!("input    {kind:<6} {digest} {path}"));
        }
        for (path, mtime) in &self.modtimes {
            let mtime = mtime.map_or("(absent)".into(), |ns| format!("{ns}ns"));
            line(format!("modtime  {mtime} {}", shell_word(path)));
        }
        if let Some(stdin) = &self.stdin {
            line(format!("stdin    sha256:{}", hex::encode(stdin.digest)));
        }
        out
    }
}
