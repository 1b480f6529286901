# fish completion for cachecmd. Generated from cachecmd's clap definition
# (`cargo xtask generate`, or `cachecmd completions fish`). The words after
# `--` or after the command's name are the wrapped command's, completed by
# its own completion.

# Prints the context (run or a subcommand) and the index of the wrapped
# command's first word among the tokens before the cursor (0: not begun).
function __cachecmd_parse
    set -l tokens (commandline -opc)
    set -l context run
    set -l i 2
    if test (count $tokens) -ge 2; and contains -- $tokens[2] evict clear key list show stats gc config audit completions man
        set context $tokens[2]
        set i 3
    end
    set -l valued run:--env run:--scope run:--key run:--input run:--modtime run:--output run:--expires-from run:--trace-ignore run:--cache-dir run:--ttl run:--failure-ttl run:--stale run:--stale-if-error run:--retry run:--retry-delay run:--expires-at run:--expiry-margin run:--miss-status run:--cache-exit-codes run:--lock-timeout run:--max-entry-size run:--max-size run:--max-entries run:--remote run:--remote-mode run:--remote-timeout evict:--env evict:--scope evict:--key evict:--input evict:--modtime evict:--output evict:--expires-from evict:--trace-ignore evict:--cache-dir clear:--cache-dir clear:--scope clear:--older-than clear:--command key:--env key:--scope key:--key key:--input key:--modtime key:--output key:--expires-from key:--trace-ignore key:--cache-dir list:--cache-dir list:--color list:--scope list:--command list:--sort show:--env show:--scope show:--key show:--input show:--modtime show:--output show:--expires-from show:--trace-ignore show:--cache-dir show:--color stats:--cache-dir stats:--color stats:--max-size stats:--max-entries gc:--cache-dir gc:--max-size gc:--max-entries config:--cache-dir config:--ttl config:--failure-ttl config:--cache-exit-codes config:--miss-status config:--env config:--scope config:--expires-from config:--expiry-margin config:--lock-timeout config:--max-entry-size config:--max-size config:--max-entries config:--remote config:--remote-mode config:--remote-timeout audit:--env audit:--scope audit:--key audit:--input audit:--modtime audit:--output audit:--expires-from audit:--trace-ignore audit:--cache-dir
    while test $i -le (count $tokens)
        switch $tokens[$i]
            case --
                if contains -- $context run evict key show audit
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
                if contains -- $context run evict key audit
                    echo $context $i
                    return
                end
        end
        set i (math $i + 1)
    end
    echo $context 0
end

# Succeeds in context $1 before any wrapped command.
function __cachecmd_in
    set -l parsed (string split ' ' -- (__cachecmd_parse))
    test "$parsed[1]" = $argv[1]; and test "$parsed[2]" = 0
end

# Succeeds once the wrapped command has begun.
function __cachecmd_wrapping
    set -l parsed (string split ' ' -- (__cachecmd_parse))
    test "$parsed[2]" -gt 0
end

# Completes the wrapped command line as if it were typed alone.
function __cachecmd_complete_wrapped
    set -l parsed (string split ' ' -- (__cachecmd_parse))
    set -l tokens (commandline -opc)
    set -l words
    if test $parsed[2] -le (count $tokens)
        set words (string escape -- $tokens[$parsed[2]..-1])
    end
    complete -C (string join ' ' -- $words (commandline -ct))
end

# The key prefixes of the cached entries, with their command lines.
function __cachecmd_keys
    cachecmd __complete-keys 2>/dev/null
end

complete -c cachecmd -f
complete -c cachecmd -n __cachecmd_wrapping -a '(__cachecmd_complete_wrapped)'

