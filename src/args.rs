//! From our argv to a [`Cli`]: what the declaration in `cli.rs` cannot say
//! by itself. Options before a subcommand's name belong to the subcommand;
//! an empty `CACHECMD_*` variable counts as unset; a bad value that came
//! from a variable is blamed on the variable, not on the flag; clap's tip
//! "use '-- -5'" is dropped, since after `--` the value would be run as the
//! command.

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, FromArgMatches};

use crate::cli::Cli;

mod fast;

/// Why the command line could not be parsed.
pub enum ArgsError {
    /// Clap's own report (including `--help` and `--version`).
    Clap(clap::Error),
    /// Our own one-line message: a `CACHECMD_*` variable holds a value its
    /// option refuses, or an option's value is not UTF-8.
    Message(String),
}

/// Parses `argv` (program name first) with the environment.
pub fn parse(argv: impl IntoIterator<Item = OsString>) -> Result<Cli, ArgsError> {
    let argv: Vec<OsString> = argv.into_iter().collect();
    match fast::parse(&argv, &|name| std::env::var_os(name)) {
        Some(cli) => Ok(cli),
        None => parse_with_clap(argv),
    }
}

/// The whole grammar: every line `fast` declines, and its reference.
fn parse_with_clap(argv: Vec<OsString>) -> Result<Cli, ArgsError> {
    let mut command = command();
    let argv = hoist(&command, argv);
    match command.try_get_matches_from_mut(&argv) {
        Ok(matches) => {
            let cli = Cli::from_arg_matches(&matches).map_err(ArgsError::Clap);
            // The declaration and the matches are a few hundred small
            // allocations that a hit would spend a tenth of its time
            // freeing; the process ends soon and the memory with it.
            std::mem::forget(matches);
            std::mem::forget(command);
            cli
        }
        Err(e) => Err(explain(&command, &argv, e)),
    }
}

/// The declaration, with every variable that is set but empty ignored.
fn command() -> clap::Command {
    fn unset_empty(arg: clap::Arg) -> clap::Arg {
        let empty = arg.get_env().and_then(std::env::var_os).is_some_and(|v| v.is_empty());
        if empty {
            arg.env(None)
        } else {
            arg
        }
    }
    Cli::command().mut_args(unset_empty).mut_subcommands(|sub| sub.mut_args(unset_empty))
}

/// `cachecmd -v clear ...` is `cachecmd clear -v ...`: the options before
/// the first word move after it when that word is a subcommand, so the
/// subcommand sees (and checks) them. Scanning stops at the first word or
/// `--`, so the command of a run is never looked into, and `cachecmd --
/// clear` still runs `clear`.
fn hoist(command: &clap::Command, argv: Vec<OsString>) -> Vec<OsString> {
    let takes_value = |arg: &clap::Arg| arg.get_action().takes_values();
    let mut at = 1;
    while let Some(word) = argv.get(at) {
        let Some(word) = word.to_str() else { return argv };
        if word == "--" || word == "-" || !word.starts_with('-') {
            break;
        }
        let value_follows = if let Some(long) = word.strip_prefix("--") {
            match command.get_arguments().find(|a| a.get_long() == Some(long)) {
                Some(arg) => takes_value(arg),
                // `--name=value`, or unknown: the word stands alone.
                None => false,
            }
        } else {
            // A cluster of short flags; a value-taking one ends it.
            let mut follows = false;
            for (index, c) in word.char_indices().skip(1) {
                match command.get_arguments().find(|a| a.get_short() == Some(c)) {
                    Some(arg) if takes_value(arg) => {
                        follows = index + c.len_utf8() == word.len();
                        break;
                    }
                    Some(_) => {}
                    None => return argv,
                }
            }
            follows
        };
        at += 1 + usize::from(value_follows);
    }
    let Some(name) = argv.get(at).and_then(|w| w.to_str()) else { return argv };
    if at == 1 || command.find_subcommand(name).is_none() {
        return argv;
    }
    let mut hoisted = vec![argv[0].clone(), argv[at].clone()];
    hoisted.extend_from_slice(&argv[1..at]);
    hoisted.extend_from_slice(&argv[at + 1..]);
    hoisted
}

/// Clap's error, reworded where it would mislead.
fn explain(command: &clap::Command, argv: &[OsString], mut e: clap::Error) -> ArgsError {
    if let Some(ContextValue::StyledStrs(tips)) = e.remove(ContextKind::Suggested) {
        let tips: Vec<_> =
            tips.into_iter().filter(|tip| !tip.to_string().contains("as a value, use")).collect();
        if !tips.is_empty() {
            e.insert(ContextKind::Suggested, ContextValue::StyledStrs(tips));
        }
    }
    if e.kind() == ErrorKind::InvalidUtf8 {
        if let Some(flag) = non_utf8_option(argv).or_else(|| non_utf8_variable(command)) {
            return ArgsError::Message(format!("{flag}: the value is not valid UTF-8"));
        }
    }
    if matches!(e.kind(), ErrorKind::ValueValidation | ErrorKind::InvalidValue) {
        if let Some(message) = from_variable(command, argv, &e) {
            return ArgsError::Message(message);
        }
    }
    ArgsError::Clap(e)
}

/// The option whose value is not UTF-8 (`--input`, `--env`): clap's error
/// does not say which.
fn non_utf8_option(argv: &[OsString]) -> Option<String> {
    let at = argv.iter().position(|word| word.to_str().is_none())?;
    let bytes = argv[at].as_encoded_bytes();
    if let Some(eq) = bytes.iter().position(|&b| b == b'=').filter(|_| bytes.starts_with(b"--")) {
        return Some(String::from_utf8_lossy(&bytes[..eq]).into_owned());
    }
    let previous = argv.get(at.checked_sub(1)?)?.to_str()?;
    previous.starts_with('-').then(|| previous.to_string())
}

