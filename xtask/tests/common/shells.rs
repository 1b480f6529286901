//! Drivers that complete a line in real bash, zsh and fish with the
//! committed scripts, in a scene of their own: an empty home, a working
//! directory with two files, the built cachecmd first on PATH.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{committed, isolated, run};

const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

pub const SHELLS: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

/// A home, a working directory (`first.txt`, `fifth.txt`) and a PATH.
pub struct Scene {
    home: tempfile::TempDir,
}

impl Scene {
    pub fn new() -> Scene {
        let home = tempfile::tempdir().unwrap();
        let work = home.path().join("work");
        std::fs::create_dir(&work).unwrap();
        for file in ["first.txt", "fifth.txt"] {
            std::fs::write(work.join(file), "").unwrap();
        }
        Scene { home }
    }

    fn work(&self) -> PathBuf {
        self.home.path().join("work")
    }

    /// Runs the built cachecmd in this scene (its cache is the scene's).
    pub fn cachecmd(&self, args: &[&str]) -> String {
        let mut cmd = Command::new(cachecmd_bin());
        cmd.args(args);
        self.setup(&mut cmd);
        let out = run(cmd, TIMEOUT);
        assert_eq!(out.status, Some(0), "cachecmd {args:?}:\n{}", out.all());
        out.stdout
    }

    fn setup(&self, command: &mut Command) {
        isolated(command, self.home.path());
        let bin = cachecmd_bin();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![bin.parent().unwrap().to_path_buf()];
        dirs.extend(std::env::split_paths(&path));
        command
            .env("PATH", std::env::join_paths(dirs).unwrap())
            .env_remove("CACHECMD_DIR")
            .env_remove("CACHECMD_CONFIG")
            .env("XDG_CONFIG_HOME", self.home.path().join("no-config"))
            .current_dir(self.work());
    }

    /// What `shell` offers on TAB at the end of `line`.
    pub fn complete(&self, shell: Shell, line: &str) -> BTreeSet<String> {
        match shell {
            Shell::Bash => self.bash(line),
            Shell::Zsh => self.zsh(line),
            Shell::Fish => self.fish(line),
        }
    }

    fn bash(&self, line: &str) -> BTreeSet<String> {
        let mut bash = Command::new("bash");
        bash.args(["--norc", "--noprofile", "-c", BASH_DRIVER, "bash"])
            .arg(committed("completions/cachecmd.bash"))
            .args(line.split(' '));
        self.setup(&mut bash);
        let out = run(bash, TIMEOUT);
        assert_eq!(out.status, Some(0), "bash completion of {line:?} failed:\n{}", out.all());
        assert!(out.stderr.is_empty(), "bash printed errors for {line:?}:\n{}", out.all());
        out.stdout.lines().map(|l| l.trim_end().to_owned()).filter(|l| !l.is_empty()).collect()
    }

    fn zsh(&self, line: &str) -> BTreeSet<String> {
        let setup = self.home.path().join("setup.zsh");
        std::fs::write(&setup, ZSH_CAPTURE_SETUP).unwrap();
        let mut zsh = Command::new("zsh");
        zsh.args(["-f", "-c", ZSH_CAPTURE_DRIVER, "zsh"])
            .arg(&setup)
            .arg(line)
            .env("XTASK_COMPLETIONS", committed("completions/_cachecmd").parent().unwrap());
        self.setup(&mut zsh);
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

    fn fish(&self, line: &str) -> BTreeSet<String> {
        // Without a config, fish autoloads no completions; the wrapped
        // commands' own come from its data directory.
        let script = format!(
            "set -g fish_complete_path $__fish_data_dir/completions; source {} && complete -C {}",
            fish_quote(&committed("completions/cachecmd.fish")),
            fish_quote(Path::new(line))
        );
        let mut fish = Command::new("fish");
        fish.args(["--no-config", "-c", &script]);
        self.setup(&mut fish);
        let out = run(fish, TIMEOUT);
        assert_eq!(out.status, Some(0), "fish completion of {line:?} failed:\n{}", out.all());
        assert!(out.stderr.is_empty(), "fish printed errors for {line:?}:\n{}", out.all());
        // Each candidate is `word<TAB>description`.
        out.stdout.lines().map(|l| l.split('\t').next().unwrap_or_default().to_owned()).collect()
    }
}

/// The built binary, next to the test's own directory, built once per test
/// process so it is never older than the sources (`cargo test -p xtask`
/// alone does not build it).
pub fn cachecmd_bin() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().unwrap();
            let status = Command::new(env!("CARGO"))
                .args(["build", "--quiet", "--package", "cachecmd", "--bin", "cachecmd"])
                .current_dir(super::root())
                .status()
                .expect("run cargo build");
            assert!(status.success(), "could not build cachecmd");
            exe.parent().unwrap().parent().unwrap().join("cachecmd")
        })
        .clone()
}

/// Loads bash-completion, then the script, and calls the function that
/// `complete -p cachecmd` names the way bash does on TAB. compopt works
/// only inside real completion, so it is a no-op here.
const BASH_DRIVER: &str = r#"
source /usr/share/bash-completion/bash_completion || exit 2
compopt() { :; }
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

/// `_tags:comptags:36: nesting level too deep`: a function, maybe a
/// builtin, a line number, a message.
fn is_zsh_error(line: &str) -> bool {
    let line = line.trim_start_matches(|c: char| c.is_whitespace() || c.is_control());
    let fields: Vec<&str> = line.splitn(4, ':').collect();
    line.starts_with('_')
        && fields.iter().skip(1).any(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

fn fish_quote(text: &Path) -> String {
    format!("'{}'", text.display().to_string().replace('\\', "\\\\").replace('\'', "\\'"))
}
