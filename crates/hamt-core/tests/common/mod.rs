//! Helpers shared by the integration test suites: case counts, test hashers that force collisions and depth, and
//! a macro that runs a generic test for every pointer kind.
#![allow(dead_code)]

use std::env;
use std::fmt::Debug;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use quickcheck::{Gen, QuickCheck, Testable};

/// Whether the tests run under Miri (or were told to behave as if they did), which is about a thousand times
/// slower than native code: case counts and sizes shrink.
pub(crate) fn reduced() -> bool {
    cfg!(miri) || env::var_os("HAMT_MIRI").is_some()
}

/// The number of quickcheck cases: `QUICKCHECK_TESTS` if set, else `default`, or a handful under Miri.
pub(crate) fn cases(default: u64) -> u64 {
    if let Some(tests) = env::var("QUICKCHECK_TESTS").ok().and_then(|tests| tests.parse().ok()) {
        return tests;
    }
    if reduced() { 10 } else { default }
}

/// A size for generated inputs (the longest operation sequence): `default`, or a small one under Miri.
pub(crate) fn size(default: usize) -> usize {
    if reduced() { default.min(12) } else { default }
}

/// Runs a property with `cases(default_cases)` cases of inputs of size `size(default_size)`. On failure, quickcheck
/// shrinks the input and panics with the smallest failing one.
pub(crate) fn check<A: Testable>(default_cases: u64, default_size: usize, property: A) {
    let tests = cases(default_cases);
    QuickCheck::new().tests(tests).max_tests(tests * 10).rng(Gen::new(size(default_size))).quickcheck(property);
}

/// The key space of a suite: `keys` natively, at most 24 under Miri (small maps, and few keys per collision node
/// with the colliding hashers).
pub(crate) fn key_space(keys: u16) -> u16 {
    if reduced() { keys.min(24) } else { keys }
}

/// A scaled-down count for loops in plain tests: `full` natively, `small` under Miri.
pub(crate) fn scaled(full: usize, small: usize) -> usize {
    if reduced() { small } else { full }
}

/// How a [`TestHasher`] turns the bytes it was fed into a hash.
pub(crate) mod mode {
    /// Four distinct full 64-bit hashes: every key collides with a quarter of the others, all the way down to
    /// the collision level.
    pub(crate) const COLLIDE: u8 = 0;
    /// Only the low ten bits vary: every key shares the first eleven levels of its path, so the trie is deep (a
    /// chain of single-child nodes) and keys that agree on those bits collide.
    pub(crate) const DEEP: u8 = 1;
    /// A good hash with all but six scattered bits masked off (two at level 0, one each at levels 2, 6, 11 and
    /// 12): paths of every length, and collisions among keys that agree on the six bits.
    pub(crate) const FEW_BITS: u8 = 2;
    /// Only the top five bits vary: every key lands in one of 32 root slots, and the rest of the hash is equal,
    /// so any two keys in one slot collide at the collision level after a chain of 12 nodes.
    pub(crate) const TOP_BITS: u8 = 3;
    /// One hash for every key: a single collision node below a chain of 13 single-child nodes.
    pub(crate) const ONE: u8 = 4;
}

/// A deterministic hasher whose output takes few distinct values, to force collisions and depth on purpose.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TestHasher<const MODE: u8> {
    state: u64,
}

fn mix(mut x: u64) -> u64 {
    // The splitmix64 finalizer.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl<const MODE: u8> Hasher for TestHasher<MODE> {
    fn write(&mut self, bytes: &[u8]) {
        // Injective on short inputs (each byte is 1..=256 in base 257), so small keys get distinct states.
        for &byte in bytes {
            self.state = self.state.wrapping_mul(257).wrapping_add(u64::from(byte) + 1);
        }
    }

    fn finish(&self) -> u64 {
        match MODE {
            mode::COLLIDE => mix(self.state % 4),
            mode::DEEP => self.state & 0x3ff,
            mode::FEW_BITS => mix(self.state) & (1 << 63 | 1 << 62 | 1 << 50 | 1 << 31 | 1 << 7 | 1),
            mode::TOP_BITS => (mix(self.state) & (0b11111 << 59)) | 0x0123_4567_89ab_cdef >> 5,
            mode::ONE => 0x9e37_79b9_7f4a_7c15,
            _ => unreachable!("unknown hasher mode"),
        }
    }
}

