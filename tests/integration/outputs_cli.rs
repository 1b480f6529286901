//! `--output PATH` end to end, through the real binary: outputs archived
//! into the entry on a successful miss and restored (exactly, atomically)
//! on a hit, declared paths checked before anything runs, crafted archives
//! refused without writing outside the working directory, and outputs
//! shared through the Redis tier.

use crate::harness;
#[cfg(feature = "redis")]
use crate::harness::redis_server;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

use harness::fixtures::{crafted_archive, plant_archive, snapshot, Crafted, Kind, Node};
use harness::{Counter, TestEnv};

/// (files, bytes) as `-v` reports them: regular files and symlinks count as
/// files, bytes are the regular files' sizes.
fn summary(tree: &BTreeMap<PathBuf, Node>) -> (usize, usize) {
    let mut files = 0;
    let mut bytes = 0;
    for node in tree.values() {
        match &node.kind {
            Kind::File(len, _) => {
                files += 1;
                bytes += len;
            }
            Kind::Symlink(_) => files += 1,
            Kind::Dir => {}
        }
    }
    (files, bytes)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `cachecmd -v [--output P]... EXTRA... -- ARGV` in `dir`.
fn run_in(
    env: &TestEnv,
    dir: &Path,
    outputs: &[&str],
    extra: &[&str],
    argv: &[OsString],
) -> Output {
    let mut cmd = env.cmd();
    cmd.current_dir(dir).arg("-v");
    for path in outputs {
        cmd.arg("--output").arg(path);
    }
    cmd.args(extra).arg("--").args(argv);
    cmd.output().unwrap()
}

/// The `cachecmd key` arguments of a run with these outputs.
fn key_args(outputs: &[&str], argv: &[OsString]) -> Vec<OsString> {
    let mut args = Vec::new();
    for path in outputs {
        args.extend([OsString::from("--output"), OsString::from(path)]);
    }
    args.push("--".into());
    args.extend(argv.iter().cloned());
    args
}

#[track_caller]
fn assert_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "exit status; stderr: {}", stderr(out));
}

#[track_caller]
fn assert_stderr_has(out: &Output, needle: &str) {
    let text = stderr(out);
    assert!(text.contains(needle), "stderr lacks {needle:?}: {text}");
}

/// No `.cachecmd-restore.*` staging name left anywhere under `dir`.
#[track_caller]
fn assert_no_staging(dir: &Path) {
    for path in harness::walk(dir) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.starts_with(".cachecmd-restore."), "staging left behind: {}", path.display());
    }
}

/// A script that builds a varied tree: nested directories, an executable,
/// a read-only file, relative symlinks (one climbing within the output), an
/// empty directory, explicit mtimes (with and without nanoseconds), plus a
/// single-file output.
const BUILD_TREE: &str = "\
mkdir -p out/sub/deeper out/empty out/private
printf 'top\\n' > out/top.txt
printf 'nested %s\\n' deep > out/sub/deeper/leaf.txt
printf '#!/bin/sh\\necho tool\\n' > out/sub/tool.sh
chmod 755 out/sub/tool.sh
printf 'ro' > out/private/ro.txt
chmod 444 out/private/ro.txt
: > out/sub/zero-length
ln -s sub/deeper/leaf.txt out/link
ln -s ../top.txt out/sub/up
head -c 70000 /dev/zero | tr '\\0' 'x' > single.bin
chmod 640 single.bin
touch -d '2001-02-03 04:05:06.123456789' out/top.txt
touch -d '2002-03-04 05:06:07' out/sub/deeper/leaf.txt
touch -h -d '2003-04-05 06:07:08.5' out/link
touch -d '2004-05-06 07:08:09.25' out/sub/deeper out/empty
chmod 750 out/private
echo built";

const TREE_OUTPUTS: &[&str] = &["out", "single.bin"];

fn build_tree(counter: &Counter) -> Vec<OsString> {
    counter.sh(BUILD_TREE)
}

