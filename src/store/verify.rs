//! Verifying an entry file: the key it answers and every checksum, small
//! entries in one read.

use std::fs::File;
use std::os::unix::fs::FileExt;

use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use crate::entry::{DecodeError, Header, HEADER_LEN};
use crate::key::Key;

/// Entries up to this size are read and verified in one `pread`.
const SMALL_ENTRY: usize = 64 * 1024;

/// Reads exactly `buf.len()` bytes at `offset`, or fails as truncated.
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> Result<(), DecodeError> {
    file.read_exact_at(buf, offset).map_err(|_| DecodeError::Short)
}

/// Hashes a region of the file in bounded chunks.
fn hash_region(file: &File, range: std::ops::Range<u64>) -> Result<u64, DecodeError> {
    let mut hasher = Xxh3::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut at = range.start;
    while at < range.end {
        let n = (range.end - at).min(buf.len() as u64) as usize;
        read_exact_at(file, &mut buf[..n], at)?;
        hasher.update(&buf[..n]);
        at += n as u64;
    }
    Ok(hasher.digest())
}

/// Checks that an entry was recorded for `key` (a file moved or copied to
/// another key's path is a miss) and every checksum. Small entries come back
/// whole.
pub(crate) fn verify(
    file: &File,
    size: u64,
    key: &Key,
) -> Result<(Header, Option<Vec<u8>>), DecodeError> {
    if size <= SMALL_ENTRY as u64 {
        let mut contents = vec![0u8; size as usize];
        read_exact_at(file, &mut contents, 0)?;
        let header = Header::decode(&contents, size)?;
        header.check_key(key)?;
        let region = |r: std::ops::Range<u64>| &contents[r.start as usize..r.end as usize];
        check(xxh3_64(region(header.meta_range())), header.meta_hash, "metadata")?;
        check(xxh3_64(region(header.stdout_range())), header.stdout_hash, "stdout")?;
        check(xxh3_64(region(header.stderr_range())), header.stderr_hash, "stderr")?;
        check(xxh3_64(region(header.outputs_range())), header.outputs_hash, "outputs")?;
        check(xxh3_64(region(header.runs_range())), header.runs_hash, "runs")?;
        return Ok((header, Some(contents)));
    }
    let mut bytes = [0u8; HEADER_LEN];
    read_exact_at(file, &mut bytes, 0)?;
    let header = Header::decode(&bytes, size)?;
    header.check_key(key)?;
    check(hash_region(file, header.meta_range())?, header.meta_hash, "metadata")?;
    check(hash_region(file, header.stdout_range())?, header.stdout_hash, "stdout")?;
    check(hash_region(file, header.stderr_range())?, header.stderr_hash, "stderr")?;
    check(hash_region(file, header.outputs_range())?, header.outputs_hash, "outputs")?;
    check(hash_region(file, header.runs_range())?, header.runs_hash, "runs")?;
    Ok((header, None))
}

fn check(actual: u64, expected: u64, what: &'static str) -> Result<(), DecodeError> {
    if actual == expected {
        Ok(())
    } else {
        Err(DecodeError::BodyChecksum(what))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use super::*;
    use crate::entry::{Bytes, Meta};

    /// A whole entry recorded for `key`, in a file.
    pub(crate) fn entry_for(key: &Key, stdout: &[u8]) -> File {
        let meta = Meta {
            argv: vec![Bytes::Text("echo".into())],
            cwd: None,
            env_names: vec![],
            scope: None,
            created: 1,
            ttl_secs: None,
            failure_ttl_secs: None,
            expires_from: None,
            ..Default::default()
        }
        .encode();
        let header = Header {
            meta_len: meta.len() as u32,
            stdout_len: stdout.len() as u64,
            stderr_len: 0,
            exit_code: 0,
            run_ms: 0,
            meta_hash: xxh3_64(&meta),
            stdout_hash: xxh3_64(stdout),
            stderr_hash: xxh3_64(&[]),
            expires_at: 0,
            outputs_len: 0,
            outputs_hash: xxh3_64(&[]),
            runs_len: 0,
            runs_hash: xxh3_64(&[]),
            key: *key.bytes(),
        };
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&[&header.encode()[..], &meta, stdout].concat()).unwrap();
        file
    }

    #[test]
    fn an_entry_verifies_only_for_its_own_key() {
        let (own, other) = (Key::from_slice(&[1; 32]).unwrap(), Key::from_slice(&[2; 32]).unwrap());
        for stdout in [&b"small"[..], &vec![7u8; SMALL_ENTRY + 1][..]] {
            let file = entry_for(&own, stdout);
            let size = file.metadata().unwrap().len();
            assert!(verify(&file, size, &own).is_ok());
            assert_eq!(verify(&file, size, &other).map(|_| ()), Err(DecodeError::Key));
        }
    }
}