/// The variable, set but not UTF-8, of an option that needs text (every
/// one but those taking paths or OS strings): clap's error does not say.
fn non_utf8_variable(command: &clap::Command) -> Option<String> {
    use std::any::TypeId;
    let mut commands = vec![command];
    while let Some(command) = commands.pop() {
        commands.extend(command.get_subcommands());
        for arg in command.get_arguments() {
            let Some(name) = arg.get_env() else { continue };
            let type_id = arg.get_value_parser().type_id();
            let binary = type_id == TypeId::of::<OsString>()
                || type_id == TypeId::of::<std::path::PathBuf>();
            if !binary && std::env::var_os(name).is_some_and(|v| v.to_str().is_none()) {
                return Some(name.to_string_lossy().into_owned());
            }
        }
    }
    None
}

/// When the refused value came from a variable (the flag was not given):
/// a message naming the variable.
fn from_variable(command: &clap::Command, argv: &[OsString], e: &clap::Error) -> Option<String> {
    let ContextValue::String(flag) = e.get(ContextKind::InvalidArg)? else { return None };
    let long = flag.strip_prefix("--")?.split([' ', '=']).next()?;
    // The subcommand whose argument it is, if any.
    let scope = argv
        .get(1)
        .and_then(|w| w.to_str())
        .and_then(|name| command.find_subcommand(name))
        .unwrap_or(command);
    // Run mode's variables are read whatever the subcommand (`config` too).
    let named = |a: &&clap::Arg| a.get_long() == Some(long) && a.get_env().is_some();
    let arg = scope.get_arguments().find(named).or_else(|| command.get_arguments().find(named))?;
    let var = arg.get_env()?.to_owned();
    let value = std::env::var_os(&var)?;
    // Parsed again without the variable: if that error goes away, the
    // variable was the culprit.
    let without =
        command.clone().mut_args(|a| if a.get_env() == Some(&var) { a.env(None) } else { a });
    let without = without.mut_subcommands(|sub| {
        sub.mut_args(|a| if a.get_env() == Some(&var) { a.env(None) } else { a })
    });
    match without.try_get_matches_from(argv) {
        Err(again)
            if again.kind() == e.kind()
                && again.get(ContextKind::InvalidArg) == e.get(ContextKind::InvalidArg) =>
        {
            None
        }
        _ => {
            let reason = match std::error::Error::source(e) {
                Some(source) => source.to_string(),
                None => match e.get(ContextKind::ValidValue) {
                    Some(valid) => format!("expected one of {valid}"),
                    None => "invalid value".to_string(),
                },
            };
            let (var, value) = (var.to_string_lossy(), value.to_string_lossy());
            if reason.contains(&format!("'{value}'")) {
                Some(format!("{var}: {reason}"))
            } else {
                Some(format!("{var}: invalid value '{value}': {reason}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;

    fn parse_ok(args: &[&str]) -> Cli {
        match parse(args.iter().map(OsString::from)) {
            Ok(cli) => cli,
            Err(ArgsError::Clap(e)) => panic!("{args:?}: {e}"),
            Err(ArgsError::Message(e)) => panic!("{args:?}: {e}"),
        }
    }

    #[test]
    fn cli_declaration_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn subcommand_names_are_reserved_but_double_dash_runs_them() {
        let cli = parse_ok(&["cachecmd", "clear"]);
        assert!(matches!(cli.subcommand, Some(Command::Clear(_))));
        let cli = parse_ok(&["cachecmd", "--", "clear"]);
        assert!(cli.subcommand.is_none());
        assert_eq!(cli.run.command, vec![OsString::from("clear")]);
    }

    #[test]
    fn options_before_a_subcommand_belong_to_it() {
        let cli = parse_ok(&["cachecmd", "-v", "clear", "--command", "kubectl*"]);
        let Some(Command::Clear(clear)) = cli.subcommand else { panic!("not clear") };
        assert!(clear.common.verbose);
        assert_eq!(clear.command.as_deref(), Some("kubectl*"));
        let cli = parse_ok(&["cachecmd", "--cache-dir", "list", "list"]);
        let Some(Command::List(list)) = cli.subcommand else { panic!("not list") };
        assert_eq!(list.common.cache_dir, Some("list".into()));
        // A run option a subcommand does not have is an error, not a run.
        assert!(parse(["cachecmd", "--ttl", "1h", "clear"].map(OsString::from)).is_err());
        let cli = parse_ok(&["cachecmd", "-v", "--", "clear"]);
        assert_eq!(cli.run.command, vec![OsString::from("clear")]);
    }

    #[test]
    fn flags_after_the_command_belong_to_the_command() {
        let cli = parse_ok(&["cachecmd", "--ttl", "5m", "ls", "--ttl", "-l"]);
        assert_eq!(cli.run.command, ["ls", "--ttl", "-l"].map(OsString::from).to_vec());
        let cli = parse_ok(&["cachecmd", "-v", "ls", "clear"]);
        assert_eq!(cli.run.command, ["ls", "clear"].map(OsString::from).to_vec());
    }

    #[test]
    fn the_last_of_a_repeated_option_wins_and_lists_accumulate() {
        let cli = parse_ok(&[
            "cachecmd", "--ttl", "1h", "--ttl", "5m", "--env", "A", "--env", "B", "--", "x",
        ]);
        assert_eq!(cli.run.ttl, Some(crate::units::parse_lifetime("5m").unwrap()));
        assert_eq!(cli.run.key.env, ["A", "B"]);
    }
}
