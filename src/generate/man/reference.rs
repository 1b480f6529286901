//! The page's reference sections: the config file and its every key, and
//! EXAMPLES taken from the `--help` epilogue.

use clap_mangen::roff::{roman, Roff};

use super::markup::{heading, literal, para, tagged};
use crate::exit_codes;

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
            "cache_dir = \"/home/me/.cache/cachecmd\"",
            "env = [\"AWS_PROFILE\", \"KUBECONFIG\"]",
            "lock_timeout = \"10m\"",
            "max_entry_size = \"1GiB\"",
            "max_size = \"1GiB\"",
            "max_entries = 100000",
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
