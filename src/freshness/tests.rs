//! Table tests of the freshness rules against a fixed `now`.

use super::*;

const NOW_SECS: u64 = 1_800_000_000;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn rules(ttl: Lifetime, failure_ttl: Option<Lifetime>) -> Rules {
    Rules { ttl, failure_ttl, codes: None }
}

#[test]
fn age_is_the_distance_either_way() {
    let cases = [
        (now(), Duration::ZERO),
        (now() - secs(30), secs(30)),
        (now() + secs(2), secs(2)),
        (now() + secs(3600), secs(3600)),
    ];
    for (created, want) in cases {
        assert_eq!(age(now(), created), want, "created {created:?}");
    }
}

#[test]
fn freshness_by_ttl_failure_ttl_and_expiry() {
    let ten_min = Lifetime::For(secs(600));
    // (rules, exit code, expires_at, age, fresh)
    let cases = [
        (rules(ten_min, None), 0, 0, secs(0), true),
        (rules(ten_min, None), 0, 0, secs(599), true),
        (rules(ten_min, None), 0, 0, secs(600), false),
        (rules(ten_min, None), 1, 0, secs(0), false),
        (rules(ten_min, Some(Lifetime::For(secs(60)))), 1, 0, secs(59), true),
        (rules(ten_min, Some(Lifetime::For(secs(60)))), 1, 0, secs(61), false),
        (rules(Lifetime::Forever, None), 0, 0, secs(u32::MAX as u64), true),
        (rules(ten_min, None), 0, NOW_SECS + 1, secs(5), true),
        (rules(ten_min, None), 0, NOW_SECS, secs(5), false),
        (rules(ten_min, None), 0, NOW_SECS - 1, secs(5), false),
        (rules(Lifetime::Forever, None), 0, NOW_SECS - 1, secs(5), false),
    ];
    for (i, (r, code, at, age, want)) in cases.into_iter().enumerate() {
        assert_eq!(r.is_fresh(code, at, age, now()), want, "case {i}");
    }
}

#[test]
fn a_future_dated_entry_is_aged_by_its_distance() {
    let r = rules(Lifetime::For(secs(600)), None);
    let fresh = |created| r.is_fresh(0, 0, age(now(), created), now());
    assert!(fresh(now() + secs(2)));
    assert!(!fresh(now() + secs(3600)));
}

#[test]
fn fallback_within_the_grace_period_only() {
    let r = rules(Lifetime::For(secs(600)), None);
    let grace = Some(secs(3600));
    // (exit code, expires_at, age, grace, allowed)
    let cases = [
        (0, 0, secs(700), grace, true),
        (0, 0, secs(600 + 3599), grace, true),
        (0, 0, secs(600 + 3600), grace, false),
        (0, 0, secs(700), None, false),
        (1, 0, secs(700), grace, false),
        // Not expired at all: nothing to fall back from.
        (0, 0, secs(10), grace, false),
        // Expired by its instant a minute ago, young by TTL.
        (0, NOW_SECS - 60, secs(10), grace, true),
        (0, NOW_SECS - 7200, secs(10), grace, false),
    ];
    for (i, (code, at, age, grace, want)) in cases.into_iter().enumerate() {
        assert_eq!(r.may_fall_back(code, at, age, grace, now()), want, "case {i}");
    }
    let forever = rules(Lifetime::Forever, None);
    assert!(!forever.may_fall_back(0, 0, secs(1 << 30), grace, now()));
}

#[test]
fn lifetimes_pick_the_outcome_and_the_earlier_end() {
    let ten_min = Lifetime::For(secs(600));
    let minute = Some(Lifetime::For(secs(60)));
    let soon = Some(now() + secs(30));
    let later = Some(now() + secs(6000));
    // (rules, exit code, expires_at, remote lifetime)
    let cases = [
        (rules(ten_min, None), 0, None, Some(secs(600))),
        (rules(ten_min, None), 3, None, None),
        (rules(ten_min, minute), 3, None, Some(secs(60))),
        (rules(ten_min, None), 0, soon, Some(secs(30))),
        (rules(ten_min, None), 0, later, Some(secs(600))),
        (rules(Lifetime::Forever, None), 0, None, None),
        (rules(Lifetime::Forever, None), 0, later, Some(secs(6000))),
        (rules(ten_min, None), 0, Some(now() - secs(1)), Some(Duration::ZERO)),
    ];
    for (i, (r, code, at, want)) in cases.into_iter().enumerate() {
        assert_eq!(r.remote_lifetime(code, at, now()), want, "case {i}");
    }
    assert_eq!(expires_at_secs(None), 0);
    assert_eq!(expires_at_secs(Some(now())), NOW_SECS);
}

#[test]
fn expires_in_for_list_and_gc() {
    // (ttl, expires_at, age, left)
    let cases = [
        (Some(600), 0, secs(100), Some(secs(500))),
        (Some(600), 0, secs(700), Some(Duration::ZERO)),
        (None, 0, secs(700), None),
        (None, NOW_SECS + 5, secs(700), Some(secs(5))),
        (Some(600), NOW_SECS + 5, secs(0), Some(secs(5))),
        (Some(600), NOW_SECS - 5, secs(0), Some(Duration::ZERO)),
        (None, u64::MAX, secs(0), Some(Duration::MAX)),
    ];
    for (i, (ttl, at, age, want)) in cases.into_iter().enumerate() {
        assert_eq!(expires_in(ttl, at, age, now()), want, "case {i}");
    }
}

