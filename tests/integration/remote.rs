//! The Redis remote tier (`cachecmd::test_support::remote`) against real
//! `redis-server` processes (one per test, see common_redis).
#![cfg(feature = "redis")]

use crate::harness::fixtures::{contents, file_with};
use crate::harness::{self, redis_server};

use std::io::Write;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cachecmd::test_support::{
    redacted_url, validate_url, verify_entry, Remote, RemoteConfig, RemoteError, SkipReason,
    Stored, CHUNK,
};
use redis_server::RedisServer;

const MIB: u64 = 1 << 20;

fn key(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn remote(server: &RedisServer) -> Remote {
    Remote::connect(&RemoteConfig::new(server.url()))
}

/// The key `key(n)` names.
fn key_of(n: u8) -> cachecmd::test_support::Key {
    cachecmd::test_support::Key::from_slice(&[n; 32]).unwrap()
}

/// A real entry for `key(1)`, as the local store writes it.
fn entry(stdout: &[u8], stderr: &[u8]) -> Vec<u8> {
    entry_for(1, stdout, stderr)
}

/// A real entry for `key(n)`.
fn entry_for(n: u8, stdout: &[u8], stderr: &[u8]) -> Vec<u8> {
    harness::fixtures::make_entry(n, stdout, stderr)
}

/// `calls` of one command in INFO commandstats (0 when never called).
fn calls(server: &RedisServer, command: &str) -> u64 {
    let info: String = redis::cmd("INFO").arg("commandstats").query(&mut server.admin()).unwrap();
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |rest| rest.split(',').next().unwrap().parse().unwrap())
}

#[track_caller]
fn assert_disabled_fast(remote: &Remote) {
    let hex = key(0xee);
    let mut dest = tempfile::tempfile().unwrap();
    for _ in 0..3 {
        let start = Instant::now();
        let result = remote.fetch(&hex, &mut dest, MIB);
        assert!(matches!(result, Err(RemoteError::Disabled { .. })), "{result:?}");
        let stored = remote.store(&hex, &file_with(b"x"), 1, None);
        assert!(matches!(stored, Err(RemoteError::Disabled { .. })), "{stored:?}");
        let locked = remote.lock(&hex, Duration::from_secs(1), Duration::from_secs(1));
        assert!(matches!(locked, Err(RemoteError::Disabled { .. })), "{locked:?}");
        assert!(remote.scan_keys().is_err());
        assert!(start.elapsed() < Duration::from_millis(50), "took {:?}", start.elapsed());
    }
    assert!(remote.is_disabled());
}

#[test]
fn a_5_mib_entry_round_trips_in_bounded_chunks() {
    let server = RedisServer::start();
    let remote = remote(&server);
    let bytes = entry(&harness::noise(5 * MIB as usize, 7), b"warning: something\n");
    let hex = key(1);

    redis::cmd("CONFIG").arg("RESETSTAT").exec(&mut server.admin()).unwrap();
    let stored =
        remote.store(&hex, &file_with(&bytes), bytes.len() as u64, Some(Duration::from_secs(3600)));
    assert_eq!(stored.unwrap(), Stored::Written);
    // One 4 MiB SET to a temp key, one APPEND, a rename: no command carried
    // more than a chunk, and only the final key is left.
    assert_eq!((calls(&server, "set"), calls(&server, "append")), (1, 1));
    assert_eq!(server.keys(), vec![format!("cachecmd:v1:{hex}")]);
    let pttl: i64 =
        redis::cmd("PTTL").arg(format!("cachecmd:v1:{hex}")).query(&mut server.admin()).unwrap();
    assert!(pttl > 3_500_000 && pttl <= 3_600_000, "PTTL {pttl}");

    let mut dest = tempfile::tempfile().unwrap();
    dest.write_all(b"stale bytes that must be replaced").unwrap();
    assert!(remote.fetch(&hex, &mut dest, 64 * MIB).unwrap());
    assert_eq!(calls(&server, "getrange"), bytes.len().div_ceil(CHUNK as usize) as u64);
    assert!(contents(&mut dest) == bytes, "fetched bytes differ");
    let (header, meta) = verify_entry(&dest, &key_of(1)).unwrap();
    assert_eq!(header.stdout_len, 5 * MIB);
    assert_eq!(meta.created, 1_700_000_000);

    let counters = remote.counters();
    assert_eq!((counters.stored, counters.fetched, counters.errors), (1, 1, 0));
}

