//! Property tests of the parallel operations (feature `rayon`) against std `HashMap` / `HashSet` models and against
//! their sequential twins: parallel iteration, `collect`, `par_extend`, the parallel set operations and `par_diff`.
//!
//! Every suite runs for the two thread-safe pointer kinds (`ArcK`, `ArcTK`; an `RcK` map is not `Sync`, so the
//! parallel methods do not exist for it), with the default hasher and with hashers that force collisions and
//! depth. The test builds enable the `invariants` feature, which sets the parallel operations' small-map cut-off
//! to zero, so that the small generated inputs take the parallel paths. Every result is checked with the
//! invariant checker, compared with the model, and compared with the sequential operation: equal maps with the
//! same hasher have the same shape (canonical form), so they also iterate in the same order.
#![cfg(feature = "rayon")]

mod common;

use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::hash::{BuildHasher, Hash};

use common::{Collide, Deep, FewBits, OneHash, TestKey, TopBits};
use hamt_core::{ArcK, ArcTK, DefaultHashBuilder, DiffItem, HamtMap, HamtSet, PointerKind};
use quickcheck::{Arbitrary, Gen};
use rayon::prelude::*;

/// The pointer kinds whose maps are `Send + Sync`.
///
/// Under Miri, rayon's thread pool costs seconds per parallel call (its workers spin while they look for work), so
/// these suites run natively only and Miri runs `every_parallel_path_once` instead.
macro_rules! for_each_sync_kind {
    ($name:ident, $test:ident, [$($generic:tt)*]) => {
        mod $name {
            use super::*;

            #[test]
            #[cfg_attr(miri, ignore = "too slow under Miri with rayon's pool; Miri runs every_parallel_path_once")]
            fn arc() {
                $test::<ArcK, $($generic)*>();
            }

            #[test]
            #[cfg_attr(miri, ignore = "too slow under Miri with rayon's pool; Miri runs every_parallel_path_once")]
            fn arc_t() {
                $test::<ArcTK, $($generic)*>();
            }
        }
    };
}

/// Entries with keys taken modulo the suite's key space (so that keys repeat).
#[derive(Clone, Debug)]
struct Entries(Vec<(u16, u32)>);

impl Arbitrary for Entries {
    fn arbitrary(g: &mut Gen) -> Self {
        // Longer than quickcheck's size, so that the maps have children below most root slots.
        let len = usize::arbitrary(g) % (4 * g.size() + 1);
        Entries((0..len).map(|_| (u16::arbitrary(g), u32::arbitrary(g) % 8)).collect())
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        Box::new(self.0.shrink().map(Entries))
    }
}

fn entries<K: TestKey>(entries: &Entries, keys: u16) -> Vec<(K, u32)> {
    entries.0.iter().map(|&(key, value)| (K::from_num(key % keys), value)).collect()
}

/// Checks `map` against the model, the invariants, and a map expected to be identical (same shape).
fn check_map<K, P, S>(map: &HamtMap<K, u32, P, S>, model: &HashMap<K, u32>, sequential: &HamtMap<K, u32, P, S>)
where
    K: TestKey,
    P: PointerKind,
    S: BuildHasher,
{
    map.check_invariants();
    assert_eq!(map.len(), model.len());
    for (key, value) in model {
        assert_eq!(map.get(key), Some(value), "key {key:?}");
    }
    assert_eq!(map, sequential);
    // Canonical form: equal contents and equal hashers give equal shapes, hence the same iteration order.
    assert!(map.iter().eq(sequential.iter()), "the parallel result's shape differs from the sequential one's");
}

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

