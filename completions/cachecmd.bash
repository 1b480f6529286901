# bash completion for cachecmd                                -*- shell-script -*-
# Generated from cachecmd's clap definition (`cargo xtask generate`, or
# `cachecmd completions bash`). Needs the bash-completion package: the words
# after `--` or after the command's name are the wrapped command's, and go to
# its own completion through _command_offset, as for sudo.

# The options of context $1.
_cachecmd_options()
{
    case $1 in
        run) echo '--env --no-cwd --scope --key --input --modtime --stdin --output --expires-from --trace-inputs --trace-ignore --cache-dir --verbose -v --ttl --failure-ttl --force --stale --warm --stale-if-error --retry --retry-delay --expires-at --expiry-margin --cached-only --check --miss-status --cache-exit-codes --lock-timeout --max-entry-size --max-size --max-entries --remote --remote-mode --remote-read-only --remote-timeout --help -h --version -V' ;;
        evict) echo '--env --no-cwd --scope --key --input --modtime --stdin --output --expires-from --trace-inputs --trace-ignore --cache-dir --verbose -v --help -h' ;;
        clear) echo '--cache-dir --verbose -v --scope --expired --older-than --command --remote --help -h' ;;
        key) echo '--env --no-cwd --scope --key --input --modtime --stdin --output --expires-from --trace-inputs --trace-ignore --cache-dir --verbose -v --explain --json --help -h' ;;
        list) echo '--cache-dir --verbose -v --color --scope --command --here --expired --sort --json --remote --help -h' ;;
        show) echo '--env --no-cwd --scope --key --input --modtime --stdin --output --expires-from --trace-inputs --trace-ignore --cache-dir --verbose -v --color --stdout --stderr --json --help -h' ;;
        stats) echo '--cache-dir --verbose -v --color --max-size --max-entries --json --zero --help -h' ;;
        gc) echo '--cache-dir --verbose -v --max-size --max-entries --help -h' ;;
        config) echo '--json --cache-dir --verbose -v --ttl --failure-ttl --cache-exit-codes --miss-status --env --scope --expires-from --expiry-margin --lock-timeout --max-entry-size --max-size --max-entries --remote --remote-mode --remote-read-only --remote-timeout --help -h' ;;
        audit) echo '--env --no-cwd --scope --key --input --modtime --stdin --output --expires-from --trace-inputs --trace-ignore --cache-dir --verbose -v --all --help -h' ;;
        completions) echo '--help -h' ;;
        man) echo '--help -h' ;;
    esac
}

# Succeeds if option $2 of context $1 takes a value.
_cachecmd_takes_value()
{
    case $1:$2 in
        run:--env | run:--scope | run:--key | run:--input | run:--modtime | run:--output | run:--expires-from | run:--trace-ignore | run:--cache-dir | run:--ttl | run:--failure-ttl | run:--stale | run:--stale-if-error | run:--retry | run:--retry-delay | run:--expires-at | run:--expiry-margin | run:--miss-status | run:--cache-exit-codes | run:--lock-timeout | run:--max-entry-size | run:--max-size | run:--max-entries | run:--remote | run:--remote-mode | run:--remote-timeout | evict:--env | evict:--scope | evict:--key | evict:--input | evict:--modtime | evict:--output | evict:--expires-from | evict:--trace-ignore | evict:--cache-dir | clear:--cache-dir | clear:--scope | clear:--older-than | clear:--command | key:--env | key:--scope | key:--key | key:--input | key:--modtime | key:--output | key:--expires-from | key:--trace-ignore | key:--cache-dir | list:--cache-dir | list:--color | list:--scope | list:--command | list:--sort | show:--env | show:--scope | show:--key | show:--input | show:--modtime | show:--output | show:--expires-from | show:--trace-ignore | show:--cache-dir | show:--color | stats:--cache-dir | stats:--color | stats:--max-size | stats:--max-entries | gc:--cache-dir | gc:--max-size | gc:--max-entries | config:--cache-dir | config:--ttl | config:--failure-ttl | config:--cache-exit-codes | config:--miss-status | config:--env | config:--scope | config:--expires-from | config:--expiry-margin | config:--lock-timeout | config:--max-entry-size | config:--max-size | config:--max-entries | config:--remote | config:--remote-mode | config:--remote-timeout | audit:--env | audit:--scope | audit:--key | audit:--input | audit:--modtime | audit:--output | audit:--expires-from | audit:--trace-ignore | audit:--cache-dir) return 0 ;;
    esac
    return 1
}

