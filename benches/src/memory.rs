//! Heap figures, measured with the [counting allocator](crate::alloc): bytes per entry of one map, and the extra
//! live heap of each variant in the variants workload.
//!
//! These functions must run in a process that called [`start_counting`](crate::alloc::start_counting) before
//! allocating anything they measure; the report binary runs each in a child process of its own.

use std::hint::black_box;

use serde::{Deserialize, Serialize};

use crate::alloc::{self, Snapshot};
use crate::keys::{Data, SplitMix64};
use crate::maps::{BenchHasher, BenchMap, HASH_SEED, Implementation};
use crate::scenarios::{MapVisitor, build, variant_count, visit_map};

/// What a structure holds on the heap.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeapFigures {
    /// Live requested bytes.
    pub bytes: f64,
    /// Live allocations (blocks).
    pub allocations: f64,
}

impl HeapFigures {
    fn between(before: Snapshot, after: Snapshot) -> Self {
        Self {
            bytes: (after.live_bytes - before.live_bytes) as f64,
            allocations: (after.live_allocations - before.live_allocations) as f64,
        }
    }

    /// The figures divided by `count`.
    pub fn per(self, count: usize) -> Self {
        Self { bytes: self.bytes / count as f64, allocations: self.allocations / count as f64 }
    }
}

/// The least, the median and the greatest of one figure over several measurements (the heap per entry over hash
/// seeds). A value that could not be computed is `null` in JSON and NaN here.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// The least value.
    #[serde(with = "crate::records::finite_or_null")]
    pub min: f64,
    /// The median (the mean of the two middle values when their number is even).
    #[serde(with = "crate::records::finite_or_null")]
    pub median: f64,
    /// The greatest value.
    #[serde(with = "crate::records::finite_or_null")]
    pub max: f64,
}

impl Spread {
    /// The spread of `values`, or `None` if there are none.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_benches::memory::Spread;
    ///
    /// assert_eq!(Spread::of(&[3.0, 1.0, 2.0]), Some(Spread { min: 1.0, median: 2.0, max: 3.0 }));
    /// assert_eq!(Spread::of(&[]), None);
    /// ```
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some(Self { min, median: crate::sampler::median(values), max })
    }
}

/// Which `u64` keys the heap per entry is measured with.
///
/// The shape of a trie, and so its heap, depends on how the hashes of the keys spread over the hash space. Random
/// keys hash like random numbers whatever the seed; sequential keys `0..n` keep some of their regularity through
/// foldhash's fast hash for some seeds, which is where the figures differ from seed to seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyPattern {
    /// The benches' keys: the first `n` outputs of SplitMix64 from [`DATA_SEED`](crate::keys::DATA_SEED), as
    /// [`Data::generate`] makes them.
    Random,
    /// The keys `0..n`, in order.
    Sequential,
}

impl KeyPattern {
    /// Both patterns, in the order the report lists them.
    pub const ALL: [Self; 2] = [Self::Random, Self::Sequential];

    /// The name used in tables, JSON and progress lines.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_benches::memory::KeyPattern;
    ///
    /// assert_eq!(KeyPattern::Sequential.name(), "sequential");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Self::Random => "random",
            Self::Sequential => "sequential",
        }
    }

    /// The `size` entries of this pattern, in insertion order; the value of the `i`-th key is `i`.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_benches::memory::KeyPattern;
    ///
    /// assert_eq!(KeyPattern::Sequential.entries(3), vec![(0, 0), (1, 1), (2, 2)]);
    /// assert_eq!(KeyPattern::Random.entries(1000).len(), 1000);
    /// ```
    pub fn entries(self, size: usize) -> Vec<(u64, u64)> {
        match self {
            Self::Random => Data::<u64>::generate(size).entries(),
            Self::Sequential => (0..size as u64).map(|key| (key, key)).collect(),
        }
    }
}

/// The `index`-th hash seed of the heap figures: SplitMix64's `index`-th output from [`HASH_SEED`], so that every
/// run measures the same seeds and the first is not the seed of the timings.
///
/// # Examples
///
/// ```
/// use hamt_benches::memory::hash_seed;
///
/// assert_eq!(hash_seed(2), hash_seed(2));
/// assert_ne!(hash_seed(0), hash_seed(1));
/// ```
pub fn hash_seed(index: usize) -> u64 {
    let mut generator = SplitMix64::new(HASH_SEED);
    (0..index).for_each(|_| {
        generator.next_u64();
    });
    generator.next_u64()
}

/// The live heap of one map of `size` `u64 -> u64` entries with the keys of `pattern`, built by in-place inserts
/// into a map whose [`BenchHasher`] has `seed`, per entry. (`std-sip` ignores the seed:
/// std draws its SipHash keys per process.)
///
/// # Panics
///
/// If counting was not started.
pub fn map_heap_per_entry(implementation: Implementation, size: usize, pattern: KeyPattern, seed: u64) -> HeapFigures {
    assert!(alloc::is_counting(), "call alloc::start_counting() first");
    struct Visitor {
        entries: Vec<(u64, u64)>,
        seed: u64,
    }
    impl MapVisitor<u64> for Visitor {
        type Output = HeapFigures;
        fn visit<M: BenchMap<u64>>(self) -> HeapFigures {
            // The keys are `u64`s: copying them allocates nothing, and the entries are read in place rather than
            // moved (whose buffer would be freed in the counted section), so only the map's own blocks are counted.
            // The first hasher with a seed makes foldhash's shared seed for it, once per process (see
            // `BenchHasher`): not something the map holds.
            black_box(BenchHasher::with_seed(self.seed));
            let before = alloc::snapshot();
            let mut map = M::with_hash_seed(self.seed);
            for &(key, value) in &self.entries {
                map.insert_mut(key, value);
            }
            let after = alloc::snapshot();
            black_box(&map);
            HeapFigures::between(before, after).per(map.len())
        }
    }
    visit_map(implementation, Visitor { entries: pattern.entries(size), seed })
}

/// The extra live heap of each variant when the variants workload makes them of a base of `size` entries: the
/// heap after making them all, less the heap of the base alone, divided by their number. Returns the figures and
/// the number of variants made.
///
/// # Panics
///
/// If counting was not started.
pub fn variant_heap(implementation: Implementation, size: usize) -> (HeapFigures, usize) {
    assert!(alloc::is_counting(), "call alloc::start_counting() first");
    struct Visitor<'d>(&'d Data<u64>);
    impl MapVisitor<u64> for Visitor<'_> {
        type Output = (HeapFigures, usize);
        fn visit<M: BenchMap<u64>>(self) -> (HeapFigures, usize) {
            let base: M = build(self.0);
            let count = variant_count(M::IMPLEMENTATION, self.0.len());
            let keys = &self.0.absent[..count];
            let mut versions = Vec::with_capacity(count);
            let before = alloc::snapshot();
            for (index, key) in keys.iter().enumerate() {
                versions.push(base.insert(*key, index as u64));
            }
            let after = alloc::snapshot();
            black_box(&versions);
            (HeapFigures::between(before, after).per(count), count)
        }
    }
    let data = Data::<u64>::generate(size);
    visit_map(implementation, Visitor(&data))
}
