//! Properties of the decoders and the key (proptest): any bytes decode to
//! an entry or an error, never a panic, and never make the decoder allocate
//! more than the file holds (lengths are checked against the file size
//! first); different key material never gives the same key; the parsers of
//! durations, sizes, instants and config files never panic.
//!
//! A counting global allocator measures the largest single allocation made
//! by the current thread while a closure runs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use crate::harness;
use crate::harness::fixtures::entry_file;
use cachecmd::test_support::DiskStore;
use cachecmd::test_support::EntryFile;
use cachecmd::test_support::Store;
use cachecmd::test_support::{parse_lifetime, parse_size, parse_timeout, Lifetime};
use cachecmd::test_support::{Bytes, DecodeError, Header, Meta, HEADER_LEN, MAX_META_LEN};
use cachecmd::test_support::{Input, Kind};
use cachecmd::test_support::{Key, KeyView as KeyMaterial};
use proptest::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

// ---------------------------------------------------------------------------
// Allocation measurement

struct Counting;

thread_local! {
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // Not tracking when the thread-locals are gone (thread exit).
    if TRACKING.try_with(Cell::get).unwrap_or(false) {
        LARGEST.with(|l| l.set(l.get().max(size)));
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: forwards every call to the system allocator unchanged; the
// bookkeeping touches only const-initialised thread-locals (no allocation).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f`, returning its result, the largest single allocation it made
/// on this thread, and how many allocations it made.
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    LARGEST.with(|l| l.set(0));
    ALLOCATIONS.with(|n| n.set(0));
    TRACKING.with(|t| t.set(true));
    let result = f();
    TRACKING.with(|t| t.set(false));
    (result, LARGEST.with(Cell::get), ALLOCATIONS.with(Cell::get))
}

/// `cases` cases; failures are reported with their minimal input rather
/// than persisted to a file in the source tree.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------------------
// Entries

fn arb_header() -> impl Strategy<Value = Header> {
    let len64 = prop_oneof![0u64..4096, any::<u64>(), (u64::MAX - 4096)..=u64::MAX];
    let len32 = prop_oneof![0u32..4096, any::<u32>(), (MAX_META_LEN - 2)..=(MAX_META_LEN + 2)];
    (len32, len64.clone(), len64.clone(), len64, any::<i32>(), any::<[u64; 5]>()).prop_map(
        |(meta_len, stdout_len, stderr_len, outputs_len, exit_code, h)| Header {
            meta_len,
            stdout_len,
            stderr_len,
            exit_code,
            run_ms: 0,
            meta_hash: h[0],
            stdout_hash: h[1],
            stderr_hash: h[2],
            // Times past year 9999 are refused (entry.rs), so stay below.
            expires_at: h[3] % 253_402_300_800,
            outputs_len,
            outputs_hash: h[4],
            runs_len: 0,
            runs_hash: 0,
            // The fixture's key, so only the lengths and hashes are random.
            key: [0x5a; 32],
        },
    )
}

/// What every accepted header must satisfy for a file of `file_size`.
fn assert_fits(header: &Header, file_size: u64) {
    assert!(header.meta_len <= MAX_META_LEN);
    let total = (HEADER_LEN as u64)
        .checked_add(u64::from(header.meta_len))
        .and_then(|n| n.checked_add(header.stdout_len))
        .and_then(|n| n.checked_add(header.stderr_len))
        .and_then(|n| n.checked_add(header.outputs_len));
    assert_eq!(total, Some(file_size), "accepted lengths that do not add up to the file size");
    for range in
        [header.meta_range(), header.stdout_range(), header.stderr_range(), header.outputs_range()]
    {
        assert!(range.start <= range.end && range.end <= file_size);
    }
}

/// Raw OS bytes from arbitrary bytes (`Bytes` picks text or raw itself).
fn os(bytes: &[u8]) -> OsString {
    OsString::from_vec(bytes.to_vec())
}

fn arb_meta() -> impl Strategy<Value = Meta> {
    let bytes = || prop::collection::vec(any::<u8>(), 0..24);
    (
        prop::collection::vec(bytes(), 0..5),
        proptest::option::of(bytes()),
        prop::collection::vec(bytes(), 0..3),
        proptest::option::of(bytes()),
        // Times past year 9999 are refused (entry.rs).
        0..=cachecmd::test_support::MAX_EPOCH_SECS,
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u64>()),
    )
        .prop_map(|(argv, cwd, env_names, scope, created, ttl_secs, failure_ttl_secs)| Meta {
            argv: argv.iter().map(|a| Bytes::from_os(&os(a))).collect(),
            cwd: cwd.map(|c| Bytes::from_os(&os(&c))),
            env_names: env_names.iter().map(|n| Bytes::from_os(&os(n))).collect(),
            scope: scope.map(|s| Bytes::from_os(&os(&s))),
            created,
            ttl_secs,
            failure_ttl_secs,
            expires_from: None,
            ..Default::default()
        })
}

