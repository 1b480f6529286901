//! cachecmd: cache the output of shell commands.
//!
//! The binary is a thin shell around [`run_cli`]; the modules are public so
//! fuzz targets, the completion/man generator and tests can reach them.

pub mod background;
pub mod cli;
pub mod commands;
pub mod entry;
pub mod error;
pub mod exit_codes;
pub mod format;
pub mod gc;
pub mod key;
pub mod outputs;
pub mod par;
pub mod record;
pub mod replay;
pub mod runner;
pub mod settings;
pub mod spool;
pub mod stdio;
pub mod store;
pub mod tier;
pub mod units;

use std::os::unix::process::CommandExt;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::settings::Config;

/// The process set-up the binary needs before `run_cli` (it skips std's own
/// runtime start-up, see main.rs).
pub fn startup() {
    // Descriptors 0-2 must be open: otherwise the first file we open (a lock
    // file, an entry) would become "stdout" and receive replayed output.
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd { fd, events: 0, revents: 0 });
    // SAFETY: `fds` is a valid array of three pollfd structs.
    let polled = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) };
    if polled > 0 {
        for pollfd in fds.iter().filter(|p| p.revents & libc::POLLNVAL != 0) {
            let flags = if pollfd.fd == 0 { libc::O_RDONLY } else { libc::O_WRONLY };
            // SAFETY: a NUL-terminated path; open returns the lowest free
            // descriptor, which is the closed one we are filling.
            unsafe { libc::open(c"/dev/null".as_ptr(), flags) };
        }
    }
    // A vanished reader must show up as EPIPE, which each mode handles,
    // rather than kill us mid-entry.
    // Likewise a file size limit (`ulimit -f`) must show up as a failed
    // write (EFBIG: the entry is not recorded) rather than kill us mid-replay.
    // SAFETY: setting a signal to SIG_IGN has no preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Parses our own command line, runs it, and returns the exit status.
pub fn run_cli() -> i32 {
    let code = run_cli_inner();
    // Without std's runtime, nothing flushes stdout at exit.
    let _ = std::io::Write::flush(&mut std::io::stdout());
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
        // SAFETY: restoring the default disposition has no preconditions.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
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
    // Become the command exactly: undo the SIGXFSZ we ignore (std restores
    // SIGPIPE itself).
    // SAFETY: restoring a default disposition has no preconditions.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_DFL) };
    let error = std::process::Command::new(program).args(args).exec();
    let error = runner::SpawnError::from_io(program, error);
    eprintln!("cachecmd: {error}");
    error.exit_code()
}
