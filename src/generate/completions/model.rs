//! What the completion scripts need to know, read from the clap definition:
//! every context (run mode and each visible subcommand), its visible
//! options, what their values are, and what its words are.

use clap::{Arg, Command, ValueHint};

/// What a value, or a positional word, completes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// Free text (a duration, a size, a name): nothing, and never files.
    Nothing,
    Files,
    Dirs,
    /// Names of exported environment variables.
    EnvVars,
    /// Key prefixes of the cached entries (`cachecmd __complete-keys`).
    Keys,
    Choices(Vec<String>),
}

pub(crate) struct Opt {
    pub(crate) long: String,
    pub(crate) short: Option<char>,
    /// `None` for a flag.
    pub(crate) value: Option<Value>,
    pub(crate) value_name: String,
    pub(crate) repeats: bool,
    pub(crate) help: String,
}

impl Opt {
    /// `--ttl`, and `-v` too when there is a short form.
    pub(crate) fn spellings(&self) -> Vec<String> {
        let mut names = vec![format!("--{}", self.long)];
        names.extend(self.short.map(|c| format!("-{c}")));
        names
    }
}

/// What the words that are not options are.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Words {
    /// The first one starts the wrapped command line (run, evict, key).
    Command,
    /// The first one is a value; a command line only after `--` (show).
    ValueThenCommand(Value),
    /// One value (completions, man).
    Value(Value),
    None,
}

pub(crate) struct Context {
    /// `run` for the top level, else the subcommand's name.
    pub(crate) name: String,
    pub(crate) about: String,
    pub(crate) options: Vec<Opt>,
    pub(crate) words: Words,
}

impl Context {
    /// Whether `--` starts a command line here.
    pub(crate) fn wraps_after_dashes(&self) -> bool {
        matches!(self.words, Words::Command | Words::ValueThenCommand(_))
    }

    pub(crate) fn valued(&self) -> impl Iterator<Item = &Opt> {
        self.options.iter().filter(|opt| opt.value.is_some())
    }
}

pub(crate) struct Cli {
    pub(crate) bin: String,
    /// Run mode first, then the subcommands.
    pub(crate) contexts: Vec<Context>,
}

impl Cli {
    pub(crate) fn read(cmd: &Command) -> Cli {
        let mut cmd = cmd.clone().disable_help_subcommand(true);
        cmd.build();
        let visible: Vec<&Command> = cmd.get_subcommands().filter(|s| !s.is_hide_set()).collect();
        let names: Vec<String> = visible.iter().map(|s| s.get_name().to_owned()).collect();
        let mut contexts = vec![context("run", &cmd, &names)];
        contexts.extend(visible.iter().map(|sub| context(sub.get_name(), sub, &names)));
        Cli { bin: cmd.get_name().to_owned(), contexts }
    }

    pub(crate) fn subcommands(&self) -> impl Iterator<Item = &Context> {
        self.contexts.iter().skip(1)
    }
}

fn context(name: &str, cmd: &Command, subcommands: &[String]) -> Context {
    let about = cmd.get_about().map(|a| a.to_string().replace('`', "")).unwrap_or_default();
    let options = cmd
        .get_arguments()
        .filter(|arg| !arg.is_positional() && !arg.is_hide_set())
        .filter_map(|arg| option(name, arg))
        .collect();
    let positionals: Vec<&Arg> = cmd.get_positionals().filter(|arg| !arg.is_hide_set()).collect();
    let first = positionals.iter().find(|arg| !arg.is_last_set());
    let last = positionals.iter().any(|arg| arg.is_last_set());
    let words = match first {
        Some(arg) if arg.is_trailing_var_arg_set() => Words::Command,
        Some(arg) => {
            let value =
                if name == "man" { Value::Choices(subcommands.to_vec()) } else { value(name, arg) };
            if last {
                Words::ValueThenCommand(value)
            } else {
                Words::Value(value)
            }
        }
        None => Words::None,
    };
    Context { name: name.to_owned(), about, options, words }
}

fn option(context: &str, arg: &Arg) -> Option<Opt> {
    let long = arg.get_long()?.to_owned();
    let takes_value = arg.get_action().takes_values();
    Some(Opt {
        short: arg.get_short(),
        value: takes_value.then(|| value(context, arg)),
        value_name: arg
            .get_value_names()
            .and_then(|names| names.first())
            .map(ToString::to_string)
            .unwrap_or_else(|| "VALUE".to_owned()),
        repeats: matches!(arg.get_action(), clap::ArgAction::Append),
        help: help_line(arg),
        long,
    })
}

fn value(context: &str, arg: &Arg) -> Value {
    let name = arg.get_value_names().and_then(|n| n.first()).map(ToString::to_string);
    // `evict --key KEY-PREFIX` without a command names an entry by key.
    if name.as_deref() == Some("KEY-PREFIX")
        || (context == "evict" && arg.get_long() == Some("key"))
    {
        return Value::Keys;
    }
    if arg.get_long() == Some("env") {
        return Value::EnvVars;
    }
    match arg.get_value_hint() {
        ValueHint::FilePath | ValueHint::AnyPath => return Value::Files,
        ValueHint::DirPath => return Value::Dirs,
        _ => {}
    }
    let choices: Vec<String> =
        arg.get_possible_values().iter().map(|v| v.get_name().to_owned()).collect();
    if choices.is_empty() {
        Value::Nothing
    } else {
        Value::Choices(choices)
    }
}

/// The help's first line, without the `[default: …]` tail or markup.
fn help_line(arg: &Arg) -> String {
    let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
    let line = help.lines().next().unwrap_or_default();
    let line = line.split(" [default").next().unwrap_or_default();
    line.replace('`', "").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn cli() -> Cli {
        Cli::read(&crate::cli::Cli::command())
    }

    fn option<'a>(cli: &'a Cli, context: &str, long: &str) -> Option<&'a Opt> {
        let context = cli.contexts.iter().find(|c| c.name == context).expect("context");
        context.options.iter().find(|o| o.long == long)
    }

    #[test]
    fn hidden_options_and_subcommands_are_left_out() {
        let cli = cli();
        assert!(option(&cli, "run", "refresh").is_none());
        assert!(option(&cli, "gc", "auto").is_none());
        assert!(cli.subcommands().all(|c| !c.name.starts_with("__")));
    }

    #[test]
    fn values_complete_what_they_are() {
        let cli = cli();
        let value = |context, long| option(&cli, context, long).unwrap().value.clone();
        assert_eq!(value("run", "ttl"), Some(Value::Nothing));
        assert_eq!(value("run", "max-size"), Some(Value::Nothing));
        assert_eq!(value("run", "env"), Some(Value::EnvVars));
        assert_eq!(value("run", "input"), Some(Value::Files));
        assert_eq!(value("run", "cache-dir"), Some(Value::Dirs));
        assert_eq!(value("evict", "key"), Some(Value::Keys));
        assert_eq!(value("run", "key"), Some(Value::Nothing));
        assert_eq!(value("run", "force"), None);
    }

    #[test]
    fn run_evict_and_key_wrap_a_command_and_show_takes_a_key_first() {
        let cli = cli();
        let words = |name| &cli.contexts.iter().find(|c| c.name == name).unwrap().words;
        for name in ["run", "evict", "key"] {
            assert_eq!(*words(name), Words::Command, "{name}");
        }
        assert_eq!(*words("show"), Words::ValueThenCommand(Value::Keys));
        assert_eq!(*words("list"), Words::None);
    }
}
