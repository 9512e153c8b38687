//! The maps under test behind one small trait, so that every scenario is written once.
//!
//! All maps but `std-sip` hash with [`BenchHasher`], foldhash's fast hasher with a fixed seed, so that a
//! comparison measures the structure and not the hash function. `std-sip` is std's default `RandomState`
//! (SipHash-1-3), for the reader who wants to know what the default costs.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, PoisonError};

use archery::{ArcK, ArcTK, RcK};
use foldhash::SharedSeed;
use hamt_core::HamtMap;

use crate::keys::BenchKey;

/// The seed of [`BenchHasher`].
pub const HASH_SEED: u64 = 0x0123_4567_89ab_cdef;

/// foldhash's fast hasher with a fixed seed: [`HASH_SEED`] by default, so that maps built by `FromIterator` hash
/// like the others, or another seed given to [`with_seed`](Self::with_seed).
///
/// foldhash has two seeds: a per-hasher seed, and a shared seed of a few words (the multipliers). hamt-core's
/// `DefaultHashBuilder` draws both at random once per process. [`HASH_SEED`], the seed of every timing, sets the
/// per-hasher seed and keeps foldhash's fixed shared seed, as `foldhash::fast::FixedState` does; any other seed
/// sets both (the shared one through `SharedSeed::from_u64`), so that the heap figures measured over several seeds
/// see what several processes of a user would see.
///
/// # Examples
///
/// ```
/// use std::hash::BuildHasher;
///
/// use hamt_benches::maps::{BenchHasher, HASH_SEED};
///
/// let default = BenchHasher::default();
/// let fixed_state = foldhash::fast::FixedState::with_seed(HASH_SEED);
/// assert_eq!(default.hash_one(7u64), fixed_state.hash_one(7u64));
/// assert_eq!(BenchHasher::with_seed(1).hash_one(7u64), BenchHasher::with_seed(1).hash_one(7u64));
/// assert_ne!(default.hash_one(7u64), BenchHasher::with_seed(1).hash_one(7u64));
/// ```
#[derive(Debug, Clone)]
pub struct BenchHasher(foldhash::fast::SeedableRandomState);

impl BenchHasher {
    /// foldhash's fast hasher with `seed`; see the [type's documentation](Self) for what it seeds.
    pub fn with_seed(seed: u64) -> Self {
        let shared = if seed == HASH_SEED { SharedSeed::global_fixed() } else { shared_seed(seed) };
        Self(foldhash::fast::SeedableRandomState::with_seed(seed, shared))
    }
}

/// foldhash's shared seed made from `seed`. A hasher borrows its shared seed for `'static`, so each is made once
/// and kept for the rest of the process: a run uses a handful of seeds, and the first call with a seed allocates.
fn shared_seed(seed: u64) -> &'static SharedSeed {
    static MADE: Mutex<Vec<(u64, &'static SharedSeed)>> = Mutex::new(Vec::new());
    // A panic while the lock was held cannot leave the list half changed (a push either happened or did not).
    let mut made = MADE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(&(_, shared)) = made.iter().find(|&&(made_from, _)| made_from == seed) {
        return shared;
    }
    let shared: &'static SharedSeed = Box::leak(Box::new(SharedSeed::from_u64(seed)));
    made.push((seed, shared));
    shared
}

impl Default for BenchHasher {
    fn default() -> Self {
        Self::with_seed(HASH_SEED)
    }
}

impl BuildHasher for BenchHasher {
    type Hasher = foldhash::fast::FoldHasher<'static>;

    #[inline]
    fn build_hasher(&self) -> Self::Hasher {
        self.0.build_hasher()
    }
}

/// Our map in its three pointer flavours.
pub type HamtRc<K> = HamtMap<K, u64, RcK, BenchHasher>;
/// Our map with `std::sync::Arc` counts.
pub type HamtArc<K> = HamtMap<K, u64, ArcK, BenchHasher>;
/// Our map with `triomphe::Arc` counts (no weak count).
pub type HamtArcT<K> = HamtMap<K, u64, ArcTK, BenchHasher>;
/// std's map with the shared fast hasher: the reference of every ratio.
pub type StdFold<K> = HashMap<K, u64, BenchHasher>;
/// std's map with its default SipHash.
pub type StdSip<K> = HashMap<K, u64, RandomState>;
/// imbl's hash map with its default pointer kind (`ArcK`) and the shared fast hasher.
pub type Imbl<K> = imbl::GenericHashMap<K, u64, BenchHasher, ArcK>;
/// rpds' hash trie map (`Rc`).
pub type Rpds<K> = rpds::HashTrieMap<K, u64, RcK, BenchHasher>;
/// rpds' hash trie map with `triomphe::Arc` (`HashTrieMapSync`).
pub type RpdsSync<K> = rpds::HashTrieMap<K, u64, ArcTK, BenchHasher>;