/// `collect`, `par_iter`, `par_keys`, `par_values` and `IntoParallelIterator for &HamtMap`.
fn collect_and_iterate<P, K, S, const KEYS: u16>()
where
    P: PointerKind,
    K: TestKey + Send + Sync,
    S: BuildHasher + Default + Clone + Send + Sync,
    HamtMap<K, u32, P, S>: Send + Sync,
{
    fn property<P, K, S, const KEYS: u16>(input: Entries) -> bool
    where
        P: PointerKind,
        K: TestKey + Send + Sync,
        S: BuildHasher + Default + Clone + Send + Sync,
        HamtMap<K, u32, P, S>: Send + Sync,
    {
        let keys = common::key_space(KEYS);
        let entries = entries::<K>(&input, keys);
        let model: HashMap<K, u32> = entries.iter().cloned().collect();
        let sequential: HamtMap<K, u32, P, S> = entries.iter().cloned().collect();
        // An indexed source (a vector) and an unindexed one (a filter), with the same items in the same order.
        let parallel: HamtMap<K, u32, P, S> = entries.clone().into_par_iter().collect();
        check_map(&parallel, &model, &sequential);
        let filtered: HamtMap<K, u32, P, S> = entries.clone().into_par_iter().filter(|_| true).collect();
        check_map(&filtered, &model, &sequential);

        let expected = sorted(sequential.iter().collect::<Vec<_>>());
        assert_eq!(sorted(parallel.par_iter().collect::<Vec<_>>()), expected);
        assert_eq!(sorted((&parallel).into_par_iter().collect::<Vec<_>>()), expected);
        assert_eq!(sorted(parallel.par_keys().collect::<Vec<_>>()), sorted(model.keys().collect::<Vec<_>>()));
        assert_eq!(sorted(parallel.par_values().collect::<Vec<_>>()), sorted(model.values().collect::<Vec<_>>()));
        // Short-circuiting consumers stop early and still see only entries of the map.
        if let Some((key, value)) = parallel.par_iter().find_any(|_| true) {
            assert_eq!(model.get(key), Some(value));
        }
        true
    }
    common::check(100, 60, property::<P, K, S, KEYS> as fn(Entries) -> bool);
}

for_each_sync_kind!(collect_u16_default, collect_and_iterate, [u16, DefaultHashBuilder, 2048]);
for_each_sync_kind!(collect_u16_collide, collect_and_iterate, [u16, Collide, 64]);
for_each_sync_kind!(collect_u16_deep, collect_and_iterate, [u16, Deep, 256]);
for_each_sync_kind!(collect_u16_few_bits, collect_and_iterate, [u16, FewBits, 256]);
for_each_sync_kind!(collect_u16_top_bits, collect_and_iterate, [u16, TopBits, 64]);
for_each_sync_kind!(collect_u16_one_hash, collect_and_iterate, [u16, OneHash, 16]);
for_each_sync_kind!(collect_string_default, collect_and_iterate, [String, DefaultHashBuilder, 512]);

/// `par_extend` of a map built from one batch with a second batch.
fn extend<P, K, S, const KEYS: u16>()
where
    P: PointerKind,
    K: TestKey + Send + Sync,
    S: BuildHasher + Default + Clone + Send + Sync,
    HamtMap<K, u32, P, S>: Send + Sync,
{
    fn property<P, K, S, const KEYS: u16>(base: Entries, batch: Entries) -> bool
    where
        P: PointerKind,
        K: TestKey + Send + Sync,
        S: BuildHasher + Default + Clone + Send + Sync,
        HamtMap<K, u32, P, S>: Send + Sync,
    {
        let keys = common::key_space(KEYS);
        let (base, batch) = (entries::<K>(&base, keys), entries::<K>(&batch, keys));
        let mut model: HashMap<K, u32> = base.iter().cloned().collect();
        model.extend(batch.iter().cloned());
        let original: HamtMap<K, u32, P, S> = base.iter().cloned().collect();
        let mut sequential = original.clone();
        sequential.extend(batch.iter().cloned());
        let mut parallel = original.clone();
        parallel.par_extend(batch.clone());
        check_map(&parallel, &model, &sequential);
        // The version extended from is unchanged.
        check_map(&original, &base.iter().cloned().collect(), &base.iter().cloned().collect());
        true
    }
    common::check(100, 60, property::<P, K, S, KEYS> as fn(Entries, Entries) -> bool);
}

for_each_sync_kind!(extend_u16_default, extend, [u16, DefaultHashBuilder, 1024]);
for_each_sync_kind!(extend_u16_collide, extend, [u16, Collide, 64]);
for_each_sync_kind!(extend_u16_deep, extend, [u16, Deep, 256]);
for_each_sync_kind!(extend_string_few_bits, extend, [String, FewBits, 256]);

