//! Decoding tests: every damage is an error, never a panic.

use super::*;

fn sample(stdout: &[u8], stderr: &[u8]) -> Vec<u8> {
    let meta = Meta {
        argv: vec![Bytes::Text("echo".into()), Bytes::Raw(vec![0xff])],
        cwd: None,
        env_names: vec![Bytes::Text("HOME".into())],
        scope: None,
        created: 1,
        ttl_secs: Some(60),
        failure_ttl_secs: None,
        expires_from: None,
        ..Default::default()
    }
    .encode();
    let header = Header {
        meta_len: meta.len() as u32,
        stdout_len: stdout.len() as u64,
        stderr_len: stderr.len() as u64,
        exit_code: 3,
        run_ms: 0,
        meta_hash: xxh3_64(&meta),
        stdout_hash: xxh3_64(stdout),
        stderr_hash: xxh3_64(stderr),
        expires_at: 0,
        outputs_len: 0,
        outputs_hash: 0,
        runs_len: 0,
        runs_hash: 0,
        key: [7; 32],
    };
    [&header.encode()[..], &meta, stdout, stderr].concat()
}

#[test]
fn a_whole_entry_decodes() {
    let bytes = sample(b"out", b"err");
    let header = Header::decode(&bytes, bytes.len() as u64).unwrap();
    assert_eq!((header.stdout_len, header.stderr_len, header.exit_code), (3, 3, 3));
    let meta = &bytes[header.meta_range().start as usize..header.meta_range().end as usize];
    let meta = Meta::decode(meta, header.meta_hash).unwrap();
    assert_eq!(meta.argv[1], Bytes::Raw(vec![0xff]));
    assert_eq!(&bytes[header.stdout_range().start as usize..][..3], b"out");
}

#[test]
fn every_truncation_length_is_an_error() {
    let bytes = sample(b"some output", b"some error");
    for len in 0..bytes.len() {
        let cut = &bytes[..len];
        assert!(Header::decode(cut, len as u64).is_err(), "length {len} decoded");
    }
}

#[test]
fn every_single_byte_flip_in_the_header_is_an_error() {
    let bytes = sample(b"out", b"err");
    for at in 0..HEADER_LEN {
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x01;
        let result = Header::decode(&flipped, flipped.len() as u64);
        assert!(result.is_err(), "flip at {at} decoded");
    }
}

#[test]
fn huge_lengths_are_refused_without_allocating() {
    let fake = Header {
        meta_len: u32::MAX,
        stdout_len: u64::MAX,
        stderr_len: u64::MAX,
        exit_code: 0,
        run_ms: 0,
        meta_hash: 0,
        stdout_hash: 0,
        stderr_hash: 0,
        expires_at: 0,
        outputs_len: 0,
        outputs_hash: 0,
        runs_len: 0,
        runs_hash: 0,
        key: [0; 32],
    }
    .encode();
    assert_eq!(Header::decode(&fake, HEADER_LEN as u64), Err(DecodeError::Length));
}

#[test]
fn times_past_year_9999_are_refused() {
    let mut bytes = sample(b"", b"");
    let mut header = Header::decode(&bytes, bytes.len() as u64).unwrap();
    header.expires_at = u64::MAX;
    bytes[..HEADER_LEN].copy_from_slice(&header.encode());
    assert_eq!(Header::decode(&bytes, bytes.len() as u64), Err(DecodeError::Time));
    let meta = br#"{"argv":[],"cwd":null,"env_names":[],"scope":null,"created":18446744073709551615,"ttl_secs":null,"failure_ttl_secs":null}"#;
    assert_eq!(Meta::decode(meta, xxh3_64(meta)), Err(DecodeError::Time));
}

#[test]
fn the_key_round_trips_and_only_matches_itself() {
    let bytes = sample(b"out", b"err");
    let header = Header::decode(&bytes, bytes.len() as u64).unwrap();
    assert_eq!(header.key, [7; 32]);
    assert_eq!(header.check_key(&crate::key::Key::from_slice(&[7; 32]).unwrap()), Ok(()));
    let other = crate::key::Key::from_slice(&[8; 32]).unwrap();
    assert_eq!(header.check_key(&other), Err(DecodeError::Key));
}

#[test]
fn a_version_2_entry_is_refused() {
    let mut bytes = sample(b"out", b"err");
    bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
    assert_eq!(Header::decode(&bytes, bytes.len() as u64), Err(DecodeError::Version(2)));
}
