//! The workloads, written once over [`BenchMap`] and a [`Timer`], so that the criterion harness and the report
//! binary measure exactly the same code.
//!
//! A scenario prepares its maps outside the timed section, then hands the timer one routine: either a routine that
//! can run again and again on the same state ([`Timer::iter`]) or one that consumes a fresh input each time
//! ([`Timer::iter_batched`]). Every routine returns an [`Outcome`] whose checksum the tests compare across
//! implementations, so that a benchmark that measures the wrong thing fails a test instead of printing a number.

use std::hint::black_box;
use std::marker::PhantomData;

use crate::keys::{BenchKey, Colliding, Data};
use crate::maps::{BenchMap, HamtArc, HamtArcT, HamtRc, Imbl, Implementation, Rpds, RpdsSync, StdFold, StdSip};

/// How many versions the variants workload keeps alive.
pub const VARIANTS: usize = 500;

/// The variants std's map makes of a base this large or larger: 500 full copies of a 1M-entry table would need
/// about 18 GB, so std makes fewer and the report gives figures per variant.
pub const STD_FEW_VARIANTS_FROM: usize = 1_000_000;

/// How many variants std makes of a large base; see [`STD_FEW_VARIANTS_FROM`].
pub const STD_FEW_VARIANTS: usize = 20;

/// How many keys the diff scenario changes: 4 values updated, 3 keys removed, 3 added.
pub const DIFF_CHANGES: usize = 10;

/// What a timed routine returns: something the timer can drop outside the timed section, and a checksum that must
/// be the same for every implementation.
pub trait Outcome {
    /// A number that depends on the whole result.
    fn checksum(&self) -> u64;
}

impl Outcome for u64 {
    fn checksum(&self) -> u64 {
        *self
    }
}

impl Outcome for usize {
    fn checksum(&self) -> u64 {
        *self as u64
    }
}

impl Outcome for bool {
    fn checksum(&self) -> u64 {
        u64::from(*self)
    }
}

/// A map a routine built, returned so that the timer drops it outside the timed section.
#[derive(Debug)]
pub struct Built<K, M>(pub M, PhantomData<K>);

impl<K: BenchKey, M: BenchMap<K>> Outcome for Built<K, M> {
    fn checksum(&self) -> u64 {
        map_checksum(&self.0)
    }
}

/// Versions a routine built and keeps alive together.
#[derive(Debug)]
pub struct Versions<K, M>(pub Vec<M>, PhantomData<K>);

impl<K: BenchKey, M: BenchMap<K>> Outcome for Versions<K, M> {
    fn checksum(&self) -> u64 {
        self.0.iter().fold(0u64, |sum, map| sum.wrapping_mul(31).wrapping_add(map_checksum(map)))
    }
}

fn map_checksum<K: BenchKey, M: BenchMap<K>>(map: &M) -> u64 {
    (map.len() as u64).wrapping_mul(1_000_003).wrapping_add(map.sum_values())
}

/// Runs and times routines. The criterion harness implements it over criterion's `Bencher`; the report binary over
/// its own sampler; the tests over a runner that records checksums.
pub trait Timer {
    /// Times `routine`, run repeatedly on state prepared beforehand. Its output should be small: it may be dropped
    /// inside the timed section.
    fn iter<R: Outcome>(&mut self, routine: impl FnMut() -> R);

    /// Times `routine` on a fresh input from `setup` each time. Neither `setup` nor dropping the output is timed.
    fn iter_batched<I, R: Outcome>(&mut self, setup: impl FnMut() -> I, routine: impl FnMut(I) -> R);
}

/// The key types, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// `u64` keys.
    U64,
    /// `String` keys of 21 bytes.
    String,
    /// [`Colliding`] keys: 64 distinct hash values.
    Colliding,
}

impl KeyKind {
    /// Every key kind.
    pub const ALL: [Self; 3] = [Self::U64, Self::String, Self::Colliding];