/// The set operations and `par_diff` on two maps that share structure: `second` is `first` with some entries
/// set and some removed.
fn set_operations<P, K, S, const KEYS: u16>()
where
    P: PointerKind,
    K: TestKey + Send + Sync,
    S: BuildHasher + Default + Clone + Send + Sync,
    HamtMap<K, u32, P, S>: Send + Sync,
{
    fn property<P, K, S, const KEYS: u16>(base: Entries, changes: Entries, removals: Vec<u16>, separate: bool) -> bool
    where
        P: PointerKind,
        K: TestKey + Send + Sync,
        S: BuildHasher + Default + Clone + Send + Sync,
        HamtMap<K, u32, P, S>: Send + Sync,
    {
        let keys = common::key_space(KEYS);
        let first: HamtMap<K, u32, P, S> = entries::<K>(&base, keys).into_iter().collect();
        let mut second = first.clone();
        for (key, value) in entries::<K>(&changes, keys) {
            second.insert_mut(key, value);
        }
        for key in &removals {
            second.remove_mut(&K::from_num(key % keys));
        }
        if separate {
            // The same contents without shared structure.
            second = second.iter().map(|(key, value)| (key.clone(), *value)).collect();
        }
        let (a, b): (HashMap<K, u32>, HashMap<K, u32>) = (
            first.iter().map(|(key, value)| (key.clone(), *value)).collect(),
            second.iter().map(|(key, value)| (key.clone(), *value)).collect(),
        );

        let mut union = b.clone();
        union.extend(a.iter().map(|(key, value)| (key.clone(), *value)));
        check_map(&first.par_union(&second), &union, &first.union(&second));
        let intersection = a.iter().filter(|(key, _)| b.contains_key(*key)).map(|(k, v)| (k.clone(), *v)).collect();
        check_map(&first.par_intersection(&second), &intersection, &first.intersection(&second));
        let difference = a.iter().filter(|(key, _)| !b.contains_key(*key)).map(|(k, v)| (k.clone(), *v)).collect();
        check_map(&first.par_difference(&second), &difference, &first.difference(&second));
        let mut symmetric: HashMap<K, u32> = difference.clone();
        symmetric.extend(b.iter().filter(|(key, _)| !a.contains_key(*key)).map(|(k, v)| (k.clone(), *v)));
        check_map(&first.par_symmetric_difference(&second), &symmetric, &first.symmetric_difference(&second));

        let key_order = |item: &DiffItem<'_, K, u32>| (item.key().clone(), format!("{item:?}"));
        let mut parallel: Vec<_> = first.par_diff(&second).collect();
        let mut sequential: Vec<_> = first.diff(&second).collect();
        parallel.sort_by_key(key_order);
        sequential.sort_by_key(key_order);
        assert_eq!(parallel, sequential);
        assert_eq!(parallel.len(), a.len() + b.len() - 2 * intersection.len() + changed(&a, &b));

        // The inputs are unchanged.
        first.check_invariants();
        second.check_invariants();
        assert_eq!((first.len(), second.len()), (a.len(), b.len()));
        true
    }
    common::check(100, 40, property::<P, K, S, KEYS> as fn(Entries, Entries, Vec<u16>, bool) -> bool);
}

/// The number of keys in both maps with different values.
fn changed<K: Hash + Eq>(a: &HashMap<K, u32>, b: &HashMap<K, u32>) -> usize {
    a.iter().filter(|(key, value)| b.get(*key).is_some_and(|other| other != *value)).count()
}

for_each_sync_kind!(set_operations_u16_default, set_operations, [u16, DefaultHashBuilder, 1024]);
for_each_sync_kind!(set_operations_u16_collide, set_operations, [u16, Collide, 64]);
for_each_sync_kind!(set_operations_u16_deep, set_operations, [u16, Deep, 256]);
for_each_sync_kind!(set_operations_u16_top_bits, set_operations, [u16, TopBits, 64]);
for_each_sync_kind!(set_operations_string_few_bits, set_operations, [String, FewBits, 256]);

