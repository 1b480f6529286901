//! Completion scripts. bash, zsh and fish get scripts of our own that
//! behave like `sudo`'s: after `--` or the first word that is not an option,
//! the rest of the line is the wrapped command's, completed by that
//! command's own completion. Each script is a fixed template filled with
//! tables read from the clap definition (`model`), so the definition stays
//! the single source. PowerShell and Elvish keep clap_complete's scripts.

mod bash;
mod fish;
mod model;
mod zsh;

use std::path::{Path, PathBuf};

use clap::Command;
use clap_complete::{generate, Generator, Shell};

const SHELLS: [Shell; 5] = [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell, Shell::Elvish];

/// One script per shell, named the way each shell looks for it
/// (`cachecmd.bash`, `_cachecmd`, `cachecmd.fish`, ...).
pub(crate) fn render_all(cmd: &Command, dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let bin = cmd.get_name().to_owned();
    SHELLS.into_iter().map(|shell| (dir.join(shell.file_name(&bin)), render(cmd, shell))).collect()
}

pub(crate) fn render(cmd: &Command, shell: Shell) -> Vec<u8> {
    let cli = || model::Cli::read(cmd);
    match shell {
        Shell::Bash => bash::render(&cli()).into_bytes(),
        Shell::Zsh => zsh::render(&cli()).into_bytes(),
        Shell::Fish => fish::render(&cli()).into_bytes(),
        _ => {
            let mut cmd = cmd.clone();
            let mut script = Vec::new();
            let bin = cmd.get_name().to_owned();
            generate(shell, &mut cmd, bin, &mut script);
            script
        }
    }
}