#[test]
fn a_tree_round_trips_exactly_without_rerunning_the_command() {
    let env = TestEnv::new();
    let counter = env.counter("tree");
    let argv = build_tree(&counter);

    let first = run_in(&env, &env.work, TREE_OUTPUTS, &[], &argv);
    assert_exit(&first, 0);
    assert_eq!(first.stdout, b"built\n");
    counter.assert_runs(1);
    let recorded = snapshot(&env.work, TREE_OUTPUTS);
    let (files, bytes) = summary(&recorded);
    assert_eq!((files, bytes), (8, 70038), "the fixture itself");
    assert_stderr_has(&first, &format!("archived {files} files, {bytes} bytes"));

    // Sanity of the fixture: what the test relies on is really there.
    assert_eq!(recorded[Path::new("out/sub/tool.sh")].mode, Some(0o755));
    assert_eq!(recorded[Path::new("out/link")].kind, Kind::Symlink("sub/deeper/leaf.txt".into()));
    assert_eq!(recorded[Path::new("out/empty")].kind, Kind::Dir);

    fs::remove_dir_all(env.work.join("out")).unwrap();
    fs::remove_file(env.work.join("single.bin")).unwrap();

    let second = run_in(&env, &env.work, TREE_OUTPUTS, &[], &argv);
    assert_exit(&second, 0);
    assert_eq!(second.stdout, b"built\n", "stdout replayed");
    counter.assert_runs(1);
    assert_stderr_has(&second, "hit");
    assert_stderr_has(&second, &format!("restored {files} files, {bytes} bytes"));
    let restored = snapshot(&env.work, TREE_OUTPUTS);
    assert_eq!(restored, recorded, "the restored tree differs from the recorded one");
    // The symlinks are symlinks (not copies) and still resolve.
    assert!(fs::symlink_metadata(env.work.join("out/link")).unwrap().file_type().is_symlink());
    assert_eq!(fs::read(env.work.join("out/link")).unwrap(), b"nested deep\n");
    assert_eq!(fs::read(env.work.join("out/sub/up")).unwrap(), b"top\n");
    // The executable runs.
    let tool = env.std_command(env.work.join("out/sub/tool.sh")).output().unwrap();
    assert_eq!(tool.stdout, b"tool\n");
    assert_no_staging(env.path());

    // `list --json` reports the archive's size.
    let list = env.cmd().args(["list", "--json"]).output().unwrap();
    assert_exit(&list, 0);
    let json: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let entries = json.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{json}");
    assert!(entries[0]["outputs_bytes"].as_u64().unwrap() > 0, "{json}");
}

