//! Shared fixtures of the outputs unit tests: tree snapshots, a tree with
//! every kind of entry, and helpers to archive into memory.

mod crafted;
mod refusals;
mod round_trip;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use filetime::FileTime;
use walkdir::WalkDir;

use super::{archive, ArchiveSummary, STAGING_PREFIX};

/// Everything observable about a tree: kind, mode, mtime, content or target.
#[derive(Debug, PartialEq, Eq, Clone)]
pub(super) enum Node {
    Dir { mode: u32, mtime: (i64, i64) },
    File { mode: u32, mtime: (i64, i64), content: Vec<u8> },
    Link { target: PathBuf, mtime: (i64, i64) },
}

/// Every entry under `root` (not `root` itself, whose mtime staging touches).
pub(super) fn snapshot(root: &Path) -> BTreeMap<PathBuf, Node> {
    let mut out = BTreeMap::new();
    for entry in WalkDir::new(root).min_depth(1).follow_links(false).sort_by_file_name() {
        let entry = entry.unwrap();
        let meta = entry.path().symlink_metadata().unwrap();
        let mtime = (meta.mtime(), meta.mtime_nsec());
        let mode = meta.mode() & 0o7777;
        let node = if meta.file_type().is_symlink() {
            Node::Link { target: fs::read_link(entry.path()).unwrap(), mtime }
        } else if meta.is_dir() {
            Node::Dir { mode, mtime }
        } else {
            Node::File { mode, mtime, content: fs::read(entry.path()).unwrap() }
        };
        out.insert(entry.path().strip_prefix(root).unwrap().to_path_buf(), node);
    }
    out
}

pub(super) fn staging_leftovers(root: &Path) -> Vec<PathBuf> {
    WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(STAGING_PREFIX))
        .map(|e| e.path().to_path_buf())
        .collect()
}

pub(super) fn set_mtime(path: &Path, secs: i64, nanos: u32) {
    filetime::set_symlink_file_times(
        path,
        FileTime::from_unix_time(secs, nanos),
        FileTime::from_unix_time(secs, nanos),
    )
    .unwrap();
}

pub(super) fn archive_to_vec(outputs: &[&str], cwd: &Path) -> (Vec<u8>, ArchiveSummary) {
    let outputs: Vec<PathBuf> = outputs.iter().map(PathBuf::from).collect();
    let mut buf = Vec::new();
    let summary = archive(&outputs, cwd, &mut buf).unwrap();
    (buf, summary)
}

/// A tree with nested dirs, an executable, symlinks, an empty dir, a
/// read-only dir, a long and a non-UTF-8 name, and fractional mtimes.
pub(super) fn build_tree(cwd: &Path) {
    let out = cwd.join("out");
    fs::create_dir_all(out.join("a/b")).unwrap();
    fs::write(out.join("a/b/c.txt"), b"nested\n").unwrap();
    fs::create_dir(out.join("bin")).unwrap();
    fs::write(out.join("bin/tool"), b"#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(out.join("bin/tool"), fs::Permissions::from_mode(0o755)).unwrap();
    symlink("a/b/c.txt", out.join("link")).unwrap();
    symlink("../single.txt", out.join("up")).unwrap();
    fs::create_dir(out.join("empty")).unwrap();
    let long = "x".repeat(120);
    fs::create_dir(out.join(&long)).unwrap();
    fs::write(out.join(&long).join("y".repeat(150)), b"long").unwrap();
    symlink("z".repeat(130), out.join("longlink")).unwrap();
    fs::write(out.join(PathBuf::from(OsString::from_vec(b"bin/caf\xe9".to_vec()))), b"latin1")
        .unwrap();
    fs::create_dir(out.join("ro")).unwrap();
    fs::write(out.join("ro/f"), b"read only dir").unwrap();
    fs::set_permissions(out.join("ro/f"), fs::Permissions::from_mode(0o444)).unwrap();
    fs::write(cwd.join("single.txt"), b"single file output\n").unwrap();
    fs::set_permissions(cwd.join("single.txt"), fs::Permissions::from_mode(0o640)).unwrap();
    // mtimes last, innermost first (writing into a dir changes its mtime).
    let mut paths: Vec<PathBuf> = WalkDir::new(&out)
        .contents_first(true)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .collect();
    symlink("out", cwd.join("current")).unwrap();
    paths.push(cwd.join("single.txt"));
    paths.push(cwd.join("current"));
    for (i, path) in paths.iter().enumerate() {
        set_mtime(path, 1_600_000_000 + i as i64 * 1000, (i as u32 * 7919 + 1) % 1_000_000_000);
    }
    set_mtime(&out.join("empty"), 1_500_000_000, 0);
    fs::set_permissions(out.join("ro"), fs::Permissions::from_mode(0o555)).unwrap();
}
