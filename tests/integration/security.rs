//! Attacks on privacy and on the files around the cache (README "Storage,
//! privacy and safety"): modes under umask 000, unsafe roots,
//! planted symlinks (watched with inotify: the victim must be neither
//! read, written nor deleted), environment canaries, loose config files,
//! and descriptors leaking into background refreshes.

use crate::harness;

use std::collections::BTreeMap;
use std::ffi::{CString, OsString};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use harness::fixtures::Node;
use harness::{contains, mode, TestEnv, BIN};
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------
// Helpers

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap()
}

/// cachecmd under `umask 000`.
fn umask0(env: &TestEnv) -> Command {
    let mut cmd = env.std_command("sh");
    cmd.args(["-c", "umask 000; exec \"$0\" \"$@\"", BIN]);
    cmd
}

fn argv(words: &[&str]) -> Vec<OsString> {
    words.iter().map(OsString::from).collect()
}

/// The one `cachecmd:` line a refused root may add; asserts the rest of
/// the result is the command's.
#[track_caller]
fn assert_runs_with_one_line(
    out: &Output,
    stdout: &[u8],
    stderr: &[u8],
    code: i32,
    what: &str,
) -> String {
    assert_eq!(out.status.code(), Some(code), "{what}: exit status");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(stdout),
        "{what}: stdout"
    );
    let extra = out
        .stderr
        .strip_suffix(stderr)
        .or_else(|| out.stderr.strip_prefix(stderr))
        .unwrap_or_else(|| panic!("{what}: stderr {:?}", String::from_utf8_lossy(&out.stderr)));
    let extra = String::from_utf8_lossy(extra).into_owned();
    assert!(
        extra.starts_with("cachecmd: ") && extra.lines().count() == 1 && extra.ends_with('\n'),
        "{what}: expected exactly one cachecmd line on stderr, got {extra:?}"
    );
    extra
}

/// Everything below `dir` (and `dir` itself): any change but the access
/// time shows.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Node> {
    harness::fixtures::snapshot(dir, &["."])
}

