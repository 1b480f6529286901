//! Builds an entry while the command runs: stdout streams straight into the
//! pending entry after its metadata, stderr into an unnamed spill file (it is
//! produced concurrently, so its offset is unknown until stdout ends). The
//! header goes in last, so only a finished entry ever carries a valid one.
//! Both sinks also note, in the order chunks arrive, which stream each
//! recorded chunk came from: the entry's runs, which a hit replays in order.
//!
//! A captured run (`--retry`, `--stale-if-error`) is shown only after it
//! ends, so losing its recording would mean running the command again.
//! When the disk refuses a write there, the recording moves on into
//! anonymous memory files and ends as an in-memory entry, replayed once
//! and never published: a full disk costs memory, not a second run.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use crate::entry::{Header, Meta, Runs, HEADER_LEN, MAX_META_LEN, MAX_RUNS};
use crate::store::PendingEntry;

/// Why a recording was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Abandoned {
    TooLarge,
    WriteFailed,
    /// The streams alternated more than the entry format records.
    Interleaved,
    /// A declared `--output` could not be archived faithfully.
    Outputs(String),
}

/// The `--output` paths to archive into the entry, relative to `cwd`.
#[derive(Debug, Clone)]
pub struct OutputsSpec {
    pub paths: Vec<std::path::PathBuf>,
    pub cwd: std::path::PathBuf,
}

/// Counts and hashes what passes through on its way into the entry file.
struct HashingWriter<'a> {
    file: &'a mut File,
    hasher: Xxh3,
    len: u64,
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(bytes)?;
        self.hasher.update(&bytes[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Shared between the two stream sinks: the size cap and the first failure.
pub struct Budget {
    used: AtomicU64,
    limit: u64,
    too_large: AtomicBool,
    write_failed: AtomicBool,
    /// Both sinks append here, so the order is the order of arrival.
    runs: Mutex<Option<Runs>>,
    /// Whether a failed write moves the recording into memory (capture).
    fallback: bool,
    /// stdout's and stderr's recording once it moved into memory.
    memory: Mutex<[Option<File>; 2]>,
}

impl Budget {
    fn abandoned(&self) -> Option<Abandoned> {
        if self.write_failed.load(Ordering::Relaxed) {
            Some(Abandoned::WriteFailed)
        } else if self.runs.lock().map_or(true, |runs| runs.is_none()) {
            Some(Abandoned::Interleaved)
        } else if self.too_large.load(Ordering::Relaxed) {
            Some(Abandoned::TooLarge)
        } else {
            None
        }
    }
}

/// One output stream's destination inside the entry.
pub struct Sink<'a> {
    file: &'a File,
    hasher: Xxh3,
    len: u64,
    budget: &'a Budget,
    stderr: bool,
    /// Where this stream starts in `file`.
    start: u64,
}

impl Sink<'_> {
    /// Records `bytes`, or gives up quietly: the command's own output to the
    /// caller never depends on the recording. `false` once the recording
    /// is abandoned (over the size limit, a failed write).
    pub fn record(&mut self, bytes: &[u8]) -> bool {
        if self.budget.abandoned().is_some() {
            return false;
        }
        let used = self.budget.used.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        if used.saturating_add(bytes.len() as u64) > self.budget.limit {
            self.budget.too_large.store(true, Ordering::Relaxed);
            return false;
        }
        if !self.write(bytes) {
            self.budget.write_failed.store(true, Ordering::Relaxed);
            return false;
        }
        if let Ok(mut runs) = self.budget.runs.lock() {
            if !runs.as_mut().is_some_and(|r| r.push(self.stderr, bytes.len() as u64)) {
                *runs = None;
            }
        }
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
        true
    }

    /// Writes to the entry, or to memory once the entry refused a write.
    fn write(&self, bytes: &[u8]) -> bool {
        let index = usize::from(self.stderr);
        let Ok(mut memory) = self.budget.memory.lock() else { return false };
        if let Some(memory) = memory[index].as_mut() {
            return memory.write_all(bytes).is_ok();
        }
        let mut file = self.file;
        if file.write_all(bytes).is_ok() {
            return true;
        }
        if !self.budget.fallback {
            return false;
        }
        // What reached the disk before is read back; the failed write may
        // have left part of `bytes` there, which is not counted.
        let moved = crate::spool::memory_file().and_then(|mut into| {
            copy_range(self.file, self.start, self.len, &mut into)?;
            into.write_all(bytes)?;
            Ok(into)
        });
        match moved {
            Ok(into) => {
                memory[index] = Some(into);
                true
            }
            Err(_) => false,
        }
    }

    /// Length and checksum of what was recorded.
    pub fn finish(self) -> Recorded {
        Recorded { len: self.len, hash: self.hasher.digest() }
    }
}

