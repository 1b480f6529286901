//! Spawns the command and tees its stdout and stderr: to the caller as they
//! are produced, and into the entry being recorded. Both pipes are drained at
//! once on scoped threads, so a command that fills one pipe while we wait on
//! the other cannot deadlock.

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};

use thiserror::Error;

use crate::exit_codes;
use crate::record::{Recorded, Sink};
use crate::stdio::{self, Output};

#[derive(Debug, Error)]
pub enum SpawnError {
    #[error("{program}: command not found")]
    NotFound { program: String },
    #[error("{program}: {source}")]
    NotExecutable { program: String, source: std::io::Error },
}

impl SpawnError {
    pub fn exit_code(&self) -> i32 {
        match self {
            SpawnError::NotFound { .. } => exit_codes::NOT_FOUND,
            SpawnError::NotExecutable { .. } => exit_codes::NOT_EXECUTABLE,
        }
    }

    pub fn from_io(program: &OsString, source: std::io::Error) -> SpawnError {
        let program = program.to_string_lossy().into_owned();
        if source.kind() == std::io::ErrorKind::NotFound {
            SpawnError::NotFound { program }
        } else {
            SpawnError::NotExecutable { program, source }
        }
    }
}

/// How the run ended, and what each sink recorded.
pub struct Finished {
    pub status: ExitStatus,
    pub recorded: Option<(Recorded, Recorded)>,
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
/// output to ours (in `Mode::Stream`) and into `sinks` when given.
pub fn run(
    argv: &[OsString],
    stdin: Option<&std::fs::File>,
    sinks: Option<(Sink<'_>, Sink<'_>)>,
    mode: Mode,
) -> Result<Finished, SpawnError> {
    let (program, args) =
        argv.split_first().ok_or_else(|| SpawnError::NotFound { program: String::new() })?;
    let stdin = match stdin {
        Some(file) => {
            let mut file = file.try_clone().map_err(|e| SpawnError::from_io(program, e))?;
            std::io::Seek::rewind(&mut file).map_err(|e| SpawnError::from_io(program, e))?;
            Stdio::from(file)
        }
        None => Stdio::inherit(),
    };
    let mut command = Command::new(program);
    // SAFETY: signal(2) is async-signal-safe; between fork and exec the
    // child only resets dispositions we changed in ourselves (ignored
    // SIGINT/SIGQUIT while a child runs, SIGXFSZ always), so every attempt
    // starts exactly as a direct run would. std restores SIGPIPE itself.
    unsafe {
        command.pre_exec(|| {
            for signal in [libc::SIGINT, libc::SIGQUIT, libc::SIGXFSZ] {
                libc::signal(signal, libc::SIG_DFL);
            }
            Ok(())
        });
    }
    let mut child = command
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| SpawnError::from_io(program, e))?;
    // Terminal signals reach the child directly (same process group); we stay
    // alive to report its real exit status instead of dying first.
    stdio::ignore_terminal_signals();

    let child_out = child.stdout.take();
    let child_err = child.stderr.take();
    if let Some(pipe) = &child_out {
        widen_pipe(pipe);
    }
    let (out_sink, err_sink) = match sinks {
        Some((out, err)) => (Some(out), Some(err)),
        None => (None, None),
    };
    let (out_recorded, err_recorded) = std::thread::scope(|scope| {
        let (out, err) = match mode {
            Mode::Stream => (Some(Output::Stdout), Some(Output::Stderr)),
            Mode::Capture => (None, None),
        };
        let err_thread = scope.spawn(move || tee(child_err, err, err_sink));
        let out_recorded = tee(child_out, out, out_sink);
        (out_recorded, err_thread.join().ok().flatten())
    });
    let status = wait(&mut child);
    let recorded = match (out_recorded, err_recorded) {
        (Some(out), Some(err)) => Some((out, err)),
        _ => None,
    };
    Ok(Finished { status, recorded })
}

/// A 64 KiB pipe makes a fast producer and us trade places every 64 KiB;
/// 1 MiB (the default unprivileged maximum) cuts those switches sixteenfold.
/// Best effort: a smaller pipe only costs speed.
fn widen_pipe(pipe: &impl std::os::fd::AsRawFd) {
    // SAFETY: F_SETPIPE_SZ on a pipe we own; failure leaves it unchanged.
    unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_BUFFER as libc::c_int) };
}

const PIPE_BUFFER: usize = 1 << 20;

fn wait(child: &mut std::process::Child) -> ExitStatus {
    loop {
        match child.wait() {
            Ok(status) => return status,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // wait(2) on our own child only fails on EINTR/ECHILD; report a
            // generic failure rather than invent success.
            Err(_) => return std::os::unix::process::ExitStatusExt::from_raw(1 << 8),
        }
    }
}

/// Copies one pipe to our output and the sink until EOF. When the caller
/// stops reading, the recording is abandoned and the pipe closed, so the
/// command sees SIGPIPE exactly as it would without us.
fn tee(
    pipe: Option<impl Read>,
    output: Option<Output>,
    mut sink: Option<Sink<'_>>,
) -> Option<Recorded> {
    let Some(mut pipe) = pipe else {
        return sink.map(Sink::finish);
    };
    let mut buf = vec![0u8; PIPE_BUFFER];
    loop {
        let n = match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        if output.is_some_and(|output| stdio::write_all(output, &buf[..n]).is_err()) {
            if let Some(sink) = sink.as_mut() {
                sink.abandon();
            }
            break;
        }
        if let Some(sink) = sink.as_mut() {
            sink.record(&buf[..n]);
        }
    }
    drop(pipe);
    sink.map(Sink::finish)
}