    /// The name used in tables, JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::U64 => <u64 as BenchKey>::NAME,
            Self::String => <String as BenchKey>::NAME,
            Self::Colliding => <Colliding as BenchKey>::NAME,
        }
    }

    /// Parses a [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|key| key.name() == name)
    }

    /// Calls `visitor` with the key type this names.
    pub fn visit<V: KeyVisitor>(self, visitor: V) -> V::Output {
        match self {
            Self::U64 => visitor.visit::<u64>(),
            Self::String => visitor.visit::<String>(),
            Self::Colliding => visitor.visit::<Colliding>(),
        }
    }
}

/// Code generic over the key type, called through [`KeyKind::visit`].
pub trait KeyVisitor {
    /// What the visit returns.
    type Output;
    /// Runs with `K`.
    fn visit<K: BenchKey>(self) -> Self::Output;
}

/// Code generic over the map type, called through [`visit_map`].
pub trait MapVisitor<K: BenchKey> {
    /// What the visit returns.
    type Output;
    /// Runs with `M`.
    fn visit<M: BenchMap<K>>(self) -> Self::Output;
}

/// Calls `visitor` with the map type of `implementation`.
pub fn visit_map<K: BenchKey, V: MapVisitor<K>>(implementation: Implementation, visitor: V) -> V::Output {
    match implementation {
        Implementation::HamtRc => visitor.visit::<HamtRc<K>>(),
        Implementation::HamtArc => visitor.visit::<HamtArc<K>>(),
        Implementation::HamtArcT => visitor.visit::<HamtArcT<K>>(),
        Implementation::StdFold => visitor.visit::<StdFold<K>>(),
        Implementation::StdSip => visitor.visit::<StdSip<K>>(),
        Implementation::Imbl => visitor.visit::<Imbl<K>>(),
        Implementation::Rpds => visitor.visit::<Rpds<K>>(),
        Implementation::RpdsSync => visitor.visit::<RpdsSync<K>>(),
    }
}

/// The workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// Build a map of `n` entries with in-place inserts.
    BuildInsertMut,
    /// Build a map of `n` entries with persistent inserts, a new version per insert (`map = map.insert(k, v)`).
    BuildPersistent,
    /// Look every present key up, in shuffled order.
    LookupHit,
    /// Look `n` absent keys up.
    LookupMiss,
    /// Remove half the keys in place.
    RemoveMutHalf,
    /// Remove half the keys, a new version per removal.
    RemovePersistentHalf,
    /// Visit every entry of a map built by in-place inserts.
    Iterate,
    /// Visit every entry of a map built by `FromIterator` (which packs nodes as it builds them).
    IterateCollected,
    /// Build a map with `FromIterator` from `n` entries.
    FromIter,
    /// Compare two maps with the same content, built in different orders.
    EqOtherOrder,
    /// Compare a map with a variant that changed the value of one key.
    EqOneKeyVariant,
    /// Compare a map with its clone.
    EqClone,
    /// Diff a map and a variant with [`DIFF_CHANGES`] changed keys.
    Diff,
    /// The union of two maps that share a base and each add 10 keys.
    UnionShared,
    /// Make [`VARIANTS`] versions of a base, each adding one key, all kept alive.
    Variants,
}

impl Scenario {
    /// Every scenario, in report order.
    pub const ALL: [Self; 15] = [
        Self::LookupHit,
        Self::LookupMiss,
        Self::BuildInsertMut,
        Self::FromIter,
        Self::BuildPersistent,
        Self::RemoveMutHalf,
        Self::RemovePersistentHalf,
        Self::Iterate,
        Self::IterateCollected,
        Self::EqOtherOrder,
        Self::EqOneKeyVariant,
        Self::EqClone,
        Self::Diff,
        Self::UnionShared,
        Self::Variants,
    ];