complete -c cachecmd -n '__fish_is_nth_token 1' -a evict -d 'Forget the cached entry of one invocation (same key options as a run)'
complete -c cachecmd -n '__fish_is_nth_token 1' -a clear -d 'Forget cached entries: all, or those matching the filters'
complete -c cachecmd -n '__fish_is_nth_token 1' -a key -d 'Print the key a run with these options would use (--explain: its parts)'
complete -c cachecmd -n '__fish_is_nth_token 1' -a list -d 'List cached entries, most recently used first'
complete -c cachecmd -n '__fish_is_nth_token 1' -a show -d 'Show everything known about one entry'
complete -c cachecmd -n '__fish_is_nth_token 1' -a stats -d 'Summarize the cache: entries, bytes, hits, misses, evictions'
complete -c cachecmd -n '__fish_is_nth_token 1' -a gc -d 'Remove expired entries and stray files; enforce the size limits'
complete -c cachecmd -n '__fish_is_nth_token 1' -a config -d 'Print the effective configuration and where each value comes from'
complete -c cachecmd -n '__fish_is_nth_token 1' -a audit -d 'Run a command traced; print the files it read that no --input covers (exit 1 if any)'
complete -c cachecmd -n '__fish_is_nth_token 1' -a completions -d 'Print the completion script for bash, zsh, fish, powershell or elvish'
complete -c cachecmd -n '__fish_is_nth_token 1' -a man -d 'Print a man page: cachecmd\'s own, or a subcommand\'s'
complete -c cachecmd -n '__cachecmd_in run' -l env -x -a '(set --names --export)' -d 'Key on this environment variable (repeatable; globs such as AWS_*)'
complete -c cachecmd -n '__cachecmd_in run' -l no-cwd -d 'Leave the working directory out of the key (share across directories)'
complete -c cachecmd -n '__cachecmd_in run' -l scope -x -d 'A namespace for the entry, part of the key (any string)'
complete -c cachecmd -n '__cachecmd_in run' -l key -x -d 'Extra key material, e.g. a version or date (repeatable)'
complete -c cachecmd -n '__cachecmd_in run' -l input -r -F -d 'Key on the content of these files: a path, a directory, or a glob with ** (repeatable)'
complete -c cachecmd -n '__cachecmd_in run' -l modtime -r -F -d 'Key on this file\'s modification time only (repeatable)'
complete -c cachecmd -n '__cachecmd_in run' -l stdin -d 'Read stdin, key on its content, and feed it to the command'
complete -c cachecmd -n '__cachecmd_in run' -l output -r -F -d 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)'
complete -c cachecmd -n '__cachecmd_in run' -l expires-from -x -d 'Expire the entry when stdout (JSON) says: the instant, epoch seconds or seconds left at this JSON Pointer (/Credentials/Expiration) or $.dotted.path'
complete -c cachecmd -n '__cachecmd_in run' -l trace-inputs -d 'Find the command\'s inputs by tracing it (Linux): serve the entry only while every file it read, stat\'ed, ran or listed is unchanged [env: CACHECMD_TRACE_INPUTS]'
complete -c cachecmd -n '__cachecmd_in run' -l trace-ignore -x -d 'Leave paths matching this glob out of the traced inputs (repeatable)'
complete -c cachecmd -n '__cachecmd_in run' -l cache-dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'Cache directory'
complete -c cachecmd -n '__cachecmd_in run' -l verbose -s v -d 'Print one status line on stderr (hit or miss, age, key)'
complete -c cachecmd -n '__cachecmd_in run' -l ttl -x -d 'How long an entry is served: 30s, 10m, 1h 30m, 7d or forever'
complete -c cachecmd -n '__cachecmd_in run' -l failure-ttl -x -d 'Also cache non-zero exits, served for this long'
complete -c cachecmd -n '__cachecmd_in run' -l force -d 'Run the command and record it even if a fresh entry exists'
complete -c cachecmd -n '__cachecmd_in run' -l stale -x -d 'Serve entries older than this at once, refreshing them in the background (< --ttl)'
complete -c cachecmd -n '__cachecmd_in run' -l warm -d 'Refresh the entry in the background and return at once, printing nothing'
complete -c cachecmd -n '__cachecmd_in run' -l stale-if-error -x -d 'If a run fails, serve the last good entry expired less than this ago'
complete -c cachecmd -n '__cachecmd_in run' -l retry -x -d 'Retry a failed run up to N more times (output of the final attempt only)'
complete -c cachecmd -n '__cachecmd_in run' -l retry-delay -x -d 'Wait before the first retry, doubling each time'
complete -c cachecmd -n '__cachecmd_in run' -l expires-at -x -d 'Expire the entry at a local time of day (17:00) or an RFC 3339 instant'
complete -c cachecmd -n '__cachecmd_in run' -l expiry-margin -x -d 'Treat an entry as expired this long before its absolute expiry; with --stale, refresh inside it'
complete -c cachecmd -n '__cachecmd_in run' -l cached-only -d 'Serve a fresh entry as a hit; on a miss print nothing, run nothing and exit with --miss-status'
complete -c cachecmd -n '__cachecmd_in run' -l check -d 'Print nothing, run nothing: exit 0 when a fresh entry exists, else with --miss-status'
complete -c cachecmd -n '__cachecmd_in run' -l miss-status -x -d 'The exit status of a miss under --cached-only or --check'
complete -c cachecmd -n '__cachecmd_in run' -l cache-exit-codes -x -d 'Exit statuses that are cached, e.g. 0,1,100-199; non-zero ones live for --failure-ttl (else --ttl)'
complete -c cachecmd -n '__cachecmd_in run' -l lock-timeout -x -d 'Longest wait for another caller running the same key; past it, run anyway'
complete -c cachecmd -n '__cachecmd_in run' -l max-entry-size -x -d 'Larger outputs are streamed but not cached: 500M, 2GiB'
complete -c cachecmd -n '__cachecmd_in run' -l max-size -x -d 'Keep the cache under this size, evicting least recently used entries'
complete -c cachecmd -n '__cachecmd_in run' -l max-entries -x -d 'Keep at most this many entries'
complete -c cachecmd -n '__cachecmd_in run' -l remote -x -d 'Share entries through a remote store: redis://[user:pass@]host:port/db, rediss:// (TLS), http[s]://host/prefix, s3://bucket/prefix'
complete -c cachecmd -n '__cachecmd_in run' -l remote-mode -x -a 'read-write read-only write-only' -d 'Which way entries flow: read-write, read-only (untrusted jobs), write-only (never serve remote entries)'
complete -c cachecmd -n '__cachecmd_in run' -l remote-read-only -d 'Alias of --remote-mode read-only'
complete -c cachecmd -n '__cachecmd_in run' -l remote-timeout -x -d 'Deadline of one whole remote lookup or upload (connect, transfer, checks)'
complete -c cachecmd -n '__cachecmd_in run' -l help -s h -d 'Print help'
complete -c cachecmd -n '__cachecmd_in run' -l version -s V -d 'Print version'
complete -c cachecmd -n '__cachecmd_in run; and not __fish_prev_arg_in --env --scope --key --input --modtime --output --expires-from --trace-ignore --cache-dir --ttl --failure-ttl --stale --stale-if-error --retry --retry-delay --expires-at --expiry-margin --miss-status --cache-exit-codes --lock-timeout --max-entry-size --max-size --max-entries --remote --remote-mode --remote-timeout' -a '(__fish_complete_command)'

