//! `cachecmd man [SUBCOMMAND]`: print a man page (roff), for `man -l -` or
//! a directory on MANPATH.

use std::io::Write as _;

use crate::cli::ManArgs;
use crate::error::Result;
use crate::exit_codes;
use crate::generate;

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