/// A private store with one entry path to write bytes at.
struct Fixture {
    _dir: tempfile::TempDir,
    store: DiskStore,
    key: Key,
    path: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = DiskStore::open_or_create(&dir.path().join("root")).unwrap();
    let key = Key::from_slice(&[0x5a; 32]).unwrap();
    let path = store.entry_path(&key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    Fixture { _dir: dir, store, key, path }
}

/// The largest allocation the file-level decoders may make for a file of
/// `len` bytes: the file itself (small entries are read whole), the fixed
/// 256 KiB chunk buffer for large ones, and path strings.
fn allowed_allocation(len: usize) -> usize {
    len.max(1024)
}

proptest! {
    #![proptest_config(config(512))]

    /// Any bytes with any claimed file size: a header or an error, no
    /// panic, no allocation at all; an accepted header fits the size.
    #[test]
    fn header_decode_takes_any_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..200),
        claimed in prop_oneof![Just(None), any::<u64>().prop_map(Some), (0u64..512).prop_map(Some)],
    ) {
        let size = claimed.unwrap_or(bytes.len() as u64);
        let (result, _, allocations) = measure(|| Header::decode(&bytes, size));
        prop_assert_eq!(allocations, 0, "Header::decode allocated");
        if let Ok(header) = result {
            assert_fits(&header, size);
        }
    }

    /// Headers with a valid checksum and any lengths, against any file
    /// size: accepted exactly when the lengths add up to the size (without
    /// overflow) and the metadata is within its cap.
    #[test]
    fn header_lengths_are_validated_against_the_file_size(
        header in arb_header(),
        size_choice in 0u8..4,
        other_size in any::<u64>(),
        trailing in prop::collection::vec(any::<u8>(), 0..16),
    ) {
        let exact = (HEADER_LEN as u64)
            .checked_add(u64::from(header.meta_len))
            .and_then(|n| n.checked_add(header.stdout_len))
            .and_then(|n| n.checked_add(header.stderr_len))
            .and_then(|n| n.checked_add(header.outputs_len));
        let size = match (size_choice, exact) {
            (0, Some(exact)) => exact,
            (1, Some(exact)) => exact.wrapping_add(1),
            (2, Some(exact)) => exact.wrapping_sub(1),
            _ => other_size,
        };
        let mut bytes = header.encode().to_vec();
        bytes.extend(&trailing);
        let result = Header::decode(&bytes, size);
        let valid = header.meta_len <= MAX_META_LEN && exact == Some(size);
        prop_assert_eq!(result.is_ok(), valid, "{:?} for size {}", result, size);
        if let Ok(decoded) = result {
            prop_assert_eq!(decoded, header);
            assert_fits(&decoded, size);
        } else {
            prop_assert_eq!(result, Err(DecodeError::Length));
        }
    }

    /// Any change to any header byte is refused.
    #[test]
    fn any_header_byte_change_is_refused(header in arb_header(), at in 0..HEADER_LEN, xor in 1u8..=255) {
        let mut bytes = header.encode();
        bytes[at] ^= xor;
        prop_assert!(Header::decode(&bytes, u64::MAX).is_err());
        for size in [0, HEADER_LEN as u64, 1 << 20] {
            prop_assert!(Header::decode(&bytes, size).is_err());
        }
    }

    /// Metadata round-trips, including non-UTF-8 arguments.
    #[test]
    fn metadata_round_trips(meta in arb_meta()) {
        let bytes = meta.encode();
        let decoded = Meta::decode(&bytes, xxh3_64(&bytes)).unwrap();
        let as_os = |m: &Meta| m.argv.iter().map(Bytes::to_os).collect::<Vec<_>>();
        prop_assert_eq!(as_os(&decoded), as_os(&meta));
        prop_assert_eq!(decoded.cwd.as_ref().map(Bytes::to_os), meta.cwd.as_ref().map(Bytes::to_os));
        prop_assert_eq!(decoded.created, meta.created);
        prop_assert_eq!(decoded.ttl_secs, meta.ttl_secs);
        prop_assert!(Meta::decode(&bytes, xxh3_64(&bytes) ^ 1).is_err());
    }

    /// Any bytes past the metadata checksum: metadata or an error, no panic.
    #[test]
    fn metadata_decode_takes_any_bytes(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..300),
            "\\{\"argv\":\\[(\"[a-z]{0,4}\"|\\[[0-9,]{0,12}\\]|null|[0-9]{1,3}),?\\],\"created\":[0-9]{1,20}[,}].{0,40}".prop_map(String::into_bytes),
        ],
    ) {
        let (result, _, _) = measure(|| Meta::decode(&bytes, xxh3_64(&bytes)));
        // What was accepted re-encodes to metadata that is accepted too.
        if let Ok(meta) = result {
            let again = meta.encode();
            prop_assert!(Meta::decode(&again, xxh3_64(&again)).is_ok());
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// A whole entry file, as a hit (`Store::lookup`) and a listing
    /// (`inventory::read_info`) read it: a well-formed entry is accepted
    /// with its header; one mutation (a cut, a flipped byte, an extra byte)
    /// is refused; and the decoders never allocate more than the file.
    #[test]
    fn entry_files_verify_exactly_and_allocate_at_most_their_size(
        meta in arb_meta(),
        stdout in prop::collection::vec(any::<u8>(), 0..2000),
        stderr in prop::collection::vec(any::<u8>(), 0..200),
        exit_code in any::<i32>(),
        mutation in 0u8..4,
        at in any::<prop::sample::Index>(),
        xor in 1u8..=255,
    ) {
        let fx = fixture();
        let (header, good) = entry_file([0x5a; 32], &meta.encode(), &stdout, &stderr, exit_code);
        let mut file = good.clone();
        // Whether the change is in the header or metadata, the only part
        // `read_info` checks (it never reads the output).
        let mut in_head = true;
        match mutation {
            0 => {}
            1 => file.truncate(at.index(good.len())),
            2 => {
                let i = at.index(good.len());
                file[i] ^= xor;
                in_head = (i as u64) < header.meta_range().end;
            }
            _ => file.push(xor),
        }
        std::fs::write(&fx.path, &file).unwrap();
        let (found, largest, _) = measure(|| fx.store.lookup(&fx.key).map(|e| e.map(|e| e.header)));
        prop_assert!(largest <= allowed_allocation(file.len()), "lookup allocated {largest} for a {} byte file", file.len());
        let (info, largest, _) = measure(|| fx.store.read_info(&EntryFile { key: fx.key, path: fx.path.clone() }).map(|i| i.header));
        prop_assert!(largest <= allowed_allocation(file.len()), "read_info allocated {largest} for a {} byte file", file.len());
        if mutation == 0 {
            prop_assert_eq!(found.unwrap(), Some(header));
            prop_assert_eq!(info.unwrap(), header);
        } else {
            prop_assert!(found.is_err(), "a mutated entry verified (mutation {})", mutation);
            if in_head {
                prop_assert!(info.is_err(), "an entry with a damaged header or metadata was listed (mutation {})", mutation);
            }
        }
    }

    /// Headers that claim huge regions over a small file (the checksum is
    /// valid, so only the length check stands between them and a huge
    /// allocation) are refused before anything is allocated for them.
    #[test]
    fn claimed_lengths_never_drive_allocation(header in arb_header(), body in prop::collection::vec(any::<u8>(), 0..512)) {
        let fx = fixture();
        let mut file = header.encode().to_vec();
        file.extend(&body);
        std::fs::write(&fx.path, &file).unwrap();
        let (found, largest, _) = measure(|| fx.store.lookup(&fx.key).map(|e| e.is_some()));
        prop_assert!(largest <= allowed_allocation(file.len()), "lookup allocated {largest} for a {} byte file", file.len());
        let (info, largest, _) = measure(|| fx.store.read_info(&EntryFile { key: fx.key, path: fx.path.clone() }).is_ok());
        prop_assert!(largest <= allowed_allocation(file.len()), "read_info allocated {largest} for a {} byte file", file.len());
        // Random hashes never match random bodies.
        prop_assert!(found.is_err() && !info);
    }

    /// Any bytes at all as an entry file.
    #[test]
    fn garbage_entry_files_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..400), magic in any::<bool>()) {
        let fx = fixture();
        let mut file = bytes;
        if magic && file.len() >= 12 {
            file[..8].copy_from_slice(b"CACHECMD");
            file[8..12].copy_from_slice(&cachecmd::test_support::VERSION.to_le_bytes());
        }
        std::fs::write(&fx.path, &file).unwrap();
        let (found, largest, _) = measure(|| fx.store.lookup(&fx.key).map(|e| e.is_some()));
        prop_assert!(largest <= allowed_allocation(file.len()));
        prop_assert!(found.is_err());
        let listed = fx.store.read_info(&EntryFile { key: fx.key, path: fx.path.clone() });
        prop_assert!(listed.is_err());
    }
}