/// Sets: `collect`, `par_iter`, `IntoParallelIterator for &HamtSet` and `par_extend`.
fn sets<P, T, S, const KEYS: u16>()
where
    P: PointerKind,
    T: TestKey + Send + Sync,
    S: BuildHasher + Default + Clone + Send + Sync,
    HamtSet<T, P, S>: Send + Sync,
    HamtMap<T, (), P, S>: Send + Sync,
{
    fn property<P, T, S, const KEYS: u16>(base: Entries, batch: Entries) -> bool
    where
        P: PointerKind,
        T: TestKey + Send + Sync,
        S: BuildHasher + Default + Clone + Send + Sync,
        HamtSet<T, P, S>: Send + Sync,
        HamtMap<T, (), P, S>: Send + Sync,
    {
        let keys = common::key_space(KEYS);
        let values =
            |entries: &Entries| -> Vec<T> { entries.0.iter().map(|&(key, _)| T::from_num(key % keys)).collect() };
        let (base, batch) = (values(&base), values(&batch));
        let sequential: HamtSet<T, P, S> = base.iter().cloned().collect();
        let parallel: HamtSet<T, P, S> = base.clone().into_par_iter().collect();
        parallel.check_invariants();
        assert_eq!(parallel, sequential);
        assert!(parallel.iter().eq(sequential.iter()));
        let model: HashSet<T> = base.iter().cloned().collect();
        assert_eq!(sorted(parallel.par_iter().collect::<Vec<_>>()), sorted(model.iter().collect::<Vec<_>>()));
        assert_eq!((&parallel).into_par_iter().count(), model.len());

        let (mut extended, mut expected) = (parallel.clone(), sequential.clone());
        extended.par_extend(batch.clone());
        expected.extend(batch.iter().cloned());
        extended.check_invariants();
        assert_eq!(extended, expected);
        assert!(extended.iter().eq(expected.iter()));
        assert_eq!(parallel, sequential);

        // The parallel set operations, against the model and the sequential ones (same shape, same order), on a
        // set derived from the other (shared subtrees) and on one built separately.
        let batch_model: HashSet<T> = batch.iter().cloned().collect();
        let derived = extended.remove(&T::from_num(0)).remove(&T::from_num(1));
        let derived_model: HashSet<T> = derived.iter().cloned().collect();
        let separate: HamtSet<T, P, S> = batch.iter().cloned().collect();
        for (other, other_model) in [(&derived, &derived_model), (&separate, &batch_model)] {
            let this = &extended;
            let this_model: HashSet<T> = this.iter().cloned().collect();
            let results = [
                (this.par_union(other), this.union(other), this_model.union(other_model).cloned().collect()),
                (
                    this.par_intersection(other),
                    this.intersection(other),
                    this_model.intersection(other_model).cloned().collect(),
                ),
                (
                    this.par_difference(other),
                    this.difference(other),
                    this_model.difference(other_model).cloned().collect(),
                ),
                (
                    this.par_symmetric_difference(other),
                    this.symmetric_difference(other),
                    this_model.symmetric_difference(other_model).cloned().collect::<HashSet<T>>(),
                ),
            ];
            for (parallel, sequential, model) in results {
                parallel.check_invariants();
                assert!(parallel.iter().eq(sequential.iter()), "parallel and sequential set operations differ");
                assert_eq!(parallel.iter().cloned().collect::<HashSet<T>>(), model);
            }
        }
        true
    }
    common::check(100, 60, property::<P, T, S, KEYS> as fn(Entries, Entries) -> bool);
}

for_each_sync_kind!(sets_u16_default, sets, [u16, DefaultHashBuilder, 1024]);
for_each_sync_kind!(sets_u16_deep, sets, [u16, Deep, 256]);
for_each_sync_kind!(sets_string_collide, sets, [String, Collide, 64]);

