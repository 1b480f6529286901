//! Hand-made cache contents and file-tree snapshots: entry files built like
//! the recorder builds them, crafted output archives, and a record of a tree
//! that shows any change to it.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use cachecmd::test_support::{Header, HEADER_LEN};
use xxhash_rust::xxh3::xxh3_64;

/// An entry file for `key` (header, metadata, stdout, stderr; no outputs)
/// built like the recorder builds one, and its header.
pub fn entry_file(
    key: [u8; 32],
    meta: &[u8],
    stdout: &[u8],
    stderr: &[u8],
    exit_code: i32,
) -> (Header, Vec<u8>) {
    let header = Header {
        meta_len: meta.len() as u32,
        stdout_len: stdout.len() as u64,
        stderr_len: stderr.len() as u64,
        exit_code,
        run_ms: 0,
        meta_hash: xxh3_64(meta),
        stdout_hash: xxh3_64(stdout),
        stderr_hash: xxh3_64(stderr),
        expires_at: 0,
        outputs_len: 0,
        outputs_hash: xxh3_64(&[]),
        runs_len: 0,
        runs_hash: xxh3_64(&[]),
        key,
    };
    (header, [&header.encode()[..], meta, stdout, stderr].concat())
}

/// Restamps the entry file at `path` for `key` (64 hex digits), with a
/// valid header checksum: a copy standing in for another key's entry.
#[track_caller]
pub fn rekey(path: &Path, key: &str) {
    let mut bytes = fs::read(path).unwrap();
    let header = Header::decode(&bytes, bytes.len() as u64).unwrap();
    let key = *cachecmd::test_support::Key::parse_hex(key).unwrap().bytes();
    bytes[..HEADER_LEN].copy_from_slice(&Header { key, ..header }.encode());
    fs::write(path, bytes).unwrap();
}

/// A tar header for the crafted archives, with the raw `name` (and link
/// target) written straight into the header, bypassing the tar crate's own
/// path checks.
fn raw_header(kind: tar::EntryType, name: &[u8], link: &[u8], size: u64, mode: u32) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(mode);
    header.set_mtime(1_000_000_000);
    header.set_uid(0);
    header.set_gid(0);
    let old = header.as_old_mut();
    assert!(name.len() < old.name.len() && link.len() < old.linkname.len());
    old.name[..name.len()].copy_from_slice(name);
    old.linkname[..link.len()].copy_from_slice(link);
    header.set_cksum();
    header
}

/// One member of a crafted archive: raw path bytes, unchecked.
pub enum Crafted<'a> {
    Dir(&'a [u8]),
    File(&'a [u8], &'a [u8]),
    Symlink(&'a [u8], &'a [u8]),
}

/// A tar.zst in cachecmd's layout: the manifest (`records`: tag byte and
/// path each), then `entries` as given.
pub fn crafted_archive(records: &[&[u8]], entries: &[Crafted<'_>]) -> Vec<u8> {
    let mut manifest = b"cachecmd-outputs 1\n".to_vec();
    for record in records {
        manifest.extend_from_slice(record);
        manifest.push(0);
    }
    let mut builder = tar::Builder::new(Vec::new());
    let header = raw_header(
        tar::EntryType::Regular,
        b".cachecmd-outputs",
        b"",
        manifest.len() as u64,
        0o600,
    );
    builder.append(&header, &manifest[..]).unwrap();
    for entry in entries {
        match entry {
            Crafted::Dir(name) => {
                let header = raw_header(tar::EntryType::Directory, name, b"", 0, 0o755);
                builder.append(&header, std::io::empty()).unwrap();
            }
            Crafted::File(name, data) => {
                let header =
                    raw_header(tar::EntryType::Regular, name, b"", data.len() as u64, 0o644);
                builder.append(&header, *data).unwrap();
            }
            Crafted::Symlink(name, target) => {
                let header = raw_header(tar::EntryType::Symlink, name, target, 0, 0o777);
                builder.append(&header, std::io::empty()).unwrap();
            }
        }
    }
    let tar = builder.into_inner().unwrap();
    zstd::encode_all(&tar[..], 3).unwrap()
}

/// Replaces the outputs region of the entry file at `path` with `archive`,
/// with correct lengths and checksums (so the entry itself verifies).
#[track_caller]
pub fn plant_archive(path: &Path, archive: &[u8]) {
    let bytes = fs::read(path).unwrap();
    let header = Header::decode(&bytes, bytes.len() as u64).unwrap();
    let keep = header.outputs_range().start as usize;
    // The runs region (the order of stdout and stderr) follows the archive.
    let runs = bytes[header.runs_range().start as usize..].to_vec();
    let header =
        Header { outputs_len: archive.len() as u64, outputs_hash: xxh3_64(archive), ..header };
    let mut planted = header.encode().to_vec();
    planted.extend_from_slice(&bytes[HEADER_LEN..keep]);
    planted.extend_from_slice(archive);
    planted.extend_from_slice(&runs);
    Header::decode(&planted, planted.len() as u64).unwrap();
    fs::write(path, &planted).unwrap();
}

/// What one node of a tree is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Dir,
    /// Length and xxh3 of the content (readable when a comparison fails).
    File(usize, u64),
    Symlink(PathBuf),
}

