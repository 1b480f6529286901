//! Builds an entry while the command runs: stdout streams straight into the
//! pending entry after its metadata, stderr into an unnamed spill file (it is
//! produced concurrently, so its offset is unknown until stdout ends). The
//! header goes in last, so only a finished entry ever carries a valid one.
//! Both sinks also note, in the order chunks arrive, which stream each
//! recorded chunk came from: the entry's runs, which a hit replays in order.

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
        let mut file = self.file;
        if file.write_all(bytes).is_err() {
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
        };
        Ok(Recorder { pending, spill, meta, budget })
    }

    /// Sinks for stdout and stderr, usable from two threads at once.
    pub fn sinks(&self) -> (Sink<'_>, Sink<'_>) {
        let sink =
            |file, stderr| Sink { file, hasher: Xxh3::new(), len: 0, budget: &self.budget, stderr };
        (sink(&self.pending.file, false), sink(&self.spill, true))
    }

    /// Completes the entry: appends stderr and the `--output` archive, then
    /// writes the header.
    pub fn finish(
        mut self,
        stdout: Recorded,
        stderr: Recorded,
        exit_code: i32,
        expires_at: u64,
        outputs: Option<&OutputsSpec>,
    ) -> Result<(PendingEntry, Header, Option<crate::outputs::ArchiveSummary>), Abandoned> {
        if let Some(reason) = self.budget.abandoned() {
            return Err(reason);
        }
        let mut header = Header {
            meta_len: self.meta.len() as u32,
            stdout_len: stdout.len,
            stderr_len: stderr.len,
            exit_code,
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
        let appended = self
            .spill
            .seek(SeekFrom::Start(0))
            .and_then(|_| std::io::copy(&mut self.spill, &mut self.pending.file));
        match appended {
            Ok(n) if n == stderr.len => {}
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
        let runs = self.budget.runs.lock().ok().and_then(|mut r| r.take());
        let runs = runs.ok_or(Abandoned::Interleaved)?.encode();
        debug_assert!(runs.len() <= MAX_RUNS * 8);
        self.pending.file.write_all(&runs).map_err(|_| Abandoned::WriteFailed)?;
        header.runs_len = runs.len() as u64;
        header.runs_hash = xxh3_64(&runs);
        self.pending.file.write_all_at(&header.encode(), 0).map_err(|_| Abandoned::WriteFailed)?;
        Ok((self.pending, header, summary))
    }
}
