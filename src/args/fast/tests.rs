use std::collections::BTreeSet;
use std::ffi::OsString;

use clap::CommandFactory;
use proptest::prelude::*;

use super::*;
use crate::args::{parse_with_clap, ArgsError};

fn words(line: &[&str]) -> Vec<OsString> {
    std::iter::once("cachecmd").chain(line.iter().copied()).map(OsString::from).collect()
}

fn real_env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// clap's answer, as text to compare (`Cli` is `Debug`, not `PartialEq`).
fn by_clap(argv: &[OsString]) -> Result<String, String> {
    match parse_with_clap(argv.to_vec()) {
        Ok(cli) => Ok(format!("{cli:?}")),
        Err(ArgsError::Clap(e)) => Err(e.to_string()),
        Err(ArgsError::Message(m)) => Err(m),
    }
}

#[test]
fn the_subcommand_list_is_the_declarations() {
    let mut command = Cli::command();
    command.build();
    let declared: BTreeSet<String> = command
        .get_subcommands()
        .flat_map(|sub| std::iter::once(sub.get_name()).chain(sub.get_all_aliases()))
        .map(str::to_owned)
        .collect();
    let ours: BTreeSet<String> = SUBCOMMANDS.iter().map(|s| s.to_string()).collect();
    assert_eq!(ours, declared);
}

#[test]
fn every_variable_of_a_run_option_is_read_here_or_sends_the_line_to_clap() {
    let declared: BTreeSet<String> = Cli::command()
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    let ours: BTreeSet<String> =
        HANDLED_VARS.iter().chain(OTHER_VARS).map(|s| s.to_string()).collect();
    assert_eq!(ours, declared);
}

#[test]
fn the_common_lines_take_the_shortcut_and_agree_with_clap() {
    let lines: &[&[&str]] = &[
        &["--ttl", "forever", "--", "cat", "f"],
        &["--ttl", "10s", "git", "status", "--short"],
        &["--ttl=1h", "--env", "AWS_PROFILE,HOME", "--", "aws", "ec2"],
        &["--no-cwd", "--ttl", "7d", "--", "./gen.sh"],
        &["-v", "--scope", "s", "--key", "k", "--input", "src/*.rs", "--", "make"],
        &["--force", "--stdin", "--modtime", "f", "--cache-dir", "/tmp/c", "--", "x"],
        &["--stale", "5s", "--warm", "--failure-ttl", "1m", "ls"],
        &["--lock-timeout", "3s", "--max-entry-size", "1M", "ls", "--ttl", "-l"],
        &["--", "clear"],
        &["ls", "clear", "--", "-x"],
    ];
    for line in lines {
        let argv = words(line);
        let fast = parse(&argv, &real_env).unwrap_or_else(|| panic!("{line:?} declined"));
        assert_eq!(Ok(format!("{fast:?}")), by_clap(&argv), "{line:?}");
    }
}

#[test]
fn what_clap_must_judge_is_declined() {
    let lines: &[&[&str]] = &[
        &["clear"],
        &["-v", "list"],
        &["help"],
        &["--help"],
        &["-V"],
        &["--ttl", "soon", "--", "x"],
        &["--ttl", "--", "x"],
        &["--ttl="],
        &["--force=yes", "x"],
        &["-vv", "x"],
        &["--remote", "redis://h", "x"],
        &["--retry-delay", "1s", "x"],
        &["--check", "x"],
        &["--"],
        &[],
        &["-", "x"],
    ];
    for line in lines {
        assert!(parse(&words(line), &|_| None).is_none(), "{line:?} taken");
    }
}

#[test]
fn variables_fill_what_the_line_left_unset() {
    let env = |name: &str| {
        let value = match name {
            "CACHECMD_TTL" => "1h",
            "CACHECMD_ENV" => "A,B",
            "CACHECMD_SCOPE" => "job",
            "CACHECMD_DIR" => "",
            _ => return None,
        };
        Some(OsString::from(value))
    };
    let cli = parse(&words(&["--ttl", "5m", "x"]), &env).unwrap();
    assert_eq!(cli.run.ttl, Some(parse_lifetime("5m").unwrap()));
    assert_eq!(cli.run.key.env, ["A", "B"]);
    assert_eq!(cli.run.key.scope, Some("job".into()));
    // Empty counts as unset.
    assert_eq!(cli.run.key.common.cache_dir, None);
    let cli = parse(&words(&["--env", "C", "x"]), &env).unwrap();
    assert_eq!(cli.run.ttl, Some(parse_lifetime("1h").unwrap()));
    assert_eq!(cli.run.key.env, ["C"]);
}

#[test]
fn a_bad_or_unhandled_variable_leaves_the_line_to_clap() {
    let bad_ttl = |name: &str| (name == "CACHECMD_TTL").then(|| OsString::from("soon"));
    assert!(parse(&words(&["x"]), &bad_ttl).is_none());
    // Given on the line, the bad variable is never read (as in clap).
    assert!(parse(&words(&["--ttl", "1s", "x"]), &bad_ttl).is_some());
    let remote = |name: &str| (name == "CACHECMD_REMOTE").then(|| OsString::from("redis://h"));
    assert!(parse(&words(&["x"]), &remote).is_none());
    let empty_remote = |name: &str| (name == "CACHECMD_REMOTE").then(OsString::new);
    assert!(parse(&words(&["x"]), &empty_remote).is_some());
}

/// Words a command line is made of: good and bad values, subcommand names,
/// separators and options the shortcut does not know.
fn word() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "--ttl",
        "--failure-ttl",
        "--stale",
        "--lock-timeout",
        "--max-entry-size",
        "--env",
        "--scope",
        "--key",
        "--input",
        "--modtime",
        "--cache-dir",
        "--force",
        "--no-cwd",
        "--stdin",
        "--warm",
        "-v",
        "--verbose",
        "--",
        "-",
        "5m",
        "forever",
        "0",
        "soon",
        "1M",
        "A,B",
        "A,,B",
        ",",
        "x",
        "ls",
        "clear",
        "key",
        "help",
        "--help",
        "-l",
        "--bogus",
        "--ttl=1h",
        "--ttl=",
        "--env=A",
        "--force=1",
        "--retry",
        "2",
        "--remote",
        "-vv",
        "",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]
    #[test]
    fn a_line_taken_by_the_shortcut_is_the_line_clap_reads(line in prop::collection::vec(word(), 0..8)) {
        let argv = words(&line);
        if let Some(fast) = parse(&argv, &real_env) {
            prop_assert_eq!(Ok(format!("{fast:?}")), by_clap(&argv), "{:?}", line);
        }
    }
}
