//! The tee of a running command's two pipes: one reader thread per pipe,
//! each waking as soon as its pipe has bytes, and one writer that takes the
//! chunks in the order they were read, passes each to the caller and into
//! the entry. So the caller's order and the entry's runs are one order, the
//! order of arrival at cachecmd (the best there is: the two pipes are
//! separate), and a caller that reads slowly never delays the reading.
//!
//! When the command exits, `stop` closes: each reader drains what its pipe
//! already holds, without waiting for more, and ends (see runner.rs for why).

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

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
    let (tx, rx) = sync_channel(DEPTH);
    std::thread::scope(|scope| {
        let mut parts = Vec::new();
        for (index, stream) in streams.into_iter().enumerate() {
            let (tx, done) = (tx.clone(), &done[index]);
            if let Some(pipe) = stream.pipe {
                scope.spawn(move || read(pipe, index, &tx, stop, done));
            }
            parts.push((stream.output, stream.sink));
        }
        drop(tx);
        write(rx, parts, &done)
    })
}

/// Reads one pipe into the channel until EOF, the writer gives it up, or
/// (after `stop`) the pipe is empty.
fn read(
    pipe: OwnedFd,
    index: usize,
    tx: &SyncSender<(usize, Vec<u8>)>,
    stop: &OwnedFd,
    done: &AtomicBool,
) {
    let nonblocking = rustix::fs::fcntl_getfl(&pipe)
        .and_then(|flags| rustix::fs::fcntl_setfl(&pipe, flags | rustix::fs::OFlags::NONBLOCK));
    let mut buf = vec![0u8; PIPE_BUFFER];
    let mut draining = false;
    let mut drain_reads = 0;
    while !done.load(Ordering::Relaxed) {
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
        }
        let n = match rustix::io::read(&pipe, &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) if draining => break,
            Err(Errno::AGAIN) => continue,
            Err(_) => break,
        };
        if tx.send((index, buf[..n].to_vec())).is_err() {
            break;
        }
    }
    // Closing the pipe here is what gives the command its EPIPE.
}

/// Passes chunks on in order. A failed output is given up while its
/// recording goes on; with neither left, that stream's reader is stopped.
fn write(
    rx: Receiver<(usize, Vec<u8>)>,
    parts: Vec<(Option<Output>, Option<Sink<'_>>)>,
    done: &[AtomicBool; 2],
) -> [Tee; 2] {
    let mut parts: Vec<_> = parts.into_iter().map(|(o, s)| (o, s, None, true)).collect();
    for (index, bytes) in rx {
        let Some((output, sink, error, recording)) = parts.get_mut(index) else { continue };
        if let Some(out) = *output {
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
