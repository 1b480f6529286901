//! Spawns the command and tees its stdout and stderr: to the caller as they
//! are produced, and into the entry being recorded. Both pipes are drained at
//! once on scoped threads, so a command that fills one pipe while we wait on
//! the other cannot deadlock; a lock held across "write to the caller, then
//! record" makes the caller's order and the entry's runs the same order.
//!
//! The run ends when the command exits, not when its pipes close: a
//! background grandchild that inherited them (`sh -c 'sleep 3 & echo hi'`)
//! would otherwise hold us for its whole life. Once the command has exited,
//! what is already in the pipes is drained and the pipes are closed; later
//! output of such a grandchild is neither captured nor relayed (it gets
//! EPIPE or SIGPIPE).
//!
//! With `--trace-inputs` ([`run_traced`]) the command is spawned through
//! the tracer's hand-off (`trace::spawn`): a tracer process of its own
//! traces it, and reports what it touched once it has exited; we stay its
//! parent and wait for it as for any command.
//!
//! A caller that stops reading does not stop the recording: the output keeps
//! flowing into the entry, up to `--max-entry-size`, so `cachecmd -- seq 1
//! 100000 | head -1` is recorded; past the limit the pipe is closed and the
//! command sees a broken pipe, as it would without us.

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt as _;
use std::process::{Command, ExitStatus, Stdio};

use thiserror::Error;

use crate::exec::stdio::{self, Output, WriteError};
use crate::exec::sys;
use crate::exec::tee::{self, Stream, PIPE_BUFFER};
use crate::exit_codes;
use crate::record::Sink;
use crate::trace::spawn::{Handoff, Start};
use crate::trace::Accesses;

#[derive(Debug, Error)]
pub enum SpawnError {
    #[error("{program}: command not found{}", did_you_mean(.program))]
    NotFound { program: String },
    /// `cachecmd -- ''`.
    #[error("the command name is empty ('')")]
    Empty,
    /// The script exists but its `#!` interpreter does not: exit 127 with
    /// ENOENT, as GNU `env` does, but named.
    #[error("{program}: bad interpreter: {interpreter}: No such file or directory")]
    BadInterpreter { program: String, interpreter: String },
    #[error("{program}: {source}")]
    NotExecutable { program: String, source: std::io::Error },
}

/// Subcommands, for the hint after a mistyped one (`cachecmd lst`).
const SUBCOMMANDS: [&str; 8] = ["audit", "clear", "evict", "gc", "key", "list", "show", "stats"];

/// `; did you mean 'list'?` when `program` is a bare name close to a subcommand.
fn did_you_mean(program: &str) -> String {
    if program.contains('/') {
        return String::new();
    }
    let close = SUBCOMMANDS.iter().map(|name| (strsim::jaro(program, name), name)).fold(
        None,
        |best: Option<(f64, &&str)>, (score, name)| match best {
            Some((top, _)) if top >= score => best,
            _ => Some((score, name)),
        },
    );
    match close {
        Some((score, name)) if score > 0.7 => format!("; did you mean '{name}'?"),
        _ => String::new(),
    }
}

impl SpawnError {
    pub fn exit_code(&self) -> i32 {
        match self {
            SpawnError::NotFound { .. } | SpawnError::Empty | SpawnError::BadInterpreter { .. } => {
                exit_codes::NOT_FOUND
            }
            SpawnError::NotExecutable { .. } => exit_codes::NOT_EXECUTABLE,
        }
    }

    pub fn from_io(program: &OsString, source: std::io::Error) -> SpawnError {
        if program.is_empty() {
            return SpawnError::Empty;
        }
        let name = program.to_string_lossy().into_owned();
        if source.kind() != std::io::ErrorKind::NotFound {
            return SpawnError::NotExecutable { program: name, source };
        }
        // ENOENT for a file that exists: its interpreter is missing.
        match interpreter(program) {
            Some(interpreter) => SpawnError::BadInterpreter { program: name, interpreter },
            None => SpawnError::NotFound { program: name },
        }
    }
}

