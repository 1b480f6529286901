//! The `cachecmd` binary.
//!
//! A hit must cost about what `cat` costs, and most of a tiny process's
//! time is start-up. std's runtime start-up (stack-guard discovery through
//! /proc/self/maps, an alternate signal stack, SIGSEGV/SIGBUS handlers) is
//! about twenty syscalls that a short-lived CLI does not need, so we provide
//! the C `main` ourselves and do just the two parts we rely on: SIGPIPE
//! ignored, and descriptors 0-2 open (see `cachecmd::startup`).
//! `std::env::args_os` still works: glibc hands argv to std's init hook.

#![no_main]

use std::ffi::{c_char, c_int};

#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    cachecmd::startup();
    cachecmd::run_cli()
}