/// Every parallel operation once on small maps, with hashers that force collisions and depth: the suite Miri runs,
/// so that the node code (atomic counts, `Builder`, `Drain`) is checked while nodes cross threads.
#[test]
fn every_parallel_path_once() {
    fn run<S: BuildHasher + Default + Clone + Send + Sync>() {
        let entries: Vec<(u16, u32)> = (0..40).map(|i| (i % 30, u32::from(i))).collect();
        let model: HashMap<u16, u32> = entries.iter().copied().collect();
        let sequential: HamtMap<u16, u32, ArcK, S> = entries.iter().copied().collect();
        let map: HamtMap<u16, u32, ArcK, S> = entries.clone().into_par_iter().collect();
        check_map(&map, &model, &sequential);
        assert_eq!(map.par_iter().count() + map.par_keys().count() + map.par_values().count(), 3 * model.len());

        let variant = map.insert(3, 0).remove(&4).insert(100, 1);
        check_map(
            &map.par_union(&variant),
            &map.union(&variant).iter().map(|(k, v)| (*k, *v)).collect(),
            &map.union(&variant),
        );
        let difference = map.difference(&variant);
        check_map(&map.par_difference(&variant), &difference.iter().map(|(k, v)| (*k, *v)).collect(), &difference);
        assert_eq!(map.par_diff(&variant).count(), 3);

        let mut extended = map.clone();
        extended.par_extend((20..60u16).into_par_iter().map(|key| (key, 7)));
        let mut expected = map.clone();
        expected.extend((20..60u16).map(|key| (key, 7)));
        check_map(&extended, &expected.iter().map(|(k, v)| (*k, *v)).collect(), &expected);

        let set: HamtSet<u16, ArcK, S> = (0..30u16).into_par_iter().collect();
        set.check_invariants();
        assert_eq!(set.par_iter().count(), 30);
    }
    run::<DefaultHashBuilder>();
    run::<Collide>();
    run::<Deep>();
}

/// Maps large enough for rayon to split the work many times, with duplicate keys across the whole input (the
/// last one must win however the input is split).
#[test]
#[cfg_attr(miri, ignore = "large maps; Miri runs every_parallel_path_once")]
fn large_maps() {
    let len = 200_000;
    let items = || (0..len).into_par_iter().map(|i| (i % (len / 2), i));
    let map: HamtMap<u64, u64, ArcTK> = items().collect();
    map.check_invariants();
    let sequential: HamtMap<u64, u64, ArcTK> = items().collect::<Vec<_>>().into_iter().collect();
    assert!(map.iter().eq(sequential.iter()));
    assert!((0..len / 2).all(|key| map[&key] == key + len / 2));
    assert_eq!(map.par_values().map(|value| *value).sum::<u64>(), (len / 2..len).sum());

    let variant = map.insert(3, 0).remove(&5).insert(len, 1);
    let union = map.par_union(&variant);
    union.check_invariants();
    assert!(union.iter().eq(map.union(&variant).iter()));
    assert_eq!(union, map.insert(len, 1));
    let mut diff: Vec<_> = map.par_diff(&variant).collect();
    diff.sort_by_key(|item| *item.key());
    assert_eq!(
        diff,
        [
            DiffItem::Changed { key: &3, old: &(3 + len / 2), new: &0 },
            DiffItem::Removed(&5, &(5 + len / 2)),
            DiffItem::Added(&len, &1),
        ]
    );
}

/// Maps with a stateful hasher that were built separately do not hash alike: the set operations and the diff
/// fall back to lookups and still give the sequential results.
#[test]
#[cfg_attr(miri, ignore = "too slow under Miri with rayon's pool; Miri runs every_parallel_path_once")]
fn separately_seeded_hashers() {
    use std::collections::hash_map::RandomState;
    let len = 20_000;
    let a: HamtMap<u64, u64, ArcK, RandomState> = (0..len).map(|i| (i, i)).collect();
    let b: HamtMap<u64, u64, ArcK, RandomState> = (len / 2..len + len / 2).map(|i| (i, i + 1)).collect();
    let union = a.par_union(&b);
    union.check_invariants();
    assert_eq!(union, a.union(&b));
    assert_eq!(a.par_difference(&b), a.difference(&b));
    assert_eq!(a.par_diff(&b).count(), a.diff(&b).count());
    let mut extended = a.clone();
    extended.par_extend((0..len).into_par_iter().map(|i| (i, 0)));
    extended.check_invariants();
    assert!(extended.values().all(|value| *value == 0));
}

static_assertions::assert_impl_all!(hamt_core::par::ParIter<'static, u8, u8, ArcTK, DefaultHashBuilder>: Send, Clone);
static_assertions::assert_impl_all!(hamt_core::par::ParDiff<'static, u8, u8, ArcK, DefaultHashBuilder>: Send, Clone);
