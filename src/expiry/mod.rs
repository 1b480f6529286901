//! `--expires-from`: the entry expires when the command's own JSON output
//! says (a token's `Expiration`, `expires_in`, `exp`), read after the run
//! from the recorded stdout, bounded by what was recorded.

mod extract;
mod path;
mod value;

use std::io::Read;
use std::time::{Duration, SystemTime};

pub use path::{parse_path, JsonPath};

/// The expiry the output gives, as epoch seconds for the entry's header,
/// or why there is none worth caching under: it is not JSON, has nothing at
/// `path`, holds no time there, or the time is past (or inside `margin`).
pub fn from_output(
    stdout: impl Read,
    path: &JsonPath,
    end: SystemTime,
    margin: Duration,
) -> Result<u64, String> {
    let value = match extract::value_at(stdout, path) {
        Ok(Some(value)) => value,
        Ok(None) => return Err("the output has no value at --expires-from".into()),
        Err(e) => return Err(format!("the output is not JSON ({e})")),
    };
    let at = value::instant(&value, end).map_err(|e| format!("--expires-from value: {e}"))?;
    if at <= end {
        return Err("the output's expiry is already past".into());
    }
    if at.checked_sub(margin).is_none_or(|cut| cut <= end) {
        return Err("the output's expiry is within --expiry-margin".into());
    }
    Ok(crate::freshness::unix_secs(at))
}

/// `--expiry-margin`: any duration, zero included.
pub fn parse_margin(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("'{text}' is not a duration ({e}); use e.g. 0s, 30s, 5m"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn decisions() {
        let end = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        let path = parse_path("/expires_in").unwrap();
        let decide = |doc: &str, margin| from_output(doc.as_bytes(), &path, end, margin);
        assert_eq!(decide(r#"{"expires_in":60}"#, Duration::ZERO), Ok(1_790_000_060));
        assert!(decide(r#"{"expires_in":60}"#, Duration::from_secs(60))
            .unwrap_err()
            .contains("margin"));
        assert!(decide(r#"{"expires_in":0}"#, Duration::ZERO).unwrap_err().contains("past"));
        assert!(decide(r#"{"other":1}"#, Duration::ZERO).unwrap_err().contains("no value"));
        assert!(decide("token", Duration::ZERO).unwrap_err().contains("not JSON"));
        assert!(decide(r#"{"expires_in":"soon"}"#, Duration::ZERO).is_err());
        assert_eq!(parse_margin("0"), Ok(Duration::ZERO));
        assert_eq!(parse_margin("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_margin("-1s").is_err());
    }
}
