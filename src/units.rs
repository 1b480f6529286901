//! Parsing of the user's durations and sizes, shared by flags, environment
//! variables and the config file so all three accept exactly the same text.

use std::time::Duration;

/// How long an entry may be served: a finite age or forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    For(Duration),
    Forever,
}

impl Lifetime {
    /// Whether an entry of this age is still within the lifetime.
    pub fn covers(self, age: Duration) -> bool {
        match self {
            Lifetime::For(limit) => age < limit,
            Lifetime::Forever => true,
        }
    }

    /// Seconds for metadata; `None` means forever.
    pub fn as_secs(self) -> Option<u64> {
        match self {
            Lifetime::For(d) => Some(d.as_secs()),
            Lifetime::Forever => None,
        }
    }
}

/// `30s`, `10m`, `1h 30m`, `7d` or `forever`; zero and negative are refused.
pub fn parse_lifetime(text: &str) -> Result<Lifetime, String> {
    if text.trim().eq_ignore_ascii_case("forever") {
        return Ok(Lifetime::Forever);
    }
    parse_positive_duration(text).map(Lifetime::For)
}

/// A strictly positive duration such as a lock timeout.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    parse_positive_duration(text)
}

fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err(format!("'{text}' is negative; give a positive duration such as 30s or 1h"));
    }
    let duration = humantime::parse_duration(text)
        .map_err(|e| format!("'{text}' is not a duration ({e}); use e.g. 30s, 10m, 1h 30m, 7d"))?;
    if duration.is_zero() {
        return Err(format!("'{text}' is zero; give a positive duration such as 30s or 1h"));
    }
    Ok(duration)
}

/// `4096`, `500M`, `2GiB`, `1.5 GB`; decimal and binary units are both accepted.
pub fn parse_size(text: &str) -> Result<u64, String> {
    parse_size::parse_size(text.trim())
        .map_err(|e| format!("'{text}' is not a size ({e}); use e.g. 500M or 2GiB"))
}

/// A whole number such as `--retry 3`.
pub fn parse_count(text: &str) -> Result<u64, String> {
    text.trim().parse().map_err(|_| format!("'{text}' is not a whole number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_humantime_form() {
        assert_eq!(parse_lifetime("30s"), Ok(Lifetime::For(Duration::from_secs(30))));
        assert_eq!(parse_lifetime("1h 30m"), Ok(Lifetime::For(Duration::from_secs(5400))));
        assert_eq!(parse_lifetime("7d"), Ok(Lifetime::For(Duration::from_secs(7 * 86400))));
        assert_eq!(parse_lifetime("forever"), Ok(Lifetime::Forever));
        assert_eq!(parse_lifetime("Forever"), Ok(Lifetime::Forever));
    }

    #[test]
    fn zero_negative_and_garbage_are_refused() {
        for bad in ["0", "0s", "-5s", "-1h", "", "soon", "10", "1x"] {
            assert!(parse_lifetime(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn lifetime_covers_ages_strictly_below_it() {
        let hour = Lifetime::For(Duration::from_secs(3600));
        assert!(hour.covers(Duration::from_secs(3599)));
        assert!(!hour.covers(Duration::from_secs(3600)));
        assert!(Lifetime::Forever.covers(Duration::MAX));
    }

    #[test]
    fn sizes_in_decimal_and_binary_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("500M"), Ok(500_000_000));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert!(parse_size("lots").is_err());
    }
}