complete -c cachecmd -n '__cachecmd_in evict' -l env -x -a '(set --names --export)' -d 'Key on this environment variable (repeatable; globs such as AWS_*)'
complete -c cachecmd -n '__cachecmd_in evict' -l no-cwd -d 'Leave the working directory out of the key (share across directories)'
complete -c cachecmd -n '__cachecmd_in evict' -l scope -x -d 'A namespace for the entry, part of the key (any string)'
complete -c cachecmd -n '__cachecmd_in evict' -l key -x -a '(__cachecmd_keys)' -d 'Extra key material, e.g. a version or date (repeatable)'
complete -c cachecmd -n '__cachecmd_in evict' -l input -r -F -d 'Key on the content of these files: a path, a directory, or a glob with ** (repeatable)'
complete -c cachecmd -n '__cachecmd_in evict' -l modtime -r -F -d 'Key on this file\'s modification time only (repeatable)'
complete -c cachecmd -n '__cachecmd_in evict' -l stdin -d 'Read stdin, key on its content, and feed it to the command'
complete -c cachecmd -n '__cachecmd_in evict' -l output -r -F -d 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)'
complete -c cachecmd -n '__cachecmd_in evict' -l expires-from -x -d 'Expire the entry when stdout (JSON) says: the instant, epoch seconds or seconds left at this JSON Pointer (/Credentials/Expiration) or $.dotted.path'
complete -c cachecmd -n '__cachecmd_in evict' -l trace-inputs -d 'Find the command\'s inputs by tracing it (Linux): serve the entry only while every file it read, stat\'ed, ran or listed is unchanged [env: CACHECMD_TRACE_INPUTS]'
complete -c cachecmd -n '__cachecmd_in evict' -l trace-ignore -x -d 'Leave paths matching this glob out of the traced inputs (repeatable)'
complete -c cachecmd -n '__cachecmd_in evict' -l cache-dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'Cache directory'
complete -c cachecmd -n '__cachecmd_in evict' -l verbose -s v -d 'Print one status line on stderr (hit or miss, age, key)'
complete -c cachecmd -n '__cachecmd_in evict' -l help -s h -d 'Print help'
complete -c cachecmd -n '__cachecmd_in evict; and not __fish_prev_arg_in --env --scope --key --input --modtime --output --expires-from --trace-ignore --cache-dir' -a '(__fish_complete_command)'