#[test]
fn a_restore_over_a_modified_tree_leaves_exactly_the_recorded_tree() {
    let env = TestEnv::new();
    let counter = env.counter("modified");
    let argv = build_tree(&counter);
    assert_exit(&run_in(&env, &env.work, TREE_OUTPUTS, &[], &argv), 0);
    let recorded = snapshot(&env.work, TREE_OUTPUTS);

    // Every kind of drift: edited, added, removed, mode changed, a
    // symlink turned into a file, a file turned into a directory, a
    // directory turned into a symlink, mtimes touched.
    let work = &env.work;
    fs::write(work.join("out/top.txt"), "edited\n").unwrap();
    fs::write(work.join("out/extra.txt"), "extra\n").unwrap();
    fs::create_dir_all(work.join("out/newdir/inner")).unwrap();
    fs::write(work.join("out/newdir/inner/x"), "x").unwrap();
    fs::write(work.join("out/empty/not-empty-any-more"), "").unwrap();
    fs::remove_file(work.join("out/sub/deeper/leaf.txt")).unwrap();
    fs::set_permissions(work.join("out/sub/tool.sh"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::remove_file(work.join("out/link")).unwrap();
    fs::write(work.join("out/link"), "now a file").unwrap();
    fs::remove_dir_all(work.join("out/private")).unwrap();
    symlink("sub", work.join("out/private")).unwrap();
    fs::remove_file(work.join("single.bin")).unwrap();
    fs::create_dir(work.join("single.bin")).unwrap();
    fs::write(work.join("single.bin/inside"), "inside").unwrap();
    assert_ne!(snapshot(work, TREE_OUTPUTS), recorded);

    let hit = run_in(&env, work, TREE_OUTPUTS, &[], &argv);
    assert_exit(&hit, 0);
    assert_eq!(hit.stdout, b"built\n");
    counter.assert_runs(1);
    assert_stderr_has(&hit, "restored");
    assert_eq!(snapshot(work, TREE_OUTPUTS), recorded, "not exactly the recorded tree");
    assert_no_staging(env.path());
}

#[test]
fn a_declared_output_the_command_did_not_produce_is_removed_on_restore() {
    let env = TestEnv::new();
    let counter = env.counter("absent");
    let argv = counter.sh("mkdir -p out && echo made > out/made.txt && echo ok");
    let outputs = ["out", "never.txt", "never-dir"];
    let first = run_in(&env, &env.work, &outputs, &[], &argv);
    assert_exit(&first, 0);
    assert_stderr_has(&first, "recorded");
    let recorded = snapshot(&env.work, &outputs);

    // Things appear at the absent outputs' paths; an unrelated file too.
    fs::write(env.work.join("never.txt"), "stale").unwrap();
    fs::create_dir_all(env.work.join("never-dir/nested")).unwrap();
    fs::write(env.work.join("never-dir/nested/f"), "f").unwrap();
    fs::write(env.work.join("unrelated.txt"), "mine").unwrap();

    let hit = run_in(&env, &env.work, &outputs, &[], &argv);
    assert_exit(&hit, 0);
    assert_eq!(hit.stdout, b"ok\n");
    counter.assert_runs(1);
    assert_stderr_has(&hit, "restored 1 file, 5 bytes");
    assert!(!env.work.join("never.txt").exists(), "absent output not removed");
    assert!(!env.work.join("never-dir").exists(), "absent output not removed");
    assert_eq!(snapshot(&env.work, &outputs), recorded);
    assert_eq!(fs::read(env.work.join("unrelated.txt")).unwrap(), b"mine");
    assert_no_staging(env.path());
}

#[test]
fn a_failing_run_with_outputs_is_not_cached_even_with_failure_ttl() {
    let env = TestEnv::new();
    let counter = env.counter("fail");
    let argv = counter.sh("mkdir -p out && echo partial > out/p.txt && echo oops && exit 3");
    for (round, extra) in [(1, &[][..]), (2, &["--failure-ttl", "1h"][..])] {
        let out = run_in(&env, &env.work, &["out"], extra, &argv);
        assert_exit(&out, 3);
        assert_eq!(out.stdout, b"oops\n");
        assert_stderr_has(&out, "not recorded");
        counter.assert_runs(round);
    }
    let key = env.key(key_args(&["out"], &argv));
    assert!(!env.entry_path(&key).exists(), "a failed run with --output was cached");
    // And it runs again.
    let again = run_in(&env, &env.work, &["out"], &["--failure-ttl", "1h"], &argv);
    assert_exit(&again, 3);
    counter.assert_runs(3);
}

#[test]
fn output_paths_outside_the_working_directory_are_refused_before_running() {
    let env = TestEnv::new();
    let counter = env.counter("outside");
    let argv = counter.sh("echo ran > ../x; echo ran");
    for path in ["../x", "/etc", "sub/../../x"] {
        let out = run_in(&env, &env.work, &[path], &[], &argv);
        assert_exit(&out, 125);
        assert!(out.stdout.is_empty(), "{path}: stdout {:?}", out.stdout);
        assert_stderr_has(&out, "--output");
        counter.assert_runs(0);
    }
    assert!(!env.path().join("x").exists());
    assert!(harness::files_under(&env.root())
        .iter()
        .all(|p| !p.starts_with(env.root().join("v1/entries"))));
}

#[test]
fn crafted_archives_are_refused_and_the_command_runs_instead() {
    let env = TestEnv::new();
    let counter = env.counter("crafted");
    let argv = counter.sh("mkdir -p out && echo real > out/real.txt && echo done");
    let canary = env.path().join("canary");
    fs::create_dir(&canary).unwrap();
    fs::write(canary.join("keep.txt"), "keep").unwrap();
    fs::write(env.work.join("victim.txt"), "victim").unwrap();
    let canary_abs = canary.to_str().unwrap().as_bytes().to_vec();
    let abs_file = [&canary_abs[..], b"/abs-evil"].concat();
    let canary_before = snapshot(env.path(), &["canary"]);

    assert_exit(&run_in(&env, &env.work, &["out"], &[], &argv), 0);
    counter.assert_runs(1);
    let key = env.key(key_args(&["out"], &argv));
    let entry = env.entry_path(&key);
    assert!(entry.exists());

    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "a '..' path",
            crafted_archive(
                &[b"+out"],
                &[Crafted::Dir(b"out"), Crafted::File(b"out/../../canary/dotdot-evil", b"evil")],
            ),
        ),
        (
            "a bare '../' path",
            crafted_archive(
                &[b"+out"],
                &[Crafted::Dir(b"out"), Crafted::File(b"../evil", b"evil")],
            ),
        ),
        (
            "an absolute path",
            crafted_archive(&[b"+out"], &[Crafted::Dir(b"out"), Crafted::File(&abs_file, b"evil")]),
        ),
        (
            "a symlink escaping the cwd, then a file under it",
            crafted_archive(
                &[b"+out"],
                &[
                    Crafted::Dir(b"out"),
                    Crafted::Symlink(b"out/link", b"../../canary"),
                    Crafted::File(b"out/link/pwned", b"evil"),
                ],
            ),
        ),
        (
            "an absolute symlink outside the cwd, then a file under it",
            crafted_archive(
                &[b"+out"],
                &[
                    Crafted::Dir(b"out"),
                    Crafted::Symlink(b"out/link", &canary_abs),
                    Crafted::File(b"out/link/pwned", b"evil"),
                ],
            ),
        ),
        (
            "the output itself a symlink out, then a file under it",
            crafted_archive(
                &[b"+out"],
                &[Crafted::Symlink(b"out", b"../canary"), Crafted::File(b"out/pwned", b"evil")],
            ),
        ),
        (
            "a manifest deleting an undeclared file",
            crafted_archive(&[b"+out", b"-victim.txt"], &[Crafted::Dir(b"out")]),
        ),
        (
            "a manifest with a '..' output",
            crafted_archive(&[b"+../canary"], &[Crafted::Dir(b"../canary")]),
        ),
    ];
    let mut runs = 1;
    for (what, archive) in cases {
        plant_archive(&entry, &archive);
        // Leftovers that the real run must overwrite.
        let _ = fs::remove_dir_all(env.work.join("out"));

        let refused = run_in(&env, &env.work, &["out"], &[], &argv);
        runs += 1;
        assert_exit(&refused, 0);
        assert_eq!(refused.stdout, b"done\n", "{what}");
        assert_stderr_has(&refused, "outputs not restored");
        counter.assert_runs(runs);
        assert_eq!(snapshot(env.path(), &["canary"]), canary_before, "{what}: wrote outside");
        assert!(!env.path().join("evil").exists(), "{what}: wrote outside");
        assert_eq!(fs::read(env.work.join("victim.txt")).unwrap(), b"victim", "{what}");
        assert_eq!(fs::read(env.work.join("out/real.txt")).unwrap(), b"real\n", "{what}");
        assert_eq!(harness::walk(&env.work.join("out")).len(), 1, "{what}");
        assert_no_staging(env.path());

        // The crafted entry was replaced by the real run: a clean hit now.
        fs::remove_dir_all(env.work.join("out")).unwrap();
        let hit = run_in(&env, &env.work, &["out"], &[], &argv);
        assert_exit(&hit, 0);
        assert_eq!(hit.stdout, b"done\n", "{what}");
        assert_stderr_has(&hit, "restored 1 file, 5 bytes");
        counter.assert_runs(runs);
        assert_eq!(fs::read(env.work.join("out/real.txt")).unwrap(), b"real\n", "{what}");
    }
}