    /// The name used in JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::BuildInsertMut => "build_insert_mut",
            Self::BuildPersistent => "build_persistent",
            Self::LookupHit => "lookup_hit",
            Self::LookupMiss => "lookup_miss",
            Self::RemoveMutHalf => "remove_mut_half",
            Self::RemovePersistentHalf => "remove_persistent_half",
            Self::Iterate => "iterate",
            Self::IterateCollected => "iterate_collected",
            Self::FromIter => "from_iter",
            Self::EqOtherOrder => "eq_other_order",
            Self::EqOneKeyVariant => "eq_one_key_variant",
            Self::EqClone => "eq_clone",
            Self::Diff => "diff_10_changes",
            Self::UnionShared => "union_shared",
            Self::Variants => "variants_500",
        }
    }

    /// A title for the report.
    pub fn title(self) -> &'static str {
        match self {
            Self::BuildInsertMut => "build by in-place insert",
            Self::BuildPersistent => "build by persistent insert (a new version per insert)",
            Self::LookupHit => "lookup, present keys, shuffled order",
            Self::LookupMiss => "lookup, absent keys",
            Self::RemoveMutHalf => "in-place remove of half the keys",
            Self::RemovePersistentHalf => "persistent remove of half the keys (a new version per removal)",
            Self::Iterate => "full iteration, map built by in-place inserts",
            Self::IterateCollected => "full iteration, map built by `from_iter`",
            Self::FromIter => "`from_iter` (std: `collect`)",
            Self::EqOtherOrder => "equality, same content built in another order",
            Self::EqOneKeyVariant => "equality with a variant that changed one value",
            Self::EqClone => "equality with a clone",
            Self::Diff => "diff against a variant with 10 changed keys",
            Self::UnionShared => "union of two maps sharing a base, 10 new keys each",
            Self::Variants => "500 variants of a base, one added key each, all alive",
        }
    }

    /// Parses a [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scenario| scenario.name() == name)
    }

    /// What one element of the scenario is, when it makes sense to report time per element.
    pub fn unit(self) -> Option<&'static str> {
        match self {
            Self::BuildInsertMut | Self::BuildPersistent | Self::FromIter => Some("insert"),
            Self::LookupHit | Self::LookupMiss => Some("lookup"),
            Self::RemoveMutHalf | Self::RemovePersistentHalf => Some("remove"),
            Self::Iterate | Self::IterateCollected => Some("entry"),
            Self::Variants => Some("variant"),
            Self::EqOtherOrder | Self::EqOneKeyVariant | Self::EqClone | Self::Diff | Self::UnionShared => None,
        }
    }

    /// How many elements one run of the scenario handles, for the time per element.
    pub fn elements(self, implementation: Implementation, size: usize) -> usize {
        match self {
            Self::RemoveMutHalf | Self::RemovePersistentHalf => size / 2,
            Self::Variants => variant_count(implementation, size),
            Self::EqOtherOrder | Self::EqOneKeyVariant | Self::EqClone | Self::Diff | Self::UnionShared => 1,
            _ => size,
        }
    }

    /// Whether the scenario runs only over maps that share structure between versions.
    pub fn is_persistent_only(self) -> bool {
        matches!(self, Self::BuildPersistent | Self::RemovePersistentHalf)
    }

    /// Whether `implementation` takes part.
    pub fn applies_to(self, implementation: Implementation) -> bool {
        !self.is_persistent_only() || implementation.is_persistent()
    }

    /// The key kinds the scenario runs with.
    pub fn keys(self) -> &'static [KeyKind] {
        match self {
            Self::LookupHit | Self::BuildInsertMut => &[KeyKind::U64, KeyKind::String, KeyKind::Colliding],
            Self::Variants => &[KeyKind::U64],
            _ => &[KeyKind::U64, KeyKind::String],
        }
    }

    /// Runs the scenario over `M` with the keys in `data`.
    pub fn run<K: BenchKey, M: BenchMap<K>, T: Timer>(self, data: &Data<K>, timer: &mut T) {
        match self {
            Self::BuildInsertMut => build_insert_mut::<K, M, T>(data, timer),
            Self::BuildPersistent => build_persistent::<K, M, T>(data, timer),
            Self::LookupHit => lookup_hit::<K, M, T>(data, timer),
            Self::LookupMiss => lookup_miss::<K, M, T>(data, timer),
            Self::RemoveMutHalf => remove_mut_half::<K, M, T>(data, timer),
            Self::RemovePersistentHalf => remove_persistent_half::<K, M, T>(data, timer),
            Self::Iterate => iterate::<K, M, T>(data, timer),
            Self::IterateCollected => iterate_collected::<K, M, T>(data, timer),
            Self::FromIter => from_iter::<K, M, T>(data, timer),
            Self::EqOtherOrder => eq_other_order::<K, M, T>(data, timer),
            Self::EqOneKeyVariant => eq_one_key_variant::<K, M, T>(data, timer),
            Self::EqClone => eq_clone::<K, M, T>(data, timer),
            Self::Diff => diff::<K, M, T>(data, timer),
            Self::UnionShared => union_shared::<K, M, T>(data, timer),
            Self::Variants => variants::<K, M, T>(data, timer),
        }
    }

    /// Runs the scenario for `implementation` with keys of kind `key` and `size` entries: the entry point of a
    /// measurement.
    pub fn run_with<T: Timer>(self, implementation: Implementation, key: KeyKind, size: usize, timer: &mut T) {
        struct ForKey<'t, T> {
            scenario: Scenario,
            implementation: Implementation,
            size: usize,
            timer: &'t mut T,
        }
        impl<T: Timer> KeyVisitor for ForKey<'_, T> {
            type Output = ();
            fn visit<K: BenchKey>(self) {
                let data = Data::<K>::generate(self.size);
                visit_map::<K, _>(
                    self.implementation,
                    ForMap { scenario: self.scenario, data: &data, timer: self.timer },
                );
            }
        }
        struct ForMap<'d, 't, K, T> {
            scenario: Scenario,
            data: &'d Data<K>,
            timer: &'t mut T,
        }
        impl<K: BenchKey, T: Timer> MapVisitor<K> for ForMap<'_, '_, K, T> {
            type Output = ();
            fn visit<M: BenchMap<K>>(self) {
                self.scenario.run::<K, M, T>(self.data, self.timer);
            }
        }
        key.visit(ForKey { scenario: self, implementation, size, timer });
    }
}

