//! What each subcommand's page says beyond its options: a DESCRIPTION (the
//! NAME line already holds the one-line summary), EXAMPLES and EXIT STATUS.

use clap_mangen::roff::Roff;

use super::markup::{heading, literal, tagged};
use crate::exit_codes::{NO_ENTRY, USAGE};

pub(crate) struct Prose {
    pub(crate) description: &'static str,
    /// (what it shows, the commands)
    pub(crate) examples: &'static [(&'static str, &'static [&'static str])],
    /// Statuses besides 0 and the usage error every subcommand has.
    pub(crate) no_entry: bool,
    /// Statuses of their own (`audit`), after 0.
    pub(crate) statuses: &'static [(&'static str, &'static str)],
}

/// `audit`'s statuses: CI gates on them.
const AUDIT_STATUSES: &[(&str, &str)] = &[
    ("`1`", "The command read files that no `--input` covers; they are listed on stdout."),
    ("`2`", "The command could not be traced (ptrace or seccomp unavailable); nothing is listed."),
];

pub(crate) fn prose(subcommand: &str) -> Prose {
    let (description, examples, no_entry): (&str, &[(&str, &[&str])], bool) = match subcommand {
        "evict" => (
            "Computes the key exactly as a run with the same key options and {COMMAND} would, \
             and removes that entry, so the next run is a miss.",
            &[
                ("Forget one cached invocation", &["cachecmd evict --no-cwd -- ./generate-schema.sh"]),
                ("Forget an entry by the key prefix that list shows", &["cachecmd evict --key 3f9a1c"]),
            ],
            true,
        ),
        "clear" => (
            "Without filters, removes every entry of the local cache. With filters, removes \
             only the entries matching all of them. `--remote` also empties the remote tier.",
            &[
                ("Drop everything recorded for one scope", &["cachecmd clear --scope prompt"]),
                ("Drop stale entries of one program", &["cachecmd clear --expired --command 'aws *'"]),
            ],
            false,
        ),
        "key" => (
            "Prints the key a run with these options and {COMMAND} would look up, without \
             running anything. Two invocations share an entry exactly when their keys match; \
             `--explain` shows which part differs.",
            &[("Why do two directories not share an entry?", &["cachecmd key --explain -- make -n"])],
            false,
        ),
        "list" => (
            "Prints one line per entry: its key prefix, age, expiry, exit status, size, hits, \
             run time, what is keyed, scope, directory and command line; on a terminal each \
             line is cut to its width. The key prefix names the entry for `show` and `evict --key`.",
            &[
                ("The table, then the same as JSON for a script", &["cachecmd list", "cachecmd list --json"]),
                ("What in this directory saved the most", &["cachecmd list --here --sort saved"]),
            ],
            false,
        ),
        "show" => (
            "Describes one entry: its command line, working directory, scope, keyed variables, \
             the rest of its key (key strings, input files with their digests, stdin, outputs), \
             times, run time, exit status, sizes and time saved; or prints its recorded stdout \
             or stderr.",
            &[
                ("Inspect the entry list shows first", &["cachecmd show 3f9a1c"]),
                ("Print what a run would replay", &["cachecmd show --stdout -- git status --short"]),
            ],
            true,
        ),
        "stats" => (
            "Summarizes the cache: entries, bytes on disk against the limits, hits, misses, \
             evictions, with a remote tier remote hits and errors, and the time hits saved \
             (overall and for the entries that saved the most), counted since the last \
             `--zero` or `clear` of everything.",
            &[
                ("A summary for a dashboard", &["cachecmd stats --json"]),
                ("Count from now on", &["cachecmd stats --zero"]),
            ],
            false,
        ),
        "gc" => (
            "Removes expired entries and stray files, then evicts least recently used entries \
             until the cache is within `--max-size` and `--max-entries`. A miss starts the same \
             work in the background now and then, so running it by hand is rarely needed.",
            &[("Shrink the cache now", &["cachecmd gc --max-size 200MiB"])],
            false,
        ),
        "config" => (
            "Prints every setting a run would use, one `(ORIGIN) key = value` line each, as \
             `ccache -p` does: ORIGIN is the flag, the CACHECMD_* variable, the config file and \
             line, or `default`. The options of a run are taken into account when given.",
            &[
                ("Where does the TTL come from?", &["cachecmd config | grep ttl"]),
                ("The same for a script", &["cachecmd config --json"]),
            ],
            false,
        ),
        "completions" => (
            "Prints the completion script for {SHELL} on stdout. The bash script needs the \
             bash-completion package; zsh finds the script on `$fpath` when `compinit` runs.",
            &[
                ("bash", &["cachecmd completions bash > ~/.local/share/bash-completion/completions/cachecmd"]),
                ("zsh", &["cachecmd completions zsh > ~/.zfunc/_cachecmd"]),
                ("fish", &["cachecmd completions fish > ~/.config/fish/completions/cachecmd.fish"]),
            ],
            false,
        ),
        "audit" => (
            "Runs {COMMAND} traced, as `--trace-inputs` would, discarding its output, and \
             prints one per line the files under the working directory that it read and that \
             no `--input` given here covers (with `--all`: every file it read, system files \
             included).",
            &[
                ("Gate CI on declared inputs", &["cachecmd audit --input 'src/**' --input Cargo.lock -- cargo build"]),
                ("Everything a command reads", &["cachecmd audit --all -- ./generate-schema.sh"]),
            ],
            false,
        ),
        "man" => (
            "Prints a man page in roff on stdout: cachecmd's own, or that of {SUBCOMMAND}.",
            &[
                ("Read a page without installing it", &["cachecmd man list | man -l -"]),
                (
                    "Install the pages where man finds them",
                    &[
                        "mkdir -p ~/.local/share/man/man1",
                        "for page in '' evict clear key list show stats gc config audit completions man; do",
                        "  cachecmd man $page > ~/.local/share/man/man1/cachecmd${page:+-$page}.1",
                        "done",
                    ],
                ),
            ],
            false,
        ),
        _ => ("", &[], false),
    };
    let statuses = if subcommand == "audit" { AUDIT_STATUSES } else { &[] };
    Prose { description, examples, no_entry, statuses }
}

pub(crate) fn examples(prose: &Prose) -> Roff {
    let mut r = Roff::new();
    heading(&mut r, "EXAMPLES");
    for (i, (what, commands)) in prose.examples.iter().enumerate() {
        if i > 0 {
            r.control("PP", []);
        }
        r.text([clap_mangen::roff::roman(format!("{what}:"))]);
        literal(&mut r, commands.iter().copied());
    }
    r
}

pub(crate) fn exit_status(prose: &Prose) -> Roff {
    let mut r = Roff::new();
    heading(&mut r, "EXIT STATUS");
    tagged(&mut r, "`0`", "Success.");
    for (status, meaning) in prose.statuses {
        tagged(&mut r, status, meaning);
    }
    if prose.no_entry {
        tagged(
            &mut r,
            &format!("`{NO_ENTRY}`"),
            "No entry matches, or the key prefix is ambiguous.",
        );
    }
    tagged(
        &mut r,
        &format!("`{USAGE}`"),
        "A usage or setup error: a bad flag or value, a bad config file, an unusable cache \
         directory. One line on stderr says what.",
    );
    r
}