fn digest(path: &Path) -> String {
    let bytes = fs::read(path).unwrap();
    Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// inotify on victim files and directories: any open, read, write,
/// attribute change, creation, deletion or move is reported.
struct Watch {
    fd: libc::c_int,
    labels: BTreeMap<i32, String>,
}

const WATCH_MASK: u32 = libc::IN_ACCESS
    | libc::IN_MODIFY
    | libc::IN_ATTRIB
    | libc::IN_CLOSE_WRITE
    | libc::IN_OPEN
    | libc::IN_MOVED_FROM
    | libc::IN_MOVED_TO
    | libc::IN_CREATE
    | libc::IN_DELETE
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF;

impl Watch {
    fn new() -> Watch {
        // SAFETY: no pointers involved.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        assert!(fd >= 0, "inotify_init1: {}", std::io::Error::last_os_error());
        Watch { fd, labels: BTreeMap::new() }
    }

    fn add(&mut self, path: &Path) {
        let c = CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated string for the call.
        let wd = unsafe { libc::inotify_add_watch(self.fd, c.as_ptr(), WATCH_MASK) };
        assert!(
            wd >= 0,
            "inotify_add_watch {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        );
        self.labels.insert(wd, path.display().to_string());
    }

    /// Events since the last call, as text.
    fn drain(&mut self) -> Vec<String> {
        let mut events = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: `buf` is valid for `buf.len()` bytes.
            let n = unsafe { libc::read(self.fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                break;
            }
            let mut at = 0;
            while at + 16 <= n as usize {
                let wd = i32::from_ne_bytes(buf[at..at + 4].try_into().unwrap());
                let mask = u32::from_ne_bytes(buf[at + 4..at + 8].try_into().unwrap());
                let len = u32::from_ne_bytes(buf[at + 12..at + 16].try_into().unwrap()) as usize;
                let name = String::from_utf8_lossy(&buf[at + 16..at + 16 + len]);
                let name = name.trim_end_matches('\0');
                if mask & libc::IN_IGNORED == 0 {
                    let label = self.labels.get(&wd).map_or("?", String::as_str);
                    events.push(format!(
                        "{} on {label}{}{name}",
                        mask_names(mask),
                        if name.is_empty() { "" } else { "/" }
                    ));
                }
                at += 16 + len;
            }
        }
        // A close-after-write with no open in the same batch is a
        // descriptor opened before the watch: this test process wrote the
        // victim, and a child another test thread forked at that moment
        // held a copy until its exec. Anything a run opens shows its OPEN.
        let opened = |what: &str| events.iter().any(|e| e == &format!("OPEN on {what}"));
        let stray =
            |e: &String| e.strip_prefix("CLOSE_WRITE on ").is_some_and(|what| !opened(what));
        let strays: Vec<bool> = events.iter().map(stray).collect();
        let mut strays = strays.into_iter();
        events.retain(|_| !strays.next().unwrap_or(false));
        events
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // SAFETY: closing our own descriptor.
        unsafe { libc::close(self.fd) };
    }
}

fn mask_names(mask: u32) -> String {
    let names = [
        (libc::IN_ACCESS, "ACCESS"),
        (libc::IN_MODIFY, "MODIFY"),
        (libc::IN_ATTRIB, "ATTRIB"),
        (libc::IN_CLOSE_WRITE, "CLOSE_WRITE"),
        (libc::IN_OPEN, "OPEN"),
        (libc::IN_MOVED_FROM, "MOVED_FROM"),
        (libc::IN_MOVED_TO, "MOVED_TO"),
        (libc::IN_CREATE, "CREATE"),
        (libc::IN_DELETE, "DELETE"),
        (libc::IN_DELETE_SELF, "DELETE_SELF"),
        (libc::IN_MOVE_SELF, "MOVE_SELF"),
    ];
    names.iter().filter(|(bit, _)| mask & bit != 0).map(|(_, n)| *n).collect::<Vec<_>>().join("|")
}

/// A victim file and a victim directory outside the cache, watched.
struct Victims {
    file: PathBuf,
    dir: PathBuf,
    file_digest: String,
    dir_snapshot: BTreeMap<PathBuf, Node>,
    watch: Watch,
}

impl Victims {
    fn new(base: &Path) -> Victims {
        let home = base.join("victims");
        let dir = home.join("victim-dir");
        fs::create_dir_all(&dir).unwrap();
        let file = home.join("victim.txt");
        // Starts with the entry magic, so "delete only files with our
        // magic" is no protection on its own.
        fs::write(&file, b"CACHECMD victim: must never be read, written or deleted\n").unwrap();
        fs::write(dir.join("keep.txt"), b"a file of the user's\n").unwrap();
        // Files of the user's that happen to look like cachecmd's temp
        // files where a symlinked `v1/entries` or `v1` would put them.
        for sub in ["ab", "entries/ab"] {
            fs::create_dir_all(dir.join(sub)).unwrap();
            fs::write(dir.join(sub).join(".tmp.notes"), b"the user's notes\n").unwrap();
        }
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
        let file_digest = digest(&file);
        let dir_snapshot = snapshot(&dir);
        let mut watch = Watch::new();
        watch.add(&file);
        watch.add(&dir);
        watch.add(&dir.join("keep.txt"));
        watch.add(&dir.join("ab"));
        watch.add(&dir.join("entries/ab"));
        Victims { file, dir, file_digest, dir_snapshot, watch }
    }

    /// Anything that happened to the victims, then a content check.
    fn violations(&mut self) -> Vec<String> {
        let mut found = self.watch.drain();
        if !self.file.exists() {
            found.push("victim file deleted".into());
        } else if digest(&self.file) != self.file_digest {
            found.push("victim file changed".into());
        }
        let now = snapshot(&self.dir);
        for (path, was) in &self.dir_snapshot {
            match now.get(path) {
                None => found.push(format!("DELETED {}", path.display())),
                Some(is) if is != was => found.push(format!("CHANGED {}", path.display())),
                Some(_) => {}
            }
        }
        for path in now.keys().filter(|p| !self.dir_snapshot.contains_key(*p)) {
            found.push(format!("ADDED {}", path.display()));
        }
        // Our own digest read above opened the file: forget those events.
        self.watch.drain();
        found
    }
}

// ---------------------------------------------------------------------------
// Modes

/// Private files (README "Storage, privacy and safety"): directories 0700 and files 0600 whatever the umask,
/// including every parent cachecmd creates, every kind of file it writes
/// (entries, temp files in flight, locks, journal, usage, stat cache, gc
/// stamp, CACHEDIR.TAG), for a --cache-dir and for the default root.
#[test]
fn everything_is_private_under_umask_000() {
    let env = TestEnv::new();
    let root = env.path().join("new1").join("new2").join("root");
    let dir: Vec<OsString> = vec!["--cache-dir".into(), root.clone().into()];
    fs::write(env.work.join("input.txt"), "input").unwrap();
    let runs: Vec<Vec<&str>> = vec![
        vec!["--input", "input.txt", "--", "sh", "-c", "echo miss"],
        vec!["--input", "input.txt", "--", "sh", "-c", "echo miss"],
        vec!["--failure-ttl", "1h", "--", "sh", "-c", "echo fail >&2; exit 3"],
        vec!["--stdin", "--", "cat"],
        vec!["--warm", "--", "sh", "-c", "echo warmed"],
    ];
    for args in &runs {
        let out = run(umask0(&env).args(&dir).args(args));
        assert!(out.status.code().is_some(), "{args:?}: {out:?}");
    }
    for sub in ["gc", "list", "stats"] {
        assert!(run(umask0(&env).arg(sub).args(&dir)).status.success(), "{sub}");
    }
    // gc folded the journal into `usage`; a hit starts a new one (not left
    // to the background --warm refresh, which may have finished before gc).
    assert!(run(umask0(&env).args(&dir).args(&runs[0])).status.success());
    // A write in flight: its temp file is private from the first byte.
    let mut slow = umask0(&env)
        .args(&dir)
        .args(["--", "sh", "-c", "printf partial; sleep 5"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let temp = loop {
        let temps: Vec<PathBuf> = harness::files_under(&root)
            .into_iter()
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".tmp."))
            .collect();
        if let Some(temp) = temps.into_iter().next() {
            break temp;
        }
        assert!(Instant::now() < deadline, "no temp file appeared");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(mode(&temp), 0o600, "temp file in flight {}", temp.display());
    slow.kill().unwrap();
    slow.wait().unwrap();
    // Let the --warm refresh finish before looking: four entries (miss,
    // failure, --stdin, --warm) and no temp file but the killed writer's.
    wait_until_settled(&root, 4, 1);

    let mut wrong = Vec::new();
    for parent in [env.path().join("new1"), env.path().join("new1").join("new2"), root.clone()] {
        if mode(&parent) != 0o700 {
            wrong.push(format!("{} is {:o}", parent.display(), mode(&parent)));
        }
    }
    let all = harness::walk(&root);
    let mut kinds = std::collections::BTreeSet::new();
    for path in &all {
        let meta = fs::symlink_metadata(path).unwrap();
        let want = if meta.is_dir() { 0o700 } else { 0o600 };
        let name = path.file_name().unwrap().to_string_lossy();
        kinds.insert(if name.len() == 64 {
            "<entry>".to_string()
        } else if name.ends_with(".lock") && name.len() > 40 {
            "<lock>".into()
        } else {
            name.to_string()
        });
        if mode(path) != want {
            wrong.push(format!("{} is {:o}", path.display(), mode(path)));
        }
    }
    println!("COUNTS modes: {} paths checked, kinds {kinds:?}", all.len());
    for kind in ["<entry>", "<lock>", "journal", "CACHEDIR.TAG", "usage", "statcache", "gc.stamp"] {
        assert!(
            kinds.contains(kind),
            "no {kind} was written, so its mode went unchecked: {kinds:?}"
        );
    }
    assert!(wrong.is_empty(), "not private under umask 000:\n{}", wrong.join("\n"));

    // The default root and the XDG parents it needs.
    let xdg = env.path().join("xdg").join("cache");
    let out = run(umask0(&env).env("XDG_CACHE_HOME", &xdg).args(["--", "true"]));
    assert!(out.status.success());
    for dir in [env.path().join("xdg"), xdg.clone(), xdg.join("cachecmd")] {
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    }
}

/// Waits (bounded) until `root` holds at least `entries` entries and at
/// most `temps` temp files, so background writers are done.
fn wait_until_settled(root: &Path, entries: usize, temps: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let names: Vec<String> = walk_quietly(&root.join("v1").join("entries"))
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let found = names.iter().filter(|n| n.len() == 64).count();
        let in_flight = names.iter().filter(|n| n.starts_with(".tmp.")).count();
        if found >= entries && in_flight <= temps {
            // A refresh may still be renaming: give it a moment.
            std::thread::sleep(Duration::from_millis(100));
            return;
        }
        assert!(Instant::now() < deadline, "background work never settled: {names:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Like `harness::walk`, but tolerates files vanishing under it.
fn walk_quietly(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = fs::read_dir(&current) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(path.clone());
            }
            found.push(path);
        }
    }
    found
}

// ---------------------------------------------------------------------------
// Unsafe roots

/// README "Storage": a root owned by someone else, writable by group or
/// others, or a symlink to such a dir, is refused: the command still runs
/// (one line says why), nothing in it is served, written or deleted —
/// including by clear, evict and gc. The dir holds an entry for the very
/// key, planted with other output: it must not be served. Needs root to
/// give a dir to another owner.
#[test]
#[ignore = "needs root"]
fn unsafe_roots_are_refused_and_left_untouched_needs_root() {
    let env = TestEnv::new();
    let count = env.counter("unsafe");
    // `$OUT` is not in the key: the planted entry says "planted".
    let command = count.sh("echo \"$OUT\"; echo err >&2; exit 0");
    let cases: Vec<UnsafeCase> = vec![
        ("owned by uid 65534", |d: &Path| chown_tree(d, 65534), false),
        ("group-writable 0770", |d: &Path| set_mode(d, 0o770), false),
        ("world-writable 0707", |d: &Path| set_mode(d, 0o707), false),
        ("sticky world-writable 1777", |d: &Path| set_mode(d, 0o1777), false),
        ("symlink to a dir owned by 65534", |d: &Path| chown_tree(d, 65534), true),
        ("symlink to a 0777 dir", |d: &Path| set_mode(d, 0o777), true),
    ];
    let mut refused = 0;
    for (i, (what, make_unsafe, via_symlink)) in cases.into_iter().enumerate() {
        let real = env.path().join(format!("root{i}"));
        let plant = run(env
            .std_cmd()
            .env("OUT", "planted")
            .arg("--cache-dir")
            .arg(&real)
            .arg("--")
            .args(&command));
        assert_eq!(plant.stdout, b"planted\n");
        make_unsafe(&real);
        let root = if via_symlink {
            let link = env.path().join(format!("link{i}"));
            std::os::unix::fs::symlink(&real, &link).unwrap();
            link
        } else {
            real.clone()
        };
        let before = snapshot(&real);
        let runs = count.count();
        for via_env in [false, true] {
            let mut cmd = env.std_cmd();
            cmd.env("OUT", "real");
            if via_env {
                cmd.env("CACHECMD_DIR", &root);
            } else {
                cmd.arg("--cache-dir").arg(&root);
            }
            let out = run(cmd.arg("--").args(&command));
            let line = assert_runs_with_one_line(&out, b"real\n", b"err\n", 0, what);
            assert!(line.contains("refus"), "{what}: {line:?}");
            refused += 1;
        }
        assert_eq!(count.count(), runs + 2, "{what}: the planted entry was served");
        let mut evict =
            vec![OsString::from("evict"), "--cache-dir".into(), root.clone().into(), "--".into()];
        evict.extend(command.iter().cloned());
        for sub in [argv(&["clear"]), argv(&["gc"]), argv(&["list"]), argv(&["stats"]), evict] {
            let mut cmd = env.std_cmd();
            cmd.args(&sub);
            if sub[0] != "evict" {
                cmd.arg("--cache-dir").arg(&root);
            }
            let out = run(&mut cmd);
            assert!(out.status.code().is_some(), "{what}: {sub:?} died");
        }
        assert_eq!(snapshot(&real), before, "{what}: the refused root was modified");
    }
    println!("COUNTS unsafe roots: {refused} refused runs, 6 kinds, 5 subcommands each");
}

/// What the root is, how to make it unsafe, and whether to reach it through a symlink.
type UnsafeCase = (&'static str, fn(&Path), bool);

fn set_mode(dir: &Path, mode: u32) {
    fs::set_permissions(dir, fs::Permissions::from_mode(mode)).unwrap();
}

fn chown_tree(dir: &Path, uid: u32) {
    for path in harness::walk(dir).into_iter().chain([dir.to_path_buf()]) {
        std::os::unix::fs::lchown(&path, Some(uid), Some(uid)).unwrap();
    }
}

// ---------------------------------------------------------------------------
// Planted symlinks

/// A cache with every kind of file in it, for one key.
struct Populated {
    env: TestEnv,
    root: PathBuf,
    key: String,
    command: Vec<OsString>,
}

fn populated() -> Populated {
    let env = TestEnv::new();
    fs::write(env.work.join("input.txt"), "input").unwrap();
    let command = argv(&["sh", "-c", "echo cached output"]);
    let mut key_args = argv(&["--input", "input.txt", "--"]);
    key_args.extend(command.iter().cloned());
    let key = env.key(&key_args);
    let root = env.root();
    for _ in 0..2 {
        assert!(run(env.std_cmd().args(&key_args)).status.success());
    }
    assert!(run(env.std_cmd().arg("gc")).status.success());
    assert!(run(env.std_cmd().arg("list")).status.success());
    Populated { env, root, key, command }
}

/// Every operation a user may run against the planted cache, with a name.
fn operations(p: &Populated) -> Vec<(String, Vec<OsString>)> {
    let mut with_input = argv(&["--input", "input.txt", "--"]);
    with_input.extend(p.command.iter().cloned());
    let mut forced = argv(&["--force", "--input", "input.txt", "--"]);
    forced.extend(p.command.iter().cloned());
    let mut plain = argv(&["--"]);
    plain.extend(p.command.iter().cloned());
    let mut evict = argv(&["evict", "--input", "input.txt", "--"]);
    evict.extend(p.command.iter().cloned());
    vec![
        ("run (hit or miss)".into(), with_input.clone()),
        ("run --force".into(), forced),
        ("run without --input".into(), plain),
        ("run again".into(), with_input),
        ("list".into(), argv(&["list"])),
        ("list --json".into(), argv(&["list", "--json"])),
        ("stats".into(), argv(&["stats"])),
        ("show".into(), argv(&["show", &p.key[..8]])),
        ("gc".into(), argv(&["gc"])),
        ("gc --max-size 1".into(), argv(&["gc", "--max-size", "1"])),
        ("evict".into(), evict),
        ("evict --key".into(), argv(&["evict", "--key", &p.key[..8]])),
        ("clear --expired".into(), argv(&["clear", "--expired"])),
        ("clear -v".into(), argv(&["clear", "-v"])),
        ("clear".into(), argv(&["clear"])),
    ]
}

/// Replaces `path` (file or dir) with a symlink to `target`.
fn plant(path: &Path, target: &Path) {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path).unwrap(),
        Ok(_) => fs::remove_file(path).unwrap(),
        Err(_) => fs::create_dir_all(path.parent().unwrap()).unwrap(),
    }
    std::os::unix::fs::symlink(target, path).unwrap();
}

/// README "Storage": nothing inside the root is followed through a
/// symlink. Each name cachecmd uses is replaced in turn by a symlink to a
/// victim file (or, for directories, also to a victim directory); then
/// every operation runs, and the victims are watched with inotify.
#[test]
fn planted_symlinks_inside_the_root_are_never_followed() {
    let mut violations = Vec::new();
    let mut planted = 0;
    let mut ops_run = 0;
    type Place = (&'static str, fn(&Populated) -> PathBuf, bool);
    let places: Vec<Place> = vec![
        ("the entry", |p| harness::entry_path_in(&p.root, &p.key), false),
        (
            "an hour-old temp file",
            |p| {
                harness::entry_path_in(&p.root, &p.key)
                    .with_file_name(format!(".tmp.{}.1.0", p.key))
            },
            false,
        ),
        ("the entry's shard dir", |p| p.root.join("v1/entries").join(&p.key[..2]), true),
        ("v1/entries", |p| p.root.join("v1/entries"), true),
        ("v1", |p| p.root.join("v1"), true),
        (
            "the lock file",
            |p| p.root.join("v1/locks").join(&p.key[..2]).join(format!("{}.lock", p.key)),
            false,
        ),
        ("the lock shard dir", |p| p.root.join("v1/locks").join(&p.key[..2]), true),
        ("v1/locks", |p| p.root.join("v1/locks"), true),
        ("v1/journal", |p| p.root.join("v1/journal"), false),
        ("v1/usage", |p| p.root.join("v1/usage"), false),
        ("v1/statcache", |p| p.root.join("v1/statcache"), false),
        ("v1/gc.stamp", |p| p.root.join("v1/gc.stamp"), false),
        ("v1/gc.lock", |p| p.root.join("v1/gc.lock"), false),
        ("CACHEDIR.TAG", |p| p.root.join("CACHEDIR.TAG"), false),
    ];
    for (name, locate, is_dir) in places {
        let targets: &[bool] = if is_dir { &[false, true] } else { &[false] };
        for &to_dir in targets {
            let p = populated();
            let mut victims = Victims::new(p.env.path());
            let target = if to_dir { victims.dir.clone() } else { victims.file.clone() };
            let at = locate(&p);
            plant(&at, &target);
            if name.contains("hour-old") {
                let old = filetime::FileTime::from_unix_time(1, 0);
                filetime::set_symlink_file_times(&at, old, old).unwrap();
            }
            planted += 1;
            let label = format!("{name} -> victim {}", if to_dir { "dir" } else { "file" });
            victims.violations();
            let mut touched_by = Vec::new();
            for (op, args) in operations(&p) {
                let out = run(p.env.std_cmd().args(&args));
                ops_run += 1;
                if out.status.code().is_none() {
                    violations.push(format!("{label}: `{op}` died: {:?}", out.status));
                }
                let events = victims.watch.drain();
                if !events.is_empty() {
                    let kinds: std::collections::BTreeSet<&str> =
                        events.iter().filter_map(|e| e.split(' ').next()).collect();
                    touched_by.push(format!(
                        "`{op}` ({})",
                        kinds.into_iter().collect::<Vec<_>>().join(",")
                    ));
                }
            }
            let after = victims.violations();
            if !touched_by.is_empty() || !after.is_empty() {
                violations.push(format!(
                    "{label}: touched by {}; {}",
                    touched_by.join(", "),
                    after.join(", ")
                ));
            }
        }
    }
    println!(
        "COUNTS symlink plants: {planted} places, {ops_run} operations, {} places followed",
        violations.len()
    );
    assert!(
        violations.is_empty(),
        "followed a planted symlink (inotify events on the victims):\n{}",
        violations.join("\n")
    );
}

/// The same while shard dirs and entries are swapped for symlinks to the
/// victim file in a loop, during runs, gc, clear and evict.
#[test]
fn symlinks_swapped_in_during_maintenance_never_reach_the_victim() {
    let p = Arc::new(populated());
    let mut victims = Victims::new(p.env.path());
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicUsize::new(0));
    let swapper = {
        let (p, stop, swaps, victim) =
            (p.clone(), stop.clone(), swaps.clone(), victims.file.clone());
        std::thread::spawn(move || {
            let shard = p.root.join("v1/entries").join(&p.key[..2]);
            let aside = p.root.join("v1/entries").join("aside");
            let entry = shard.join(&p.key);
            let lock = p.root.join("v1/locks").join(&p.key[..2]).join(format!("{}.lock", p.key));
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                // Shard dir -> symlink, and back.
                let _ = fs::remove_dir_all(&aside);
                if fs::rename(&shard, &aside).is_ok()
                    && std::os::unix::fs::symlink(&victim, &shard).is_ok()
                {
                    swaps.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(3));
                    let _ = fs::remove_file(&shard);
                    let _ = fs::rename(&aside, &shard);
                }
                // Entry and lock file -> symlink, and back.
                for file in [&entry, &lock] {
                    let saved = file.with_extension("saved");
                    let had = fs::rename(file, &saved).is_ok();
                    if std::os::unix::fs::symlink(&victim, file).is_ok() {
                        swaps.fetch_add(1, Ordering::Relaxed);
                        std::thread::sleep(Duration::from_millis(3));
                        if fs::symlink_metadata(file).is_ok_and(|m| m.file_type().is_symlink()) {
                            let _ = fs::remove_file(file);
                        }
                    }
                    if had {
                        let _ = fs::rename(&saved, file);
                    }
                }
                n += 1;
                if n.is_multiple_of(16) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        })
    };
    let ops = operations(&p);
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut runs = 0;
    let mut died = Vec::new();
    while Instant::now() < deadline {
        let (op, args) = &ops[runs % ops.len()];
        let out = run(p.env.std_cmd().args(args));
        if out.status.code().is_none() {
            died.push(format!("`{op}` died: {:?}", out.status));
        }
        if op.starts_with("run") && out.status.success() && out.stdout != b"cached output\n" {
            died.push(format!("`{op}` printed {:?}", String::from_utf8_lossy(&out.stdout)));
        }
        runs += 1;
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    let found = victims.violations();
    println!(
        "COUNTS symlink swap loop: {} swaps, {runs} operations, {} violations",
        swaps.load(Ordering::Relaxed),
        found.len()
    );
    assert!(died.is_empty(), "{}", died.join("\n"));
    assert!(found.is_empty(), "the victim was touched:\n{}", found.join("\n"));
}

// ---------------------------------------------------------------------------
// Environment canaries

/// Privacy (README "Storage, privacy and safety"): environment values are hashed into the key, never stored.
/// Canaries keyed by --env, by a glob and by the config file's `env`; runs
/// of every kind (miss, hit, stale refresh, warm, --stdin, -v), then
/// every file below the test's tree, and every report, is searched.
#[test]
fn env_canaries_never_reach_disk_or_reports() {
    let env = TestEnv::new();
    let nonce = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos();
    let canaries: Vec<(String, String)> = ["SECRET_TOKEN", "GLOB_SECRET_A", "CONFIG_SECRET"]
        .iter()
        .enumerate()
        .map(|(i, name)| (name.to_string(), format!("canary{i}x{nonce:x}")))
        .collect();
    env.write_config("env = [\"CONFIG_SECRET\"]\n");
    let key_opts = ["--env", "SECRET_TOKEN", "--env", "GLOB_SECRET_*"];
    let command = ["sh", "-c", "echo out; sleep 0.1"];
    let go = |args: &[&str], stdin: &[u8]| -> Output {
        let mut cmd = env.std_cmd();
        for (name, value) in &canaries {
            cmd.env(name, value);
        }
        let mut child = cmd
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A command that does not read stdin may close it first.
        let _ = std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin);
        child.wait_with_output().unwrap()
    };
    let runv = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut v: Vec<&str> = extra.to_vec();
        v.extend(key_opts);
        v.push("--");
        v.extend(command);
        v
    };
    let mut key_args = key_opts.to_vec();
    key_args.push("--");
    key_args.extend(command);
    let mut explain = vec!["key", "--explain"];
    explain.extend(&key_args);
    let mut with_stdin = vec!["--stdin"];
    with_stdin.extend(key_opts);
    with_stdin.extend(["--", "cat"]);

    let mut reports = Vec::new();
    for args in [runv(&["--ttl", "1h"]), runv(&["-v", "--ttl", "1h"])] {
        let out = go(&args, b"");
        reports.extend([out.stdout, out.stderr]);
    }
    let mut key_cmd = vec!["key"];
    key_cmd.extend(&key_args);
    let key = String::from_utf8(go(&key_cmd, b"").stdout).unwrap().trim().to_string();
    harness::age_file(&env.entry_path(&key), 10);
    let later: Vec<Vec<&str>> = vec![
        runv(&["-v", "--ttl", "1h", "--stale", "2s"]),
        runv(&["--warm", "--ttl", "1h"]),
        runv(&["--force", "--failure-ttl", "1h", "--retry", "1", "--retry-delay", "10ms"]),
        with_stdin,
        explain,
        vec!["list"],
        vec!["list", "--json"],
        vec!["show", &key[..12]],
        vec!["stats", "--json"],
        vec!["gc"],
    ];
    for args in &later {
        let out = go(args, b"stdin data");
        reports.extend([out.stdout, out.stderr]);
    }
    // Background refreshes finish (no temp file left in flight).
    wait_until_settled(&env.root(), 1, 0);

    let mut found = Vec::new();
    let files = harness::files_under(env.path());
    for path in &files {
        let bytes = fs::read(path).unwrap();
        for (name, value) in &canaries {
            if contains(&bytes, value.as_bytes()) {
                found.push(format!("{name}'s value in {}", path.display()));
            }
        }
    }
    for report in &reports {
        for (name, value) in &canaries {
            if contains(report, value.as_bytes()) {
                found.push(format!(
                    "{name}'s value in a report: {}",
                    String::from_utf8_lossy(report)
                ));
            }
        }
    }
    println!("COUNTS canaries: {} files and {} reports searched", files.len(), reports.len());
    assert!(files.len() >= 5, "too few files to be meaningful: {files:?}");
    assert!(found.is_empty(), "{}", found.join("\n"));
}

