//! Paths as the tracer sees them: a system call's argument joined to the
//! directory it is relative to (the process's cwd then, or a directory
//! descriptor), and the rules that leave a path out of a manifest.
//!
//! Normalisation is lexical and keeps `..`: `a/link/../b` is not `a/b` when
//! `link` is a symlink, and the check re-resolves the path as written.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

/// Always left out: kernel and device trees say nothing about a command's
/// inputs, and reading them to check would have side effects.
const FIXED: [&str; 3] = ["/proc", "/sys", "/dev"];

/// `--trace-ignore` defaults: run-time state (sockets, pid files) that
/// changes on every boot.
pub const DEFAULT_IGNORES: [&str; 2] = ["/run/**", "/var/run/**"];

/// `base` joined with `raw` (absolute `raw` stands alone), with `.` and
/// repeated slashes removed.
pub fn join(base: &Path, raw: &[u8]) -> PathBuf {
    let raw = Path::new(OsStr::from_bytes(raw));
    let joined = if raw.is_absolute() { raw.to_path_buf() } else { base.join(raw) };
    // `components` drops `.` (except leading) and empty parts; keeps `..`.
    joined.components().collect()
}

/// Whether `path` is `prefix` or below it.
pub fn is_under(path: &Path, prefix: &Path) -> bool {
    path.starts_with(prefix)
}

/// How a path is stored: relative to `cwd` when under it (so two checkouts
/// share entries), else absolute.
pub fn stored(path: &Path, cwd: &Path) -> Vec<u8> {
    match path.strip_prefix(cwd) {
        Ok(rest) if rest.as_os_str().is_empty() => b".".to_vec(),
        Ok(rest) => rest.as_os_str().as_bytes().to_vec(),
        Err(_) => path.as_os_str().as_bytes().to_vec(),
    }
}

/// The path a stored one names from `cwd`.
pub fn resolve(stored: &[u8], cwd: &Path) -> PathBuf {
    let path = Path::new(OsStr::from_bytes(stored));
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    }
}

/// Where a path with `..` leads: resolved by the file system as far as it
/// exists (a `..` after a symlink climbs from the link's target), then
/// lexically for the rest.
fn physical(path: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut existing = path;
    loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            let mut out = real;
            for part in rest.iter().rev() {
                match part {
                    Component::ParentDir => {
                        out.pop();
                    }
                    other => out.push(other),
                }
            }
            return out;
        }
        match (existing.parent(), existing.components().next_back()) {
            (Some(parent), Some(last)) => {
                rest.push(last);
                existing = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// Paths left out of manifests: the fixed trees, the cache directory and
/// the `--trace-ignore` globs (matched against the absolute path, and
/// against the path relative to the cwd when under it).
#[derive(Debug, Clone)]
pub struct Ignore {
    cache_dir: PathBuf,
    globs: GlobSet,
}

impl Ignore {
    pub fn new(cache_dir: &Path, patterns: &[String]) -> Result<Ignore, String> {
        let mut builder = GlobSetBuilder::new();
        for pattern in DEFAULT_IGNORES.iter().copied().chain(patterns.iter().map(String::as_str)) {
            let glob = Glob::new(pattern)
                .map_err(|e| format!("--trace-ignore '{pattern}': {}", e.kind()))?;
            builder.add(glob);
        }
        let globs = builder.build().map_err(|e| format!("--trace-ignore: {e}"))?;
        Ok(Ignore { cache_dir: cache_dir.to_path_buf(), globs })
    }

    pub fn ignores(&self, path: &Path, cwd: &Path) -> bool {
        if path.components().any(|part| part == Component::ParentDir) {
            // `/dev/../home/u/f` is not under /dev: judge where it leads.
            return self.ignores_resolved(&physical(path), cwd);
        }
        self.ignores_resolved(path, cwd)
    }

    fn ignores_resolved(&self, path: &Path, cwd: &Path) -> bool {
        FIXED.iter().any(|fixed| is_under(path, Path::new(fixed)))
            || is_under(path, &self.cache_dir)
            || self.globs.is_match(path)
            || path.strip_prefix(cwd).is_ok_and(|rest| self.globs.is_match(rest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_resolve_against_the_base_and_keep_dot_dot() {
        assert_eq!(join(Path::new("/w"), b"a/./b//c"), Path::new("/w/a/b/c"));
        assert_eq!(join(Path::new("/w"), b"/etc/x"), Path::new("/etc/x"));
        assert_eq!(join(Path::new("/w/d"), b"../x"), Path::new("/w/d/../x"));
        assert_eq!(join(Path::new("/w"), b""), Path::new("/w"));
        assert_eq!(join(Path::new("/w"), b"."), Path::new("/w"));
    }

    #[test]
    fn paths_under_the_cwd_are_stored_relative() {
        let cwd = Path::new("/src/proj");
        assert_eq!(stored(Path::new("/src/proj/a/b"), cwd), b"a/b");
        assert_eq!(stored(Path::new("/src/proj"), cwd), b".");
        assert_eq!(stored(Path::new("/src/project"), cwd), b"/src/project");
        assert_eq!(resolve(b"a/b", Path::new("/other")), Path::new("/other/a/b"));
        assert_eq!(resolve(b".", Path::new("/other")), Path::new("/other/."));
        assert_eq!(resolve(b"/etc/x", Path::new("/other")), Path::new("/etc/x"));
    }

    #[test]
    fn fixed_trees_the_cache_and_globs_are_ignored() {
        let patterns = vec!["*.log".to_string(), "/opt/**".to_string()];
        let ignore = Ignore::new(Path::new("/home/u/.cache/cachecmd"), &patterns).unwrap();
        let cwd = Path::new("/w");
        assert!(ignore.ignores(Path::new("/proc/self/maps"), cwd));
        assert!(ignore.ignores(Path::new("/dev/null"), cwd));
        assert!(ignore.ignores(Path::new("/home/u/.cache/cachecmd/v1/x"), cwd));
        assert!(ignore.ignores(Path::new("/w/build.log"), cwd));
        assert!(ignore.ignores(Path::new("/opt/tool/bin"), cwd));
        assert!(ignore.ignores(Path::new("/run/user/1/bus"), cwd));
        assert!(!ignore.ignores(Path::new("/w/src/main.c"), cwd));
        assert!(!ignore.ignores(Path::new("/device"), cwd));
        assert!(Ignore::new(Path::new("/c"), &["a[".to_string()]).is_err());
    }

    #[test]
    fn a_path_climbing_out_of_an_ignored_tree_is_judged_where_it_leads() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(cwd.join("gen")).unwrap();
        let ignore = Ignore::new(Path::new("/nonexistent-cache"), &["gen/**".into()]).unwrap();
        let escaping = Path::new("/dev/..").join(cwd.strip_prefix("/").unwrap()).join("f");
        assert!(!ignore.ignores(&escaping, &cwd));
        assert!(!ignore.ignores(&cwd.join("gen/../src/a.c"), &cwd));
        assert!(!ignore.ignores(&cwd.join("gen/missing/../../src/a.c"), &cwd));
        assert!(ignore.ignores(&cwd.join("src/../gen/x"), &cwd));
        assert!(ignore.ignores(Path::new("/proc/self/../1/maps"), &cwd));
    }
}
