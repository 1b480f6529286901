//! `cachecmd key [--explain]`: print the key a run would use, or each part
//! that went into it. Variable values appear only as digests.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use anyhow::Result;
use sha2::{Digest, Sha256};

use crate::cli::KeyCommandArgs;
use crate::format::shell_word;
use crate::settings::Config;
use crate::store::disk::DiskStore;

pub fn key(config: &Config, args: KeyCommandArgs) -> Result<i32> {
    let settings = config.key(&args.key)?;
    let common = config.common(&args.key.common)?;
    let store = DiskStore::open_existing(&common.cache_dir).ok().flatten();
    let (key, parts) = super::key_for(&settings, &args.command, store.as_ref())?;
    if !args.explain {
        println!("{}", key.hex());
        return Ok(0);
    }
    println!("key      {}", key.hex());
    for (i, arg) in args.command.iter().enumerate() {
        println!("argv[{i}]  {}", shell_word(arg));
    }
    match &settings.cwd {
        Some(cwd) => println!("cwd      {}", shell_word(cwd.as_os_str())),
        None => println!("cwd      (not keyed: --no-cwd)"),
    }
    for (name, value) in &parts.env {
        let value = match value {
            Some(value) => {
                format!("sha256:{}", &hex::encode(Sha256::digest(value.as_bytes()))[..16])
            }
            None => "(unset)".into(),
        };
        println!("env      {} {value}", shell_word(name));
    }
    if let Some(scope) = &settings.scope {
        println!("scope    {}", shell_word(scope));
    }
    for extra in &settings.extra {
        println!("key      {}", shell_word(extra));
    }
    for input in parts.inputs.iter().flatten() {
        let kind = match input.kind {
            crate::inputs::Kind::File => "file",
            crate::inputs::Kind::Executable => "exec",
            crate::inputs::Kind::Symlink => "link",
            crate::inputs::Kind::Absent => "absent",
            crate::inputs::Kind::Unreadable => "unreadable",
        };
        let digest = if input.digest == [0; 32] { "-".into() } else { hex::encode(input.digest) };
        println!("input    {kind:<6} {digest} {}", shell_word(OsStr::from_bytes(&input.path)));
    }
    for (path, mtime) in &parts.modtimes {
        let mtime = mtime.map_or("(absent)".into(), |ns| format!("{ns}ns"));
        println!("modtime  {mtime} {}", shell_word(path));
    }
    if let Some((_, digest)) = &parts.stdin {
        println!("stdin    sha256:{}", hex::encode(digest));
    }
    Ok(0)
}
