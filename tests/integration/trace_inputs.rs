//! `--trace-inputs`: inputs found by tracing the command, through the real
//! binary. Each test counts real executions: a hit runs nothing, a changed
//! input runs the command again. No sleeps: the stat cache only trusts a
//! file whose mtime is old, and a changed file is re-hashed regardless.

use crate::harness;

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use harness::executable::{copy_executable, write_executable};
use harness::TestEnv;
use predicates::prelude::*;

fn cc(env: &TestEnv) -> assert_cmd::Command {
    let mut cmd = env.cmd();
    cmd.env("CACHECMD_DIR", env.root());
    cmd
}

/// `cachecmd --trace-inputs OPTS... -- COMMAND` in `dir`; its stdout.
#[track_caller]
fn traced_in(env: &TestEnv, dir: &Path, opts: &[&str], command: &[OsString]) -> String {
    let mut args = vec!["--trace-inputs"];
    args.extend_from_slice(opts);
    let out =
        cc(env).args(harness::with_command(&args, command)).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "{:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[track_caller]
fn traced(env: &TestEnv, command: &[OsString]) -> String {
    traced_in(env, &env.work, &[], command)
}

fn write(env: &TestEnv, name: &str, text: &str) {
    let path = env.work.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, text).unwrap();
}

fn sh(script: &str) -> Vec<OsString> {
    vec!["sh".into(), "-c".into(), script.into()]
}

#[test]
fn a_file_read_by_a_grandchild_invalidates_and_one_never_read_does_not() {
    let env = TestEnv::new();
    write(&env, "data.txt", "one");
    write(&env, "other.txt", "x");
    let counter = env.counter("runs");
    let command = counter.sh("sh -c 'sh -c \"cat data.txt\"'");
    assert_eq!(traced(&env, &command), "one");
    assert_eq!(traced(&env, &command), "one");
    counter.assert_runs(1);
    write(&env, "other.txt", "changed, but never read");
    assert_eq!(traced(&env, &command), "one");
    counter.assert_runs(1);
    write(&env, "data.txt", "two");
    assert_eq!(traced(&env, &command), "two");
    counter.assert_runs(2);
    // The first input state is still known: going back is a hit.
    write(&env, "data.txt", "one");
    assert_eq!(traced(&env, &command), "one");
    counter.assert_runs(2);
}

#[test]
fn a_path_that_was_absent_and_is_created_invalidates() {
    let env = TestEnv::new();
    let counter = env.counter("runs");
    let command = counter.sh("cat opt.conf 2>/dev/null || echo default");
    assert_eq!(traced(&env, &command), "default\n");
    assert_eq!(traced(&env, &command), "default\n");
    counter.assert_runs(1);
    write(&env, "opt.conf", "custom\n");
    assert_eq!(traced(&env, &command), "custom\n");
    counter.assert_runs(2);
}

#[test]
fn a_rename_over_an_input_invalidates_and_the_commands_own_renames_do_not() {
    let env = TestEnv::new();
    write(&env, "a.txt", "A");
    write(&env, "b.txt", "B");
    let counter = env.counter("runs");
    // The command writes a temp file and renames it: outputs, not inputs.
    let command = counter.sh("cat a.txt; cat a.txt > tmp.out; mv tmp.out copy.out");
    assert_eq!(traced(&env, &command), "A");
    assert_eq!(traced(&env, &command), "A");
    counter.assert_runs(1);
    fs::rename(env.work.join("b.txt"), env.work.join("a.txt")).unwrap();
    assert_eq!(traced(&env, &command), "B");
    counter.assert_runs(2);
}

#[test]
fn a_symlink_along_the_path_that_changes_target_invalidates() {
    let env = TestEnv::new();
    write(&env, "v1/conf", "version 1");
    write(&env, "v2/conf", "version 2");
    std::os::unix::fs::symlink("v1", env.work.join("current")).unwrap();
    let counter = env.counter("runs");
    let command = counter.sh("cat current/conf");
    assert_eq!(traced(&env, &command), "version 1");
    assert_eq!(traced(&env, &command), "version 1");
    fs::remove_file(env.work.join("current")).unwrap();
    std::os::unix::fs::symlink("v2", env.work.join("current")).unwrap();
    assert_eq!(traced(&env, &command), "version 2");
    counter.assert_runs(2);
}

#[test]
fn an_executed_script_that_changes_invalidates() {
    let env = TestEnv::new();
    let script = env.work.join("tool.sh");
    write_executable(&script, "#!/bin/sh\necho old\n");
    let counter = env.counter("runs");
    let command = counter.sh("./tool.sh");
    assert_eq!(traced(&env, &command), "old\n");
    assert_eq!(traced(&env, &command), "old\n");
    fs::write(&script, "#!/bin/sh\necho new\n").unwrap();
    assert_eq!(traced(&env, &command), "new\n");
    counter.assert_runs(2);
}

