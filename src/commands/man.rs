//! `cachecmd man [SUBCOMMAND]`: print a man page (roff), for `man -l -` or
//! a directory on MANPATH.

use std::io::Write as _;

use clap::Args;

use crate::error::Result;
use crate::exit_codes;
use crate::generate;

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

pub fn man(args: ManArgs) -> Result<i32> {
    match generate::man_page(args.subcommand.as_deref())? {
        Some(page) => {
            std::io::stdout().lock().write_all(&page)?;
            Ok(0)
        }
        None => {
            let known = generate::man_subcommands().join(", ");
            let asked = args.subcommand.unwrap_or_default();
            crate::exec::stdio::message(format_args!(
                "cachecmd: no man page for `{asked}`; the subcommands are {known}"
            ));
            Ok(exit_codes::USAGE)
        }
    }
}