/// What one stream's sink recorded.
#[derive(Debug, Clone, Copy)]
pub struct Recorded {
    len: u64,
    hash: u64,
}

/// A completed recording.
pub enum Completed {
    /// The entry, ready to publish.
    Entry(PendingEntry, Header, Option<crate::outputs::ArchiveSummary>),
    /// A captured run the disk could not hold: a whole entry in memory, to
    /// replay once, never to publish.
    Memory(File, Header),
}

pub struct Recorder {
    pending: PendingEntry,
    spill: File,
    meta: Vec<u8>,
    budget: Budget,
}

impl Recorder {
    pub fn new(
        mut pending: PendingEntry,
        meta: &Meta,
        limit: u64,
        spill_dir: &Path,
        fallback: bool,
    ) -> std::io::Result<Recorder> {
        let meta = meta.encode();
        if meta.len() > MAX_META_LEN as usize {
            // The reader would refuse it as corrupt on every lookup.
            return Err(std::io::Error::other("command line too long to record"));
        }
        let spill = tempfile::tempfile_in(spill_dir)?;
        // A zeroed header until `finish`: a crash leaves an undecodable file.
        pending.file.write_all(&[0u8; HEADER_LEN])?;
        pending.file.write_all(&meta)?;
        let budget = Budget {
            used: AtomicU64::new(0),
            limit,
            too_large: AtomicBool::new(false),
            write_failed: AtomicBool::new(false),
            runs: Mutex::new(Some(Runs::default())),
            fallback,
            memory: Mutex::new([None, None]),
        };
        Ok(Recorder { pending, spill, meta, budget })
    }

    /// Sinks for stdout and stderr, usable from two threads at once.
    pub fn sinks(&self) -> (Sink<'_>, Sink<'_>) {
        let sink = |file, stderr, start| Sink {
            file,
            hasher: Xxh3::new(),
            len: 0,
            budget: &self.budget,
            stderr,
            start,
        };
        let stdout_start = HEADER_LEN as u64 + self.meta.len() as u64;
        (sink(&self.pending.file, false, stdout_start), sink(&self.spill, true, 0))
    }

