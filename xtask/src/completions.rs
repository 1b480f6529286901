//! Completion scripts for every shell clap_complete supports ahead of time.

use std::path::{Path, PathBuf};

use clap::Command;
use clap_complete::aot::{generate, Generator, Shell};

const SHELLS: [Shell; 5] = [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell, Shell::Elvish];

/// One script per shell, named the way each shell looks for it
/// (`cachecmd.bash`, `_cachecmd`, `cachecmd.fish`, ...).
pub(crate) fn render(cmd: &Command, dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let bin = cmd.get_name().to_owned();
    SHELLS
        .into_iter()
        .map(|shell| {
            let mut cmd = match shell {
                Shell::Zsh => without_top_level_positionals(cmd),
                _ => cmd.clone(),
            };
            let mut script = Vec::new();
            generate(shell, &mut cmd, &bin, &mut script);
            (dir.join(shell.file_name(&bin)), script)
        })
        .collect()
}

/// clap_complete's zsh script cannot express "the first word is either a
/// subcommand or the command to run": it makes COMMAND the first positional
/// and offers subcommands only second, and completing COMMAND with
/// `_cmdambivalent` re-enters `_cachecmd` until zsh stops it with "nesting
/// level too deep". Without the top-level positionals the script completes
/// subcommands and every option correctly; only the wrapped command's own
/// words go uncompleted in zsh.
fn without_top_level_positionals(cmd: &Command) -> Command {
    if cmd.get_positionals().next().is_none() || !cmd.has_subcommands() {
        return cmd.clone();
    }
    let mut built = cmd.clone();
    built.build();
    let mut bare = Command::new(built.get_name().to_owned())
        // Already among the built arguments and subcommands copied below.
        .disable_help_flag(true)
        .disable_version_flag(true)
        .disable_help_subcommand(true)
        .args(built.get_arguments().filter(|arg| !arg.is_positional()).cloned())
        .subcommands(built.get_subcommands().cloned());
    if let Some(about) = built.get_about() {
        bare = bare.about(about.clone());
    }
    if let Some(version) = built.get_version() {
        bare = bare.version(version.to_owned());
    }
    bare
}