/// How many variants `implementation` makes of a base of `size` entries; see [`STD_FEW_VARIANTS_FROM`].
pub fn variant_count(implementation: Implementation, size: usize) -> usize {
    if !implementation.is_persistent() && size >= STD_FEW_VARIANTS_FROM { STD_FEW_VARIANTS } else { VARIANTS }
}

/// Builds a map of every present key with in-place inserts.
pub fn build<K: BenchKey, M: BenchMap<K>>(data: &Data<K>) -> M {
    let mut map = M::empty();
    for (key, value) in data.entries() {
        map.insert_mut(key, value);
    }
    map
}

fn built<K, M>(map: M) -> Built<K, M> {
    Built(map, PhantomData)
}

fn build_insert_mut<K: BenchKey, M: BenchMap<K>, T: Timer>(data: &Data<K>, timer: &mut T) {
    timer.iter_batched(
        || data.entries(),
        |entries| {
            let mut map = M::empty();
            for (key, value) in entries {
                map.insert_mut(key, value);
            }
            built(map)
        },
    );
}

fn build_persistent<K: BenchKey, M: BenchMap<K>, T: Timer>(data: &Data<K>, timer: &mut T) {
    timer.iter_batched(
        || data.entries(),
        |entries| {
            let mut map = M::empty();
            for (key, value) in entries {
                map = map.insert(key, value);
            }
            built(map)
        },
    );
}

fn lookup_hit<K: BenchKey, M: BenchMap<K>, T: Timer>(data: &Data<K>, timer: &mut T) {
    let map: M = build(data);
    timer.iter(|| {
        let mut sum = 0u64;
        for key in &data.shuffled {
            sum = sum.wrapping_add(*map.get(black_box(key)).unwrap_or(&0));
        }
        sum
    });
}

fn lookup_miss<K: BenchKey, M: BenchMap<K>, T: Timer>(data: &Data<K>, timer: &mut T) {
    let map: M = build(data);
    timer.iter(|| {
        let mut found = 0usize;
        for key in &data.absent[..data.len()] {
            found += usize::from(map.get(black_box(key)).is_some());
        }
        found
    });
}

