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

/// Runs a property with `QUICKCHECK_TESTS` cases if set, else `default_cases`, on inputs of size `default_size`.
/// Under Miri, at most 4 cases of size at most 10 whatever `QUICKCHECK_TESTS` says: every step of the store's
/// model test compares whole histories, and the Miri step of `cargo xtask test` must stay within minutes.
pub(crate) fn check<A: Testable>(default_cases: u64, default_size: usize, property: A) {
    let tests = env::var("QUICKCHECK_TESTS").ok().and_then(|tests| tests.parse().ok()).unwrap_or(default_cases);
    let (tests, size) = if reduced() { (tests.min(4), default_size.min(10)) } else { (tests, default_size) };
    QuickCheck::new().tests(tests).max_tests(tests * 10).rng(Gen::new(size)).quickcheck(property);
}
