//! The fish script: `complete` lines from the definition, each guarded by a
//! condition that parses the line so far; the wrapped command's words go to
//! `complete -C` of the rest of the line, so its own completion answers.

use super::model::{Cli, Context, Opt, Value, Words};

const HEADER: &str = r#"# fish completion for @BIN@. Generated from @BIN@'s clap definition
# (`cargo xtask generate`, or `@BIN@ completions fish`). The words after
# `--` or after the command's name are the wrapped command's, completed by
# its own completion.

# Prints the context (run or a subcommand) and the index of the wrapped
# command's first word among the tokens before the cursor (0: not begun).
function __@FN@_parse
    set -l tokens (commandline -opc)
    set -l context run
    set -l i 2
    if test (count $tokens) -ge 2; and contains -- $tokens[2] @SUBCOMMANDS@
        set context $tokens[2]
        set i 3
    end
    set -l valued @VALUED@
    while test $i -le (count $tokens)
        switch $tokens[$i]
            case --
                if contains -- $context @WRAPS_AFTER_DASHES@
                    echo $context (math $i + 1)
                else
                    echo $context -1
                end
                return
            case '--*=*'
            case '-*'
                if contains -- $context:$tokens[$i] $valued
                    set i (math $i + 1)
                end
            case '*'
                if contains -- $context @WRAPS@
                    echo $context $i
                    return
                end
        end
        set i (math $i + 1)
    end
    echo $context 0
end

# Succeeds in context $1 before any wrapped command.
function __@FN@_in
    set -l parsed (string split ' ' -- (__@FN@_parse))
    test "$parsed[1]" = $argv[1]; and test "$parsed[2]" = 0
end

# Succeeds once the wrapped command has begun.
function __@FN@_wrapping
    set -l parsed (string split ' ' -- (__@FN@_parse))
    test "$parsed[2]" -gt 0
end

# Completes the wrapped command line as if it were typed alone.
function __@FN@_complete_wrapped
    set -l parsed (string split ' ' -- (__@FN@_parse))
    set -l tokens (commandline -opc)
    set -l words
    if test $parsed[2] -le (count $tokens)
        set words (string escape -- $tokens[$parsed[2]..-1])
    end
    complete -C (string join ' ' -- $words (commandline -ct))
end

# The key prefixes of the cached entries, with their command lines.
function __@FN@_keys
    @BIN@ __complete-keys 2>/dev/null
end

complete -c @BIN@ -f
complete -c @BIN@ -n __@FN@_wrapping -a '(__@FN@_complete_wrapped)'
"#;

pub(crate) fn render(cli: &Cli) -> String {
    let names = |pred: fn(&Context) -> bool| {
        let names: Vec<&str> =
            cli.contexts.iter().filter(|c| pred(c)).map(|c| c.name.as_str()).collect();
        names.join(" ")
    };
    let valued: Vec<String> = cli
        .contexts
        .iter()
        .flat_map(|c| c.valued().flat_map(|o| o.spellings()).map(|s| format!("{}:{s}", c.name)))
        .collect();
    let mut script = HEADER
        .replace("@SUBCOMMANDS@", &names(|c| c.name != "run"))
        .replace("@VALUED@", &valued.join(" "))
        .replace("@WRAPS_AFTER_DASHES@", &names(Context::wraps_after_dashes))
        .replace("@WRAPS@", &names(|c| c.words == Words::Command));
    for context in &cli.contexts {
        script.push('\n');
        let condition = format!("'__@FN@_in {}'", context.name);
        if context.name == "run" {
            for sub in cli.subcommands() {
                script.push_str(&format!(
                    "complete -c @BIN@ -n '__fish_is_nth_token 1' -a {} -d {}\n",
                    sub.name,
                    quote(&sub.about)
                ));
            }
        }
        for opt in &context.options {
            script.push_str(&option_line(&condition, opt));
        }
        let words = match &context.words {
            Words::Command => Some("'(__fish_complete_command)'".to_owned()),
            Words::Value(value) | Words::ValueThenCommand(value) => arguments(value),
            Words::None => None,
        };
        if let Some(words) = words {
            let condition =
                format!("'__@FN@_in {}; and not __fish_prev_arg_in {}'", context.name, {
                    let v: Vec<String> = context.valued().flat_map(|o| o.spellings()).collect();
                    if v.is_empty() {
                        "--".to_owned()
                    } else {
                        v.join(" ")
                    }
                });
            script.push_str(&format!("complete -c @BIN@ -n {condition} -a {words}\n"));
        }
    }
    script.replace("@FN@", &cli.bin.replace('-', "_")).replace("@BIN@", &cli.bin)
}

fn option_line(condition: &str, opt: &Opt) -> String {
    let mut line = format!("complete -c @BIN@ -n {condition} -l {}", opt.long);
    if let Some(short) = opt.short {
        line.push_str(&format!(" -s {short}"));
    }
    match &opt.value {
        None => {}
        Some(Value::Files) => line.push_str(" -r -F"),
        Some(value) => {
            line.push_str(" -x");
            if let Some(args) = arguments(value) {
                line.push_str(&format!(" -a {args}"));
            }
        }
    }
    line.push_str(&format!(" -d {}\n", quote(&opt.help)));
    line
}

fn arguments(value: &Value) -> Option<String> {
    Some(match value {
        Value::Nothing => return None,
        Value::Files => "'(__fish_complete_path (commandline -ct))'".to_owned(),
        Value::Dirs => "'(__fish_complete_directories (commandline -ct))'".to_owned(),
        Value::EnvVars => "'(set --names --export)'".to_owned(),
        Value::Keys => "'(__@FN@_keys)'".to_owned(),
        Value::Choices(choices) => quote(&choices.join(" ")),
    })
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', r"\\").replace('\'', r"\'"))
}
