//! What an expiry value means: an instant (RFC 3339, with or without a
//! zone), Unix epoch seconds, or a duration from the end of the run.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::entry::MAX_EPOCH_SECS;

/// Numbers below this are seconds left (`expires_in`, `lease_duration`:
/// 31 years), numbers from it on are epoch seconds (`exp`: since 2001-09-09).
pub const EPOCH_FROM: f64 = 1e9;

/// The instant `value` names, for a run that ended at `end`.
pub fn instant(value: &Value, end: SystemTime) -> Result<SystemTime, String> {
    let at = match value {
        Value::Number(n) => seconds(n.as_f64().unwrap_or(f64::NAN), end)?,
        Value::String(text) => from_text(text.trim(), end)?,
        other => return Err(format!("{other} is not a time")),
    };
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    if secs > MAX_EPOCH_SECS {
        return Err("the instant is after the year 9999".into());
    }
    Ok(at)
}

fn seconds(n: f64, end: SystemTime) -> Result<SystemTime, String> {
    if !n.is_finite() || n < 0.0 {
        return Err(format!("{n} is not a time"));
    }
    let secs = Duration::try_from_secs_f64(n).map_err(|e| e.to_string())?;
    let at = if n < EPOCH_FROM { end.checked_add(secs) } else { UNIX_EPOCH.checked_add(secs) };
    at.ok_or_else(|| format!("{n} is out of range"))
}

fn from_text(text: &str, end: SystemTime) -> Result<SystemTime, String> {
    if let Ok(n) = text.parse::<f64>() {
        return seconds(n, end);
    }
    if let Ok(at) = text.parse::<jiff::Timestamp>() {
        return Ok(SystemTime::from(at));
    }
    // No zone: UTC, which is what such APIs mean.
    if let Ok(civil) = text.parse::<jiff::civil::DateTime>() {
        let at = civil.to_zoned(jiff::tz::TimeZone::UTC).map_err(|e| e.to_string())?;
        return Ok(SystemTime::from(at.timestamp()));
    }
    if let Ok(left) = humantime::parse_duration(text) {
        return end.checked_add(left).ok_or_else(|| format!("'{text}' is out of range"));
    }
    Err(format!("'{text}' is neither an instant, epoch seconds nor a duration"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const END: u64 = 1_790_000_000;

    fn at(value: Value) -> Result<u64, String> {
        let end = UNIX_EPOCH + Duration::from_secs(END);
        instant(&value, end).map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs())
    }

    #[test]
    fn instants_with_and_without_a_zone() {
        assert_eq!(at(json!("2026-12-01T09:00:00Z")), Ok(1_796_115_600));
        assert_eq!(at(json!("2026-12-01T09:00:00.999Z")), Ok(1_796_115_600));
        assert_eq!(at(json!("2026-12-01T10:00:00+01:00")), Ok(1_796_115_600));
        assert_eq!(at(json!("2026-12-01T09:00:00")), Ok(1_796_115_600));
        assert_eq!(at(json!("2026-12-01 09:00:00")), Ok(1_796_115_600));
    }

    #[test]
    fn small_numbers_are_seconds_left_large_ones_epoch_seconds() {
        assert_eq!(at(json!(3599)), Ok(END + 3599));
        assert_eq!(at(json!("3599")), Ok(END + 3599));
        assert_eq!(at(json!(2_764_800)), Ok(END + 2_764_800));
        assert_eq!(at(json!(999_999_999)), Ok(END + 999_999_999));
        assert_eq!(at(json!(1_800_000_000)), Ok(1_800_000_000));
        assert_eq!(at(json!(1_800_000_000.75)), Ok(1_800_000_000));
        assert_eq!(at(json!(0)), Ok(END));
    }

    #[test]
    fn humantime_durations_are_relative() {
        assert_eq!(at(json!("1h")), Ok(END + 3600));
        assert_eq!(at(json!("1h 30m")), Ok(END + 5400));
    }

    #[test]
    fn other_values_are_refused() {
        for bad in [json!(null), json!(true), json!({}), json!([1]), json!(-5), json!("soon")] {
            assert!(at(bad.clone()).is_err(), "{bad}");
        }
        assert!(at(json!(1e300)).is_err());
        assert!(at(json!("99999-01-01T00:00:00Z")).is_err());
    }
}
