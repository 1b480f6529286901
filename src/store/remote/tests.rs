//! Unit tests of the decorators and the factory, against a scripted
//! in-memory backend (the Redis backend is tested against a real server in
//! `tests/remote.rs`).

use std::cell::Cell;
use std::fs::File;
use std::rc::Rc;
use std::time::Duration;

use super::*;

/// Answers every call with a server failure once `failing` is set.
#[derive(Default)]
struct Fake {
    failing: Cell<bool>,
    calls: Cell<u32>,
}

impl Fake {
    fn answer<T>(&self, value: T) -> Result<T, RemoteError> {
        self.calls.set(self.calls.get() + 1);
        if self.failing.get() {
            let message = "timed out".into();
            return Err(RemoteError::Command { url: "fake://h".into(), op: "GET", message });
        }
        Ok(value)
    }
}

impl RemoteStore for Rc<Fake> {
    fn redacted_url(&self) -> &str {
        "fake://h"
    }
    fn fetch(&self, _: &str, _: &mut File, _: u64) -> Result<bool, RemoteError> {
        self.answer(false)
    }
    fn store(&self, _: &str, _: &File, _: u64, _: Option<Duration>) -> Result<Stored, RemoteError> {
        self.answer(Stored::Written)
    }
    fn list_keys(&self) -> Result<Vec<String>, RemoteError> {
        self.answer(vec![])
    }
    fn clear(&self) -> Result<u64, RemoteError> {
        self.answer(0)
    }
}

fn boxed(fake: &Rc<Fake>) -> Box<dyn RemoteStore> {
    Box::new(Rc::clone(fake))
}

fn hex() -> String {
    "ab".repeat(32)
}

#[test]
fn fail_fast_stops_after_the_first_server_failure_and_counts() {
    let fake = Rc::new(Fake::default());
    let remote = FailFast::new("fake://h".into(), Ok(boxed(&fake)));
    let mut dest = tempfile::tempfile().unwrap();
    assert!(!remote.fetch(&hex(), &mut dest, 10).unwrap());
    assert_eq!(remote.store(&hex(), &dest, 0, None).unwrap(), Stored::Written);
    fake.failing.set(true);
    assert!(matches!(remote.list_keys(), Err(RemoteError::Command { .. })));
    assert!(remote.is_disabled());
    assert!(remote.last_error().unwrap().contains("timed out"));
    let calls = fake.calls.get();
    assert!(matches!(remote.fetch(&hex(), &mut dest, 10), Err(RemoteError::Disabled { .. })));
    assert!(matches!(remote.clear(), Err(RemoteError::Disabled { .. })));
    assert_eq!(fake.calls.get(), calls, "a disabled remote is not called");
    let counters = remote.counters();
    assert_eq!((counters.missed, counters.stored, counters.errors), (1, 1, 1));
    // A bad key is refused up front and not counted.
    assert!(matches!(remote.fetch("*", &mut dest, 10), Err(RemoteError::BadKey(_))));
    assert_eq!(remote.counters().errors, 1);
}

#[test]
fn the_default_lock_is_none_and_is_not_an_error() {
    let fake = Rc::new(Fake::default());
    let remote = FailFast::new("fake://h".into(), Ok(boxed(&fake)));
    let locked = remote.lock(&hex(), Duration::from_secs(1), Duration::ZERO);
    assert!(matches!(locked, Err(RemoteError::NoLock)), "{locked:?}");
    assert!(!remote.is_disabled());
    assert_eq!(remote.counters().errors, 0);
}

#[test]
fn read_only_declines_every_write_without_calling_the_backend() {
    let fake = Rc::new(Fake::default());
    let remote = ReadOnly::new(boxed(&fake));
    let file = tempfile::tempfile().unwrap();
    assert_eq!(
        remote.store(&hex(), &file, 1, None).unwrap(),
        Stored::Skipped(SkipReason::ReadOnly)
    );
    let locked = remote.lock(&hex(), Duration::from_secs(1), Duration::ZERO);
    assert!(matches!(locked, Err(RemoteError::ReadOnly)));
    assert!(matches!(remote.clear(), Err(RemoteError::ReadOnly)));
    assert_eq!(fake.calls.get(), 0);
    assert!(remote.list_keys().unwrap().is_empty());
    assert!(remote.is_read_only());
}

#[test]
fn an_unknown_scheme_is_one_line_naming_it_and_no_secret() {
    let err = open(&RemoteConfig::new("s4://user:S3cret@bucket/x")).err().unwrap().to_string();
    assert!(err.contains("unsupported scheme 's4'"), "{err}");
    assert!(!err.contains("S3cret") && !err.contains("user") && !err.contains('\n'), "{err}");
    let remote = Remote::connect(&RemoteConfig::new("s4://user:S3cret@bucket/x"));
    assert!(remote.is_disabled());
    assert!(validate_url("s4://bucket").is_err());
}
