//! What the man page says that clap cannot: how keys, freshness and storage
//! work, exit statuses, environment and files. The facts follow README.md;
//! numbers and names come from the code where the code has them.

use crate::exit_codes;
use clap::Command;
use clap_mangen::roff::Roff;

use super::markup::{
    bullet, clap_text, heading, literal, numbered, para, subheading, tagged, text,
};

/// An environment variable that stands in for an option.
pub(crate) struct EnvOption {
    pub(crate) name: String,
    pub(crate) flag: String,
    pub(crate) help: String,
}

/// More DESCRIPTION for the main page: how the command line splits.
pub(crate) fn description_notes() -> Roff {
    let mut r = Roff::new();
    para(
        &mut r,
        "{COMMAND} runs directly, not through a shell: write `sh -c '...'` for pipes and \
         other shell syntax. Options go before {COMMAND}; everything from {COMMAND} on \
         belongs to the command. Subcommand names are reserved: `cachecmd -- clear` runs \
         a program named `clear`.",
    );
    para(
        &mut r,
        "Settings are taken from flags, then `CACHECMD_*` variables (see ENVIRONMENT), \
         then the config file (see FILES), then the defaults.",
    );
    r
}

/// A subcommand's `--help` epilogue, as more DESCRIPTION.
pub(crate) fn notes(after_help: &str) -> Roff {
    let mut r = Roff::new();
    for paragraph in after_help.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        r.control("PP", []);
        clap_text(&mut r, &paragraph.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    r
}

pub(crate) fn key() -> Roff {
    let mut r = Roff::new();
    heading(&mut r, "KEY");
    text(&mut r, "The key is SHA-256 over an unambiguous, length-prefixed encoding of:");
    let parts = [
        "every argument of {COMMAND} as raw bytes (`\"a b\"`, `a b` and `ab` are three \
         keys; non-UTF-8 is fine);",
        "the working directory, unless `--no-cwd`;",
        "the name and value of each `--env` variable (an unset variable is keyed as unset, \
         distinct from empty; a glob keys every variable it matches);",
        "`--scope` and each `--key` string;",
        "with `--input`: each matching file's path relative to the working directory, its \
         kind (file, executable, symlink, absent) and the SHA-256 of its content, in sorted \
         order;",
        "with `--modtime`: each file's modification time; with `--stdin`: the SHA-256 of \
         stdin.",
    ];
    for (i, part) in parts.into_iter().enumerate() {
        numbered(&mut r, i + 1, part);
    }
    para(
        &mut r,
        "The same inputs give the same key on every machine and release with the same \
         format version; `cachecmd key --no-cwd --` {COMMAND} prints it and \
         `cachecmd key --explain ...` prints every part (variables only as digests). \
         Choosing what to key:",
    );
    for choice in [
        "The command depends on the directory it runs in (`git status`, `ls`): keep the \
         default.",
        "It does not (`curl https://...`, `date`), or you want to share across checkouts \
         in CI: `--no-cwd`.",
        "It reads configuration from the environment (`AWS_PROFILE`, `KUBECONFIG`): \
         `--env` {NAME} for each.",
        "It reads files (a lock file, sources, a schema): `--input package-lock.json`, \
         `--input 'src/**/*.rs'`, `--input config/`.",
        "It reads stdin: `--stdin`.",
        "Anything else that should split entries (a day, a schema version): \
         `--key \"$(date +%F)\"`.",
    ] {
        bullet(&mut r, choice);
    }
    subheading(&mut r, "Input files");
    text(
        &mut r,
        "`--input` takes a file, a directory (every file under it) or a glob (`*` stays \
         within a directory, `**` crosses them). `.git/` is always skipped. Touching a file \
         (only its mtime changes) keeps the key; editing, adding, removing, renaming or \
         `chmod +x` changes it. A glob that matches nothing is a valid, empty set; an \
         explicit path that does not exist is keyed as absent (with `-v` saying so) and the \
         command still runs.",
    );
    para(
        &mut r,
        "Files are hashed on every core. A stat cache in the cache directory (path, size, \
         mtime, ctime, inode, device to digest) means an unchanged tree costs little more \
         than its `stat` calls. As in git, a file whose mtime is within two seconds of the \
         moment its digest was recorded is hashed again rather than trusted. `--modtime` \
         keys on the mtime alone: cheaper, but a touch counts as a change.",
    );
    para(
        &mut r,
        "`--stdin` reads all of stdin into an unnamed temp file (not memory), keys its \
         digest, and feeds the same bytes to the command on a miss.",
    );
    r
}

pub(crate) fn freshness() -> Roff {
    let mut r = Roff::new();
    heading(&mut r, "FRESHNESS");
    text(
        &mut r,
        "An entry is served while its age is below the caller's `--ttl` (for a recorded \
         failure, `--failure-ttl`), like HTTP's max-age: two callers with different TTLs \
         share one entry and each decides for itself. An entry's age is its file's \
         modification time, so `touch` refreshes it.",
    );
    para(
        &mut r,
        "A run that exits non-zero is not cached unless `--failure-ttl` is given; a run \
         killed by a signal is never cached. `--force` runs the command and replaces the \
         entry.",
    );
    for (flag, meaning) in [
        (
            "`--stale` {DURATION}",
            "Shorter than `--ttl`: an entry older than this is served at once and refreshed \
             by a detached background process, so a prompt never waits. Concurrent stale \
             hits start at most one refresh (it holds the key's lock). A failed refresh keeps \
             the old entry. Not combinable with `--stdin` (the refresh has no stdin to \
             replay).",
        ),
        (
            "`--warm`",
            "Start that refresh now and return at once, printing nothing (exit 0); use it \
             to pre-fill a cache.",
        ),
        (
            "`--stale-if-error` {DURATION}",
            "When the entry has expired and the new run fails (non-zero exit or a signal), \
             serve the last good entry instead if it expired less than this ago (as HTTP's \
             stale-if-error, RFC 5861). The run is then captured, not streamed, so the caller \
             sees one result, never a mix.",
        ),
        (
            "`--retry` {N} `--retry-delay` {DURATION}",
            "Retry a failed run up to {N} more times, waiting {DURATION} (default 1s) and \
             doubling it each time. Attempts are captured and only the final attempt's \
             output is emitted.",
        ),
        (
            "`--expires-at` {TIME}",
            "The entry expires at the next time the local clock shows {TIME} (`17:00`) or at \
             an RFC 3339 instant (`2026-12-01T09:00:00Z`); with `--ttl`, the earlier expiry \
             wins. The instant is computed when the entry is written and stored in it.",
        ),
        (
            "`--expires-from` {PATH} `--expiry-margin` {DURATION}",
            "After a successful run, read the JSON stdout's value at {PATH} (`/a/b` or `$.a.b`): \
             an instant, epoch seconds (from 10^9) or seconds left (below); expire then, less \
             {DURATION}. No such value: not cached, unless `--ttl` is given.",
        ),
    ] {
        tagged(&mut r, flag, meaning);
    }
    r
}

pub(crate) fn concurrency() -> Roff {
    let mut r = Roff::new();
    heading(&mut r, "CONCURRENCY");
    text(
        &mut r,
        "Concurrent misses of one key run the command once: the first caller takes a \
         per-key `flock`, the others wait for it and then replay its entry. The kernel \
         releases the lock when its holder dies, however it dies. The wait is bounded by \
         `--lock-timeout`; past it a waiter runs the command itself. Correctness never \
         depends on the lock: where locking is impossible, results are still right, only \
         duplicated.",
    );
    r
}

pub(crate) fn storage() -> Roff {
    let mut r = Roff::new();
    heading(&mut r, "STORAGE");
    text(
        &mut r,
        "Entries live under `--cache-dir`, `CACHECMD_DIR`, or `$XDG_CACHE_HOME/cachecmd` \
         (`~/.cache/cachecmd`); never a shared `/tmp` path by default.",
    );
    subheading(&mut r, "Layout");
    literal(
        &mut r,
        [
            "ROOT/CACHEDIR.TAG",
            "ROOT/v1/entries/<2 hex>/<64 hex key>",
            "ROOT/v1/locks/",
            "ROOT/v1/journal",
            "ROOT/v1/usage",
        ],
    );
    para(
        &mut r,
        "256 shard directories keep each directory small at a million entries. Temp files \
         are `.tmp.`{key}`.`{pid}`.`{n} beside the entry. `CACHEDIR.TAG` tells backup \
         tools to skip the cache. Hits and misses are counted by appending one 48-byte \
         record to the journal (one `open` and one `write` on a hit); `gc` folds it into \
         `usage`. Counts are statistics: a record lost to a crash makes a count low, never \
         an output wrong.",
    );
    for (title, body) in [
        (
            "Permissions",
            "The directory and any parents cachecmd creates are mode 0700, entries 0600, \
             whatever the umask. A cache directory that is not owned by you, or is writable \
             by group or others, is refused: the command still runs (uncached) and one line \
             on stderr says how to fix it.",
        ),
        (
            "Privacy",
            "Environment values are hashed into the key and never written in clear. An \
             entry stores the command line, the working directory and the names of the \
             keyed variables, so `list` can show what it is, and the command's stdout and \
             stderr as it printed them.",
        ),
        (
            "Integrity",
            "Each entry has a magic, a format version, lengths checked against the file \
             size, and xxh3 checksums of its header, metadata, stdout and stderr, all \
             verified before a byte is replayed. Anything that does not verify (garbage, \
             truncation, a zero-filled page after power loss, a flipped bit) is a miss and \
             is replaced by the next run. Entries are written to a temp file and renamed \
             into place, but not fsynced: a power loss can lose a recent entry, never serve \
             a wrong one.",
        ),
        (
            "Garbage collection",
            "`gc` removes expired entries (by the lifetime recorded in each), undecodable \
             entry files, temp files older than an hour and idle lock files, then evicts \
             least recently used entries until the cache is within `--max-size` and \
             `--max-entries`. A miss also starts it in the background when the last gc is \
             more than 5 minutes old; the hit path never does. A gc racing a reader can make \
             the reader miss, never print a wrong byte.",
        ),
        (
            "Deletion",
            "`clear` and `evict` only delete files that carry cachecmd's names (and, for \
             entries, its magic) inside its own `v1/` tree, never through a symlink: a \
             cache directory pointed at a folder of yours cannot lose your files.",
        ),
        (
            "Fail open",
            "No cache problem changes a command's result. An unwritable or unsafe cache \
             directory, a full disk, a corrupt entry, a failed lock: cachecmd runs the \
             command and returns its real output and exit status. With `-v` the status \
             line says what went wrong; without it cachecmd stays silent except for a bad \
             cache directory, reported in one line because it will not fix itself.",
        ),
    ] {
        subheading(&mut r, title);
        text(&mut r, body);
    }
    r
}

pub(crate) fn exit_status() -> Roff {
    let mut r = Roff::new();
    heading(&mut r, "EXIT STATUS");
    let code = |status: i32| format!("`{status}`");
    for (status, meaning) in [
        (
            "the command's".to_owned(),
            "On a miss, the command's own exit status; on a hit, the recorded one.",
        ),
        (
            "`128+`{N}".to_owned(),
            "The command was killed by signal {N} (such a run is never cached).",
        ),
        (
            code(exit_codes::USAGE),
            "cachecmd's own error: bad flag, bad duration, bad glob, bad config file.",
        ),
        (
            code(exit_codes::MISS),
            "`--cached-only` or `--check`: no fresh entry (see `--miss-status`).",
        ),
        ("`1`".to_owned(), "`show` or `evict --key`: no entry, or an ambiguous key prefix."),
        (code(exit_codes::NOT_EXECUTABLE), "The command was found but could not be executed."),
        (code(exit_codes::NOT_FOUND), "The command was not found."),
    ] {
        tagged(&mut r, &status, meaning);
    }
    para(
        &mut r,
        "When the reader of cachecmd's output goes away (`cachecmd -- cmd | head -1`), \
         cachecmd stops quietly. On a miss it closes the command's pipe so the command \
         gets SIGPIPE exactly as it would without cachecmd (and the partial run is not \
         cached). On a hit it returns the recorded exit status.",
    );
    r
}

/// Variables of options first (derived from clap, so new ones appear by
/// themselves), then the ones cachecmd reads outside clap.
pub(crate) fn environment(options: &[EnvOption]) -> Roff {
    let mut r = Roff::new();
    heading(&mut r, "ENVIRONMENT");
    text(&mut r, "A flag overrides its variable; a variable overrides the config file.");
    for option in options {
        tagged(
            &mut r,
            &format!("`{}`", option.name),
            &format!("Used when `{}` is not given.", option.flag),
        );
        clap_text(&mut r, &option.help);
    }
    let others = [
        (
            "CACHECMD_DISABLE",
            "Set to a non-empty value other than `0` (say `CACHECMD_DISABLE=1`): pure \
             pass-through, cachecmd becomes the command and touches no cache (`--cached-only` \
             and `--check` then miss, running nothing). Subcommands are unaffected.",
        ),
        (
            "CACHECMD_TRACE_INPUTS",
            "Like `--trace-inputs` when true (`1`, `true`, `yes`, `on`); false (`0`, `false`, \
             `no`, `off`) overrides the config file's `trace_inputs`.",
        ),
        (
            "CACHECMD_REMOTE_PASSWORD",
            "The password of the `--remote` Redis server, so it need not be in the URL. \
             It never appears in any message, `-v` line, `list` or `stats`.",
        ),
        (
            "CACHECMD_CONFIG",
            "The config file to read instead of `$XDG_CONFIG_HOME/cachecmd/config.toml`.",
        ),
        (
            "XDG_CACHE_HOME",
            "The default cache directory is `$XDG_CACHE_HOME/cachecmd` \
             (`~/.cache/cachecmd` when unset).",
        ),
        (
            "XDG_CONFIG_HOME",
            "The default config file is `$XDG_CONFIG_HOME/cachecmd/config.toml` \
             (`~/.config/cachecmd/config.toml` when unset).",
        ),
        (
            "NO_COLOR",
            "When non-empty, no colour: `list`, `show` and `stats` (with `--color auto`, \
             the default) colour only on a terminal and never with `NO_COLOR`, and help \
             and error messages follow the same rule. Like every \
             variable it reaches the command unchanged, and it is part of the key only with \
             `--env NO_COLOR`.",
        ),
    ];
    for (name, meaning) in others {
        if options.iter().all(|option| option.name != name) {
            tagged(&mut r, &format!("`{name}`"), meaning);
        }
    }
    r
}

/// Every variable that clap reads for an option, once, in declaration
/// order, with the option it stands in for and that option's help.
pub(crate) fn env_options(cmd: &Command) -> Vec<EnvOption> {
    fn collect(cmd: &Command, found: &mut Vec<EnvOption>) {
        for arg in cmd.get_arguments().filter(|arg| !arg.is_hide_set() && !arg.is_hide_env_set()) {
            let (Some(env), Some(long)) = (arg.get_env(), arg.get_long()) else {
                continue;
            };
            let name = env.to_string_lossy().into_owned();
            if found.iter().all(|known| known.name != name) {
                found.push(EnvOption {
                    name,
                    flag: format!("--{long}"),
                    help: arg.get_help().map(ToString::to_string).unwrap_or_default(),
                });
            }
        }
        for sub in cmd.get_subcommands() {
            collect(sub, found);
        }
    }
    let mut found = Vec::new();
    collect(cmd, &mut found);
    found
}
