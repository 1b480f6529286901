//! Exit statuses of cachecmd itself, in one place (the GNU `env`/`timeout`
//! convention). A run's normal status is the command's own.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// A management command found no such entry (`show`, `evict` by prefix).
pub const NO_ENTRY: i32 = 1;
/// Output could not be written to the caller (ENOSPC as on `>/dev/full`,
/// EIO, EFBIG, a closed descriptor): the caller did not get all the bytes.
/// Not 1, which the command itself may return; 120 sits below the 125-127
/// range GNU `env`/`timeout` reserve, and no common tool uses it. A reader
/// that went away (EPIPE) is not this failure: the caller chose to stop.
pub const WRITE_FAILED: i32 = 120;
/// `--cached-only` or `--check` found no fresh entry (unless `--miss-status`):
/// not 0 (a hit), not 1 (what commands commonly return), outside 125-127.
pub const MISS: i32 = 3;
/// Our own usage or setup error: bad flag, bad config, impossible option.
pub const USAGE: i32 = 125;
/// The command exists but could not be executed.
pub const NOT_EXECUTABLE: i32 = 126;
/// The command was not found.
pub const NOT_FOUND: i32 = 127;

/// The status a shell would report for the command: its code, or 128+N when
/// signal N killed it.
pub fn from_status(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_map_to_128_plus_n() {
        assert_eq!(from_status(ExitStatus::from_raw(15)), 143);
        assert_eq!(from_status(ExitStatus::from_raw(9)), 137);
    }

    #[test]
    fn exit_codes_pass_through() {
        assert_eq!(from_status(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(from_status(ExitStatus::from_raw(0)), 0);
    }
}
