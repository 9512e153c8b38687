//! Helpers shared by hamt-sync's integration tests: how long and how much to run, natively and under Miri.
#![allow(dead_code)]

use std::env;
use std::time::Duration;

use quickcheck::{Gen, QuickCheck, Testable};

/// Whether the tests run under Miri (or were told to behave as if they did), which is about a thousand times
/// slower than native code: counts and durations shrink.
pub(crate) fn reduced() -> bool {
    cfg!(miri) || env::var_os("HAMT_MIRI").is_some()
}

/// A count for loops in plain tests: `full` natively, `small` under Miri.
pub(crate) fn scaled(full: usize, small: usize) -> usize {
    if reduced() { small } else { full }
}

/// How long the stress tests run: `HAMT_STRESS_MS` milliseconds if set, else `full`. Under Miri the tests stop
/// after their minimum iteration counts instead (a wall-clock bound would make Miri's runs depend on its speed).
pub(crate) fn stress_duration(full: Duration) -> Duration {
    match env::var("HAMT_STRESS_MS").ok().and_then(|ms| ms.parse().ok()) {
        Some(ms) => Duration::from_millis(ms),
        None if reduced() => Duration::ZERO,
        None => full,
    }
}

/// Runs a property with `QUICKCHECK_TESTS` cases if set, else `default_cases` (a handful under Miri), on inputs
/// of size `default_size` (at most 12 under Miri).
pub(crate) fn check<A: Testable>(default_cases: u64, default_size: usize, property: A) {
    let tests = env::var("QUICKCHECK_TESTS").ok().and_then(|tests| tests.parse().ok()).unwrap_or(if reduced() {
        5
    } else {
        default_cases
    });
    let size = if reduced() { default_size.min(12) } else { default_size };
    QuickCheck::new().tests(tests).max_tests(tests * 10).rng(Gen::new(size)).quickcheck(property);
}
