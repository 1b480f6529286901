//! What a stopped system call does to the file system, from its number and
//! arguments alone: which paths it reads (an input) or writes (an output),
//! and against which directory a relative path resolves. Pointers are left
//! as addresses; the tracer reads the strings.

use super::sys::SyscallStop;

/// `AT_FDCWD` as the kernel sees a 32-bit descriptor argument.
pub const AT_FDCWD: i32 = -100;
const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
const AT_EMPTY_PATH: u64 = 0x1000;
const O_ACCMODE: u64 = 0o3;
const O_CREAT: u64 = 0o100;
const O_TRUNC: u64 = 0o1000;

/// How an input was used; the manifest records each differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Use {
    /// Opened for reading or executed: its content matters.
    Read,
    /// Looked at (stat, access, readlink): its type and metadata matter.
    Stat,
    /// `lstat` and friends: the link itself, not its target.
    StatLink,
    /// Listed (getdents on a descriptor of it).
    List,
}

/// A path argument: the directory descriptor it is relative to, and the
/// address of its string in the tracee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathArg {
    pub dirfd: i32,
    pub addr: u64,
}

/// The effect of one system call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Input(PathArg, Use),
    /// Written, created, truncated, renamed or removed: an output.
    Output(Vec<PathArg>),
    /// Created only if it does not exist yet (`mkdir`, `mknod`, `symlink`,
    /// a hard link's new name): an output unless the path already exists,
    /// when the call fails with EEXIST and leaves it untouched (`mkdir -p
    /// build` on an existing `build` must not hide what is in it).
    Create(PathArg),
    /// Opened for writing without truncation: an output, but what it held
    /// before survives (`sqlite3 db` opens `db` read-write to query it),
    /// so when it existed already it stays an input too.
    Update(PathArg),
    /// `link(old, new)`: `new` is created (as [`Op::Create`]) with the
    /// content of `old`, which is read, not written.
    Link(PathArg, PathArg),
    /// Listing the directory open on this descriptor.
    List(i32),
    /// The working directory may change.
    Chdir,
    /// Something the tracer cannot account for (an unknown call, a foreign
    /// ABI): the trace is incomplete.
    Unknown,
    /// Nothing to record (an fstat of an open descriptor).
    Nothing,
}

fn fd(arg: u64) -> i32 {
    arg as u32 as i32
}

fn at(dirfd: u64, addr: u64) -> PathArg {
    PathArg { dirfd: fd(dirfd), addr }
}

fn cwd(addr: u64) -> PathArg {
    PathArg { dirfd: AT_FDCWD, addr }
}

/// An open is an output when it may write or create, else a read of the
/// content, `O_NOFOLLOW` or not (`tar` and `cp -r` read every file that
/// way: checking only size and mtime would miss a rewrite that keeps both).
fn open(path: PathArg, flags: u64) -> Op {
    if flags & O_TRUNC != 0 {
        Op::Output(vec![path])
    } else if flags & O_ACCMODE != 0 || flags & O_CREAT != 0 {
        Op::Update(path)
    } else {
        Op::Input(path, Use::Read)
    }
}

fn stat_at(path: PathArg, flags: u64) -> Op {
    if flags & AT_SYMLINK_NOFOLLOW != 0 {
        Op::Input(path, Use::StatLink)
    } else {
        Op::Input(path, Use::Stat)
    }
}

/// Decodes nothing where tracing is refused before it starts.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub fn decode(_: &SyscallStop) -> Op {
    Op::Unknown
}