#[cfg(feature = "redis")]
#[test]
fn outputs_travel_through_the_redis_tier_to_another_machine() {
    let server = redis_server::RedisServer::start();
    let url = server.url();
    let machine_a = TestEnv::new();
    let machine_b = TestEnv::new();
    assert_ne!(machine_a.root(), machine_b.root());
    // One counter both machines see (the argv must match for the key).
    let counter = machine_a.counter("remote");
    let argv = counter
        .sh("mkdir -p out/d && printf 'payload' > out/d/f.txt && chmod 700 out/d/f.txt \
         && ln -s d/f.txt out/l && echo shared");
    let extra = ["--no-cwd", "--remote", url.as_str()];

    let a = run_in(&machine_a, &machine_a.work, &["out"], &extra, &argv);
    assert_exit(&a, 0);
    assert_eq!(a.stdout, b"shared\n");
    assert_stderr_has(&a, "archived 2 files, 7 bytes");
    counter.assert_runs(1);
    assert!(server.dbsize() > 0, "nothing uploaded: {}", stderr(&a));
    let recorded = snapshot(&machine_a.work, &["out"]);

    assert!(harness::walk(&machine_b.work).is_empty());
    let b = run_in(&machine_b, &machine_b.work, &["out"], &extra, &argv);
    assert_exit(&b, 0);
    assert_eq!(b.stdout, b"shared\n");
    counter.assert_runs(1);
    assert_stderr_has(&b, "remote hit");
    assert_stderr_has(&b, "restored 2 files, 7 bytes");
    assert_eq!(snapshot(&machine_b.work, &["out"]), recorded);
    assert_no_staging(machine_b.path());

    for machine in [&machine_a, &machine_b] {
        let list = machine.cmd().args(["list", "--json"]).output().unwrap();
        assert_exit(&list, 0);
        let json: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
        let entries = json.as_array().unwrap();
        assert_eq!(entries.len(), 1, "{json}");
        assert!(entries[0]["outputs_bytes"].as_u64().unwrap() > 0, "{json}");
    }
}

