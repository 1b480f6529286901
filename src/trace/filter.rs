//! The seccomp-bpf program: which system calls stop the tracee
//! (`SECCOMP_RET_TRACE`) and which run at full speed. Only calls that name
//! a path, list a directory or change the working directory stop; so does
//! every call of a foreign ABI (a 32-bit program, x32), which the tracer
//! cannot decode and treats as an incomplete trace.
//!
//! `fstat` is `newfstatat(fd, "", AT_EMPTY_PATH)` (and `statx` likewise) in
//! the C libraries: those calls name no path and would stop on every file a
//! program reads, so the filter lets them through by their flags.

use super::sys::Filter;

/// The architecture the tracer decodes (`AUDIT_ARCH_*`).
#[cfg(target_arch = "x86_64")]
pub const ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
pub const ARCH: u32 = 0xC000_00B7;
/// Elsewhere tracing is refused before it starts (`trace::refuse`).
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub const ARCH: u32 = 0;

/// x32 system calls share x86-64's arch value; their numbers carry this bit.
const X32_BIT: u32 = 0x4000_0000;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
const SECCOMP_RET_TRACE: u32 = 0x7ff0_0000;
const AT_EMPTY_PATH: u32 = 0x1000;

/// Offsets in `struct seccomp_data`.
const NR_OFFSET: u32 = 0;
const ARCH_OFFSET: u32 = 4;
/// The low 32 bits of argument `n` (little-endian).
const fn arg_offset(n: u32) -> u32 {
    16 + 8 * n
}

/// System calls that stop the tracee (none where tracing is refused).
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub fn traced_calls() -> Vec<u32> {
    Vec::new()
}

/// System calls that stop the tracee.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub fn traced_calls() -> Vec<u32> {
    let mut calls = vec![
        libc::SYS_openat,
        libc::SYS_openat2,
        libc::SYS_newfstatat,
        libc::SYS_statx,
        libc::SYS_faccessat,
        libc::SYS_faccessat2,
        libc::SYS_readlinkat,
        libc::SYS_execve,
        libc::SYS_execveat,
        libc::SYS_getdents64,
        libc::SYS_chdir,
        libc::SYS_fchdir,
        libc::SYS_renameat,
        libc::SYS_renameat2,
        libc::SYS_unlinkat,
        libc::SYS_mkdirat,
        libc::SYS_linkat,
        libc::SYS_symlinkat,
        libc::SYS_truncate,
        libc::SYS_mknodat,
        // Not decoded, so they make the trace incomplete (the run is not
        // cached) rather than silently missing inputs: io_uring opens and
        // reads files without a system call per file, open_by_handle_at
        // names no path, chroot changes what every later path means.
        libc::SYS_io_uring_setup,
        libc::SYS_open_by_handle_at,
        libc::SYS_chroot,
    ];
    #[cfg(target_arch = "x86_64")]
    calls.extend([
        libc::SYS_open,
        libc::SYS_creat,
        libc::SYS_stat,
        libc::SYS_lstat,
        libc::SYS_access,
        libc::SYS_readlink,
        libc::SYS_getdents,
        libc::SYS_rename,
        libc::SYS_unlink,
        libc::SYS_mkdir,
        libc::SYS_rmdir,
        libc::SYS_link,
        libc::SYS_symlink,
        libc::SYS_mknod,
    ]);
    calls.into_iter().map(|nr| nr as u32).collect()
}

fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter { code: code as u16, jt: 0, jf: 0, k }
}

fn jump(code: u32, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code: code as u16, jt, jf, k }
}

/// The program. Layout: arch check; x32 check; the two flag checks for the
/// fstat forms; one comparison per traced call, each jumping to the final
/// `TRACE`; `ALLOW` when none matched.
pub fn build() -> Filter {
    use libc::{BPF_ABS, BPF_JEQ, BPF_JGE, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_RET, BPF_W};
    let load = BPF_LD | BPF_W | BPF_ABS;
    let (jeq, jge, jset) =
        (BPF_JMP | BPF_JEQ | BPF_K, BPF_JMP | BPF_JGE | BPF_K, BPF_JMP | BPF_JSET | BPF_K);
    let ret = BPF_RET | BPF_K;
    let calls = traced_calls();
    let mut program = vec![
        stmt(load, ARCH_OFFSET),
        jump(jeq, ARCH, 1, 0),
        stmt(ret, SECCOMP_RET_TRACE),
        stmt(load, NR_OFFSET),
        jump(jge, X32_BIT, 0, 1),
        stmt(ret, SECCOMP_RET_TRACE),
    ];
    // newfstatat(fd, path, buf, flags) and statx(fd, path, flags, ...)
    // with AT_EMPTY_PATH: an fstat, allowed.
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    for (nr, flags_arg) in [(libc::SYS_newfstatat as u32, 3), (libc::SYS_statx as u32, 2)] {
        program.extend([
            jump(jeq, nr, 0, 4),
            stmt(load, arg_offset(flags_arg)),
            jump(jset, AT_EMPTY_PATH, 0, 1),
            stmt(ret, SECCOMP_RET_ALLOW),
            stmt(ret, SECCOMP_RET_TRACE),
        ]);
    }
    let count = calls.len();
    for (i, nr) in calls.into_iter().enumerate() {
        // Past the remaining comparisons and the ALLOW, to the TRACE.
        let skip = u8::try_from(count - i).unwrap_or(u8::MAX);
        program.push(jump(jeq, nr, skip, 0));
    }
    program.push(stmt(ret, SECCOMP_RET_ALLOW));
    program.push(stmt(ret, SECCOMP_RET_TRACE));
    Filter(program)
}