/// Decodes a stop of the architecture the filter was built for.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub fn decode(stop: &SyscallStop) -> Op {
    if stop.arch != super::filter::ARCH {
        return Op::Unknown;
    }
    let a = stop.args;
    let nr = stop.nr as i64;
    if let Some(op) = legacy(nr, &a) {
        return op;
    }
    match nr {
        libc::SYS_openat => open(at(a[0], a[1]), a[2]),
        // openat2(dirfd, path, struct open_how *how, size): `how.flags`
        // is read by the tracer; conservatively an output here means the
        // path is left out of the manifest, so decode it as a read and let
        // the tracer refine it.
        libc::SYS_openat2 => Op::Input(at(a[0], a[1]), Use::Read),
        libc::SYS_newfstatat if a[3] & AT_EMPTY_PATH != 0 => Op::Nothing,
        libc::SYS_newfstatat => stat_at(at(a[0], a[1]), a[3]),
        libc::SYS_statx if a[2] & AT_EMPTY_PATH != 0 => Op::Nothing,
        libc::SYS_statx => stat_at(at(a[0], a[1]), a[2]),
        libc::SYS_faccessat | libc::SYS_faccessat2 => Op::Input(at(a[0], a[1]), Use::Stat),
        libc::SYS_readlinkat => Op::Input(at(a[0], a[1]), Use::StatLink),
        libc::SYS_execve => Op::Input(cwd(a[0]), Use::Read),
        libc::SYS_execveat => Op::Input(at(a[0], a[1]), Use::Read),
        libc::SYS_getdents64 => Op::List(fd(a[0])),
        libc::SYS_chdir | libc::SYS_fchdir => Op::Chdir,
        libc::SYS_renameat | libc::SYS_renameat2 => {
            Op::Output(vec![at(a[0], a[1]), at(a[2], a[3])])
        }
        libc::SYS_linkat => Op::Link(at(a[0], a[1]), at(a[2], a[3])),
        libc::SYS_unlinkat => Op::Output(vec![at(a[0], a[1])]),
        libc::SYS_mkdirat | libc::SYS_mknodat => Op::Create(at(a[0], a[1])),
        libc::SYS_symlinkat => Op::Create(at(a[1], a[2])),
        libc::SYS_truncate => Op::Output(vec![cwd(a[0])]),
        _ => Op::Unknown,
    }
}

/// The x86-64 calls without an `at` form.
#[cfg(target_arch = "x86_64")]
fn legacy(nr: i64, a: &[u64; 6]) -> Option<Op> {
    Some(match nr {
        libc::SYS_open => open(cwd(a[0]), a[1]),
        libc::SYS_creat => Op::Output(vec![cwd(a[0])]),
        libc::SYS_stat | libc::SYS_access => Op::Input(cwd(a[0]), Use::Stat),
        libc::SYS_lstat | libc::SYS_readlink => Op::Input(cwd(a[0]), Use::StatLink),
        libc::SYS_getdents => Op::List(fd(a[0])),
        libc::SYS_rename => Op::Output(vec![cwd(a[0]), cwd(a[1])]),
        libc::SYS_link => Op::Link(cwd(a[0]), cwd(a[1])),
        libc::SYS_unlink | libc::SYS_rmdir => Op::Output(vec![cwd(a[0])]),
        libc::SYS_mkdir | libc::SYS_mknod => Op::Create(cwd(a[0])),
        libc::SYS_symlink => Op::Create(cwd(a[1])),
        _ => return None,
    })
}

#[cfg(target_arch = "aarch64")]
fn legacy(_: i64, _: &[u64; 6]) -> Option<Op> {
    None
}

/// `open_how.flags` of openat2, read by the tracer, decided like open's.
pub fn openat2_flags(path: PathArg, flags: u64) -> Op {
    open(path, flags)
}

#[cfg(all(test, any(target_arch = "x86_64", target_arch = "aarch64")))]
mod tests {
    use super::*;

    fn stop(nr: i64, args: [u64; 6]) -> SyscallStop {
        SyscallStop { arch: super::super::filter::ARCH, nr: nr as u64, args }
    }

    const FDCWD: u64 = AT_FDCWD as u32 as u64;

    #[test]
    fn opens_are_inputs_or_outputs_by_their_flags() {
        let read = decode(&stop(libc::SYS_openat, [FDCWD, 0x10, 0, 0, 0, 0]));
        assert_eq!(read, Op::Input(PathArg { dirfd: AT_FDCWD, addr: 0x10 }, Use::Read));
        let nofollow = libc::O_NOFOLLOW as u64;
        let read = decode(&stop(libc::SYS_openat, [FDCWD, 0x10, nofollow, 0, 0, 0]));
        assert_eq!(read, Op::Input(PathArg { dirfd: AT_FDCWD, addr: 0x10 }, Use::Read));
        for flags in [O_TRUNC, 1 | O_TRUNC, 0o101 | O_TRUNC] {
            let op = decode(&stop(libc::SYS_openat, [5, 0x10, flags, 0, 0, 0]));
            assert_eq!(op, Op::Output(vec![PathArg { dirfd: 5, addr: 0x10 }]), "{flags:o}");
        }
        for flags in [1, 2, O_CREAT, 0o102] {
            let op = decode(&stop(libc::SYS_openat, [5, 0x10, flags, 0, 0, 0]));
            assert_eq!(op, Op::Update(PathArg { dirfd: 5, addr: 0x10 }), "{flags:o}");
        }
    }

