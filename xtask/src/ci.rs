//! `cargo xtask ci`: the one command that checks a change, run by `.ci/run`
//! and by contributors alike, so CI checks exactly what a contributor runs.
//!
//! It installs the tools the tests call when it can (as root, through
//! apt-get; otherwise it prints the one command to run and stops), then runs
//! the lint gates, a build and test without default features, and the whole
//! test suite. Root-only tests (`#[ignore = "needs root"]`) run too when we
//! are root.

use std::process::Command;

/// A program the tests call, and the Debian package that provides it.
struct Tool {
    program: &'static str,
    package: &'static str,
    why: &'static str,
}

const TOOLS: &[Tool] = &[
    Tool { program: "zsh", package: "zsh", why: "completion tests" },
    Tool { program: "fish", package: "fish", why: "completion tests" },
    Tool { program: "mandoc", package: "mandoc", why: "man page lint" },
    Tool { program: "redis-server", package: "redis-server", why: "Redis tier tests" },
    Tool { program: "openssl", package: "openssl", why: "TLS certificates for rediss:// tests" },
    Tool { program: "setpriv", package: "util-linux", why: "fault tests as another user" },
    Tool { program: "prlimit", package: "util-linux", why: "fault tests with resource limits" },
    Tool { program: "python3", package: "python3", why: "non-blocking pipe tests" },
];

/// One step of the run: a program and its arguments.
struct Step {
    what: &'static str,
    argv: Vec<String>,
}

pub fn run() -> Result<(), String> {
    install_tools()?;
    let root = is_root();
    let mut steps = vec![
        Step { what: "formatting", argv: words("cargo fmt --all -- --check") },
        Step {
            what: "lints",
            argv: words(
                "cargo clippy --locked --workspace --all-targets --all-features -- -D warnings",
            ),
        },
        Step {
            what: "build and tests without default features (no Redis tier)",
            argv: words("cargo test --locked --no-default-features --package cachecmd"),
        },
    ];
    let mut suite = words("cargo test --locked --workspace");
    if root {
        suite.extend(words("-- --include-ignored"));
    }
    steps.push(Step { what: "the whole test suite", argv: suite });
    for step in &steps {
        eprintln!("xtask ci: {} ({})", step.what, step.argv.join(" "));
        let status = Command::new(&step.argv[0])
            .args(&step.argv[1..])
            .current_dir(xtask::workspace_root())
            .status()
            .map_err(|e| format!("{}: {e}", step.argv[0]))?;
        if !status.success() {
            return Err(format!("{} failed ({status})", step.what));
        }
    }
    if !root {
        eprintln!("xtask ci: root-only tests were not run (they run as root: sudo cargo xtask ci)");
    }
    Ok(())
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Installs the missing tools with apt-get when we may; otherwise names the
/// one command that would, and fails: the tests fail rather than skip when a
/// tool is missing, so running them without it would only waste time.
fn install_tools() -> Result<(), String> {
    let missing: Vec<&Tool> = TOOLS.iter().filter(|tool| !on_path(tool.program)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut packages: Vec<&str> = missing.iter().map(|tool| tool.package).collect();
    packages.dedup();
    for tool in &missing {
        eprintln!("xtask ci: missing {} ({})", tool.program, tool.why);
    }
    let install = format!("apt-get install -y {}", packages.join(" "));
    if !is_root() || !on_path("apt-get") {
        return Err(format!(
            "install the missing tools first: sudo apt-get update && sudo {install}"
        ));
    }
    for argv in [words("apt-get update -qq"), words(&format!("{install} -qq"))] {
        let status = Command::new(&argv[0])
            .args(&argv[1..])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("apt-get: {e}"))?;
        if !status.success() {
            return Err(format!("{} failed ({status})", argv.join(" ")));
        }
    }
    Ok(())
}
