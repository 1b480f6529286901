//! `cachecmd completions SHELL` and `cachecmd man [SUBCOMMAND]` print what
//! is committed, so an install by `cargo install` has the same files.

mod common;

use std::process::Command;
use std::time::Duration;

use common::shells::cachecmd_bin;
use common::{committed, run};

fn cachecmd(args: &[&str]) -> common::Output {
    let mut cmd = Command::new(cachecmd_bin());
    cmd.args(args).env("CACHECMD_CONFIG", "/nonexistent/cachecmd.toml");
    run(cmd, Duration::from_secs(30))
}

fn committed_text(path: &str) -> String {
    std::fs::read_to_string(committed(path)).unwrap()
}

#[test]
fn completions_print_the_committed_scripts() {
    for (shell, path) in [
        ("bash", "completions/cachecmd.bash"),
        ("zsh", "completions/_cachecmd"),
        ("fish", "completions/cachecmd.fish"),
        ("powershell", "completions/_cachecmd.ps1"),
        ("elvish", "completions/cachecmd.elv"),
    ] {
        let out = cachecmd(&["completions", shell]);
        assert_eq!(out.status, Some(0), "{}", out.all());
        assert!(out.stdout == committed_text(path), "`cachecmd completions {shell}` != {path}");
    }
}

#[test]
fn man_prints_the_committed_pages() {
    let out = cachecmd(&["man", "list"]);
    assert_eq!(out.status, Some(0), "{}", out.all());
    assert!(out.stdout == committed_text("man/cachecmd-list.1"), "`cachecmd man list` differs");
    let out = cachecmd(&["man"]);
    assert!(out.stdout == committed_text("man/cachecmd.1"), "`cachecmd man` differs");
}

#[test]
fn man_of_an_unknown_subcommand_is_a_usage_error() {
    let out = cachecmd(&["man", "nosuch"]);
    assert_eq!(out.status, Some(125), "{}", out.all()); // cachecmd's usage status
    assert!(out.stdout.is_empty(), "{}", out.all());
    assert!(out.stderr.contains("evict"), "the message lists the pages: {}", out.all());
}

#[test]
fn completions_reject_an_unknown_shell() {
    let out = cachecmd(&["completions", "tcsh"]);
    assert_eq!(out.status, Some(125), "{}", out.all()); // cachecmd's usage status
}