#[test]
fn the_interpreter_of_an_executed_script_is_an_input() {
    let env = TestEnv::new();
    // The interpreter is a script too, opened only by the kernel (`sh`
    // opens bin/one itself): a change of it must be seen all the same.
    for (name, text) in [
        ("bin/one", "#!/bin/sh\necho one\n"),
        ("bin/two", "#!/bin/sh\necho two\n"),
        ("bin/outer", "#!bin/one\n"),
        ("tool", "#!bin/outer\n"),
    ] {
        write_executable(&env.work.join(name), text);
    }
    let counter = env.counter("runs");
    let command = counter.sh("exec ./tool");
    assert_eq!(traced(&env, &command), "one\n");
    assert_eq!(traced(&env, &command), "one\n");
    counter.assert_runs(1);
    write(&env, "bin/outer", "#!bin/two\n");
    assert_eq!(traced(&env, &command), "two\n");
    counter.assert_runs(2);
}

#[test]
fn a_file_read_with_o_nofollow_is_checked_by_its_content() {
    let env = TestEnv::new();
    write(&env, "data.txt", "aaaa");
    let counter = env.counter("runs");
    // As tar and `cp -r` read files.
    let python = "import os; fd = os.open('data.txt', os.O_RDONLY | os.O_NOFOLLOW); \
                  print(os.read(fd, 100).decode())";
    let command = counter.sh(&format!("python3 -c \"{python}\""));
    assert_eq!(traced(&env, &command), "aaaa\n");
    assert_eq!(traced(&env, &command), "aaaa\n");
    counter.assert_runs(1);
    // Same size, same mtime (as `tar x` or `cp -p` leave it), new content.
    let path = env.work.join("data.txt");
    let mtime = fs::metadata(&path).unwrap().modified().unwrap();
    fs::write(&path, "bbbb").unwrap();
    fs::File::options().write(true).open(&path).unwrap().set_modified(mtime).unwrap();
    assert_eq!(traced(&env, &command), "bbbb\n");
    counter.assert_runs(2);
}

