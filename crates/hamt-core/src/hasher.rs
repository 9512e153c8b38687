//! The default hasher, and how maps tell whether they hash alike.

use core::hash::{BuildHasher, Hash};
use core::sync::atomic::{AtomicU64, Ordering};

use foldhash::SharedSeed;
use foldhash::fast::{FoldHasher, RandomState, SeedableRandomState};

/// The default [`BuildHasher`]: foldhash, seeded once per process with a random value.
///
/// foldhash is the hash function of hashbrown's default hasher: fast on short keys and, with a random seed,
/// resistant to the hash flooding that degrades hash tables. Unlike a per-map random seed, a per-process seed
/// gives every map in the process the same trie shape for the same keys. That is what lets equality, `diff`,
/// union and the other whole-map operations walk two independently built maps side by side instead of looking up
/// every key.
///
/// A HAMT also degrades far less than a hash table under attack: keys whose hashes share a prefix only make the
/// trie deeper (each level consumes five bits), and a linear scan only happens for keys whose full 64-bit hashes
/// are equal, which an attacker cannot produce without knowing the secret seed.
///
/// The type is zero-sized, so a map with the default hasher is no larger than one without.
///
/// # Examples
///
/// ```
/// use core::hash::BuildHasher;
/// use hamt_core::DefaultHashBuilder;
///
/// // Every instance hashes alike within one process.
/// assert_eq!(DefaultHashBuilder.hash_one("key"), DefaultHashBuilder::default().hash_one("key"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DefaultHashBuilder;

/// The per-process seed; zero means "not chosen yet".
static PROCESS_SEED: AtomicU64 = AtomicU64::new(0);

#[cold]
fn choose_process_seed() -> u64 {
    // foldhash's `RandomState` draws a fresh random per-hasher seed (from the OS-seeded global state with `std`, or
    // from address-space randomness without it); hashing a constant with it turns that into a random number.
    let candidate = RandomState::default().hash_one(0x9e37_79b9_7f4a_7c15_u64) | 1;
    match PROCESS_SEED.compare_exchange(0, candidate, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => candidate,
        // Another thread chose first: use its seed, so that the whole process agrees.
        Err(chosen) => chosen,
    }
}

#[inline]
fn process_seed() -> u64 {
    match PROCESS_SEED.load(Ordering::Relaxed) {
        0 => choose_process_seed(),
        seed => seed,
    }
}

impl BuildHasher for DefaultHashBuilder {
    type Hasher = FoldHasher<'static>;

    #[inline]
    fn build_hasher(&self) -> FoldHasher<'static> {
        SeedableRandomState::with_seed(process_seed(), SharedSeed::global_random()).build_hasher()
    }
}

/// Hashes a key with the map's hasher.
#[inline]
pub(crate) fn hash_of<Q: Hash + ?Sized, S: BuildHasher>(hasher: &S, key: &Q) -> u64 {
    hasher.hash_one(key)
}

/// Hashes an entry with a fixed hasher, for the map's own `Hash`: equal maps must hash alike even when their
/// hashers are seeded differently.
#[inline]
pub(crate) fn stable_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    foldhash::fast::FixedState::with_seed(0x243f_6a88_85a3_08d3).hash_one(value)
}

/// A token that tells whether two maps use the same hash function.
///
/// Maps derived from one another (by clone or by any update) carry the same token. A zero-sized `BuildHasher`
/// (such as [`DefaultHashBuilder`] or `BuildHasherDefault`) has no state to differ in, so every instance of its
/// type hashes alike and they all share token zero. Any other hasher gets a fresh token when a map is created
/// with it, so independently created maps fall back to lookups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HasherId(u64);

impl HasherId {
    pub(crate) fn new<S>() -> HasherId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        if size_of::<S>() == 0 { HasherId(0) } else { HasherId(NEXT.fetch_add(1, Ordering::Relaxed)) }
    }
}
