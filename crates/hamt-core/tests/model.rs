//! Model-based property tests: random sequences of persistent and in-place operations applied to a `HamtMap` (or
//! `HamtSet`) and to a std `HashMap` (or `HashSet`), compared after every step, with the trie invariants checked
//! after every mutation and every older version kept alive and checked unchanged at the end.
//!
//! Each suite runs for `RcK`, `ArcK` and `ArcTK`, with the default hasher and with hashers that force collisions
//! and depth. On failure quickcheck shrinks the operation sequence and prints it: that is the reproduction.

mod common;

use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::hash::{BuildHasher, Hash, Hasher};
use std::mem;

use common::{Collide, Deep, FewBits, TestKey, TopBits};
use hamt_core::{DefaultHashBuilder, Entry, HamtMap, HamtSet, PointerKind};
use quickcheck::{Arbitrary, Gen};

/// How `update_with` decides the new value from the old one.
#[derive(Clone, Debug)]
enum Decide {
    Remove,
    Set(u32),
    Add(u32),
    Keep,
}

impl Decide {
    fn apply(&self, old: Option<&u32>) -> Option<u32> {
        match *self {
            Decide::Remove => None,
            Decide::Set(value) => Some(value),
            Decide::Add(delta) => Some(old.map_or(delta, |old| old.wrapping_add(delta))),
            Decide::Keep => old.copied(),
        }
    }
}

impl Arbitrary for Decide {
    fn arbitrary(g: &mut Gen) -> Self {
        match u8::arbitrary(g) % 4 {
            0 => Decide::Remove,
            1 => Decide::Set(value(g)),
            2 => Decide::Add(value(g)),
            _ => Decide::Keep,
        }
    }
}

/// One map operation. Keys are numbers taken modulo the suite's key space.
#[derive(Clone, Debug)]
enum Op {
    Insert(u16, u32),
    Remove(u16),
    UpdateWith(u16, Decide),
    With(u16, u32),
    Without(u16),
    InsertMut(u16, u32),
    RemoveMut(u16),
    RemoveEntry(u16),
    /// `map.entry(k).insert_entry(v)`, then the occupied entry's value is changed through it.
    InsertEntry(u16, u32),
    Extract(u16),
    /// `into_keys` (of the map itself, or of a clone sharing its nodes), then the map is rebuilt from the model.
    IntoKeys {
        shared: bool,
    },
    IntoValues {
        shared: bool,
    },
    /// `HamtMap::unions` of this map, a map of the given entries and a one-key variant of this map.
    Unions(Vec<(u16, u32)>, u16),
    /// `is_proper_submap` between this map, a variant without the key and a variant with it.
    ProperSubmap(u16, u32),
    UpdateWithMut(u16, Decide),
    GetMut(u16, u32),
    EntryOrInsert(u16, u32),
    EntryOrInsertWithKey(u16),
    EntryOrDefault(u16),
    EntryAndModify(u16, u32),
    EntryInsert(u16, u32),
    EntryRemove(u16),
    EntryRemoveEntry(u16),
    EntryIntoMut(u16, u32),
    Retain(u8),
    IterMut(u32),
    ValuesMut(u32),
    Extend(Vec<(u16, u32)>),
    ExtendRefs(Vec<(u16, u32)>),
    /// A batch large enough for the bulk path of `Extend`; with `exact_size == false` its size hint is zero, so
    /// the entries are inserted one by one.
    ExtendLarge {
        entries: Vec<(u16, u32)>,
        exact_size: bool,
    },
    /// Keeps a clone of the current version.
    Snapshot,
    Clear,
    /// `map = map.into_iter().collect()`.
    IntoIterCollect,
    /// Rebuilds the map from the model with `FromIterator`, checks it equals the current one, and uses it.
    Rebuild,
}

fn value(g: &mut Gen) -> u32 {
    u32::arbitrary(g) % 1000
}

