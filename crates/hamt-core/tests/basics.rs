//! Targeted tests: collisions and depth on purpose, bulk building, canonical form (equal contents give equal maps,
//! equal hashes, equal iteration order and empty diffs, whatever the history), the small API contracts (`Debug`,
//! `Index`, `Borrow<str>` lookups, conversions), and exact, fused iterators.

mod common;

use std::collections::HashMap;
use std::collections::hash_map::{DefaultHasher, RandomState};
use std::fmt::Debug;
use std::hash::{BuildHasher, Hash, Hasher};

use common::{Collide, Deep, FewBits, OneHash, TopBits};
use hamt_core::{DefaultHashBuilder, DiffItem, Entry, HamtMap, HamtSet, PointerKind, RcK, SetDiffItem};

fn std_hash<T: Hash>(value: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

fn sorted<P: PointerKind, S>(map: &HamtMap<u32, u32, P, S>) -> Vec<(u32, u32)> {
    let mut entries: Vec<(u32, u32)> = map.iter().map(|(k, v)| (*k, *v)).collect();
    entries.sort_unstable();
    entries
}

/// A deterministic permutation of `0..n` (a multiplicative walk), to insert and remove in scrambled orders.
fn scrambled(n: u32, seed: u32) -> Vec<u32> {
    let mut keys: Vec<u32> = (0..n).collect();
    let mut state = u64::from(seed) | 1;
    for i in (1..keys.len()).rev() {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        keys.swap(i, (state >> 33) as usize % (i + 1));
    }
    keys
}

// ---------------------------------------------------------------------------------------------------------------
// Collisions and depth.

/// Inserts `n` keys one by one (checking every step), reads them back, then removes them in another order down to
/// zero, both in place and persistently (keeping every version and checking it afterwards).
fn grow_and_shrink<P: PointerKind, S: BuildHasher + Clone + Default>(n: u32) {
    let mut map = HamtMap::<u32, u32, P, S>::default();
    for (i, k) in scrambled(n, 1).into_iter().enumerate() {
        assert_eq!(map.insert_mut(k, k * 2), None);
        map.check_invariants();
        assert_eq!(map.len(), i + 1);
        assert_eq!(map.get(&k), Some(&(k * 2)));
    }
    for k in 0..n {
        assert_eq!(map.get(&k), Some(&(k * 2)), "get({k})");
        assert!(!map.contains_key(&(k + n)), "contains_key({})", k + n);
    }
    assert_eq!(sorted(&map), (0..n).map(|k| (k, k * 2)).collect::<Vec<_>>());

    let mut versions = vec![map.clone()];
    let mut persistent = map.clone();
    for (i, k) in scrambled(n, 2).into_iter().enumerate() {
        assert_eq!(map.remove_mut(&k), Some(k * 2));
        assert_eq!(map.remove_mut(&k), None);
        map.check_invariants();
        assert_eq!(map.len(), n as usize - i - 1);
        assert!(!map.contains_key(&k));

        persistent = persistent.remove(&k);
        persistent.check_invariants();
        assert!(persistent == map, "persistent and in-place removals disagree after removing {k}");
        versions.push(persistent.clone());
    }
    assert!(map.is_empty() && persistent.is_empty());
    for (removed, version) in versions.iter().enumerate() {
        version.check_invariants();
        assert_eq!(version.len(), n as usize - removed, "version {removed} changed");
    }
}

fn collisions<P: PointerKind>() {
    let n = common::scaled(120, 6) as u32;
    grow_and_shrink::<P, OneHash>(n);
    grow_and_shrink::<P, Collide>(n);
}

fn depth<P: PointerKind>() {
    // Every step is checked in full, so the cost is quadratic: keep `n` modest.
    let n = common::scaled(300, 8) as u32;
    grow_and_shrink::<P, Deep>(n);
    grow_and_shrink::<P, TopBits>(n);
    grow_and_shrink::<P, FewBits>(n);
    grow_and_shrink::<P, DefaultHashBuilder>(n * 3);
}

for_each_kind!(collisions_one_hash, collisions);
for_each_kind!(deep_tries, depth);

/// Two keys that collide completely; removing one must pull the other all the way up to the root.
fn collision_pair_collapses<P: PointerKind>() {
    let pair: HamtMap<u32, u32, P, OneHash> = [(1, 1), (2, 2)].into_iter().collect();
    pair.check_invariants();
    let single = pair.remove(&1);
    single.check_invariants();
    assert_eq!(sorted(&single), [(2, 2)]);
    let direct: HamtMap<u32, u32, P, OneHash> = [(2, 2)].into_iter().collect();
    assert!(single == direct, "canonical form: a lone entry lives in the root");
    assert_eq!(single.iter().collect::<Vec<_>>(), direct.iter().collect::<Vec<_>>());
    assert_eq!(single.diff(&direct).count(), 0);

    // A collision node next to an entry elsewhere in the trie, emptied one key at a time.
    let mut map: HamtMap<u32, u32, P, Collide> = (0..12).map(|k| (k, k)).collect();
    map.check_invariants();
    for k in (0..12).filter(|k| k % 4 != 1) {
        map.remove_mut(&k);
        map.check_invariants();
    }
    assert_eq!(sorted(&map), [(1, 1), (5, 5), (9, 9)]);
    for k in [5, 9] {
        map = map.remove(&k);
        map.check_invariants();
    }
    assert!(map == [(1, 1)].into_iter().collect(), "the last entry must be back in the root");
}

for_each_kind!(collision_pair, collision_pair_collapses);

// ---------------------------------------------------------------------------------------------------------------
// Bulk building and canonical form.

fn from_iter_last_wins<P: PointerKind, S: BuildHasher + Clone + Default>() {
    let (count, distinct) = (common::scaled(300, 40) as u32, common::scaled(70, 12) as u32);
    let entries: Vec<(u32, u32)> = (0..count).map(|i| (i % distinct, i)).collect();
    let map: HamtMap<u32, u32, P, S> = entries.iter().copied().collect();
    map.check_invariants();
    let expected: HashMap<u32, u32> = entries.iter().copied().collect();
    assert_eq!(map.len(), distinct as usize);
    for (k, v) in &expected {
        assert_eq!(map.get(k), Some(v), "from_iter must keep the last value of {k}");
    }

    // Extend: a large batch (at least 64 entries, for the bulk path) into a non-empty map, overlapping it, with
    // duplicates inside the batch.
    let base = common::scaled(100, 16) as u32;
    let (batch_len, span) = (common::scaled(400, 66) as u32, common::scaled(150, 24) as u32);
    let mut extended: HamtMap<u32, u32, P, S> = (0..base).map(|k| (k, 0)).collect();
    let batch: Vec<(u32, u32)> = (0..batch_len).map(|i| (base / 2 + i % span, 1000 + i)).collect();
    extended.extend(batch.iter().copied());
    extended.check_invariants();
    let mut expected: HashMap<u32, u32> = (0..base).map(|k| (k, 0)).collect();
    expected.extend(batch.iter().copied());
    assert_eq!(extended.len(), expected.len());
    for (k, v) in &expected {
        assert_eq!(extended.get(k), Some(v), "extend must let later entries win for {k}");
    }
    // The same through the small-batch path (no size hint) and through `Extend<(&K, &V)>`.
    let mut one_by_one: HamtMap<u32, u32, P, S> = (0..base).map(|k| (k, 0)).collect();
    one_by_one.extend(batch.iter().copied().filter(|_| true));
    assert!(one_by_one == extended);
    let mut by_ref: HamtMap<u32, u32, P, S> = (0..base).map(|k| (k, 0)).collect();
    by_ref.extend(batch.iter().map(|(k, v)| (k, v)));
    assert!(by_ref == extended);
}

for_each_kind!(from_iter_default, from_iter_last_wins, [DefaultHashBuilder]);
for_each_kind!(from_iter_collide, from_iter_last_wins, [Collide]);
for_each_kind!(from_iter_one_hash, from_iter_last_wins, [OneHash]);
for_each_kind!(native_only from_iter_deep, from_iter_last_wins, [Deep]);

/// `from_iter` on larger inputs than `from_iter_last_wins`: all keys distinct, each key many times over, and a
/// handful of keys repeated throughout (long runs of equal keys in one group), each with and without a size hint
/// (the builder chooses how to partition from the hint, and must cope with an iterator that yields more).
fn from_iter_large<P: PointerKind, S: BuildHasher + Clone + Default>() {
    let count = common::scaled(3000, 150) as u32;
    for distinct in [count, count / 7, 3] {
        // A multiplicative walk, so that equal keys are spread over the input rather than adjacent.
        let entries: Vec<(u32, u32)> = (0..count).map(|i| (i.wrapping_mul(2_654_435_761) % distinct, i)).collect();
        let expected: HashMap<u32, u32> = entries.iter().copied().collect();
        let hinted: HamtMap<u32, u32, P, S> = entries.iter().copied().collect();
        let unhinted: HamtMap<u32, u32, P, S> = entries.iter().copied().filter(|_| true).collect();
        for map in [&hinted, &unhinted] {
            map.check_invariants();
            assert_eq!(map.len(), expected.len());
            for (k, v) in &expected {
                assert_eq!(map.get(k), Some(v), "from_iter must keep the last value of {k} ({distinct} keys)");
            }
        }
        assert!(hinted == unhinted);
        let inserted: HamtMap<u32, u32, P, S> = entries.iter().fold(HamtMap::default(), |mut map, &(k, v)| {
            map.insert_mut(k, v);
            map
        });
        assert!(hinted == inserted, "from_iter and inserts must build the same map ({distinct} keys)");
        assert_eq!(hinted.iter().collect::<Vec<_>>(), inserted.iter().collect::<Vec<_>>());
    }
}

for_each_kind!(from_iter_large_default, from_iter_large, [DefaultHashBuilder]);
for_each_kind!(from_iter_large_collide, from_iter_large, [Collide]);
for_each_kind!(native_only from_iter_large_one_hash, from_iter_large, [OneHash]);
for_each_kind!(native_only from_iter_large_few_bits, from_iter_large, [FewBits]);

/// Maps with the same contents built in different ways are equal, hash equal, iterate in the same order and have
/// an empty diff.
fn history_independence<P: PointerKind, S: BuildHasher + Clone + Default>() {
    let n = common::scaled(600, 12) as u32;
    let bulk: HamtMap<u32, u32, P, S> = (0..n).map(|k| (k, k + 1)).collect();
    let reversed: HamtMap<u32, u32, P, S> = (0..n).rev().map(|k| (k, k + 1)).collect();
    let mut incremental = HamtMap::<u32, u32, P, S>::default();
    for k in scrambled(n, 3) {
        incremental.insert_mut(k, k + 1);
    }
    // With detours: extra keys inserted and removed again, values changed and changed back.
    let mut detours = HamtMap::<u32, u32, P, S>::default();
    for k in scrambled(n * 2, 4) {
        detours = detours.insert(k, 0);
    }
    for k in scrambled(n * 2, 5) {
        if k >= n {
            detours = detours.remove(&k);
        } else {
            detours.insert_mut(k, k + 1);
        }
    }
    let mut extended = HamtMap::<u32, u32, P, S>::default();
    extended.extend((0..n / 2).map(|k| (k, k + 1)));
    extended.extend((n / 2..n).map(|k| (k, k + 1)));

    // Trie order is hash order; only keys whose full hashes collide may come in different orders.
    let hasher = S::default();
    let hash_order = |map: &HamtMap<u32, u32, P, S>| map.keys().map(|k| hasher.hash_one(k)).collect::<Vec<u64>>();
    let order = hash_order(&bulk);
    for (name, map) in
        [("reversed", &reversed), ("incremental", &incremental), ("detours", &detours), ("extended", &extended)]
    {
        map.check_invariants();
        assert!(*map == bulk, "{name}: equal contents must compare equal");
        assert!(bulk == *map, "{name}: equality must be symmetric");
        assert_eq!(std_hash(map), std_hash(&bulk), "{name}: equal maps must hash equal");
        assert_eq!(map.diff(&bulk).count(), 0, "{name}: equal maps must have an empty diff");
        assert!(map.is_submap(&bulk) && bulk.is_submap(map), "{name}: equal maps are submaps of each other");
        assert_eq!(hash_order(map), order, "{name}: equal maps must iterate in the same (hash) order");
    }
    let changed = bulk.insert(0, 0);
    assert_ne!(changed, bulk);
    assert_ne!(bulk, changed);
}

for_each_kind!(history_default, history_independence, [DefaultHashBuilder]);
for_each_kind!(history_collide, history_independence, [Collide]);
for_each_kind!(native_only history_deep, history_independence, [Deep]);
for_each_kind!(native_only history_few_bits, history_independence, [FewBits]);

/// Maps with different seeds (std's `RandomState`) compare and hash by contents.
#[test]
fn different_seeds_compare_by_contents() {
    let n = common::scaled(500, 12) as u32;
    let mut a: HamtMap<u32, u32, RcK, RandomState> = HamtMap::with_hasher(RandomState::new());
    let mut b: HamtMap<u32, u32, RcK, RandomState> = HamtMap::with_hasher(RandomState::new());
    a.extend((0..n).map(|k| (k, k)));
    for k in (0..n).rev() {
        b.insert_mut(k, k);
    }
    assert!(a == b);
    assert_eq!(std_hash(&a), std_hash(&b));
    assert_eq!(a.diff(&b).count(), 0);
    let c = b.insert(3, 0).remove(&4).insert(n, n);
    let mut items: Vec<String> = a.diff(&c).map(|item| format!("{item:?}")).collect();
    items.sort();
    assert_eq!(
        items,
        [format!("Added({n}, {n})"), "Changed { key: 3, old: 3, new: 0 }".into(), "Removed(4, 4)".into()]
    );
    assert!(a.union(&c).len() == n as usize + 1);
}

/// A large map and a one-key variant: `diff` reports exactly that key.
fn one_key_variant_diff<P: PointerKind, S: BuildHasher + Clone + Default, const N: u32>() {
    let n = common::scaled(N as usize, 40) as u32;
    let base: HamtMap<u32, u32, P, S> = (0..n).map(|k| (k, k)).collect();
    let changed = base.insert(7, 70);
    assert_eq!(base.diff(&changed).collect::<Vec<_>>(), [DiffItem::Changed { key: &7, old: &7, new: &70 }]);
    assert_eq!(changed.diff(&base).collect::<Vec<_>>(), [DiffItem::Changed { key: &7, old: &70, new: &7 }]);
    let added = base.insert(n, 1);
    assert_eq!(base.diff(&added).collect::<Vec<_>>(), [DiffItem::Added(&n, &1)]);
    let removed = base.remove(&9);
    assert_eq!(base.diff(&removed).collect::<Vec<_>>(), [DiffItem::Removed(&9, &9)]);
    let same_value = base.insert(5, 5);
    assert_eq!(base.diff(&same_value).count(), 0, "a value replaced by an equal one is no change");
    assert!(base.diff(&base).next().is_none());
    assert_eq!(DiffItem::Added(&1, &2).key(), &1);
}

for_each_kind!(one_key_diff_default, one_key_variant_diff, [DefaultHashBuilder, 20_000]);
// Collision nodes are scanned linearly, so fewer keys here.
for_each_kind!(native_only one_key_diff_collide, one_key_variant_diff, [Collide, 2_000]);

// ---------------------------------------------------------------------------------------------------------------
// Small API contracts.

#[test]
fn debug_output() {
    let empty: HamtMap<u32, u32> = HamtMap::new();
    assert_eq!(format!("{empty:?}"), "{}");
    let one: HamtMap<&str, u32> = [("a", 1)].into();
    assert_eq!(format!("{one:?}"), r#"{"a": 1}"#);
    let two: HamtMap<u32, u32> = [(1, 10), (2, 20)].into();
    let text = format!("{two:?}");
    assert!(text == "{1: 10, 2: 20}" || text == "{2: 20, 1: 10}", "{text}");
    let set: HamtSet<u32> = [5].into();
    assert_eq!(format!("{set:?}"), "{5}");
    assert_eq!(format!("{:?}", HamtSet::<u32>::new()), "{}");
    assert_eq!(format!("{:?}", one.iter()), r#"[("a", 1)]"#);
    assert_eq!(format!("{:?}", one.keys()), r#"["a"]"#);
    assert_eq!(format!("{:?}", one.values()), "[1]");
    let mut map = one.clone();
    assert_eq!(format!("{:?}", map.entry("a")), r#"Occupied(OccupiedEntry { key: "a", value: 1 })"#);
    assert_eq!(format!("{:?}", map.entry("b")), r#"Vacant(VacantEntry("b"))"#);
    assert_eq!(format!("{:?}", DiffItem::Removed(&1, &2)), "Removed(1, 2)");
    assert_eq!(format!("{:?}", SetDiffItem::Added(&1)), "Added(1)");
}

#[test]
#[should_panic(expected = "key not found")]
fn index_panics_on_absent_key() {
    let map: HamtMap<u32, u32> = [(1, 1)].into();
    let _ = map[&2];
}

#[test]
#[should_panic(expected = "key not found")]
fn index_panics_on_empty_map() {
    let map: HamtMap<String, u32> = HamtMap::new();
    let _ = map["absent"];
}

fn string_keys_by_str<P: PointerKind, S: BuildHasher + Clone + Default>() {
    let mut map: HamtMap<String, u32, P, S> = (0..50).map(|i| (format!("k{i}"), i)).collect();
    assert_eq!(map.get("k7"), Some(&7));
    assert_eq!(map.get_key_value("k7"), Some((&"k7".to_string(), &7)));
    assert!(map.contains_key("k49") && !map.contains_key("k50"));
    assert_eq!(map["k3"], 3);
    *map.get_mut("k3").expect("present") += 100;
    assert_eq!(map["k3"], 103);
    let smaller = map.remove("k3");
    assert!(!smaller.contains_key("k3") && map.contains_key("k3"));
    assert_eq!(map.remove_mut("k4"), Some(4));
    assert_eq!(map.remove_entry("k5"), Some(("k5".to_string(), 5)));
    let without = map.clone().without("k6");
    assert_eq!(without.len(), map.len() - 1);
    map.check_invariants();

    let mut set: HamtSet<String, P, S> = ["a".to_string(), "b".to_string()].into_iter().collect();
    assert!(set.contains("a") && !set.contains("c"));
    assert_eq!(set.get("b"), Some(&"b".to_string()));
    assert!(set.remove("a").len() == 1);
    assert!(set.remove_mut("b") && !set.remove_mut("b"));
}

for_each_kind!(borrow_str_default, string_keys_by_str, [DefaultHashBuilder]);
for_each_kind!(native_only borrow_str_collide, string_keys_by_str, [Collide]);

fn conversions_and_identity<P: PointerKind>() {
    let from_array: HamtMap<u32, char, P> = [(1, 'a'), (2, 'b'), (1, 'c')].into();
    assert_eq!(from_array.len(), 2);
    assert_eq!(from_array[&1], 'c', "From<[_; N]> keeps the last value");
    // `From<std::collections::HashMap>` and `From<HashSet>` exist with the `std` feature.
    #[cfg(feature = "std")]
    {
        let std_map: HashMap<u32, char> = [(1, 'c'), (2, 'b')].into();
        let from_std: HamtMap<u32, char, P> = std_map.into();
        assert!(from_std == from_array);
        let std_set: std::collections::HashSet<u32> = [1, 2, 3].into();
        let set: HamtSet<u32, P> = std_set.into();
        assert!(set == [3, 2, 1].into());
    }

    let union = &from_array | &[(3, 'z'), (1, 'y')].into();
    assert_eq!(union.len(), 3);
    assert_eq!(union[&1], 'c', "`|` keeps the left map's values");

    let copy = from_array.clone();
    assert!(copy.ptr_eq(&from_array), "clone shares the root");
    assert!(!from_array.insert(1, 'c').ptr_eq(&from_array) || from_array.insert(1, 'c') == from_array);
    assert!(from_array.remove(&99).ptr_eq(&from_array), "removing an absent key shares everything");
    let empty: HamtMap<u32, char, P> = HamtMap::default();
    assert!(empty.ptr_eq(&HamtMap::default()));
    assert!(empty.is_empty() && empty.iter().next().is_none());
    assert!(empty.is_submap(&from_array) && !from_array.is_submap(&empty));
    assert!(empty.diff(&empty).next().is_none());

    let mut counts: HamtMap<&str, u32, P> = HamtMap::default();
    for word in "a b a c b a".split(' ') {
        *counts.entry(word).or_insert(0) += 1;
    }
    assert_eq!((counts["a"], counts["b"], counts["c"]), (3, 2, 1));
    match counts.entry("a") {
        Entry::Occupied(entry) => assert_eq!((entry.key(), entry.get()), (&"a", &3)),
        Entry::Vacant(_) => panic!("`a` is present"),
    }
    let owned: Vec<(&str, u32)> = counts.clone().into_iter().collect();
    assert_eq!(owned.len(), 3);
    let by_ref: Vec<(&&str, &u32)> = (&counts).into_iter().collect();
    assert_eq!(by_ref.len(), 3);
    for (_, value) in &mut counts {
        *value *= 10;
    }
    assert_eq!(counts["a"], 30);
}

for_each_kind!(conversions, conversions_and_identity);

// ---------------------------------------------------------------------------------------------------------------
// Exact and fused iterators.

/// Walks `iter` to the end, checking that `len` counts down by one per item, and that it stays exhausted.
fn exact_and_fused<I: ExactSizeIterator>(mut iter: I, expected: usize, what: &str)
where
    I::Item: Debug,
{
    for remaining in (1..=expected).rev() {
        assert_eq!(iter.len(), remaining, "{what}: len before item");
        assert_eq!(iter.size_hint(), (remaining, Some(remaining)), "{what}: size_hint");
        assert!(iter.next().is_some(), "{what}: ended early");
    }
    assert_eq!(iter.len(), 0, "{what}: len at the end");
    for _ in 0..3 {
        assert!(iter.next().is_none(), "{what}: not fused");
    }
}

fn iterator_lengths<P: PointerKind, S: BuildHasher + Clone + Default>() {
    let max = common::scaled(300, 14) as u32;
    let step = common::scaled(1, 7);
    let mut map = HamtMap::<u32, u32, P, S>::default();
    let mut set = HamtSet::<u32, P, S>::default();
    for n in 0..max {
        if n as usize % step == 0 {
            let len = map.len();
            exact_and_fused(map.iter(), len, "iter");
            exact_and_fused(map.keys(), len, "keys");
            exact_and_fused(map.values(), len, "values");
            exact_and_fused(map.clone().into_iter(), len, "into_iter of a shared map");
            let mut unshared: HamtMap<u32, u32, P, S> = map.iter().map(|(k, v)| (*k, *v)).collect();
            exact_and_fused(unshared.iter_mut(), len, "iter_mut");
            exact_and_fused(unshared.values_mut(), len, "values_mut");
            exact_and_fused(unshared.into_iter(), len, "into_iter of an unshared map");
            exact_and_fused(set.iter(), len, "set iter");
            exact_and_fused(set.clone().into_iter(), len, "set into_iter");
            // Partly shared: half the nodes copied by updates after the clone.
            let mut partly = map.clone();
            for k in (0..n).step_by(2) {
                partly.insert_mut(k, 0);
            }
            exact_and_fused(partly.into_iter(), len, "into_iter of a partly shared map");
        }
        map.insert_mut(n, n);
        set.insert_mut(n);
    }
    // The diff iterators are fused too.
    let other = map.insert(0, 1).remove(&1);
    let mut diff = map.diff(&other);
    assert_eq!(diff.by_ref().count(), 2);
    for _ in 0..3 {
        assert!(diff.next().is_none(), "Diff is not fused");
    }
    let other_set = set.remove(&1);
    let mut set_diff = set.diff(&other_set);
    assert_eq!(set_diff.by_ref().count(), 1);
    for _ in 0..3 {
        assert!(set_diff.next().is_none(), "SetDiff is not fused");
    }
}

/// `fold` (which `Iter`, `Keys` and `Values` implement by recursion, and `for_each`, `sum` and `count` use) yields
/// what `next` would, in the same order, from every point of a partly consumed iterator.
fn fold_matches_next<P: PointerKind, S: BuildHasher + Clone + Default>() {
    let max = common::scaled(300, 14) as u32;
    let step = common::scaled(7, 5);
    let mut map = HamtMap::<u32, u32, P, S>::default();
    for n in 0..max {
        map.insert_mut(n.wrapping_mul(2_654_435_761), n);
        if n as usize % step != 0 {
            continue;
        }
        let by_next: Vec<(u32, u32)> = map.iter().map(|(k, v)| (*k, *v)).collect();
        for skip in (0..=by_next.len()).step_by(step.min(3)) {
            let mut iter = map.iter();
            iter.by_ref().take(skip).for_each(drop);
            let folded = iter.clone().fold(Vec::new(), |mut all, (k, v)| {
                all.push((*k, *v));
                all
            });
            assert_eq!(folded, by_next[skip..], "fold after {skip} of {} items", by_next.len());
            let mut keys = map.keys();
            keys.by_ref().take(skip).for_each(drop);
            let keys: Vec<u32> = keys.fold(Vec::new(), |mut all, k| {
                all.push(*k);
                all
            });
            assert!(keys.iter().eq(by_next[skip..].iter().map(|(k, _)| k)), "keys fold after {skip}");
            let mut values = map.values();
            values.by_ref().take(skip).for_each(drop);
            assert_eq!(
                values.copied().map(u64::from).sum::<u64>(),
                by_next[skip..].iter().map(|(_, v)| u64::from(*v)).sum()
            );
            // The mutable iterators, on a copy (whose nodes `iter_mut` makes its own): the same order, and the
            // values they hand out change the map.
            let mut copy = map.clone();
            let mut iter_mut = copy.iter_mut();
            iter_mut.by_ref().take(skip).for_each(drop);
            let folded = iter_mut.fold(Vec::new(), |mut all, (k, v)| {
                all.push((*k, *v));
                all
            });
            assert_eq!(folded, by_next[skip..], "iter_mut fold after {skip}");
            let mut values_mut = copy.values_mut();
            values_mut.by_ref().take(skip).for_each(|v| *v = v.wrapping_add(1));
            values_mut.for_each(|v| *v = v.wrapping_add(1));
            assert!(copy.iter().all(|(k, v)| map.get(k).map(|old| old.wrapping_add(1)) == Some(*v)));
        }
    }
}

for_each_kind!(fold_default, fold_matches_next, [DefaultHashBuilder]);
for_each_kind!(fold_collide, fold_matches_next, [Collide]);
for_each_kind!(fold_deep, fold_matches_next, [Deep]);

for_each_kind!(iterators_default, iterator_lengths, [DefaultHashBuilder]);
for_each_kind!(iterators_collide, iterator_lengths, [Collide]);
for_each_kind!(native_only iterators_one_hash, iterator_lengths, [OneHash]);
for_each_kind!(iterators_deep, iterator_lengths, [Deep]);

// ---------------------------------------------------------------------------------------------------------------
// Regressions: minimal reproductions of bugs found by the suites above.

/// A merge (union, intersection, ...) that meets an entry of one map where the other has a subtree, at the last
/// bitmap level (level 12), promotes the entry to a one-entry node at the collision level; that node was built
/// with `bit_at(hash, 65)`, which overflows the shift ("attempt to shift left with overflow" in debug builds).
fn merge_entry_with_collision_subtree<P: PointerKind>() {
    let single: HamtMap<u32, u32, P, OneHash> = [(1, 1)].into_iter().collect();
    let pair: HamtMap<u32, u32, P, OneHash> = [(1, 10), (2, 2)].into_iter().collect();
    let union = single.union(&pair);
    union.check_invariants();
    assert_eq!(sorted(&union), [(1, 1), (2, 2)]);
    let reverse = pair.union(&single);
    assert_eq!(sorted(&reverse), [(1, 10), (2, 2)]);
    assert_eq!(sorted(&single.intersection(&pair)), [(1, 1)]);
    assert_eq!(sorted(&pair.difference(&single)), [(2, 2)]);
    assert_eq!(sorted(&single.symmetric_difference(&pair)), [(2, 2)]);
    // `Extend` with a large batch merges the same way.
    let mut extended = single.clone();
    extended.extend((2..100).map(|k| (k, k)));
    extended.check_invariants();
    assert_eq!(extended.len(), 99);
}

for_each_kind!(regression_merge_collision, merge_entry_with_collision_subtree);

/// `remove_mut` that leaves one entry in a collision node shared with another version, below a path this map
/// owns, rebuilds it with `single(entry, hash, 65)`: the same shift overflow.
fn remove_mut_from_shared_collision_pair<P: PointerKind>() {
    // With the `Deep` hasher only the low ten bits of the hash vary: find keys `a` and `b` with equal hashes, and
    // `c` whose hash differs from theirs only in the last level's bits.
    // 1025 keys among 1024 hashes must collide somewhere (usually within the first few dozen).
    let hash = |k: &u32| Deep::default().hash_one(k);
    let mut seen: HashMap<u64, u32> = HashMap::new();
    let (a, b) = (0..1025u32).find_map(|k| seen.insert(hash(&k), k).map(|earlier| (earlier, k))).expect("a collision");
    let c = (0..).find(|c| hash(c) != hash(&a) && hash(c) >> 4 == hash(&a) >> 4).expect("a last-level sibling");
    let mut map: HamtMap<u32, u32, P, Deep> = [(a, 1), (b, 2), (c, 3)].into_iter().collect();
    map.check_invariants();
    let kept = map.clone();
    // Copies the path down to the last bitmap level, leaving the collision node below it shared with `kept`.
    map.insert_mut(c, 30);
    assert_eq!(map.remove_mut(&a), Some(1));
    map.check_invariants();
    let mut expected = vec![(b, 2), (c, 30)];
    expected.sort_unstable();
    assert_eq!(sorted(&map), expected);
    assert_eq!(kept.len(), 3);
}

for_each_kind!(regression_remove_mut_shared_collision, remove_mut_from_shared_collision_pair);

/// A key whose equality and hash ignore a tag, to see which of two equal keys a set keeps.
#[derive(Clone, Debug)]
struct Tagged(u32, &'static str);

impl PartialEq for Tagged {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Tagged {}

impl Hash for Tagged {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

/// std's contracts for the stored element: `insert_mut` keeps it, `replace` swaps it (returning the old one), and
/// `take` hands back the stored one, not the probe.
#[test]
fn set_replace_and_take_swap_the_stored_element() {
    let mut set: HamtSet<Tagged> = HamtSet::new();
    let mut model = std::collections::HashSet::new();
    for n in 0..100 {
        set.insert_mut(Tagged(n, "first"));
        model.insert(Tagged(n, "first"));
    }
    let old = set.clone();
    assert!(!set.insert_mut(Tagged(7, "second")));
    assert_eq!(set.get(&Tagged(7, "")).map(|t| t.1), Some("first"));
    let replaced = set.replace(Tagged(7, "second"));
    assert_eq!(replaced.map(|t| t.1), model.replace(Tagged(7, "second")).map(|t| t.1));
    assert_eq!(set.get(&Tagged(7, "")).map(|t| t.1), Some("second"));
    assert_eq!(old.get(&Tagged(7, "")).map(|t| t.1), Some("first"), "the old version is unchanged");
    assert_eq!(set.take(&Tagged(7, "probe")).map(|t| t.1), Some("second"));
    assert_eq!(set.replace(Tagged(7, "third")).map(|t| t.1), None);
    assert_eq!(set.len(), 100);
    set.check_invariants();
}

/// `HamtMap::from` and `HamtSet::from` infer the default kind, like std's `HashMap::from`, and so do the macros;
/// other kinds still convert through the trait.
#[test]
fn from_and_macros_need_no_annotation() {
    let map = HamtMap::from([(1, "one"), (2, "two")]);
    let _: &HamtMap<i32, &str, RcK> = &map;
    assert_eq!(HamtMap::from(vec![(2, "two"), (1, "one")]), map);
    assert_eq!(hamt_core::hamt_map! { 1 => "one", 2 => "two", }, map);
    let set = HamtSet::from(["a", "b"]);
    assert_eq!(hamt_core::hamt_set!["b", "a", "b"], set);
    let atomic: HamtMap<i32, &str, hamt_core::ArcTK> = [(1, "one")].into();
    assert_eq!(atomic[&1], "one");
}

#[test]
fn bulk_builds_keep_the_first_key_and_the_last_value_as_inserts_do() {
    // Sizes on both sides of the sorted and counted partitions and of dealing into root slots (from 64 entries in
    // test builds); the hashers put equal-hash groups (where duplicates are found) at every depth.
    let sizes: &[u32] = if cfg!(miri) { &[3, 20, 70] } else { &[3, 20, 300, 5_000] };
    for &n in sizes {
        let entries: Vec<(Tagged, u32)> = (0..n)
            .map(|key| (Tagged(key, "first"), 0))
            .chain((0..n).step_by(3).map(|key| (Tagged(key, "second"), 1)))
            .chain((0..n).step_by(6).map(|key| (Tagged(key, "third"), 2)))
            .collect();
        let mut model: HashMap<Tagged, u32> = HashMap::new();
        for (key, value) in entries.clone() {
            model.insert(key, value);
        }
        let check = |entries: Vec<(&Tagged, &u32)>| {
            assert_eq!(entries.len(), model.len());
            for (key, value) in entries {
                let (model_key, model_value) = model.get_key_value(key).expect("a key of the model");
                assert_eq!((key.1, value), (model_key.1, model_value), "key {}", key.0);
                assert_eq!(key.1, "first");
            }
        };
        let built: HamtMap<Tagged, u32> = entries.iter().cloned().collect();
        check(built.iter().collect());
        let colliding: HamtMap<Tagged, u32, RcK, OneHash> = entries.iter().cloned().collect();
        check(colliding.iter().collect());
        let few: HamtMap<Tagged, u32, RcK, FewBits> = entries.iter().cloned().collect();
        check(few.iter().collect());
    }
}
