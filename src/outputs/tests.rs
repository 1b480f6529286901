use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use filetime::FileTime;
use tar::{Builder, EntryType, Header};
use tempfile::TempDir;
use walkdir::WalkDir;

use super::archive::format_mtime;
use super::restore::{parse_mtime, remove_tree, Mtime};
use super::*;

/// Everything observable about a tree: kind, mode, mtime, content or target.
#[derive(Debug, PartialEq, Eq, Clone)]
enum Node {
    Dir { mode: u32, mtime: (i64, i64) },
    File { mode: u32, mtime: (i64, i64), content: Vec<u8> },
    Link { target: PathBuf, mtime: (i64, i64) },
}

/// Every entry under `root` (not `root` itself, whose mtime staging touches).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Node> {
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

fn staging_leftovers(root: &Path) -> Vec<PathBuf> {
    WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(STAGING_PREFIX))
        .map(|e| e.path().to_path_buf())
        .collect()
}

fn set_mtime(path: &Path, secs: i64, nanos: u32) {
    filetime::set_symlink_file_times(
        path,
        FileTime::from_unix_time(secs, nanos),
        FileTime::from_unix_time(secs, nanos),
    )
    .unwrap();
}

fn archive_to_vec(outputs: &[&str], cwd: &Path) -> (Vec<u8>, ArchiveSummary) {
    let outputs: Vec<PathBuf> = outputs.iter().map(PathBuf::from).collect();
    let mut buf = Vec::new();
    let summary = archive(&outputs, cwd, &mut buf).unwrap();
    (buf, summary)
}

/// A tree with nested dirs, an executable, symlinks, an empty dir, a
/// read-only dir, a long and a non-UTF-8 name, and fractional mtimes.
fn build_tree(cwd: &Path) {
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
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let err = archive(&[PathBuf::from("out")], &cwd, &mut Vec::new()).unwrap_err();
    assert!(matches!(err, OutputError::Unarchivable { .. }), "{err}");
}

#[test]
fn pax_mtimes_round_trip() {
    for (secs, nanos) in [
        (0, 1),
        (1_700_000_000, 999_999_999),
        (-1, 500_000_000),
        (-2, 750_000_000),
        (-5, 0),
        (7, 0),
    ] {
        let text = format_mtime(secs, nanos);
        assert_eq!(
            parse_mtime(text.as_bytes()),
            Some(Mtime { secs, nanos: nanos as u32 }),
            "{text}"
        );
    }
    assert_eq!(parse_mtime(b"12.5"), Some(Mtime { secs: 12, nanos: 500_000_000 }));
    assert_eq!(parse_mtime(b"12.1234567891"), Some(Mtime { secs: 12, nanos: 123_456_789 }));
    for bad in [&b""[..], b"-", b"1.x", b"x", b".5", b"1e3"] {
        assert_eq!(parse_mtime(bad), None);
    }
}

// ---- crafted archives ------------------------------------------------

