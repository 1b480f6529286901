//! The files generated from cachecmd's clap definition (shell completions
//! and man pages) as cachecmd's own `generate` module renders them, and
//! where they are committed.

use std::io;
use std::path::{Path, PathBuf};

pub use cachecmd::test_support::{COMPLETIONS_DIR, MAN_DIR};

/// Every generated file as (path relative to the workspace root, contents).
pub fn generate() -> io::Result<Vec<(PathBuf, Vec<u8>)>> {
    cachecmd::test_support::generated_files()
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