#[test]
fn small_entries_take_one_set_and_no_ttl_means_no_expiry() {
    let server = RedisServer::start();
    let remote = remote(&server);
    let bytes = entry_for(2, b"hello\n", b"");
    let hex = key(2);
    assert_eq!(
        remote.store(&hex, &file_with(&bytes), bytes.len() as u64, None).unwrap(),
        Stored::Written
    );
    let pttl: i64 =
        redis::cmd("PTTL").arg(format!("cachecmd:v1:{hex}")).query(&mut server.admin()).unwrap();
    assert_eq!(pttl, -1);
    let mut dest = tempfile::tempfile().unwrap();
    assert!(remote.fetch(&hex, &mut dest, MIB).unwrap());
    assert_eq!(contents(&mut dest), bytes);
    verify_entry(&dest, &key_of(2)).unwrap();

    // A TTL already used up is not worth sharing.
    let skipped =
        remote.store(&key(3), &file_with(&bytes), bytes.len() as u64, Some(Duration::ZERO));
    assert_eq!(skipped.unwrap(), Stored::Skipped(SkipReason::Expired));
}

#[test]
fn a_missing_key_is_a_miss() {
    let server = RedisServer::start();
    let remote = remote(&server);
    let mut dest = file_with(b"leftover");
    assert!(!remote.fetch(&key(9), &mut dest, MIB).unwrap());
    assert_eq!(contents(&mut dest), b"");
    assert!(!remote.is_disabled());
    assert_eq!(remote.counters().missed, 1);
    // Keys are validated: nothing can smuggle a pattern or another prefix.
    assert!(matches!(remote.fetch("*", &mut dest, MIB), Err(RemoteError::BadKey(_))));
}

#[test]
fn corrupted_or_truncated_values_fail_verification() {
    let server = RedisServer::start();
    let remote = remote(&server);
    let bytes = entry_for(4, &harness::noise(100_000, 3), b"err");
    let hex = key(4);
    let name = format!("cachecmd:v1:{hex}");
    remote.store(&hex, &file_with(&bytes), bytes.len() as u64, None).unwrap();
    let mut dest = tempfile::tempfile().unwrap();

    // One flipped byte in stdout.
    let mut admin = server.admin();
    let flipped = [bytes[5000] ^ 0x40];
    redis::cmd("SETRANGE").arg(&name).arg(5000).arg(&flipped[..]).exec(&mut admin).unwrap();
    assert!(remote.fetch(&hex, &mut dest, MIB).unwrap());
    assert!(verify_entry(&dest, &key_of(4)).is_err());

    // Cut short.
    redis::cmd("SET").arg(&name).arg(&bytes[..bytes.len() - 1]).exec(&mut admin).unwrap();
    assert!(remote.fetch(&hex, &mut dest, MIB).unwrap());
    assert!(verify_entry(&dest, &key_of(4)).is_err());

    // Not an entry at all.
    redis::cmd("SET").arg(&name).arg("garbage").exec(&mut admin).unwrap();
    assert!(remote.fetch(&hex, &mut dest, MIB).unwrap());
    assert!(verify_entry(&dest, &key_of(4)).is_err());
    assert!(!remote.is_disabled());
}

