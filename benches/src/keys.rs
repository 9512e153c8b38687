//! Seeded data generators: the keys every scenario uses, the same for every implementation.
//!
//! Keys come from SplitMix64, whose outputs for successive states are all distinct (its mixing function is a
//! bijection and its state visits `2^64` values before repeating). The first `n` outputs are the present keys and
//! the next `n` the absent ones, so absent keys can never collide with present ones by accident.

use std::fmt::Debug;
use std::hash::{Hash, Hasher};

/// The seed of every data set, so that every run and every implementation sees the same keys.
pub const DATA_SEED: u64 = 0x5eed_da7a_0000_0001;

/// The fewest absent keys a data set has: enough for the 500 variants workload at any size.
pub const MIN_ABSENT: usize = 512;

/// A small, fast, seeded pseudo-random generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// Starts a generator at `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next pseudo-random number.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound`, for `bound > 0` (with a negligible bias for the sizes used here).
    pub fn below(&mut self, bound: usize) -> usize {
        let wide = u128::from(self.next_u64()) * (bound as u128);
        // The product shifted right by 64 is below `bound`, so it fits in a usize.
        (wide >> 64) as usize
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// A key type the scenarios run with: it knows how to make a key from a distinct random number.
pub trait BenchKey: Hash + Eq + Clone + Debug + 'static {
    /// The name used in tables and JSON: `u64`, `string` or `colliding`.
    const NAME: &'static str;

    /// Makes a key; distinct `seed`s give distinct keys.
    fn from_seed(seed: u64) -> Self;
}

impl BenchKey for u64 {
    const NAME: &'static str = "u64";

    fn from_seed(seed: u64) -> Self {
        seed
    }
}

impl BenchKey for String {
    const NAME: &'static str = "string";

    fn from_seed(seed: u64) -> Self {
        // 21 bytes: longer than a small-string optimisation would keep inline, like typical identifiers.
        format!("user:{seed:016x}")
    }
}

/// A key whose hash takes only 64 distinct values whatever the hasher, to measure heavy collisions: 10k keys put
/// about 156 keys on every hash value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Colliding(pub u64);

/// How many distinct hash values [`Colliding`] keys take.
pub const COLLIDING_HASH_VALUES: u64 = 64;

impl Hash for Colliding {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0 % COLLIDING_HASH_VALUES);
    }
}

impl BenchKey for Colliding {
    const NAME: &'static str = "colliding";

    fn from_seed(seed: u64) -> Self {
        Self(seed)
    }
}

/// The keys of one scenario at one size.
#[derive(Debug, Clone)]
pub struct Data<K> {
    /// The `n` keys in the map, in insertion order.
    pub present: Vec<K>,
    /// The same keys in another order, for lookups and removals that must not follow insertion order.
    pub shuffled: Vec<K>,
    /// Keys that are never in the map: `n` of them, and at least [`MIN_ABSENT`] for the workloads that add keys.
    pub absent: Vec<K>,
}

impl<K: BenchKey> Data<K> {
    /// Generates `n` present and `max(n, MIN_ABSENT)` absent keys from [`DATA_SEED`].
    pub fn generate(n: usize) -> Self {
        let mut keys = SplitMix64::new(DATA_SEED);
        let present: Vec<K> = (0..n).map(|_| K::from_seed(keys.next_u64())).collect();
        let absent: Vec<K> = (0..n.max(MIN_ABSENT)).map(|_| K::from_seed(keys.next_u64())).collect();
        let mut shuffled = present.clone();
        SplitMix64::new(DATA_SEED ^ 0xa5a5_a5a5).shuffle(&mut shuffled);
        Self { present, shuffled, absent }
    }

    /// The number of present keys.
    pub fn len(&self) -> usize {
        self.present.len()
    }

    /// Whether there are no present keys.
    pub fn is_empty(&self) -> bool {
        self.present.is_empty()
    }

    /// The value stored under the `index`-th present key.
    pub fn value(index: usize) -> u64 {
        index as u64
    }

    /// The entries to insert, in insertion order, as owned pairs (so that building a map never clones a key in a
    /// timed section).
    pub fn entries(&self) -> Vec<(K, u64)> {
        self.present.iter().cloned().enumerate().map(|(i, k)| (k, Self::value(i))).collect()
    }

    /// The same entries in shuffled order.
    pub fn shuffled_entries(&self) -> Vec<(K, u64)> {
        let mut entries = self.entries();
        SplitMix64::new(DATA_SEED ^ 0x5a5a_5a5a).shuffle(&mut entries);
        entries
    }
}
