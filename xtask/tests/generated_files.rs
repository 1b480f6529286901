//! The committed completions and man pages are exactly what the generator
//! makes from today's clap definition.

use std::path::{Path, PathBuf};

use clap::CommandFactory;

fn generated() -> Vec<(PathBuf, Vec<u8>)> {
    xtask::generate().expect("generate in memory")
}

fn text_of(files: &[(PathBuf, Vec<u8>)], path: &str) -> String {
    let (_, bytes) = files
        .iter()
        .find(|(p, _)| p == Path::new(path))
        .unwrap_or_else(|| panic!("{path} is not generated"));
    String::from_utf8(bytes.clone()).expect("UTF-8")
}

#[test]
fn committed_files_match_the_generator() {
    let root = xtask::workspace_root();
    let files = generated();
    let mut problems = Vec::new();
    for (path, bytes) in &files {
        match std::fs::read(root.join(path)) {
            Ok(committed) if committed == *bytes => {}
            Ok(_) => problems.push(format!("{} differs", path.display())),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    for path in xtask::stale_files(&root, &files).expect("list generated dirs") {
        problems.push(format!("{} is no longer generated", path.display()));
    }
    assert!(
        problems.is_empty(),
        "completions/ or man/ are out of date: run `cargo xtask generate`\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn every_shell_and_every_subcommand_gets_a_file() {
    let names: Vec<String> = generated().iter().map(|(p, _)| p.display().to_string()).collect();
    let mut expected: Vec<String> = [
        "completions/cachecmd.bash",
        "completions/_cachecmd",
        "completions/cachecmd.fish",
        "completions/_cachecmd.ps1",
        "completions/cachecmd.elv",
        "man/cachecmd.1",
    ]
    .map(String::from)
    .to_vec();
    let cmd = cachecmd::test_support::Cli::command();
    for sub in cmd.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        expected.push(format!("man/cachecmd-{}.1", sub.get_name()));
    }
    for path in &expected {
        assert!(names.contains(path), "{path} missing from {names:?}");
    }
}

#[test]
fn completions_know_every_subcommand_and_option() {
    let files = generated();
    let cmd = cachecmd::test_support::Cli::command();
    let mut words: Vec<String> = cmd
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .map(|sub| sub.get_name().to_owned())
        .collect();
    for command in std::iter::once(&cmd).chain(cmd.get_subcommands()) {
        let visible = command.get_arguments().filter(|arg| !arg.is_hide_set());
        words.extend(visible.filter_map(|arg| arg.get_long()).map(|long| format!("--{long}")));
    }
    for (path, bytes) in files.iter().filter(|(p, _)| p.starts_with(xtask::COMPLETIONS_DIR)) {
        let script = String::from_utf8_lossy(bytes);
        // Fish writes long options without their dashes.
        let missing: Vec<&String> = words
            .iter()
            .filter(|w| !script.contains(w.as_str()) && !script.contains(w.trim_start_matches('-')))
            .collect();
        assert!(missing.is_empty(), "{} lacks {missing:?}", path.display());
    }
}

#[test]
fn the_main_page_has_every_section() {
    let page = text_of(&generated(), "man/cachecmd.1");
    let headings: Vec<&str> = page
        .lines()
        .filter_map(|line| line.strip_prefix(".SH "))
        .map(|h| h.trim_matches('"'))
        .collect();
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "SUBCOMMANDS",
        "KEY",
        "FRESHNESS",
        "STORAGE",
        "EXIT STATUS",
        "ENVIRONMENT",
        "OUTPUT FILES",
        "REMOTE TIER",
        "CONFIGURATION",
        "FILES",
        "EXAMPLES",
        "SEE ALSO",
    ] {
        assert!(headings.contains(&section), "no {section} in {headings:?}");
    }
}

#[test]
fn environment_lists_every_variable() {
    let page = text_of(&generated(), "man/cachecmd.1");
    let environment = page
        .split(".SH ENVIRONMENT")
        .nth(1)
        .and_then(|rest| rest.split(".SH ").next())
        .expect("an ENVIRONMENT section");
    let mut names: Vec<String> = [
        "CACHECMD_TTL",
        "CACHECMD_FAILURE_TTL",
        "CACHECMD_DIR",
        "CACHECMD_LOCK_TIMEOUT",
        "CACHECMD_MAX_ENTRY_SIZE",
        "CACHECMD_DISABLE",
        "CACHECMD_CONFIG",
        "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME",
        "NO_COLOR",
    ]
    .map(String::from)
    .to_vec();
    fn env_of(cmd: &clap::Command, names: &mut Vec<String>) {
        names.extend(
            cmd.get_arguments().filter_map(|a| a.get_env()).map(|e| e.to_string_lossy().into()),
        );
        cmd.get_subcommands().for_each(|sub| env_of(sub, names));
    }
    env_of(&cachecmd::test_support::Cli::command(), &mut names);
    for name in names {
        // roff escapes nothing in these names but underscores stay plain.
        assert!(environment.contains(&format!("\\fB{name}\\fR")), "{name} not in ENVIRONMENT");
    }
}

#[test]
fn examples_cover_a_prompt_a_script_and_ci() {
    let page = text_of(&generated(), "man/cachecmd.1");
    let examples = page.split(".SH EXAMPLES").nth(1).expect("an EXAMPLES section");
    let examples = examples.split(".SH ").next().unwrap_or_default();
    for topic in ["prompt", "script", "ci:"] {
        assert!(examples.to_lowercase().contains(topic), "no {topic:?} example:\n{examples}");
    }
    assert!(examples.contains(".nf\ncachecmd"), "no literal command:\n{examples}");
}