#[test]
fn oversized_values_are_refused_both_ways() {
    let server = RedisServer::start();
    let remote = remote(&server);
    let big = harness::noise(2 * MIB as usize, 5);
    let hex = key(5);
    remote.store(&hex, &file_with(&big), big.len() as u64, None).unwrap();

    let mut dest = file_with(b"old");
    match remote.fetch(&hex, &mut dest, MIB) {
        Err(RemoteError::TooLarge { len, max }) => assert_eq!((len, max), (2 * MIB, MIB)),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(contents(&mut dest), b"");
    // A refused value is a miss, not a server failure.
    assert!(!remote.is_disabled());
    assert!(remote.fetch(&hex, &mut dest, 4 * MIB).unwrap());

    // Writing: larger than remote_max_entry_size stays local-only.
    let mut config = RemoteConfig::new(server.url());
    config.max_entry_size = MIB;
    let small_limit = Remote::connect(&config);
    let stored = small_limit.store(&key(6), &file_with(&big), big.len() as u64, None).unwrap();
    assert_eq!(stored, Stored::Skipped(SkipReason::TooLarge { len: 2 * MIB, max: MIB }));
    assert_eq!(server.keys(), vec![format!("cachecmd:v1:{hex}")]);
}

#[test]
fn a_server_killed_mid_run_fails_once_then_is_skipped_fast() {
    let mut server = RedisServer::start();
    let remote = remote(&server);
    let bytes = entry(b"out", b"");
    remote.store(&key(7), &file_with(&bytes), bytes.len() as u64, None).unwrap();
    server.kill();

    let start = Instant::now();
    let mut dest = tempfile::tempfile().unwrap();
    let first = remote.fetch(&key(7), &mut dest, MIB);
    // A lookup opens its own bounded connection, so a dead server shows as
    // a refused connect (or a failed command on a connection it had).
    assert!(
        matches!(first, Err(RemoteError::Command { .. } | RemoteError::Connect { .. })),
        "{first:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(3));
    assert!(remote.last_error().is_some());
    assert_disabled_fast(&remote);
    assert_eq!(remote.counters().errors, 1);
}

#[test]
fn nothing_listening_is_a_connect_error_then_skipped() {
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port();
    let remote = Remote::connect(&RemoteConfig::new(format!("redis://127.0.0.1:{port}/0")));
    let start = Instant::now();
    let first = remote.fetch(&key(1), &mut tempfile::tempfile().unwrap(), MIB);
    assert!(matches!(first, Err(RemoteError::Connect { .. })), "{first:?}");
    // A refused connection fails at once, not after the connect timeout.
    assert!(start.elapsed() < Duration::from_millis(900), "took {:?}", start.elapsed());
    assert_disabled_fast(&remote);
}

/// A server that accepts connections and never reads or writes a byte;
/// returns its port.
fn silent_server() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    port
}

#[test]
fn a_server_that_never_answers_costs_one_op_timeout() {
    let port = silent_server();
    let remote = Remote::connect(&RemoteConfig::new(format!("redis://127.0.0.1:{port}/0")));
    let start = Instant::now();
    let first = remote.fetch(&key(1), &mut tempfile::tempfile().unwrap(), MIB);
    let took = start.elapsed();
    assert!(
        matches!(&first, Err(RemoteError::Command { message, .. }) if message.contains("timed out")),
        "{first:?}"
    );
    assert!(took < Duration::from_millis(2500), "took {took:?}");
    assert_disabled_fast(&remote);
}

/// A signal the process handles (here a SIGUSR1 handler; in cachecmd the
/// relay of Ctrl-C, in a test runner a SIGCHLD handler) never fails a wait
/// for the server: a socket read with a timeout is never restarted after a
/// handler, and the EINTR it returns says nothing about the server. The
/// signals are aimed at the waiting thread and at any `redis` worker.
#[test]
fn a_handled_signal_never_fails_a_wait_for_the_server() {
    extern "C" fn ignore(_: libc::c_int) {}
    // SAFETY: a handler that does nothing. SA_RESTART, as the relay has,
    // does not restart such a read.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = ignore as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut());
    }
    let port = silent_server();
    // SAFETY: gettid has no preconditions.
    let waiter = unsafe { libc::gettid() };
    let done = Arc::new(AtomicBool::new(false));
    let signaller = std::thread::spawn({
        let done = done.clone();
        move || {
            let mut sent = 0;
            while !done.load(Ordering::Relaxed) {
                for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
                    let comm =
                        std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
                    let tid: libc::c_int = task.file_name().to_string_lossy().parse().unwrap();
                    if tid == waiter || comm.trim() == "redis" {
                        // SAFETY: tgkill has no memory preconditions.
                        unsafe {
                            libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, libc::SIGUSR1)
                        };
                        sent += 1;
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            sent
        }
    });
    let mut config = RemoteConfig::new(format!("redis://127.0.0.1:{port}/0"));
    config.op_timeout = Duration::from_millis(800);
    let remote = Remote::connect(&config);
    let fetched = remote.fetch(&key(1), &mut tempfile::tempfile().unwrap(), MIB);
    let other = Remote::connect(&config);
    let locked = other.lock(&key(1), Duration::from_secs(60), Duration::ZERO);
    done.store(true, Ordering::Relaxed);
    let sent = signaller.join().unwrap();
    for result in [fetched.map(drop), locked.map(drop)] {
        assert!(
            matches!(&result, Err(RemoteError::Command { message, .. }) if message.contains("timed out")),
            "{result:?}"
        );
    }
    assert!(sent > 20, "only {sent} signals were sent");
}

#[test]
fn a_server_that_stops_answering_mid_run_costs_one_op_timeout() {
    let server = RedisServer::start();
    let remote = remote(&server);
    let bytes = entry(b"out", b"");
    remote.store(&key(1), &file_with(&bytes), bytes.len() as u64, None).unwrap();
    // Every client stalls (the admin one too) until the pause ends.
    redis::cmd("CLIENT").arg("PAUSE").arg(3000).arg("ALL").exec(&mut server.admin()).unwrap();

    let start = Instant::now();
    let first = remote.fetch(&key(1), &mut tempfile::tempfile().unwrap(), MIB);
    let took = start.elapsed();
    assert!(matches!(first, Err(RemoteError::Command { .. })), "{first:?}");
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_millis(2500),
        "took {took:?}"
    );
    assert_disabled_fast(&remote);
}

