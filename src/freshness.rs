//! Freshness policy: whether an entry may be served, whether an expired one
//! may stand in for a failed run, how long an entry lives (locally and
//! remotely), how retries back off and whether a finished run may be
//! cached. Each rule is a pure function of its inputs and an injected
//! `now`, so it is tested with a fixed clock and no sleeping.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::units::Lifetime;

/// TEST-ONLY, deliberately not a flag and never in `--help`: unix seconds
/// that fix this process's clock, and turn retry backoff sleeps into no-ops
/// (the backoff is still reported by `-v`). The integration tests use it to
/// move past an `--expires-at` instant or check backoff without waiting.
const TEST_NOW: &str = "CACHECMD_TEST_NOW";

/// The time source of one process: the system clock, or a fixed instant.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    fixed: Option<SystemTime>,
}

impl Clock {
    pub fn fixed(now: SystemTime) -> Clock {
        Clock { fixed: Some(now) }
    }

    pub fn system() -> Clock {
        Clock { fixed: None }
    }

    pub fn now(&self) -> SystemTime {
        self.fixed.unwrap_or_else(SystemTime::now)
    }

    /// Waits `delay`, except on a fixed clock (whose time never passes).
    pub fn sleep(&self, delay: Duration) {
        if self.fixed.is_none() {
            std::thread::sleep(delay);
        }
    }
}

/// This process's clock: the system's, unless the test override is set.
pub fn clock() -> Clock {
    static CLOCK: OnceLock<Clock> = OnceLock::new();
    *CLOCK.get_or_init(|| {
        let fixed = std::env::var(TEST_NOW).ok().and_then(|s| s.trim().parse::<u64>().ok());
        match fixed {
            Some(secs) => Clock::fixed(UNIX_EPOCH + Duration::from_secs(secs)),
            None => Clock::system(),
        }
    })
}