/// Metadata made of byte arrays is the worst case for the JSON decoder
/// (`Bytes` is an untagged enum, so serde buffers each element before
/// choosing): the metadata of an entry file is at most 1 MiB, and decoding
/// it must not allocate more than the file holds.
#[test]
fn metadata_decoding_allocates_at_most_the_file_size() {
    let fx = fixture();
    let mut over = Vec::new();
    for elements in [1_000usize, 100_000] {
        // A raw (non-UTF-8) argument as the entry format stores it: hex.
        let arg = format!("{{\"x\":\"{}\"}}", "00".repeat(elements));
        let meta = format!(
            "{{\"argv\":[{arg}],\"cwd\":null,\"env_names\":[],\"scope\":null,\"created\":0,\"ttl_secs\":null,\"failure_ttl_secs\":null}}"
        );
        let (_, file) = entry_file([0x5a; 32], meta.as_bytes(), b"", b"", 0);
        std::fs::write(&fx.path, &file).unwrap();
        let (info, largest, _) = measure(|| {
            fx.store.read_info(&EntryFile { key: fx.key, path: fx.path.clone() }).is_ok()
        });
        assert!(info, "valid metadata refused");
        println!("COUNTS meta alloc: {} byte file, largest allocation {largest}", file.len());
        if largest > allowed_allocation(file.len()) {
            over.push(format!(
                "a {} byte entry ({elements} raw bytes in one argument) made a {largest} byte allocation",
                file.len()
            ));
        }
    }
    assert!(
        over.is_empty(),
        "metadata decoding allocates more than the file:\n{}",
        over.join("\n")
    );
}