#[test]
fn a_full_server_fails_the_store_cleanly() {
    let server =
        RedisServer::start_with(&["--maxmemory", "1mb", "--maxmemory-policy", "noeviction"], None);
    let remote = remote(&server);
    let bytes = entry(&harness::noise(5 * MIB as usize, 11), b"");
    let result = remote.store(&key(1), &file_with(&bytes), bytes.len() as u64, None);
    match &result {
        Err(e @ RemoteError::Command { message, .. }) => {
            assert!(message.contains("OOM"), "{e}");
        }
        other => panic!("expected an OOM error, got {other:?}"),
    }
    // The entry was never published; a half upload expires by itself.
    assert!(!server.keys().contains(&format!("cachecmd:v1:{}", key(1))));
    assert_disabled_fast(&remote);
}

#[test]
fn read_only_mode_reads_and_writes_nothing() {
    let server = RedisServer::start();
    let bytes = entry(b"shared\n", b"");
    remote(&server).store(&key(1), &file_with(&bytes), bytes.len() as u64, None).unwrap();
    let before = (server.dbsize(), server.keys());

    let mut config = RemoteConfig::new(server.url());
    config.read_only = true;
    let reader = Remote::connect(&config);
    let mut dest = tempfile::tempfile().unwrap();
    assert!(reader.fetch(&key(1), &mut dest, MIB).unwrap());
    assert_eq!(contents(&mut dest), bytes);
    let stored = reader.store(&key(2), &file_with(&bytes), bytes.len() as u64, None).unwrap();
    assert_eq!(stored, Stored::Skipped(SkipReason::ReadOnly));
    let big = harness::noise(5 * MIB as usize, 1);
    assert_eq!(
        reader.store(&key(3), &file_with(&big), big.len() as u64, None).unwrap(),
        Stored::Skipped(SkipReason::ReadOnly)
    );
    assert!(matches!(
        reader.lock(&key(2), Duration::from_secs(5), Duration::ZERO),
        Err(RemoteError::ReadOnly)
    ));
    assert!(matches!(reader.clear(), Err(RemoteError::ReadOnly)));
    assert_eq!(reader.scan_keys().unwrap(), vec![key(1)]);

    assert_eq!((server.dbsize(), server.keys()), before);
    assert!(!reader.is_disabled());
}

