//! Automatic input discovery (`--trace-inputs`): the command runs under a
//! tracer that records every path it and its descendants open, stat,
//! execute or list, and the entry is served later only while every one of
//! those inputs is as it was.
//!
//! Linux only: a seccomp-bpf filter (`filter`) makes only the file-related
//! system calls stop the tracee (`SECCOMP_RET_TRACE`), and a ptrace
//! process (`spawn`, `tracer`, reporting through `wire`) decodes them
//! (`decode`, `paths`); no LD_PRELOAD, so static programs are traced too. A
//! manifest (`manifest`) holds what was found; `observe` reads the state of
//! its paths through the stat cache. The raw calls are in `sys`.

mod decode;
mod filter;
pub mod manifest;
pub mod observe;
pub mod paths;
mod shebang;
pub mod spawn;
mod sys;
pub mod tracer;
mod wire;

pub use tracer::{is_setid, Accesses};

/// Why the command cannot be traced before it starts, or `None`: a
/// set-user-ID program would lose its privileges under a tracer that is not
/// root, so it runs untraced instead.
pub fn refuse(program: &std::ffi::OsStr) -> Option<String> {
    if !cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
        return Some("tracing is not supported on this architecture".into());
    }
    if sys::is_root() {
        return None;
    }
    let found = crate::program::locate(program)?;
    is_setid(&found).then(|| format!("{} is set-user-ID or set-group-ID", found.display()))
}