// ---------------------------------------------------------------------------
// The key

/// Everything `KeyMaterial` holds, owned, over a tiny alphabet so that
/// near-collisions (shifted boundaries, empty vs absent) are common.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Material {
    argv: Vec<OsString>,
    cwd: Option<PathBuf>,
    env: BTreeMap<OsString, Option<OsString>>,
    scope: Option<OsString>,
    extra: Vec<OsString>,
    inputs: Option<Vec<Input>>,
    modtimes: Vec<(OsString, Option<i64>)>,
    stdin: Option<[u8; 32]>,
    outputs: Vec<OsString>,
}

impl Material {
    fn key(&self) -> Key {
        KeyMaterial {
            argv: &self.argv,
            cwd: self.cwd.as_deref(),
            env: self.env.clone(),
            scope: self.scope.as_deref(),
            extra: &self.extra,
            inputs: self.inputs.as_deref(),
            modtimes: &self.modtimes,
            stdin: self.stdin,
            outputs: &self.outputs,
            expires_from: None,
            trace: false,
        }
        .key()
    }
}

fn tiny() -> impl Strategy<Value = OsString> {
    prop::collection::vec(prop::sample::select(vec![b'a', b'b', b' ', b'=', 0u8, 0xff, 1]), 0..3)
        .prop_map(OsString::from_vec)
}