/// The implementations measured, in the order tables list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Implementation {
    /// [`HamtRc`].
    HamtRc,
    /// [`HamtArc`].
    HamtArc,
    /// [`HamtArcT`].
    HamtArcT,
    /// [`StdFold`].
    StdFold,
    /// [`StdSip`].
    StdSip,
    /// [`Imbl`].
    Imbl,
    /// [`Rpds`].
    Rpds,
    /// [`RpdsSync`].
    RpdsSync,
}

impl Implementation {
    /// Every implementation, in table order.
    pub const ALL: [Self; 8] = [
        Self::HamtRc,
        Self::HamtArc,
        Self::HamtArcT,
        Self::StdFold,
        Self::StdSip,
        Self::Imbl,
        Self::Rpds,
        Self::RpdsSync,
    ];

    /// The short name used in tables, JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::HamtRc => "hamt-rc",
            Self::HamtArc => "hamt-arc",
            Self::HamtArcT => "hamt-arct",
            Self::StdFold => "std",
            Self::StdSip => "std-sip",
            Self::Imbl => "imbl",
            Self::Rpds => "rpds",
            Self::RpdsSync => "rpds-sync",
        }
    }

    /// What the name stands for, for the legend of the report.
    pub fn description(self) -> &'static str {
        match self {
            Self::HamtRc => "`hamt_core::HamtMap<K, V, RcK>`, our map with non-atomic counts",
            Self::HamtArc => "`hamt_core::HamtMap<K, V, ArcK>`, our map with `std::sync::Arc` counts",
            Self::HamtArcT => "`hamt_core::HamtMap<K, V, ArcTK>`, our map with `triomphe::Arc` counts",
            Self::StdFold => "`std::collections::HashMap` with the same foldhash hasher: the reference",
            Self::StdSip => "`std::collections::HashMap` with std's default `RandomState` (SipHash-1-3)",
            Self::Imbl => "`imbl::GenericHashMap<K, V, _, ArcK>` (imbl's default pointer kind)",
            Self::Rpds => "`rpds::HashTrieMap<K, V, RcK>`",
            Self::RpdsSync => "`rpds::HashTrieMap<K, V, ArcTK>` (`HashTrieMapSync`)",
        }
    }

    /// Parses a [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|implementation| implementation.name() == name)
    }

    /// Whether this is one of our own maps.
    pub fn is_ours(self) -> bool {
        matches!(self, Self::HamtRc | Self::HamtArc | Self::HamtArcT)
    }

    /// Whether the map shares structure between versions. std's map does not: its "persistent" operations clone
    /// the whole table, so the persistent scenarios leave it out.
    pub fn is_persistent(self) -> bool {
        !matches!(self, Self::StdFold | Self::StdSip)
    }
}

/// The operations the scenarios need, with `u64` values.
///
/// Persistent operations (`insert`, `remove`) return a new map and leave `self` as it was; for std's map they
/// clone the table first, which is what a std user would have to do.
pub trait BenchMap<K: BenchKey>: Clone {
    /// Which implementation this is.
    const IMPLEMENTATION: Implementation;

    /// An empty map with the hasher of the comparison, seeded with [`HASH_SEED`].
    fn empty() -> Self {
        Self::with_hash_seed(HASH_SEED)
    }
    /// An empty map whose [`BenchHasher`] has `seed`. `std-sip` has no seed to set: its `RandomState` draws one
    /// per process.
    fn with_hash_seed(seed: u64) -> Self;
    /// Inserts in place.
    fn insert_mut(&mut self, key: K, value: u64);
    /// Removes in place; returns whether the key was there.
    fn remove_mut(&mut self, key: &K) -> bool;
    /// A new version with `key` set to `value`.
    #[must_use]
    fn insert(&self, key: K, value: u64) -> Self;
    /// A new version without `key`.
    #[must_use]
    fn remove(&self, key: &K) -> Self;
    /// Looks `key` up.
    fn get(&self, key: &K) -> Option<&u64>;
    /// The number of entries.
    fn len(&self) -> usize;
    /// Whether the map is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Visits every entry; returns the sum of the values, so that the visit cannot be optimised away.
    fn sum_values(&self) -> u64;
    /// Builds a map with `FromIterator`.
    fn from_entries(entries: Vec<(K, u64)>) -> Self;
    /// `self == other`.
    fn equals(&self, other: &Self) -> bool;
    /// How many keys were added, removed or changed between `self` and `other`. Our maps use their `diff`; the
    /// others have none, so they scan both maps, as their users would.
    fn diff_len(&self, other: &Self) -> usize;
    /// The union of two maps (the values of `self` win).
    #[must_use]
    fn union(&self, other: &Self) -> Self;
}

