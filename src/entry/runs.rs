//! The order of an entry's two streams: runs of (stream, length) in the
//! order the command's output reached cachecmd. Encoded as u64 LE each, the
//! top bit naming the stream (see the entry format in the parent module).

use super::{DecodeError, Header};

/// At most this many runs (8 MiB encoded); a run interleaving more often is
/// not recorded, and a longer region is corrupt.
pub const MAX_RUNS: usize = 1 << 20;

const STDERR_BIT: u64 = 1 << 63;

/// One stretch of output on one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub stderr: bool,
    pub len: u64,
}

/// Runs in arrival order, adjacent runs of one stream merged.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Runs(pub Vec<Run>);

impl Runs {
    /// Appends `len` bytes of one stream; `false` once past [`MAX_RUNS`].
    pub fn push(&mut self, stderr: bool, len: u64) -> bool {
        if len == 0 {
            return true;
        }
        let full = self.0.len() >= MAX_RUNS;
        match self.0.last_mut() {
            Some(last) if last.stderr == stderr => {
                // Lengths are bounded by the entry size, far below 2^63.
                last.len = last.len.saturating_add(len).min(!STDERR_BIT);
                true
            }
            _ if full => false,
            _ => {
                self.0.push(Run { stderr, len });
                true
            }
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len() * 8);
        for run in &self.0 {
            let word = run.len | if run.stderr { STDERR_BIT } else { 0 };
            out.extend_from_slice(&word.to_le_bytes());
        }
        out
    }

    /// Decodes the runs region of `header` (whose length `Header::decode`
    /// already bounded) and checks that they add up to both streams.
    pub fn decode(bytes: &[u8], header: &Header) -> Result<Runs, DecodeError> {
        if bytes.is_empty() {
            let mut runs = Runs::default();
            runs.push(false, header.stdout_len);
            runs.push(true, header.stderr_len);
            return Ok(runs);
        }
        if !bytes.len().is_multiple_of(8) || bytes.len() > MAX_RUNS * 8 {
            return Err(DecodeError::Runs);
        }
        let mut runs = Vec::with_capacity(bytes.len() / 8);
        let (mut out, mut err) = (0u64, 0u64);
        for word in bytes.chunks_exact(8) {
            let word = u64::from_le_bytes(word.try_into().map_err(|_| DecodeError::Runs)?);
            let run = Run { stderr: word & STDERR_BIT != 0, len: word & !STDERR_BIT };
            let total = if run.stderr { &mut err } else { &mut out };
            *total = total.checked_add(run.len).ok_or(DecodeError::Runs)?;
            if run.len == 0 {
                return Err(DecodeError::Runs);
            }
            runs.push(run);
        }
        if (out, err) != (header.stdout_len, header.stderr_len) {
            return Err(DecodeError::Runs);
        }
        Ok(Runs(runs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(stdout_len: u64, stderr_len: u64) -> Header {
        Header {
            meta_len: 0,
            stdout_len,
            stderr_len,
            exit_code: 0,
            run_ms: 0,
            meta_hash: 0,
            stdout_hash: 0,
            stderr_hash: 0,
            expires_at: 0,
            outputs_len: 0,
            outputs_hash: 0,
            runs_len: 0,
            runs_hash: 0,
            key: [0; 32],
        }
    }

    #[test]
    fn runs_round_trip_and_merge() {
        let mut runs = Runs::default();
        for (stderr, len) in [(false, 2), (false, 3), (true, 1), (false, 4)] {
            assert!(runs.push(stderr, len));
        }
        assert_eq!(runs.0.len(), 3);
        assert_eq!(Runs::decode(&runs.encode(), &header(9, 1)), Ok(runs));
    }

    #[test]
    fn runs_that_do_not_add_up_are_refused() {
        let mut runs = Runs::default();
        runs.push(false, 2);
        assert_eq!(Runs::decode(&runs.encode(), &header(3, 0)), Err(DecodeError::Runs));
        let overflow = [u64::MAX.to_le_bytes(), u64::MAX.to_le_bytes()].concat();
        assert_eq!(Runs::decode(&overflow, &header(3, 0)), Err(DecodeError::Runs));
        assert_eq!(Runs::decode(&[0u8; 8], &header(0, 0)), Err(DecodeError::Runs));
    }
}
