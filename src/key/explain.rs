//! `cachecmd key --explain`: each part of the key in words. Variable values
//! never appear, not even as a digest: the output may end up in a bug
//! report, and a plain digest of a short value (a PIN, a version) is undone
//! by guessing. Only whether each variable is set is shown.

use std::ffi::OsStr;
use std::fmt::Write;
use std::os::unix::ffi::OsStrExt;

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
            let value = if value.is_some() { "(set)" } else { "(unset)" };
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
        if let Some(path) = &self.expires_from {
            line(format!("expiry   from output at {}", shell_word(std::ffi::OsStr::new(path))));
        }
        if self.trace {
            line("trace    inputs found by tracing the command (--trace-inputs)".into());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::ffi::OsString;

    use sha2::{Digest, Sha256};

    use super::KeyMaterial;

    fn material(pin: Option<&str>) -> KeyMaterial {
        let mut env = BTreeMap::new();
        env.insert(OsString::from("DEPLOY_PIN"), pin.map(OsString::from));
        KeyMaterial {
            argv: vec!["deploy".into()],
            cwd: None,
            env,
            scope: None,
            extra: vec![],
            inputs: None,
            modtimes: vec![],
            stdin: None,
            outputs: vec![],
            expires_from: None,
            trace: false,
        }
    }

    #[test]
    fn a_short_value_cannot_be_recovered_by_guessing() {
        let text = material(Some("4711")).explain();
        let digest = hex::encode(Sha256::digest(b"4711"));
        assert!(!text.contains(&digest[..8]), "a plain digest of the value is shown:\n{text}");
        assert!(!text.contains("4711"), "{text}");
        assert!(text.contains("env      DEPLOY_PIN (set)"), "{text}");
        assert!(material(None).explain().contains("env      DEPLOY_PIN (unset)"));
        // The value is still keyed.
        assert_ne!(material(Some("4711")).key(), material(Some("4712")).key());
    }
}