/// The `#!` interpreter of the file `program` names (a path, or a name
/// looked up in `$PATH`), when it has one.
fn interpreter(program: &OsString) -> Option<String> {
    use std::io::Read as _;
    let found = crate::program::locate(program)?;
    let mut head = [0u8; 256];
    let read = std::fs::File::open(found).ok()?.read(&mut head).ok()?;
    let line = head[..read].strip_prefix(b"#!")?;
    let line = line.split(|&b| b == b'\n').next()?;
    let text = String::from_utf8_lossy(line);
    text.split_whitespace().next().map(str::to_string)
}

/// How the run ended, and what each sink recorded.
pub struct Finished {
    pub status: ExitStatus,
    pub recorded: Option<(crate::record::Recorded, crate::record::Recorded)>,
    /// A failed write to the caller (not a vanished reader), already reported.
    pub write_error: Option<WriteError>,
    /// The signal that interrupted the run (see `exec::sys`): never cached,
    /// never retried, never covered by `--stale-if-error`.
    pub interrupted: Option<i32>,
}

impl Finished {
    /// Our status for the caller: the command's, unless its output could not
    /// be delivered.
    pub fn exit_code(&self) -> i32 {
        match &self.write_error {
            Some(_) => exit_codes::WRITE_FAILED,
            None => exit_codes::from_status(self.status),
        }
    }
}

/// Where the command's output goes besides the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// To our stdout/stderr as it is produced.
    Stream,
    /// Only into the sinks (retries, stale-if-error): replayed afterwards.
    Capture,
}

/// Runs `argv` with `stdin` (a spooled `--stdin`, else ours), passing its
/// output to ours (in `Mode::Stream`) and into `sinks` when given. A
/// descriptor the caller closed is closed for the command too.
pub fn run(
    argv: &[OsString],
    stdin: Option<&std::fs::File>,
    sinks: Option<(Sink<'_>, Sink<'_>)>,
    mode: Mode,
) -> Result<Finished, SpawnError> {
    run_with(argv, stdin, sinks, mode, false).map(|(finished, _)| finished)
}

/// What tracing found (`--trace-inputs`), or why the run was not traced.
pub enum Trace {
    Traced(Accesses),
    Untraced(String),
}

/// [`run`] under the input tracer; a command that cannot be traced runs
/// untraced (`Trace::Untraced` says why), with the same output and status.
pub fn run_traced(
    argv: &[OsString],
    stdin: Option<&std::fs::File>,
    sinks: Option<(Sink<'_>, Sink<'_>)>,
    mode: Mode,
) -> Result<(Finished, Trace), SpawnError> {
    let (finished, trace) = run_with(argv, stdin, sinks, mode, true)?;
    Ok((finished, trace.unwrap_or_else(|| Trace::Untraced("not traced".into()))))
}