#[test]
fn an_executed_script_that_loses_its_execute_bit_invalidates() {
    let env = TestEnv::new();
    let tool = env.work.join("tool");
    write_executable(&tool, "#!/bin/sh\necho ran\n");
    let counter = env.counter("runs");
    let command = counter.sh("./tool 2>/dev/null || echo denied");
    assert_eq!(traced(&env, &command), "ran\n");
    assert_eq!(traced(&env, &command), "ran\n");
    counter.assert_runs(1);
    fs::set_permissions(&tool, fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(traced(&env, &command), "denied\n");
    counter.assert_runs(2);
}

#[test]
fn a_file_opened_read_write_but_not_truncated_stays_an_input() {
    let env = TestEnv::new();
    write(&env, "data.db", "rows: 1");
    let counter = env.counter("runs");
    // As sqlite3 opens a database it only queries; appending keeps the
    // old content too.
    let python = "print(open('data.db', 'r+').read()); open('log', 'a').write('x')";
    let command = counter.sh(&format!("python3 -c \"{python}\""));
    assert_eq!(traced(&env, &command), "rows: 1\n");
    assert_eq!(traced(&env, &command), "rows: 1\n");
    counter.assert_runs(1);
    write(&env, "data.db", "rows: 2");
    assert_eq!(traced(&env, &command), "rows: 2\n");
    counter.assert_runs(2);
}

#[test]
fn a_listed_directory_that_gains_a_file_invalidates() {
    let env = TestEnv::new();
    write(&env, "src/a.c", "");
    let counter = env.counter("runs");
    let command = counter.sh("ls src");
    assert_eq!(traced(&env, &command), "a.c\n");
    assert_eq!(traced(&env, &command), "a.c\n");
    write(&env, "src/b.c", "");
    assert_eq!(traced(&env, &command), "a.c\nb.c\n");
    counter.assert_runs(2);
}

#[test]
fn a_mkdir_of_an_existing_directory_keeps_what_is_in_it_an_input() {
    let env = TestEnv::new();
    write(&env, "out/a", "");
    let counter = env.counter("runs");
    // `mkdir -p out` fails with EEXIST: `out` is not the run's output, so
    // its listing and the absence of `out/flag` stay inputs.
    let command = counter.sh("mkdir -p out; ls out; test -e out/flag && echo flag; true");
    assert_eq!(traced(&env, &command), "a\n");
    assert_eq!(traced(&env, &command), "a\n");
    counter.assert_runs(1);
    write(&env, "out/b", "");
    assert_eq!(traced(&env, &command), "a\nb\n");
    counter.assert_runs(2);
    write(&env, "out/flag", "");
    assert_eq!(traced(&env, &command), "a\nb\nflag\nflag\n");
    counter.assert_runs(3);
}

#[test]
fn a_hard_linked_file_is_read_not_written() {
    let env = TestEnv::new();
    write(&env, "src.txt", "one");
    let counter = env.counter("runs");
    let command = counter.sh("ln -f src.txt copy.txt; cat src.txt");
    assert_eq!(traced(&env, &command), "one");
    assert_eq!(traced(&env, &command), "one");
    counter.assert_runs(1);
    fs::remove_file(env.work.join("src.txt")).unwrap();
    write(&env, "src.txt", "two");
    assert_eq!(traced(&env, &command), "two");
    counter.assert_runs(2);
}

#[test]
fn a_build_that_writes_into_the_directory_it_lists_hits_the_next_time() {
    let env = TestEnv::new();
    write(&env, "main.c", "int main(void) { return 0; }\n");
    write(&env, "Makefile", "main: main.c\n\tcc -o main main.c\n");
    let counter = env.counter("runs");
    let command = counter.sh("ls; make");
    let first = traced(&env, &command);
    assert!(first.contains("cc -o main main.c"), "{first}");
    assert!(env.work.join("main").exists());
    // `main` is the build's own output: its appearance in the listing and
    // make's stat of it do not make the entry stale.
    assert_eq!(traced(&env, &command), first);
    counter.assert_runs(1);
    write(&env, "main.c", "int main(void) { return 1; }\n");
    traced(&env, &command);
    counter.assert_runs(2);
}

#[test]
fn threads_are_traced() {
    let env = TestEnv::new();
    write(&env, "data.txt", "from a thread");
    let counter = env.counter("runs");
    let python = "import threading\n\
                  def read():\n    print(open('data.txt').read())\n\
                  t = threading.Thread(target=read); t.start(); t.join()";
    let command = counter.sh(&format!("python3 -c \"{python}\""));
    assert_eq!(traced(&env, &command), "from a thread\n");
    traced(&env, &command);
    counter.assert_runs(1);
    write(&env, "data.txt", "changed");
    assert_eq!(traced(&env, &command), "changed\n");
    counter.assert_runs(2);
}

#[test]
fn a_static_program_is_traced() {
    let env = TestEnv::new();
    let source = env.path().join("readfile.c");
    fs::write(
        &source,
        "#include <stdio.h>\nint main(void){FILE*f=fopen(\"data.txt\",\"r\");int c;\
         if(!f)return 2;while((c=fgetc(f))!=EOF)putchar(c);return 0;}\n",
    )
    .unwrap();
    let program = env.path().join("readfile");
    let built = Command::new("cc").arg("-static").arg("-o").arg(&program).arg(&source).status();
    assert!(built.unwrap().success(), "cc -static failed (needs libc6-dev)");
    let file = Command::new("file").arg(&program).output();
    if let Ok(out) = file {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("dynamically linked"), "{text}");
    }
    write(&env, "data.txt", "static one");
    let counter = env.counter("runs");
    let command = counter.sh(&program.display().to_string());
    assert_eq!(traced(&env, &command), "static one");
    traced(&env, &command);
    counter.assert_runs(1);
    write(&env, "data.txt", "static two");
    assert_eq!(traced(&env, &command), "static two");
    counter.assert_runs(2);
}

#[test]
fn a_command_using_io_uring_runs_untraced_and_is_not_cached() {
    let env = TestEnv::new();
    let counter = env.counter("runs");
    // io_uring_setup (425 on x86-64 and aarch64) with bad arguments: it
    // fails, but a ring could read files the tracer never sees.
    let python = "import ctypes; ctypes.CDLL(None).syscall(425, 1, 0); print('done')";
    let command = counter.sh(&format!("python3 -c \"{python}\""));
    for _ in 0..2 {
        let args = harness::with_command(&["-v", "--trace-inputs"], &command);
        let out = cc(&env).args(args).output().unwrap();
        assert_eq!((out.status.code(), out.stdout.as_slice()), (Some(0), b"done\n".as_slice()));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("not recorded (not traced: cannot decode system call 425"),
            "{stderr}"
        );
    }
    counter.assert_runs(2);
}

