//! The S3 remote tier against a real S3-compatible server (`s3s-fs`, one
//! per test, see harness/s3_server.rs): the backend through the factory
//! (each such test runs again in a child process whose environment holds
//! the credentials, which a test thread must never set for the others),
//! hand-made misbehaving servers, and the real binary with
//! `--remote s3://bucket/prefix`, several "machines" sharing the bucket.
#![cfg(feature = "s3")]

use crate::harness::fixtures::{contents, file_with};
use crate::harness::remote_checks::{assert_output, key_of, status, text};
use crate::harness::{self, s3_server};

use std::ffi::OsString;
use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use cachecmd::test_support::{verify_entry, Remote, RemoteConfig, RemoteError, Stored};
use harness::{entry_path_in, TestEnv};
use s3_server::{S3Server, ACCESS_KEY, SECRET_KEY};

const MIB: usize = 1 << 20;
/// Larger than the backend's part size (8 MiB): a multipart upload and
/// several ranged reads.
const LARGE: usize = 9 * MIB + 12_345;
const CHILD: &str = "CACHECMD_TEST_S3_CHILD";

fn key(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn binary_key(n: u8) -> cachecmd::test_support::Key {
    cachecmd::test_support::Key::from_slice(&[n; 32]).unwrap()
}

/// A real entry for `key(1)`, as the local store writes it.
fn entry(stdout: &[u8]) -> Vec<u8> {
    entry_for(1, stdout)
}

/// A real entry for `key(n)`.
fn entry_for(n: u8, stdout: &[u8]) -> Vec<u8> {
    harness::fixtures::make_entry(n, stdout, b"")
}

fn config(endpoint: &str, url: &str) -> RemoteConfig {
    let mut config = RemoteConfig::new(url);
    config.s3_endpoint = Some(endpoint.to_string());
    config
}

fn remote(server: &S3Server) -> Remote {
    Remote::connect(&config(&server.endpoint(), "s3://bucket/team"))
}

/// Runs `body` in a child process of this test binary whose environment
/// holds the test credentials (and no other AWS settings).
fn with_credentials(name: &str, body: impl FnOnce()) {
    if std::env::var_os(CHILD).is_some() {
        body();
        return;
    }
    harness::run_test_in_child(
        module_path!(),
        name,
        &[
            (CHILD, Some("1".as_ref())),
            ("AWS_ACCESS_KEY_ID", Some(ACCESS_KEY.as_ref())),
            ("AWS_SECRET_ACCESS_KEY", Some(SECRET_KEY.as_ref())),
            ("AWS_SESSION_TOKEN", None),
            ("AWS_PROFILE", None),
            ("AWS_SHARED_CREDENTIALS_FILE", None),
            ("AWS_REGION", None),
            ("AWS_DEFAULT_REGION", None),
            ("CACHECMD_S3_ENDPOINT", None),
        ],
    );
}

#[test]
fn values_small_and_large_round_trip() {
    with_credentials("values_small_and_large_round_trip", || {
        let server = S3Server::start();
        let remote = remote(&server);
        let small = entry_for(1, b"small\n");
        let large = entry_for(2, &harness::noise(LARGE, 7));
        for (n, bytes) in [(1, &small), (2, &large)] {
            let stored = remote.store(&key(n), &file_with(bytes), bytes.len() as u64, None);
            assert_eq!(stored.unwrap(), Stored::Written);
            let mut dest = file_with(b"left over from before");
            assert!(remote.fetch(&key(n), &mut dest, 64 * MIB as u64).unwrap());
            verify_entry(&dest, &binary_key(n)).unwrap();
            assert!(contents(&mut dest) == *bytes, "value {n} differs");
        }
        let names =
            [format!("team/cachecmd:v1:{}", key(1)), format!("team/cachecmd:v1:{}", key(2))];
        assert_eq!(server.objects(), names, "one object per entry, no upload left");
        let mut listed = remote.list_keys().unwrap();
        listed.sort();
        assert_eq!(listed, vec![key(1), key(2)]);

        // A miss, and a value over the caller's limit, leave `dest` empty.
        let mut dest = file_with(b"junk");
        assert!(!remote.fetch(&key(3), &mut dest, MIB as u64).unwrap());
        assert_eq!(dest.metadata().unwrap().len(), 0);
        let err = remote.fetch(&key(2), &mut dest, MIB as u64).unwrap_err();
        assert!(matches!(err, RemoteError::TooLarge { .. }), "{err}");
        assert_eq!(dest.metadata().unwrap().len(), 0);
        assert!(!remote.is_disabled(), "a value over the limit is no server failure");
    });
}

#[test]
fn an_entry_read_after_its_lifetime_is_a_miss() {
    with_credentials("an_entry_read_after_its_lifetime_is_a_miss", || {
        let server = S3Server::start();
        let remote = remote(&server);
        let bytes = entry(b"short-lived\n");
        let hour = Some(Duration::from_secs(3600));
        remote.store(&key(1), &file_with(&bytes), bytes.len() as u64, hour).unwrap();
        let mut dest = tempfile::tempfile().unwrap();
        assert!(remote.fetch(&key(1), &mut dest, MIB as u64).unwrap());
        // S3 keeps no expiry: the end of life travels as metadata, which
        // s3s-fs keeps in a JSON file beside the bucket. Move it to 1970.
        let root = server.bucket_dir().parent().unwrap().to_path_buf();
        let sidecars: Vec<PathBuf> = fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| fs::read_to_string(p).is_ok_and(|t| t.contains("cachecmd-expires")))
            .collect();
        assert_eq!(sidecars.len(), 1, "{sidecars:?}");
        let json = fs::read_to_string(&sidecars[0]).unwrap();
        let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let meta = value.pointer_mut("/user_metadata/cachecmd-expires").expect(&json);
        *meta = serde_json::Value::String("1".into());
        fs::write(&sidecars[0], value.to_string()).unwrap();
        assert!(!remote.fetch(&key(1), &mut dest, MIB as u64).unwrap());
        assert_eq!(dest.metadata().unwrap().len(), 0);
    });
}