fn batch(g: &mut Gen, len: usize) -> Vec<(u16, u32)> {
    (0..len).map(|_| (u16::arbitrary(g), value(g))).collect()
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Self {
        let k = u16::arbitrary(g);
        match u8::arbitrary(g) % 72 {
            0..=5 => Op::Insert(k, value(g)),
            6..=9 => Op::Remove(k),
            10..=12 => Op::UpdateWith(k, Decide::arbitrary(g)),
            13..=15 => Op::With(k, value(g)),
            16..=17 => Op::Without(k),
            18..=23 => Op::InsertMut(k, value(g)),
            24..=27 => Op::RemoveMut(k),
            28 => Op::RemoveEntry(k),
            29..=31 => Op::UpdateWithMut(k, Decide::arbitrary(g)),
            32..=33 => Op::GetMut(k, value(g)),
            34 => Op::EntryOrInsert(k, value(g)),
            35 => Op::EntryOrInsertWithKey(k),
            36 => Op::EntryOrDefault(k),
            37 => Op::EntryAndModify(k, value(g)),
            38..=39 => Op::EntryInsert(k, value(g)),
            40..=41 => Op::EntryRemove(k),
            42 => Op::EntryRemoveEntry(k),
            43 => Op::EntryIntoMut(k, value(g)),
            44 => Op::Retain(u8::arbitrary(g)),
            45 => Op::IterMut(value(g)),
            46 => Op::ValuesMut(value(g)),
            47..=48 => {
                let len = usize::arbitrary(g) % 10;
                Op::Extend(batch(g, len))
            }
            49 => {
                let len = usize::arbitrary(g) % 10;
                Op::ExtendRefs(batch(g, len))
            }
            50 => {
                // At least 64 entries, for the bulk path; few more under Miri.
                let len = 64 + usize::arbitrary(g) % if common::reduced() { 8 } else { 100 };
                Op::ExtendLarge { entries: batch(g, len), exact_size: bool::arbitrary(g) }
            }
            51..=57 => Op::Snapshot,
            58 => Op::Clear,
            59..=60 => Op::IntoIterCollect,
            61..=63 => Op::Rebuild,
            64 => Op::InsertEntry(k, value(g)),
            65 => Op::Extract(k),
            66 => Op::IntoKeys { shared: bool::arbitrary(g) },
            67 => Op::IntoValues { shared: bool::arbitrary(g) },
            68 => {
                let len = usize::arbitrary(g) % 10;
                Op::Unions(batch(g, len), u16::arbitrary(g))
            }
            _ => Op::ProperSubmap(k, value(g)),
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        match self {
            Op::Extend(entries) => Box::new(entries.shrink().map(Op::Extend)),
            Op::ExtendRefs(entries) => Box::new(entries.shrink().map(Op::ExtendRefs)),
            Op::ExtendLarge { entries, exact_size } => {
                // Fewer entries than 64 would leave the bulk path, so only offer the small-batch variant.
                let small = Op::Extend(entries.iter().take(8).cloned().collect());
                let exact_size = *exact_size;
                let halves = entries
                    .len()
                    .checked_sub(64)
                    .filter(|extra| *extra > 0)
                    .map(|extra| Op::ExtendLarge { entries: entries[..64 + extra / 2].to_vec(), exact_size });
                Box::new(std::iter::once(small).chain(halves))
            }
            _ => quickcheck::empty_shrinker(),
        }
    }
}

type Model<K> = HashMap<K, u32>;
/// Older versions of a map, each with the model of its contents.
type Versions<K, P, S> = Vec<(HamtMap<K, u32, P, S>, Model<K>)>;

fn std_hash<T: Hash>(value: &T) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// How much of a map [`check_map`] looks up key by key (the iteration contents are always compared in full).
#[derive(Clone, Copy)]
enum Lookups {
    /// After a step: `get_key_value` for every key (`get` and `contains_key` share its implementation); under
    /// Miri, only four keys that vary with the step number.
    Step(usize),
    /// At the end: `get_key_value`, `get` and `contains_key` for every key.
    All,
}

/// Checks `map` against `model`: invariants, length, lookups, and the iteration contents.
fn check_map<K, P, S>(map: &HamtMap<K, u32, P, S>, model: &Model<K>, keys: u16, lookups: Lookups)
where
    K: TestKey,
    P: PointerKind,
    S: BuildHasher,
{
    map.check_invariants();
    assert_eq!(map.len(), model.len(), "len");
    assert_eq!(map.is_empty(), model.is_empty(), "is_empty");
    let sample: Vec<u16> = match lookups {
        Lookups::Step(step) if common::reduced() => {
            (0..4).map(|i| ((step * 13 + i * 17) % keys as usize) as u16).collect()
        }
        _ if keys <= 64 => (0..keys).collect(),
        _ => model.keys().map(TestKey::num).collect(),
    };
    for n in sample {
        let key = K::from_num(n);
        assert_eq!(map.get_key_value(&key), model.get_key_value(&key), "get_key_value({key:?})");
        if let Lookups::All = lookups {
            assert_eq!(map.get(&key), model.get(&key), "get({key:?})");
            assert_eq!(map.contains_key(&key), model.contains_key(&key), "contains_key({key:?})");
        }
    }
    let (iter, keys_iter, values_iter) = (map.iter(), map.keys(), map.values());
    assert_eq!((iter.len(), keys_iter.len(), values_iter.len()), (model.len(), model.len(), model.len()));
    let mut entries: Vec<(K, u32)> = iter.map(|(key, value)| (key.clone(), *value)).collect();
    entries.sort();
    let mut expected: Vec<(K, u32)> = model.iter().map(|(key, value)| (key.clone(), *value)).collect();
    expected.sort();
    assert_eq!(entries, expected, "iteration contents");
    if common::reduced() {
        // `keys` and `values` wrap `iter`; under Miri, checking them once per step is enough.
        return;
    }
    let mut keys_seen: Vec<K> = keys_iter.cloned().collect();
    keys_seen.sort();
    assert_eq!(keys_seen, expected.iter().map(|(key, _)| key.clone()).collect::<Vec<_>>(), "keys()");
    let mut values_seen: Vec<u32> = values_iter.copied().collect();
    values_seen.sort();
    let mut values_expected: Vec<u32> = model.values().copied().collect();
    values_expected.sort();
    assert_eq!(values_seen, values_expected, "values()");
}

/// The rule `Op::Retain` applies to both the map and the model: changes every value and keeps some entries.
fn retain_rule<K: TestKey>(modulus: u8) -> impl FnMut(&K, &mut u32) -> bool {
    let modulus = u32::from(modulus % 4) + 2;
    move |key, value| {
        *value = value.wrapping_add(1);
        (u32::from(key.num()) + *value) % modulus != 0
    }
}

/// Runs `ops` on a map and on a model; `KEYS` is the key space.
fn run_map<K, P, S, const KEYS: u16>(ops: &[Op])
where
    K: TestKey,
    P: PointerKind,
    S: BuildHasher + Clone + Default,
{
    let keys = common::key_space(KEYS);
    let key = |n: u16| K::from_num(n % keys);
    let mut map: HamtMap<K, u32, P, S> = HamtMap::default();
    let mut model: Model<K> = HashMap::new();
    let mut versions: Versions<K, P, S> = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Insert(k, v) => {
                let next = map.insert(key(*k), *v);
                versions.push((mem::replace(&mut map, next), model.clone()));
                model.insert(key(*k), *v);
            }
            Op::Remove(k) => {
                let next = map.remove(&key(*k));
                if !model.contains_key(&key(*k)) {
                    assert!(next.ptr_eq(&map), "removing an absent key must share everything");
                }
                versions.push((mem::replace(&mut map, next), model.clone()));
                model.remove(&key(*k));
            }
            Op::UpdateWith(k, decide) => {
                let mut seen = None;
                let next = map.update_with(key(*k), |old| {
                    seen = Some(old.copied());
                    decide.apply(old)
                });
                assert_eq!(seen, Some(model.get(&key(*k)).copied()), "update_with must call f once with the old value");
                versions.push((mem::replace(&mut map, next), model.clone()));
                match decide.apply(model.get(&key(*k))) {
                    Some(v) => model.insert(key(*k), v),
                    None => model.remove(&key(*k)),
                };
            }
            Op::With(k, v) => {
                map = mem::take(&mut map).with(key(*k), *v);
                model.insert(key(*k), *v);
            }
            Op::Without(k) => {
                map = mem::take(&mut map).without(&key(*k));
                model.remove(&key(*k));
            }
            Op::InsertMut(k, v) => {
                assert_eq!(map.insert_mut(key(*k), *v), model.insert(key(*k), *v), "insert_mut's old value");
            }
            Op::RemoveMut(k) => {
                assert_eq!(map.remove_mut(&key(*k)), model.remove(&key(*k)), "remove_mut's value");
            }
            Op::RemoveEntry(k) => {
                assert_eq!(map.remove_entry(&key(*k)), model.remove_entry(&key(*k)), "remove_entry");
            }
            Op::InsertEntry(k, v) => {
                let mut entry = map.entry(key(*k)).insert_entry(*v);
                let expected = model.entry(key(*k)).insert_entry(*v);
                assert_eq!((entry.key(), entry.get()), (expected.key(), expected.get()), "insert_entry");
                *entry.get_mut() ^= 3;
                *model.get_mut(&key(*k)).expect("just inserted") ^= 3;
            }
            Op::Extract(k) => match map.extract(&key(*k)) {
                Some((value, rest)) => {
                    assert_eq!(model.get(&key(*k)), Some(&value), "extract's value");
                    versions.push((mem::replace(&mut map, rest), model.clone()));
                    model.remove(&key(*k));
                }
                None => assert!(!model.contains_key(&key(*k)), "extract found no value for a present key"),
            },
            Op::IntoKeys { shared } | Op::IntoValues { shared } => {
                let source = if *shared { map.clone() } else { mem::take(&mut map) };
                if let Op::IntoKeys { .. } = op {
                    let iter = source.into_keys();
                    assert_eq!(iter.len(), model.len(), "into_keys().len()");
                    let mut keys: Vec<K> = iter.collect();
                    keys.sort();
                    let mut expected: Vec<K> = model.clone().into_keys().collect();
                    expected.sort();
                    assert_eq!(keys, expected, "into_keys");
                } else {
                    let iter = source.into_values();
                    assert_eq!(iter.len(), model.len(), "into_values().len()");
                    let mut values: Vec<u32> = iter.collect();
                    values.sort();
                    let mut expected: Vec<u32> = model.clone().into_values().collect();
                    expected.sort();
                    assert_eq!(values, expected, "into_values");
                }
                if !*shared {
                    map = model.iter().map(|(k, v)| (k.clone(), *v)).collect();
                }
            }
            Op::Unions(entries, k) => {
                let batch: HamtMap<K, u32, P, S> = entries.iter().map(|(k, v)| (key(*k), *v)).collect();
                let variant = map.remove(&key(*k));
                let all = HamtMap::unions([map.clone(), batch, variant]);
                // The first map with a key gives its value: this map, then the batch (the variant adds nothing).
                // The batch's own repeated keys follow `collect`'s rule: the last one wins.
                versions.push((mem::replace(&mut map, all), model.clone()));
                let batch_model: Model<K> = entries.iter().map(|(k, v)| (key(*k), *v)).collect();
                for (k, v) in batch_model {
                    model.entry(k).or_insert(v);
                }
            }
            Op::ProperSubmap(k, v) => {
                let without = map.remove(&key(*k));
                let with = map.insert(key(*k), *v);
                let present = model.contains_key(&key(*k));
                assert!(!map.is_proper_submap(&map), "a map is not a proper submap of itself");
                assert_eq!(without.is_proper_submap(&map), present, "is_proper_submap of a map without a key");
                assert_eq!(map.is_proper_submap(&with), !present, "is_proper_submap of a map with a new key");
                assert!(!with.is_proper_submap(&without), "is_proper_submap of a larger map");
            }
            Op::UpdateWithMut(k, decide) => {
                let old = model.get(&key(*k)).copied();
                let returned = map.update_with_mut(key(*k), |seen| {
                    assert_eq!(seen.copied(), old, "update_with_mut must call f with the old value");
                    decide.apply(seen)
                });
                assert_eq!(returned, old, "update_with_mut's old value");
                match decide.apply(old.as_ref()) {
                    Some(v) => model.insert(key(*k), v),
                    None => model.remove(&key(*k)),
                };
            }
            Op::GetMut(k, delta) => {
                let got = map.get_mut(&key(*k)).map(|value| {
                    *value = value.wrapping_add(*delta);
                    *value
                });
                let expected = model.get_mut(&key(*k)).map(|value| {
                    *value = value.wrapping_add(*delta);
                    *value
                });
                assert_eq!(got, expected, "get_mut");
            }
            Op::EntryOrInsert(k, v) => {
                let value = map.entry(key(*k)).or_insert(*v);
                *value = value.wrapping_mul(3);
                let expected = model.entry(key(*k)).or_insert(*v);
                *expected = expected.wrapping_mul(3);
            }
            Op::EntryOrInsertWithKey(k) => {
                let got = *map.entry(key(*k)).or_insert_with_key(|key| u32::from(key.num()) + 7);
                let expected = *model.entry(key(*k)).or_insert_with(|| u32::from(*k % keys) + 7);
                assert_eq!(got, expected, "or_insert_with_key");
            }
            Op::EntryOrDefault(k) => {
                let value = map.entry(key(*k)).or_default();
                *value = value.wrapping_add(5);
                let expected = model.entry(key(*k)).or_default();
                *expected = expected.wrapping_add(5);
            }
            Op::EntryAndModify(k, x) => {
                let entry = map.entry(key(*k));
                assert_eq!(entry.key(), &key(*k));
                let got = *entry.and_modify(|value| *value ^= *x).or_insert_with(|| *x);
                let expected = *model.entry(key(*k)).and_modify(|value| *value ^= *x).or_insert_with(|| *x);
                assert_eq!(got, expected, "and_modify / or_insert_with");
            }
            Op::EntryInsert(k, v) => match map.entry(key(*k)) {
                Entry::Occupied(mut entry) => {
                    assert_eq!(entry.key(), &key(*k));
                    assert_eq!(Some(entry.get()), model.get(&key(*k)), "OccupiedEntry::get");
                    let old = entry.insert(*v);
                    assert_eq!(model.insert(key(*k), *v), Some(old), "OccupiedEntry::insert");
                    *entry.get_mut() ^= 1;
                    *model.get_mut(&key(*k)).unwrap() ^= 1;
                }
                Entry::Vacant(entry) => {
                    assert!(!model.contains_key(&key(*k)), "vacant entry for a present key");
                    assert_eq!(entry.key(), &key(*k));
                    let value = entry.insert(*v);
                    *value = value.wrapping_add(1);
                    model.insert(key(*k), v.wrapping_add(1));
                }
            },
            Op::EntryRemove(k) => match map.entry(key(*k)) {
                Entry::Occupied(entry) => {
                    assert_eq!(model.remove(&key(*k)), Some(entry.remove()), "OccupiedEntry::remove");
                }
                Entry::Vacant(entry) => {
                    assert!(!model.contains_key(&key(*k)), "vacant entry for a present key");
                    assert_eq!(entry.into_key(), key(*k));
                }
            },
            Op::EntryRemoveEntry(k) => match map.entry(key(*k)) {
                Entry::Occupied(entry) => {
                    assert_eq!(model.remove_entry(&key(*k)), Some(entry.remove_entry()), "remove_entry");
                }
                Entry::Vacant(_) => assert!(!model.contains_key(&key(*k)), "vacant entry for a present key"),
            },
            Op::EntryIntoMut(k, x) => match map.entry(key(*k)) {
                Entry::Occupied(entry) => {
                    let value = entry.into_mut();
                    *value = value.wrapping_add(*x);
                    let expected = model.get_mut(&key(*k)).expect("occupied entry for an absent key");
                    *expected = expected.wrapping_add(*x);
                }
                Entry::Vacant(_) => assert!(!model.contains_key(&key(*k)), "vacant entry for a present key"),
            },
            Op::Retain(modulus) => {
                let mut calls = 0;
                let mut rule = retain_rule::<K>(*modulus);
                map.retain(|key, value| {
                    calls += 1;
                    rule(key, value)
                });
                assert_eq!(calls, model.len(), "retain must visit every entry once");
                model.retain(retain_rule::<K>(*modulus));
            }
            Op::IterMut(x) => {
                let iter = map.iter_mut();
                assert_eq!(iter.len(), model.len(), "iter_mut().len()");
                for (key, value) in iter {
                    *value = value.wrapping_add(x ^ u32::from(key.num()));
                }
                for (key, value) in model.iter_mut() {
                    *value = value.wrapping_add(x ^ u32::from(key.num()));
                }
            }
            Op::ValuesMut(x) => {
                let values = map.values_mut();
                assert_eq!(values.len(), model.len(), "values_mut().len()");
                values.for_each(|value| *value ^= x);
                model.values_mut().for_each(|value| *value ^= x);
            }
            Op::Extend(entries) => {
                map.extend(entries.iter().map(|(k, v)| (key(*k), *v)));
                model.extend(entries.iter().map(|(k, v)| (key(*k), *v)));
            }
            Op::ExtendRefs(entries) => {
                let entries: Vec<(K, u32)> = entries.iter().map(|(k, v)| (key(*k), *v)).collect();
                map.extend(entries.iter().map(|(k, v)| (k, v)));
                model.extend(entries);
            }
            Op::ExtendLarge { entries, exact_size } => {
                let batch = entries.iter().map(|(k, v)| (key(*k), *v));
                if *exact_size {
                    map.extend(batch);
                } else {
                    map.extend(batch.filter(|_| true));
                }
                model.extend(entries.iter().map(|(k, v)| (key(*k), *v)));
            }
            Op::Snapshot => versions.push((map.clone(), model.clone())),
            Op::Clear => {
                map.clear();
                model.clear();
            }
            Op::IntoIterCollect => {
                let iter = mem::take(&mut map).into_iter();
                assert_eq!(iter.len(), model.len(), "into_iter().len()");
                map = iter.collect();
            }
            Op::Rebuild => {
                let rebuilt: HamtMap<K, u32, P, S> = model.iter().map(|(k, v)| (k.clone(), *v)).collect();
                rebuilt.check_invariants();
                assert!(rebuilt == map, "a map rebuilt from its contents must be equal");
                assert_eq!(std_hash(&rebuilt), std_hash(&map), "equal maps must hash equal");
                assert_eq!(rebuilt.diff(&map).count(), 0, "equal maps must have an empty diff");
                map = rebuilt;
            }
        }
        check_map(&map, &model, keys, Lookups::Step(step));
    }
    check_map(&map, &model, keys, Lookups::All);
    for (version, model) in &versions {
        check_map(version, model, keys, Lookups::All);
    }
}

