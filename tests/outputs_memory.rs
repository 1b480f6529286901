//! Memory of `--output` archiving and restoring, through the library: the
//! peak RSS of a whole process is measured, so this test has a binary of
//! its own (in a shared one, parallel tests would count against it).

use std::fs::{self, File};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use cachecmd::test_support::{archive, restore};
use tempfile::TempDir;

fn status_kib(field: &str) -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Peak RSS growth (KiB) while `f` runs: the high-water mark is reset
/// through /proc/self/clear_refs ("5") when the kernel allows it, otherwise
/// measured from the mark before. This binary holds this one test, so no
/// other test's allocations count.
fn peak_growth_kib(f: impl FnOnce()) -> u64 {
    let reset = fs::write("/proc/self/clear_refs", "5").is_ok();
    eprintln!("VmHWM reset through clear_refs: {reset}");
    let base = if reset { status_kib("VmRSS:") } else { status_kib("VmHWM:") };
    f();
    status_kib("VmHWM:").saturating_sub(base)
}

/// Length and hash of a file, read in pieces (no 200 MiB buffer to inflate
/// the high-water mark).
fn hash_file(path: &Path) -> (u64, u64) {
    let mut file = File::open(path).unwrap();
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0;
    loop {
        let n = std::io::Read::read(&mut file, &mut buf).unwrap();
        if n == 0 {
            return (len, hasher.digest());
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
}

/// Archiving and restoring a 200 MiB file each grow the peak RSS by less
/// than 32 MiB: files are streamed, not buffered.
#[test]
fn memory_stays_bounded_on_a_200_mib_file() {
    const SIZE: u64 = 200 << 20;
    let dir = TempDir::new().unwrap();
    let cwd = dir.path().join("work");
    fs::create_dir_all(cwd.join("big")).unwrap();
    // Sparse-ish: mostly holes, 16 scattered MiB of incompressible bytes.
    let mut file = File::create(cwd.join("big/file")).unwrap();
    file.set_len(SIZE).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut chunk = vec![0u8; 1 << 20];
    for i in 0..16u64 {
        for byte in chunk.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = state as u8;
        }
        file.seek(SeekFrom::Start(i * (SIZE / 16))).unwrap();
        file.write_all(&chunk).unwrap();
    }
    drop(file);
    drop(chunk);
    let original = hash_file(&cwd.join("big/file"));

    // The archive goes to a file, never to memory.
    let archive_path = dir.path().join("outputs.tar.zst");
    let outputs = [PathBuf::from("big")];
    let mut summary = None;
    let archive_kib = peak_growth_kib(|| {
        let mut out = File::create(&archive_path).unwrap();
        summary = Some(archive(&outputs, &cwd, &mut out).unwrap());
    });
    assert_eq!(summary.unwrap().bytes, SIZE);
    fs::remove_dir_all(cwd.join("big")).unwrap();

    let restore_kib = peak_growth_kib(|| {
        restore(File::open(&archive_path).unwrap(), &cwd, &outputs).unwrap();
    });
    eprintln!(
        "200 MiB file: archive {} bytes, peak RSS growth archive {archive_kib} KiB, restore {restore_kib} KiB",
        fs::metadata(&archive_path).unwrap().len()
    );
    assert!(archive_kib < 32 << 10, "archive grew RSS by {archive_kib} KiB");
    assert!(restore_kib < 32 << 10, "restore grew RSS by {restore_kib} KiB");
    let restored = hash_file(&cwd.join("big/file"));
    assert_eq!(original, restored);
}