// ---------------------------------------------------------------------------
// Config files others can write

/// A config file that others can write could point the cache anywhere or
/// key nothing: like ssh with a loose ~/.ssh/config, cachecmd must ignore
/// it, with one warning line, and still run the command correctly.
#[test]
fn a_group_or_world_writable_config_is_ignored_with_a_warning() {
    let env = TestEnv::new();
    let elsewhere = env.path().join("config-chosen-cache");
    let config = env.write_config(&format!("cache_dir = {:?}\n", elsewhere.to_str().unwrap()));
    // Control: a private config is obeyed.
    set_mode(&config, 0o600);
    let out = run(env.std_cmd().args(["--", "sh", "-c", "echo hi"]));
    assert_eq!(out.stdout, b"hi\n");
    assert!(elsewhere.exists(), "the control config was not obeyed");
    fs::remove_dir_all(&elsewhere).unwrap();

    let mut problems = Vec::new();
    for loose in [0o620, 0o602, 0o666, 0o777] {
        set_mode(&config, loose);
        let out = run(env.std_cmd().args(["--", "sh", "-c", "echo hi; echo err >&2; exit 3"]));
        if out.stdout != b"hi\n" || out.status.code() != Some(3) {
            problems.push(format!("mode {loose:o}: result changed: {out:?}"));
            continue;
        }
        let extra = out.stderr.strip_suffix(b"err\n").or_else(|| out.stderr.strip_prefix(b"err\n"));
        let warning = extra.map(|e| String::from_utf8_lossy(e).into_owned()).unwrap_or_default();
        if !(warning.starts_with("cachecmd: ")
            && warning.lines().count() == 1
            && warning.contains("config"))
        {
            problems.push(format!(
                "mode {loose:o}: expected one warning line naming the config, stderr was {:?}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        if elsewhere.exists() {
            problems.push(format!("mode {loose:o}: its cache_dir was used"));
            let _ = fs::remove_dir_all(&elsewhere);
        }
    }
    assert!(problems.is_empty(), "a loose config was trusted:\n{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------
// Descriptors of background refreshes

/// README "Freshness": the background refresh (`--stale`, `--warm`) is
/// detached: new session, stdin on /dev/null, no inherited descriptors.
/// cachecmd gets an extra descriptor 5 from the shell (`5>file`); the
/// refreshed command lists its descriptors with `ls -l /proc/self/fd`.
#[test]
fn background_refreshes_inherit_no_descriptors() {
    let env = TestEnv::new();
    let probe = env.bin.join("fdprobe");
    let script = "#!/bin/sh\n\
        ls -l /proc/self/fd > \"$PROBE_OUT\"\n\
        cut -d' ' -f6 /proc/self/stat > \"$PROBE_OUT.sid\"\n\
        echo probed\n";
    harness::executable::write_executable(&probe, script);
    let leak = env.path().join("fd5-target");
    let via_shell = |extra: &str, out: &Path| {
        let script =
            format!("exec 5>'{}'; exec cachecmd --ttl 1h {extra} -- fdprobe", leak.display());
        run(env.std_command("sh").args(["-c", &script]).env("PROBE_OUT", out))
    };
    // SAFETY: getsid has no preconditions.
    let our_session = unsafe { libc::getsid(0) };

    // Foreground miss: the command inherits fd 5 exactly as it would directly.
    let first = env.path().join("probe-foreground");
    assert_eq!(via_shell("--stale 1s", &first).stdout, b"probed\n");
    let fds = listed_fds(&fs::read_to_string(&first).unwrap());
    assert!(fds.iter().any(|(fd, _)| *fd == 5), "the harness did not pass fd 5: {fds:?}");

    let mut problems = Vec::new();
    let cases = [("stale hit", "--stale 1s", "probe-stale"), ("--warm", "--warm", "probe-warm")];
    for (what, flags, name) in cases {
        let out_path = env.path().join(name);
        let key = env.key(["--", "fdprobe"]);
        harness::age_file(&env.entry_path(&key), 5);
        let out = via_shell(flags, &out_path);
        assert!(out.status.success(), "{what}: {out:?}");
        let sid_path = PathBuf::from(format!("{}.sid", out_path.display()));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !(sid_path.exists() && fs::metadata(&sid_path).unwrap().len() > 0) {
            assert!(
                Instant::now() < deadline,
                "{what}: the background refresh never ran the command"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        for (fd, target) in listed_fds(&fs::read_to_string(&out_path).unwrap()) {
            let ok = match fd {
                0 => target == "/dev/null",
                1 | 2 => true,
                _ => target.starts_with("/proc/") && target.ends_with("/fd"),
            };
            if !ok {
                problems.push(format!("{what}: fd {fd} -> {target}"));
            }
        }
        let sid: i32 = fs::read_to_string(&sid_path).unwrap().trim().parse().unwrap();
        if sid == our_session {
            problems.push(format!("{what}: the refresh is still in the caller's session"));
        }
    }
    assert!(
        problems.is_empty(),
        "a background refresh inherited descriptors:\n{}",
        problems.join("\n")
    );
}

/// `(fd, target)` pairs of an `ls -l /proc/self/fd` listing.
fn listed_fds(listing: &str) -> Vec<(u32, String)> {
    listing
        .lines()
        .filter_map(|line| {
            let (left, target) = line.split_once(" -> ")?;
            let fd = left.split_whitespace().last()?.parse().ok()?;
            Some((fd, target.to_string()))
        })
        .collect()
}