fn arb_material() -> impl Strategy<Value = Material> {
    let kind = prop::sample::select(vec![
        Kind::File,
        Kind::Executable,
        Kind::Symlink,
        Kind::Absent,
        Kind::Unreadable,
    ]);
    let input =
        (prop::collection::vec(prop::sample::select(vec![b'a', b'/', 0u8]), 0..3), kind, 0u8..2)
            .prop_map(|(path, kind, d)| Input { path, kind, digest: [d; 32] });
    (
        prop::collection::vec(tiny(), 0..4),
        proptest::option::of(tiny().prop_map(PathBuf::from)),
        prop::collection::btree_map(tiny(), proptest::option::of(tiny()), 0..3),
        proptest::option::of(tiny()),
        prop::collection::vec(tiny(), 0..3),
        proptest::option::of(prop::collection::vec(input, 0..3)),
        prop::collection::vec((tiny(), proptest::option::of(-1i64..2)), 0..2),
        proptest::option::of((0u8..2).prop_map(|b| [b; 32])),
        prop::collection::vec(tiny(), 0..2),
    )
        .prop_map(|(argv, cwd, env, scope, extra, inputs, modtimes, stdin, outputs)| {
            Material { argv, cwd, env, scope, extra, inputs, modtimes, stdin, outputs }
        })
}