/// One node of a tree, with everything a restore must keep and anything
/// an intruder could change (but the access time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: Kind,
    /// Permission bits (not meaningful for symlinks: left out).
    pub mode: Option<u32>,
    pub owner: (u32, u32),
    pub mtime: SystemTime,
}

/// Everything below (and including) each of `paths`, relative to `dir`;
/// absent paths are simply not in the map. Symlinks are never followed.
#[track_caller]
pub fn snapshot(dir: &Path, paths: &[&str]) -> BTreeMap<PathBuf, Node> {
    fn visit(base: &Path, rel: &Path, out: &mut BTreeMap<PathBuf, Node>) {
        let abs = base.join(rel);
        let Ok(meta) = fs::symlink_metadata(&abs) else { return };
        let mtime = meta.modified().unwrap();
        let kind = if meta.file_type().is_symlink() {
            Kind::Symlink(fs::read_link(&abs).unwrap())
        } else if meta.is_dir() {
            Kind::Dir
        } else {
            let data = fs::read(&abs).unwrap();
            Kind::File(data.len(), xxh3_64(&data))
        };
        let mode = (!meta.file_type().is_symlink()).then(|| meta.mode() & 0o7777);
        let is_dir = kind == Kind::Dir;
        let owner = (meta.uid(), meta.gid());
        out.insert(rel.to_path_buf(), Node { kind, mode, owner, mtime });
        if is_dir {
            let mut names: Vec<_> =
                fs::read_dir(&abs).unwrap().map(|e| e.unwrap().file_name()).collect();
            names.sort();
            for name in names {
                visit(base, &rel.join(name), out);
            }
        }
    }
    let mut out = BTreeMap::new();
    for path in paths {
        visit(dir, Path::new(path), &mut out);
    }
    out
}

/// A real entry of `make` for the key `[n; 32]`, as the local store writes
/// it: what the remote backends' tests store, fetch and verify.
pub fn make_entry(n: u8, stdout: &[u8], stderr: &[u8]) -> Vec<u8> {
    let meta = cachecmd::test_support::Meta {
        argv: vec![cachecmd::test_support::Bytes::Text("make".into())],
        cwd: None,
        env_names: vec![],
        scope: None,
        created: 1_700_000_000,
        ttl_secs: Some(3600),
        failure_ttl_secs: None,
        expires_from: None,
        ..Default::default()
    }
    .encode();
    entry_file([n; 32], &meta, stdout, stderr, 0).1
}

/// An unnamed temp file holding `bytes`.
pub fn file_with(bytes: &[u8]) -> std::fs::File {
    use std::io::Write as _;
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(bytes).unwrap();
    file
}

/// All of `file`, read from the start.
pub fn contents(file: &mut std::fs::File) -> Vec<u8> {
    use std::io::{Read as _, Seek as _};
    let mut out = Vec::new();
    file.rewind().unwrap();
    file.read_to_end(&mut out).unwrap();
    out
}