fn run_with(
    argv: &[OsString],
    stdin: Option<&std::fs::File>,
    sinks: Option<(Sink<'_>, Sink<'_>)>,
    mode: Mode,
    traced: bool,
) -> Result<(Finished, Option<Trace>), SpawnError> {
    let (program, args) = argv.split_first().ok_or(SpawnError::Empty)?;
    // A spooled stdin replaces a closed one; closed outputs get no pipe.
    let closed = stdio::closed_mask() & if stdin.is_some() { !1 } else { !0 };
    let stdin = match stdin {
        Some(file) => {
            let mut file = file.try_clone().map_err(|e| SpawnError::from_io(program, e))?;
            std::io::Seek::rewind(&mut file).map_err(|e| SpawnError::from_io(program, e))?;
            Stdio::from(file)
        }
        None => Stdio::inherit(),
    };
    let piped = |fd: i32| if closed & (1 << fd) != 0 { Stdio::null() } else { Stdio::piped() };
    let mut command = Command::new(program);
    sys::restore_caller_state(&mut command, closed);
    sys::install_relay();
    if let Some(signal) = sys::interrupted() {
        // Interrupted between attempts (a `--retry` backoff): no new attempt.
        let status = ExitStatus::from_raw(signal);
        let finished =
            Finished { status, recorded: None, write_error: None, interrupted: Some(signal) };
        return Ok((finished, None));
    }
    let (mut handoff, mut refused) = (None, None);
    if traced {
        match crate::trace::refuse(program)
            .map_or_else(|| Handoff::install(&mut command, argv), Err)
        {
            Ok(installed) => handoff = Some(installed),
            Err(why) => refused = Some(why),
        }
    }
    sys::set_child(None);
    let spawned = command.args(args).stdin(stdin).stdout(piped(1)).stderr(piped(2)).spawn();
    if let Some(handoff) = &mut handoff {
        handoff.spawned();
    }
    let mut child = spawned.map_err(|e| SpawnError::from_io(program, e))?;
    sys::set_child(Some(child.id()));
    let start = handoff.as_mut().map(Handoff::start);
    if let Some(e) = handoff.as_ref().and_then(Handoff::exec_error) {
        // The child could not exec: it has exited 127; reap it.
        wait(&mut child);
        sys::set_child(None);
        return Err(SpawnError::from_io(program, e));
    }

    let child_out = child.stdout.take().map(OwnedFd::from);
    let child_err = child.stderr.take().map(OwnedFd::from);
    if let Some(pipe) = &child_out {
        // Best effort: a smaller pipe only costs speed.
        let _ = rustix::pipe::fcntl_setpipe_size(pipe, PIPE_BUFFER);
    }
    let (out_sink, err_sink) = match sinks {
        Some((out, err)) => (Some(out), Some(err)),
        None => (None, None),
    };
    let (out, err) = match mode {
        Mode::Stream => (Some(Output::Stdout), Some(Output::Stderr)),
        Mode::Capture => (None, None),
    };
    let stop = rustix::pipe::pipe().map_err(|e| SpawnError::from_io(program, e.into()));
    let (stop_read, stop_write) = match stop {
        Ok(stop) => stop,
        Err(e) => {
            // Without a tee the command must not be left running unwatched.
            let _ = child.kill();
            wait(&mut child);
            sys::set_child(None);
            return Err(e);
        }
    };
    let streams = [
        Stream { pipe: child_out, output: out, sink: out_sink },
        Stream { pipe: child_err, output: err, sink: err_sink },
    ];
    let (status, [out_tee, err_tee]) = std::thread::scope(|scope| {
        let tee = scope.spawn(|| tee::tee(streams, &stop_read));
        let status = wait(&mut child);
        sys::set_child(None);
        // The command has exited: the readers drain what is left and stop.
        drop(stop_write);
        (status, tee.join().unwrap_or_default())
    });
    let recorded = match (out_tee.recorded, err_tee.recorded) {
        (Some(out), Some(err)) => Some((out, err)),
        _ => None,
    };
    let write_error = out_tee.error.or(err_tee.error).filter(|e| !e.is_broken_pipe());
    if let Some(error) = &write_error {
        error.report();
    }
    let finished = Finished { status, recorded, write_error, interrupted: sys::interrupted() };
    let trace = match (handoff, start) {
        (Some(handoff), Some(Start::Traced)) => {
            let accesses = handoff.finish();
            Some(match accesses.incomplete.clone() {
                Some(why) => Trace::Untraced(why),
                None => Trace::Traced(accesses),
            })
        }
        (_, Some(Start::Seized(why) | Start::Untraced(why))) => Some(Trace::Untraced(why)),
        _ => refused.map(Trace::Untraced),
    };
    Ok((finished, trace))
}

/// wait(2) on our own child only fails on EINTR/ECHILD; report a generic
/// failure rather than invent success.
fn failed_wait() -> ExitStatus {
    ExitStatus::from_raw(1 << 8)
}

fn wait(child: &mut std::process::Child) -> ExitStatus {
    loop {
        match child.wait() {
            Ok(status) => return status,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return failed_wait(),
        }
    }
}
