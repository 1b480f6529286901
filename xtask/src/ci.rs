//! `cargo xtask ci`: the one command that checks a change, run by `.ci/run`
//! and by contributors alike, so CI checks exactly what a contributor runs.
//!
//! It installs the tools the tests call when it can (as root, through
//! apt-get; otherwise it prints the one command to run and stops), then runs
//! the lint gates, a build and test without default features, and the whole
//! test suite. Root-only tests (`#[ignore = "needs root"]`) run too when we
//! are root.

use std::process::Command;

/// Something the tests need, how to tell it is there, and how to get it.
struct Tool {
    /// A program looked up on `$PATH`, or an absolute path that must exist.
    needs: &'static str,
    from: Source,
    why: &'static str,
}

enum Source {
    /// A Debian package (installed as root with apt-get).
    Apt(&'static str),
    /// `cargo install --locked` with these arguments (no root needed).
    Cargo(&'static str),
}

const TOOLS: &[Tool] = &[
    Tool { needs: "zsh", from: Source::Apt("zsh"), why: "completion tests" },
    Tool { needs: "fish", from: Source::Apt("fish"), why: "completion tests" },
    Tool {
        needs: "/usr/share/bash-completion/bash_completion",
        from: Source::Apt("bash-completion"),
        why: "bash completion tests (the script hands the wrapped command to _command_offset)",
    },
    Tool { needs: "mandoc", from: Source::Apt("mandoc"), why: "man page lint" },
    Tool { needs: "redis-server", from: Source::Apt("redis-server"), why: "Redis tier tests" },
    Tool { needs: "openssl", from: Source::Apt("openssl"), why: "TLS certificates, htpasswd" },
    Tool { needs: "setpriv", from: Source::Apt("util-linux"), why: "fault tests as another user" },
    Tool { needs: "prlimit", from: Source::Apt("util-linux"), why: "fault tests with limits" },
    Tool { needs: "python3", from: Source::Apt("python3"), why: "non-blocking pipe tests" },
    Tool { needs: "/usr/bin/time", from: Source::Apt("time"), why: "peak memory tests" },
    Tool { needs: "nginx", from: Source::Apt("nginx"), why: "HTTP (WebDAV) tier tests" },
    Tool {
        needs: "/usr/lib/nginx/modules/ngx_http_dav_ext_module.so",
        from: Source::Apt("libnginx-mod-http-dav-ext"),
        why: "WebDAV listing (PROPFIND) for list/clear --remote",
    },
    Tool {
        needs: "strace",
        from: Source::Apt("strace"),
        why: "--trace-inputs fails open when traced",
    },
    Tool { needs: "make", from: Source::Apt("make"), why: "--trace-inputs on a make build" },
    Tool { needs: "cc", from: Source::Apt("gcc"), why: "a static program traced (cc -static)" },
    Tool {
        needs: "/usr/lib/x86_64-linux-gnu/libc.a",
        from: Source::Apt("libc6-dev"),
        why: "cc -static for the static program test",
    },
    Tool {
        needs: "s3s-fs",
        from: Source::Cargo("s3s-fs --version 0.14.1 --features binary"),
        why: "S3 tier tests (a real S3-compatible server)",
    },
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

fn is_present(needs: &str) -> bool {
    if needs.starts_with('/') {
        return std::path::Path::new(needs).exists();
    }
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| std::path::Path::new(&home).join(".cargo")))
        .map(|home| home.join("bin"));
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).chain(cargo_bin).any(|dir| dir.join(needs).is_file())
}

/// Installs what is missing: Debian packages with apt-get when we may
/// (otherwise names the one command that would, and fails: the tests fail
/// rather than skip when a tool is missing), programs from crates.io with
/// `cargo install --locked`.
fn install_tools() -> Result<(), String> {
    let missing: Vec<&Tool> = TOOLS.iter().filter(|tool| !is_present(tool.needs)).collect();
    for tool in &missing {
        eprintln!("xtask ci: missing {} ({})", tool.needs, tool.why);
    }
    let mut packages: Vec<&str> = missing
        .iter()
        .filter_map(|tool| match tool.from {
            Source::Apt(package) => Some(package),
            Source::Cargo(_) => None,
        })
        .collect();
    packages.dedup();
    if !packages.is_empty() {
        let install = format!("apt-get install -y {}", packages.join(" "));
        if !is_root() || !is_present("apt-get") {
            return Err(format!(
                "install the missing tools first: sudo apt-get update && sudo {install}"
            ));
        }
        run_quietly(&words("apt-get update -qq"))?;
        run_quietly(&words(&format!("{install} -qq")))?;
    }
    for tool in &missing {
        if let Source::Cargo(args) = tool.from {
            run_quietly(&words(&format!("cargo install --locked {args}")))?;
        }
    }
    Ok(())
}

fn run_quietly(argv: &[String]) -> Result<(), String> {
    eprintln!("xtask ci: {}", argv.join(" "));
    let status = Command::new(&argv[0])
        .args(&argv[1..])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("{}: {e}", argv[0]))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", argv.join(" ")))
    }
}
