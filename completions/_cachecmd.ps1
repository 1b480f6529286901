
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'cachecmd' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'cachecmd'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'cachecmd' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Key on this environment variable (repeatable; globs such as `AWS_*`)')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'A namespace for the entry, part of the key (any string)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Extra key material, e.g. a version or date (repeatable)')
            [CompletionResult]::new('--input', '--input', [CompletionResultType]::ParameterName, 'Key on the content of these files: a path, a directory, or a glob with `**` (repeatable)')
            [CompletionResult]::new('--modtime', '--modtime', [CompletionResultType]::ParameterName, 'Key on this file''s modification time only (repeatable)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)')
            [CompletionResult]::new('--expires-from', '--expires-from', [CompletionResultType]::ParameterName, 'Expire the entry when stdout (JSON) says: the instant, epoch seconds or seconds left at this JSON Pointer (`/Credentials/Expiration`) or `$.dotted.path`')
            [CompletionResult]::new('--trace-ignore', '--trace-ignore', [CompletionResultType]::ParameterName, 'Leave paths matching this glob out of the traced inputs (repeatable) [default: /run/** /var/run/**; /proc, /sys, /dev and the cache always]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'How long an entry is served: `30s`, `10m`, `1h 30m`, `7d` or `forever` [default: 1h]')
            [CompletionResult]::new('--failure-ttl', '--failure-ttl', [CompletionResultType]::ParameterName, 'Also cache non-zero exits, served for this long [default: failures are not cached]')
            [CompletionResult]::new('--stale', '--stale', [CompletionResultType]::ParameterName, 'Serve entries older than this at once, refreshing them in the background (< --ttl)')
            [CompletionResult]::new('--stale-if-error', '--stale-if-error', [CompletionResultType]::ParameterName, 'If a run fails, serve the last good entry expired less than this ago')
            [CompletionResult]::new('--retry', '--retry', [CompletionResultType]::ParameterName, 'Retry a failed run up to N more times (output of the final attempt only)')
            [CompletionResult]::new('--retry-delay', '--retry-delay', [CompletionResultType]::ParameterName, 'Wait before the first retry, doubling each time [default: 1s]')
            [CompletionResult]::new('--expires-at', '--expires-at', [CompletionResultType]::ParameterName, 'Expire the entry at a local time of day (`17:00`) or an RFC 3339 instant')
            [CompletionResult]::new('--expiry-margin', '--expiry-margin', [CompletionResultType]::ParameterName, 'Treat an entry as expired this long before its absolute expiry; with --stale, refresh inside it [default: 0s]')
            [CompletionResult]::new('--miss-status', '--miss-status', [CompletionResultType]::ParameterName, 'The exit status of a miss under --cached-only or --check [default: 3]')
            [CompletionResult]::new('--cache-exit-codes', '--cache-exit-codes', [CompletionResultType]::ParameterName, 'Exit statuses that are cached, e.g. `0,1,100-199`; non-zero ones live for --failure-ttl (else --ttl) [default: 0, and all with --failure-ttl]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Longest wait for another caller running the same key; past it, run anyway [default: 10m]')
            [CompletionResult]::new('--max-entry-size', '--max-entry-size', [CompletionResultType]::ParameterName, 'Larger outputs are streamed but not cached: `500M`, `2GiB` [default: 1GiB]')
            [CompletionResult]::new('--max-size', '--max-size', [CompletionResultType]::ParameterName, 'Keep the cache under this size, evicting least recently used entries [default: 1GiB]')
            [CompletionResult]::new('--max-entries', '--max-entries', [CompletionResultType]::ParameterName, 'Keep at most this many entries [default: unlimited]')
            [CompletionResult]::new('--remote', '--remote', [CompletionResultType]::ParameterName, 'Share entries through a remote store: `redis://[user:pass@]host:port/db`, `rediss://` (TLS), `http[s]://host/prefix`, `s3://bucket/prefix`')
            [CompletionResult]::new('--remote-mode', '--remote-mode', [CompletionResultType]::ParameterName, 'Which way entries flow: read-write, read-only (untrusted jobs), write-only (never serve remote entries) [default: read-write]')
            [CompletionResult]::new('--remote-timeout', '--remote-timeout', [CompletionResultType]::ParameterName, 'Deadline of one whole remote lookup or upload (connect, transfer, checks) [default: 2s]')
            [CompletionResult]::new('--no-cwd', '--no-cwd', [CompletionResultType]::ParameterName, 'Leave the working directory out of the key (share across directories)')
            [CompletionResult]::new('--stdin', '--stdin', [CompletionResultType]::ParameterName, 'Read stdin, key on its content, and feed it to the command')
            [CompletionResult]::new('--trace-inputs', '--trace-inputs', [CompletionResultType]::ParameterName, 'Find the command''s inputs by tracing it (Linux): serve the entry only while every file it read, stat''ed, ran or listed is unchanged [env: CACHECMD_TRACE_INPUTS]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Run the command and record it even if a fresh entry exists')
            [CompletionResult]::new('--warm', '--warm', [CompletionResultType]::ParameterName, 'Refresh the entry in the background and return at once, printing nothing')
            [CompletionResult]::new('--cached-only', '--cached-only', [CompletionResultType]::ParameterName, 'Serve a fresh entry as a hit; on a miss print nothing, run nothing and exit with --miss-status')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Print nothing, run nothing: exit 0 when a fresh entry exists, else with --miss-status')
            [CompletionResult]::new('--refresh', '--refresh', [CompletionResultType]::ParameterName, 'Internal: the background refresh started by --stale or --warm')
            [CompletionResult]::new('--remote-read-only', '--remote-read-only', [CompletionResultType]::ParameterName, 'Alias of `--remote-mode read-only`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('evict', 'evict', [CompletionResultType]::ParameterValue, 'Forget the cached entry of one invocation (same key options as a run)')
            [CompletionResult]::new('clear', 'clear', [CompletionResultType]::ParameterValue, 'Forget cached entries: all, or those matching the filters')
            [CompletionResult]::new('key', 'key', [CompletionResultType]::ParameterValue, 'Print the key a run with these options would use (`--explain`: its parts)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List cached entries, most recently used first')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show everything known about one entry')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Summarize the cache: entries, bytes, hits, misses, evictions')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Remove expired entries and stray files; enforce the size limits')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Print the effective configuration and where each value comes from')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Run a command traced; print the files it read that no --input covers (exit 1 if any)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for bash, zsh, fish, powershell or elvish')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print a man page: cachecmd''s own, or a subcommand''s')
            [CompletionResult]::new('__complete-keys', '__complete-keys', [CompletionResultType]::ParameterValue, 'Internal: key prefixes of the cached entries, for the completion scripts')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'cachecmd;evict' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Key on this environment variable (repeatable; globs such as `AWS_*`)')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'A namespace for the entry, part of the key (any string)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Extra key material, e.g. a version or date (repeatable)')
            [CompletionResult]::new('--input', '--input', [CompletionResultType]::ParameterName, 'Key on the content of these files: a path, a directory, or a glob with `**` (repeatable)')
            [CompletionResult]::new('--modtime', '--modtime', [CompletionResultType]::ParameterName, 'Key on this file''s modification time only (repeatable)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)')
            [CompletionResult]::new('--expires-from', '--expires-from', [CompletionResultType]::ParameterName, 'Expire the entry when stdout (JSON) says: the instant, epoch seconds or seconds left at this JSON Pointer (`/Credentials/Expiration`) or `$.dotted.path`')
            [CompletionResult]::new('--trace-ignore', '--trace-ignore', [CompletionResultType]::ParameterName, 'Leave paths matching this glob out of the traced inputs (repeatable) [default: /run/** /var/run/**; /proc, /sys, /dev and the cache always]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]')
            [CompletionResult]::new('--no-cwd', '--no-cwd', [CompletionResultType]::ParameterName, 'Leave the working directory out of the key (share across directories)')
            [CompletionResult]::new('--stdin', '--stdin', [CompletionResultType]::ParameterName, 'Read stdin, key on its content, and feed it to the command')
            [CompletionResult]::new('--trace-inputs', '--trace-inputs', [CompletionResultType]::ParameterName, 'Find the command''s inputs by tracing it (Linux): serve the entry only while every file it read, stat''ed, ran or listed is unchanged [env: CACHECMD_TRACE_INPUTS]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'cachecmd;clear' {
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Only entries with this scope')
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Only entries older than this')
            [CompletionResult]::new('--command', '--command', [CompletionResultType]::ParameterName, 'Only entries whose program name or whole command line matches this glob')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('--expired', '--expired', [CompletionResultType]::ParameterName, 'Only entries past the lifetime they were recorded with')
            [CompletionResult]::new('--remote', '--remote', [CompletionResultType]::ParameterName, 'Also remove every entry in the remote tier (CACHECMD_REMOTE or config `remote`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'cachecmd;key' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Key on this environment variable (repeatable; globs such as `AWS_*`)')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'A namespace for the entry, part of the key (any string)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Extra key material, e.g. a version or date (repeatable)')
            [CompletionResult]::new('--input', '--input', [CompletionResultType]::ParameterName, 'Key on the content of these files: a path, a directory, or a glob with `**` (repeatable)')
            [CompletionResult]::new('--modtime', '--modtime', [CompletionResultType]::ParameterName, 'Key on this file''s modification time only (repeatable)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)')
            [CompletionResult]::new('--expires-from', '--expires-from', [CompletionResultType]::ParameterName, 'Expire the entry when stdout (JSON) says: the instant, epoch seconds or seconds left at this JSON Pointer (`/Credentials/Expiration`) or `$.dotted.path`')
            [CompletionResult]::new('--trace-ignore', '--trace-ignore', [CompletionResultType]::ParameterName, 'Leave paths matching this glob out of the traced inputs (repeatable) [default: /run/** /var/run/**; /proc, /sys, /dev and the cache always]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]')
            [CompletionResult]::new('--no-cwd', '--no-cwd', [CompletionResultType]::ParameterName, 'Leave the working directory out of the key (share across directories)')
            [CompletionResult]::new('--stdin', '--stdin', [CompletionResultType]::ParameterName, 'Read stdin, key on its content, and feed it to the command')
            [CompletionResult]::new('--trace-inputs', '--trace-inputs', [CompletionResultType]::ParameterName, 'Find the command''s inputs by tracing it (Linux): serve the entry only while every file it read, stat''ed, ran or listed is unchanged [env: CACHECMD_TRACE_INPUTS]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Print each part of the key (values of variables only as digests)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the key and each part of it as a JSON object')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'cachecmd;list' {
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour the report: auto (only on a terminal, and never with NO_COLOR set), always or never')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Only entries with this scope')
            [CompletionResult]::new('--command', '--command', [CompletionResultType]::ParameterName, 'Only entries whose program name or whole command line matches this glob')
            [CompletionResult]::new('--sort', '--sort', [CompletionResultType]::ParameterName, 'Order by age (oldest first), size, hits or saved (largest first) [default: most recently used first]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('--here', '--here', [CompletionResultType]::ParameterName, 'Only entries recorded in the current directory')
            [CompletionResult]::new('--expired', '--expired', [CompletionResultType]::ParameterName, 'Only entries past the lifetime they were recorded with')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON array instead of a table')
            [CompletionResult]::new('--remote', '--remote', [CompletionResultType]::ParameterName, 'List the remote tier''s keys (CACHECMD_REMOTE or config `remote`) instead')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'cachecmd;show' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Key on this environment variable (repeatable; globs such as `AWS_*`)')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'A namespace for the entry, part of the key (any string)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Extra key material, e.g. a version or date (repeatable)')
            [CompletionResult]::new('--input', '--input', [CompletionResultType]::ParameterName, 'Key on the content of these files: a path, a directory, or a glob with `**` (repeatable)')
            [CompletionResult]::new('--modtime', '--modtime', [CompletionResultType]::ParameterName, 'Key on this file''s modification time only (repeatable)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)')
            [CompletionResult]::new('--expires-from', '--expires-from', [CompletionResultType]::ParameterName, 'Expire the entry when stdout (JSON) says: the instant, epoch seconds or seconds left at this JSON Pointer (`/Credentials/Expiration`) or `$.dotted.path`')
            [CompletionResult]::new('--trace-ignore', '--trace-ignore', [CompletionResultType]::ParameterName, 'Leave paths matching this glob out of the traced inputs (repeatable) [default: /run/** /var/run/**; /proc, /sys, /dev and the cache always]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour the report: auto (only on a terminal, and never with NO_COLOR set), always or never')
            [CompletionResult]::new('--no-cwd', '--no-cwd', [CompletionResultType]::ParameterName, 'Leave the working directory out of the key (share across directories)')
            [CompletionResult]::new('--stdin', '--stdin', [CompletionResultType]::ParameterName, 'Read stdin, key on its content, and feed it to the command')
            [CompletionResult]::new('--trace-inputs', '--trace-inputs', [CompletionResultType]::ParameterName, 'Find the command''s inputs by tracing it (Linux): serve the entry only while every file it read, stat''ed, ran or listed is unchanged [env: CACHECMD_TRACE_INPUTS]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('--stdout', '--stdout', [CompletionResultType]::ParameterName, 'Print the stored stdout instead of the description')
            [CompletionResult]::new('--stderr', '--stderr', [CompletionResultType]::ParameterName, 'Print the stored stderr instead of the description')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the description as a JSON object')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'cachecmd;stats' {
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour the report: auto (only on a terminal, and never with NO_COLOR set), always or never')
            [CompletionResult]::new('--max-size', '--max-size', [CompletionResultType]::ParameterName, 'Keep the cache under this size, evicting least recently used entries [default: 1GiB]')
            [CompletionResult]::new('--max-entries', '--max-entries', [CompletionResultType]::ParameterName, 'Keep at most this many entries [default: unlimited]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON object instead of text')
            [CompletionResult]::new('--zero', '--zero', [CompletionResultType]::ParameterName, 'Reset the counters (hits, misses, evictions, time saved) to zero, from now')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'cachecmd;gc' {
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]')
            [CompletionResult]::new('--max-size', '--max-size', [CompletionResultType]::ParameterName, 'Keep the cache under this size, evicting least recently used entries [default: 1GiB]')
            [CompletionResult]::new('--max-entries', '--max-entries', [CompletionResultType]::ParameterName, 'Keep at most this many entries [default: unlimited]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('--auto', '--auto', [CompletionResultType]::ParameterName, 'Started by a miss: quit at once if another gc is running')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'cachecmd;config' {
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Cache directory')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'The TTL of a run: `30s`, `10m`, `forever`')
            [CompletionResult]::new('--failure-ttl', '--failure-ttl', [CompletionResultType]::ParameterName, 'How long failures are cached')
            [CompletionResult]::new('--cache-exit-codes', '--cache-exit-codes', [CompletionResultType]::ParameterName, 'Which exit statuses are cached, e.g. `0,1,100-199`')
            [CompletionResult]::new('--miss-status', '--miss-status', [CompletionResultType]::ParameterName, 'The exit status of a miss under --cached-only or --check')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Key on this environment variable (repeatable, adds to the config''s `env`)')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'A namespace for entries')
            [CompletionResult]::new('--expires-from', '--expires-from', [CompletionResultType]::ParameterName, 'Where the JSON output says when it expires')
            [CompletionResult]::new('--expiry-margin', '--expiry-margin', [CompletionResultType]::ParameterName, 'How much earlier an absolute expiry counts')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'Longest wait for another caller running the same key')
            [CompletionResult]::new('--max-entry-size', '--max-entry-size', [CompletionResultType]::ParameterName, 'Larger outputs are not cached')
            [CompletionResult]::new('--max-size', '--max-size', [CompletionResultType]::ParameterName, 'gc keeps the cache under this size')
            [CompletionResult]::new('--max-entries', '--max-entries', [CompletionResultType]::ParameterName, 'gc keeps at most this many entries')
            [CompletionResult]::new('--remote', '--remote', [CompletionResultType]::ParameterName, 'The remote store''s URL (shown without its secrets)')
            [CompletionResult]::new('--remote-mode', '--remote-mode', [CompletionResultType]::ParameterName, 'read-write, read-only or write-only')
            [CompletionResult]::new('--remote-timeout', '--remote-timeout', [CompletionResultType]::ParameterName, 'Deadline of one whole remote operation')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON array instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Accepted as in every subcommand; it changes nothing here')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Accepted as in every subcommand; it changes nothing here')
            [CompletionResult]::new('--remote-read-only', '--remote-read-only', [CompletionResultType]::ParameterName, 'Alias of `--remote-mode read-only`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'cachecmd;audit' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Key on this environment variable (repeatable; globs such as `AWS_*`)')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'A namespace for the entry, part of the key (any string)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Extra key material, e.g. a version or date (repeatable)')
            [CompletionResult]::new('--input', '--input', [CompletionResultType]::ParameterName, 'Key on the content of these files: a path, a directory, or a glob with `**` (repeatable)')
            [CompletionResult]::new('--modtime', '--modtime', [CompletionResultType]::ParameterName, 'Key on this file''s modification time only (repeatable)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'A file or directory the command writes: archived on a miss, restored on a hit (repeatable)')
            [CompletionResult]::new('--expires-from', '--expires-from', [CompletionResultType]::ParameterName, 'Expire the entry when stdout (JSON) says: the instant, epoch seconds or seconds left at this JSON Pointer (`/Credentials/Expiration`) or `$.dotted.path`')
            [CompletionResult]::new('--trace-ignore', '--trace-ignore', [CompletionResultType]::ParameterName, 'Leave paths matching this glob out of the traced inputs (repeatable) [default: /run/** /var/run/**; /proc, /sys, /dev and the cache always]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]')
            [CompletionResult]::new('--no-cwd', '--no-cwd', [CompletionResultType]::ParameterName, 'Leave the working directory out of the key (share across directories)')
            [CompletionResult]::new('--stdin', '--stdin', [CompletionResultType]::ParameterName, 'Read stdin, key on its content, and feed it to the command')
            [CompletionResult]::new('--trace-inputs', '--trace-inputs', [CompletionResultType]::ParameterName, 'Find the command''s inputs by tracing it (Linux): serve the entry only while every file it read, stat''ed, ran or listed is unchanged [env: CACHECMD_TRACE_INPUTS]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Print every file read, system files included, not only those under the working directory')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'cachecmd;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'cachecmd;man' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'cachecmd;__complete-keys' {
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Cache directory [default: $XDG_CACHE_HOME/cachecmd]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print one status line on stderr (hit or miss, age, key)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'cachecmd;help' {
            [CompletionResult]::new('evict', 'evict', [CompletionResultType]::ParameterValue, 'Forget the cached entry of one invocation (same key options as a run)')
            [CompletionResult]::new('clear', 'clear', [CompletionResultType]::ParameterValue, 'Forget cached entries: all, or those matching the filters')
            [CompletionResult]::new('key', 'key', [CompletionResultType]::ParameterValue, 'Print the key a run with these options would use (`--explain`: its parts)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List cached entries, most recently used first')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show everything known about one entry')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Summarize the cache: entries, bytes, hits, misses, evictions')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Remove expired entries and stray files; enforce the size limits')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Print the effective configuration and where each value comes from')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Run a command traced; print the files it read that no --input covers (exit 1 if any)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for bash, zsh, fish, powershell or elvish')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print a man page: cachecmd''s own, or a subcommand''s')
            [CompletionResult]::new('__complete-keys', '__complete-keys', [CompletionResultType]::ParameterValue, 'Internal: key prefixes of the cached entries, for the completion scripts')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'cachecmd;help;evict' {
            break
        }
        'cachecmd;help;clear' {
            break
        }
        'cachecmd;help;key' {
            break
        }
        'cachecmd;help;list' {
            break
        }
        'cachecmd;help;show' {
            break
        }
        'cachecmd;help;stats' {
            break
        }
        'cachecmd;help;gc' {
            break
        }
        'cachecmd;help;config' {
            break
        }
        'cachecmd;help;audit' {
            break
        }
        'cachecmd;help;completions' {
            break
        }
        'cachecmd;help;man' {
            break
        }
        'cachecmd;help;__complete-keys' {
            break
        }
        'cachecmd;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
