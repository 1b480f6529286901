
use builtin;
use str;

set edit:completion:arg-completer[cachecmd] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'cachecmd'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'cachecmd'= {
            cand --env 'Key on this environment variable (repeatable; globs such as `AWS_*`)'
            cand --scope 'A namespace for the entry, part of the key (any string)'
            cand --key 'Extra key material, e.g. a version or date (repeatable)'
            cand --input 'Key on the content of these files: a path, a directory, or a glob with `**` (repeatable)'
            cand --modtime 'Key on this file''s modification time only (repeatable)'
            cand --output 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)'
            cand --expires-from 'Expire the entry when stdout (JSON) says: the instant, epoch seconds or seconds left at this JSON Pointer (`/Credentials/Expiration`) or `$.dotted.path`'
            cand --trace-ignore 'Leave paths matching this glob out of the traced inputs (repeatable) [default: /run/** /var/run/**; /proc, /sys, /dev and the cache always]'
            cand --cache-dir 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]'
            cand --ttl 'How long an entry is served: `30s`, `10m`, `1h 30m`, `7d` or `forever` [default: 1h]'
            cand --failure-ttl 'Also cache non-zero exits, served for this long [default: failures are not cached]'
            cand --stale 'Serve entries older than this at once, refreshing them in the background (< --ttl)'
            cand --stale-if-error 'If a run fails, serve the last good entry expired less than this ago'
            cand --retry 'Retry a failed run up to N more times (output of the final attempt only)'
            cand --retry-delay 'Wait before the first retry, doubling each time [default: 1s]'
            cand --expires-at 'Expire the entry at a local time of day (`17:00`) or an RFC 3339 instant'
            cand --expiry-margin 'Treat an entry as expired this long before its absolute expiry; with --stale, refresh inside it [default: 0s]'
            cand --miss-status 'The exit status of a miss under --cached-only or --check [default: 3]'
            cand --cache-exit-codes 'Exit statuses that are cached, e.g. `0,1,100-199`; non-zero ones live for --failure-ttl (else --ttl) [default: 0, and all with --failure-ttl]'
            cand --lock-timeout 'Longest wait for another caller running the same key; past it, run anyway [default: 10m]'
            cand --max-entry-size 'Larger outputs are streamed but not cached: `500M`, `2GiB` [default: 1GiB]'
            cand --max-size 'Keep the cache under this size, evicting least recently used entries [default: 1GiB]'
            cand --max-entries 'Keep at most this many entries [default: unlimited]'
            cand --remote 'Share entries through a remote store: `redis://[user:pass@]host:port/db`, `rediss://` (TLS), `http[s]://host/prefix`, `s3://bucket/prefix`'
            cand --remote-mode 'Which way entries flow: read-write, read-only (untrusted jobs), write-only (never serve remote entries) [default: read-write]'
            cand --remote-timeout 'Deadline of one whole remote lookup or upload (connect, transfer, checks) [default: 2s]'
            cand --no-cwd 'Leave the working directory out of the key (share across directories)'
            cand --stdin 'Read stdin, key on its content, and feed it to the command'
            cand --trace-inputs 'Find the command''s inputs by tracing it (Linux): serve the entry only while every file it read, stat''ed, ran or listed is unchanged [env: CACHECMD_TRACE_INPUTS]'
            cand -v 'Print one status line on stderr (hit or miss, age, key)'
            cand --verbose 'Print one status line on stderr (hit or miss, age, key)'
            cand --force 'Run the command and record it even if a fresh entry exists'
            cand --warm 'Refresh the entry in the background and return at once, printing nothing'
            cand --cached-only 'Serve a fresh entry as a hit; on a miss print nothing, run nothing and exit with --miss-status'
            cand --check 'Print nothing, run nothing: exit 0 when a fresh entry exists, else with --miss-status'
            cand --refresh 'Internal: the background refresh started by --stale or --warm'
            cand --remote-read-only 'Alias of `--remote-mode read-only`'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand evict 'Forget the cached entry of one invocation (same key options as a run)'
            cand clear 'Forget cached entries: all, or those matching the filters'
            cand key 'Print the key a run with these options would use (`--explain`: its parts)'
            cand list 'List cached entries, most recently used first'
            cand show 'Show everything known about one entry'
            cand stats 'Summarize the cache: entries, bytes, hits, misses, evictions'
            cand gc 'Remove expired entries and stray files; enforce the size limits'
            cand config 'Print the effective configuration and where each value comes from'
            cand audit 'Run a command traced; print the files it read that no --input covers (exit 1 if any)'
            cand completions 'Print the completion script for bash, zsh, fish, powershell or elvish'
            cand man 'Print a man page: cachecmd''s own, or a subcommand''s'
            cand __complete-keys 'Internal: key prefixes of the cached entries, for the completion scripts'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'cachecmd;evict'= {
            cand --env 'Key on this environment variable (repeatable; globs such as `AWS_*`)'
            cand --scope 'A namespace for the entry, part of the key (any string)'
            cand --key 'Extra key material, e.g. a version or date (repeatable)'
            cand --input 'Key on the content of these files: a path, a directory, or a glob with `**` (repeatable)'
            cand --modtime 'Key on this file''s modification time only (repeatable)'
            cand --output 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)'
            cand --expires-from 'Expire the entry when stdout (JSON) says: the instant, epoch seconds or seconds left at this JSON Pointer (`/Credentials/Expiration`) or `$.dotted.path`'
            cand --trace-ignore 'Leave paths matching this glob out of the traced inputs (repeatable) [default: /run/** /var/run/**; /proc, /sys, /dev and the cache always]'
            cand --cache-dir 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]'
            cand --no-cwd 'Leave the working directory out of the key (share across directories)'
            cand --stdin 'Read stdin, key on its content, and feed it to the command'
            cand --trace-inputs 'Find the command''s inputs by tracing it (Linux): serve the entry only while every file it read, stat''ed, ran or listed is unchanged [env: CACHECMD_TRACE_INPUTS]'
            cand -v 'Print one status line on stderr (hit or miss, age, key)'
            cand --verbose 'Print one status line on stderr (hit or miss, age, key)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'cachecmd;clear'= {
            cand --cache-dir 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]'
            cand --scope 'Only entries with this scope'
            cand --older-than 'Only entries older than this'
            cand --command 'Only entries whose program name or whole command line matches this glob'
            cand -v 'Print one status line on stderr (hit or miss, age, key)'
            cand --verbose 'Print one status line on stderr (hit or miss, age, key)'
            cand --expired 'Only entries past the lifetime they were recorded with'
            cand --remote 'Also remove every entry in the remote tier (CACHECMD_REMOTE or config `remote`)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'cachecmd;key'= {
            cand --env 'Key on this environment variable (repeatable; globs such as `AWS_*`)'
            cand --scope 'A namespace for the entry, part of the key (any string)'
            cand --key 'Extra key material, e.g. a version or date (repeatable)'
            cand --input 'Key on the content of these files: a path, a directory, or a glob with `**` (repeatable)'
            cand --modtime 'Key on this file''s modification time only (repeatable)'
            cand --output 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)'
            cand --expires-from 'Expire the entry when stdout (JSON) says: the instant, epoch seconds or seconds left at this JSON Pointer (`/Credentials/Expiration`) or `$.dotted.path`'
            cand --trace-ignore 'Leave paths matching this glob out of the traced inputs (repeatable) [default: /run/** /var/run/**; /proc, /sys, /dev and the cache always]'
            cand --cache-dir 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]'
            cand --no-cwd 'Leave the working directory out of the key (share across directories)'
            cand --stdin 'Read stdin, key on its content, and feed it to the command'
            cand --trace-inputs 'Find the command''s inputs by tracing it (Linux): serve the entry only while every file it read, stat''ed, ran or listed is unchanged [env: CACHECMD_TRACE_INPUTS]'
            cand -v 'Print one status line on stderr (hit or miss, age, key)'
            cand --verbose 'Print one status line on stderr (hit or miss, age, key)'
            cand --explain 'Print each part of the key (values of variables only as digests)'
            cand --json 'Print the key and each part of it as a JSON object'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'cachecmd;list'= {
            cand --cache-dir 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]'
            cand --color 'Colour the report: auto (only on a terminal, and never with NO_COLOR set), always or never'
            cand --scope 'Only entries with this scope'
            cand --command 'Only entries whose program name or whole command line matches this glob'
            cand --sort 'Order by age (oldest first), size, hits or saved (largest first) [default: most recently used first]'
            cand -v 'Print one status line on stderr (hit or miss, age, key)'
            cand --verbose 'Print one status line on stderr (hit or miss, age, key)'
            cand --here 'Only entries recorded in the current directory'
            cand --expired 'Only entries past the lifetime they were recorded with'
            cand --json 'Print a JSON array instead of a table'
            cand --remote 'List the remote tier''s keys (CACHECMD_REMOTE or config `remote`) instead'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'cachecmd;show'= {
            cand --env 'Key on this environment variable (repeatable; globs such as `AWS_*`)'
            cand --scope 'A namespace for the entry, part of the key (any string)'
            cand --key 'Extra key material, e.g. a version or date (repeatable)'
            cand --input 'Key on the content of these files: a path, a directory, or a glob with `**` (repeatable)'
            cand --modtime 'Key on this file''s modification time only (repeatable)'
            cand --output 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)'
            cand --expires-from 'Expire the entry when stdout (JSON) says: the instant, epoch seconds or seconds left at this JSON Pointer (`/Credentials/Expiration`) or `$.dotted.path`'
            cand --trace-ignore 'Leave paths matching this glob out of the traced inputs (repeatable) [default: /run/** /var/run/**; /proc, /sys, /dev and the cache always]'
            cand --cache-dir 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]'
            cand --color 'Colour the report: auto (only on a terminal, and never with NO_COLOR set), always or never'
            cand --no-cwd 'Leave the working directory out of the key (share across directories)'
            cand --stdin 'Read stdin, key on its content, and feed it to the command'
            cand --trace-inputs 'Find the command''s inputs by tracing it (Linux): serve the entry only while every file it read, stat''ed, ran or listed is unchanged [env: CACHECMD_TRACE_INPUTS]'
            cand -v 'Print one status line on stderr (hit or miss, age, key)'
            cand --verbose 'Print one status line on stderr (hit or miss, age, key)'
            cand --stdout 'Print the stored stdout instead of the description'
            cand --stderr 'Print the stored stderr instead of the description'
            cand --json 'Print the description as a JSON object'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'cachecmd;stats'= {
            cand --cache-dir 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]'
            cand --color 'Colour the report: auto (only on a terminal, and never with NO_COLOR set), always or never'
            cand --max-size 'Keep the cache under this size, evicting least recently used entries [default: 1GiB]'
            cand --max-entries 'Keep at most this many entries [default: unlimited]'
            cand -v 'Print one status line on stderr (hit or miss, age, key)'
            cand --verbose 'Print one status line on stderr (hit or miss, age, key)'
            cand --json 'Print a JSON object instead of text'
            cand --zero 'Reset the counters (hits, misses, evictions, time saved) to zero, from now'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'cachecmd;gc'= {
            cand --cache-dir 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]'
            cand --max-size 'Keep the cache under this size, evicting least recently used entries [default: 1GiB]'
            cand --max-entries 'Keep at most this many entries [default: unlimited]'
            cand -v 'Print one status line on stderr (hit or miss, age, key)'
            cand --verbose 'Print one status line on stderr (hit or miss, age, key)'
            cand --auto 'Started by a miss: quit at once if another gc is running'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'cachecmd;config'= {
            cand --cache-dir 'Cache directory'
            cand --ttl 'The TTL of a run: `30s`, `10m`, `forever`'
            cand --failure-ttl 'How long failures are cached'
            cand --cache-exit-codes 'Which exit statuses are cached, e.g. `0,1,100-199`'
            cand --miss-status 'The exit status of a miss under --cached-only or --check'
            cand --env 'Key on this environment variable (repeatable, adds to the config''s `env`)'
            cand --scope 'A namespace for entries'
            cand --expires-from 'Where the JSON output says when it expires'
            cand --expiry-margin 'How much earlier an absolute expiry counts'
            cand --lock-timeout 'Longest wait for another caller running the same key'
            cand --max-entry-size 'Larger outputs are not cached'
            cand --max-size 'gc keeps the cache under this size'
            cand --max-entries 'gc keeps at most this many entries'
            cand --remote 'The remote store''s URL (shown without its secrets)'
            cand --remote-mode 'read-write, read-only or write-only'
            cand --remote-timeout 'Deadline of one whole remote operation'
            cand --json 'Print a JSON array instead of text'
            cand -v 'Accepted as in every subcommand; it changes nothing here'
            cand --verbose 'Accepted as in every subcommand; it changes nothing here'
            cand --remote-read-only 'Alias of `--remote-mode read-only`'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'cachecmd;audit'= {
            cand --env 'Key on this environment variable (repeatable; globs such as `AWS_*`)'
            cand --scope 'A namespace for the entry, part of the key (any string)'
            cand --key 'Extra key material, e.g. a version or date (repeatable)'
            cand --input 'Key on the content of these files: a path, a directory, or a glob with `**` (repeatable)'
            cand --modtime 'Key on this file''s modification time only (repeatable)'
            cand --output 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)'
            cand --expires-from 'Expire the entry when stdout (JSON) says: the instant, epoch seconds or seconds left at this JSON Pointer (`/Credentials/Expiration`) or `$.dotted.path`'
            cand --trace-ignore 'Leave paths matching this glob out of the traced inputs (repeatable) [default: /run/** /var/run/**; /proc, /sys, /dev and the cache always]'
            cand --cache-dir 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]'
            cand --no-cwd 'Leave the working directory out of the key (share across directories)'
            cand --stdin 'Read stdin, key on its content, and feed it to the command'
            cand --trace-inputs 'Find the command''s inputs by tracing it (Linux): serve the entry only while every file it read, stat''ed, ran or listed is unchanged [env: CACHECMD_TRACE_INPUTS]'
            cand -v 'Print one status line on stderr (hit or miss, age, key)'
            cand --verbose 'Print one status line on stderr (hit or miss, age, key)'
            cand --all 'Print every file read, system files included, not only those under the working directory'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'cachecmd;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'cachecmd;man'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'cachecmd;__complete-keys'= {
            cand --cache-dir 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]'
            cand -v 'Print one status line on stderr (hit or miss, age, key)'
            cand --verbose 'Print one status line on stderr (hit or miss, age, key)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'cachecmd;help'= {
            cand evict 'Forget the cached entry of one invocation (same key options as a run)'
            cand clear 'Forget cached entries: all, or those matching the filters'
            cand key 'Print the key a run with these options would use (`--explain`: its parts)'
            cand list 'List cached entries, most recently used first'
            cand show 'Show everything known about one entry'
            cand stats 'Summarize the cache: entries, bytes, hits, misses, evictions'
            cand gc 'Remove expired entries and stray files; enforce the size limits'
            cand config 'Print the effective configuration and where each value comes from'
            cand audit 'Run a command traced; print the files it read that no --input covers (exit 1 if any)'
            cand completions 'Print the completion script for bash, zsh, fish, powershell or elvish'
            cand man 'Print a man page: cachecmd''s own, or a subcommand''s'
            cand __complete-keys 'Internal: key prefixes of the cached entries, for the completion scripts'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'cachecmd;help;evict'= {
        }
        &'cachecmd;help;clear'= {
        }
        &'cachecmd;help;key'= {
        }
        &'cachecmd;help;list'= {
        }
        &'cachecmd;help;show'= {
        }
        &'cachecmd;help;stats'= {
        }
        &'cachecmd;help;gc'= {
        }
        &'cachecmd;help;config'= {
        }
        &'cachecmd;help;audit'= {
        }
        &'cachecmd;help;completions'= {
        }
        &'cachecmd;help;man'= {
        }
        &'cachecmd;help;__complete-keys'= {
        }
        &'cachecmd;help;help'= {
        }
    ]
    $completions[$command]
}