#[test]
fn without_ptrace_the_run_is_untraced_and_not_cached() {
    let env = TestEnv::new();
    write(&env, "data.txt", "hello");
    let counter = env.counter("runs");
    let command = counter.sh("cat data.txt; exit 4");
    let mut args: Vec<OsString> = vec!["-f".into(), "-o".into(), "/dev/null".into()];
    args.push(harness::BIN.into());
    args.extend(harness::with_command(&["-v", "--trace-inputs", "--failure-ttl", "1h"], &command));
    for _ in 0..2 {
        // Under strace, ptrace by cachecmd is refused (EPERM).
        let out =
            env.std_command("strace").env("CACHECMD_DIR", env.root()).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(4));
        assert_eq!(out.stdout, b"hello");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("not recorded (not traced: ptrace is not permitted"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    counter.assert_runs(2);
}

#[test]
fn traced_and_untraced_keys_differ_and_the_variable_takes_every_boolean() {
    let env = TestEnv::new();
    let command = sh("true");
    let key_with = |opts: &[&str], var: Option<&str>| {
        let mut cmd = cc(&env);
        if let Some(value) = var {
            cmd.env("CACHECMD_TRACE_INPUTS", value);
        }
        let out = cmd.arg("key").args(harness::with_command(opts, &command)).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let traced = key_with(&["--trace-inputs"], None);
    let untraced = key_with(&[], None);
    assert_ne!(traced, untraced);
    for yes in ["1", "true", "yes", "on"] {
        assert_eq!(key_with(&[], Some(yes)), traced, "{yes}");
    }
    for no in ["0", "false", "no", "off", ""] {
        assert_eq!(key_with(&[], Some(no)), untraced, "{no:?}");
    }
    cc(&env)
        .env("CACHECMD_TRACE_INPUTS", "maybe")
        .args(harness::with_command(&[], &command))
        .assert()
        .code(125)
        .stderr(predicate::str::contains("CACHECMD_TRACE_INPUTS"));
    env.write_config("trace_inputs = true\n");
    assert_eq!(key_with(&[], None), traced);
    assert_eq!(key_with(&[], Some("0")), untraced);
}

#[test]
fn ignored_paths_do_not_invalidate() {
    let env = TestEnv::new();
    write(&env, "data.txt", "data");
    write(&env, "logs/today.log", "1");
    let counter = env.counter("runs");
    let command = counter.sh("cat data.txt logs/today.log");
    let opts = ["--trace-ignore", "logs/**"];
    assert_eq!(traced_in(&env, &env.work, &opts, &command), "data1");
    write(&env, "logs/today.log", "2");
    assert_eq!(traced_in(&env, &env.work, &opts, &command), "data1");
    counter.assert_runs(1);
    cc(&env)
        .args(harness::with_command(&["--trace-inputs", "--trace-ignore", "a["], &command))
        .assert()
        .code(125)
        .stderr(predicate::str::contains("--trace-ignore 'a['"));
}

#[test]
fn a_path_climbing_out_of_an_ignored_tree_is_still_an_input() {
    let env = TestEnv::new();
    write(&env, "data.txt", "one");
    write(&env, "logs/today.log", "");
    let counter = env.counter("runs");
    let work = fs::canonicalize(&env.work).unwrap();
    let via_dev = format!("/dev/..{}/data.txt", work.display());
    let command = counter.sh(&format!("cat '{via_dev}' logs/../data.txt"));
    let opts = ["--trace-ignore", "logs/**"];
    assert_eq!(traced_in(&env, &env.work, &opts, &command), "oneone");
    assert_eq!(traced_in(&env, &env.work, &opts, &command), "oneone");
    counter.assert_runs(1);
    write(&env, "data.txt", "two");
    assert_eq!(traced_in(&env, &env.work, &opts, &command), "twotwo");
    counter.assert_runs(2);
}

#[test]
fn two_checkouts_share_entries_with_no_cwd() {
    let env = TestEnv::new();
    let (one, two) = (env.path().join("checkout-one"), env.path().join("checkout-two"));
    for dir in [&one, &two] {
        fs::create_dir_all(dir.join("src")).unwrap();
        fs::write(dir.join("src/input.txt"), "same").unwrap();
    }
    let counter = env.counter("runs");
    let command = counter.sh("cat src/input.txt");
    assert_eq!(traced_in(&env, &one, &["--no-cwd"], &command), "same");
    assert_eq!(traced_in(&env, &two, &["--no-cwd"], &command), "same");
    counter.assert_runs(1);
    fs::write(two.join("src/input.txt"), "different").unwrap();
    assert_eq!(traced_in(&env, &two, &["--no-cwd"], &command), "different");
    counter.assert_runs(2);
}

#[test]
fn audit_lists_undeclared_reads_and_gates_on_them() {
    let env = TestEnv::new();
    write(&env, "a.txt", "a");
    write(&env, "b.txt", "b");
    let command = sh("cat a.txt b.txt > /dev/null; ls > /dev/null");
    let audit = |opts: &[&str]| {
        let mut args = vec!["audit"];
        args.extend_from_slice(opts);
        cc(&env).args(harness::with_command(&args, &command)).output().unwrap()
    };
    let out = audit(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a.txt\nb.txt\n");
    let out = audit(&["--input", "a.txt"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "b.txt\n");
    let out = audit(&["--input", "*.txt"]);
    assert_eq!((out.status.code(), out.stdout.as_slice()), (Some(0), b"".as_slice()));
    let all = audit(&["--all", "--input", "*.txt"]);
    assert_eq!(all.status.code(), Some(1));
    let text = String::from_utf8_lossy(&all.stdout);
    assert!(text.lines().any(|l| l.ends_with("/sh") || l.ends_with("/cat")), "{text}");
    assert!(text.lines().all(|l| l.starts_with('/')), "{text}");
}

#[test]
fn audit_leaves_out_files_above_the_working_directory() {
    let env = TestEnv::new();
    write(&env, "Makefile", "m");
    write(&env, "src/a.c", "a");
    let command = sh("cat a.c ../Makefile > /dev/null");
    let audit = |opts: &[&str]| {
        let mut args = vec!["audit"];
        args.extend_from_slice(opts);
        let args = harness::with_command(&args, &command);
        cc(&env).args(args).current_dir(env.work.join("src")).output().unwrap()
    };
    let out = audit(&[]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a.c\n");
    let out = audit(&["--input", "a.c"]);
    assert_eq!((out.status.code(), out.stdout.as_slice()), (Some(0), b"".as_slice()));
    let all = audit(&["--all", "--input", "a.c"]);
    assert!(String::from_utf8_lossy(&all.stdout).lines().any(|l| l == "../Makefile"));
}

#[test]
fn key_explain_and_show_list_the_traced_inputs() {
    let env = TestEnv::new();
    write(&env, "input.txt", "x");
    let command = sh("cat input.txt");
    let explain = |env: &TestEnv| {
        let args = harness::with_command(&["key", "--explain", "--trace-inputs"], &command);
        String::from_utf8(cc(env).args(args).output().unwrap().stdout).unwrap()
    };
    let before = explain(&env);
    assert!(before.contains("trace    inputs found by tracing"), "{before}");
    assert!(before.contains("traced inputs: none recorded yet"), "{before}");
    traced(&env, &command);
    let after = explain(&env);
    assert!(after.contains("manifest 1 -> entry"), "{after}");
    assert!(after.lines().any(|l| l.contains("read") && l.ends_with(" input.txt")), "{after}");
    let shown = cc(&env)
        .args(harness::with_command(&["show", "--trace-inputs"], &command))
        .output()
        .unwrap();
    let shown = String::from_utf8(shown.stdout).unwrap();
    assert!(shown.contains("traced inputs"), "{shown}");
    assert!(shown.lines().any(|l| l.ends_with(" input.txt")), "{shown}");
}

#[test]
fn status_signals_and_stdin_pass_through_the_tracer() {
    let env = TestEnv::new();
    cc(&env).args(harness::with_command(&["--trace-inputs"], &sh("exit 7"))).assert().code(7);
    // Killed by a signal: the shell's 128+N, as without tracing.
    let killed = sh("kill -TERM $$");
    cc(&env).args(harness::with_command(&["--trace-inputs"], &killed)).assert().code(143);
    cc(&env)
        .args(harness::with_command(&["--trace-inputs"], &["cat".into()]))
        .write_stdin("from stdin")
        .assert()
        .success()
        .stdout("from stdin");
    // A command that stops itself and is continued from outside (job
    // control), as an interactive program suspended with Ctrl-Z would be.
    let stops = sh("kill -STOP $$; echo resumed");
    let mut child = env.std_cmd();
    child.env("CACHECMD_DIR", env.root()).args(harness::with_command(&["--trace-inputs"], &stops));
    let child = child.stdout(std::process::Stdio::piped()).spawn().unwrap();
    // SIGCONT until it has run to the end: one that arrives before the
    // stop is lost (a traced process at a system call looks stopped too),
    // as it would be without tracing.
    let me = child.id();
    let mut child = child;
    let children = || children_of(me).iter().map(i32::to_string).collect::<Vec<_>>();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        for pid in children() {
            let _ = Command::new("kill").args(["-CONT", &pid]).status();
        }
        if std::time::Instant::now() > deadline {
            // What each process was doing, to tell a tracer bug from a lost
            // signal should this ever fail again.
            let state = |pid: &str| {
                let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
                let keep = ["Name", "State", "TracerPid", "SigPnd", "ShdPnd", "SigBlk", "SigIgn"];
                let lines = status.lines().filter(|l| keep.iter().any(|k| l.starts_with(k)));
                let wchan = fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
                format!("{pid}: {} wchan {wchan}", lines.collect::<Vec<_>>().join("; "))
            };
            let mut seen = vec![state(&me.to_string())];
            seen.extend(children().iter().map(|pid| state(pid)));
            let _ = child.kill();
            panic!("the stopped command was never continued:\n{}", seen.join("\n"));
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!((out.status.code(), out.stdout.as_slice()), (Some(0), b"resumed\n".as_slice()));
}

/// A signal that reaches the command while it is being handed to its
/// tracer (a terminal's SIGWINCH, a SIGCONT, between fork and exec) stops
/// a traced process until its tracer resumes it: the tracer must already
/// be serving it, or the run hangs. Each run here gets a stream of SIGWINCH
/// (ignored by default) at every child of cachecmd from its first moment.
#[test]
fn signals_during_the_hand_off_never_hang_the_run() {
    let env = TestEnv::new();
    for _ in 0..40 {
        let mut cmd = env.std_cmd();
        cmd.env("CACHECMD_DIR", env.root());
        cmd.args(harness::with_command(&["--trace-inputs", "--force"], &sh("echo ran")));
        let mut child = cmd.stdout(std::process::Stdio::piped()).spawn().unwrap();
        let me = child.id();
        let children = || children_of(me);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                // Nothing may be left holding this test's pipes.
                for pid in children() {
                    // SAFETY: kill has no memory preconditions.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
                let _ = child.kill();
                panic!("a traced run hung");
            }
            for pid in children() {
                // SAFETY: kill has no memory preconditions.
                unsafe { libc::kill(pid, libc::SIGWINCH) };
            }
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!((out.status.code(), out.stdout.as_slice()), (Some(0), b"ran\n".as_slice()));
    }
}

/// A command that leaves a process running ends the run when it exits, as
/// without tracing; the process left behind still works (its file system
/// calls are still served: a filter without a tracer would fail them with
/// ENOSYS), and nothing of cachecmd's, such as the entry's lock, is held
/// by what serves it.
#[test]
fn a_process_left_running_neither_holds_the_run_nor_breaks() {
    let env = TestEnv::new();
    write(&env, "in.txt", "input");
    let counter = env.counter("runs");
    // It gives up waiting after about 30 s, so that a run held until it
    // ends fails below rather than hangs.
    let background =
        "(i=0; while [ ! -e go ] && [ $i -lt 1500 ]; do sleep 0.02; i=$((i+1)); done; \
        cat in.txt > bg.out) </dev/null >/dev/null 2>&1 &";
    let command = counter.sh(&format!("cat in.txt; {background}"));
    assert_eq!(traced(&env, &command), "input");
    assert!(!env.work.join("bg.out").exists(), "the run waited for the background process");
    // Returned (its stdout closed: `traced` read it to the end) while the
    // background process waits for `go`. No process holds a descriptor
    // into the cache (the tracer that serves it holds no lock of ours),
    // and a second run is a hit at once.
    let root = env.root();
    for fd in
        fs::read_dir("/proc").unwrap().flatten().flat_map(|p| fs::read_dir(p.path().join("fd")))
    {
        for link in fd.flatten().filter_map(|fd| fs::read_link(fd.path()).ok()) {
            assert!(!link.starts_with(&root), "{} is held open", link.display());
        }
    }
    assert_eq!(traced(&env, &command), "input");
    counter.assert_runs(1);
    assert!(!env.work.join("bg.out").exists());
    fs::write(env.work.join("go"), "").unwrap();
    harness::wait_for("the background process", || {
        fs::read_to_string(env.work.join("bg.out")).is_ok_and(|text| text == "input")
    });
}

/// The children of every thread of process `pid` (for cachecmd: the
/// command and its tracer).
fn children_of(pid: u32) -> Vec<i32> {
    let tasks = fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten();
    let all: Vec<String> =
        tasks.map(|t| fs::read_to_string(t.path().join("children")).unwrap_or_default()).collect();
    all.join(" ").split_whitespace().filter_map(|p| p.parse().ok()).collect()
}

#[test]
fn the_manifests_of_a_key_are_bounded() {
    let env = TestEnv::new();
    let counter = env.counter("runs");
    let command = counter.sh("cat state.txt");
    for n in 0..10 {
        write(&env, "state.txt", &n.to_string());
        assert_eq!(traced(&env, &command), n.to_string());
    }
    counter.assert_runs(10);
    let args = harness::with_command(&["key", "--explain", "--trace-inputs"], &command);
    let explain = String::from_utf8(cc(&env).args(args).output().unwrap().stdout).unwrap();
    assert!(explain.contains("manifest 8 -> "), "{explain}");
    assert!(!explain.contains("manifest 9 -> "), "{explain}");
    // The newest states are kept; the oldest was dropped.
    write(&env, "state.txt", "9");
    traced(&env, &command);
    write(&env, "state.txt", "0");
    traced(&env, &command);
    counter.assert_runs(11);
}

#[test]
#[ignore = "needs root"]
fn a_set_user_id_program_runs_untraced_with_its_privileges_needs_root() {
    let env = TestEnv::new();
    for dir in [env.path(), &env.work, &env.bin, &env.home, &env.config_home, &env.cache_home] {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let dir = env.path().join("nobody");
    fs::create_dir(&dir).unwrap();
    std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).expect("chown (needs root)");
    // A root-owned set-user-ID copy of `id`: `id -u` prints the effective uid.
    let program = env.path().join("suid-id");
    copy_executable(Path::new("/usr/bin/id"), &program);
    std::os::unix::fs::chown(&program, Some(0), Some(0)).unwrap();
    fs::set_permissions(&program, fs::Permissions::from_mode(0o4755)).unwrap();
    for _ in 0..2 {
        let out = env
            .std_command("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", harness::BIN])
            .args(["-v", "--trace-inputs", "--"])
            .arg(&program)
            .arg("-u")
            .env("CACHECMD_DIR", dir.join("cache"))
            .current_dir(&dir)
            .output()
            .unwrap();
        assert_eq!((out.status.code(), out.stdout.as_slice()), (Some(0), b"0\n".as_slice()));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("not recorded (not traced: "), "{stderr}");
        assert!(stderr.contains("set-user-ID"), "{stderr}");
    }
}

#[cfg(feature = "http")]
#[test]
fn manifests_travel_through_a_remote_tier_between_checkouts() {
    let server = harness::nginx::Nginx::start();
    let env = TestEnv::new();
    let (one, two) = (env.path().join("checkout-one"), env.path().join("checkout-two"));
    for dir in [&one, &two] {
        fs::create_dir_all(dir.join("src")).unwrap();
        fs::write(dir.join("src/input.txt"), "same").unwrap();
    }
    let counter = env.counter("runs");
    let command = counter.sh("cat src/input.txt");
    let machine = |name: &str, dir: &Path| {
        let cache = env.path().join(format!("machine-{name}"));
        let opts = ["--no-cwd", "-v", "--trace-inputs", "--remote", &server.url()];
        let mut cmd = env.cmd();
        cmd.arg("--cache-dir").arg(cache).args(harness::with_command(&opts, &command));
        let out = cmd.current_dir(dir).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (String::from_utf8(out.stdout).unwrap(), stderr)
    };
    let (out, stderr) = machine("a", &one);
    assert_eq!(out, "same");
    assert!(stderr.contains("shared remotely"), "{stderr}");
    // The index (an entry) and the result it names: two objects.
    assert_eq!(server.objects().len(), 2, "{:?}", server.objects());
    let (out, stderr) = machine("b", &two);
    assert_eq!(out, "same");
    assert!(stderr.contains("remote hit"), "{stderr}");
    counter.assert_runs(1);
    fs::write(two.join("src/input.txt"), "different").unwrap();
    let (out, stderr) = machine("b", &two);
    assert_eq!(out, "different");
    assert!(stderr.contains("traced input src/input.txt changed"), "{stderr}");
    counter.assert_runs(2);
}

#[test]
fn a_file_the_command_reads_and_rewrites_stays_an_input() {
    // As `git status` reads .git/index and may write it back.
    let env = TestEnv::new();
    write(&env, "state", "a");
    let counter = env.counter("runs");
    let command = counter.sh("cat state; cat state > state.tmp; mv state.tmp state");
    assert_eq!(traced(&env, &command), "a");
    assert_eq!(traced(&env, &command), "a");
    counter.assert_runs(1);
    write(&env, "state", "b");
    assert_eq!(traced(&env, &command), "b");
    counter.assert_runs(2);
}

/// Runs argv[2:] on a terminal (python3's pty): waits for `ready`, types
/// argv[1], and prints everything the terminal showed, then the status.
const TERMINAL: &str = r#"
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
seen = b''
while b'ready' not in seen:
    seen += os.read(fd, 100)
os.write(fd, sys.argv[1].encode().decode('unicode_escape').encode())
try:
    while True:
        chunk = os.read(fd, 100)
        if not chunk:
            break
        seen += chunk
except OSError:
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors='replace').replace('\r', ''))
print(f"status {os.WTERMSIG(status) if os.WIFSIGNALED(status) else -os.WEXITSTATUS(status)}")
"#;

fn on_terminal(env: &TestEnv, typed: &str, script: &str) -> String {
    let mut args: Vec<OsString> =
        vec!["-c".into(), TERMINAL.into(), typed.into(), harness::BIN.into()];
    args.extend(harness::with_command(&["--trace-inputs"], &sh(script)));
    let out =
        env.std_command("python3").env("CACHECMD_DIR", env.root()).args(&args).output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_traced_command_keeps_its_terminal_and_ctrl_c() {
    let env = TestEnv::new();
    // The command's stdin is the terminal, and it reads what is typed.
    let shown =
        on_terminal(&env, "typed line\\n", "test -t 0 && echo ready; read l; echo \"got $l\"");
    assert!(shown.contains("got typed line\n"), "{shown}");
    assert!(shown.ends_with("status 0\n"), "{shown}");
    // Ctrl-C reaches the traced command, and cachecmd dies by SIGINT.
    let shown = on_terminal(&env, "\\x03", "echo ready; sleep 30; echo not interrupted");
    assert!(!shown.contains("not interrupted"), "{shown}");
    assert!(shown.ends_with(&format!("status {}\n", libc::SIGINT)), "{shown}");
}

#[test]
fn a_signal_to_cachecmd_reaches_the_traced_command() {
    let env = TestEnv::new();
    let script = "echo ready; exec sleep 30";
    let mut child = env.std_cmd();
    child
        .env("CACHECMD_DIR", env.root())
        .args(harness::with_command(&["--trace-inputs"], &sh(script)));
    let mut child = child.stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    assert_eq!(line, "ready\n");
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(libc::SIGTERM));
}

/// A tiny job-control shell on a terminal (python3's pty): runs argv[1:]
/// as the foreground job, types Ctrl-Z once it says `ready`, waits until
/// the job is stopped, continues it in the foreground (`fg`), types a line,
/// and prints everything the terminal showed.
const JOB_CONTROL: &str = r#"
import os, pty, sys, signal, time
pid, fd = pty.fork()
if pid == 0:
    # A tiny job-control shell: the command in its own foreground group.
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    job = os.fork()
    if job == 0:
        os.setpgid(0, 0)
        os.tcsetpgrp(0, os.getpid())
        signal.signal(signal.SIGTTOU, signal.SIG_DFL)
        os.execvp(sys.argv[1], sys.argv[1:])
    try:
        os.setpgid(job, job)  # as shells do; fails once the job has exec'd
    except OSError:
        pass
    _, status = os.waitpid(job, os.WUNTRACED)
    os.tcsetpgrp(0, os.getpgrp())
    print("stopped" if os.WIFSTOPPED(status) else f"not stopped {status}", flush=True)
    os.tcsetpgrp(0, job)          # fg
    os.killpg(job, signal.SIGCONT)
    _, status = os.waitpid(job, 0)
    os.tcsetpgrp(0, os.getpgrp())
    print("status", os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status), flush=True)
    os._exit(0)
seen = b''
while b'ready' not in seen:
    seen += os.read(fd, 100)
os.write(fd, b'\x1a')
while b'stopped' not in seen:
    seen += os.read(fd, 100)
time.sleep(0.3)
os.write(fd, b'after\n')
try:
    while True:
        c = os.read(fd, 100)
        if not c: break
        seen += c
except OSError:
    pass
os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors='replace').replace('\r',''))
"#;