/// Runs the map model with `CASES` sequences of up to 100 operations (unless `QUICKCHECK_TESTS` says otherwise).
fn map_model<P, K, S, const KEYS: u16, const CASES: u64>()
where
    P: PointerKind,
    K: TestKey,
    S: BuildHasher + Clone + Default,
{
    fn property<K: TestKey, P: PointerKind, S: BuildHasher + Clone + Default, const KEYS: u16>(ops: Vec<Op>) -> bool {
        run_map::<K, P, S, KEYS>(&ops);
        true
    }
    common::check(CASES, 100, property::<K, P, S, KEYS> as fn(Vec<Op>) -> bool);
}

// Under Miri (about a thousand times slower) the default, colliding, deep and `String` variants run, for `RcK`
// (and `ArcK` where marked `miri_arc`); the others are `native_only` (see `for_each_kind!`).
for_each_kind!(miri_arc map_u16_default, map_model, [u16, DefaultHashBuilder, 64, 200]);
for_each_kind!(native_only map_u16_default_wide, map_model, [u16, DefaultHashBuilder, 2048, 150]);
for_each_kind!(map_u16_collide, map_model, [u16, Collide, 64, 200]);
for_each_kind!(map_u16_deep, map_model, [u16, Deep, 64, 200]);
for_each_kind!(native_only map_u16_deep_wide, map_model, [u16, Deep, 2048, 100]);
for_each_kind!(native_only map_u16_few_bits, map_model, [u16, FewBits, 64, 200]);
for_each_kind!(native_only map_u16_top_bits, map_model, [u16, TopBits, 64, 150]);
for_each_kind!(map_string_default, map_model, [String, DefaultHashBuilder, 64, 100]);
for_each_kind!(native_only map_string_collide, map_model, [String, Collide, 64, 100]);
for_each_kind!(native_only map_string_few_bits, map_model, [String, FewBits, 64, 100]);