complete -c cachecmd -n '__cachecmd_in clear' -l cache-dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'Cache directory'
complete -c cachecmd -n '__cachecmd_in clear' -l verbose -s v -d 'Print one status line on stderr (hit or miss, age, key)'
complete -c cachecmd -n '__cachecmd_in clear' -l scope -x -d 'Only entries with this scope'
complete -c cachecmd -n '__cachecmd_in clear' -l expired -d 'Only entries past the lifetime they were recorded with'
complete -c cachecmd -n '__cachecmd_in clear' -l older-than -x -d 'Only entries older than this'
complete -c cachecmd -n '__cachecmd_in clear' -l command -x -d 'Only entries whose program name or whole command line matches this glob'
complete -c cachecmd -n '__cachecmd_in clear' -l remote -d 'Also remove every entry in the remote tier (CACHECMD_REMOTE or config remote)'
complete -c cachecmd -n '__cachecmd_in clear' -l help -s h -d 'Print help'

complete -c cachecmd -n '__cachecmd_in key' -l env -x -a '(set --names --export)' -d 'Key on this environment variable (repeatable; globs such as AWS_*)'
complete -c cachecmd -n '__cachecmd_in key' -l no-cwd -d 'Leave the working directory out of the key (share across directories)'
complete -c cachecmd -n '__cachecmd_in key' -l scope -x -d 'A namespace for the entry, part of the key (any string)'
complete -c cachecmd -n '__cachecmd_in key' -l key -x -d 'Extra key material, e.g. a version or date (repeatable)'
complete -c cachecmd -n '__cachecmd_in key' -l input -r -F -d 'Key on the content of these files: a path, a directory, or a glob with ** (repeatable)'
complete -c cachecmd -n '__cachecmd_in key' -l modtime -r -F -d 'Key on this file\'s modification time only (repeatable)'
complete -c cachecmd -n '__cachecmd_in key' -l stdin -d 'Read stdin, key on its content, and feed it to the command'
complete -c cachecmd -n '__cachecmd_in key' -l output -r -F -d 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)'
complete -c cachecmd -n '__cachecmd_in key' -l expires-from -x -d 'Expire the entry when stdout (JSON) says: the instant, epoch seconds or seconds left at this JSON Pointer (/Credentials/Expiration) or $.dotted.path'
complete -c cachecmd -n '__cachecmd_in key' -l trace-inputs -d 'Find the command\'s inputs by tracing it (Linux): serve the entry only while every file it read, stat\'ed, ran or listed is unchanged [env: CACHECMD_TRACE_INPUTS]'
complete -c cachecmd -n '__cachecmd_in key' -l trace-ignore -x -d 'Leave paths matching this glob out of the traced inputs (repeatable)'
complete -c cachecmd -n '__cachecmd_in key' -l cache-dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'Cache directory'
complete -c cachecmd -n '__cachecmd_in key' -l verbose -s v -d 'Print one status line on stderr (hit or miss, age, key)'
complete -c cachecmd -n '__cachecmd_in key' -l explain -d 'Print each part of the key (values of variables only as digests)'
complete -c cachecmd -n '__cachecmd_in key' -l json -d 'Print the key and each part of it as a JSON object'
complete -c cachecmd -n '__cachecmd_in key' -l help -s h -d 'Print help'
complete -c cachecmd -n '__cachecmd_in key; and not __fish_prev_arg_in --env --scope --key --input --modtime --output --expires-from --trace-ignore --cache-dir' -a '(__fish_complete_command)'

