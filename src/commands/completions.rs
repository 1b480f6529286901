//! The subcommands that serve the shell rather than the cache:
//! `cachecmd completions SHELL` prints a completion script, `cachecmd man`
//! a man page (see `man`), and the hidden `cachecmd __complete-keys` lists
//! key prefixes for the scripts.

use std::io::Write as _;

use clap::{Args, Subcommand};

use crate::cli::CommonArgs;
use crate::error::Result;
use crate::generate::{self, Shell};
use crate::settings::Config;
use crate::store::disk::DiskStore;

/// Flattened into `cli::Command`, so these are top-level subcommands.
#[derive(Debug, Subcommand)]
pub enum Generated {
    /// Print the completion script for bash, zsh, fish, powershell or elvish
    Completions(CompletionsArgs),
    /// Print a man page: cachecmd's own, or a subcommand's
    Man(super::man::ManArgs),
    /// Internal: key prefixes of the cached entries, for the completion scripts
    #[command(name = "__complete-keys", hide = true)]
    CompleteKeys(CompleteKeysArgs),
}

/// Runs one of these subcommands. Only the key completion reads the
/// configuration (to find the cache): printing a script or a page must work
/// even with a broken config file, which is when people reach for the man
/// page.
pub fn dispatch(command: Generated) -> Result<i32> {
    match command {
        Generated::Completions(args) => completions(args),
        Generated::Man(args) => super::man::man(args),
        Generated::CompleteKeys(args) => complete_keys(&Config::load()?, args),
    }
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # bash (with the bash-completion package loaded)
  cachecmd completions bash > ~/.local/share/bash-completion/completions/cachecmd

  # zsh: a directory on $fpath, before compinit runs
  cachecmd completions zsh > ~/.zfunc/_cachecmd

  # fish
  cachecmd completions fish > ~/.config/fish/completions/cachecmd.fish")]
pub struct CompletionsArgs {
    /// The shell to print the script for
    #[arg(value_name = "SHELL", value_enum)]
    pub shell: Shell,
}

/// Arguments of the hidden key-prefix helper.
#[derive(Debug, Args)]
pub struct CompleteKeysArgs {
    #[command(flatten)]
    pub common: CommonArgs,
}

pub fn completions(args: CompletionsArgs) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    out.write_all(&generate::completion(args.shell))?;
    Ok(0)
}

/// One line per entry, most recent first: the short key prefix `list`
/// shows, a tab, and the command line (shells that can show it do).
pub fn complete_keys(config: &Config, args: CompleteKeysArgs) -> Result<i32> {
    let common = config.common(&args.common)?;
    let Some(store) = DiskStore::open_existing(&common.cache_dir)? else {
        return Ok(0);
    };
    let mut infos = store.entry_infos();
    infos.sort_by_key(|info| std::cmp::Reverse(info.modified_secs()));
    let mut out = std::io::stdout().lock();
    for info in infos {
        let argv: Vec<_> = info.meta.argv.iter().map(|a| a.to_os()).collect();
        let command = crate::format::command_line(argv.iter().map(|a| a.as_os_str()));
        // A tab or newline in the command would split the line.
        let command: String =
            command.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        writeln!(out, "{}\t{command}", info.key.short())?;
    }
    Ok(0)
}
