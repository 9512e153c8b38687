//! Property tests of the whole-map and whole-set operations (union, intersection, difference,
//! symmetric difference, submap/subset, equality, `Hash`, `diff`) against std `HashMap` / `HashSet` models.
//!
//! The pairs of maps compared are derived from one another (so they share structure), siblings derived from a
//! common base, the same version twice, or built independently (in bulk or entry by entry). With std's
//! `RandomState` every independently built map gets its own seed, which exercises the lookup fallback; maps
//! derived from one another share their hasher and are walked side by side. Every result is checked with the
//! invariant checker, and the inputs are checked unchanged afterwards.

mod common;

use std::collections::hash_map::{DefaultHasher, RandomState};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};

use common::{Collide, Deep, FewBits, TestKey, TopBits};
use hamt_core::{DefaultHashBuilder, DiffItem, HamtMap, HamtSet, PointerKind, SetDiffItem};
use quickcheck::{Arbitrary, Gen};

/// One edit applied to a map to derive another from it.
#[derive(Clone, Debug)]
enum Edit {
    Insert(u16, u8),
    Remove(u16),
    InsertMut(u16, u8),
    RemoveMut(u16),
    Extend(Vec<(u16, u8)>),
}

impl Arbitrary for Edit {
    fn arbitrary(g: &mut Gen) -> Self {
        match u8::arbitrary(g) % 9 {
            0..=2 => Edit::Insert(u16::arbitrary(g), u8::arbitrary(g)),
            3..=4 => Edit::Remove(u16::arbitrary(g)),
            5 => Edit::InsertMut(u16::arbitrary(g), u8::arbitrary(g)),
            6..=7 => Edit::RemoveMut(u16::arbitrary(g)),
            _ => Edit::Extend(Arbitrary::arbitrary(g)),
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        match self {
            Edit::Extend(entries) => Box::new(entries.shrink().map(Edit::Extend)),
            _ => quickcheck::empty_shrinker(),
        }
    }
}

/// How the second map of a pair relates to the first.
#[derive(Clone, Debug)]
enum Relation {
    /// The same version (`clone`).
    Same,
    /// The first map with some edits.
    Derived(Vec<Edit>),
    /// Both maps are edits of a common base.
    Siblings(Vec<Edit>, Vec<Edit>),
    /// Built separately from these entries (in bulk or one by one).
    Independent { entries: Vec<(u16, u8)>, bulk: bool },
}

impl Arbitrary for Relation {
    fn arbitrary(g: &mut Gen) -> Self {
        match u8::arbitrary(g) % 8 {
            0 => Relation::Same,
            1..=3 => Relation::Derived(Arbitrary::arbitrary(g)),
            4..=5 => Relation::Siblings(Arbitrary::arbitrary(g), Arbitrary::arbitrary(g)),
            _ => Relation::Independent { entries: Arbitrary::arbitrary(g), bulk: bool::arbitrary(g) },
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        match self {
            Relation::Same => quickcheck::empty_shrinker(),
            Relation::Derived(edits) => {
                Box::new(std::iter::once(Relation::Same).chain(edits.shrink().map(Relation::Derived)))
            }
            Relation::Siblings(left, right) => {
                let (left, right) = (left.clone(), right.clone());
                Box::new(
                    std::iter::once(Relation::Derived(right.clone()))
                        .chain(left.shrink().map({
                            let right = right.clone();
                            move |left| Relation::Siblings(left, right.clone())
                        }))
                        .chain(right.shrink().map(move |right| Relation::Siblings(left.clone(), right))),
                )
            }
            Relation::Independent { entries, bulk } => {
                let bulk = *bulk;
                Box::new(entries.shrink().map(move |entries| Relation::Independent { entries, bulk }))
            }
        }
    }
}

/// A pair of maps to compare: the first built from `base` (in bulk or one by one), the second by `relation`.
#[derive(Clone, Debug)]
struct Pair {
    base: Vec<(u16, u8)>,
    bulk: bool,
    relation: Relation,
}

impl Arbitrary for Pair {
    fn arbitrary(g: &mut Gen) -> Self {
        Pair { base: Arbitrary::arbitrary(g), bulk: bool::arbitrary(g), relation: Relation::arbitrary(g) }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        let (bulk, relation) = (self.bulk, self.relation.clone());
        let base = self.base.clone();
        Box::new(
            self.base
                .shrink()
                .map(move |base| Pair { base, bulk, relation: relation.clone() })
                .chain(self.relation.shrink().map(move |relation| Pair { base: base.clone(), bulk, relation })),
        )
    }
}

type Model<K> = HashMap<K, u32>;
type Map<K, P, S> = HamtMap<K, u32, P, S>;
/// A map with the model of its contents.
type Modelled<K, P, S> = (Map<K, P, S>, Model<K>);

fn std_hash<T: Hash>(value: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Values are small so that equal values (and so `Changed` versus unchanged) are common.
fn small(value: u8) -> u32 {
    u32::from(value % 4)
}

fn build<K: TestKey, P: PointerKind, S: BuildHasher + Clone + Default, const KEYS: u16>(
    entries: &[(u16, u8)],
    bulk: bool,
) -> (Map<K, P, S>, Model<K>) {
    let keys = common::key_space(KEYS);
    let entries = entries.iter().map(move |(k, v)| (K::from_num(k % keys), small(*v)));
    let model: Model<K> = entries.clone().collect();
    let mut map = Map::<K, P, S>::with_hasher(S::default());
    if bulk {
        map.extend(entries);
    } else {
        for (key, value) in entries {
            map.insert_mut(key, value);
        }
    }
    (map, model)
}

fn derive<K: TestKey, P: PointerKind, S: BuildHasher + Clone, const KEYS: u16>(
    map: &Map<K, P, S>,
    model: &Model<K>,
    edits: &[Edit],
) -> (Map<K, P, S>, Model<K>) {
    let keys = common::key_space(KEYS);
    let key = |n: &u16| K::from_num(n % keys);
    let (mut map, mut model) = (map.clone(), model.clone());
    for edit in edits {
        match edit {
            Edit::Insert(k, v) => {
                map = map.insert(key(k), small(*v));
                model.insert(key(k), small(*v));
            }
            Edit::Remove(k) => {
                map = map.remove(&key(k));
                model.remove(&key(k));
            }
            Edit::InsertMut(k, v) => {
                map.insert_mut(key(k), small(*v));
                model.insert(key(k), small(*v));
            }
            Edit::RemoveMut(k) => {
                map.remove_mut(&key(k));
                model.remove(&key(k));
            }
            Edit::Extend(entries) => {
                map.extend(entries.iter().map(|(k, v)| (key(k), small(*v))));
                model.extend(entries.iter().map(|(k, v)| (key(k), small(*v))));
            }
        }
    }
    (map, model)
}

fn make_pair<K: TestKey, P: PointerKind, S: BuildHasher + Clone + Default, const KEYS: u16>(
    pair: &Pair,
) -> (Modelled<K, P, S>, Modelled<K, P, S>) {
    let first = build::<K, P, S, KEYS>(&pair.base, pair.bulk);
    match &pair.relation {
        Relation::Same => {
            let second = first.clone();
            assert!(first.0.ptr_eq(&second.0));
            (first, second)
        }
        Relation::Derived(edits) => {
            let second = derive::<K, P, S, KEYS>(&first.0, &first.1, edits);
            (first, second)
        }
        Relation::Siblings(left, right) => {
            let left = derive::<K, P, S, KEYS>(&first.0, &first.1, left);
            let right = derive::<K, P, S, KEYS>(&first.0, &first.1, right);
            (left, right)
        }
        Relation::Independent { entries, bulk } => (first, build::<K, P, S, KEYS>(entries, *bulk)),
    }
}

/// Checks that `map` is valid and holds exactly `model`.
fn assert_map<K: TestKey, P: PointerKind, S: BuildHasher>(map: &Map<K, P, S>, model: &Model<K>, what: &str) {
    map.check_invariants();
    assert_eq!(map.len(), model.len(), "{what}: len");
    let mut entries: Vec<(K, u32)> = map.iter().map(|(k, v)| (k.clone(), *v)).collect();
    entries.sort();
    let mut expected: Vec<(K, u32)> = model.iter().map(|(k, v)| (k.clone(), *v)).collect();
    expected.sort();
    assert_eq!(entries, expected, "{what}: contents");
    // Under Miri the iteration contents above suffice; natively, every key is looked up too.
    if !common::reduced() {
        for (key, value) in model {
            assert_eq!(map.get(key), Some(value), "{what}: get({key:?})");
        }
    }
}

/// Applies `a.diff(b)` to a copy of `a`'s model and checks that it yields `b`'s, with every key at most once and
/// `Changed` only for values that differ.
fn check_diff<K: TestKey, P: PointerKind, S: BuildHasher>(
    a: &Map<K, P, S>,
    ma: &Model<K>,
    b: &Map<K, P, S>,
    mb: &Model<K>,
) {
    let mut applied = ma.clone();
    let mut seen = HashSet::new();
    let mut count = 0;
    for item in a.diff(b) {
        count += 1;
        assert!(seen.insert(item.key().clone()), "diff yields {:?} twice", item.key());
        match item {
            DiffItem::Added(key, value) => {
                assert!(!ma.contains_key(key), "Added({key:?}) but the first map has it");
                assert_eq!(mb.get(key), Some(value), "Added({key:?}) with the wrong value");
                applied.insert(key.clone(), *value);
            }
            DiffItem::Removed(key, value) => {
                assert_eq!(ma.get(key), Some(value), "Removed({key:?}) with the wrong value");
                assert!(!mb.contains_key(key), "Removed({key:?}) but the second map has it");
                applied.remove(key);
            }
            DiffItem::Changed { key, old, new } => {
                assert_ne!(old, new, "Changed({key:?}) with equal values");
                assert_eq!(ma.get(key), Some(old), "Changed({key:?}) with the wrong old value");
                assert_eq!(mb.get(key), Some(new), "Changed({key:?}) with the wrong new value");
                applied.insert(key.clone(), *new);
            }
        }
    }
    assert_eq!(&applied, mb, "applying the diff must turn the first model into the second");
    let expected_count =
        ma.iter().filter(|(k, v)| mb.get(*k) != Some(*v)).count() + mb.keys().filter(|k| !ma.contains_key(*k)).count();
    assert_eq!(count, expected_count, "diff length");
}

fn merged_model<K: TestKey>(
    ma: &Model<K>,
    mb: &Model<K>,
    left_only: bool,
    right_only: bool,
    mut both: impl FnMut(&K, u32, u32) -> Option<u32>,
) -> Model<K> {
    let mut result = Model::new();
    for (key, value) in ma {
        match mb.get(key) {
            Some(other) => {
                if let Some(merged) = both(key, *value, *other) {
                    result.insert(key.clone(), merged);
                }
            }
            None if left_only => {
                result.insert(key.clone(), *value);
            }
            None => {}
        }
    }
    if right_only {
        result.extend(mb.iter().filter(|(k, _)| !ma.contains_key(*k)).map(|(k, v)| (k.clone(), *v)));
    }
    result
}

/// A merge function whose result depends on the order of its arguments and on the key.
fn combine<K: TestKey>(key: &K, left: u32, right: u32) -> u32 {
    left.wrapping_mul(31) ^ right.wrapping_add(7) ^ u32::from(key.num())
}

fn check_map_pair<K: TestKey, P: PointerKind, S: BuildHasher + Clone + Default, const KEYS: u16>(pair: Pair) -> bool {
    let ((a, ma), (b, mb)) = make_pair::<K, P, S, KEYS>(&pair);
    assert_map(&a, &ma, "first");
    assert_map(&b, &mb, "second");
    let both_count = ma.keys().filter(|k| mb.contains_key(*k)).count();

    // Under Miri, the mirrored and repeated checks (which run no new unsafe paths) are left out.
    let full = !common::reduced();
    let union = a.union(&b);
    assert_map(&union, &merged_model(&ma, &mb, true, true, |_, l, _| Some(l)), "union");
    if full {
        assert_map(&(&a | &b), &merged_model(&ma, &mb, true, true, |_, l, _| Some(l)), "a | b");
        assert_map(&b.union(&a), &merged_model(&mb, &ma, true, true, |_, l, _| Some(l)), "reverse union");
    }

    let mut calls = 0;
    let union_with = a.union_with(&b, |k, l, r| {
        calls += 1;
        combine(k, *l, *r)
    });
    assert_map(&union_with, &merged_model(&ma, &mb, true, true, |k, l, r| Some(combine(k, l, r))), "union_with");
    assert_eq!(calls, both_count, "union_with must call f once per key in both maps");

    let intersection = a.intersection(&b);
    assert_map(&intersection, &merged_model(&ma, &mb, false, false, |_, l, _| Some(l)), "intersection");

    let mut calls = 0;
    let intersection_with = a.intersection_with(&b, |k, l, r| {
        calls += 1;
        combine(k, *l, *r)
    });
    let expected = merged_model(&ma, &mb, false, false, |k, l, r| Some(combine(k, l, r)));
    assert_map(&intersection_with, &expected, "intersection_with");
    assert_eq!(calls, both_count, "intersection_with must call f once per key in both maps");

    assert_map(&a.difference(&b), &merged_model(&ma, &mb, true, false, |_, _, _| None), "difference");
    if full {
        assert_map(&b.difference(&a), &merged_model(&mb, &ma, true, false, |_, _, _| None), "reverse difference");
    }
    let symmetric = a.symmetric_difference(&b);
    assert_map(&symmetric, &merged_model(&ma, &mb, true, true, |_, _, _| None), "symmetric_difference");

    let submap = |x: &Model<K>, y: &Model<K>| x.iter().all(|(k, v)| y.get(k) == Some(v));
    assert_eq!(a.is_submap(&b), submap(&ma, &mb), "a.is_submap(b)");
    assert_eq!(b.is_submap(&a), submap(&mb, &ma), "b.is_submap(a)");
    assert!(intersection.is_submap(&a), "a ∩ b ⊆ a");
    assert!(a.is_submap(&union), "a ⊆ a ∪ b");

    assert_eq!(a == b, ma == mb, "a == b");
    assert_eq!(b == a, ma == mb, "b == a");
    if ma == mb {
        assert_eq!(std_hash(&a), std_hash(&b), "equal maps must hash equal");
    }
    let rebuilt: Map<K, P, S> = ma.iter().map(|(k, v)| (k.clone(), *v)).collect();
    assert_eq!(std_hash(&rebuilt), std_hash(&a), "the hash must not depend on history or hasher seed");

    check_diff(&a, &ma, &b, &mb);
    if full {
        check_diff(&b, &mb, &a, &ma);
        check_diff(&a, &ma, &a, &ma);
        check_diff(&a, &ma, &union, &merged_model(&ma, &mb, true, true, |_, l, _| Some(l)));
    }

    // Nothing above may have changed the inputs.
    assert_map(&a, &ma, "first afterwards");
    assert_map(&b, &mb, "second afterwards");
    true
}

fn map_ops<P: PointerKind, K: TestKey, S: BuildHasher + Clone + Default, const KEYS: u16>() {
    common::check(200, 60, check_map_pair::<K, P, S, KEYS> as fn(Pair) -> bool);
}

for_each_kind!(map_default, map_ops, [u16, DefaultHashBuilder, 512]);
for_each_kind!(map_collide, map_ops, [u16, Collide, 64]);
for_each_kind!(native_only map_deep, map_ops, [u16, Deep, 64]);
for_each_kind!(native_only map_few_bits, map_ops, [u16, FewBits, 64]);
for_each_kind!(native_only map_top_bits, map_ops, [u16, TopBits, 64]);
for_each_kind!(native_only map_random_state, map_ops, [u16, RandomState, 512]);
for_each_kind!(native_only map_string_collide, map_ops, [String, Collide, 64]);

type Set<T, P, S> = HamtSet<T, P, S>;

fn to_set<T: TestKey, P: PointerKind, S: BuildHasher + Clone + Default>(
    map: &Map<T, P, S>,
    bulk: bool,
) -> (Set<T, P, S>, HashSet<T>) {
    let model: HashSet<T> = map.keys().cloned().collect();
    let mut set = Set::<T, P, S>::with_hasher(S::default());
    if bulk {
        set.extend(map.keys());
    } else {
        for value in map.keys() {
            set.insert_mut(value.clone());
        }
    }
    (set, model)
}

fn set_edit<T: TestKey, P: PointerKind, S: BuildHasher + Clone, const KEYS: u16>(
    set: &Set<T, P, S>,
    model: &HashSet<T>,
    edits: &[Edit],
) -> (Set<T, P, S>, HashSet<T>) {
    let keys = common::key_space(KEYS);
    let value = |n: &u16| T::from_num(n % keys);
    let (mut set, mut model) = (set.clone(), model.clone());
    for edit in edits {
        match edit {
            Edit::Insert(k, _) => {
                set = set.insert(value(k));
                model.insert(value(k));
            }
            Edit::Remove(k) => {
                set = set.remove(&value(k));
                model.remove(&value(k));
            }
            Edit::InsertMut(k, _) => assert_eq!(set.insert_mut(value(k)), model.insert(value(k))),
            Edit::RemoveMut(k) => assert_eq!(set.remove_mut(&value(k)), model.remove(&value(k))),
            Edit::Extend(entries) => {
                set.extend(entries.iter().map(|(k, _)| value(k)));
                model.extend(entries.iter().map(|(k, _)| value(k)));
            }
        }
    }
    (set, model)
}

fn assert_set<T: TestKey, P: PointerKind, S: BuildHasher>(set: &Set<T, P, S>, model: &HashSet<T>, what: &str) {
    set.check_invariants();
    assert_eq!(set.len(), model.len(), "{what}: len");
    let mut values: Vec<T> = set.iter().cloned().collect();
    values.sort();
    let mut expected: Vec<T> = model.iter().cloned().collect();
    expected.sort();
    assert_eq!(values, expected, "{what}: contents");
    if !common::reduced() {
        for value in model {
            assert!(set.contains(value), "{what}: contains({value:?})");
        }
    }
}

fn check_set_pair<T: TestKey, P: PointerKind, S: BuildHasher + Clone + Default, const KEYS: u16>(pair: Pair) -> bool {
    let first_map = build::<T, P, S, KEYS>(&pair.base, true).0;
    let (a, ma) = to_set(&first_map, pair.bulk);
    let ((a, ma), (b, mb)) = match &pair.relation {
        Relation::Same => ((a.clone(), ma.clone()), (a, ma)),
        Relation::Derived(edits) => {
            let second = set_edit::<T, P, S, KEYS>(&a, &ma, edits);
            ((a, ma), second)
        }
        Relation::Siblings(left, right) => {
            (set_edit::<T, P, S, KEYS>(&a, &ma, left), set_edit::<T, P, S, KEYS>(&a, &ma, right))
        }
        Relation::Independent { entries, bulk } => {
            let second_map = build::<T, P, S, KEYS>(entries, true).0;
            ((a, ma), to_set(&second_map, *bulk))
        }
    };
    assert_set(&a, &ma, "first");
    assert_set(&b, &mb, "second");
    let model = |values: HashSet<&T>| -> HashSet<T> { values.into_iter().cloned().collect() };

    let union = model(ma.union(&mb).collect());
    assert_set(&a.union(&b), &union, "union");
    assert_set(&(&a | &b), &union, "a | b");
    let intersection = model(ma.intersection(&mb).collect());
    assert_set(&a.intersection(&b), &intersection, "intersection");
    assert_set(&(&a & &b), &intersection, "a & b");
    let difference = model(ma.difference(&mb).collect());
    assert_set(&a.difference(&b), &difference, "difference");
    assert_set(&(&a - &b), &difference, "a - b");
    assert_set(&b.difference(&a), &model(mb.difference(&ma).collect()), "reverse difference");
    let symmetric = model(ma.symmetric_difference(&mb).collect());
    assert_set(&a.symmetric_difference(&b), &symmetric, "symmetric_difference");
    assert_set(&(&a ^ &b), &symmetric, "a ^ b");

    assert_eq!(a.is_subset(&b), ma.is_subset(&mb), "is_subset");
    assert_eq!(b.is_subset(&a), mb.is_subset(&ma), "reverse is_subset");
    assert_eq!(a.is_superset(&b), ma.is_superset(&mb), "is_superset");
    assert_eq!(a == b, ma == mb, "a == b");
    if ma == mb {
        assert_eq!(std_hash(&a), std_hash(&b), "equal sets must hash equal");
    }
    let rebuilt: Set<T, P, S> = ma.iter().cloned().collect();
    assert_eq!(std_hash(&rebuilt), std_hash(&a), "the hash must not depend on history or hasher seed");

    for (x, mx, y, my) in [(&a, &ma, &b, &mb), (&b, &mb, &a, &ma)] {
        let mut applied = mx.clone();
        let mut seen = HashSet::new();
        for item in x.diff(y) {
            match item {
                SetDiffItem::Added(value) => {
                    assert!(seen.insert(value.clone()), "diff yields {value:?} twice");
                    assert!(!mx.contains(value) && my.contains(value), "wrong Added({value:?})");
                    applied.insert(value.clone());
                }
                SetDiffItem::Removed(value) => {
                    assert!(seen.insert(value.clone()), "diff yields {value:?} twice");
                    assert!(mx.contains(value) && !my.contains(value), "wrong Removed({value:?})");
                    applied.remove(value);
                }
            }
        }
        assert_eq!(&applied, my, "applying the set diff must turn the first model into the second");
    }

    assert_set(&a, &ma, "first afterwards");
    assert_set(&b, &mb, "second afterwards");
    true
}

fn set_ops<P: PointerKind, T: TestKey, S: BuildHasher + Clone + Default, const KEYS: u16>() {
    common::check(150, 60, check_set_pair::<T, P, S, KEYS> as fn(Pair) -> bool);
}

for_each_kind!(set_default, set_ops, [u16, DefaultHashBuilder, 512]);
for_each_kind!(native_only set_collide, set_ops, [u16, Collide, 64]);
for_each_kind!(native_only set_few_bits, set_ops, [u16, FewBits, 64]);
for_each_kind!(native_only set_deep, set_ops, [u16, Deep, 64]);
for_each_kind!(native_only set_random_state, set_ops, [u16, RandomState, 512]);