complete -c cachecmd -n '__cachecmd_in list' -l cache-dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'Cache directory'
complete -c cachecmd -n '__cachecmd_in list' -l verbose -s v -d 'Print one status line on stderr (hit or miss, age, key)'
complete -c cachecmd -n '__cachecmd_in list' -l color -x -a 'auto always never' -d 'Colour the report: auto (only on a terminal, and never with NO_COLOR set), always or never'
complete -c cachecmd -n '__cachecmd_in list' -l scope -x -d 'Only entries with this scope'
complete -c cachecmd -n '__cachecmd_in list' -l command -x -d 'Only entries whose program name or whole command line matches this glob'
complete -c cachecmd -n '__cachecmd_in list' -l here -d 'Only entries recorded in the current directory'
complete -c cachecmd -n '__cachecmd_in list' -l expired -d 'Only entries past the lifetime they were recorded with'
complete -c cachecmd -n '__cachecmd_in list' -l sort -x -a 'age size hits saved' -d 'Order by age (oldest first), size, hits or saved (largest first)'
complete -c cachecmd -n '__cachecmd_in list' -l json -d 'Print a JSON array instead of a table'
complete -c cachecmd -n '__cachecmd_in list' -l remote -d 'List the remote tier\'s keys (CACHECMD_REMOTE or config remote) instead'
complete -c cachecmd -n '__cachecmd_in list' -l help -s h -d 'Print help'

complete -c cachecmd -n '__cachecmd_in show' -l env -x -a '(set --names --export)' -d 'Key on this environment variable (repeatable; globs such as AWS_*)'
complete -c cachecmd -n '__cachecmd_in show' -l no-cwd -d 'Leave the working directory out of the key (share across directories)'
complete -c cachecmd -n '__cachecmd_in show' -l scope -x -d 'A namespace for the entry, part of the key (any string)'
complete -c cachecmd -n '__cachecmd_in show' -l key -x -d 'Extra key material, e.g. a version or date (repeatable)'
complete -c cachecmd -n '__cachecmd_in show' -l input -r -F -d 'Key on the content of these files: a path, a directory, or a glob with ** (repeatable)'
complete -c cachecmd -n '__cachecmd_in show' -l modtime -r -F -d 'Key on this file\'s modification time only (repeatable)'
complete -c cachecmd -n '__cachecmd_in show' -l stdin -d 'Read stdin, key on its content, and feed it to the command'
complete -c cachecmd -n '__cachecmd_in show' -l output -r -F -d 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)'
complete -c cachecmd -n '__cachecmd_in show' -l expires-from -x -d 'Expire the entry when stdout (JSON) says: the instant, epoch seconds or seconds left at this JSON Pointer (/Credentials/Expiration) or $.dotted.path'
complete -c cachecmd -n '__cachecmd_in show' -l trace-inputs -d 'Find the command\'s inputs by tracing it (Linux): serve the entry only while every file it read, stat\'ed, ran or listed is unchanged [env: CACHECMD_TRACE_INPUTS]'
complete -c cachecmd -n '__cachecmd_in show' -l trace-ignore -x -d 'Leave paths matching this glob out of the traced inputs (repeatable)'
complete -c cachecmd -n '__cachecmd_in show' -l cache-dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'Cache directory'
complete -c cachecmd -n '__cachecmd_in show' -l verbose -s v -d 'Print one status line on stderr (hit or miss, age, key)'
complete -c cachecmd -n '__cachecmd_in show' -l color -x -a 'auto always never' -d 'Colour the report: auto (only on a terminal, and never with NO_COLOR set), always or never'
complete -c cachecmd -n '__cachecmd_in show' -l stdout -d 'Print the stored stdout instead of the description'
complete -c cachecmd -n '__cachecmd_in show' -l stderr -d 'Print the stored stderr instead of the description'
complete -c cachecmd -n '__cachecmd_in show' -l json -d 'Print the description as a JSON object'
complete -c cachecmd -n '__cachecmd_in show' -l help -s h -d 'Print help'
complete -c cachecmd -n '__cachecmd_in show; and not __fish_prev_arg_in --env --scope --key --input --modtime --output --expires-from --trace-ignore --cache-dir --color' -a '(__cachecmd_keys)'