/// Unix seconds of `at` (0 before the epoch).
pub fn unix_secs(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// How old an entry created at `created` is: the distance to `now` either
/// way. An entry dated in the future (clock skew between machines, a
/// restored cache, a touched file) is as old as it is far ahead, so it can
/// never outlive the caller's TTL.
pub fn age(now: SystemTime, created: SystemTime) -> Duration {
    now.duration_since(created).unwrap_or_else(|ahead| ahead.duration())
}

/// Whether a writer's `--expires-at` (unix seconds, 0 for none) has passed.
pub fn past_expiry(expires_at: u64, now: SystemTime) -> bool {
    expires_at != 0 && unix_secs(now) >= expires_at
}

/// An absolute expiry moved `margin` earlier (`--expiry-margin`), never
/// to 0, which means none.
pub fn margin_cut(expires_at: u64, margin: Duration) -> u64 {
    let margin = margin.as_secs() + u64::from(margin.subsec_nanos() > 0);
    if expires_at == 0 {
        0
    } else {
        expires_at.saturating_sub(margin).max(1)
    }
}

/// The `--expires-at` to record: unix seconds, 0 for none.
pub fn expires_at_secs(at: Option<SystemTime>) -> u64 {
    at.map_or(0, unix_secs)
}

/// Time left before a recorded lifetime (`None` is forever) or the
/// writer's `--expires-at` runs out, whichever is sooner; `None` is forever.
pub fn expires_in(
    ttl_secs: Option<u64>,
    expires_at: u64,
    age: Duration,
    now: SystemTime,
) -> Option<Duration> {
    let by_ttl = ttl_secs.map(|ttl| Duration::from_secs(ttl).saturating_sub(age));
    let by_instant = (expires_at != 0).then(|| {
        // A date past what the clock can represent is as good as never.
        match UNIX_EPOCH.checked_add(Duration::from_secs(expires_at)) {
            Some(at) => at.duration_since(now).unwrap_or(Duration::ZERO),
            None => Duration::MAX,
        }
    });
    match (by_ttl, by_instant) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `--cache-exit-codes`: a set of exit statuses (0-255), as a bitset so
/// the rules stay `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitCodes([u64; 4]);

impl ExitCodes {
    /// `0,1,100-199`: statuses and inclusive ranges, separated by commas.
    pub fn parse(text: &str) -> Result<ExitCodes, String> {
        let status = |s: &str| {
            s.trim()
                .parse::<u8>()
                .map_err(|_| format!("'{}' is not an exit status (0-255)", s.trim()))
        };
        let mut set = [0u64; 4];
        for part in text.split(',') {
            let (low, high) = match part.split_once('-') {
                Some((low, high)) => (status(low)?, status(high)?),
                None => (status(part)?, status(part)?),
            };
            if low > high {
                return Err(format!("'{}' is an empty range", part.trim()));
            }
            for code in low..=high {
                set[usize::from(code / 64)] |= 1 << (code % 64);
            }
        }
        Ok(ExitCodes(set))
    }

    pub fn contains(&self, code: i32) -> bool {
        u8::try_from(code).is_ok_and(|c| self.0[usize::from(c / 64)] & (1 << (c % 64)) != 0)
    }

    /// Whether any failure (non-zero status) is listed.
    pub fn any_failure(&self) -> bool {
        self.0[0] & !1 != 0 || self.0[1..].iter().any(|w| *w != 0)
    }
}

/// The caller's lifetimes: `--ttl` for a success, `--failure-ttl` (none:
/// failures are not served) for anything else; with `--cache-exit-codes`,
/// only the listed statuses are served at all.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub ttl: Lifetime,
    pub failure_ttl: Option<Lifetime>,
    pub codes: Option<ExitCodes>,
}

impl Rules {
    /// The lifetime that applies to an outcome; `None`: never served.
    pub fn lifetime(&self, exit_code: i32) -> Option<Lifetime> {
        if self.codes.is_some_and(|codes| !codes.contains(exit_code)) {
            None
        } else if exit_code == 0 {
            Some(self.ttl)
        } else {
            self.failure_ttl
        }
    }

    /// Whether an entry with this outcome, `--expires-at` and age may be
    /// served now.
    pub fn is_fresh(
        &self,
        exit_code: i32,
        expires_at: u64,
        age: Duration,
        now: SystemTime,
    ) -> bool {
        self.lifetime(exit_code).is_some_and(|ttl| ttl.covers(age)) && !past_expiry(expires_at, now)
    }

    /// `--stale-if-error`: whether a good entry expired less than `grace`
    /// ago, by its TTL or its `--expires-at`, may replace a failed run.
    pub fn may_fall_back(
        &self,
        exit_code: i32,
        expires_at: u64,
        age: Duration,
        grace: Option<Duration>,
        now: SystemTime,
    ) -> bool {
        let Some(grace) = grace else { return false };
        if exit_code != 0 {
            return false;
        }
        let by_ttl = match self.ttl {
            Lifetime::For(ttl) => age.checked_sub(ttl),
            Lifetime::Forever => None,
        };
        let by_instant = (expires_at != 0)
            .then(|| UNIX_EPOCH.checked_add(Duration::from_secs(expires_at)))
            .flatten()
            .and_then(|at| now.duration_since(at).ok());
        by_ttl.max(by_instant).is_some_and(|expired_for| expired_for < grace)
    }

    /// How long a just-written entry stays worth sharing remotely: its
    /// lifetime, cut short by `--expires-at`; `None` is forever.
    pub fn remote_lifetime(
        &self,
        exit_code: i32,
        expires_at: Option<SystemTime>,
        now: SystemTime,
    ) -> Option<Duration> {
        let by_ttl = self.lifetime(exit_code).and_then(Lifetime::as_secs).map(Duration::from_secs);
        let by_instant = expires_at.map(|at| at.duration_since(now).unwrap_or(Duration::ZERO));
        match (by_ttl, by_instant) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// The wait before retry `attempt` (1 is the first retry): `delay`,
/// doubling each time, saturating rather than overflowing.
pub fn backoff(delay: Duration, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
    delay.saturating_mul(factor)
}

/// How a run ended, as far as caching it is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunEnd {
    /// The exit code; `None` when a signal killed the command.
    pub code: Option<i32>,
    /// The signal that killed it, when `code` is `None`.
    pub signal: i32,
    /// The user interrupted cachecmd.
    pub interrupted: bool,
    /// The caller's stdout or stderr was closed.
    pub output_closed: bool,
    /// stdout plus stderr bytes.
    pub size: u64,
}

/// What a run is cached under: the caller's settings that bear on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    pub failure_ttl: bool,
    /// `--cache-exit-codes`: only these statuses are cached.
    pub codes: Option<ExitCodes>,
    pub has_outputs: bool,
    pub refresh: bool,
    pub max_entry_size: u64,
}

/// Why a finished run is not cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotCached {
    Interrupted,
    OutputClosed,
    Signal(i32),
    RefreshFailed,
    FailedWithOutputs(i32),
    Failed(i32),
    NotListed(i32),
    TooLarge,
}

impl std::fmt::Display for NotCached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotCached::Interrupted => write!(f, "interrupted"),
            NotCached::OutputClosed => write!(f, "stdout or stderr closed"),
            NotCached::Signal(s) => write!(f, "killed by signal {s}"),
            NotCached::RefreshFailed => write!(f, "the refresh failed; the old entry stays"),
            NotCached::FailedWithOutputs(c) => {
                write!(f, "exit {c}; runs with --output are cached only when they succeed")
            }
            NotCached::Failed(c) => {
                write!(f, "exit {c}; add --failure-ttl to cache failures")
            }
            NotCached::NotListed(c) => write!(f, "exit {c} is not in --cache-exit-codes"),
            NotCached::TooLarge => write!(f, "output over --max-entry-size"),
        }
    }
}

/// Whether a finished run may be published.
pub fn cacheable(end: &RunEnd, policy: &CachePolicy) -> Result<(), NotCached> {
    if end.interrupted {
        return Err(NotCached::Interrupted);
    }
    // Its output went nowhere, so it says nothing about the next run.
    if end.output_closed {
        return Err(NotCached::OutputClosed);
    }
    match end.code {
        None => return Err(NotCached::Signal(end.signal)),
        Some(c) if policy.codes.is_some_and(|codes| !codes.contains(c)) => {
            return Err(NotCached::NotListed(c))
        }
        Some(0) => {}
        Some(_) if policy.refresh => return Err(NotCached::RefreshFailed),
        Some(c) if policy.has_outputs => return Err(NotCached::FailedWithOutputs(c)),
        Some(c) if !policy.failure_ttl && policy.codes.is_none() => {
            return Err(NotCached::Failed(c))
        }
        Some(_) => {}
    }
    if end.size > policy.max_entry_size {
        return Err(NotCached::TooLarge);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