#[test]
fn the_lock_is_exclusive_across_instances_and_released_on_drop() {
    let server = RedisServer::start();
    let (a, b) = (remote(&server), remote(&server));
    let lease = Duration::from_secs(30);
    let hex = key(1);
    let lock_key = format!("cachecmd:v1:lock:{hex}");

    let held = a.lock(&hex, lease, Duration::ZERO).unwrap().expect("free lock");
    let start = Instant::now();
    assert!(b.lock(&hex, lease, Duration::from_millis(300)).unwrap().is_none());
    assert!(start.elapsed() >= Duration::from_millis(300));
    drop(held);
    let lock_b = b.lock(&hex, lease, Duration::ZERO).unwrap().expect("released on drop");

    // Compare-and-delete: a holder whose lease ran out (its key now holds
    // someone else's token) leaves the new holder's lock alone.
    let mut admin = server.admin();
    redis::cmd("SET").arg(&lock_key).arg("someone-else").exec(&mut admin).unwrap();
    assert!(!lock_b.release().unwrap());
    let value: String = redis::cmd("GET").arg(&lock_key).query(&mut admin).unwrap();
    assert_eq!(value, "someone-else");
    redis::cmd("DEL").arg(&lock_key).exec(&mut admin).unwrap();

    // An abandoned lock frees itself when its lease ends; its late drop
    // does not delete the lock taken after it.
    let short = a.lock(&hex, Duration::from_millis(200), Duration::ZERO).unwrap().unwrap();
    let start = Instant::now();
    let after = b.lock(&hex, lease, Duration::from_secs(3)).unwrap().expect("lease expired");
    assert!(start.elapsed() < Duration::from_secs(1), "took {:?}", start.elapsed());
    drop(short);
    let exists: bool = redis::cmd("EXISTS").arg(&lock_key).query(&mut admin).unwrap();
    assert!(exists, "the expired holder deleted the new holder's lock");
    drop(after);
    assert_eq!(server.dbsize(), 0);
}

#[test]
fn clear_and_scan_touch_only_our_prefix() {
    let server = RedisServer::start();
    let remote = remote(&server);
    let mut admin = server.admin();
    let strangers = ["unrelated", "cachecmd:v2:abc", "cachecmd:v1", "xcachecmd:v1:abc"];
    for name in strangers {
        redis::cmd("SET").arg(name).arg("keep me").exec(&mut admin).unwrap();
    }
    // Enough entries for SCAN to take several pages.
    let mut pipe = redis::pipe();
    for n in 0..2500u32 {
        pipe.cmd("SET").arg(format!("cachecmd:v1:{:064x}", n)).arg("v").ignore();
    }
    pipe.exec(&mut admin).unwrap();
    let bytes = entry(b"out", b"");
    remote.store(&key(0xab), &file_with(&bytes), bytes.len() as u64, None).unwrap();
    // An abandoned upload and a held lock are ours too, but not entries.
    redis::cmd("SET")
        .arg(format!("cachecmd:v1:tmp:{}:00", key(1)))
        .arg("x")
        .exec(&mut admin)
        .unwrap();
    let _lock = remote.lock(&key(2), Duration::from_secs(30), Duration::ZERO).unwrap().unwrap();

    let mut listed = remote.scan_keys().unwrap();
    listed.sort();
    listed.dedup();
    assert_eq!(listed.len(), 2501);
    assert!(listed.contains(&key(0xab)));

    assert_eq!(remote.clear().unwrap(), 2501);
    let mut left = server.keys();
    left.sort();
    let mut expected: Vec<String> = strangers.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(left, expected);
    let flushes = calls(&server, "flushdb") + calls(&server, "flushall");
    assert_eq!(flushes, 0);
}