/// Zero-sized `BuildHasher`s for the test hashers (zero-sized, so maps built separately still hash alike and are
/// compared side by side).
pub(crate) type Collide = BuildHasherDefault<TestHasher<{ mode::COLLIDE }>>;
pub(crate) type Deep = BuildHasherDefault<TestHasher<{ mode::DEEP }>>;
pub(crate) type FewBits = BuildHasherDefault<TestHasher<{ mode::FEW_BITS }>>;
pub(crate) type TopBits = BuildHasherDefault<TestHasher<{ mode::TOP_BITS }>>;
pub(crate) type OneHash = BuildHasherDefault<TestHasher<{ mode::ONE }>>;

/// A key type for the generic suites: made from a small number, and turned back into it.
pub(crate) trait TestKey: Hash + Eq + Ord + Clone + Debug + 'static {
    fn from_num(n: u16) -> Self;
    fn num(&self) -> u16;
}

impl TestKey for u16 {
    fn from_num(n: u16) -> Self {
        n
    }

    fn num(&self) -> u16 {
        *self
    }
}

impl TestKey for u64 {
    fn from_num(n: u16) -> Self {
        u64::from(n)
    }

    fn num(&self) -> u16 {
        u16::try_from(*self).expect("test keys are small")
    }
}

impl TestKey for String {
    fn from_num(n: u16) -> Self {
        format!("key-{n}")
    }

    fn num(&self) -> u16 {
        self.strip_prefix("key-").and_then(|n| n.parse().ok()).expect("a test key")
    }
}

/// Defines a module `$name` with one `#[test]` per pointer kind, each calling `$test::<Kind, $generics...>()`.
///
/// Natively every suite runs for `RcK`, `ArcK` and `ArcTK`. Miri interprets about a thousand times slower, so
/// under Miri:
/// - a plain suite runs for `RcK` only. `ArcK` nodes run the same code and differ only in the type of their
///   reference count; the suites marked `miri_arc` and the threaded tests in `auto_traits.rs` cover it.
/// - a suite marked `miri_arc` runs for `RcK` and `ArcK`.
/// - a suite marked `native_only` (a variant whose unsafe paths the other variants already cover) does not run.
///
/// `ArcTK` nodes are `ArcK` nodes (both count with an `AtomicUsize`), so Miri never runs them.
#[macro_export]
macro_rules! for_each_kind {
    (native_only $name:ident, $test:ident $(, [$($generic:tt)*])?) => {
        $crate::for_each_kind!(@module $name, $test, [$($($generic)*)?],
            #[cfg_attr(miri, ignore = "a variant for native runs; Miri runs the default, colliding and deep ones")],
            #[cfg_attr(miri, ignore = "a variant for native runs; Miri runs the default, colliding and deep ones")]);
    };
    (miri_arc $name:ident, $test:ident $(, [$($generic:tt)*])?) => {
        $crate::for_each_kind!(@module $name, $test, [$($($generic)*)?], , );
    };
    ($name:ident, $test:ident $(, [$($generic:tt)*])?) => {
        $crate::for_each_kind!(@module $name, $test, [$($($generic)*)?], ,
            #[cfg_attr(miri, ignore = "Miri runs RcK here; ArcK differs only in its count type, run by other suites")]);
    };
    (@module $name:ident, $test:ident, [$($generic:tt)*], $(#[$rc_attr:meta])?, $(#[$arc_attr:meta])?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            $(#[$rc_attr])?
            fn rc() {
                $test::<hamt_core::RcK, $($generic)*>();
            }

            #[test]
            $(#[$arc_attr])?
            fn arc() {
                $test::<hamt_core::ArcK, $($generic)*>();
            }

            #[test]
            #[cfg_attr(miri, ignore = "ArcTK nodes are ArcK nodes (both count with an AtomicUsize); Miri runs ArcK")]
            fn arc_t() {
                $test::<hamt_core::ArcTK, $($generic)*>();
            }
        }
    };
}
