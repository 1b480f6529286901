//! Reading the state of inputs: a manifest built from what a traced run
//! touched (less its outputs and ignored paths), and a manifest checked
//! against the file system now. Both go through the stat cache, so an
//! unchanged file is never hashed twice.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::decode::Use;
use super::manifest::{Check, Item, Manifest, State};
use super::paths::{self, Ignore};
use super::tracer::Accesses;
use crate::key::{DigestCache, Hashed};

/// The manifest of a traced run, as the file system is now (read on every
/// core, as `--input` files are hashed).
pub fn build(
    accesses: &Accesses,
    cwd: &Path,
    ignore: &Ignore,
    cache: &mut dyn DigestCache,
) -> Manifest {
    let mut wanted = Vec::new();
    for (path, uses) in &accesses.inputs {
        if ignore.ignores(path, cwd) || accesses.is_output(path) {
            continue;
        }
        let check = if uses.contains(&Use::List) {
            Check::List
        } else if uses.contains(&Use::Read) {
            Check::Content
        } else if uses.contains(&Use::Stat) {
            Check::Stat
        } else {
            Check::StatLink
        };
        let excluded: Vec<Vec<u8>> = match check {
            Check::List => accesses
                .outputs
                .iter()
                .filter(|o| o.parent() == Some(path.as_path()) && accesses.is_output(o))
                .filter_map(|o| o.file_name().map(|n| n.as_bytes().to_vec()))
                .collect(),
            _ => Vec::new(),
        };
        wanted.push((path, check, excluded));
    }
    let shared: &dyn DigestCache = &*cache;
    let observed = crate::par::par_filter_map(&wanted, |(path, check, excluded)| {
        let mut fresh = Vec::new();
        let state = observe(path, *check, excluded, shared, &mut fresh);
        Some((Item { path: paths::stored(path, cwd), check: *check, state }, fresh))
    });
    let mut fresh = Vec::new();
    let mut manifest = Vec::with_capacity(observed.len());
    for (item, hashed) in observed {
        manifest.push(item);
        fresh.extend(hashed);
    }
    if !fresh.is_empty() {
        cache.save(fresh);
    }
    manifest
}

/// Why `manifest` no longer matches (the first input that changed), or
/// `None` when every item still matches, seen from `cwd`. Items are
/// checked on every core, as `--input` files are hashed.
pub fn mismatch(manifest: &Manifest, cwd: &Path, cache: &mut dyn DigestCache) -> Option<String> {
    let shared: &dyn DigestCache = &*cache;
    let checked = crate::par::par_filter_map(manifest, |item| {
        let path = paths::resolve(&item.path, cwd);
        let excluded = match &item.state {
            State::Listing { excluded, .. } => excluded.as_slice(),
            _ => &[],
        };
        let mut fresh = Vec::new();
        let same = observe(&path, item.check, excluded, shared, &mut fresh) == item.state;
        Some((same, fresh))
    });
    let changed = manifest
        .iter()
        .zip(&checked)
        .find(|(_, (same, _))| !same)
        .map(|(item, _)| String::from_utf8_lossy(&item.path).into_owned());
    let fresh: Vec<Hashed> = checked.into_iter().flat_map(|(_, fresh)| fresh).collect();
    if !fresh.is_empty() {
        cache.save(fresh);
    }
    changed
}

/// The state of `path` as `check` sees it.
pub fn observe(
    path: &Path,
    check: Check,
    excluded: &[Vec<u8>],
    cache: &dyn DigestCache,
    fresh: &mut Vec<Hashed>,
) -> State {
    let meta = match check {
        Check::StatLink => fs::symlink_metadata(path),
        _ => fs::metadata(path),
    };
    let meta = match meta {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return State::Absent,
        // ENOTDIR: a path through a file does not exist either.
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => return State::Absent,
        Err(_) => return State::Unreadable,
    };
    let kind = meta.file_type();
    if kind.is_symlink() {
        return fs::read_link(path)
            .map_or(State::Unreadable, |t| State::Link(t.as_os_str().as_bytes().to_vec()));
    }
    if kind.is_dir() {
        return match check {
            Check::List => listing(path, excluded),
            _ => State::Dir,
        };
    }
    if !kind.is_file() {
        return State::Special(special(&kind));
    }
    match check {
        Check::Content | Check::List => content(path, meta, cache, fresh),
        Check::Stat | Check::StatLink => State::Meta {
            mode: meta.mode(),
            size: meta.size(),
            mtime_ns: meta.mtime().saturating_mul(1_000_000_000).saturating_add(meta.mtime_nsec()),
        },
    }
}