#[test]
fn the_password_works_and_never_shows() {
    const PASSWORD: &str = "s3cret-Pa55word";
    let server = RedisServer::start_with_password(PASSWORD);
    let bytes = entry(b"private\n", b"");

    // From CACHECMD_REMOTE_PASSWORD (the config field), not the URL.
    let mut config = RemoteConfig::new(server.url());
    config.password = Some(PASSWORD.into());
    let with_env = Remote::connect(&config);
    assert_eq!(
        with_env.store(&key(1), &file_with(&bytes), bytes.len() as u64, None).unwrap(),
        Stored::Written
    );
    assert!(!format!("{config:?} {with_env:?}").contains(PASSWORD));

    // In the URL's userinfo.
    let url = format!("redis://:{PASSWORD}@127.0.0.1:{}/0", server.port);
    assert_eq!(redacted_url(&url), server.url());
    let in_url = Remote::connect(&RemoteConfig::new(&url));
    assert!(in_url.fetch(&key(1), &mut tempfile::tempfile().unwrap(), MIB).unwrap());
    assert!(!format!("{in_url:?} {:?}", RemoteConfig::new(&url)).contains(PASSWORD));

    // Wrong or missing passwords: errors, and no secret in any rendering.
    let wrong_url = format!("redis://someuser:Wr0ng%40Pass@127.0.0.1:{}/0", server.port);
    let mut wrong_env = RemoteConfig::new(server.url());
    wrong_env.password = Some("An0ther-Wr0ng".into());
    let cases = [
        RemoteConfig::new(wrong_url),
        wrong_env,
        RemoteConfig::new(server.url()),
        RemoteConfig::new(format!("rediss://:{PASSWORD}@127.0.0.1:{}/0", server.port)),
        RemoteConfig::new(format!("redis://:{PASSWORD}@127.0.0.1:notaport/0")),
        RemoteConfig::new(format!("http://:{PASSWORD}@127.0.0.1/0")),
    ];
    for config in cases {
        let remote = Remote::connect(&config);
        let mut rendered = Vec::new();
        let first = remote.fetch(&key(1), &mut tempfile::tempfile().unwrap(), MIB).unwrap_err();
        rendered.push(format!("{first} {first:?}"));
        let second =
            remote.store(&key(1), &file_with(&bytes), bytes.len() as u64, None).unwrap_err();
        assert!(matches!(second, RemoteError::Disabled { .. }), "{second:?}");
        rendered.push(format!("{second} {second:?}"));
        rendered.push(format!("{remote:?} {config:?} {:?}", remote.last_error()));
        rendered.push(remote.redacted_url().to_string());
        if let Err(e) = validate_url(&config.url) {
            rendered.push(format!("{e} {e:?}"));
        }
        for text in rendered {
            for secret in [PASSWORD, "Wr0ng", "An0ther", "someuser"] {
                assert!(!text.contains(secret), "{secret} leaked: {text}");
            }
        }
    }
    assert!(validate_url(&server.url()).is_ok());
    assert!(validate_url("rediss://cache.example:6380/2").is_ok());
    assert!(validate_url("ftp://cache.example").is_err());
}

/// `rediss://` end to end. The client trusts the test CA through
/// `SSL_CERT_FILE`, which must be set before the process starts: the test
/// runs itself again as a child with it.
#[test]
fn tls_round_trip() {
    if let Some(certs) = std::env::var_os("CACHECMD_TEST_TLS_CERTS") {
        let server = RedisServer::start_tls(std::path::Path::new(&certs));
        assert!(server.url().starts_with("rediss://"));
        let remote = remote(&server);
        let bytes = entry(&harness::noise(5 * MIB as usize, 13), b"tls\n");
        let stored = remote.store(&key(1), &file_with(&bytes), bytes.len() as u64, None);
        assert_eq!(stored.unwrap(), Stored::Written);
        let mut dest = tempfile::tempfile().unwrap();
        assert!(remote.fetch(&key(1), &mut dest, 64 * MIB).unwrap());
        verify_entry(&dest, &key_of(1)).unwrap();
        assert!(contents(&mut dest) == bytes);
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    redis_server::make_tls_certs(certs.path());
    harness::run_test_in_child(
        module_path!(),
        "tls_round_trip",
        &[
            ("CACHECMD_TEST_TLS_CERTS", Some(certs.path().as_os_str())),
            ("SSL_CERT_FILE", Some(certs.path().join("ca.pem").as_os_str())),
            ("SSL_CERT_DIR", None),
        ],
    );

    // Without the CA, the certificate is refused: an error, never a panic.
    let server = RedisServer::start_tls(certs.path());
    let remote = remote(&server);
    let err = remote.fetch(&key(1), &mut tempfile::tempfile().unwrap(), MIB).unwrap_err();
    assert!(err.to_string().contains("certificate"), "{err}");
}
