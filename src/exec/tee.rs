//! The tee of a running command's two pipes: one reader thread per pipe,
//! each waking as soon as its pipe has bytes, and one writer that takes the
//! chunks in the order they were read, passes each to the caller and into
//! the entry. So the caller's order and the entry's runs are one order, the
//! order of arrival at cachecmd (the best there is: the two pipes are
//! separate), and a caller that reads slowly never delays the reading.
//!
//! When the command exits, `stop` closes: each reader drains what its pipe
//! already holds, without waiting for more, and ends (see runner.rs for why).
//!
//! When our stdout is a blocking pipe of its own, the stdout reader hands
//! the bytes to the caller itself with `tee(2)` (the kernel shares the
//! pages, no copy) and then reads the same bytes for the entry; the writer
//! only records them. Once a `tee` fails (a full non-blocking pipe, a reader
//! that left), or while draining, it goes back to the read-and-write path
//! for good, so the writer reports errors as before and stdout's own order
//! is kept (a chunk already queued is never overtaken by a `tee`).

use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

use rustix::event::{poll, PollFd, PollFlags};
use rustix::io::Errno;

use crate::exec::stdio::{self, Output, WriteError};
use crate::record::{Recorded, Sink};

/// Bytes read at once; also the pipe size we ask for.
pub const PIPE_BUFFER: usize = 1 << 20;
/// Chunks in flight between the readers and the writer.
const DEPTH: usize = 4;
/// Reads after the command exited: what its pipe can hold, and some slack,
/// so a grandchild that keeps writing cannot keep us.
const MAX_DRAIN_READS: u32 = 16;

/// What one stream ended with.
#[derive(Default)]
pub struct Tee {
    pub recorded: Option<Recorded>,
    pub error: Option<WriteError>,
}

/// One stream: its pipe (none when the caller closed that descriptor), where
/// it goes, and its sink.
pub struct Stream<'a> {
    pub pipe: Option<OwnedFd>,
    pub output: Option<Output>,
    pub sink: Option<Sink<'a>>,
}

/// Runs the tee until both pipes are done; `stop` becomes readable (its
/// write end closed) once the command has exited.
pub fn tee(streams: [Stream<'_>; 2], stop: &OwnedFd) -> [Tee; 2] {
    let done = [AtomicBool::new(false), AtomicBool::new(false)];
    let turn = Mutex::new(());
    let (tx, rx) = sync_channel(DEPTH);
    let tee_stdout = streams[0].output == Some(Output::Stdout) && stdio::stdout_accepts_tee();
    std::thread::scope(|scope| {
        let mut parts = Vec::new();
        for (index, stream) in streams.into_iter().enumerate() {
            let (tx, done, turn) = (tx.clone(), &done[index], &turn);
            let teeing = index == 0 && tee_stdout;
            if let Some(pipe) = stream.pipe {
                scope.spawn(move || read(pipe, index, teeing, &tx, stop, done, turn));
            }
            parts.push((stream.output, stream.sink));
        }
        drop(tx);
        write(rx, parts, &done)
    })
}

/// A chunk read from pipe `.0`; `.2` when it was already passed to the
/// caller with `tee`.
type Chunk = (usize, Vec<u8>, bool);

/// Reads one pipe into the channel until EOF, the writer gives it up, or
/// (after `stop`) the pipe is empty. With `teeing`, each chunk goes to our
/// stdout by `tee` first. A reader takes `turn` from waking to queueing its
/// chunk, so the queue's order is the order the pipes woke us in, however
/// long one reader's path (`tee`, then read) is than the other's.
fn read(
    pipe: OwnedFd,
    index: usize,
    mut teeing: bool,
    tx: &SyncSender<Chunk>,
    stop: &OwnedFd,
    done: &AtomicBool,
    turn: &Mutex<()>,
) {
    let nonblocking = rustix::fs::fcntl_getfl(&pipe)
        .and_then(|flags| rustix::fs::fcntl_setfl(&pipe, flags | rustix::fs::OFlags::NONBLOCK));
    let mut buf = vec![0u8; PIPE_BUFFER];
    let mut draining = false;
    let mut drain_reads = 0;
    teeing &= nonblocking.is_ok();
    while !done.load(Ordering::Relaxed) {
        let mut ready = false;
        if draining {
            drain_reads += 1;
            if drain_reads > MAX_DRAIN_READS {
                break;
            }
        } else if nonblocking.is_ok() {
            let mut fds = [PollFd::new(&pipe, PollFlags::IN), PollFd::new(stop, PollFlags::IN)];
            match poll(&mut fds, None) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(_) => break,
            }
            draining = !fds[1].revents().is_empty();
            ready = !fds[0].revents().is_empty();
        }
        // Only non-blocking reads happen under `turn`: a blocking one could
        // wait on a command that is itself waiting on the other pipe.
        let my_turn = nonblocking
            .is_ok()
            .then(|| turn.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        // Only on a pipe poll found readable: `tee` would wait for bytes.
        if teeing && ready && !draining {
            match stdio::tee_to_stdout(pipe.as_fd(), PIPE_BUFFER) {
                Ok(0) => break,
                Err(Errno::AGAIN) => {
                    // The caller's pipe is full: wait for it without the turn.
                    drop(my_turn);
                    teeing = stdio::wait_writable(Output::Stdout).is_ok();
                    continue;
                }
                Ok(n) => {
                    // Those n bytes are in the pipe, and we are its only reader.
                    if !read_exact(&pipe, &mut buf[..n])
                        || tx.send((index, buf[..n].to_vec(), true)).is_err()
                    {
                        break;
                    }
                    continue;
                }
                Err(_) => teeing = false,
            }
        }
        let n = match rustix::io::read(&pipe, &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) if draining => break,
            Err(Errno::AGAIN) => continue,
            Err(_) => break,
        };
        if tx.send((index, buf[..n].to_vec(), false)).is_err() {
            break;
        }
    }
    // Closing the pipe here is what gives the command its EPIPE.
}

/// Fills `buf` from `pipe`, which already holds that many bytes.
fn read_exact(pipe: &OwnedFd, mut buf: &mut [u8]) -> bool {
    while !buf.is_empty() {
        match rustix::io::read(pipe, &mut *buf) {
            Ok(0) => return false,
            Ok(n) => buf = &mut buf[n..],
            Err(Errno::INTR) => {}
            Err(_) => return false,
        }
    }
    true
}

/// Passes chunks on in order. A failed output is given up while its
/// recording goes on; with neither left, that stream's reader is stopped.
fn write(
    rx: Receiver<Chunk>,
    parts: Vec<(Option<Output>, Option<Sink<'_>>)>,
    done: &[AtomicBool; 2],
) -> [Tee; 2] {
    let mut parts: Vec<_> = parts.into_iter().map(|(o, s)| (o, s, None, true)).collect();
    for (index, bytes, delivered) in rx {
        let Some((output, sink, error, recording)) = parts.get_mut(index) else { continue };
        if let Some(out) = output.filter(|_| !delivered) {
            if let Err(e) = stdio::write_all(out, &bytes) {
                *error = Some(e);
                *output = None;
            }
        }
        if *recording {
            *recording = sink.as_mut().is_some_and(|sink| sink.record(&bytes));
        }
        if output.is_none() && !*recording && error.is_some() {
            done[index].store(true, Ordering::Relaxed);
        }
    }
    let mut tees = parts
        .into_iter()
        .map(|(_, sink, error, _)| Tee { recorded: sink.map(Sink::finish), error });
    [tees.next().unwrap_or_default(), tees.next().unwrap_or_default()]
}