#[test]
fn a_refused_restore_is_reported_as_a_miss_not_as_an_expired_entry() {
    let env = TestEnv::new();
    let counter = env.counter("wording");
    let argv = counter.sh("mkdir -p out && echo real > out/real.txt && echo done");
    assert_exit(&run_in(&env, &env.work, &["out"], &[], &argv), 0);
    let entry = env.entry_path(&env.key(key_args(&["out"], &argv)));
    let crafted = crafted_archive(&[b"+out"], &[Crafted::Dir(b"out"), Crafted::File(b"../x", b"")]);
    plant_archive(&entry, &crafted);

    let refused = run_in(&env, &env.work, &["out"], &["--ttl", "1h"], &argv);
    assert_exit(&refused, 0);
    counter.assert_runs(2);
    assert_stderr_has(&refused, "outputs not restored");
    assert_stderr_has(&refused, "miss");
    // The entry was 0 s old under a 1 h TTL: calling it expired misleads.
    let text = stderr(&refused);
    assert!(!text.contains("expired"), "a fresh, refused entry reported as expired: {text}");
}

#[test]
fn a_stale_if_error_fallback_serves_the_last_good_outputs_with_its_stdout() {
    let env = TestEnv::new();
    let counter = env.counter("fallback");
    let flag = env.path().join("fail");
    let argv = counter.sh(&format!(
        "mkdir -p out; if [ -e '{}' ]; then echo broken > out/f; echo bad; exit 1; fi; \
         echo good > out/f; echo good",
        flag.display()
    ));
    let extra = ["--ttl", "5s", "--stale-if-error", "1h"];
    let first = run_in(&env, &env.work, &["out"], &extra, &argv);
    assert_exit(&first, 0);
    assert_stderr_has(&first, "recorded");
    let key = env.key(key_args(&["out"], &argv));
    env.age_entry(&key, 10);

    fs::write(&flag, "").unwrap();
    fs::remove_dir_all(env.work.join("out")).unwrap();
    let fallback = run_in(&env, &env.work, &["out"], &extra, &argv);
    counter.assert_runs(2);
    let outputs = fs::read_to_string(env.work.join("out/f")).unwrap_or_default();
    // Whatever is served, stdout, exit status and outputs must belong to
    // one run: the last good entry's stdout with the failed run's files
    // is a mix no run produced.
    if fallback.stdout == b"good\n" {
        assert_exit(&fallback, 0);
        assert_eq!(
            outputs,
            "good\n",
            "served the last good stdout/exit 0 but left the failed run's outputs; stderr: {}",
            stderr(&fallback)
        );
    } else {
        assert_exit(&fallback, 1);
        assert_eq!(fallback.stdout, b"bad\n");
    }
}