#[test]
fn garbage_objects_are_copied_and_fail_verification() {
    with_credentials("garbage_objects_are_copied_and_fail_verification", || {
        let server = S3Server::start();
        server.plant(&format!("team/cachecmd:v1:{}", key(4)), b"not an entry at all");
        let remote = remote(&server);
        let mut dest = tempfile::tempfile().unwrap();
        assert!(remote.fetch(&key(4), &mut dest, MIB as u64).unwrap());
        assert!(verify_entry(&dest, &binary_key(4)).is_err());
    });
}

#[test]
fn clear_removes_what_cachecmd_wrote_and_nothing_else() {
    with_credentials("clear_removes_what_cachecmd_wrote_and_nothing_else", || {
        let server = S3Server::start();
        let remote = remote(&server);
        let bytes = entry(b"x");
        for n in [1, 2] {
            remote.store(&key(n), &file_with(&bytes), bytes.len() as u64, None).unwrap();
        }
        let lock = remote.lock(&key(1), Duration::from_secs(60), Duration::ZERO).unwrap();
        std::mem::forget(lock); // a lock left behind by a crashed run
        server.plant("team/notes.txt", b"keep");
        server.plant("other/cachecmd:v1:x", b"keep");
        server.plant(&format!("cachecmd:v1:{}", key(3)), b"another prefix: keep");
        assert_eq!(remote.clear().unwrap(), 2);
        let kept = vec![
            format!("cachecmd:v1:{}", key(3)),
            "other/cachecmd:v1:x".to_string(),
            "team/notes.txt".to_string(),
        ];
        assert_eq!(server.objects(), kept);
        assert_eq!(remote.list_keys().unwrap(), Vec::<String>::new());
    });
}

/// Each listing page and each DELETE has an `op_timeout` of its own: a
/// bucket of thousands of keys lists and clears however short it is.
#[test]
fn thousands_of_keys_list_and_clear_past_one_op_timeout() {
    with_credentials("thousands_of_keys_list_and_clear_past_one_op_timeout", || {
        const COUNT: usize = 2_500;
        let server = S3Server::start();
        let mut names: Vec<String> = (0..COUNT).map(|i| format!("{i:064x}")).collect();
        for name in &names {
            server.plant(&format!("team/cachecmd:v1:{name}"), b"planted");
        }
        let mut config = config(&server.endpoint(), "s3://bucket/team");
        config.op_timeout = Duration::from_secs(1);
        // What is bounded here is each operation; a connection that a loaded
        // machine makes slowly is not what this test is about.
        config.connect_timeout = Duration::from_secs(5);
        let remote = Remote::connect(&config);
        let mut listed = remote.list_keys().unwrap();
        listed.sort();
        names.sort();
        assert_eq!(listed, names);
        assert_eq!(remote.clear().unwrap(), COUNT as u64);
        assert_eq!(server.objects(), Vec::<String>::new());
    });
}