# Completes the value of option $2 of context $1. Durations, sizes and
# names complete nothing, and never file names.
_cachecmd_value()
{
    case $1:$2 in
        run:--env | evict:--env | key:--env | show:--env | config:--env | audit:--env) COMPREPLY=($(compgen -e -- "$cur")) ;;
        run:--scope | run:--key | run:--expires-from | run:--trace-ignore | run:--ttl | run:--failure-ttl | run:--stale | run:--stale-if-error | run:--retry | run:--retry-delay | run:--expires-at | run:--expiry-margin | run:--miss-status | run:--cache-exit-codes | run:--lock-timeout | run:--max-entry-size | run:--max-size | run:--max-entries | run:--remote | run:--remote-timeout | evict:--scope | evict:--expires-from | evict:--trace-ignore | clear:--scope | clear:--older-than | clear:--command | key:--scope | key:--key | key:--expires-from | key:--trace-ignore | list:--scope | list:--command | show:--scope | show:--key | show:--expires-from | show:--trace-ignore | stats:--max-size | stats:--max-entries | gc:--max-size | gc:--max-entries | config:--ttl | config:--failure-ttl | config:--cache-exit-codes | config:--miss-status | config:--scope | config:--expires-from | config:--expiry-margin | config:--lock-timeout | config:--max-entry-size | config:--max-size | config:--max-entries | config:--remote | config:--remote-mode | config:--remote-timeout | audit:--scope | audit:--key | audit:--expires-from | audit:--trace-ignore) : ;;
        run:--input | run:--modtime | run:--output | evict:--input | evict:--modtime | evict:--output | key:--input | key:--modtime | key:--output | show:--input | show:--modtime | show:--output | audit:--input | audit:--modtime | audit:--output) _filedir ;;
        run:--cache-dir | evict:--cache-dir | clear:--cache-dir | key:--cache-dir | list:--cache-dir | show:--cache-dir | stats:--cache-dir | gc:--cache-dir | config:--cache-dir | audit:--cache-dir) _filedir -d ;;
        run:--remote-mode) COMPREPLY=($(compgen -W 'read-write read-only write-only' -- "$cur")) ;;
        evict:--key) _cachecmd_keys ;;
        list:--color | show:--color | stats:--color) COMPREPLY=($(compgen -W 'auto always never' -- "$cur")) ;;
        list:--sort) COMPREPLY=($(compgen -W 'age size hits saved' -- "$cur")) ;;
    esac
}

# The key prefixes of the cached entries, most recent first.
_cachecmd_keys()
{
    local IFS=$'\n' line keys=()
    for line in $(cachecmd __complete-keys 2>/dev/null); do
        keys+=("${line%%$'\t'*}")
    done
    COMPREPLY=($(compgen -W "${keys[*]}" -- "$cur"))
}

_cachecmd()
{
    local cur prev words cword split
    _init_completion -s || return

    local context=run i=1 start=
    case ${words[1]-} in
        evict | clear | key | list | show | stats | gc | config | audit | completions | man)
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
                    run | evict | key | show | audit) start=$((i + 1)) ;;
                    *) return ;;
                esac
                break
                ;;
            --*=*) ;;
            -*)
                if _cachecmd_takes_value "$context" "${words[i]}"; then
                    ((i++))
                    if ((i == cword)); then
                        _cachecmd_value "$context" "${words[i - 1]}"
                        return
                    fi
                fi
                ;;
            *)
                case $context in
                    run | evict | key | audit)
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
        _cachecmd_takes_value "$context" "$prev" && _cachecmd_value "$context" "$prev"
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_cachecmd_options "$context")" -- "$cur"))
        return
    fi
    case $context in
        run)
            local COMP_WORDS=("${words[@]}") COMP_CWORD=$cword
            _command_offset "$cword"
            ((cword == 1)) && COMPREPLY+=($(compgen -W 'evict clear key list show stats gc config audit completions man' -- "$cur"))
            ;;
        evict)
            local COMP_WORDS=("${words[@]}") COMP_CWORD=$cword
            _command_offset "$cword"
            ;;
        key)
            local COMP_WORDS=("${words[@]}") COMP_CWORD=$cword
            _command_offset "$cword"
            ;;
        show)
            _cachecmd_keys
            ;;
        audit)
            local COMP_WORDS=("${words[@]}") COMP_CWORD=$cword
            _command_offset "$cword"
            ;;
        completions)
            COMPREPLY=($(compgen -W 'bash elvish fish powershell zsh' -- "$cur"))
            ;;
        man)
            COMPREPLY=($(compgen -W 'evict clear key list show stats gc config audit completions man' -- "$cur"))
            ;;
    esac
} &&
    complete -F _cachecmd cachecmd

# ex: filetype=sh