#[test]
fn backoff_doubles_and_saturates() {
    let d = Duration::from_millis(200);
    let cases = [(1, 200), (2, 400), (3, 800), (4, 1600)];
    for (attempt, ms) in cases {
        assert_eq!(backoff(d, attempt), Duration::from_millis(ms), "attempt {attempt}");
    }
    assert_eq!(backoff(d, 0), d);
    assert_eq!(backoff(Duration::MAX, 5), Duration::MAX);
    assert_eq!(backoff(d, 1000), d.saturating_mul(u32::MAX));
}

#[test]
fn cacheability_of_a_finished_run() {
    let end =
        RunEnd { code: Some(0), signal: 0, interrupted: false, output_closed: false, size: 10 };
    let policy = CachePolicy {
        failure_ttl: false,
        codes: None,
        has_outputs: false,
        refresh: false,
        max_entry_size: 100,
    };
    let failed = RunEnd { code: Some(2), ..end };
    let cases = [
        (end, policy, Ok(())),
        (RunEnd { interrupted: true, ..end }, policy, Err(NotCached::Interrupted)),
        (RunEnd { output_closed: true, ..end }, policy, Err(NotCached::OutputClosed)),
        (RunEnd { code: None, signal: 9, ..end }, policy, Err(NotCached::Signal(9))),
        (failed, policy, Err(NotCached::Failed(2))),
        (failed, CachePolicy { failure_ttl: true, ..policy }, Ok(())),
        (
            failed,
            CachePolicy { failure_ttl: true, has_outputs: true, ..policy },
            Err(NotCached::FailedWithOutputs(2)),
        ),
        (
            failed,
            CachePolicy { refresh: true, failure_ttl: true, ..policy },
            Err(NotCached::RefreshFailed),
        ),
        (end, CachePolicy { refresh: true, ..policy }, Ok(())),
        (RunEnd { size: 101, ..end }, policy, Err(NotCached::TooLarge)),
        (RunEnd { size: 100, ..end }, policy, Ok(())),
    ];
    for (i, (end, policy, want)) in cases.into_iter().enumerate() {
        assert_eq!(cacheable(&end, &policy), want, "case {i}");
    }
    assert_eq!(NotCached::Signal(15).to_string(), "killed by signal 15");
}

#[test]
fn a_fixed_clock_stands_still_and_does_not_sleep() {
    let clock = Clock::fixed(now());
    let started = std::time::Instant::now();
    clock.sleep(secs(3600));
    assert!(started.elapsed() < secs(5));
    assert_eq!(clock.now(), now());
    assert!(Clock::system().now() > UNIX_EPOCH);
    assert!(past_expiry(NOW_SECS, now()) && !past_expiry(0, now()));
}

#[test]
fn exit_code_lists_parse_and_bad_ones_say_why() {
    let codes = ExitCodes::parse("0, 1,100-199").unwrap();
    for (code, listed) in [(0, true), (1, true), (2, false), (100, true), (199, true), (200, false)]
    {
        assert_eq!(codes.contains(code), listed, "{code}");
    }
    assert!(!codes.contains(-1) && !codes.contains(256));
    assert!(codes.any_failure());
    assert!(!ExitCodes::parse("0").unwrap().any_failure());
    assert!(ExitCodes::parse("255").unwrap().contains(255));
    for (bad, why) in
        [("", "'' is not"), ("0,x", "'x' is not"), ("256", "'256'"), ("9-3", "empty range")]
    {
        let err = ExitCodes::parse(bad).unwrap_err();
        assert!(err.contains(why), "{bad}: {err}");
    }
}

#[test]
fn only_listed_exit_codes_are_cached_and_served() {
    let codes = Some(ExitCodes::parse("0,3").unwrap());
    let policy = CachePolicy {
        failure_ttl: true,
        codes,
        has_outputs: false,
        refresh: false,
        max_entry_size: 100,
    };
    let end =
        RunEnd { code: Some(3), signal: 0, interrupted: false, output_closed: false, size: 1 };
    assert_eq!(cacheable(&end, &policy), Ok(()));
    assert_eq!(cacheable(&RunEnd { code: Some(4), ..end }, &policy), Err(NotCached::NotListed(4)));
    let only_failures = CachePolicy { codes: Some(ExitCodes::parse("1").unwrap()), ..policy };
    assert_eq!(
        cacheable(&RunEnd { code: Some(0), ..end }, &only_failures),
        Err(NotCached::NotListed(0))
    );
    let hour = Lifetime::For(Duration::from_secs(3600));
    let rules = Rules { ttl: hour, failure_ttl: Some(hour), codes };
    assert_eq!(rules.lifetime(3), Some(hour));
    assert_eq!(rules.lifetime(4), None);
    assert_eq!(rules.lifetime(0), Some(hour));
}