complete -c cachecmd -n '__cachecmd_in stats' -l cache-dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'Cache directory'
complete -c cachecmd -n '__cachecmd_in stats' -l verbose -s v -d 'Print one status line on stderr (hit or miss, age, key)'
complete -c cachecmd -n '__cachecmd_in stats' -l color -x -a 'auto always never' -d 'Colour the report: auto (only on a terminal, and never with NO_COLOR set), always or never'
complete -c cachecmd -n '__cachecmd_in stats' -l max-size -x -d 'Keep the cache under this size, evicting least recently used entries'
complete -c cachecmd -n '__cachecmd_in stats' -l max-entries -x -d 'Keep at most this many entries'
complete -c cachecmd -n '__cachecmd_in stats' -l json -d 'Print a JSON object instead of text'
complete -c cachecmd -n '__cachecmd_in stats' -l zero -d 'Reset the counters (hits, misses, evictions, time saved) to zero, from now'
complete -c cachecmd -n '__cachecmd_in stats' -l help -s h -d 'Print help'

complete -c cachecmd -n '__cachecmd_in gc' -l cache-dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'Cache directory'
complete -c cachecmd -n '__cachecmd_in gc' -l verbose -s v -d 'Print one status line on stderr (hit or miss, age, key)'
complete -c cachecmd -n '__cachecmd_in gc' -l max-size -x -d 'Keep the cache under this size, evicting least recently used entries'
complete -c cachecmd -n '__cachecmd_in gc' -l max-entries -x -d 'Keep at most this many entries'
complete -c cachecmd -n '__cachecmd_in gc' -l help -s h -d 'Print help'

complete -c cachecmd -n '__cachecmd_in config' -l json -d 'Print a JSON array instead of text'
complete -c cachecmd -n '__cachecmd_in config' -l cache-dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'Cache directory'
complete -c cachecmd -n '__cachecmd_in config' -l verbose -s v -d 'Accepted as in every subcommand; it changes nothing here'
complete -c cachecmd -n '__cachecmd_in config' -l ttl -x -d 'The TTL of a run: 30s, 10m, forever'
complete -c cachecmd -n '__cachecmd_in config' -l failure-ttl -x -d 'How long failures are cached'
complete -c cachecmd -n '__cachecmd_in config' -l cache-exit-codes -x -d 'Which exit statuses are cached, e.g. 0,1,100-199'
complete -c cachecmd -n '__cachecmd_in config' -l miss-status -x -d 'The exit status of a miss under --cached-only or --check'
complete -c cachecmd -n '__cachecmd_in config' -l env -x -a '(set --names --export)' -d 'Key on this environment variable (repeatable, adds to the config\'s env)'
complete -c cachecmd -n '__cachecmd_in config' -l scope -x -d 'A namespace for entries'
complete -c cachecmd -n '__cachecmd_in config' -l expires-from -x -d 'Where the JSON output says when it expires'
complete -c cachecmd -n '__cachecmd_in config' -l expiry-margin -x -d 'How much earlier an absolute expiry counts'
complete -c cachecmd -n '__cachecmd_in config' -l lock-timeout -x -d 'Longest wait for another caller running the same key'
complete -c cachecmd -n '__cachecmd_in config' -l max-entry-size -x -d 'Larger outputs are not cached'
complete -c cachecmd -n '__cachecmd_in config' -l max-size -x -d 'gc keeps the cache under this size'
complete -c cachecmd -n '__cachecmd_in config' -l max-entries -x -d 'gc keeps at most this many entries'
complete -c cachecmd -n '__cachecmd_in config' -l remote -x -d 'The remote store\'s URL (shown without its secrets)'
complete -c cachecmd -n '__cachecmd_in config' -l remote-mode -x -d 'read-write, read-only or write-only'
complete -c cachecmd -n '__cachecmd_in config' -l remote-read-only -d 'Alias of --remote-mode read-only'
complete -c cachecmd -n '__cachecmd_in config' -l remote-timeout -x -d 'Deadline of one whole remote operation'
complete -c cachecmd -n '__cachecmd_in config' -l help -s h -d 'Print help'