/// Counts the differences between two maps by looking every key of each up in the other: the diff of the maps
/// that have none.
fn scan_diff_len<'a, K: BenchKey, M: BenchMap<K>>(
    old: &M,
    new: &M,
    old_entries: impl Iterator<Item = (&'a K, &'a u64)>,
    new_entries: impl Iterator<Item = (&'a K, &'a u64)>,
) -> usize {
    let removed_or_changed = old_entries.filter(|&(key, value)| new.get(key) != Some(value)).count();
    let added = new_entries.filter(|&(key, _)| old.get(key).is_none()).count();
    removed_or_changed + added
}

macro_rules! impl_hamt {
    ($alias:ident, $implementation:expr) => {
        impl<K: BenchKey> BenchMap<K> for $alias<K> {
            const IMPLEMENTATION: Implementation = $implementation;

            fn with_hash_seed(seed: u64) -> Self {
                HamtMap::with_hasher(BenchHasher::with_seed(seed))
            }
            fn insert_mut(&mut self, key: K, value: u64) {
                HamtMap::insert_mut(self, key, value);
            }
            fn remove_mut(&mut self, key: &K) -> bool {
                HamtMap::remove_mut(self, key).is_some()
            }
            fn insert(&self, key: K, value: u64) -> Self {
                HamtMap::insert(self, key, value)
            }
            fn remove(&self, key: &K) -> Self {
                HamtMap::remove(self, key)
            }
            fn get(&self, key: &K) -> Option<&u64> {
                HamtMap::get(self, key)
            }
            fn len(&self) -> usize {
                HamtMap::len(self)
            }
            fn sum_values(&self) -> u64 {
                self.iter().fold(0u64, |sum, (_, value)| sum.wrapping_add(*value))
            }
            fn from_entries(entries: Vec<(K, u64)>) -> Self {
                entries.into_iter().collect()
            }
            fn equals(&self, other: &Self) -> bool {
                self == other
            }
            fn diff_len(&self, other: &Self) -> usize {
                self.diff(other).count()
            }
            fn union(&self, other: &Self) -> Self {
                HamtMap::union(self, other)
            }
        }
    };
}

impl_hamt!(HamtRc, Implementation::HamtRc);
impl_hamt!(HamtArc, Implementation::HamtArc);
impl_hamt!(HamtArcT, Implementation::HamtArcT);

/// The hashers of std's maps, made from a seed where they take one.
trait SeededHasher: BuildHasher {
    fn with_hash_seed(seed: u64) -> Self;
}

impl SeededHasher for BenchHasher {
    fn with_hash_seed(seed: u64) -> Self {
        Self::with_seed(seed)
    }
}

impl SeededHasher for RandomState {
    fn with_hash_seed(_seed: u64) -> Self {
        // std's SipHash keys cannot be chosen; a new process draws new ones.
        Self::new()
    }
}

macro_rules! impl_std {
    ($alias:ident, $implementation:expr) => {
        impl<K: BenchKey> BenchMap<K> for $alias<K> {
            const IMPLEMENTATION: Implementation = $implementation;

            fn with_hash_seed(seed: u64) -> Self {
                HashMap::with_hasher(SeededHasher::with_hash_seed(seed))
            }
            fn insert_mut(&mut self, key: K, value: u64) {
                HashMap::insert(self, key, value);
            }
            fn remove_mut(&mut self, key: &K) -> bool {
                HashMap::remove(self, key).is_some()
            }
            fn insert(&self, key: K, value: u64) -> Self {
                let mut copy = self.clone();
                HashMap::insert(&mut copy, key, value);
                copy
            }
            fn remove(&self, key: &K) -> Self {
                let mut copy = self.clone();
                HashMap::remove(&mut copy, key);
                copy
            }
            fn get(&self, key: &K) -> Option<&u64> {
                HashMap::get(self, key)
            }
            fn len(&self) -> usize {
                HashMap::len(self)
            }
            fn sum_values(&self) -> u64 {
                self.iter().fold(0u64, |sum, (_, value)| sum.wrapping_add(*value))
            }
            fn from_entries(entries: Vec<(K, u64)>) -> Self {
                entries.into_iter().collect()
            }
            fn equals(&self, other: &Self) -> bool {
                self == other
            }
            fn diff_len(&self, other: &Self) -> usize {
                scan_diff_len(self, other, self.iter(), other.iter())
            }
            fn union(&self, other: &Self) -> Self {
                let mut union = self.clone();
                for (key, value) in other {
                    union.entry(key.clone()).or_insert(*value);
                }
                union
            }
        }
    };
}