    #[test]
    fn stats_follow_or_not_and_fstat_is_nothing() {
        let stat = decode(&stop(libc::SYS_newfstatat, [FDCWD, 0x20, 0, 0, 0, 0]));
        assert!(matches!(stat, Op::Input(_, Use::Stat)));
        let lstat =
            decode(&stop(libc::SYS_newfstatat, [FDCWD, 0x20, 0, AT_SYMLINK_NOFOLLOW, 0, 0]));
        assert!(matches!(lstat, Op::Input(_, Use::StatLink)));
        let fstat = decode(&stop(libc::SYS_newfstatat, [3, 0x20, 0, AT_EMPTY_PATH, 0, 0]));
        assert_eq!(fstat, Op::Nothing);
        let statx = decode(&stop(libc::SYS_statx, [FDCWD, 0x20, AT_SYMLINK_NOFOLLOW, 0, 0, 0]));
        assert!(matches!(statx, Op::Input(_, Use::StatLink)));
    }

    #[test]
    fn renames_name_both_paths_and_exec_reads() {
        let op = decode(&stop(libc::SYS_renameat2, [3, 0x1, 4, 0x2, 0, 0]));
        let paths = vec![PathArg { dirfd: 3, addr: 1 }, PathArg { dirfd: 4, addr: 2 }];
        assert_eq!(op, Op::Output(paths));
        let exec = decode(&stop(libc::SYS_execve, [0x30, 0, 0, 0, 0, 0]));
        assert_eq!(exec, Op::Input(PathArg { dirfd: AT_FDCWD, addr: 0x30 }, Use::Read));
        assert_eq!(decode(&stop(libc::SYS_getdents64, [7, 0, 0, 0, 0, 0])), Op::List(7));
        assert_eq!(decode(&stop(libc::SYS_fchdir, [7, 0, 0, 0, 0, 0])), Op::Chdir);
    }

    #[test]
    fn exclusive_creates_and_links_are_told_apart_from_writes() {
        let mkdir = decode(&stop(libc::SYS_mkdirat, [3, 0x1, 0o755, 0, 0, 0]));
        assert_eq!(mkdir, Op::Create(PathArg { dirfd: 3, addr: 1 }));
        let symlink = decode(&stop(libc::SYS_symlinkat, [0x1, 4, 0x2, 0, 0, 0]));
        assert_eq!(symlink, Op::Create(PathArg { dirfd: 4, addr: 2 }));
        let link = decode(&stop(libc::SYS_linkat, [3, 0x1, 4, 0x2, 0, 0]));
        let (old, new) = (PathArg { dirfd: 3, addr: 1 }, PathArg { dirfd: 4, addr: 2 });
        assert_eq!(link, Op::Link(old, new));
        let unlink = decode(&stop(libc::SYS_unlinkat, [3, 0x1, 0, 0, 0, 0]));
        assert_eq!(unlink, Op::Output(vec![PathArg { dirfd: 3, addr: 1 }]));
    }

    #[test]
    fn foreign_and_unknown_calls_make_the_trace_incomplete() {
        let foreign = SyscallStop { arch: 0x4000_0003, nr: 5, args: [0; 6] };
        assert_eq!(decode(&foreign), Op::Unknown);
        assert_eq!(decode(&stop(libc::SYS_read, [0; 6])), Op::Unknown);
        for nr in [libc::SYS_io_uring_setup, libc::SYS_open_by_handle_at, libc::SYS_chroot] {
            assert_eq!(decode(&stop(nr, [0; 6])), Op::Unknown, "{nr}");
        }
    }
}
