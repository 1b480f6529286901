//! The committed man pages pass `mandoc -Tlint` without a single message,
//! and say what every page must.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{committed, run};

fn pages() -> Vec<(String, String)> {
    let pages: Vec<_> = xtask::generate()
        .expect("generate in memory")
        .into_iter()
        .filter(|(path, _)| path.starts_with(xtask::MAN_DIR))
        .map(|(path, bytes)| (path.display().to_string(), String::from_utf8(bytes).unwrap()))
        .collect();
    assert!(pages.len() > 1, "expected a page per subcommand too");
    pages
}

fn section<'a>(page: &'a str, heading: &str) -> Option<&'a str> {
    // roff quotes a heading with spaces.
    let start = page
        .find(&format!(".SH {heading}\n"))
        .or_else(|| page.find(&format!(".SH \"{heading}\"\n")))?;
    let body = &page[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    Some(body.split("\n.SH ").next().unwrap_or(body))
}

#[test]
fn man_pages_pass_mandoc_lint_silently() {
    let mut failures = Vec::new();
    for (page, _) in pages() {
        let mut mandoc = Command::new("mandoc");
        mandoc.arg("-Tlint").arg(committed(&page));
        let out = run(mandoc, Duration::from_secs(30));
        // Not even STYLE notes: the generator tidies what clap gives it.
        let messages = format!("{}{}", out.stdout, out.stderr);
        failures.extend(messages.lines().map(str::to_owned));
        if out.status != Some(0) {
            failures.push(format!("{page}: mandoc exited {:?}", out.status));
        }
    }
    assert!(failures.is_empty(), "mandoc -Tlint:\n{}", failures.join("\n"));
}

#[test]
fn every_page_is_dated_and_has_no_markdown() {
    for (path, page) in pages() {
        let th = page.lines().find(|l| l.starts_with(".TH ")).expect("a .TH line");
        let date = th.split(' ').nth(3).unwrap_or_default();
        assert!(
            date.len() == 10 && date.bytes().filter(|b| *b == b'-').count() == 2,
            "{path}: no date in {th:?}"
        );
        assert!(!page.contains('`'), "{path} has literal backticks");
    }
}

#[test]
fn name_is_one_clause_and_not_the_description() {
    for (path, page) in pages() {
        let name = section(&page, "NAME").expect("NAME").trim();
        let (_, clause) = name.split_once(" \\- ").expect("name \\- clause");
        assert!(!clause.contains(['(', ';', ':']), "{path}: NAME is not one clause: {clause}");
        let description = section(&page, "DESCRIPTION").expect("DESCRIPTION");
        assert!(!description.to_lowercase().contains(&clause.to_lowercase()), "{path}: {clause}");
    }
}

#[test]
fn synopsis_names_every_value() {
    for (path, page) in pages() {
        let synopsis = section(&page, "SYNOPSIS").expect("SYNOPSIS");
        for needs_value in ["\\-\\-ttl\\fR", "\\-\\-env\\fR", "\\-\\-cache\\-dir\\fR"] {
            if let Some(at) = synopsis.find(needs_value) {
                let after = &synopsis[at + needs_value.len()..];
                assert!(after.starts_with(" \\fI"), "{path}: {needs_value} without its value");
            }
        }
    }
}

#[test]
fn every_subcommand_page_has_examples_and_exit_status() {
    for (path, page) in pages() {
        for heading in ["SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES"] {
            assert!(section(&page, heading).is_some(), "{path} has no {heading}");
        }
        let examples = section(&page, "EXAMPLES").unwrap();
        assert!(examples.contains(".nf\ncachecmd"), "{path}: no literal command in EXAMPLES");
    }
}

#[test]
fn the_main_page_covers_the_remote_tier_outputs_and_every_config_key() {
    let (_, page) = pages().into_iter().find(|(p, _)| p.ends_with("/cachecmd.1")).unwrap();
    let remote = section(&page, "REMOTE TIER").expect("REMOTE TIER");
    for scheme in ["redis://", "rediss://", "http://", "https://", "s3://"] {
        assert!(remote.contains(scheme), "REMOTE TIER lacks {scheme}");
    }
    let outputs = section(&page, "OUTPUT FILES").expect("OUTPUT FILES");
    for rule in ["hostile", "symlink", "renamed", "Setuid"] {
        assert!(outputs.contains(rule), "OUTPUT FILES lacks {rule}");
    }
    let config = section(&page, "CONFIGURATION").expect("CONFIGURATION");
    let keys = [
        "ttl",
        "failure_ttl",
        "cache_dir",
        "env",
        "lock_timeout",
        "max_entry_size",
        "max_size",
        "max_entries",
        "remote",
        "remote_read_only",
        "remote_max_entry_size",
    ];
    for key in keys {
        assert!(config.contains(&format!(".TP\n\\fB{key}\\fR\n")), "CONFIGURATION lacks {key}");
    }
}