/// Entries of a hand-made archive; paths and link names go into the header
/// bytes as given, bypassing every check of the `tar` crate.
enum Raw<'a> {
    Dir(&'a [u8]),
    File(&'a [u8], &'a [u8]),
    Symlink(&'a [u8], &'a [u8]),
    Hardlink(&'a [u8], &'a [u8]),
    Fifo(&'a [u8]),
    /// A GNU long-name record then a file.
    LongFile(&'a [u8], &'a [u8]),
}

fn raw_header(kind: EntryType, name: &[u8], link: &[u8], size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(0o644);
    header.set_mtime(1_600_000_000);
    header.set_size(size);
    let old = header.as_old_mut();
    old.name[..name.len()].copy_from_slice(name);
    old.linkname[..link.len()].copy_from_slice(link);
    header.set_cksum();
    header
}

fn crafted(manifest: &[(&[u8], bool)], entries: &[Raw<'_>]) -> Crafted {
    let mut builder = Builder::new(Vec::new());
    let mut text = b"cachecmd-outputs 1\n".to_vec();
    for (path, present) in manifest {
        text.push(if *present { b'+' } else { b'-' });
        text.extend_from_slice(path);
        text.push(0);
    }
    let header = raw_header(EntryType::Regular, MANIFEST_NAME.as_bytes(), b"", text.len() as u64);
    builder.append(&header, text.as_slice()).unwrap();
    for entry in entries {
        match *entry {
            Raw::Dir(name) => {
                builder.append(&raw_header(EntryType::Directory, name, b"", 0), &[][..])
            }
            Raw::File(name, data) => {
                builder.append(&raw_header(EntryType::Regular, name, b"", data.len() as u64), data)
            }
            Raw::Symlink(name, target) => {
                builder.append(&raw_header(EntryType::Symlink, name, target, 0), &[][..])
            }
            Raw::Hardlink(name, target) => {
                builder.append(&raw_header(EntryType::Link, name, target, 0), &[][..])
            }
            Raw::Fifo(name) => builder.append(&raw_header(EntryType::Fifo, name, b"", 0), &[][..]),
            Raw::LongFile(name, data) => {
                let mut long = name.to_vec();
                long.push(0);
                let header =
                    raw_header(EntryType::GNULongName, b"././@LongLink", b"", long.len() as u64);
                builder.append(&header, long.as_slice()).unwrap();
                builder.append(
                    &raw_header(EntryType::Regular, b"placeholder", b"", data.len() as u64),
                    data,
                )
            }
        }
        .unwrap();
    }
    let tar = builder.into_inner().unwrap();
    let bytes = zstd::encode_all(tar.as_slice(), 3).unwrap();
    // By default the invocation declares exactly what the archive lists:
    // the strongest position for a crafted entry.
    let declared =
        manifest.iter().map(|(p, _)| PathBuf::from(OsString::from_vec(p.to_vec()))).collect();
    Crafted { bytes, declared }
}

struct Crafted {
    bytes: Vec<u8>,
    declared: Vec<PathBuf>,
}

impl Crafted {
    fn declaring(self, declared: &[&str]) -> Crafted {
        Crafted { declared: declared.iter().map(PathBuf::from).collect(), ..self }
    }
}

/// A root holding a canary dir (outside the cwd) and the cwd, with an
/// existing output that must survive a refused restore.
struct Scene {
    root: TempDir,
}

impl Scene {
    fn new() -> Scene {
        let root = TempDir::new().unwrap();
        fs::create_dir_all(root.path().join("canary")).unwrap();
        fs::write(root.path().join("canary/victim"), b"original").unwrap();
        fs::create_dir_all(root.path().join("work/out")).unwrap();
        fs::write(root.path().join("work/out/keep.txt"), b"previous output").unwrap();
        Scene { root }
    }
    fn cwd(&self) -> PathBuf {
        self.root.path().join("work")
    }
    fn canary(&self) -> PathBuf {
        self.root.path().join("canary")
    }

    /// Restores `archive`, expects a refusal, and checks that nothing
    /// changed anywhere under the root (canary and cwd alike).
    /// (The cwd's own mtime may change: staging names come and go in it.)
    fn refuse(&self, what: &str, archive: &Crafted) {
        let snap = || {
            let mut snap = snapshot(self.root.path());
            snap.insert("work".into(), Node::Dir { mode: 0o755, mtime: (0, 0) });
            snap
        };
        let before = snap();
        let result = restore(archive.bytes.as_slice(), &self.cwd(), &archive.declared);
        assert!(result.is_err(), "{what}: restored {result:?}");
        let err = result.unwrap_err();
        eprintln!("{what}: {err}");
        assert_eq!(before, snap(), "{what}: the tree changed");
        assert!(!self.root.path().join("evil").exists(), "{what}");
        assert!(!Path::new("/tmp/x/file").exists(), "{what}");
    }
}

#[test]
fn refuses_parent_dir_entry() {
    let scene = Scene::new();
    let archive = crafted(
        &[(b"out", true)],
        &[Raw::Dir(b"out"), Raw::File(b"out/ok", b"ok"), Raw::File(b"../evil", b"pwned")],
    );
    scene.refuse("../evil", &archive);
    let archive =
        crafted(&[(b"out", true)], &[Raw::Dir(b"out"), Raw::File(b"out/../../evil", b"pwned")]);
    scene.refuse("out/../../evil", &archive);
    let archive =
        crafted(&[(b"out", true)], &[Raw::Dir(b"out"), Raw::LongFile(b"out/../../evil", b"pwned")]);
    scene.refuse("long name out/../../evil", &archive);
    // A refusal after another output was fully staged: neither lands.
    let archive = crafted(
        &[(b"a", true), (b"out", true)],
        &[
            Raw::File(b"a", b"new"),
            Raw::Dir(b"out"),
            Raw::File(b"out/f", b"f"),
            Raw::File(b"out/../x", b"x"),
        ],
    );
    scene.refuse("../ after a staged output", &archive);
    let archive =
        crafted(&[(b"../evil", true)], &[Raw::File(b"../evil", b"pwned")]).declaring(&["out"]);
    scene.refuse("manifest ../evil", &archive);
}

#[test]
fn refuses_absolute_entry() {
    let scene = Scene::new();
    let abs = scene.root.path().join("evil");
    let abs = abs.as_os_str().as_encoded_bytes();
    let archive = crafted(&[(b"out", true)], &[Raw::Dir(b"out"), Raw::File(abs, b"pwned")]);
    scene.refuse("/abs/evil", &archive);
    let archive = crafted(&[(abs, true)], &[Raw::File(abs, b"pwned")]).declaring(&["out"]);
    scene.refuse("manifest /abs/evil", &archive);
    let archive = crafted(&[(b"out", true)], &[Raw::Dir(b"out"), Raw::File(b"/tmp/x", b"pwned")]);
    scene.refuse("/tmp/x", &archive);
}

#[test]
fn refuses_writing_through_symlinks() {
    let scene = Scene::new();
    let canary = scene.canary();
    let canary = canary.as_os_str().as_encoded_bytes();
    // The classic: a symlink out, then a file through it.
    let archive = crafted(
        &[(b"out", true)],
        &[
            Raw::Dir(b"out"),
            Raw::Symlink(b"out/link", b"/tmp/x"),
            Raw::File(b"out/link/file", b"pwned"),
        ],
    );
    scene.refuse("link -> /tmp/x, link/file", &archive);
    let archive = crafted(
        &[(b"out", true)],
        &[
            Raw::Dir(b"out"),
            Raw::Symlink(b"out/link", canary),
            Raw::File(b"out/link/victim", b"pwned"),
        ],
    );
    scene.refuse("link -> canary, link/victim", &archive);
    let archive =
        crafted(&[(b"out", true)], &[Raw::Dir(b"out"), Raw::Symlink(b"out/link", b"../../canary")]);
    scene.refuse("link -> ../../canary", &archive);
    // A target inside the cwd is fine as a symlink, but nothing may be
    // written through it: it would land outside the declared output.
    let archive = crafted(
        &[(b"out", true)],
        &[
            Raw::Dir(b"out"),
            Raw::Symlink(b"out/link", b".."),
            Raw::File(b"out/link/evil", b"pwned"),
        ],
    );
    scene.refuse("link -> .., link/evil", &archive);
    // The output root itself a symlink, then entries below it.
    let archive =
        crafted(&[(b"out", true)], &[Raw::Symlink(b"out", b"."), Raw::File(b"out/evil", b"pwned")]);
    scene.refuse("root link -> ., out/evil", &archive);
    // `..` after a normal component could climb out of a symlinked dir.
    let archive = crafted(
        &[(b"out", true)],
        &[Raw::Dir(b"out"), Raw::Symlink(b"out/s", b".."), Raw::Symlink(b"out/t", b"s/../x")],
    );
    scene.refuse("t -> s/../x", &archive);
    // A destination reached through a symlink in the cwd that leads out.
    symlink(scene.canary(), scene.cwd().join("escape")).unwrap();
    let archive = crafted(&[(b"escape/victim", true)], &[Raw::File(b"escape/victim", b"pwned")]);
    scene.refuse("escape/victim via a symlinked parent", &archive);
    let archive = crafted(&[(b"escape/victim", false)], &[]);
    scene.refuse("absent escape/victim via a symlinked parent", &archive);
    assert_eq!(fs::read(scene.canary().join("victim")).unwrap(), b"original");
}

#[test]
fn refuses_hardlinks_devices_and_strays() {
    let scene = Scene::new();
    let victim = scene.canary().join("victim");
    let victim = victim.as_os_str().as_encoded_bytes();
    let archive = crafted(&[(b"out", true)], &[Raw::Dir(b"out"), Raw::Hardlink(b"out/h", victim)]);
    scene.refuse("hardlink to an absolute path", &archive);
    let archive = crafted(
        &[(b"out", true)],
        &[Raw::Dir(b"out"), Raw::File(b"out/a", b"a"), Raw::Hardlink(b"out/h", b"out/a")],
    );
    scene.refuse("hardlink inside the output", &archive);
    let archive = crafted(&[(b"out", true)], &[Raw::Dir(b"out"), Raw::Fifo(b"out/p")]);
    scene.refuse("fifo", &archive);
    let archive =
        crafted(&[(b"out", true)], &[Raw::Dir(b"out"), Raw::File(b"other/file", b"stray")]);
    scene.refuse("entry outside the declared outputs", &archive);
    let archive = crafted(
        &[(b"out", true)],
        &[Raw::Dir(b"out"), Raw::File(b"out/a", b"1"), Raw::File(b"out/a", b"2")],
    );
    scene.refuse("duplicate entry", &archive);
    let archive = crafted(&[(b"out", true), (b"zzz", true)], &[Raw::Dir(b"out")]);
    scene.refuse("declared output missing", &archive);
    let archive =
        crafted(&[(b"out", true), (b"out/sub", true)], &[Raw::Dir(b"out"), Raw::Dir(b"out/sub")]);
    scene.refuse("nested declared outputs", &archive);
}

#[test]
fn refuses_outputs_that_were_not_declared() {
    let scene = Scene::new();
    fs::create_dir_all(scene.cwd().join("src")).unwrap();
    fs::write(scene.cwd().join("src/main.rs"), b"fn main() {}").unwrap();
    // Deleting or replacing a path of the cwd the caller did not declare.
    let archive =
        crafted(&[(b"out", true), (b"src", false)], &[Raw::Dir(b"out")]).declaring(&["out"]);
    scene.refuse("absent src, undeclared", &archive);
    let archive = crafted(&[(b"src/main.rs", true)], &[Raw::File(b"src/main.rs", b"pwned")])
        .declaring(&["out"]);
    scene.refuse("present src/main.rs, undeclared", &archive);
    let archive = crafted(&[(b"out", true)], &[Raw::Dir(b"out")]).declaring(&["out", "bin"]);
    scene.refuse("a declared output missing from the manifest", &archive);
}

#[test]
fn refuses_corrupt_archives() {
    let scene = Scene::new();
    fs::write(scene.cwd().join("out/a"), b"x").unwrap();
    let (good, _) = archive_to_vec(&["out"], &scene.cwd());
    let with =
        |bytes: &[u8]| Crafted { bytes: bytes.to_vec(), declared: vec![PathBuf::from("out")] };
    scene.refuse("empty", &with(b""));
    scene.refuse("truncated", &with(&good[..good.len() / 2]));
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    scene.refuse("bit flip", &with(&flipped));
    scene.refuse("plain tar", &with(&zstd::decode_all(good.as_slice()).unwrap()));
    scene.refuse("other outputs declared", &with(&good).declaring(&["out", "more"]));
    restore(good.as_slice(), &scene.cwd(), &[PathBuf::from("out")]).unwrap();
}

// ---- memory -------------------------------------------------------------

fn status_kib(field: &str) -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Peak RSS growth (KiB) while `f` runs: the high-water mark is reset
/// through /proc/self/clear_refs ("5") when the kernel allows it, otherwise
/// measured from the mark before. Other tests run in parallel threads of
/// this process, but allocate kilobytes.
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
    remove_tree(&cwd.join("big")).unwrap();

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
