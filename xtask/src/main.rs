//! `cargo xtask generate`: write the completion scripts and man pages.
//! `cargo xtask ci`: install what the tests need, then run every check.

mod ci;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask generate | cargo xtask ci";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["generate"] => match generate() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask: {e}");
                ExitCode::FAILURE
            }
        },
        ["ci"] => match ci::run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask ci: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn generate() -> std::io::Result<()> {
    let root = xtask::workspace_root();
    let files = xtask::generate()?;
    for (path, bytes) in &files {
        let full = root.join(path);
        if std::fs::read(&full).ok().as_deref() == Some(bytes.as_slice()) {
            continue;
        }
        if let Some(dir) = full.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&full, bytes)?;
        println!("wrote {}", path.display());
    }
    for path in xtask::stale_files(&root, &files)? {
        std::fs::remove_file(root.join(&path))?;
        println!("removed {}", path.display());
    }
    Ok(())
}
