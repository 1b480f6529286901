//! Unit tests of the HTTP backend that need no server: URL parsing, and
//! secrets kept out of errors (the backend against real and misbehaving
//! servers is tested in `tests/integration/remote_http.rs`).

use std::net::{Ipv4Addr, TcpListener};

use super::*;

fn closed_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn bad_urls_are_refused_without_their_secrets() {
    for url in ["http://u:S3cret@h/x?a=b", "http://u:S3cret@/x", "https://u:S3cret@h/x#f"] {
        let err = HttpStore::open(&RemoteConfig::new(url)).err().unwrap().to_string();
        assert!(err.contains("invalid URL") && !err.contains("S3cret"), "{url}: {err}");
    }
    assert!(HttpStore::open(&RemoteConfig::new("http://h:8080/a/b/")).is_ok());
}

#[test]
fn a_refused_connection_is_a_connect_error_without_secrets() {
    let mut config =
        RemoteConfig::new(format!("http://alice:S3cret@127.0.0.1:{}/cache", closed_port()));
    config.token = Some("T0ken".into());
    let store = HttpStore::open(&config).unwrap();
    let mut dest = tempfile::tempfile().unwrap();
    let err = store.fetch(&"ab".repeat(32), &mut dest, 10).unwrap_err();
    assert!(matches!(err, RemoteError::Connect { .. }), "{err:?}");
    let text = err.to_string();
    for secret in ["alice", "S3cret", "T0ken"] {
        assert!(!text.contains(secret), "{text}");
    }
    assert!(text.contains("http://127.0.0.1:"), "{text}");
}

#[test]
fn keys_are_checked_before_any_request() {
    let store = HttpStore::open(&RemoteConfig::new("http://127.0.0.1:1/x")).unwrap();
    let mut dest = tempfile::tempfile().unwrap();
    assert!(matches!(store.fetch("../etc", &mut dest, 10), Err(RemoteError::BadKey(_))));
    assert!(matches!(store.store("*", &dest, 0, None), Err(RemoteError::BadKey(_))));
}
