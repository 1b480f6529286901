//! The main page's sections on what reaches beyond one machine's cache:
//! the shared remote tier and its URL schemes, and the safety rules of
//! `--output` restores.

use clap_mangen::roff::Roff;

use super::markup::{bullet, heading, para, tagged, text};

pub(crate) fn remote_tier() -> Roff {
    let mut r = Roff::new();
    heading(&mut r, "REMOTE TIER");
    text(
        &mut r,
        "`--remote` {URL} (or `CACHECMD_REMOTE`, or `remote` in the config file) adds a tier \
         shared by every machine that reaches it. Lookups try the local cache first, then the \
         remote; a remote hit is copied into the local cache. A miss records locally and then \
         uploads. The scheme of {URL} picks the backend:",
    );
    tagged(
        &mut r,
        "`redis://`[{user}:{password}`@`]{host}[:{port}][/{db}], `rediss://`...",
        "Redis, `rediss` with TLS. Concurrent misses on different machines wait for one \
         another through a Redis lock, as local callers do.",
    );
    tagged(
        &mut r,
        "`http://`{host}[:{port}]/{prefix}, `https://`...",
        "Any server that stores objects by PUT and serves them by GET (nginx WebDAV, \
         bazel-remote and the like). Basic auth from the URL, or a bearer token from \
         `CACHECMD_REMOTE_TOKEN`. No lock: concurrent misses each run. `list --remote` and \
         `clear --remote` need WebDAV PROPFIND.",
    );
    tagged(
        &mut r,
        "`s3://`{bucket}/{prefix}",
        "An S3-compatible object store, in builds that include it.",
    );
    para(
        &mut r,
        "A URL whose backend this build lacks is reported once on stderr and the run goes on \
         with the local cache only. The password may come from `CACHECMD_REMOTE_PASSWORD` \
         instead of the URL; secrets never appear in messages.",
    );
    for rule in [
        "The remote store is untrusted: every entry is verified (every checksum, every \
         length) before a byte of it is replayed; a bad one is a miss.",
        "The first failure of the remote (refused, timed out, wrong password) disables it \
         for the rest of the run, which goes on locally: output and exit status never \
         depend on the remote.",
        "Entries larger than `remote_max_entry_size` (64 MiB) stay local.",
        "`--remote-read-only` (`CACHECMD_REMOTE_READ_ONLY=1`) reads and never writes: for \
         untrusted jobs such as pull requests.",
    ] {
        bullet(&mut r, rule);
    }
    r
}

pub(crate) fn outputs() -> Roff {
    let mut r = Roff::new();
    heading(&mut r, "OUTPUT FILES");
    text(
        &mut r,
        "`--output` {PATH} (repeatable; a file or directory under the working directory) \
         archives what the command wrote into the entry after a successful run; a hit \
         restores it, then replays stdout and stderr. Declared outputs are part of the key, \
         and only successful runs are cached with them. Restores follow these rules:",
    );
    for rule in [
        "Each output is extracted beside its destination and renamed into place, so an \
         interrupted restore leaves the old or the new tree, never a mix. A declared output \
         the command did not produce is recorded as absent and removed on restore.",
        "The archive is treated as hostile: absolute paths, `..`, entries outside the \
         declared outputs, hard links, devices, symlinks leading out of the working directory \
         and anything written through a symlink are refused, nothing changes, and the lookup \
         becomes a miss.",
        "An output that cannot be archived faithfully (a symlink leading outside, a FIFO) \
         makes the run uncached.",
        "Setuid and setgid bits are not restored.",
    ] {
        bullet(&mut r, rule);
    }
    r
}
