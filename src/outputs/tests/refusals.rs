//! Crafted and corrupt archives `restore` must refuse without changing
//! anything, inside the cwd or out.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::PathBuf;

use super::archive_to_vec;
use super::crafted::{crafted, Crafted, Raw, Scene};
use crate::outputs::restore;

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
