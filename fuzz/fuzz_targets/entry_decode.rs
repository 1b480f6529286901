//! The entry decoder, from raw bytes up to the store: `Header::decode`,
//! `Meta::decode`, and the file-level readers `DiskStore::lookup` (what a
//! hit verifies) and `inventory::read_info` (what list/gc/clear read).
//!
//! Invariants checked besides "no panic": a decoded header's lengths add up
//! to exactly the file size (so nothing larger than the file is ever
//! allocated or read), and a mutated entry never verifies.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use cachecmd::test_support::{
    DiskStore, EntryFile, Header, Key, Meta, Store, HEADER_LEN, MAX_META_LEN,
};
use libfuzzer_sys::fuzz_target;
use xxhash_rust::xxh3::xxh3_64;

struct Fixture {
    store: DiskStore,
    key: Key,
    path: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let base = std::env::temp_dir().join(format!("cachecmd-fuzz-{}", std::process::id()));
        let root = base.join("root");
        std::fs::create_dir_all(&base).unwrap();
        let store = DiskStore::open_or_create(&root).unwrap();
        let key = Key::from_slice(&[0xab; 32]).unwrap();
        let path = store.entry_path(&key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        Fixture { store, key, path }
    })
}

fn check_header(header: &Header, file_size: u64) {
    assert!(header.meta_len <= MAX_META_LEN);
    let total = HEADER_LEN as u64
        + u64::from(header.meta_len)
        + header.stdout_len
        + header.stderr_len
        + header.outputs_len;
    assert_eq!(total, file_size, "decoded lengths must add up to the file size");
    assert!(header.stderr_range().end <= file_size);
}

/// Decodes `file` the way a hit and a listing do, through a real file.
fn decode_file(file: &[u8]) -> (bool, bool) {
    let fx = fixture();
    std::fs::write(&fx.path, file).unwrap();
    let hit = match fx.store.lookup(&fx.key) {
        Ok(Some(entry)) => {
            check_header(&entry.header, file.len() as u64);
            true
        }
        Ok(None) => panic!("an existing entry file looked absent"),
        Err(_) => false,
    };
    let info = fx.store.read_info(&EntryFile { key: fx.key, path: fx.path.clone() });
    if let Ok(info) = &info {
        check_header(&info.header, file.len() as u64);
    }
    (hit, info.is_ok())
}

fn build_entry(
    meta: &[u8],
    stdout: &[u8],
    stderr: &[u8],
    outputs: &[u8],
    exit_code: i32,
) -> Vec<u8> {
    let header = Header {
        meta_len: meta.len() as u32,
        stdout_len: stdout.len() as u64,
        stderr_len: stderr.len() as u64,
        exit_code,
        run_ms: 0,
        meta_hash: xxh3_64(meta),
        stdout_hash: xxh3_64(stdout),
        stderr_hash: xxh3_64(stderr),
        expires_at: 0,
        outputs_len: outputs.len() as u64,
        outputs_hash: xxh3_64(outputs),
        runs_len: 0,
        runs_hash: xxh3_64(&[]),
        // The fixture's key, so a built entry reaches the checksums.
        key: [0xab; 32],
    };
    [&header.encode()[..], meta, stdout, stderr, outputs].concat()
}

fuzz_target!(|data: &[u8]| {
    // 1. The header alone, against the real length and a claimed one.
    if let Ok(header) = Header::decode(data, data.len() as u64) {
        check_header(&header, data.len() as u64);
    }
    if data.len() >= 8 {
        let claimed = u64::from_le_bytes(data[..8].try_into().unwrap());
        if let Ok(header) = Header::decode(&data[8..], claimed) {
            check_header(&header, claimed);
        }
    }
    // 2. The metadata parser, past its checksum.
    let _ = Meta::decode(data, xxh3_64(data));
    assert!(Meta::decode(data, xxh3_64(data) ^ 1).is_err());

    let Some((&mode, rest)) = data.split_first() else { return };
    if mode & 1 == 0 {
        // 3. Raw bytes as an entry file.
        decode_file(rest);
        return;
    }
    // 4. A well-formed entry built from the input, then one mutation.
    if rest.len() < 6 {
        return;
    }
    let (ctl, body) = rest.split_at(6);
    let meta_len = usize::from(ctl[0]).min(body.len());
    let out_len = usize::from(ctl[1]).min(body.len() - meta_len);
    let (meta, tail) = body.split_at(meta_len);
    let (stdout, tail) = tail.split_at(out_len);
    // Low bits of ctl[2]: how much of the rest is the outputs archive.
    let archive_len = (usize::from(ctl[2] & 0x0f) * 4).min(tail.len());
    let (stderr, outputs) = tail.split_at(tail.len() - archive_len);
    let mut file = build_entry(meta, stdout, stderr, outputs, i32::from(ctl[2]) - 128);
    let original = file.clone();
    let at = usize::from(u16::from_le_bytes([ctl[3], ctl[4]]));
    match mode >> 1 & 3 {
        0 => {}
        1 => file.truncate(at % file.len()),
        2 => {
            let i = at % file.len();
            file[i] ^= ctl[5].max(1);
        }
        _ => file.push(ctl[5]),
    }
    let (hit, listed) = decode_file(&file);
    let meta_ok = Meta::decode(meta, xxh3_64(meta)).is_ok();
    if file == original {
        assert!(hit, "a well-formed entry must verify");
        assert_eq!(listed, meta_ok, "read_info must accept exactly the valid metadata");
    } else {
        assert!(!hit, "a mutated entry verified");
        assert!(!listed, "a mutated entry was listed");
    }
});
