//! cachecmd: cache the output of shell commands.
//!
//! The binary is a thin shell around [`startup`] and [`run_cli`]; every
//! module is private. What tests, fuzz targets and the completion/man
//! generator need is re-exported, unstable, from [`test_support`].

mod args;
mod cli;
mod commands;
mod diag;
mod entry;
mod error;
mod exec;
mod exit_codes;
mod expiry;
mod format;
mod freshness;
mod gc;
mod generate;
mod key;
mod outputs;
mod par;
mod program;
#[cfg(feature = "redis")]
mod quiet_thread;
mod record;
mod settings;
mod spool;
mod store;
pub mod test_support;
mod tier;
mod trace;
mod units;

use std::os::unix::process::CommandExt;

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
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if commands::bkt::invoked_as_bkt(&argv) {
        return commands::bkt::main(argv);
    }
    let cli = match args::parse(argv) {
        Ok(cli) => cli,
        Err(args::ArgsError::Clap(e)) => {
            let _ = e.print();
            return if e.use_stderr() { exit_codes::USAGE } else { 0 };
        }
        Err(args::ArgsError::Message(message)) => {
            return error::report(&error::Error::Usage(message));
        }
    };
    if cli.subcommand.is_none() {
        match settings::env_bool("CACHECMD_DISABLE") {
            Ok(Some(true)) => return disabled(&cli.run),
            Ok(_) => {}
            Err(e) => return error::report(&e.into()),
        }
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
    if let Some(Command::Generated(sub)) = cli.subcommand {
        return commands::completions::dispatch(sub);
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
        Some(Command::Config(args)) => commands::config::config(&config, args),
        Some(Command::Audit(args)) => commands::audit::audit(&config, args),
        Some(Command::Generated(_)) => unreachable!("dispatched before the config is read"),
        None => {
            let (command, verbose) = (cli.run.command.clone(), cli.run.key.common.verbose);
            match config.run(cli.run) {
                // No working directory to key on: run the command uncached.
                Err(settings::SettingsError::Cwd(e)) => {
                    Ok(commands::run::unkeyed(&command, verbose, &e))
                }
                settings => {
                    let settings = settings?;
                    if !settings.common.verbose {
                        warn_if_unwritable(&settings.common.cache_dir);
                    }
                    commands::run::run(&settings)
                }
            }
        }
    }
}

/// A cache directory that exists but that we cannot write (mode 0500)
/// would quietly turn every run into an uncached one: say so, once per
/// run, and run anyway. (With -v the status line says why nothing was
/// recorded; a directory that cannot be created is reported by the run.)
fn warn_if_unwritable(root: &std::path::Path) {
    use rustix::fs::{access, Access};
    let writable = |dir: &std::path::Path| access(dir, Access::WRITE_OK | Access::EXEC_OK);
    let v1 = root.join("v1");
    // Only directories: anything else at that path is refused by the store.
    for dir in [root, v1.as_path()].into_iter().filter(|dir| dir.is_dir()) {
        if let Err(e) = writable(dir) {
            if e != rustix::io::Errno::NOENT {
                let e = std::io::Error::from(e);
                error::warn(format_args!("cache dir {}: {e}; running uncached", dir.display()));
                return;
            }
        }
    }
}

/// `CACHECMD_DISABLE=1`: no cache. A lookup that must not run the command
/// (`--cached-only`, `--check`) is then a miss: nothing printed, nothing run;
/// any other run becomes the command.
fn disabled(run: &cli::RunArgs) -> i32 {
    let lookup = &run.lookup_only;
    if !(lookup.cached_only || lookup.check) {
        return pass_through(&run.command);
    }
    match Config::load() {
        Ok(config) => config.miss_status(lookup),
        Err(e) => error::report(&e.into()),
    }
}

/// `CACHECMD_DISABLE=1`: become the command, touching nothing.
fn pass_through(argv: &[std::ffi::OsString]) -> i32 {
    let Some((program, args)) = argv.split_first() else {
        return exit_codes::USAGE;
    };
    // Become the command exactly: the caller's dispositions and closed
    // descriptors, not ours.
    let closed = exec::stdio::closed_mask();
    let mut command = std::process::Command::new(program);
    exec::sys::restore_caller_state(&mut command, closed);
    let error = command.args(args).exec();
    let error = exec::runner::SpawnError::from_io(program, error);
    exec::stdio::message(format_args!("cachecmd: {error}"));
    error.exit_code()
}