    /// The stdout recorded into the entry file, read back without moving
    /// its write position; `None` once it moved into memory (such an entry
    /// is replayed once and never published).
    pub fn stdout(&self, stdout: &Recorded) -> Option<impl std::io::Read + '_> {
        if self.budget.memory.lock().map_or(true, |memory| memory[0].is_some()) {
            return None;
        }
        let start = HEADER_LEN as u64 + self.meta.len() as u64;
        Some(ReadAt { file: &self.pending.file, at: start, end: start + stdout.len })
    }

    /// Completes the entry: appends stderr, the `--output` archive and the
    /// runs, then writes the header (with the run's wall time). A captured run the disk could not hold
    /// is completed in memory instead.
    pub fn finish(
        mut self,
        stdout: Recorded,
        stderr: Recorded,
        exit_code: i32,
        expires_at: u64,
        run_time: std::time::Duration,
        outputs: Option<&OutputsSpec>,
    ) -> Result<Completed, Abandoned> {
        if let Some(reason) = self.budget.abandoned() {
            return Err(reason);
        }
        let header = Header {
            meta_len: self.meta.len() as u32,
            stdout_len: stdout.len,
            stderr_len: stderr.len,
            exit_code,
            // Saturates at 49 days: a run that long saves at least that.
            run_ms: u32::try_from(run_time.as_millis()).unwrap_or(u32::MAX),
            meta_hash: xxh3_64(&self.meta),
            stdout_hash: stdout.hash,
            stderr_hash: stderr.hash,
            expires_at,
            outputs_len: 0,
            outputs_hash: xxh3_64(&[]),
            runs_len: 0,
            runs_hash: xxh3_64(&[]),
            key: *self.pending.key.bytes(),
        };
        let runs = self.budget.runs.lock().ok().and_then(|mut r| r.take());
        let runs = runs.ok_or(Abandoned::Interleaved)?.encode();
        debug_assert!(runs.len() <= MAX_RUNS * 8);
        let in_memory = self.budget.memory.lock().map_or(true, |m| m.iter().any(Option::is_some));
        if !in_memory {
            match self.complete_on_disk(header, &runs, outputs) {
                Ok((header, summary)) => {
                    return Ok(Completed::Entry(self.pending, header, summary))
                }
                Err(Abandoned::WriteFailed) if self.budget.fallback => {}
                Err(e) => return Err(e),
            }
        }
        let (file, header) =
            self.complete_in_memory(header, &runs).map_err(|_| Abandoned::WriteFailed)?;
        Ok(Completed::Memory(file, header))
    }

    fn complete_on_disk(
        &mut self,
        mut header: Header,
        runs: &[u8],
        outputs: Option<&OutputsSpec>,
    ) -> Result<(Header, Option<crate::outputs::ArchiveSummary>), Abandoned> {
        let appended = self
            .spill
            .seek(SeekFrom::Start(0))
            .and_then(|_| std::io::copy(&mut self.spill, &mut self.pending.file));
        match appended {
            Ok(n) if n == header.stderr_len => {}
            _ => return Err(Abandoned::WriteFailed),
        }
        let mut summary = None;
        if let Some(spec) = outputs {
            let mut writer =
                HashingWriter { file: &mut self.pending.file, hasher: Xxh3::new(), len: 0 };
            let archived = crate::outputs::archive(&spec.paths, &spec.cwd, &mut writer);
            summary = Some(archived.map_err(|e| match e {
                crate::outputs::OutputError::Io { .. } => Abandoned::WriteFailed,
                other => Abandoned::Outputs(other.to_string()),
            })?);
            header.outputs_len = writer.len;
            header.outputs_hash = writer.hasher.digest();
        }
        self.pending.file.write_all(runs).map_err(|_| Abandoned::WriteFailed)?;
        header.runs_len = runs.len() as u64;
        header.runs_hash = xxh3_64(runs);
        self.pending.file.write_all_at(&header.encode(), 0).map_err(|_| Abandoned::WriteFailed)?;
        Ok((header, summary))
    }

    /// The same entry, built in a memory file from wherever each stream's
    /// bytes are (the entry file, the spill, or memory). The `--output`
    /// files are on disk already; replaying needs only the streams.
    fn complete_in_memory(
        &self,
        mut header: Header,
        runs: &[u8],
    ) -> std::io::Result<(File, Header)> {
        let mut into = crate::spool::memory_file()?;
        into.write_all(&[0u8; HEADER_LEN])?;
        into.write_all(&self.meta)?;
        let memory = self.budget.memory.lock().map_err(|_| std::io::Error::other("poisoned"))?;
        let stdout_start = HEADER_LEN as u64 + self.meta.len() as u64;
        let on_disk = [(&self.pending.file, stdout_start), (&self.spill, 0)];
        let lens = [header.stdout_len, header.stderr_len];
        for (index, (file, start)) in on_disk.into_iter().enumerate() {
            match &memory[index] {
                Some(memory) => copy_range(memory, 0, lens[index], &mut into)?,
                None => copy_range(file, start, lens[index], &mut into)?,
            }
        }
        header.outputs_len = 0;
        header.outputs_hash = xxh3_64(&[]);
        into.write_all(runs)?;
        header.runs_len = runs.len() as u64;
        header.runs_hash = xxh3_64(runs);
        into.write_all_at(&header.encode(), 0)?;
        Ok((into, header))
    }
}

/// A region of a file as a reader.
struct ReadAt<'a> {
    file: &'a File,
    at: u64,
    end: u64,
}

impl std::io::Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = usize::try_from(self.end - self.at).unwrap_or(usize::MAX).min(buf.len());
        let n = self.file.read_at(&mut buf[..want], self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

/// Copies `len` bytes of `from` at `start` to the end of `into`.
fn copy_range(from: &File, start: u64, len: u64, into: &mut File) -> std::io::Result<()> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut done = 0;
    while done < len {
        let want = usize::try_from(len - done).unwrap_or(usize::MAX).min(buf.len());
        let n = from.read_at(&mut buf[..want], start + done)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        into.write_all(&buf[..n])?;
        done += n as u64;
    }
    Ok(())
}