proptest! {
    #![proptest_config(config(2048))]

    /// Keys are equal exactly when the material is: the encoding is
    /// injective (over a tiny alphabet, where naive joins would collide).
    #[test]
    fn keys_are_equal_exactly_when_the_material_is(a in arb_material(), b in arb_material()) {
        prop_assert_eq!(a.key(), a.clone().key(), "the key is not deterministic");
        prop_assert_eq!(a == b, a.key() == b.key(), "{:?}\nvs\n{:?}", a, b);
        let hex = a.key().hex();
        prop_assert_eq!(Key::parse_hex(&hex), Some(a.key()));
    }

    /// The same bytes split into arguments differently never share a key
    /// (`["a b"]`, `["a","b"]`, `["ab"]`, and empty arguments).
    #[test]
    fn different_argv_splits_give_different_keys(
        joined in prop::collection::vec(any::<u8>(), 0..12),
        cuts_a in prop::collection::vec(0usize..13, 0..5),
        cuts_b in prop::collection::vec(0usize..13, 0..5),
    ) {
        let split = |cuts: &[usize]| -> Vec<OsString> {
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (joined.len() + 1)).collect();
            cuts.sort_unstable();
            let mut parts = Vec::new();
            let mut from = 0;
            for cut in cuts {
                parts.push(os(&joined[from..cut]));
                from = cut;
            }
            parts.push(os(&joined[from..]));
            parts
        };
        let (a, b) = (split(&cuts_a), split(&cuts_b));
        let base = Material {
            argv: vec![],
            cwd: None,
            env: BTreeMap::new(),
            scope: None,
            extra: vec![],
            inputs: None,
            modtimes: vec![],
            stdin: None,
            outputs: vec![],
        };
        let key_a = Material { argv: a.clone(), ..base.clone() }.key();
        let key_b = Material { argv: b.clone(), ..base.clone() }.key();
        prop_assert_eq!(a == b, key_a == key_b, "{:?} vs {:?}", a, b);
        // Moving the same bytes into other fields changes the key too.
        let as_extra = Material { extra: a.clone(), ..base.clone() }.key();
        prop_assert_ne!(key_a, as_extra);
        let as_scope = Material { argv: a[..a.len() - 1].to_vec(), scope: a.last().cloned(), ..base.clone() }.key();
        prop_assert_ne!(key_a, as_scope);
        let as_cwd = Material { argv: a[..a.len() - 1].to_vec(), cwd: a.last().map(PathBuf::from), ..base }.key();
        prop_assert_ne!(key_a, as_cwd);
    }

    /// An environment variable's name/value boundary and set/unset/empty
    /// are all part of the key.
    #[test]
    fn env_boundaries_are_part_of_the_key(name in tiny(), value in tiny(), moved in 0usize..3) {
        let env = |n: &OsStr, v: Option<&OsStr>| Material {
            argv: vec!["x".into()],
            cwd: None,
            env: BTreeMap::from([(n.to_os_string(), v.map(OsStr::to_os_string))]),
            scope: None,
            extra: vec![],
            inputs: None,
            modtimes: vec![],
            stdin: None,
            outputs: vec![],
        }
        .key();
        let (n, v) = (name.as_bytes(), value.as_bytes());
        let joined = [n, v].concat();
        let cut = moved % (joined.len() + 1);
        let (n2, v2) = (os(&joined[..cut]), os(&joined[cut..]));
        prop_assert_eq!(env(&name, Some(&value)) == env(&n2, Some(&v2)), (name.clone(), value.clone()) == (n2, v2));
        prop_assert_ne!(env(&name, None), env(&name, Some(OsStr::new(""))));
    }
}

// ---------------------------------------------------------------------------
// Durations, sizes, instants, config files

proptest! {
    #![proptest_config(config(1024))]

    /// Any text: a positive duration, `forever`, or an error naming it.
    #[test]
    fn lifetimes_and_timeouts_take_any_text(text in prop_oneof![".*", "[0-9 .+-]{0,6}[a-zµ]{0,4}( [0-9]{1,20}[smhdwy])?", "(?i) *forever *"]) {
        match parse_lifetime(&text) {
            Ok(Lifetime::For(d)) => prop_assert!(!d.is_zero()),
            Ok(Lifetime::Forever) => prop_assert!(text.trim().eq_ignore_ascii_case("forever")),
            Err(message) => prop_assert!(message.contains(text.trim())),
        }
        if let Ok(d) = parse_timeout(&text) {
            prop_assert!(!d.is_zero());
        }
    }

    /// What humantime prints, parse_lifetime reads back.
    #[test]
    fn printed_durations_parse_back(ms in 1u64..(1u64 << 44)) {
        let d = Duration::from_millis(ms);
        let text = humantime::format_duration(d).to_string();
        prop_assert_eq!(parse_lifetime(&text), Ok(Lifetime::For(d)), "{}", text);
    }

    /// Any text: a size or an error; plain numbers and binary units are exact.
    #[test]
    fn sizes_take_any_text(text in ".*", n in any::<u64>(), k in 0u64..(1 << 40)) {
        if let Err(message) = parse_size(&text) {
            prop_assert!(message.contains(&text), "{}", message);
        }
        prop_assert_eq!(parse_size(&n.to_string()), Ok(n));
        prop_assert_eq!(parse_size(&format!("{k}KiB")), Ok(k * 1024));
    }

    /// `--expires-at`: any text and any "now"; an accepted instant is
    /// later than now; a future RFC 3339 instant is read exactly.
    #[test]
    fn expires_at_takes_any_text(text in prop_oneof![".*", "[0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2})?", "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(Z|[+-][0-9]{2}:[0-9]{2})"], now in 0u64..(1 << 35), ahead in 1u64..(1 << 30)) {
        let now = UNIX_EPOCH + Duration::from_secs(now);
        if let Ok(at) = cachecmd::test_support::parse_expires_at(&text, now) {
            prop_assert!(at > now);
        }
        let future = now + Duration::from_secs(ahead);
        let stamp = jiff::Timestamp::try_from(future).unwrap().to_string();
        prop_assert_eq!(cachecmd::test_support::parse_expires_at(&stamp, now), Ok(future), "{}", stamp);
    }
}

