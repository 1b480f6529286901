//! The bash script: a template for bash-completion (whose `_init_completion`,
//! `_filedir` and `_command_offset` it uses) filled with the definition's
//! tables.

use super::model::{Cli, Context, Value, Words};

const TEMPLATE: &str = r#"# bash completion for @BIN@                                -*- shell-script -*-
# Generated from @BIN@'s clap definition (`cargo xtask generate`, or
# `@BIN@ completions bash`). Needs the bash-completion package: the words
# after `--` or after the command's name are the wrapped command's, and go to
# its own completion through _command_offset, as for sudo.

# The options of context $1.
_@FN@_options()
{
    case $1 in
@OPTIONS@
    esac
}

# Succeeds if option $2 of context $1 takes a value.
_@FN@_takes_value()
{
    case $1:$2 in
        @VALUED@) return 0 ;;
    esac
    return 1
}

# Completes the value of option $2 of context $1. Durations, sizes and
# names complete nothing, and never file names.
_@FN@_value()
{
    case $1:$2 in
@VALUES@
    esac
}

# The key prefixes of the cached entries, most recent first.
_@FN@_keys()
{
    local IFS=$'\n' line keys=()
    for line in $(@BIN@ __complete-keys 2>/dev/null); do
        keys+=("${line%%$'\t'*}")
    done
    COMPREPLY=($(compgen -W "${keys[*]}" -- "$cur"))
}

_@FN@()
{
    local cur prev words cword split
    _init_completion -s || return

    local context=run i=1 start=
    case ${words[1]-} in
        @SUBCOMMANDS_PATTERN@)
            if ((cword > 1)); then
                context=${words[1]}
                i=2
            fi
            ;;
    esac
    # Find where the wrapped command line starts, if it has begun.
    while ((i < cword)); do
        case ${words[i]} in
            --)
                case $context in
                    @WRAPS_AFTER_DASHES@) start=$((i + 1)) ;;
                    *) return ;;
                esac
                break
                ;;
            --*=*) ;;
            -*)
                if _@FN@_takes_value "$context" "${words[i]}"; then
                    ((i++))
                    if ((i == cword)); then
                        _@FN@_value "$context" "${words[i - 1]}"
                        return
                    fi
                fi
                ;;
            *)
                case $context in
                    @WRAPS@)
                        start=$i
                        break
                        ;;
                esac
                ;;
        esac
        ((i++))
    done
    if [[ $start ]]; then
        # _command_offset reads the raw words; give it ours, which keep
        # `--opt=value` whole as our offset counts it.
        local COMP_WORDS=("${words[@]}") COMP_CWORD=$cword
        _command_offset "$start"
        return
    fi
    if [[ $split == true ]]; then
        _@FN@_takes_value "$context" "$prev" && _@FN@_value "$context" "$prev"
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_@FN@_options "$context")" -- "$cur"))
        return
    fi
    case $context in
@WORDS@
    esac
} &&
    complete -F _@FN@ @BIN@

# ex: filetype=sh
"#;

pub(crate) fn render(cli: &Cli) -> String {
    let subcommands: Vec<&str> = cli.subcommands().map(|c| c.name.as_str()).collect();
    let names = |pred: fn(&Context) -> bool| {
        let names: Vec<&str> =
            cli.contexts.iter().filter(|c| pred(c)).map(|c| c.name.as_str()).collect();
        if names.is_empty() {
            "''".to_owned()
        } else {
            names.join(" | ")
        }
    };
    TEMPLATE
        .replace("@OPTIONS@", &options(cli))
        .replace("@VALUED@", &valued(cli))
        .replace("@VALUES@", &values(cli))
        .replace("@SUBCOMMANDS_PATTERN@", &subcommands.join(" | "))
        .replace("@WRAPS_AFTER_DASHES@", &names(Context::wraps_after_dashes))
        .replace("@WRAPS@", &names(|c| c.words == Words::Command))
        .replace("@WORDS@", &words(cli, &subcommands))
        .replace("@FN@", &cli.bin.replace('-', "_"))
        .replace("@BIN@", &cli.bin)
}

fn options(cli: &Cli) -> String {
    let arm = |c: &Context| {
        let names: Vec<String> = c.options.iter().flat_map(|o| o.spellings()).collect();
        format!("        {}) echo '{}' ;;", c.name, names.join(" "))
    };
    cli.contexts.iter().map(arm).collect::<Vec<_>>().join("\n")
}

fn valued(cli: &Cli) -> String {
    let pairs: Vec<String> = cli
        .contexts
        .iter()
        .flat_map(|c| c.valued().flat_map(|o| o.spellings()).map(|s| format!("{}:{s}", c.name)))
        .collect();
    pairs.join(" | ")
}

/// One case arm per kind of value, listing every `context:--option` of it.
fn values(cli: &Cli) -> String {
    let mut arms: Vec<(String, Vec<String>)> = Vec::new();
    for c in &cli.contexts {
        for opt in c.valued() {
            let action = completion(opt.value.as_ref().expect("valued"));
            let patterns = opt.spellings().into_iter().map(|s| format!("{}:{s}", c.name));
            match arms.iter_mut().find(|(a, _)| *a == action) {
                Some((_, known)) => known.extend(patterns),
                None => arms.push((action, patterns.collect())),
            }
        }
    }
    arms.iter()
        .map(|(action, patterns)| format!("        {}) {action} ;;", patterns.join(" | ")))
        .collect::<Vec<_>>()
        .join("\n")
}

fn completion(value: &Value) -> String {
    match value {
        Value::Nothing => ":".to_owned(),
        Value::Files => "_filedir".to_owned(),
        Value::Dirs => "_filedir -d".to_owned(),
        Value::EnvVars => "COMPREPLY=($(compgen -e -- \"$cur\"))".to_owned(),
        Value::Keys => "_@FN@_keys".to_owned(),
        Value::Choices(choices) => {
            format!("COMPREPLY=($(compgen -W '{}' -- \"$cur\"))", choices.join(" "))
        }
    }
}

/// What each context completes for a word that is not an option.
fn words(cli: &Cli, subcommands: &[&str]) -> String {
    let arm = |c: &Context| {
        let body = match &c.words {
            Words::Command if c.name == "run" => format!(
                "local COMP_WORDS=(\"${{words[@]}}\") COMP_CWORD=$cword\n            \
                 _command_offset \"$cword\"\n            \
                 ((cword == 1)) && COMPREPLY+=($(compgen -W '{}' -- \"$cur\"))",
                subcommands.join(" ")
            ),
            Words::Command => "local COMP_WORDS=(\"${words[@]}\") COMP_CWORD=$cword\n            \
                 _command_offset \"$cword\""
                .to_owned(),
            Words::Value(value) | Words::ValueThenCommand(value) => completion(value),
            Words::None => return None,
        };
        Some(format!("        {})\n            {body}\n            ;;", c.name))
    };
    cli.contexts.iter().filter_map(arm).collect::<Vec<_>>().join("\n")
}
