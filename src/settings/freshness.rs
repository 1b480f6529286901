//! How entries age beyond the plain TTL: `--stale`, `--warm`,
//! `--stale-if-error`, retries and `--expires-at`.

use std::time::{Duration, SystemTime};

use super::SettingsError;
use crate::cli::RunArgs;
use crate::units::Lifetime;

/// How entries age beyond the plain TTL.
#[derive(Debug, Clone, Default)]
pub struct Freshness {
    pub stale: Option<Duration>,
    pub warm: bool,
    pub stale_if_error: Option<Duration>,
    pub retries: u64,
    pub retry_delay: Duration,
    /// Absolute expiry for entries written by this run.
    pub expires_at: Option<SystemTime>,
    /// This process is the background refresh itself.
    pub refresh: bool,
    /// `--expires-from`: where the output says when it expires.
    pub expires_from: Option<crate::expiry::JsonPath>,
    /// `--expiry-margin`: an absolute expiry counts this much earlier.
    pub expiry_margin: Duration,
    /// `--ttl` (or `CACHECMD_TTL`) was given: with `--expires-from` it caps
    /// the output's expiry and applies when the output gives none.
    pub ttl_explicit: bool,
}

pub(super) fn freshness(args: &RunArgs, ttl: Lifetime) -> Result<Freshness, SettingsError> {
    let invalid = |m: String| Err(SettingsError::Invalid(m));
    if let (Some(stale), Lifetime::For(ttl)) = (args.stale, ttl) {
        if stale >= ttl {
            return invalid(format!(
                "--stale ({}) must be shorter than --ttl ({})",
                humantime::format_duration(stale),
                humantime::format_duration(ttl)
            ));
        }
    }
    if args.key.stdin && (args.stale.is_some() || args.warm) {
        return invalid(
            "--stale and --warm cannot refresh a run keyed on --stdin: the \
                        background refresh has no stdin to replay"
                .into(),
        );
    }
    let expires_at = match &args.expires_at {
        Some(text) => Some(
            parse_expires_at(text, crate::freshness::clock().now())
                .map_err(SettingsError::Invalid)?,
        ),
        None => None,
    };
    Ok(Freshness {
        stale: args.stale,
        warm: args.warm,
        stale_if_error: args.stale_if_error,
        retries: args.retry.unwrap_or(0),
        retry_delay: args.retry_delay.unwrap_or(Duration::from_secs(1)),
        expires_at,
        refresh: args.refresh,
        expires_from: None,
        expiry_margin: Duration::ZERO,
        ttl_explicit: args.ttl.is_some(),
    })
}

/// `17:00` (the next time the local clock shows it) or an RFC 3339 instant.
pub fn parse_expires_at(text: &str, now: SystemTime) -> Result<SystemTime, String> {
    let bad = |why: String| format!("--expires-at '{text}': {why}");
    let text = text.trim();
    if let Ok(instant) = text.parse::<jiff::Timestamp>() {
        let instant = SystemTime::from(instant);
        return if instant > now {
            Ok(instant)
        } else {
            Err(bad("that instant is in the past".into()))
        };
    }
    let time: jiff::civil::Time = text.parse().map_err(|_| {
        bad("give a local time of day such as 17:00 or an RFC 3339 instant \
             such as 2026-12-01T09:00:00Z"
            .into())
    })?;
    let now = jiff::Timestamp::try_from(now).map_err(|e| bad(e.to_string()))?;
    let zone = jiff::tz::TimeZone::system();
    let today = now.to_zoned(zone.clone()).date().to_datetime(time);
    let mut at = today.to_zoned(zone.clone()).map_err(|e| bad(e.to_string()))?;
    if at.timestamp() <= now {
        let tomorrow = today.tomorrow().map_err(|e| bad(e.to_string()))?;
        at = tomorrow.to_zoned(zone).map_err(|e| bad(e.to_string()))?;
    }
    Ok(SystemTime::from(at.timestamp()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_at_takes_a_time_of_day_or_an_instant() {
        let now = SystemTime::from("2026-11-22T12:00:00Z".parse::<jiff::Timestamp>().unwrap());
        let at = |t| parse_expires_at(t, now).map(|s| jiff::Timestamp::try_from(s).unwrap());
        // The test process's zone decides "local"; compare within it.
        let zone = jiff::tz::TimeZone::system();
        let later = at("23:30").unwrap().to_zoned(zone.clone());
        assert_eq!((later.hour(), later.minute()), (23, 30));
        assert!(at("23:30").unwrap() > jiff::Timestamp::try_from(now).unwrap());
        let next = at("00:05").unwrap();
        assert!(next > jiff::Timestamp::try_from(now).unwrap());
        assert_eq!(at("2026-12-01T09:00:00Z").unwrap().to_string(), "2026-12-01T09:00:00Z");
        assert!(at("2020-01-01T00:00:00Z").is_err());
        assert!(at("tomorrowish").is_err());
    }
}
