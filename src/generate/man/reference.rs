//! The page's reference sections: the config file and every key of it, and
//! EXAMPLES taken from the `--help` epilogue.

use clap_mangen::roff::{roman, Roff};

use super::markup::{heading, literal, para, tagged, text};
use crate::exit_codes;

/// Every key the config file accepts, what it sets, and its flag and
/// variable; an unknown key is an error, so this list is the whole schema.
pub(crate) const CONFIG_KEYS: [(&str, &str); 17] = [
    ("ttl", "How long an entry is served (`--ttl`, `CACHECMD_TTL`). Default 1h."),
    (
        "failure_ttl",
        "Also cache non-zero exits, served for this long (`--failure-ttl`, \
         `CACHECMD_FAILURE_TTL`). Default: failures are not cached.",
    ),
    (
        "cache_exit_codes",
        "Which exit statuses are cached, e.g. `0,1,100-199` (`--cache-exit-codes`, \
         `CACHECMD_CACHE_EXIT_CODES`); listed non-zero ones live for `failure_ttl`, else \
         `ttl`. Default: 0, and every status when `failure_ttl` is set.",
    ),
    (
        "miss_status",
        "The exit status of a miss under `--cached-only` or `--check` \
         (`--miss-status`, `CACHECMD_MISS_STATUS`). Default: 3.",
    ),
    (
        "expires_from",
        "Where a successful run's JSON stdout says when it expires (`--expires-from`, \
         `CACHECMD_EXPIRES_FROM`); part of the key.",
    ),
    (
        "expiry_margin",
        "An absolute expiry counts this much earlier (`--expiry-margin`, \
         `CACHECMD_EXPIRY_MARGIN`). Default 0s.",
    ),
    (
        "trace_inputs",
        "Find each command's inputs by tracing it (`--trace-inputs`, \
         `CACHECMD_TRACE_INPUTS`); part of the key. Default false.",
    ),
    (
        "trace_ignore",
        "Globs of paths left out of traced inputs; `--trace-ignore` adds to this list.",
    ),
    ("cache_dir", "The cache directory (`--cache-dir`, `CACHECMD_DIR`)."),
    (
        "env",
        "Variables always keyed, names or globs; `--env` (or `CACHECMD_ENV`, comma-separated) \
         adds to this list rather than replacing it.",
    ),
    (
        "lock_timeout",
        "Longest wait for another caller running the same key (`--lock-timeout`, \
         `CACHECMD_LOCK_TIMEOUT`). Default 10m.",
    ),
    (
        "max_entry_size",
        "Larger outputs are streamed but not cached (`--max-entry-size`, \
         `CACHECMD_MAX_ENTRY_SIZE`). Default 1GiB; a number of bytes or text such as `500M`.",
    ),
    (
        "max_size",
        "The size gc keeps the cache under (`--max-size`, `CACHECMD_MAX_SIZE`). Default 1GiB.",
    ),
    ("max_entries", "The most entries gc keeps (`--max-entries`, `CACHECMD_MAX_ENTRIES`)."),
    ("remote", "The remote tier's URL (`--remote`, `CACHECMD_REMOTE`); see REMOTE TIER."),
    (
        "remote_read_only",
        "Read the remote tier, never write it (`--remote-read-only`, \
         `CACHECMD_REMOTE_READ_ONLY`).",
    ),
    (
        "remote_max_entry_size",
        "Larger entries stay local-only. Default 64MiB. No flag or variable.",
    ),
];

pub(crate) fn configuration() -> Roff {
    let mut r = Roff::new();
    heading(&mut r, "CONFIGURATION");
    text(
        &mut r,
        "The config file is TOML (see FILES). Durations are written as for `--ttl`, sizes as \
         for `--max-size`. A flag overrides its variable, and a variable the file. Its keys:",
    );
    for (key, meaning) in CONFIG_KEYS {
        tagged(&mut r, &format!("`{key}`"), meaning);
    }
    r
}

pub(crate) fn files() -> Roff {
    let mut r = Roff::new();
    heading(&mut r, "FILES");
    tagged(
        &mut r,
        "`$XDG_CONFIG_HOME/cachecmd/config.toml`",
        "The config file (usually `~/.config/cachecmd/config.toml`; `CACHECMD_CONFIG` \
         names another).",
    );
    tagged(
        &mut r,
        "`$XDG_CACHE_HOME/cachecmd/`",
        "The cache (usually `~/.cache/cachecmd/`); see STORAGE.",
    );
    para(&mut r, "Every key of the config file is optional:");
    literal(
        &mut r,
        [
            "ttl = \"1h\"",
            "failure_ttl = \"30s\"",
            "expires_from = \"/Credentials/Expiration\"",
            "expiry_margin = \"5m\"",
            "trace_inputs = false",
            "trace_ignore = [\"*.log\"]",
            "cache_dir = \"/home/me/.cache/cachecmd\"",
            "env = [\"AWS_PROFILE\", \"KUBECONFIG\"]",
            "lock_timeout = \"10m\"",
            "max_entry_size = \"1GiB\"",
            "max_size = \"1GiB\"",
            "max_entries = 100000",
            "remote = \"redis://cache.internal:6379/0\"",
            "remote_read_only = false",
            "remote_max_entry_size = \"64MiB\"",
        ],
    );
    para(
        &mut r,
        &format!(
            "An unknown key, a malformed file or a bad value stops cachecmd with exit {} \
             and a message naming the file and the key. `--env` adds to the file's `env` \
             list rather than replacing it: the file names the variables that must always \
             be keyed.",
            exit_codes::USAGE
        ),
    );
    r
}

/// EXAMPLES from the `--help` epilogue, so `--help` and the page agree:
/// `# comment` lines become prose, the other lines literal commands.
pub(crate) fn examples(after_help: &str) -> Roff {
    fn flush(r: &mut Roff, commands: &mut Vec<&str>) {
        if !commands.is_empty() {
            literal(r, commands.drain(..));
        }
    }
    let mut r = Roff::new();
    heading(&mut r, "EXAMPLES");
    let body = after_help.trim_start();
    let body = body.strip_prefix(EXAMPLES_HEADING).unwrap_or(body);
    let mut commands = Vec::new();
    let mut first = true;
    for line in body.lines().map(str::trim) {
        if let Some(comment) = line.strip_prefix('#') {
            flush(&mut r, &mut commands);
            if !first {
                r.control("PP", []);
            }
            r.text([roman(comment.trim())]);
            first = false;
        } else if !line.is_empty() {
            commands.push(line);
            first = false;
        }
    }
    flush(&mut r, &mut commands);
    r
}

/// How an epilogue of examples begins.
pub(crate) const EXAMPLES_HEADING: &str = "Examples:";
