//! Checking what a remote store returned: the server is untrusted, so a
//! fetched value is an entry only once it verifies like a local one.

use std::fs::File;
use std::os::unix::fs::FileExt;

use crate::entry::{DecodeError, Header, Meta};
use crate::key::Key;

/// Checks the bytes `fetch` wrote to `file` exactly as the local store checks
/// its own entries (header, lengths against the real size, every region's
/// checksum, and that it was recorded for `key`: a value the server holds
/// under another key is refused), then decodes the metadata. Only an `Ok` entry may be published
/// or replayed. `Meta::created` is the entry's real birth: its age on this
/// machine must come from it, not from the local file.
pub fn verify_entry(file: &File, key: &Key) -> Result<(Header, Meta), DecodeError> {
    let size = file.metadata().map_err(|_| DecodeError::Short)?.len();
    let (header, _) = crate::store::disk::verify(file, size, key)?;
    let range = header.meta_range();
    // `Header::decode` bounded the metadata length by MAX_META_LEN.
    let mut meta = vec![0u8; (range.end - range.start) as usize];
    file.read_exact_at(&mut meta, range.start).map_err(|_| DecodeError::Short)?;
    Ok((header, Meta::decode(&meta, header.meta_hash)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_for_another_key_is_refused() {
        let (own, other) = (Key::from_slice(&[3; 32]).unwrap(), Key::from_slice(&[4; 32]).unwrap());
        let file = crate::store::verify::tests::entry_for(&own, b"out");
        assert_eq!(verify_entry(&file, &own).unwrap().1.created, 1);
        assert_eq!(verify_entry(&file, &other).map(|_| ()), Err(DecodeError::Key));
    }
}