fn content(
    path: &Path,
    meta: fs::Metadata,
    cache: &dyn DigestCache,
    fresh: &mut Vec<Hashed>,
) -> State {
    let exec = meta.mode() & 0o111;
    if let Some(digest) = cache.lookup(path, &meta) {
        return State::Content(with_exec_bits(digest, exec));
    }
    match crate::key::hash_file(path) {
        Ok(digest) => {
            let path = path.to_path_buf();
            fresh.push(Hashed { path, meta, hashed_at: SystemTime::now(), digest });
            State::Content(with_exec_bits(digest, exec))
        }
        Err(_) => State::Unreadable,
    }
}

/// A file's digest with its execute bits folded in when it has any: an
/// exec obeys them (`chmod -x tool` makes `./tool` fail), so they are part
/// of what the command read. A plain file keeps its plain SHA-256.
fn with_exec_bits(digest: [u8; 32], exec: u32) -> [u8; 32] {
    if exec == 0 {
        return digest;
    }
    let mut hasher = Sha256::new();
    hasher.update(digest);
    hasher.update(exec.to_le_bytes());
    hasher.finalize().into()
}

/// SHA-256 of the sorted names in `dir`, less `excluded`.
fn listing(dir: &Path, excluded: &[Vec<u8>]) -> State {
    let Ok(entries) = fs::read_dir(dir) else { return State::Unreadable };
    let excluded: BTreeSet<&[u8]> = excluded.iter().map(Vec::as_slice).collect();
    let mut names: Vec<Vec<u8>> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().as_bytes().to_vec())
        .filter(|name| !excluded.contains(name.as_slice()))
        .collect();
    names.sort();
    let mut hasher = Sha256::new();
    for name in &names {
        hasher.update((name.len() as u64).to_le_bytes());
        hasher.update(name);
    }
    State::Listing {
        digest: hasher.finalize().into(),
        excluded: excluded.iter().map(|n| n.to_vec()).collect(),
    }
}

