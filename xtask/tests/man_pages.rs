//! The committed man pages pass `mandoc -Tlint`.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{committed, run};

/// mandoc's message levels from worst to mildest; a page may have STYLE
/// notes (several come from clap_mangen) but nothing worse, except the one
/// below.
const FAILING_LEVELS: [&str; 5] = ["SYSERR", "BADARG", "UNSUPP", "ERROR", "WARNING"];

/// Until a release heading in CHANGELOG.md dates the version, the pages
/// carry no date (a reproducible page cannot use today's).
const TOLERATED: &str = "WARNING: missing date";

#[test]
fn man_pages_pass_mandoc_lint() {
    let pages: Vec<_> = xtask::generate()
        .expect("generate in memory")
        .into_iter()
        .map(|(path, _)| path)
        .filter(|path| path.starts_with(xtask::MAN_DIR))
        .collect();
    assert!(pages.len() > 1, "expected a page per subcommand too: {pages:?}");
    let mut failures = Vec::new();
    for page in &pages {
        let mut mandoc = Command::new("mandoc");
        mandoc.arg("-Tlint").arg(committed(&page.to_string_lossy()));
        let out = run(mandoc, Duration::from_secs(30));
        let messages = format!("{}{}", out.stdout, out.stderr);
        if !messages.is_empty() {
            println!("{}:\n{messages}", page.display());
        }
        let bad = messages.lines().filter(|line| {
            !line.contains(TOLERATED)
                && FAILING_LEVELS.iter().any(|level| line.contains(&format!(": {level}: ")))
        });
        failures.extend(bad.map(str::to_owned));
        // 0 clean, 1 STYLE, 2 WARNING; 3 and up are errors.
        if !matches!(out.status, Some(0..=2)) {
            failures.push(format!("{}: mandoc exited {:?}", page.display(), out.status));
        }
    }
    assert!(failures.is_empty(), "mandoc -Tlint:\n{}", failures.join("\n"));
}
