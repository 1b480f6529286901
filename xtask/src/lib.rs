//! Files generated from cachecmd's clap definition: shell completions and
//! man pages. Everything is rendered in memory so the binary can write it and
//! the tests can compare it with what is committed.

mod completions;
mod man;

use std::io;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

/// Where the completion scripts are committed, relative to the workspace root.
pub const COMPLETIONS_DIR: &str = "completions";
/// Where the man pages are committed, relative to the workspace root.
pub const MAN_DIR: &str = "man";

/// Every generated file as (path relative to the workspace root, contents).
pub fn generate() -> io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let cmd = cachecmd::cli::Cli::command();
    let mut files = completions::render(&cmd, Path::new(COMPLETIONS_DIR));
    files.extend(man::render(&cmd, Path::new(MAN_DIR))?);
    Ok(files)
}

/// The workspace root: the parent of this crate's directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Files under the generated directories that the generator no longer
/// produces (a removed subcommand's man page, say), relative to `root`.
pub fn stale_files(root: &Path, generated: &[(PathBuf, Vec<u8>)]) -> io::Result<Vec<PathBuf>> {
    let mut stale = Vec::new();
    for dir in [COMPLETIONS_DIR, MAN_DIR] {
        let entries = match std::fs::read_dir(root.join(dir)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let path = Path::new(dir).join(entry?.file_name());
            if !generated.iter().any(|(p, _)| *p == path) {
                stale.push(path);
            }
        }
    }
    stale.sort();
    Ok(stale)
}