complete -c cachecmd -n '__cachecmd_in audit' -l env -x -a '(set --names --export)' -d 'Key on this environment variable (repeatable; globs such as AWS_*)'
complete -c cachecmd -n '__cachecmd_in audit' -l no-cwd -d 'Leave the working directory out of the key (share across directories)'
complete -c cachecmd -n '__cachecmd_in audit' -l scope -x -d 'A namespace for the entry, part of the key (any string)'
complete -c cachecmd -n '__cachecmd_in audit' -l key -x -d 'Extra key material, e.g. a version or date (repeatable)'
complete -c cachecmd -n '__cachecmd_in audit' -l input -r -F -d 'Key on the content of these files: a path, a directory, or a glob with ** (repeatable)'
complete -c cachecmd -n '__cachecmd_in audit' -l modtime -r -F -d 'Key on this file\'s modification time only (repeatable)'
complete -c cachecmd -n '__cachecmd_in audit' -l stdin -d 'Read stdin, key on its content, and feed it to the command'
complete -c cachecmd -n '__cachecmd_in audit' -l output -r -F -d 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)'
complete -c cachecmd -n '__cachecmd_in audit' -l expires-from -x -d 'Expire the entry when stdout (JSON) says: the instant, epoch seconds or seconds left at this JSON Pointer (/Credentials/Expiration) or $.dotted.path'
complete -c cachecmd -n '__cachecmd_in audit' -l trace-inputs -d 'Find the command\'s inputs by tracing it (Linux): serve the entry only while every file it read, stat\'ed, ran or listed is unchanged [env: CACHECMD_TRACE_INPUTS]'
complete -c cachecmd -n '__cachecmd_in audit' -l trace-ignore -x -d 'Leave paths matching this glob out of the traced inputs (repeatable)'
complete -c cachecmd -n '__cachecmd_in audit' -l cache-dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'Cache directory'
complete -c cachecmd -n '__cachecmd_in audit' -l verbose -s v -d 'Print one status line on stderr (hit or miss, age, key)'
complete -c cachecmd -n '__cachecmd_in audit' -l all -d 'Print every file read, system files included, not only those under the working directory'
complete -c cachecmd -n '__cachecmd_in audit' -l help -s h -d 'Print help'
complete -c cachecmd -n '__cachecmd_in audit; and not __fish_prev_arg_in --env --scope --key --input --modtime --output --expires-from --trace-ignore --cache-dir' -a '(__fish_complete_command)'

complete -c cachecmd -n '__cachecmd_in completions' -l help -s h -d 'Print help'
complete -c cachecmd -n '__cachecmd_in completions; and not __fish_prev_arg_in --' -a 'bash elvish fish powershell zsh'

complete -c cachecmd -n '__cachecmd_in man' -l help -s h -d 'Print help'
complete -c cachecmd -n '__cachecmd_in man; and not __fish_prev_arg_in --' -a 'evict clear key list show stats gc config audit completions man'
