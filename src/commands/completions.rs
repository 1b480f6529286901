//! The subcommands that serve the shell rather than the cache:
//! `cachecmd completions SHELL` prints a completion script, `cachecmd man`
//! a man page (see `man`), and the hidden `cachecmd __complete-keys` lists
//! key prefixes for the scripts.

use std::io::Write as _;

use crate::cli::{CompleteKeysArgs, CompletionsArgs, Generated};
use crate::error::Result;
use crate::generate;
use crate::settings::Config;
use crate::store::disk::DiskStore;

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