#[test]
fn the_lock_is_exclusive_waits_and_is_taken_over_when_expired() {
    with_credentials("the_lock_is_exclusive_waits_and_is_taken_over_when_expired", || {
        let server = S3Server::start();
        let (a, b) = (remote(&server), remote(&server));
        let held = a.lock(&key(1), Duration::from_secs(60), Duration::ZERO).unwrap().unwrap();
        let start = Instant::now();
        assert!(b
            .lock(&key(1), Duration::from_secs(60), Duration::from_millis(300))
            .unwrap()
            .is_none());
        assert!(start.elapsed() >= Duration::from_millis(300), "did not wait");
        assert!(b.lock(&key(2), Duration::from_secs(60), Duration::ZERO).unwrap().is_some());
        assert!(held.release().unwrap(), "our own lock");
        assert!(!server.objects().iter().any(|o| o.contains(":lock:")), "{:?}", server.objects());

        // An expired lease is taken over; its old holder then owns nothing.
        let mut stale = a.lock(&key(1), Duration::from_millis(1), Duration::ZERO).unwrap().unwrap();
        std::thread::sleep(Duration::from_millis(5));
        let mut fresh = b.lock(&key(1), Duration::from_secs(60), Duration::ZERO).unwrap().unwrap();
        assert!(!stale.renew(Duration::from_secs(60)).unwrap());
        assert!(!stale.release().unwrap());
        assert!(fresh.renew(Duration::from_secs(60)).unwrap());
        assert!(a.lock(&key(1), Duration::from_secs(60), Duration::ZERO).unwrap().is_none());
        assert!(fresh.release().unwrap());

        // A garbage lock object is no one's lock.
        server.plant(&format!("team/cachecmd:v1:lock:{}", key(5)), b"garbage");
        assert!(a.lock(&key(5), Duration::from_secs(60), Duration::ZERO).unwrap().is_some());
    });
}

#[test]
fn wrong_credentials_and_a_missing_bucket_are_errors_without_secrets() {
    with_credentials("wrong_credentials_and_a_missing_bucket_are_errors_without_secrets", || {
        let server = S3Server::start();
        let bytes = entry(b"x");
        remote(&server).store(&key(1), &file_with(&bytes), bytes.len() as u64, None).unwrap();
        let mut errors = Vec::new();
        // (s3s-fs answers a GET in a missing bucket with NoSuchKey and
        // creates buckets on PUT: the listing is what tells.)
        let missing = Remote::connect(&config(&server.endpoint(), "s3://nobucket/team"));
        errors.push(missing.list_keys().unwrap_err());
        assert!(missing.is_disabled());
        let mut dest = tempfile::tempfile().unwrap();

        std::env::set_var("AWS_SECRET_ACCESS_KEY", "WrongSecret/abcdefghijklmnopqrstuvwxyz");
        let wrong = Remote::connect(&config(&server.endpoint(), "s3://bucket/team"));
        errors.push(wrong.fetch(&key(1), &mut dest, MIB as u64).unwrap_err());
        assert!(wrong.is_disabled());
        let wrong = Remote::connect(&config(&server.endpoint(), "s3://bucket/team"));
        errors.push(wrong.clear().unwrap_err());
        for err in errors {
            eprintln!("{err}");
            assert!(err.is_server_failure(), "{err}");
            let message = err.to_string();
            for fragment in [SECRET_KEY, "WrongSecret", "X-Amz-Signature", "X-Amz-Credential"] {
                assert!(!message.contains(fragment), "{message}");
            }
        }
    });
}

