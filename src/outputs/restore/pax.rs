//! Extension records in front of an entry (GNU long names and links, pax
//! records) and the pax time format they carry, read with bounds.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tar::{Entry, PaxExtensions};

use super::stream_error;
use crate::outputs::{OutputError, MANIFEST_MAX};

/// An mtime: seconds since the epoch (maybe negative) and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Mtime {
    pub secs: i64,
    pub nanos: u32,
}

impl Mtime {
    pub(super) fn system_time(self) -> Option<SystemTime> {
        let whole = if self.secs >= 0 {
            UNIX_EPOCH.checked_add(Duration::from_secs(self.secs as u64))?
        } else {
            UNIX_EPOCH.checked_sub(Duration::from_secs(self.secs.unsigned_abs()))?
        };
        whole.checked_add(Duration::from_nanos(u64::from(self.nanos)))
    }
}

/// Parses a pax time, `[-]SECS[.FRACTION]`.
fn parse_mtime(value: &[u8]) -> Option<Mtime> {
    let text = std::str::from_utf8(value).ok()?;
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let mut nanos = 0u32;
    for digit in frac.bytes().chain(std::iter::repeat(b'0')).take(9) {
        nanos = nanos * 10 + u32::from(digit - b'0');
    }
    Some(match (negative, nanos) {
        (false, _) => Mtime { secs: whole, nanos },
        (true, 0) => Mtime { secs: -whole, nanos: 0 },
        (true, _) => Mtime { secs: -whole - 1, nanos: 1_000_000_000 - nanos },
    })
}

/// Extension records that describe the next entry.
#[derive(Default)]
pub(super) struct Pending {
    pub long_name: Option<Vec<u8>>,
    pub long_link: Option<Vec<u8>>,
    pub pax_path: Option<Vec<u8>>,
    pub pax_link: Option<Vec<u8>>,
    pub mtime: Option<Mtime>,
    pub any: bool,
}

/// Applies a pax record set: path, linkpath and mtime are honoured, atime
/// and ctime ignored, anything else refused (it could change how the entry
/// reads, e.g. `size`).
pub(super) fn pax(data: &[u8], pending: &mut Pending) -> Result<(), OutputError> {
    for record in PaxExtensions::new(data) {
        let record = record
            .map_err(|e| OutputError::refused(Path::new(""), format!("bad pax header: {e}")))?;
        match record.key_bytes() {
            b"path" => pending.pax_path = Some(record.value_bytes().to_vec()),
            b"linkpath" => pending.pax_link = Some(record.value_bytes().to_vec()),
            b"mtime" => {
                let mtime = parse_mtime(record.value_bytes())
                    .ok_or_else(|| OutputError::refused(Path::new(""), "bad pax mtime"))?;
                pending.mtime = Some(mtime);
            }
            b"atime" | b"ctime" => {}
            key => {
                let key = String::from_utf8_lossy(key);
                return Err(OutputError::refused(
                    Path::new(""),
                    format!("unsupported pax record '{key}'"),
                ));
            }
        }
    }
    Ok(())
}

/// The data of a small entry (manifest, long name, pax), bounded.
pub(super) fn read_small<R: Read>(
    entry: &mut Entry<'_, R>,
    what: &str,
) -> Result<Vec<u8>, OutputError> {
    if entry.size() > MANIFEST_MAX {
        return Err(OutputError::refused(Path::new(""), format!("{what} too large")));
    }
    let mut data = Vec::with_capacity(entry.size() as usize);
    entry.take(MANIFEST_MAX).read_to_end(&mut data).map_err(stream_error)?;
    if data.len() as u64 != entry.size() {
        return Err(OutputError::refused(Path::new(""), "truncated archive"));
    }
    Ok(data)
}

pub(super) fn trim_nul(mut bytes: Vec<u8>) -> Vec<u8> {
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::{parse_mtime, Mtime};
    use crate::outputs::archive::format_mtime;

    #[test]
    fn pax_mtimes_round_trip() {
        for (secs, nanos) in [
            (0, 1),
            (1_700_000_000, 999_999_999),
            (-1, 500_000_000),
            (-2, 750_000_000),
            (-5, 0),
            (7, 0),
        ] {
            let text = format_mtime(secs, nanos);
            assert_eq!(
                parse_mtime(text.as_bytes()),
                Some(Mtime { secs, nanos: nanos as u32 }),
                "{text}"
            );
        }
        assert_eq!(parse_mtime(b"12.5"), Some(Mtime { secs: 12, nanos: 500_000_000 }));
        assert_eq!(parse_mtime(b"12.1234567891"), Some(Mtime { secs: 12, nanos: 123_456_789 }));
        for bad in [&b""[..], b"-", b"1.x", b"x", b".5", b"1e3"] {
            assert_eq!(parse_mtime(bad), None);
        }
    }
}