fn half<K>(data: &Data<K>) -> &[K] {
    &data.shuffled[..data.shuffled.len() / 2]
}

fn remove_mut_half<K: BenchKey, M: BenchMap<K>, T: Timer>(data: &Data<K>, timer: &mut T) {
    timer.iter_batched(
        || build::<K, M>(data),
        |mut map| {
            for key in half(data) {
                map.remove_mut(key);
            }
            built(map)
        },
    );
}

fn remove_persistent_half<K: BenchKey, M: BenchMap<K>, T: Timer>(data: &Data<K>, timer: &mut T) {
    timer.iter_batched(
        || build::<K, M>(data),
        |mut map| {
            for key in half(data) {
                map = map.remove(key);
            }
            built(map)
        },
    );
}

fn iterate<K: BenchKey, M: BenchMap<K>, T: Timer>(data: &Data<K>, timer: &mut T) {
    let map: M = build(data);
    timer.iter(|| map.sum_values());
}

fn iterate_collected<K: BenchKey, M: BenchMap<K>, T: Timer>(data: &Data<K>, timer: &mut T) {
    let map = M::from_entries(data.entries());
    timer.iter(|| map.sum_values());
}

fn from_iter<K: BenchKey, M: BenchMap<K>, T: Timer>(data: &Data<K>, timer: &mut T) {
    timer.iter_batched(|| data.entries(), |entries| built(M::from_entries(entries)));
}

fn eq_other_order<K: BenchKey, M: BenchMap<K>, T: Timer>(data: &Data<K>, timer: &mut T) {
    let first: M = build(data);
    let mut second = M::empty();
    for (key, value) in data.shuffled_entries() {
        second.insert_mut(key, value);
    }
    timer.iter(|| black_box(&first).equals(black_box(&second)));
}

fn eq_one_key_variant<K: BenchKey, M: BenchMap<K>, T: Timer>(data: &Data<K>, timer: &mut T) {
    let base: M = build(data);
    let mut variant = base.clone();
    variant.insert_mut(data.shuffled[0].clone(), u64::MAX);
    timer.iter(|| black_box(&base).equals(black_box(&variant)));
}

fn eq_clone<K: BenchKey, M: BenchMap<K>, T: Timer>(data: &Data<K>, timer: &mut T) {
    let base: M = build(data);
    let copy = base.clone();
    timer.iter(|| black_box(&base).equals(black_box(&copy)));
}

fn diff<K: BenchKey, M: BenchMap<K>, T: Timer>(data: &Data<K>, timer: &mut T) {
    let base: M = build(data);
    let mut variant = base.clone();
    for key in &data.shuffled[0..4] {
        variant.insert_mut(key.clone(), u64::MAX);
    }
    for key in &data.shuffled[4..7] {
        variant.remove_mut(key);
    }
    for key in &data.absent[0..3] {
        variant.insert_mut(key.clone(), 7);
    }
    timer.iter(|| black_box(&base).diff_len(black_box(&variant)));
}

fn union_shared<K: BenchKey, M: BenchMap<K>, T: Timer>(data: &Data<K>, timer: &mut T) {
    let base: M = build(data);
    let mut first = base.clone();
    for key in &data.absent[0..10] {
        first.insert_mut(key.clone(), 1);
    }
    let mut second = base.clone();
    for key in &data.absent[10..20] {
        second.insert_mut(key.clone(), 2);
    }
    drop(base);
    timer.iter_batched(|| (), |()| built(black_box(&first).union(black_box(&second))));
}

fn variants<K: BenchKey, M: BenchMap<K>, T: Timer>(data: &Data<K>, timer: &mut T) {
    let base: M = build(data);
    let count = variant_count(M::IMPLEMENTATION, data.len());
    let keys = &data.absent[..count];
    timer.iter_batched(
        || Vec::with_capacity(count),
        |mut versions| {
            for (index, key) in keys.iter().enumerate() {
                versions.push(base.insert(key.clone(), index as u64));
            }
            Versions(versions, PhantomData)
        },
    );
}
