//! README.md's examples as executable documentation: every ```console
//! block whose first line is `$ cachecmd ...` runs, in document order, in
//! one scratch directory with a private cache; each command must succeed,
//! and its output must match the block's unless an HTML comment
//! `<!-- readme-test: output varies -->` precedes the block (times, dates).

mod common;

use std::process::Command;
use std::time::Duration;

use common::shells::cachecmd_bin;
use common::{root, run};

const VARIES: &str = "<!-- readme-test: output varies -->";

struct Example {
    line: usize,
    command: String,
    expected: Vec<String>,
    compare: bool,
}

/// The `$ ` commands of the console blocks and the lines each prints.
fn examples(readme: &str) -> Vec<Example> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut examples = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let opens = lines[i].trim() == "```console";
        let first_is_ours = lines.get(i + 1).is_some_and(|l| l.starts_with("$ cachecmd"));
        if !(opens && first_is_ours) {
            i += 1;
            continue;
        }
        let compare = !(i > 0 && lines[i - 1].trim() == VARIES);
        i += 1;
        while i < lines.len() && lines[i].trim() != "```" {
            let command = lines[i].strip_prefix("$ ").expect("a block starts with a command");
            let line = i + 1;
            i += 1;
            let mut expected = Vec::new();
            while i < lines.len() && lines[i].trim() != "```" && !lines[i].starts_with("$ ") {
                expected.push(lines[i].to_owned());
                i += 1;
            }
            examples.push(Example { line, command: command.to_owned(), expected, compare });
        }
        i += 1;
    }
    examples
}

#[test]
fn readme_console_examples_run() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let examples = examples(&readme);
    assert!(!examples.is_empty(), "no ```console block starting with `$ cachecmd`");
    let scratch = tempfile::tempdir().unwrap();
    let work = scratch.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let bin = cachecmd_bin();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin.parent().unwrap().to_path_buf()];
    dirs.extend(std::env::split_paths(&path));
    for example in examples {
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(format!("{} 2>&1", example.command))
            .current_dir(&work)
            .env("PATH", std::env::join_paths(&dirs).unwrap())
            .env("HOME", scratch.path())
            .env("XDG_CACHE_HOME", scratch.path().join("cache"))
            .env("XDG_CONFIG_HOME", scratch.path().join("config"))
            .env_remove("CACHECMD_CONFIG")
            .env_remove("CACHECMD_DIR")
            .env_remove("CACHECMD_REMOTE");
        let out = run(sh, Duration::from_secs(60));
        let at = format!("README.md:{}: `{}`", example.line, example.command);
        assert_eq!(out.status, Some(0), "{at} failed:\n{}", out.all());
        if example.compare {
            let printed: Vec<&str> = out.stdout.lines().collect();
            assert_eq!(printed, example.expected, "{at} printed something else");
        }
    }
}

#[test]
fn blocks_split_into_commands_and_their_output() {
    let text = "x\n```console\n$ cachecmd a\none\n$ cachecmd b\n```\n\
                <!-- readme-test: output varies -->\n```console\n$ cachecmd c\ntwo\n```\n\
                ```console\n$ ls\n```\n";
    let found: Vec<(String, Vec<String>, bool)> =
        examples(text).into_iter().map(|e| (e.command, e.expected, e.compare)).collect();
    assert_eq!(
        found,
        vec![
            ("cachecmd a".into(), vec!["one".into()], true),
            ("cachecmd b".into(), vec![], true),
            ("cachecmd c".into(), vec!["two".into()], false),
        ]
    );
}
