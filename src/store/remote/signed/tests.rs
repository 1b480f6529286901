//! The signing and write-only decorators against an in-memory backend.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Read;
use std::rc::Rc;

use super::*;
use crate::store::remote::{ReadOnly, WriteOnly};

/// Keeps values in memory, exactly as stored.
#[derive(Default)]
struct Memory {
    values: RefCell<HashMap<String, Vec<u8>>>,
}

impl RemoteStore for Rc<Memory> {
    fn redacted_url(&self) -> &str {
        "memory://"
    }
    fn fetch(&self, key_hex: &str, dest: &mut File, max_len: u64) -> Result<bool, RemoteError> {
        let values = self.values.borrow();
        let Some(value) = values.get(key_hex) else { return Ok(false) };
        if value.len() as u64 > max_len {
            return Err(RemoteError::TooLarge { len: value.len() as u64, max: max_len });
        }
        dest.set_len(0).map_err(RemoteError::Local)?;
        dest.write_all_at(value, 0).map_err(RemoteError::Local)?;
        Ok(true)
    }
    fn store(
        &self,
        key_hex: &str,
        src: &File,
        len: u64,
        _: Option<Duration>,
    ) -> Result<Stored, RemoteError> {
        let mut value = vec![0u8; len as usize];
        src.read_exact_at(&mut value, 0).map_err(RemoteError::Local)?;
        self.values.borrow_mut().insert(key_hex.into(), value);
        Ok(Stored::Written)
    }
    fn list_keys(&self) -> Result<Vec<String>, RemoteError> {
        Ok(self.values.borrow().keys().cloned().collect())
    }
    fn clear(&self) -> Result<u64, RemoteError> {
        Ok(self.values.borrow_mut().drain().count() as u64)
    }
}

fn hex(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn file_with(bytes: &[u8]) -> File {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(bytes).unwrap();
    file
}

fn signed(memory: &Rc<Memory>, key: Option<&str>) -> Signed {
    Signed::new(Box::new(Rc::clone(memory)), key.and_then(|k| SigningKey::new(k.as_bytes())))
}

fn fetched(store: &dyn RemoteStore, key_hex: &str) -> Result<Option<Vec<u8>>, RemoteError> {
    let mut dest = tempfile::tempfile().unwrap();
    if !store.fetch(key_hex, &mut dest, 1 << 20)? {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    dest.read_to_end(&mut bytes).unwrap();
    Ok(Some(bytes))
}

#[test]
fn a_signed_value_verifies_with_the_key_and_is_stripped_without_it() {
    let memory = Rc::new(Memory::default());
    let writer = signed(&memory, Some("s3cret"));
    let entry = vec![7u8; 200_000];
    writer.store(&hex(1), &file_with(&entry), entry.len() as u64, None).unwrap();
    let stored = memory.values.borrow()[&hex(1)].clone();
    assert_eq!(stored.len() as u64, entry.len() as u64 + TRAILER_LEN);
    assert_eq!(fetched(&writer, &hex(1)).unwrap(), Some(entry.clone()));
    assert_eq!(fetched(&signed(&memory, None), &hex(1)).unwrap(), Some(entry));
}

#[test]
fn tampered_unsigned_moved_or_foreign_values_are_refused() {
    let memory = Rc::new(Memory::default());
    let writer = signed(&memory, Some("s3cret"));
    let entry = b"an entry".to_vec();
    writer.store(&hex(1), &file_with(&entry), entry.len() as u64, None).unwrap();
    let good = memory.values.borrow()[&hex(1)].clone();
    // Any one byte changed, in the entry or in the trailer.
    for at in [0, entry.len() - 1, entry.len() + 3, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 1;
        memory.values.borrow_mut().insert(hex(2), bad);
        assert!(matches!(fetched(&writer, &hex(2)), Err(RemoteError::BadSignature)), "{at}");
    }
    // A valid value under another key, an unsigned one, another key's signature.
    memory.values.borrow_mut().insert(hex(3), good);
    assert!(matches!(fetched(&writer, &hex(3)), Err(RemoteError::BadSignature)));
    signed(&memory, None).store(&hex(4), &file_with(&entry), 8, None).unwrap();
    assert!(matches!(fetched(&writer, &hex(4)), Err(RemoteError::BadSignature)));
    signed(&memory, Some("other")).store(&hex(5), &file_with(&entry), 8, None).unwrap();
    assert!(matches!(fetched(&writer, &hex(5)), Err(RemoteError::BadSignature)));
    assert_eq!(fetched(&signed(&memory, None), &hex(4)).unwrap(), Some(entry));
}

#[test]
fn the_key_is_never_printed() {
    let key = SigningKey::new("hunter2-signing".as_bytes()).unwrap();
    let mut config = crate::store::remote::RemoteConfig::new("redis://h/0");
    config.signing_key = Some(key.clone());
    let shown = format!("{key:?} {config:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(SigningKey::new(Vec::new()).is_none());
}

#[test]
fn write_only_never_fetches_but_uploads_and_read_only_never_writes() {
    let memory = Rc::new(Memory::default());
    let write_only = WriteOnly::new(Box::new(signed(&memory, None)));
    write_only.store(&hex(1), &file_with(b"entry"), 5, None).unwrap();
    assert!(memory.values.borrow().contains_key(&hex(1)));
    assert_eq!(fetched(&write_only, &hex(1)).unwrap(), None);
    let read_only = ReadOnly::new(Box::new(signed(&memory, None)));
    assert_eq!(fetched(&read_only, &hex(1)).unwrap(), Some(b"entry".to_vec()));
    let skipped = read_only.store(&hex(2), &file_with(b"x"), 1, None).unwrap();
    assert!(matches!(skipped, Stored::Skipped(_)));
    assert!(!memory.values.borrow().contains_key(&hex(2)));
}
