//! Archive then restore through the library: trees come back exactly, and
//! declared paths are checked the same way on both sides.

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::Mode;
use tempfile::TempDir;

use super::{archive_to_vec, build_tree, snapshot, staging_leftovers};
use crate::outputs::restore::remove_tree;
use crate::outputs::{archive, restore, validate_declared, OutputError, RestoreSummary};

#[test]
fn round_trip_after_outputs_deleted() {
    let dir = TempDir::new().unwrap();
    let cwd = dir.path();
    build_tree(cwd);
    let before = snapshot(cwd);
    let (bytes, summary) = archive_to_vec(&["out", "single.txt", "current"], cwd);
    assert_eq!(summary.files, 10, "{summary:?}");
    assert_eq!(summary.bytes, (7 + 18 + 4 + 6 + 13 + 19) as u64);

    remove_tree(&cwd.join("out")).unwrap();
    fs::remove_file(cwd.join("single.txt")).unwrap();
    fs::remove_file(cwd.join("current")).unwrap();
    let declared = [PathBuf::from("out"), PathBuf::from("single.txt"), PathBuf::from("current")];
    let restored = restore(bytes.as_slice(), cwd, &declared).unwrap();
    assert_eq!(restored, RestoreSummary { files: summary.files, bytes: summary.bytes });
    let after = snapshot(cwd);
    assert_eq!(before, after);
    // The details the issue names, spelled out.
    let meta = fs::metadata(cwd.join("out/bin/tool")).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o755);
    assert_eq!(fs::read_link(cwd.join("out/link")).unwrap(), Path::new("a/b/c.txt"));
    assert_eq!(fs::read_link(cwd.join("current")).unwrap(), Path::new("out"));
    assert!(cwd.join("out/empty").is_dir());
    assert_eq!(fs::read_dir(cwd.join("out/empty")).unwrap().count(), 0);
    assert_eq!(fs::metadata(cwd.join("out/empty")).unwrap().mtime(), 1_500_000_000);
    assert!(staging_leftovers(cwd).is_empty());
    remove_tree(&cwd.join("out")).unwrap();
}

#[test]
fn restore_over_modified_tree_replaces_it_exactly() {
    let dir = TempDir::new().unwrap();
    let cwd = dir.path();
    build_tree(cwd);
    let before = snapshot(cwd);
    let (bytes, _) = archive_to_vec(&["out", "single.txt"], cwd);

    let out = cwd.join("out");
    fs::write(out.join("extra.txt"), b"not in the archive").unwrap();
    fs::create_dir_all(out.join("a/new/deeper")).unwrap();
    fs::write(out.join("a/b/c.txt"), b"changed").unwrap();
    fs::set_permissions(out.join("bin/tool"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::remove_dir(out.join("empty")).unwrap();
    fs::write(out.join("empty"), b"a file where a dir was").unwrap();
    fs::remove_file(out.join("link")).unwrap();
    fs::create_dir(out.join("link")).unwrap();
    fs::remove_file(cwd.join("single.txt")).unwrap();
    fs::create_dir(cwd.join("single.txt")).unwrap();
    fs::write(cwd.join("single.txt/inner"), b"dir where a file was").unwrap();

    restore(bytes.as_slice(), cwd, &[PathBuf::from("single.txt"), PathBuf::from("out")]).unwrap();
    assert_eq!(before, snapshot(cwd));
    assert!(staging_leftovers(cwd).is_empty());
    remove_tree(&out).unwrap();
}

#[test]
fn absent_output_is_removed_and_missing_parents_are_created() {
    let dir = TempDir::new().unwrap();
    let cwd = dir.path();
    fs::create_dir_all(cwd.join("deep/er")).unwrap();
    fs::write(cwd.join("deep/er/file"), b"deep").unwrap();
    fs::create_dir(cwd.join("deep/other")).unwrap();
    fs::write(cwd.join("deep/other/f2"), b"second").unwrap();
    let declared = ["gone", "gone_dir", "deep/er/file", "deep/other/f2", "nothere/x"];
    let (bytes, summary) = archive_to_vec(&declared, cwd);
    assert_eq!(summary.files, 2);

    fs::write(cwd.join("gone"), b"stale").unwrap();
    fs::create_dir_all(cwd.join("gone_dir/sub")).unwrap();
    fs::write(cwd.join("gone_dir/sub/f"), b"stale").unwrap();
    remove_tree(&cwd.join("deep")).unwrap();

    let declared: Vec<PathBuf> = declared.iter().map(PathBuf::from).collect();
    restore(bytes.as_slice(), cwd, &declared).unwrap();
    assert!(!cwd.join("gone").exists());
    assert!(!cwd.join("gone_dir").exists());
    assert!(!cwd.join("nothere").exists());
    assert_eq!(fs::read(cwd.join("deep/er/file")).unwrap(), b"deep");
    assert_eq!(fs::read(cwd.join("deep/other/f2")).unwrap(), b"second");
    assert!(staging_leftovers(cwd).is_empty());
}

#[test]
fn validate_declared_normalizes_and_refuses() {
    let dir = TempDir::new().unwrap();
    let cwd = dir.path();
    let os = |s: &str| OsString::from(s);
    let abs_inside = cwd.join("abs/inside").into_os_string();
    let got =
        validate_declared(&[os("./b/"), os("a"), os("a/sub"), abs_inside, os("b"), os("a-c")], cwd)
            .unwrap();
    let want: Vec<PathBuf> = ["a", "a-c", "abs/inside", "b"].iter().map(PathBuf::from).collect();
    assert_eq!(got, want);
    for bad in ["../x", "a/../b", "/etc/passwd", "", ".", "./"] {
        let err = validate_declared(&[os(bad)], cwd).unwrap_err();
        assert!(matches!(err, OutputError::Declared { .. }), "{bad}: {err}");
        assert!(err.to_string().contains("--output"), "{err}");
    }
    let outside = dir.path().parent().unwrap().join("elsewhere").into_os_string();
    assert!(validate_declared(&[outside], cwd).is_err());
    // archive() applies the same rules.
    let err = archive(&[PathBuf::from("../x")], cwd, &mut Vec::new()).unwrap_err();
    assert!(matches!(err, OutputError::Declared { .. }));
}

#[test]
fn archive_refuses_what_restore_would() {
    let dir = TempDir::new().unwrap();
    let cwd = dir.path().join("work");
    fs::create_dir_all(cwd.join("out")).unwrap();
    symlink("/etc/passwd", cwd.join("out/escape")).unwrap();
    let err = archive(&[PathBuf::from("out")], &cwd, &mut Vec::new()).unwrap_err();
    assert!(matches!(err, OutputError::Unarchivable { .. }), "{err}");

    fs::remove_file(cwd.join("out/escape")).unwrap();
    symlink(dir.path(), cwd.join("up")).unwrap();
    fs::write(dir.path().join("file"), b"x").unwrap();
    let err = archive(&[PathBuf::from("up/file")], &cwd, &mut Vec::new()).unwrap_err();
    assert!(matches!(err, OutputError::Unarchivable { .. }), "{err}");

    let fifo = cwd.join("out/fifo");
    rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, Mode::RUSR | Mode::WUSR).unwrap();
    let err = archive(&[PathBuf::from("out")], &cwd, &mut Vec::new()).unwrap_err();
    assert!(matches!(err, OutputError::Unarchivable { .. }), "{err}");
}
