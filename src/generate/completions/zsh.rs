//! The zsh script: `_arguments` specs from the definition, with the wrapped
//! command handed to `_normal` on the words that are its own, as `_sudo`
//! and `_nice` do.

use super::model::{Cli, Context, Opt, Value, Words};

const HEADER: &str = r#"#compdef @BIN@
# zsh completion for @BIN@. Generated from @BIN@'s clap definition
# (`cargo xtask generate`, or `@BIN@ completions zsh`); put it in a
# directory on $fpath before compinit runs. The words after `--` or after the
# command's name are the wrapped command's, completed by its own completion.

# The key prefixes of the cached entries, with their command lines.
(( $+functions[_@FN@_keys] )) ||
_@FN@_keys() {
    local -a keys
    local line
    for line in ${(f)"$(_call_program keys @BIN@ __complete-keys 2>/dev/null)"}; do
        keys+=("${line%%$'\t'*}:${${line#*$'\t'}//:/\\:}")
    done
    _describe -t keys 'key prefix' keys
}

# The wrapped command line, without the `--` that may begin it.
(( $+functions[_@FN@_wrapped] )) ||
_@FN@_wrapped() {
    if [[ $words[1] == -- ]]; then
        shift words
        (( CURRENT-- ))
    fi
    _normal
}

# The first word of a run: a subcommand (only right after @BIN@) or a command.
(( $+functions[_@FN@_first_word] )) ||
_@FN@_first_word() {
    local ret=1
    if (( CURRENT == 2 )); then
        local -a subcommands=(
@SUBCOMMANDS@
        )
        _describe -t subcommands '@BIN@ subcommand' subcommands && ret=0
    fi
    _command_names -e && ret=0
    return ret
}
"#;

pub(crate) fn render(cli: &Cli) -> String {
    let subcommands: Vec<String> = cli
        .subcommands()
        .map(|c| {
            format!("            {}", quote(&format!("{}:{}", c.name, c.about.replace(':', "\\:"))))
        })
        .collect();
    let mut script = HEADER.replace("@SUBCOMMANDS@", &subcommands.join("\n"));
    for context in cli.subcommands() {
        script.push_str(&function(&format!("_@FN@_{}", context.name), context));
    }
    script.push_str(&main_function(cli));
    script.push_str("\nif [ \"$funcstack[1]\" = \"_@FN@\" ]; then\n    _@FN@ \"$@\"\nelse\n    compdef _@FN@ @BIN@\nfi\n");
    script.replace("@FN@", &cli.bin.replace('-', "_")).replace("@BIN@", &cli.bin)
}

fn main_function(cli: &Cli) -> String {
    let names: Vec<&str> = cli.subcommands().map(|c| c.name.as_str()).collect();
    let run = &cli.contexts[0];
    format!(
        "\n_@FN@() {{\n    \
         if (( CURRENT > 2 )); then\n        \
         case $words[2] in\n            \
         ({})\n                \
         shift words\n                \
         (( CURRENT-- ))\n                \
         curcontext=\"${{curcontext%:*:*}}:@BIN@-$words[1]:\"\n                \
         _@FN@_$words[1]\n                \
         return\n                \
         ;;\n        \
         esac\n    \
         fi\n\
         {}}}\n",
        names.join("|"),
        arguments(run)
    )
}

fn function(name: &str, context: &Context) -> String {
    let mut body = String::new();
    if matches!(context.words, Words::ValueThenCommand(_)) {
        // `show KEY-PREFIX` or `show [OPTIONS] -- COMMAND...`.
        body.push_str(
            "    local dashes=${words[(i)--]}\n    \
             if (( dashes < CURRENT )); then\n        \
             shift $dashes words\n        \
             (( CURRENT -= dashes ))\n        \
             _normal\n        \
             return\n    \
             fi\n",
        );
    }
    body.push_str(&arguments(context));
    format!("\n(( $+functions[{name}] )) ||\n{name}() {{\n{body}}}\n")
}

fn arguments(context: &Context) -> String {
    let mut specs: Vec<String> = context.options.iter().flat_map(option_specs).collect();
    let flags = match &context.words {
        Words::Command => {
            let first =
                if context.name == "run" { "_@FN@_first_word" } else { "_command_names -e" };
            specs.push(quote(&format!("(-)1: :{first}")));
            specs.push(quote("*:: :_@FN@_wrapped"));
            "-s -S -A '-*'"
        }
        Words::ValueThenCommand(value) | Words::Value(value) => {
            specs.push(quote(&format!("1: :{}", action(value))));
            "-s -S"
        }
        Words::None => "-s -S",
    };
    let mut text = format!("    _arguments {flags} :");
    for spec in specs {
        text.push_str(" \\\n        ");
        text.push_str(&spec);
    }
    text.push('\n');
    text
}

fn option_specs(opt: &Opt) -> Vec<String> {
    let help = escape(&opt.help);
    let value = match &opt.value {
        Some(value) => format!("=[{help}]:{}:{}", escape(&opt.value_name), action(value)),
        None => format!("[{help}]"),
    };
    let repeat = if opt.repeats { "*" } else { "" };
    let long = format!("--{}", opt.long);
    match opt.short {
        Some(short) => {
            let exclusion = if opt.repeats { "*".to_owned() } else { format!("(-{short} {long})") };
            vec![format!("{}{{-{short},{long}}}{}", quote(&exclusion), quote(&value))]
        }
        None => vec![quote(&format!("{repeat}{long}{value}"))],
    }
}

fn action(value: &Value) -> String {
    match value {
        Value::Nothing => " ".to_owned(),
        Value::Files => "_files".to_owned(),
        Value::Dirs => "_files -/".to_owned(),
        Value::EnvVars => "_parameters -g \"*export*\"".to_owned(),
        Value::Keys => "_@FN@_keys".to_owned(),
        Value::Choices(choices) => format!("({})", choices.join(" ")),
    }
}

/// Text inside an `_arguments` description or `_describe` entry.
fn escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if matches!(c, '\\' | '[' | ']' | ':') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