/// A loopback server that answers every connection with `reply`, one
/// chunk every `pause`.
fn fake_server(reply: Vec<Vec<u8>>, pause: Duration) -> String {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let reply = reply.clone();
            std::thread::spawn(move || {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                for chunk in reply {
                    if stream.write_all(&chunk).is_err() {
                        return;
                    }
                    std::thread::sleep(pause);
                }
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

#[test]
fn a_trickling_server_costs_one_deadline_for_the_whole_fetch() {
    let head = b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-99/100\r\n\
                 Content-Length: 100\r\n\r\n"
        .to_vec();
    let mut reply = vec![head];
    reply.extend((0..100).map(|_| b"x".to_vec()));
    let endpoint = fake_server(reply, Duration::from_millis(100));
    let mut config = config(&endpoint, "s3://bucket");
    config.op_timeout = Duration::from_millis(700);
    let remote = Remote::connect(&config);
    let start = Instant::now();
    let err = remote.fetch(&key(1), &mut tempfile::tempfile().unwrap(), MIB as u64).unwrap_err();
    let elapsed = start.elapsed();
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
}

#[test]
fn a_reply_larger_than_asked_is_an_error_not_an_allocation() {
    // It claims 300 MB and sends more than the range asked for.
    let head = b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-99/100\r\n\
                 Content-Length: 300000000\r\n\r\n"
        .to_vec();
    let mut reply = vec![head];
    reply.extend((0..64).map(|_| vec![b'y'; 64 << 10]));
    let endpoint = fake_server(reply, Duration::ZERO);
    let remote = Remote::connect(&config(&endpoint, "s3://bucket"));
    let mut dest = tempfile::tempfile().unwrap();
    let err = remote.fetch(&key(1), &mut dest, MIB as u64).unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
    assert_eq!(dest.metadata().unwrap().len(), 0);
}

#[test]
fn a_server_that_is_down_is_a_connect_error() {
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port();
    let remote = Remote::connect(&config(&format!("http://127.0.0.1:{port}"), "s3://bucket"));
    let err = remote.fetch(&key(1), &mut tempfile::tempfile().unwrap(), MIB as u64).unwrap_err();
    assert!(err.is_server_failure(), "{err}");
    assert!(remote.is_disabled());
}

// ---- Through the real binary ------------------------------------------

const URL: &str = "s3://bucket/team";

/// The cache dir of one simulated machine.
fn machine(env: &TestEnv, name: &str) -> PathBuf {
    env.path().join(format!("machine-{name}"))
}

/// `cachecmd` with the credentials and endpoint of `endpoint` in its
/// environment (and no other AWS settings).
fn s3_cmd(env: &TestEnv, endpoint: &str, secret: &str) -> assert_cmd::Command {
    let mut cmd = env.cmd();
    cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("CACHECMD_S3_ENDPOINT", endpoint);
    for name in ["AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"] {
        cmd.env_remove(name);
    }
    cmd
}

/// `cachecmd --cache-dir CACHE --no-cwd --remote s3://bucket/team EXTRA -- ARGV`.
fn run(env: &TestEnv, endpoint: &str, cache: &Path, extra: &[&str], argv: &[OsString]) -> Output {
    s3_cmd(env, endpoint, SECRET_KEY)
        .arg("--cache-dir")
        .arg(cache)
        .args(["--no-cwd", "--remote", URL])
        .args(extra)
        .arg("--")
        .args(argv)
        .output()
        .unwrap()
}

fn entry_object(key: &str) -> String {
    format!("team/cachecmd:v1:{key}")
}

#[test]
fn a_second_machine_replays_the_first_ones_run_from_the_bucket() {
    let server = S3Server::start();
    let env = TestEnv::new();
    let counter = env.counter("shared");
    let argv = counter.sh("printf 'shared output\\n'; printf 'err\\n' >&2; exit 3");
    let (a, b) = (machine(&env, "a"), machine(&env, "b"));
    let flags = ["-v", "--failure-ttl", "1h"];

    let first = run(&env, &server.endpoint(), &a, &flags, &argv);
    assert_output(&first, b"shared output\n", 3);
    assert!(status(&first).contains("shared remotely"), "{}", status(&first));
    let key = key_of(&env, &argv);
    assert_eq!(server.objects(), vec![entry_object(&key)], "the entry, no lock left");
    let object = fs::read(server.bucket_dir().join(entry_object(&key))).unwrap();
    assert!(object == fs::read(entry_path_in(&a, &key)).unwrap(), "the very local entry bytes");

    let second = run(&env, &server.endpoint(), &b, &flags, &argv);
    assert_output(&second, b"shared output\n", 3);
    assert!(second.stderr.starts_with(b"err\n"));
    assert!(status(&second).contains("remote hit"), "{}", status(&second));
    counter.assert_runs(1);
}

#[test]
fn a_value_larger_than_a_part_round_trips() {
    let server = S3Server::start();
    let env = TestEnv::new();
    let counter = env.counter("large");
    let data = harness::noise(LARGE, 99);
    let file = env.path().join("large.bin");
    fs::write(&file, &data).unwrap();
    let argv = counter.sh(&format!("cat '{}'", file.display()));
    let (a, b) = (machine(&env, "a"), machine(&env, "b"));
    assert_output(&run(&env, &server.endpoint(), &a, &[], &argv), &data, 0);
    let hit = run(&env, &server.endpoint(), &b, &["-v"], &argv);
    assert_output(&hit, &data, 0);
    assert!(status(&hit).contains("remote hit"), "{}", status(&hit));
    counter.assert_runs(1);
    assert_eq!(server.objects().len(), 1, "{:?}", server.objects());
}

#[test]
fn wrong_credentials_and_a_dead_server_only_lose_the_sharing() {
    let mut server = S3Server::start();
    let env = TestEnv::new();
    let counter = env.counter("wrong");
    let argv = counter.sh("printf 'still here\\n'; exit 5");
    let wrong = "WrongSecret/abcdefghijklmnopqrstuvwxyz";
    let out = s3_cmd(&env, &server.endpoint(), wrong)
        .arg("--cache-dir")
        .arg(machine(&env, "a"))
        .args(["--no-cwd", "--remote", URL, "-v", "--failure-ttl", "1h", "--"])
        .args(&argv)
        .output()
        .unwrap();
    assert_output(&out, b"still here\n", 5);
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one -v line: {stderr}");
    assert!(status(&out).contains("remote lookup failed ("), "{stderr}");
    for fragment in [wrong, SECRET_KEY, "X-Amz-"] {
        assert!(!stderr.contains(fragment), "{stderr}");
    }
    assert!(server.objects().is_empty());

    let endpoint = server.endpoint();
    server.kill();
    let start = Instant::now();
    let out = run(&env, &endpoint, &machine(&env, "b"), &["-v", "--failure-ttl", "1h"], &argv);
    assert_output(&out, b"still here\n", 5);
    assert!(status(&out).contains("remote lookup failed ("), "{}", status(&out));
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    counter.assert_runs(2);
}

#[test]
fn a_server_killed_mid_upload_leaves_the_run_whole() {
    let server = std::sync::Arc::new(std::sync::Mutex::new(S3Server::start()));
    let endpoint = killing_proxy(&server, b"partNumber=2");
    let env = TestEnv::new();
    let counter = env.counter("killed");
    let data = harness::noise(2 * LARGE, 5);
    let file = env.path().join("big.bin");
    fs::write(&file, &data).unwrap();
    let argv = counter.sh(&format!("cat '{}'", file.display()));
    let a = machine(&env, "a");
    let start = Instant::now();
    let out = run(&env, &endpoint, &a, &["-v"], &argv);
    assert_output(&out, &data, 0);
    assert!(status(&out).contains("remote write failed"), "{}", status(&out));
    assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
    let objects = server.lock().unwrap().objects();
    assert!(
        !objects.iter().any(|o| o.starts_with("team/cachecmd:v1:") && !o.contains(":lock:")),
        "no partial entry was published: {objects:?}"
    );
    // Recorded locally all the same.
    let again = run(&env, &endpoint, &a, &[], &argv);
    assert_output(&again, &data, 0);
    counter.assert_runs(1);
}

/// A proxy to `server` that kills it (and drops every connection) as soon
/// as a request carries `trigger`; returns its endpoint.
fn killing_proxy(
    server: &std::sync::Arc<std::sync::Mutex<S3Server>>,
    trigger: &'static [u8],
) -> String {
    use std::net::{Shutdown, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = server.lock().unwrap().port;
    let (server, dead) = (Arc::clone(server), Arc::new(AtomicBool::new(false)));
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { break };
            if dead.load(Ordering::SeqCst) {
                continue; // dropped: the server is gone
            }
            let Ok(up) = TcpStream::connect((Ipv4Addr::LOCALHOST, upstream)) else { continue };
            let (mut c_read, mut up_write) = (client.try_clone().unwrap(), up.try_clone().unwrap());
            let (server, dead) = (Arc::clone(&server), Arc::clone(&dead));
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 64 << 10];
                loop {
                    let n = match c_read.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if harness::contains(&buf[..n], trigger) {
                        dead.store(true, Ordering::SeqCst);
                        server.lock().unwrap().kill();
                        break;
                    }
                    if up_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = c_read.shutdown(Shutdown::Both);
                let _ = up_write.shutdown(Shutdown::Both);
            });
            let (mut up_read, mut c_write) = (up, client);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut up_read, &mut c_write);
                let _ = c_write.shutdown(Shutdown::Both);
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

#[test]
fn a_garbage_object_is_a_miss() {
    let server = S3Server::start();
    let env = TestEnv::new();
    let counter = env.counter("garbage");
    let argv = counter.prints("fresh");
    let key = key_of(&env, &argv);
    server.plant(&entry_object(&key), b"garbage, not an entry");
    let out = run(&env, &server.endpoint(), &machine(&env, "a"), &["-v"], &argv);
    assert_output(&out, b"fresh", 0);
    counter.assert_runs(1);
    let b = run(&env, &server.endpoint(), &machine(&env, "b"), &["-v"], &argv);
    assert_output(&b, b"fresh", 0);
    assert!(status(&b).contains("remote hit"), "replaced by a good entry: {}", status(&b));
    counter.assert_runs(1);
}

#[test]
fn list_and_clear_the_bucket() {
    let server = S3Server::start();
    let env = TestEnv::new();
    let counter = env.counter("admin");
    let a = machine(&env, "a");
    let (one, two) = (counter.prints("one"), counter.prints("two"));
    for argv in [&one, &two] {
        assert!(run(&env, &server.endpoint(), &a, &[], argv).status.success());
    }
    let mut keys = [key_of(&env, &one), key_of(&env, &two)];
    keys.sort();
    server.plant("team/notes.txt", b"keep");
    server.plant("elsewhere/x", b"keep");
    let admin = |args: &[&str]| {
        s3_cmd(&env, &server.endpoint(), SECRET_KEY)
            .args(args)
            .env("CACHECMD_REMOTE", URL)
            .arg("--cache-dir")
            .arg(&a)
            .output()
            .unwrap()
    };
    let out = admin(&["list", "--remote"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("2 entries in {URL}\n{}\n{}\n", keys[0], keys[1]));
    let out = admin(&["clear", "--remote"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("removed 2 remote entries"), "{}", text(&out.stdout));
    assert_eq!(server.objects(), vec!["elsewhere/x".to_string(), "team/notes.txt".to_string()]);
    let out = admin(&["list", "--remote"]);
    assert_eq!(text(&out.stdout), format!("0 entries in {URL}\n"));
}

#[test]
fn one_machine_runs_while_the_other_waits_and_an_expired_lock_is_taken_over() {
    let server = S3Server::start();
    let env = TestEnv::new();
    let counter = env.counter("lock");
    let argv = counter.sh("sleep 1; printf 'once\\n'");
    let endpoint = server.endpoint();
    // b starts a moment after a: the servers' conditional create is then
    // what decides (s3s-fs, unlike S3, does not make two creates that race
    // to the microsecond atomic; the lock reads its token back for that).
    let runs: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|name| {
            if name == "b" {
                std::thread::sleep(Duration::from_millis(150));
            }
            let mut cmd = s3_cmd(&env, &endpoint, SECRET_KEY);
            cmd.arg("--cache-dir").arg(machine(&env, name));
            cmd.args(["-v", "--no-cwd", "--remote", URL, "--"]).args(&argv);
            std::thread::spawn(move || cmd.output().unwrap())
        })
        .collect();
    let mut said = Vec::new();
    for handle in runs {
        let out = handle.join().unwrap();
        assert_eq!(out.stdout, b"once\n");
        said.push(text(&out.stderr));
    }
    assert_eq!(counter.count(), 1, "real executions; the two machines said: {said:?}");

    // A lock left by a crashed machine, its lease long over.
    let other = counter.prints("after a crash");
    let key = key_of(&env, &other);
    server.plant(&format!("team/cachecmd:v1:lock:{key}"), b"0123456789abcdef 1000");
    let start = Instant::now();
    let out = run(&env, &endpoint, &machine(&env, "c"), &["-v"], &other);
    assert_output(&out, b"after a crash", 0);
    assert!(status(&out).contains("shared remotely"), "{}", status(&out));
    assert!(start.elapsed() < Duration::from_secs(5), "waited {:?}", start.elapsed());
    assert!(!server.objects().iter().any(|o| o.contains(":lock:")), "{:?}", server.objects());
}
