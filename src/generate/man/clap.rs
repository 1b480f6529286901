//! The sections clap knows about, rendered by us rather than clap_mangen so
//! that NAME is one clause, SYNOPSIS names every value, and help text's
//! backticks become bold instead of staying literal.

use clap::{Arg, Command};
use clap_mangen::roff::{bold, italic, roman, Inline, Roff};

use super::markup::{clap_text, heading};

/// `cachecmd`, `cachecmd-evict`: what clap displays and the page is named.
pub(crate) fn page_name(cmd: &Command) -> &str {
    cmd.get_display_name().unwrap_or_else(|| cmd.get_name())
}

pub(crate) fn visible_subcommands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands().filter(|sub| !sub.is_hide_set())
}

/// The about's first clause, as NAME wants it: `forget the cached entry
/// of one invocation`, not the whole sentence with its parenthesis.
pub(crate) fn one_clause(about: &str) -> String {
    let end = [" (", ": ", "; ", ", "].iter().filter_map(|sep| about.find(sep)).min();
    let clause = about[..end.unwrap_or(about.len())].trim().trim_end_matches('.');
    let clause = clause.replace('`', "");
    let mut chars = clause.chars();
    match chars.next() {
        // Keep an acronym's capitals (`SUMMARY` would stay).
        Some(first) if !chars.next().is_some_and(char::is_uppercase) => {
            first.to_lowercase().chain(clause.chars().skip(1)).collect()
        }
        _ => clause,
    }
}

pub(crate) fn name(roff: &mut Roff, cmd: &Command) {
    heading(roff, "NAME");
    let about = cmd.get_about().map(ToString::to_string).unwrap_or_default();
    roff.text([roman(format!("{} - {}", page_name(cmd), one_clause(&about)))]);
}

/// One synopsis line per form: `bin` with every visible option and its
/// value, then the words that are not options.
pub(crate) fn synopsis(roff: &mut Roff, cmd: &Command, bin: &str) {
    roff.control("SY", [bin]);
    for arg in cmd.get_arguments().filter(|a| !a.is_positional() && !a.is_hide_set()) {
        roff.text(option_usage(arg));
    }
    for arg in cmd.get_positionals().filter(|a| !a.is_hide_set()) {
        roff.text(positional_usage(arg));
    }
    roff.control("YS", []);
}

/// `[--ttl DURATION]`, `[-v|--verbose]`, `[--env NAME]...`.
fn option_usage(arg: &Arg) -> Vec<Inline> {
    let mut parts = vec![roman("[")];
    if let Some(short) = arg.get_short() {
        parts.push(bold(format!("-{short}")));
        if arg.get_long().is_some() {
            parts.push(roman("|"));
        }
    }
    if let Some(long) = arg.get_long() {
        parts.push(bold(format!("--{long}")));
    }
    if arg.get_action().takes_values() {
        parts.push(roman(" "));
        parts.push(italic(value_name(arg)));
    }
    parts.push(roman("]"));
    if matches!(arg.get_action(), clap::ArgAction::Append) {
        parts.push(roman("..."));
    }
    parts
}

/// `COMMAND...`, `[KEY-PREFIX]`, `[-- COMMAND...]`.
fn positional_usage(arg: &Arg) -> Vec<Inline> {
    let many = arg.get_num_args().is_some_and(|n| n.max_values() > 1);
    let mut parts = Vec::new();
    if arg.is_last_set() {
        parts.push(bold("--"));
        parts.push(roman(" "));
    }
    parts.push(italic(value_name(arg)));
    if many {
        parts.push(roman("..."));
    }
    if !arg.is_required_set() {
        parts.insert(0, roman("["));
        parts.push(roman("]"));
    }
    parts
}

fn value_name(arg: &Arg) -> String {
    arg.get_value_names()
        .and_then(|names| names.first())
        .map(ToString::to_string)
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase())
}

/// Every visible option, then the words that are not options, each with its
/// help, its variable and its default.
pub(crate) fn options(roff: &mut Roff, cmd: &Command) {
    heading(roff, "OPTIONS");
    let args = cmd.get_arguments().filter(|a| !a.is_positional() && !a.is_hide_set());
    for arg in args.chain(cmd.get_positionals().filter(|a| !a.is_hide_set())) {
        roff.control("TP", []);
        roff.text(tag(arg));
        let help = arg.get_long_help().or_else(|| arg.get_help()).map(ToString::to_string);
        let mut help = help.unwrap_or_default().trim_end().to_owned();
        if !help.is_empty() && !help.ends_with('.') {
            help.push('.');
        }
        clap_text(roff, &help);
        let defaults: Vec<String> =
            arg.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect();
        let takes_values = arg.get_action().takes_values();
        if takes_values && !defaults.is_empty() && !arg.is_hide_default_value_set() {
            roff.text([roman(format!("Default: {}.", defaults.join(", ")))]);
        }
        if let Some(env) = arg.get_env().filter(|_| !arg.is_hide_env_set()) {
            roff.text([roman("Also set by "), bold(env.to_string_lossy()), roman(".")]);
        }
    }
}

fn tag(arg: &Arg) -> Vec<Inline> {
    if arg.is_positional() {
        return positional_usage(arg);
    }
    let mut parts = Vec::new();
    if let Some(short) = arg.get_short() {
        parts.push(bold(format!("-{short}")));
        parts.push(roman(", "));
    }
    if let Some(long) = arg.get_long() {
        parts.push(bold(format!("--{long}")));
    }
    if arg.get_action().takes_values() {
        parts.push(roman(" "));
        parts.push(italic(value_name(arg)));
    }
    parts
}

/// The main page's list of subcommands, each pointing at its own page.
pub(crate) fn subcommands(roff: &mut Roff, cmd: &Command, section: &str) {
    heading(roff, "SUBCOMMANDS");
    for sub in visible_subcommands(cmd) {
        roff.control("TP", []);
        roff.text([bold(page_name(sub)), roman(format!("({section})"))]);
        let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
        clap_text(roff, &about);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_is_one_clause() {
        assert_eq!(
            one_clause("Forget the cached entry of one invocation (same key options as a run)"),
            "forget the cached entry of one invocation"
        );
        assert_eq!(
            one_clause("Cache the output of a command: the first run"),
            "cache the output of a command"
        );
        assert_eq!(
            one_clause("Print the key a run would use (`--explain`)"),
            "print the key a run would use"
        );
        assert_eq!(one_clause("SHA sums"), "SHA sums");
    }
}
