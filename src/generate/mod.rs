//! Files generated from the clap definition: shell completions and man
//! pages. Everything is rendered in memory, so `cachecmd completions` and
//! `cachecmd man` print exactly what `cargo xtask generate` commits.

mod completions;
mod man;

use std::io;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
pub use clap_complete::Shell;

use crate::cli::Cli;

/// Where the completion scripts are committed, relative to the workspace root.
pub const COMPLETIONS_DIR: &str = "completions";
/// Where the man pages are committed, relative to the workspace root.
pub const MAN_DIR: &str = "man";

/// Every generated file as (path relative to the workspace root, contents).
pub fn files() -> io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let cmd = Cli::command();
    let mut files = completions::render_all(&cmd, Path::new(COMPLETIONS_DIR));
    files.extend(man::render(&cmd, Path::new(MAN_DIR))?);
    Ok(files)
}

/// The completion script for `shell`.
pub fn completion(shell: Shell) -> Vec<u8> {
    completions::render(&Cli::command(), shell)
}

/// The man page of `subcommand` (`cachecmd-list.1`), or of cachecmd itself;
/// `None` for a subcommand that has no page.
pub fn man_page(subcommand: Option<&str>) -> io::Result<Option<Vec<u8>>> {
    let name = match subcommand {
        Some(sub) => format!("cachecmd-{sub}.1"),
        None => "cachecmd.1".to_owned(),
    };
    let pages = man::render(&Cli::command(), Path::new(""))?;
    Ok(pages.into_iter().find(|(path, _)| *path == Path::new(&name)).map(|(_, bytes)| bytes))
}

/// The subcommands with a man page of their own.
pub fn man_subcommands() -> Vec<String> {
    let cmd = Cli::command();
    cmd.get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .map(|sub| sub.get_name().to_owned())
        .collect()
}
