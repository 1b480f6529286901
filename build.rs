//! Links the `cachecmd` binary statically where the target allows it.
//!
//! A hit is a tiny process, and a dynamic one spends about as long in the
//! loader (mapping libc and libgcc_s, binding symbols) as in its own work:
//! static, a 4 KiB hit costs about what `cat` costs. `-C
//! target-feature=+crt-static` would do it, but set through RUSTFLAGS or
//! `.cargo/config.toml` it also reaches proc-macros (which cannot be
//! static) unless every build names `--target`. So the binary alone gets
//! linker arguments (`rustc-link-arg-bins`; tests, proc-macros and build
//! scripts are untouched):
//!
//! - `-static -no-pie` makes the C compiler driver pick the static start
//!   files and link a fixed-address executable: a static PIE would first
//!   relocate itself (about 6,800 relocations, 90 k instructions and a
//!   copy of every relocated page: as much as the rest of a hit), while a
//!   fixed-address one starts at `main`. The price is that the binary's own
//!   code is not randomised (as with Go's static binaries); the stack, heap
//!   and mappings still are;
//! - rustc still asks for `-lgcc_s -lc` (and libm, ...) after
//!   `-Bdynamic`, so a directory searched before the system ones holds
//!   linker scripts of those names that point at the static archives;
//! - `-z nodynamic-undefined-weak` resolves std's optional weak symbols
//!   (statx, gettid, ...) at link time, as a fully static link does.
//!
//! Only when building for the host on x86_64/aarch64 glibc Linux and the C
//! compiler can find `libc.a` (Fedora needs glibc-static); anywhere else, or
//! with `CACHECMD_DYNAMIC=1`, the link stays dynamic.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CACHECMD_DYNAMIC");
    println!("cargo:rerun-if-env-changed=CC");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let wanted = var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && matches!(var("CARGO_CFG_TARGET_ARCH").as_str(), "x86_64" | "aarch64")
        && var("TARGET") == var("HOST")
        && var("CACHECMD_DYNAMIC") != "1";
    if !wanted {
        return;
    }
    let Some(libc) = archive("libc.a") else { return };
    let (Some(gcc_eh), Some(gcc)) = (archive("libgcc_eh.a"), archive("libgcc.a")) else { return };
    let dir = PathBuf::from(var("OUT_DIR")).join("static");
    let unwind = format!("{} {}", gcc_eh.display(), gcc.display());
    let mut scripts = vec![
        ("libgcc_s.so".to_owned(), format!("INPUT({unwind})\n")),
        ("libc.so".to_owned(), format!("GROUP({} {unwind})\n", libc.display())),
    ];
    for name in ["m", "dl", "pthread", "rt", "util"] {
        // glibc 2.34+ keeps these as (nearly) empty archives; an absent one
        // is simply not shadowed.
        if let Some(path) = archive(&format!("lib{name}.a")) {
            scripts.push((format!("lib{name}.so"), format!("INPUT({})\n", path.display())));
        }
    }
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        scripts.iter().try_for_each(|(name, text)| std::fs::write(dir.join(name), text))
    });
    if written.is_err() {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-no-pie");
    println!("cargo:rustc-link-arg-bins=-static");
    println!("cargo:rustc-link-arg-bins=-Wl,-z,nodynamic-undefined-weak");
    println!("cargo:rustc-link-arg-bins=-L{}", dir.display());
}

/// The absolute path of a library archive the C compiler links, if it has it.
fn archive(name: &str) -> Option<PathBuf> {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let out = Command::new(cc).arg(format!("-print-file-name={name}")).output().ok()?;
    let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    // Not found, the driver echoes the bare name back.
    (path.is_absolute() && Path::new(&path).is_file()).then(|| path.canonicalize().unwrap_or(path))
}
