//! The committed completion scripts, loaded into real bash (with
//! bash-completion), zsh and fish, complete like `sudo`: cachecmd's own
//! options and subcommands first, then the wrapped command's completion.

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use common::shells::{Scene, Shell, SHELLS};
use common::{committed, isolated, run, subcommands};

fn each_shell(check: impl Fn(Shell, &Scene)) {
    let scene = Scene::new();
    for shell in SHELLS {
        check(shell, &scene);
    }
}

fn set(words: &[&str]) -> BTreeSet<String> {
    words.iter().map(|w| w.to_string()).collect()
}

#[test]
fn subcommands_come_first() {
    each_shell(|shell, scene| {
        let offered = scene.complete(shell, "cachecmd ");
        for sub in subcommands() {
            assert!(offered.contains(&sub), "{shell:?} does not offer {sub}: {offered:?}");
        }
        assert!(!offered.contains("__complete-keys"), "{shell:?} offers the hidden helper");
    });
}

#[test]
fn long_options_complete() {
    each_shell(|shell, scene| {
        assert_eq!(scene.complete(shell, "cachecmd --tt"), set(&["--ttl"]), "{shell:?}");
        let offered = scene.complete(shell, "cachecmd evict --no");
        assert!(offered.contains("--no-cwd"), "{shell:?}: {offered:?}");
    });
}

#[test]
fn hidden_options_are_never_offered() {
    each_shell(|shell, scene| {
        let offered = scene.complete(shell, "cachecmd --re");
        assert!(offered.contains("--retry"), "{shell:?}: {offered:?}");
        assert!(!offered.contains("--refresh"), "{shell:?} offers --refresh: {offered:?}");
        let offered = scene.complete(shell, "cachecmd gc --");
        assert!(offered.contains("--max-size"), "{shell:?}: {offered:?}");
        assert!(!offered.contains("--auto"), "{shell:?} offers gc --auto: {offered:?}");
    });
}

#[test]
fn the_wrapped_command_gets_its_own_completion() {
    each_shell(|shell, scene| {
        for line in
            ["cachecmd -- git chec", "cachecmd --ttl 5m git chec", "cachecmd evict git chec"]
        {
            let offered = scene.complete(shell, line);
            assert!(offered.contains("checkout"), "{shell:?} on {line:?}: {offered:?}");
        }
    });
}

#[test]
fn cachecmd_options_do_not_leak_into_the_wrapped_command() {
    each_shell(|shell, scene| {
        for line in ["cachecmd -- sort --t", "cachecmd sort --t"] {
            let offered = scene.complete(shell, line);
            assert!(!offered.contains("--ttl"), "{shell:?} on {line:?}: {offered:?}");
            // bash offers `--temporary-directory=`, the others without `=`.
            assert!(
                offered.iter().any(|w| w.starts_with("--temporary-directory")),
                "{shell:?} on {line:?}: {offered:?}"
            );
        }
    });
}

#[test]
fn the_wrapped_command_completes_files() {
    each_shell(|shell, scene| {
        for line in ["cachecmd -- ls fi", "cachecmd ls fi", "cachecmd show -- ls fi"] {
            let offered = scene.complete(shell, line);
            assert_eq!(offered, set(&["fifth.txt", "first.txt"]), "{shell:?} on {line:?}");
        }
    });
}

#[test]
fn the_command_word_completes_command_names() {
    each_shell(|shell, scene| {
        let offered = scene.complete(shell, "cachecmd -- bas");
        assert!(offered.contains("bash"), "{shell:?}: {offered:?}");
    });
}

#[test]
fn durations_sizes_and_names_complete_no_files() {
    each_shell(|shell, scene| {
        for line in
            ["cachecmd --ttl ", "cachecmd --max-size ", "cachecmd --scope ", "cachecmd --ttl fi"]
        {
            assert_eq!(scene.complete(shell, line), set(&[]), "{shell:?} on {line:?}");
        }
    });
}

#[test]
fn env_completes_variable_names() {
    each_shell(|shell, scene| {
        let offered = scene.complete(shell, "cachecmd --env HO");
        assert!(offered.contains("HOME"), "{shell:?}: {offered:?}");
        assert!(offered.iter().all(|w| w.starts_with("HO")), "{shell:?}: {offered:?}");
    });
}

#[test]
fn show_and_evict_key_complete_key_prefixes_of_the_cache() {
    let scene = Scene::new();
    scene.cachecmd(&["--", "echo", "cached"]);
    let list = scene.cachecmd(&["list", "--json"]);
    let key = list.split("\"key\": \"").nth(1).expect("a listed key");
    let prefix = &key[..12];
    for shell in SHELLS {
        for line in ["cachecmd show ", "cachecmd evict --key "] {
            let offered = scene.complete(shell, line);
            assert_eq!(offered, set(&[prefix]), "{shell:?} on {line:?}");
        }
    }
}

#[test]
fn completions_and_man_complete_their_argument() {
    each_shell(|shell, scene| {
        let offered = scene.complete(shell, "cachecmd completions ");
        assert_eq!(offered, set(&["bash", "elvish", "fish", "powershell", "zsh"]), "{shell:?}");
        let offered = scene.complete(shell, "cachecmd man ");
        for sub in subcommands() {
            assert!(offered.contains(&sub), "{shell:?} does not offer {sub}: {offered:?}");
        }
    });
}

fn zsh_run(script: &str) -> common::Output {
    let home = tempfile::tempdir().unwrap();
    let mut zsh = Command::new("zsh");
    zsh.args(["-f", "-c", script])
        .env("XTASK_COMPLETIONS", committed("completions/_cachecmd").parent().unwrap());
    isolated(&mut zsh, home.path());
    run(zsh, Duration::from_secs(30))
}

#[test]
fn zsh_script_parses() {
    let mut zsh = Command::new("zsh");
    zsh.args(["-f", "-n"]).arg(committed("completions/_cachecmd"));
    let out = run(zsh, Duration::from_secs(30));
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
