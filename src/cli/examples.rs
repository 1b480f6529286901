//! The examples at the end of `cachecmd --help`.

pub(super) const EXAMPLES: &str = "\
Examples:
  # Shell prompt: cache a slow status for 10 seconds per directory
  cachecmd --ttl 10s -- git status --short

  # Script: call a slow API at most once an hour, keyed on the profile
  cachecmd --ttl 1h --env AWS_PROFILE -- aws ec2 describe-instances

  # CI: share across checkouts (no cwd in the key), forget on demand
  cachecmd --no-cwd --ttl 7d -- ./generate-schema.sh
  cachecmd evict --no-cwd -- ./generate-schema.sh

  # A program whose name is also a subcommand
  cachecmd -- clear";
