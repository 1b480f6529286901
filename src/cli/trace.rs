//! The flags of automatic input discovery (`--trace-inputs`) and the
//! `audit` subcommand.

use std::ffi::OsString;

use clap::Args;

use super::KeyArgs;

/// Part of the key: a traced entry and an untraced one are distinct.
#[derive(Debug, Default, Args)]
pub struct TraceArgs {
    /// Find the command's inputs by tracing it (Linux): serve the entry only while every file it read, stat'ed, ran or listed is unchanged [env: CACHECMD_TRACE_INPUTS]
    #[arg(long)]
    pub trace_inputs: bool,

    /// Leave paths matching this glob out of the traced inputs (repeatable) [default: /run/** /var/run/**; /proc, /sys, /dev and the cache always]
    #[arg(long, value_name = "GLOB")]
    pub trace_ignore: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub key: KeyArgs,

    /// Print every file read, system files included, not only those under the working directory
    #[arg(long)]
    pub all: bool,

    /// The command to run traced and its arguments
    #[arg(value_name = "COMMAND", required = true, trailing_var_arg = true)]
    pub command: Vec<OsString>,
}
