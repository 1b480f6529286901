//! The committed completion scripts, loaded into real bash, zsh and fish.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{committed, isolated, run, subcommands};

const TIMEOUT: Duration = Duration::from_secs(30);

/// Drives the function that `complete -p cachecmd` names the way bash does
/// on TAB: words, cursor word index, and the current and previous words.
const BASH_DRIVER: &str = r#"
source "$1" || exit 3
shift
spec=$(complete -p cachecmd) || { echo "no completion registered for cachecmd" >&2; exit 4; }
function=${spec#*-F }
function=${function%% *}
COMP_WORDS=("$@")
COMP_CWORD=$(( $# - 1 ))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
"$function" cachecmd "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;

fn bash_complete(words: &[&str]) -> BTreeSet<String> {
    let home = tempfile::tempdir().unwrap();
    let mut bash = Command::new("bash");
    bash.args(["--norc", "--noprofile", "-c", BASH_DRIVER, "bash"])
        .arg(committed("completions/cachecmd.bash"))
        .args(words);
    isolated(&mut bash, home.path());
    let out = run(bash, TIMEOUT);
    assert_eq!(out.status, Some(0), "bash completion of {words:?} failed:\n{}", out.all());
    assert!(out.stderr.is_empty(), "bash printed errors for {words:?}:\n{}", out.all());
    out.stdout.lines().map(str::to_owned).collect()
}

#[test]
fn bash_offers_subcommands_first() {
    let offered = bash_complete(&["cachecmd", ""]);
    for sub in subcommands() {
        assert!(offered.contains(&sub), "bash does not offer {sub}: {offered:?}");
    }
}

#[test]
fn bash_completes_long_options() {
    assert_eq!(bash_complete(&["cachecmd", "--t"]), BTreeSet::from(["--ttl".to_owned()]));
    let offered = bash_complete(&["cachecmd", "evict", "--no"]);
    assert!(offered.contains("--no-cwd"), "{offered:?}");
}

#[test]
fn zsh_script_parses() {
    let mut zsh = Command::new("zsh");
    zsh.args(["-f", "-n"]).arg(committed("completions/_cachecmd"));
    let out = run(zsh, TIMEOUT);
    assert_eq!(out.status, Some(0), "zsh -n rejects _cachecmd:\n{}", out.all());
}

/// compinit finds `_cachecmd` on `fpath` by its `#compdef` line, and the
/// autoloaded file defines the function.
#[test]
fn zsh_compinit_registers_and_autoloads_the_function() {
    let script = r#"
        fpath=("$XTASK_COMPLETIONS" $fpath)
        autoload -Uz compinit && compinit -u -D
        print -r -- "registered: ${_comps[cachecmd]}"
        autoload -Uz +X _cachecmd
        print -r -- "defined: ${+functions[_cachecmd]}"
    "#;
    let out = zsh_run(script);
    assert_eq!(out.status, Some(0), "{}", out.all());
    assert!(out.stdout.contains("registered: _cachecmd\n"), "{}", out.all());
    assert!(out.stdout.contains("defined: 1\n"), "{}", out.all());
    assert!(out.stderr.is_empty(), "{}", out.all());
}

fn zsh_run(script: &str) -> common::Output {
    let home = tempfile::tempdir().unwrap();
    let mut zsh = Command::new("zsh");
    zsh.args(["-f", "-c", script])
        .env("XTASK_COMPLETIONS", committed("completions/_cachecmd").parent().unwrap());
    isolated(&mut zsh, home.path());
    run(zsh, TIMEOUT)
}

/// Loaded into an interactive zsh on a pseudo-terminal. `compadd` is
/// wrapped to print every match it is given, and the shell exits after the
/// first completion.
const ZSH_CAPTURE_SETUP: &str = r#"
PROMPT='' RPROMPT=''
fpath=("$XTASK_COMPLETIONS" $fpath)
autoload -Uz compinit && compinit -u -D
compadd() {
    # -O, -A and -D only collect matches for the caller's own filtering.
    if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
        builtin compadd "$@"
        return
    fi
    local -a __xtask_matches
    builtin compadd -A __xtask_matches "$@"
    local __xtask_match
    for __xtask_match in $__xtask_matches; do
        print -r -- $'\n'"XTASK-MATCH:$__xtask_match"
    done
    builtin compadd "$@"
}
__xtask_done() { print -r -- $'\n'"XTASK-DONE"; exit }
comppostfuncs=(__xtask_done)
print -r -- "XTASK-READY"
"#;

/// Types `line` and TAB into that shell.
const ZSH_CAPTURE_DRIVER: &str = r#"
zmodload zsh/zpty || exit 90
zpty xtask zsh -f -i
zpty -w xtask "source ${(q)1}"
local out
while zpty -r xtask out; do
    [[ $out == *XTASK-READY* && $out != *print* ]] && break
done
zpty -w -n xtask "$2"$'\t'
while zpty -r xtask out; do
    print -r -- "$out"
    [[ $out == *XTASK-DONE* ]] && break
done
zpty -d xtask
"#;

fn zsh_complete(line: &str) -> BTreeSet<String> {
    let home = tempfile::tempdir().unwrap();
    let setup = home.path().join("setup.zsh");
    std::fs::write(&setup, ZSH_CAPTURE_SETUP).unwrap();
    let mut zsh = Command::new("zsh");
    zsh.args(["-f", "-c", ZSH_CAPTURE_DRIVER, "zsh"])
        .arg(&setup)
        .arg(line)
        .env("XTASK_COMPLETIONS", committed("completions/_cachecmd").parent().unwrap());
    isolated(&mut zsh, home.path());
    let out = run(zsh, TIMEOUT);
    assert_eq!(out.status, Some(0), "zsh completion of {line:?} failed:\n{}", out.all());
    assert!(out.stdout.contains("XTASK-DONE"), "completion never ran:\n{}", out.all());
    let errors: Vec<&str> = out.stdout.lines().filter(|l| is_zsh_error(l)).collect();
    assert!(errors.is_empty(), "zsh errors completing {line:?}: {errors:#?}");
    out.stdout
        .lines()
        .filter_map(|l| l.split_once("XTASK-MATCH:"))
        .map(|(_, m)| m.trim_end().to_owned())
        .collect()
}

/// `_tags:comptags:36: nesting level too deep`: a function, maybe a
/// builtin, a line number, a message.
fn is_zsh_error(line: &str) -> bool {
    let line = line.trim_start_matches(|c: char| c.is_whitespace() || c.is_control());
    let fields: Vec<&str> = line.splitn(4, ':').collect();
    line.starts_with('_')
        && fields.iter().skip(1).any(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

#[test]
fn zsh_offers_subcommands_first() {
    let offered = zsh_complete("cachecmd ");
    for sub in subcommands() {
        assert!(offered.contains(&sub), "zsh does not offer {sub}: {offered:?}");
    }
}

#[test]
fn zsh_completes_long_options() {
    assert_eq!(zsh_complete("cachecmd --t"), BTreeSet::from(["--ttl".to_owned()]));
    let offered = zsh_complete("cachecmd evict --n");
    assert!(offered.contains("--no-cwd"), "{offered:?}");
}

fn fish_complete(line: &str) -> Vec<String> {
    let home = tempfile::tempdir().unwrap();
    let script = format!(
        "source {} && complete -C {}",
        fish_quote(&committed("completions/cachecmd.fish")),
        fish_quote(Path::new(line))
    );
    let mut fish = Command::new("fish");
    fish.args(["--no-config", "-c", &script]);
    isolated(&mut fish, home.path());
    let out = run(fish, TIMEOUT);
    assert_eq!(out.status, Some(0), "fish completion of {line:?} failed:\n{}", out.all());
    assert!(out.stderr.is_empty(), "fish printed errors for {line:?}:\n{}", out.all());
    // Each candidate is `word<TAB>description`.
    out.stdout.lines().map(|l| l.split('\t').next().unwrap_or_default().to_owned()).collect()
}

fn fish_quote(text: &Path) -> String {
    format!("'{}'", text.display().to_string().replace('\\', "\\\\").replace('\'', "\\'"))
}

#[test]
fn fish_offers_subcommands_first() {
    let offered = fish_complete("cachecmd ");
    for sub in subcommands() {
        assert!(offered.contains(&sub), "fish does not offer {sub}: {offered:?}");
    }
}

#[test]
fn fish_completes_long_options() {
    assert_eq!(fish_complete("cachecmd --t"), vec!["--ttl".to_owned()]);
    let offered = fish_complete("cachecmd evict --n");
    assert!(offered.contains(&"--no-cwd".to_owned()), "{offered:?}");
}