fn arb_config() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "ttl",
        "failure_ttl",
        "cache_dir",
        "env",
        "lock_timeout",
        "max_entry_size",
        "max_size",
        "max_entries",
        "bogus",
    ]);
    let value = prop_oneof![
        "\"[0-9a-zA-Z .:/*-]{0,12}\"",
        "-?[0-9]{1,20}",
        "\\[(\"[A-Z_*]{0,6}\",?){0,3}\\]",
        Just("true".to_string()),
        Just("{ a = 1 }".to_string()),
        Just("\"forever\"".to_string()),
        Just("1.5".to_string()),
    ];
    prop_oneof![
        3 => prop::collection::vec((key, value), 0..6)
            .prop_map(|pairs| pairs.into_iter().map(|(k, v)| format!("{k} = {v}\n")).collect::<String>()),
        1 => ".{0,80}",
    ]
}

/// Set in the child that [`config_files_never_panic`] runs itself in.
const CONFIG_CHILD: &str = "CACHECMD_TEST_CONFIG_CHILD";

/// `Some(error)` when `result` failed: the error must then blame the
/// config file at `path` when it is about the file at all.
fn config_error<T>(
    result: Result<T, cachecmd::test_support::SettingsError>,
    path: &Path,
) -> Result<(), TestCaseError> {
    if let Err(cachecmd::test_support::SettingsError::Config { path: blamed, message }) = result {
        prop_assert_eq!(blamed.as_path(), path, "{}", message);
    }
    Ok(())
}

/// Any config file: loaded or an error naming the file; a loaded one
/// validates into run settings or an error, never a panic. `Config::load`
/// reads the file `CACHECMD_CONFIG` names, which a test thread must not
/// set for the others: the test runs itself again in a child with it.
#[test]
fn config_files_never_panic() {
    if std::env::var_os(CONFIG_CHILD).is_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        harness::run_test_in_child(
            module_path!(),
            "config_files_never_panic",
            &[(CONFIG_CHILD, Some(OsStr::new("1"))), ("CACHECMD_CONFIG", Some(path.as_os_str()))],
        );
        return;
    }
    let path = PathBuf::from(std::env::var_os("CACHECMD_CONFIG").unwrap());
    proptest!(config(512), |(text in arb_config())| {
        std::fs::write(&path, &text).unwrap();
        match cachecmd::test_support::Config::load() {
            Ok(config) => {
                use clap::Parser;
                let cli = cachecmd::test_support::Cli::try_parse_from(["cachecmd", "true"]).unwrap();
                config_error(config.common(&cli.run.key.common), &path)?;
                config_error(config.limits(&cli.run.limits), &path)?;
                config_error(config.key(&cli.run.key), &path)?;
                config_error(config.run(cli.run), &path)?;
            }
            Err(e) => config_error::<()>(Err(e), &path)?,
        }
    });
}

#[test]
fn the_counting_allocator_sees_allocations() {
    let (v, largest, count) = measure(|| vec![0u8; 12345]);
    assert_eq!((v.len(), largest, count), (12345, 12345, 1));
}