fn special(kind: &fs::FileType) -> u8 {
    if kind.is_fifo() {
        1
    } else if kind.is_socket() {
        2
    } else if kind.is_char_device() {
        3
    } else if kind.is_block_device() {
        4
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::NoCache;

    fn accesses(inputs: &[(&Path, Use)], outputs: &[&Path]) -> Accesses {
        let mut accesses = Accesses::default();
        for (path, used) in inputs {
            accesses.inputs.entry(path.to_path_buf()).or_default().insert(*used);
        }
        accesses.outputs = outputs.iter().map(|p| p.to_path_buf()).collect();
        accesses
    }

    #[test]
    fn a_manifest_matches_until_an_input_changes() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        fs::write(cwd.join("in.txt"), "one").unwrap();
        let ignore = Ignore::new(Path::new("/nonexistent-cache"), &[]).unwrap();
        let used = [
            (cwd.join("in.txt"), Use::Read),
            (cwd.join("later.txt"), Use::Stat),
            (cwd.to_path_buf(), Use::List),
        ];
        let inputs: Vec<(&Path, Use)> = used.iter().map(|(p, u)| (p.as_path(), *u)).collect();
        let out = cwd.join("out.o");
        let manifest = build(&accesses(&inputs, &[&out]), cwd, &ignore, &mut NoCache);
        assert_eq!(manifest.len(), 3);
        assert_eq!(manifest[1].path, b"in.txt");
        assert_eq!(mismatch(&manifest, cwd, &mut NoCache), None);
        // The run's own output appears in the listing: still a match.
        fs::write(&out, "obj").unwrap();
        assert_eq!(mismatch(&manifest, cwd, &mut NoCache), None);
        fs::write(cwd.join("later.txt"), "new").unwrap();
        assert_eq!(mismatch(&manifest, cwd, &mut NoCache).as_deref(), Some("."));
        fs::remove_file(cwd.join("later.txt")).unwrap();
        fs::write(cwd.join("in.txt"), "two").unwrap();
        assert_eq!(mismatch(&manifest, cwd, &mut NoCache).as_deref(), Some("in.txt"));
    }

    #[test]
    fn a_file_read_before_the_run_rewrote_it_stays_an_input() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        let ignore = Ignore::new(Path::new("/nonexistent-cache"), &[]).unwrap();
        let index = cwd.join("index");
        fs::write(&index, "rewritten by the run").unwrap();
        let mut touched = accesses(&[(&index, Use::Read)], &[]);
        touched.read_first.insert(index.clone());
        touched.outputs.insert(index.clone());
        let manifest = build(&touched, cwd, &ignore, &mut NoCache);
        assert_eq!(manifest.len(), 1);
        assert_eq!(mismatch(&manifest, cwd, &mut NoCache), None);
        fs::write(&index, "changed by someone else").unwrap();
        assert_eq!(mismatch(&manifest, cwd, &mut NoCache).as_deref(), Some("index"));
    }

    #[test]
    fn a_files_execute_bits_are_part_of_its_content() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("tool");
        fs::write(&tool, "#!/bin/sh\n").unwrap();
        let seen = || observe(&tool, Check::Content, &[], &NoCache, &mut Vec::new());
        let plain = seen();
        let digest: [u8; 32] = Sha256::digest(b"#!/bin/sh\n").into();
        assert_eq!(plain, State::Content(digest));
        fs::set_permissions(&tool, fs::Permissions::from_mode(0o755)).unwrap();
        let executable = seen();
        assert_ne!(executable, plain);
        fs::set_permissions(&tool, fs::Permissions::from_mode(0o700)).unwrap();
        assert_ne!(seen(), executable);
    }

    #[test]
    fn outputs_and_paths_under_them_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        let ignore = Ignore::new(Path::new("/nonexistent-cache"), &[]).unwrap();
        let (build_dir, obj) = (cwd.join("build"), cwd.join("build/a.o"));
        let manifest = build(
            &accesses(
                &[(&obj, Use::Read), (Path::new("/proc/self/maps"), Use::Read)],
                &[&build_dir],
            ),
            cwd,
            &ignore,
            &mut NoCache,
        );
        assert!(manifest.is_empty(), "{manifest:?}");
    }

    #[test]
    fn symlinks_are_followed_for_content_and_seen_for_lstat() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        fs::create_dir(cwd.join("a")).unwrap();
        fs::create_dir(cwd.join("b")).unwrap();
        fs::write(cwd.join("a/f"), "A").unwrap();
        fs::write(cwd.join("b/f"), "B").unwrap();
        std::os::unix::fs::symlink("a", cwd.join("link")).unwrap();
        let read = observe(&cwd.join("link/f"), Check::Content, &[], &NoCache, &mut Vec::new());
        let lstat = observe(&cwd.join("link"), Check::StatLink, &[], &NoCache, &mut Vec::new());
        assert_eq!(lstat, State::Link(b"a".to_vec()));
        fs::remove_file(cwd.join("link")).unwrap();
        std::os::unix::fs::symlink("b", cwd.join("link")).unwrap();
        assert_ne!(
            observe(&cwd.join("link/f"), Check::Content, &[], &NoCache, &mut Vec::new()),
            read
        );
        let through_file = observe(&cwd.join("a/f/x"), Check::Stat, &[], &NoCache, &mut Vec::new());
        assert_eq!(through_file, State::Absent);
    }
}