impl_std!(StdFold, Implementation::StdFold);
impl_std!(StdSip, Implementation::StdSip);

impl<K: BenchKey> BenchMap<K> for Imbl<K> {
    const IMPLEMENTATION: Implementation = Implementation::Imbl;

    fn with_hash_seed(seed: u64) -> Self {
        imbl::GenericHashMap::with_hasher(BenchHasher::with_seed(seed))
    }
    fn insert_mut(&mut self, key: K, value: u64) {
        imbl::GenericHashMap::insert(self, key, value);
    }
    fn remove_mut(&mut self, key: &K) -> bool {
        imbl::GenericHashMap::remove(self, key).is_some()
    }
    fn insert(&self, key: K, value: u64) -> Self {
        self.update(key, value)
    }
    fn remove(&self, key: &K) -> Self {
        self.without(key)
    }
    fn get(&self, key: &K) -> Option<&u64> {
        imbl::GenericHashMap::get(self, key)
    }
    fn len(&self) -> usize {
        imbl::GenericHashMap::len(self)
    }
    fn sum_values(&self) -> u64 {
        self.iter().fold(0u64, |sum, (_, value)| sum.wrapping_add(*value))
    }
    fn from_entries(entries: Vec<(K, u64)>) -> Self {
        entries.into_iter().collect()
    }
    fn equals(&self, other: &Self) -> bool {
        self == other
    }
    fn diff_len(&self, other: &Self) -> usize {
        scan_diff_len(self, other, self.iter(), other.iter())
    }
    fn union(&self, other: &Self) -> Self {
        self.clone().union(other.clone())
    }
}

macro_rules! impl_rpds {
    ($alias:ident, $implementation:expr) => {
        impl<K: BenchKey> BenchMap<K> for $alias<K> {
            const IMPLEMENTATION: Implementation = $implementation;

            fn with_hash_seed(seed: u64) -> Self {
                rpds::HashTrieMap::new_with_hasher_and_ptr_kind(BenchHasher::with_seed(seed))
            }
            fn insert_mut(&mut self, key: K, value: u64) {
                rpds::HashTrieMap::insert_mut(self, key, value);
            }
            fn remove_mut(&mut self, key: &K) -> bool {
                rpds::HashTrieMap::remove_mut(self, key)
            }
            fn insert(&self, key: K, value: u64) -> Self {
                rpds::HashTrieMap::insert(self, key, value)
            }
            fn remove(&self, key: &K) -> Self {
                rpds::HashTrieMap::remove(self, key)
            }
            fn get(&self, key: &K) -> Option<&u64> {
                rpds::HashTrieMap::get(self, key)
            }
            fn len(&self) -> usize {
                self.size()
            }
            fn sum_values(&self) -> u64 {
                self.iter().fold(0u64, |sum, (_, value)| sum.wrapping_add(*value))
            }
            fn from_entries(entries: Vec<(K, u64)>) -> Self {
                entries.into_iter().collect()
            }
            fn equals(&self, other: &Self) -> bool {
                self == other
            }
            fn diff_len(&self, other: &Self) -> usize {
                scan_diff_len(self, other, self.iter(), other.iter())
            }
            fn union(&self, other: &Self) -> Self {
                // rpds has no union: insert what the other map adds, as its users do.
                let mut union = self.clone();
                for (key, value) in other {
                    if !union.contains_key(key) {
                        union.insert_mut(key.clone(), *value);
                    }
                }
                union
            }
        }
    };
}

impl_rpds!(Rpds, Implementation::Rpds);
impl_rpds!(RpdsSync, Implementation::RpdsSync);