#[test]
fn ctrl_z_and_fg_work_on_a_traced_command() {
    let env = TestEnv::new();
    let script = "echo ready; read l; echo \"got $l\"";
    let mut args: Vec<OsString> = vec!["-c".into(), JOB_CONTROL.into(), harness::BIN.into()];
    args.extend(harness::with_command(&["--trace-inputs"], &sh(script)));
    let out =
        env.std_command("python3").env("CACHECMD_DIR", env.root()).args(&args).output().unwrap();
    let shown = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(shown.contains("stopped\n"), "{shown}\nstderr: {stderr}");
    assert!(shown.contains("got after\n"), "{shown}");
    assert!(shown.contains("status 0\n"), "{shown}");
}

#[test]
fn a_hit_counts_for_the_entry_served_so_gc_keeps_it() {
    let env = TestEnv::new();
    write(&env, "data.txt", "d");
    let command = sh("cat data.txt");
    traced(&env, &command);
    traced(&env, &command);
    let args = harness::with_command(&["key", "--explain", "--trace-inputs"], &command);
    let explain = String::from_utf8(cc(&env).args(args).output().unwrap().stdout).unwrap();
    let result = explain
        .lines()
        .find_map(|l| l.strip_prefix("manifest 1 -> entry "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{explain}"))
        .to_string();
    let shown = cc(&env).args(["show", &result]).output().unwrap();
    let shown = String::from_utf8(shown.stdout).unwrap();
    assert!(shown.lines().any(|l| l.starts_with("hits") && l.ends_with(" 1")), "{shown}");
}
