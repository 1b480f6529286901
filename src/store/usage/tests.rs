//! The journal and summary formats: damage skipped, totals saturating,
//! older versions still read.

use super::*;
use std::fs::OpenOptions;

fn key(n: u8) -> Key {
    Key::from_slice(&[n; 32]).unwrap()
}

/// A store with its `v1` directory, in a temporary directory kept alive by
/// the first value.
fn new_store() -> (tempfile::TempDir, DiskStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = DiskStore::open_or_create(&dir.path().join("root")).unwrap();
    std::fs::create_dir_all(store.v1()).unwrap();
    (dir, store)
}

fn load_all(store: &DiskStore) -> Usage {
    Usage::fold(store, &|_| true, Some(&journal_path(&store.v1())))
}

#[test]
fn implausible_records_are_skipped_and_totals_saturate() {
    let (_dir, store) = new_store();
    record(&store, Event::Hit, &key(1));
    let mut bad = [0u8; RECORD_LEN];
    bad[..32].copy_from_slice(&[2; 32]);
    bad[32..40].copy_from_slice(&(now_secs() | 1 << 62).to_le_bytes());
    bad[40] = 1;
    let mut padded = [0u8; RECORD_LEN];
    padded[..32].copy_from_slice(&[3; 32]);
    padded[32..40].copy_from_slice(&now_secs().to_le_bytes());
    padded[40] = 1;
    // Bytes 41..44 are zero in every record.
    padded[42] = 0x10;
    let mut summary = b"CCUSAGE4".to_vec();
    summary.extend_from_slice(&[0xff; 64]);
    std::fs::write(summary::path(&store.v1()), summary).unwrap();
    let mut journal = OpenOptions::new().append(true).open(journal_path(&store.v1())).unwrap();
    journal.write_all(&bad).unwrap();
    journal.write_all(&padded).unwrap();
    let usage = load_all(&store);
    assert_eq!(usage.hits, u64::MAX);
    assert_eq!(usage.key(&key(1)).hits, 1);
    assert_eq!(usage.key(&key(2)), KeyUsage::default());
    assert_eq!(usage.key(&key(3)), KeyUsage::default());
}

#[test]
fn journal_and_summary_add_up() {
    let (_dir, store) = new_store();
    record(&store, Event::Hit, &key(1));
    record(&store, Event::Hit, &key(1));
    record(&store, Event::Miss, &key(2));
    let before = load_all(&store);
    assert_eq!((before.hits, before.misses), (2, 1));
    assert_eq!(before.key(&key(1)).hits, 2);

    Usage::compact(&store, &|_| true, 3).unwrap();
    record(&store, Event::Hit, &key(1));
    let after = load_all(&store);
    assert_eq!((after.hits, after.misses, after.evictions), (3, 1, 3));
    assert_eq!(after.key(&key(1)).hits, 3);
}

#[test]
fn compaction_drops_dead_keys_and_torn_records_are_ignored() {
    let (_dir, store) = new_store();
    record(&store, Event::Hit, &key(1));
    record(&store, Event::Hit, &key(2));
    let mut journal = OpenOptions::new().append(true).open(journal_path(&store.v1())).unwrap();
    journal.write_all(&[7; 20]).unwrap();
    Usage::compact(&store, &|k| *k == key(1), 0).unwrap();
    let usage = load_all(&store);
    assert_eq!(usage.key(&key(2)).hits, 0);
    assert_eq!(usage.key(&key(1)).hits, 1);
    assert_eq!(usage.hits, 2);
}

#[test]
fn rejections_survive_compaction_and_old_summaries_still_read() {
    let (_dir, store) = new_store();
    record(&store, Event::RemoteRejected, &key(1));
    record(&store, Event::RemoteRejected, &key(2));
    Usage::compact(&store, &|_| true, 0).unwrap();
    record(&store, Event::RemoteRejected, &key(1));
    assert_eq!(load_all(&store).remote_rejected, 3);

    // A version 2 summary: five totals, then one key record.
    let mut v2 = b"CCUSAGE2".to_vec();
    for total in [4u64, 5, 6, 7, 8] {
        v2.extend_from_slice(&total.to_le_bytes());
    }
    v2.extend_from_slice(key(9).bytes());
    v2.extend_from_slice(&11u64.to_le_bytes());
    v2.extend_from_slice(&now_secs().to_le_bytes());
    std::fs::write(summary::path(&store.v1()), v2).unwrap();
    std::fs::remove_file(journal_path(&store.v1())).unwrap();
    let old = load_all(&store);
    let totals = (old.hits, old.misses, old.evictions, old.remote_hits, old.remote_errors);
    assert_eq!(totals, (4, 5, 6, 7, 8));
    assert_eq!((old.remote_rejected, old.key(&key(9)).hits), (0, 11));
    Usage::compact(&store, &|_| true, 0).unwrap();
    assert_eq!(load_all(&store), old);
}