#[cfg(all(test, any(target_arch = "x86_64", target_arch = "aarch64")))]
mod tests {
    use super::*;

    /// A small interpreter for the instructions `build` uses, to check the
    /// program's decisions without installing it.
    fn run(program: &[libc::sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        let mut data = [0u8; 64];
        data[0..4].copy_from_slice(&nr.to_le_bytes());
        data[4..8].copy_from_slice(&arch.to_le_bytes());
        for (i, arg) in args.iter().enumerate() {
            data[16 + 8 * i..24 + 8 * i].copy_from_slice(&arg.to_le_bytes());
        }
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let insn = program[pc];
            let code = u32::from(insn.code);
            pc += 1;
            match code {
                c if c == libc::BPF_LD | libc::BPF_W | libc::BPF_ABS => {
                    let at = insn.k as usize;
                    acc = u32::from_le_bytes(data[at..at + 4].try_into().unwrap());
                }
                c if c == libc::BPF_RET | libc::BPF_K => return insn.k,
                c => {
                    let taken = match c & 0xf0 {
                        x if x == libc::BPF_JEQ => acc == insn.k,
                        x if x == libc::BPF_JGE => acc >= insn.k,
                        x if x == libc::BPF_JSET => acc & insn.k != 0,
                        _ => panic!("unexpected instruction {c:#x}"),
                    };
                    pc += usize::from(if taken { insn.jt } else { insn.jf });
                }
            }
        }
    }

    #[test]
    fn file_calls_stop_and_others_run() {
        let program = build().0;
        let decide = |nr: i64, args| run(&program, ARCH, nr as u32, args);
        assert_eq!(decide(libc::SYS_openat, [0; 6]), SECCOMP_RET_TRACE);
        assert_eq!(decide(libc::SYS_execve, [0; 6]), SECCOMP_RET_TRACE);
        assert_eq!(decide(libc::SYS_getdents64, [0; 6]), SECCOMP_RET_TRACE);
        assert_eq!(decide(libc::SYS_mknodat, [0; 6]), SECCOMP_RET_TRACE);
        assert_eq!(decide(libc::SYS_io_uring_setup, [0; 6]), SECCOMP_RET_TRACE);
        assert_eq!(decide(libc::SYS_read, [0; 6]), SECCOMP_RET_ALLOW);
        assert_eq!(decide(libc::SYS_write, [0; 6]), SECCOMP_RET_ALLOW);
        assert_eq!(decide(libc::SYS_newfstatat, [0; 6]), SECCOMP_RET_TRACE);
        let fstat = [3, 0, 0, u64::from(AT_EMPTY_PATH), 0, 0];
        assert_eq!(decide(libc::SYS_newfstatat, fstat), SECCOMP_RET_ALLOW);
        let statx_fd = [3, 0, u64::from(AT_EMPTY_PATH), 0, 0, 0];
        assert_eq!(decide(libc::SYS_statx, statx_fd), SECCOMP_RET_ALLOW);
        assert_eq!(decide(libc::SYS_statx, [0; 6]), SECCOMP_RET_TRACE);
    }

    #[test]
    fn foreign_abis_always_stop() {
        let program = build().0;
        assert_eq!(run(&program, 0x4000_0003, 3, [0; 6]), SECCOMP_RET_TRACE);
        let x32_read = X32_BIT | libc::SYS_read as u32;
        assert_eq!(run(&program, ARCH, x32_read, [0; 6]), SECCOMP_RET_TRACE);
    }

    #[test]
    fn every_traced_call_stops() {
        let program = build().0;
        for nr in traced_calls() {
            assert_eq!(run(&program, ARCH, nr, [0; 6]), SECCOMP_RET_TRACE, "{nr}");
        }
    }
}