/// One set operation.
#[derive(Clone, Debug)]
enum SetOp {
    Insert(u16),
    Remove(u16),
    With(u16),
    Without(u16),
    InsertMut(u16),
    RemoveMut(u16),
    Take(u16),
    Replace(u16),
    /// `is_disjoint` and `is_proper_subset` against a set of the given elements and a one-element variant.
    Compare(Vec<u16>, u16),
    Retain(u8),
    Extend(Vec<u16>),
    ExtendLarge(Vec<u16>),
    Snapshot,
    Clear,
    IntoIterCollect,
}

impl Arbitrary for SetOp {
    fn arbitrary(g: &mut Gen) -> Self {
        let k = u16::arbitrary(g);
        match u8::arbitrary(g) % 36 {
            0..=5 => SetOp::Insert(k),
            6..=8 => SetOp::Remove(k),
            9..=10 => SetOp::With(k),
            11 => SetOp::Without(k),
            12..=16 => SetOp::InsertMut(k),
            17..=19 => SetOp::RemoveMut(k),
            20 => SetOp::Retain(u8::arbitrary(g)),
            21..=22 => SetOp::Extend((0..usize::arbitrary(g) % 10).map(|_| u16::arbitrary(g)).collect()),
            23 => {
                let len = 64 + usize::arbitrary(g) % if common::reduced() { 8 } else { 64 };
                SetOp::ExtendLarge((0..len).map(|_| u16::arbitrary(g)).collect())
            }
            24..=28 => SetOp::Snapshot,
            29 => SetOp::Clear,
            30..=31 => SetOp::IntoIterCollect,
            32 => SetOp::Take(k),
            33 => SetOp::Replace(k),
            _ => SetOp::Compare((0..usize::arbitrary(g) % 6).map(|_| u16::arbitrary(g)).collect(), k),
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        match self {
            SetOp::Extend(values) => Box::new(values.shrink().map(SetOp::Extend)),
            _ => quickcheck::empty_shrinker(),
        }
    }
}

fn check_set<T, P, S>(set: &HamtSet<T, P, S>, model: &HashSet<T>, keys: u16)
where
    T: TestKey,
    P: PointerKind,
    S: BuildHasher,
{
    set.check_invariants();
    assert_eq!(set.len(), model.len(), "len");
    assert_eq!(set.is_empty(), model.is_empty(), "is_empty");
    // Under Miri, a sample of the keys (the iteration contents below are compared in full).
    for n in (0..keys).step_by(if common::reduced() { 16 } else { 1 }) {
        let value = T::from_num(n);
        assert_eq!(set.contains(&value), model.contains(&value), "contains({value:?})");
        assert_eq!(set.get(&value), model.get(&value), "get({value:?})");
    }
    let iter = set.iter();
    assert_eq!(iter.len(), model.len(), "iter().len()");
    let mut seen: Vec<T> = iter.cloned().collect();
    seen.sort();
    let mut expected: Vec<T> = model.iter().cloned().collect();
    expected.sort();
    assert_eq!(seen, expected, "iteration contents");
}

fn run_set<T, P, S, const KEYS: u16>(ops: &[SetOp])
where
    T: TestKey,
    P: PointerKind,
    S: BuildHasher + Clone + Default,
{
    let keys = common::key_space(KEYS);
    let value = |n: u16| T::from_num(n % keys);
    let mut set: HamtSet<T, P, S> = HamtSet::default();
    let mut model: HashSet<T> = HashSet::new();
    let mut versions: Vec<(HamtSet<T, P, S>, HashSet<T>)> = Vec::new();
    for op in ops {
        match op {
            SetOp::Insert(n) => {
                let next = set.insert(value(*n));
                versions.push((mem::replace(&mut set, next), model.clone()));
                model.insert(value(*n));
            }
            SetOp::Remove(n) => {
                let next = set.remove(&value(*n));
                versions.push((mem::replace(&mut set, next), model.clone()));
                model.remove(&value(*n));
            }
            SetOp::With(n) => {
                set = mem::take(&mut set).with(value(*n));
                model.insert(value(*n));
            }
            SetOp::Without(n) => {
                set = mem::take(&mut set).without(&value(*n));
                model.remove(&value(*n));
            }
            SetOp::InsertMut(n) => assert_eq!(set.insert_mut(value(*n)), model.insert(value(*n)), "insert_mut"),
            SetOp::RemoveMut(n) => assert_eq!(set.remove_mut(&value(*n)), model.remove(&value(*n)), "remove_mut"),
            SetOp::Take(n) => assert_eq!(set.take(&value(*n)), model.take(&value(*n)), "take"),
            SetOp::Replace(n) => assert_eq!(set.replace(value(*n)), model.replace(value(*n)), "replace"),
            SetOp::Compare(values, n) => {
                let other: HamtSet<T, P, S> = values.iter().map(|n| value(*n)).collect();
                let other_model: HashSet<T> = values.iter().map(|n| value(*n)).collect();
                assert_eq!(set.is_disjoint(&other), model.is_disjoint(&other_model), "is_disjoint");
                assert_eq!(other.is_disjoint(&set), other_model.is_disjoint(&model), "is_disjoint, swapped");
                assert_eq!(set.is_proper_subset(&other), model.is_subset(&other_model) && model != other_model);
                let variant = set.remove(&value(*n));
                let variant_model: HashSet<T> = model.iter().filter(|v| **v != value(*n)).cloned().collect();
                assert_eq!(variant.is_proper_subset(&set), variant_model.len() < model.len(), "is_proper_subset");
                assert!(!set.is_proper_subset(&set), "a set is not a proper subset of itself");
                assert_eq!(set.is_disjoint(&set), model.is_empty(), "is_disjoint with itself");
            }
            SetOp::Retain(modulus) => {
                let modulus = u16::from(modulus % 3) + 2;
                set.retain(|v| v.num() % modulus != 0);
                model.retain(|v| v.num() % modulus != 0);
            }
            SetOp::Extend(values) | SetOp::ExtendLarge(values) => {
                set.extend(values.iter().map(|n| value(*n)));
                model.extend(values.iter().map(|n| value(*n)));
            }
            SetOp::Snapshot => versions.push((set.clone(), model.clone())),
            SetOp::Clear => {
                set.clear();
                model.clear();
            }
            SetOp::IntoIterCollect => {
                let iter = mem::take(&mut set).into_iter();
                assert_eq!(iter.len(), model.len(), "into_iter().len()");
                set = iter.collect();
            }
        }
        check_set(&set, &model, keys);
    }
    for (version, model) in &versions {
        check_set(version, model, keys);
    }
}

fn set_model<P, T, S, const KEYS: u16>()
where
    P: PointerKind,
    T: TestKey,
    S: BuildHasher + Clone + Default,
{
    fn property<T: TestKey, P: PointerKind, S: BuildHasher + Clone + Default, const KEYS: u16>(
        ops: Vec<SetOp>,
    ) -> bool {
        run_set::<T, P, S, KEYS>(&ops);
        true
    }
    common::check(150, 60, property::<T, P, S, KEYS> as fn(Vec<SetOp>) -> bool);
}

for_each_kind!(set_u16_default, set_model, [u16, DefaultHashBuilder, 64]);
for_each_kind!(native_only set_u16_few_bits, set_model, [u16, FewBits, 64]);
for_each_kind!(native_only set_u16_deep, set_model, [u16, Deep, 64]);
for_each_kind!(set_string_collide, set_model, [String, Collide, 64]);

/// A regression guard that does not depend on quickcheck's generator: a fixed, long sequence touching every
/// operation, for every kind.
fn fixed_sequence<P: PointerKind>() {
    let mut ops = Vec::new();
    for i in 0..200u16 {
        let v = u32::from(i) * 7;
        ops.push(match i % 13 {
            0 => Op::Insert(i, v),
            1 => Op::InsertMut(i * 3, v),
            2 => Op::Snapshot,
            3 => Op::Remove(i / 2),
            4 if i % 2 == 0 => Op::RemoveMut(i / 3),
            4 => Op::RemoveEntry(i / 3),
            5 => Op::UpdateWith(i, Decide::Add(v)),
            6 => Op::UpdateWithMut(i / 2, Decide::Remove),
            7 => Op::EntryInsert(i / 4, v),
            8 => Op::EntryRemove(i / 5),
            9 => Op::Retain(i as u8),
            10 => {
                Op::ExtendLarge { entries: (0..70).map(|j| (i + j * 3, v + u32::from(j))).collect(), exact_size: true }
            }
            11 => match (i / 13) % 4 {
                0 => Op::IntoIterCollect,
                1 => Op::Extract(i / 2),
                2 => Op::InsertEntry(i, v),
                _ => Op::IntoKeys { shared: false },
            },
            _ => Op::Rebuild,
        });
    }
    let ops = &ops[..common::scaled(ops.len(), 15)];
    run_map::<u16, P, DefaultHashBuilder, 64>(ops);
    run_map::<u16, P, Collide, 64>(ops);
    if !common::reduced() {
        run_map::<u16, P, Deep, 64>(ops);
        run_map::<String, P, FewBits, 64>(ops);
    }
}

for_each_kind!(fixed, fixed_sequence);

/// Keeps the `Debug` bound on the op types honest: quickcheck prints failing sequences with it.
#[test]
fn ops_print_as_reproductions() {
    fn debug<T: Debug>(_: &T) {}
    debug(&Op::Snapshot);
    debug(&SetOp::Snapshot);
    assert_eq!(format!("{:?}", Op::UpdateWith(3, Decide::Add(4))), "UpdateWith(3, Add(4))");
}