#[test]
fn hits_count_the_time_they_saved_through_compaction() {
    let (_dir, store) = new_store();
    record_hit(&store, Event::Hit, &key(1), 1500);
    record_hit(&store, Event::RemoteHit, &key(1), 250);
    record(&store, Event::Hit, &key(2));
    let before = load_all(&store);
    assert_eq!((before.hits, before.remote_hits, before.saved_ms), (3, 1, 1750));
    assert_eq!(before.key(&key(1)).saved_ms, 1750);
    Usage::compact(&store, &|_| true, 0).unwrap();
    record_hit(&store, Event::Hit, &key(1), u32::MAX);
    let after = load_all(&store);
    assert_eq!(after.saved_ms, 1750 + u64::from(u32::MAX));
    assert_eq!(after.key(&key(1)).saved_ms, 1750 + u64::from(u32::MAX));
    assert_eq!(after.key(&key(1)).hits, 3);

    // A miss never carries a saved time: such a record is damage.
    let mut odd = [0u8; RECORD_LEN];
    odd[..32].copy_from_slice(&[4; 32]);
    odd[32..40].copy_from_slice(&now_secs().to_le_bytes());
    odd[40] = Event::Miss as u8;
    odd[44] = 1;
    let mut journal = OpenOptions::new().append(true).open(journal_path(&store.v1())).unwrap();
    journal.write_all(&odd).unwrap();
    assert_eq!(load_all(&store).misses, 0);
}

#[test]
fn a_version_3_summary_reads_with_no_saved_time_and_no_since() {
    let (_dir, store) = new_store();
    let mut v3 = b"CCUSAGE3".to_vec();
    for total in [4u64, 5, 6, 7, 8, 9] {
        v3.extend_from_slice(&total.to_le_bytes());
    }
    v3.extend_from_slice(key(9).bytes());
    v3.extend_from_slice(&11u64.to_le_bytes());
    v3.extend_from_slice(&now_secs().to_le_bytes());
    std::fs::write(summary::path(&store.v1()), v3).unwrap();
    let old = load_all(&store);
    assert_eq!((old.hits, old.remote_rejected, old.saved_ms, old.since), (4, 9, 0, 0));
    assert_eq!((old.key(&key(9)).hits, old.key(&key(9)).saved_ms), (11, 0));
    Usage::compact(&store, &|_| true, 0).unwrap();
    assert_eq!(load_all(&store), old);
}

#[test]
fn zero_starts_the_counts_again_and_keeps_each_last_hit() {
    let (_dir, store) = new_store();
    record_hit(&store, Event::Hit, &key(1), 900);
    record(&store, Event::Miss, &key(1));
    Usage::compact(&store, &|_| true, 2).unwrap();
    record(&store, Event::RemoteError, &key(1));
    let last_hit = load_all(&store).key(&key(1)).last_hit;
    assert_ne!(last_hit, 0);
    let zeroed = |store: &DiskStore| {
        Usage::rewrite(store, &|_| true, 0, Some(1_800_000_000)).unwrap();
        load_all(store)
    };
    let usage = zeroed(&store);
    assert_eq!(usage.since, 1_800_000_000);
    let totals = (usage.hits, usage.misses, usage.evictions, usage.remote_errors);
    assert_eq!((totals, usage.saved_ms), ((0, 0, 0, 0), 0));
    let kept = KeyUsage { hits: 0, last_hit, saved_ms: 0 };
    assert_eq!(usage.key(&key(1)), kept);
    // Later events count from there; the instant survives compaction.
    record(&store, Event::Miss, &key(1));
    Usage::compact(&store, &|_| true, 0).unwrap();
    let later = load_all(&store);
    assert_eq!((later.misses, later.since), (1, 1_800_000_000));
    assert_eq!(counting_since(&store, &later), Some(1_800_000_000));
}

/// A record torn in the middle of the journal (a full disk, a crash) loses
/// only itself: the records after it are found again, and none is made up
/// from the shifted bytes. (A piece of 44 bytes or more, cut inside its
/// saved time, cannot be told from a whole record: it is counted with a
/// wrong saved time and the record after it is lost; the rest are found.)
#[test]
fn a_torn_record_mid_journal_loses_only_itself() {
    for torn in [1, 7, 20, 32, 40, 43, 44, 47] {
        let (_dir, store) = new_store();
        record_hit(&store, Event::Hit, &key(1), 5);
        let mut journal = OpenOptions::new().append(true).open(journal_path(&store.v1())).unwrap();
        // The head of a real record (its key, its time, ...), cut short.
        let mut whole = key(9).bytes().to_vec();
        whole.extend_from_slice(&now_secs().to_le_bytes());
        whole.extend_from_slice(&[1, 0, 0, 0, 7, 0, 0, 0]);
        journal.write_all(&whole[..torn]).unwrap();
        record(&store, Event::Miss, &key(3));
        record_hit(&store, Event::Hit, &key(2), 3);
        record(&store, Event::Miss, &key(3));
        record_hit(&store, Event::RemoteHit, &key(2), 4);
        let usage = load_all(&store);
        if torn < 44 {
            assert_eq!((usage.hits, usage.misses, usage.remote_hits), (3, 2, 1), "torn {torn}");
            assert_eq!(usage.saved_ms, 12, "torn {torn}");
            assert_eq!(usage.key(&key(9)), KeyUsage::default(), "torn {torn}");
        } else {
            assert_eq!((usage.hits, usage.misses, usage.remote_hits), (4, 1, 1), "torn {torn}");
        }
        assert_eq!(usage.key(&key(2)).hits, 2, "torn {torn}");
    }
}
