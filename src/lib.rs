//! cachecmd: cache the output of shell commands.
//!
//! The binary is a thin shell around [`run_cli`]; the modules are public so
//! fuzz targets, the completion/man generator and tests can reach them.

pub mod cli;
pub mod commands;
pub mod entry;
pub mod error;
pub mod exec;
pub mod exit_codes;
pub mod format;
pub mod gc;
pub mod generate;
pub mod key;
pub mod outputs;
pub mod par;
pub mod record;
pub mod settings;
pub mod store;
pub mod tier;
pub mod units;

// The process plumbing lives in `exec`; these paths are kept for callers.
pub use exec::{background, replay, runner, spool, stdio};

use std::os::unix::process::CommandExt;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::settings::Config;

/// The process set-up the binary needs before `run_cli` (it skips std's own
/// runtime start-up, see main.rs): descriptors 0-2 occupied, the inherited
/// signal dispositions noted, SIGPIPE and SIGXFSZ ignored (a vanished reader
/// must be EPIPE, a file size limit EFBIG, each handled by its mode).
pub fn startup() {
    exec::sys::startup();
}

/// Parses our own command line, runs it, and returns the exit status.
pub fn run_cli() -> i32 {
    let code = run_cli_inner();
    // Without std's runtime, nothing flushes stdout at exit.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    // A run interrupted by a signal ends as the command did: by that signal.
    if let Some(signal) = exec::sys::interrupted() {
        exec::sys::die_by(signal);
    }
    code
}

fn run_cli_inner() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { exit_codes::USAGE } else { 0 };
        }
    };
    if cli.subcommand.is_none() && is_disabled() {
        return pass_through(&cli.run.command);
    }
    dispatch(cli).unwrap_or_else(|e| error::report(&e))
}

fn dispatch(cli: Cli) -> error::Result<i32> {
    if cli.subcommand.is_some() {
        // Subcommands print reports: `cachecmd list | head` should end them
        // quietly, as it does `ls`. Run mode keeps SIGPIPE ignored so it can
        // handle a vanished reader itself (see runner.rs).
        exec::sys::default_sigpipe();
    }
    let config = Config::load()?;
    match cli.subcommand {
        Some(Command::Evict(args)) => commands::evict::evict(&config, args),
        Some(Command::Clear(args)) => commands::clear::clear(&config, args),
        Some(Command::Key(args)) => commands::key::key(&config, args),
        Some(Command::List(args)) => commands::list::list(&config, args),
        Some(Command::Show(args)) => commands::show::show(&config, args),
        Some(Command::Stats(args)) => commands::stats::stats(&config, args),
        Some(Command::Gc(args)) => commands::gc::gc(&config, args),
        Some(Command::Generated(sub)) => commands::completions::dispatch(&config, sub),
        None => {
            let settings = config.run(cli.run)?;
            commands::run::run(&settings)
        }
    }
}

/// `CACHECMD_DISABLE=1`: become the command, touching nothing.
fn is_disabled() -> bool {
    std::env::var_os("CACHECMD_DISABLE").is_some_and(|v| !v.is_empty() && v != "0")
}

fn pass_through(argv: &[std::ffi::OsString]) -> i32 {
    let Some((program, args)) = argv.split_first() else {
        return exit_codes::USAGE;
    };
    // Become the command exactly: the caller's dispositions and closed
    // descriptors, not ours.
    let closed = stdio::closed_mask();
    let mut command = std::process::Command::new(program);
    // SAFETY: child_setup is async-signal-safe (see exec::sys).
    unsafe { command.pre_exec(move || exec::sys::child_setup(closed)) };
    let error = command.args(args).exec();
    let error = runner::SpawnError::from_io(program, error);
    crate::stdio::message(format_args!("cachecmd: {error}"));
    error.exit_code()
}
