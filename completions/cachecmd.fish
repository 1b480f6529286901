# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cachecmd_global_optspecs
    string join \n env= no-cwd scope= key= input= modtime= stdin output= cache-dir= v/verbose ttl= failure-ttl= force stale= warm stale-if-error= retry= retry-delay= expires-at= refresh lock-timeout= max-entry-size= max-size= max-entries= remote= remote-mode= remote-read-only remote-timeout= h/help V/version
end

function __fish_cachecmd_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_cachecmd_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_cachecmd_using_subcommand
    set -l cmd (__fish_cachecmd_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c cachecmd -n "__fish_cachecmd_needs_command" -l env -d 'Key on this environment variable (repeatable; globs such as `AWS_*`)' -r
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l scope -d 'A namespace for the entry, part of the key (any string)' -r
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l key -d 'Extra key material, e.g. a version or date (repeatable)' -r
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l input -d 'Key on the content of these files: a path, a directory, or a glob with `**` (repeatable)' -r -F
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l modtime -d 'Key on this file\'s modification time only (repeatable)' -r -F
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l output -d 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)' -r -F
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l cache-dir -d 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]' -r -f -a "(__fish_complete_directories)"
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l ttl -d 'How long an entry is served: `30s`, `10m`, `1h 30m`, `7d` or `forever` [default: 1h]' -r
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l failure-ttl -d 'Also cache non-zero exits, served for this long [default: failures are not cached]' -r
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l stale -d 'Serve entries older than this at once, refreshing them in the background (< --ttl)' -r
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l stale-if-error -d 'If a run fails, serve the last good entry expired less than this ago' -r
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l retry -d 'Retry a failed run up to N more times (output of the final attempt only)' -r
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l retry-delay -d 'Wait before the first retry, doubling each time [default: 1s]' -r
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l expires-at -d 'Expire the entry at a local time of day (`17:00`) or an RFC 3339 instant' -r
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l lock-timeout -d 'Longest wait for another caller running the same key; past it, run anyway [default: 10m]' -r
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l max-entry-size -d 'Larger outputs are streamed but not cached: `500M`, `2GiB` [default: 1GiB]' -r
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l max-size -d 'Keep the cache under this size, evicting least recently used entries [default: 1GiB]' -r
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l max-entries -d 'Keep at most this many entries [default: unlimited]' -r
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l remote -d 'Share entries through a remote store: `redis://[user:pass@]host:port/db`, `rediss://` (TLS), `http[s]://host/prefix`, `s3://bucket/prefix`' -r -f
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l remote-mode -d 'Which way entries flow: read-write, read-only (untrusted jobs), write-only (never serve remote entries) [default: read-write]' -r -f -a "read-write\t''
read-only\t''
write-only\t''"
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l remote-timeout -d 'Deadline of one whole remote lookup or upload (connect, transfer, checks) [default: 2s]' -r
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l no-cwd -d 'Leave the working directory out of the key (share across directories)'
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l stdin -d 'Read stdin, key on its content, and feed it to the command'
complete -c cachecmd -n "__fish_cachecmd_needs_command" -s v -l verbose -d 'Print one status line on stderr (hit or miss, age, key)'
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l force -d 'Run the command and record it even if a fresh entry exists'
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l warm -d 'Refresh the entry in the background and return at once, printing nothing'
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l refresh -d 'Internal: the background refresh started by --stale or --warm'
complete -c cachecmd -n "__fish_cachecmd_needs_command" -l remote-read-only -d 'Alias of `--remote-mode read-only`'
complete -c cachecmd -n "__fish_cachecmd_needs_command" -s h -l help -d 'Print help'
complete -c cachecmd -n "__fish_cachecmd_needs_command" -s V -l version -d 'Print version'
complete -c cachecmd -n "__fish_cachecmd_needs_command" -a "evict" -d 'Forget the cached entry of one invocation (same key options as a run)'
complete -c cachecmd -n "__fish_cachecmd_needs_command" -a "clear" -d 'Forget cached entries: all, or those matching the filters'
complete -c cachecmd -n "__fish_cachecmd_needs_command" -a "key" -d 'Print the key a run with these options would use (`--explain`: its parts)'
complete -c cachecmd -n "__fish_cachecmd_needs_command" -a "list" -d 'List cached entries, most recently used first'
complete -c cachecmd -n "__fish_cachecmd_needs_command" -a "show" -d 'Show everything known about one entry'
complete -c cachecmd -n "__fish_cachecmd_needs_command" -a "stats" -d 'Summarize the cache: entries, bytes, hits, misses, evictions'
complete -c cachecmd -n "__fish_cachecmd_needs_command" -a "gc" -d 'Remove expired entries and stray files; enforce the size limits'
complete -c cachecmd -n "__fish_cachecmd_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand evict" -l env -d 'Key on this environment variable (repeatable; globs such as `AWS_*`)' -r
complete -c cachecmd -n "__fish_cachecmd_using_subcommand evict" -l scope -d 'A namespace for the entry, part of the key (any string)' -r
complete -c cachecmd -n "__fish_cachecmd_using_subcommand evict" -l key -d 'Extra key material, e.g. a version or date (repeatable)' -r
complete -c cachecmd -n "__fish_cachecmd_using_subcommand evict" -l input -d 'Key on the content of these files: a path, a directory, or a glob with `**` (repeatable)' -r -F
complete -c cachecmd -n "__fish_cachecmd_using_subcommand evict" -l modtime -d 'Key on this file\'s modification time only (repeatable)' -r -F
complete -c cachecmd -n "__fish_cachecmd_using_subcommand evict" -l output -d 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)' -r -F
complete -c cachecmd -n "__fish_cachecmd_using_subcommand evict" -l cache-dir -d 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]' -r -f -a "(__fish_complete_directories)"
complete -c cachecmd -n "__fish_cachecmd_using_subcommand evict" -l no-cwd -d 'Leave the working directory out of the key (share across directories)'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand evict" -l stdin -d 'Read stdin, key on its content, and feed it to the command'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand evict" -s v -l verbose -d 'Print one status line on stderr (hit or miss, age, key)'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand evict" -s h -l help -d 'Print help'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand clear" -l cache-dir -d 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]' -r -f -a "(__fish_complete_directories)"
complete -c cachecmd -n "__fish_cachecmd_using_subcommand clear" -l scope -d 'Only entries with this scope' -r
complete -c cachecmd -n "__fish_cachecmd_using_subcommand clear" -l older-than -d 'Only entries older than this' -r
complete -c cachecmd -n "__fish_cachecmd_using_subcommand clear" -l command -d 'Only entries whose program name or whole command line matches this glob' -r
complete -c cachecmd -n "__fish_cachecmd_using_subcommand clear" -s v -l verbose -d 'Print one status line on stderr (hit or miss, age, key)'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand clear" -l expired -d 'Only entries past the lifetime they were recorded with'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand clear" -l remote -d 'Also remove every entry in the remote tier (CACHECMD_REMOTE or config `remote`)'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand clear" -s h -l help -d 'Print help'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand key" -l env -d 'Key on this environment variable (repeatable; globs such as `AWS_*`)' -r
complete -c cachecmd -n "__fish_cachecmd_using_subcommand key" -l scope -d 'A namespace for the entry, part of the key (any string)' -r
complete -c cachecmd -n "__fish_cachecmd_using_subcommand key" -l key -d 'Extra key material, e.g. a version or date (repeatable)' -r
complete -c cachecmd -n "__fish_cachecmd_using_subcommand key" -l input -d 'Key on the content of these files: a path, a directory, or a glob with `**` (repeatable)' -r -F
complete -c cachecmd -n "__fish_cachecmd_using_subcommand key" -l modtime -d 'Key on this file\'s modification time only (repeatable)' -r -F
complete -c cachecmd -n "__fish_cachecmd_using_subcommand key" -l output -d 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)' -r -F
complete -c cachecmd -n "__fish_cachecmd_using_subcommand key" -l cache-dir -d 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]' -r -f -a "(__fish_complete_directories)"
complete -c cachecmd -n "__fish_cachecmd_using_subcommand key" -l no-cwd -d 'Leave the working directory out of the key (share across directories)'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand key" -l stdin -d 'Read stdin, key on its content, and feed it to the command'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand key" -s v -l verbose -d 'Print one status line on stderr (hit or miss, age, key)'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand key" -l explain -d 'Print each part of the key (values of variables only as digests)'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand key" -s h -l help -d 'Print help'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand list" -l cache-dir -d 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]' -r -f -a "(__fish_complete_directories)"
complete -c cachecmd -n "__fish_cachecmd_using_subcommand list" -l color -d 'Colour the report: auto (only on a terminal, and never with NO_COLOR set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cachecmd -n "__fish_cachecmd_using_subcommand list" -l scope -d 'Only entries with this scope' -r
complete -c cachecmd -n "__fish_cachecmd_using_subcommand list" -s v -l verbose -d 'Print one status line on stderr (hit or miss, age, key)'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand list" -l json -d 'Print a JSON array instead of a table'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand list" -l remote -d 'List the remote tier\'s keys (CACHECMD_REMOTE or config `remote`) instead'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand list" -s h -l help -d 'Print help'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand show" -l env -d 'Key on this environment variable (repeatable; globs such as `AWS_*`)' -r
complete -c cachecmd -n "__fish_cachecmd_using_subcommand show" -l scope -d 'A namespace for the entry, part of the key (any string)' -r
complete -c cachecmd -n "__fish_cachecmd_using_subcommand show" -l key -d 'Extra key material, e.g. a version or date (repeatable)' -r
complete -c cachecmd -n "__fish_cachecmd_using_subcommand show" -l input -d 'Key on the content of these files: a path, a directory, or a glob with `**` (repeatable)' -r -F
complete -c cachecmd -n "__fish_cachecmd_using_subcommand show" -l modtime -d 'Key on this file\'s modification time only (repeatable)' -r -F
complete -c cachecmd -n "__fish_cachecmd_using_subcommand show" -l output -d 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)' -r -F
complete -c cachecmd -n "__fish_cachecmd_using_subcommand show" -l cache-dir -d 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]' -r -f -a "(__fish_complete_directories)"
complete -c cachecmd -n "__fish_cachecmd_using_subcommand show" -l color -d 'Colour the report: auto (only on a terminal, and never with NO_COLOR set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cachecmd -n "__fish_cachecmd_using_subcommand show" -l no-cwd -d 'Leave the working directory out of the key (share across directories)'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand show" -l stdin -d 'Read stdin, key on its content, and feed it to the command'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand show" -s v -l verbose -d 'Print one status line on stderr (hit or miss, age, key)'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand show" -l stdout -d 'Print the stored stdout instead of the description'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand show" -l stderr -d 'Print the stored stderr instead of the description'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand show" -s h -l help -d 'Print help'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand stats" -l cache-dir -d 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]' -r -f -a "(__fish_complete_directories)"
complete -c cachecmd -n "__fish_cachecmd_using_subcommand stats" -l color -d 'Colour the report: auto (only on a terminal, and never with NO_COLOR set), always or never' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cachecmd -n "__fish_cachecmd_using_subcommand stats" -l max-size -d 'Keep the cache under this size, evicting least recently used entries [default: 1GiB]' -r
complete -c cachecmd -n "__fish_cachecmd_using_subcommand stats" -l max-entries -d 'Keep at most this many entries [default: unlimited]' -r
complete -c cachecmd -n "__fish_cachecmd_using_subcommand stats" -s v -l verbose -d 'Print one status line on stderr (hit or miss, age, key)'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand stats" -l json -d 'Print a JSON object instead of text'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand stats" -s h -l help -d 'Print help'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand gc" -l cache-dir -d 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]' -r -f -a "(__fish_complete_directories)"
complete -c cachecmd -n "__fish_cachecmd_using_subcommand gc" -l max-size -d 'Keep the cache under this size, evicting least recently used entries [default: 1GiB]' -r
complete -c cachecmd -n "__fish_cachecmd_using_subcommand gc" -l max-entries -d 'Keep at most this many entries [default: unlimited]' -r
complete -c cachecmd -n "__fish_cachecmd_using_subcommand gc" -s v -l verbose -d 'Print one status line on stderr (hit or miss, age, key)'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand gc" -l auto -d 'Started by a miss: quit at once if another gc is running'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand gc" -s h -l help -d 'Print help'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand help; and not __fish_seen_subcommand_from evict clear key list show stats gc help" -f -a "evict" -d 'Forget the cached entry of one invocation (same key options as a run)'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand help; and not __fish_seen_subcommand_from evict clear key list show stats gc help" -f -a "clear" -d 'Forget cached entries: all, or those matching the filters'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand help; and not __fish_seen_subcommand_from evict clear key list show stats gc help" -f -a "key" -d 'Print the key a run with these options would use (`--explain`: its parts)'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand help; and not __fish_seen_subcommand_from evict clear key list show stats gc help" -f -a "list" -d 'List cached entries, most recently used first'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand help; and not __fish_seen_subcommand_from evict clear key list show stats gc help" -f -a "show" -d 'Show everything known about one entry'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand help; and not __fish_seen_subcommand_from evict clear key list show stats gc help" -f -a "stats" -d 'Summarize the cache: entries, bytes, hits, misses, evictions'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand help; and not __fish_seen_subcommand_from evict clear key list show stats gc help" -f -a "gc" -d 'Remove expired entries and stray files; enforce the size limits'
complete -c cachecmd -n "__fish_cachecmd_using_subcommand help; and not __fish_seen_subcommand_from evict clear key list show stats gc help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
