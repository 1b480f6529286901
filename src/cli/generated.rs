//! The subcommands that serve the shell rather than the cache, as typed:
//! `completions SHELL`, `man [SUBCOMMAND]` and the hidden `__complete-keys`
//! (what they do is in `commands::completions` and `commands::man`).

use clap::{Args, Subcommand};
pub use clap_complete::Shell;

use super::CommonArgs;

/// Flattened into `cli::Command`, so these are top-level subcommands.
#[derive(Debug, Subcommand)]
pub enum Generated {
    /// Print the completion script for bash, zsh, fish, powershell or elvish
    Completions(CompletionsArgs),
    /// Print a man page: cachecmd's own, or a subcommand's
    Man(ManArgs),
    /// Internal: key prefixes of the cached entries, for the completion scripts
    #[command(name = "__complete-keys", hide = true)]
    CompleteKeys(CompleteKeysArgs),
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

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  # Read the page of a subcommand
  cachecmd man list | man -l -

  # Install every page where man finds it
  mkdir -p ~/.local/share/man/man1
  cachecmd man > ~/.local/share/man/man1/cachecmd.1")]
pub struct ManArgs {
    /// The subcommand whose page to print (default: cachecmd's own)
    #[arg(value_name = "SUBCOMMAND")]
    pub subcommand: Option<String>,
}
