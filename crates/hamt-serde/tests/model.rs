//! Model-based property tests of every way versions are encoded and decoded.
//!
//! A random history of operations (insert, remove, update; commits of versions derived from an earlier version,
//! not only the previous one; versions equal to their parent but built separately; emptied versions) runs on a
//! `HamtMap` and a `HamtSet` beside a std `HashMap` model. The versions are encoded with `serialize_multiple`, the
//! streaming forms and `VersionSet` (with each version's real parent), and decoded with every pointer kind and with
//! other hashers, the colliding test hashers among them. Each decoded version must equal its model and pass the
//! trie invariants, parents must round-trip, and a version equal to its parent must share the parent's root.
//!
//! On failure quickcheck shrinks the operation sequence and prints it: that is the reproduction.

#[path = "../../hamt-core/tests/common/mod.rs"]
mod common;

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

use common::{Collide, Deep, FewBits, OneHash, TestKey};
use hamt_core::{DefaultHashBuilder, HamtMap, HamtSet, PointerKind};
use hamt_serde::VersionSet;
use quickcheck::{Arbitrary, Gen};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// One step of a history.
#[derive(Clone, Debug)]
enum Op {
    Insert(u16, u32),
    Remove(u16),
    /// `update_with`: adds one to the value, or inserts 0.
    Update(u16),
    /// Records the current state as a new version, written against the version it was derived from.
    Commit,
    /// Continues from an earlier version (the index is taken modulo the number of versions).
    Branch(u16),
    /// Replaces the current map by an equal one built separately (equal, but sharing nothing).
    Rebuild,
    /// Empties the current map and forgets its parent: the next version is written whole.
    Clear,
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Self {
        let key = u16::arbitrary(g) % common::key_space(64);
        match u8::arbitrary(g) % 100 {
            0..40 => Op::Insert(key, u32::arbitrary(g) % 8),
            40..60 => Op::Remove(key),
            60..70 => Op::Update(key),
            70..86 => Op::Commit,
            86..94 => Op::Branch(u16::arbitrary(g)),
            94..98 => Op::Rebuild,
            _ => Op::Clear,
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        match *self {
            Op::Insert(key, value) => Box::new(
                key.shrink()
                    .map(move |key| Op::Insert(key, value))
                    .chain(value.shrink().map(move |v| Op::Insert(key, v))),
            ),
            Op::Remove(key) => Box::new(key.shrink().map(Op::Remove)),
            Op::Update(key) => Box::new(key.shrink().map(Op::Update)),
            Op::Branch(index) => Box::new(index.shrink().map(Op::Branch)),
            Op::Commit | Op::Rebuild | Op::Clear => Box::new(std::iter::empty()),
        }
    }
}

/// The versions a history committed, as maps, as sets of their keys, and as models, with each one's parent.
struct History<K> {
    maps: Vec<HamtMap<K, u32>>,
    sets: Vec<HamtSet<K>>,
    models: Vec<HashMap<K, u32>>,
    parents: Vec<Option<usize>>,
}

impl<K: TestKey> History<K> {
    fn run(ops: &[Op]) -> Self {
        let mut history = History { maps: Vec::new(), sets: Vec::new(), models: Vec::new(), parents: Vec::new() };
        let mut map: HamtMap<K, u32> = HamtMap::new();
        let mut set: HamtSet<K> = HamtSet::new();
        let mut model: HashMap<K, u32> = HashMap::new();
        let mut base = None;
        for op in ops {
            match *op {
                Op::Insert(key, value) => {
                    map = map.insert(K::from_num(key), value);
                    set = set.insert(K::from_num(key));
                    model.insert(K::from_num(key), value);
                }
                Op::Remove(key) => {
                    map = map.remove(&K::from_num(key));
                    set = set.remove(&K::from_num(key));
                    model.remove(&K::from_num(key));
                }
                Op::Update(key) => {
                    map = map.update_with(K::from_num(key), |old| Some(old.map_or(0, |old| old + 1)));
                    set = set.insert(K::from_num(key));
                    let value = model.get(&K::from_num(key)).map_or(0, |old| old + 1);
                    model.insert(K::from_num(key), value);
                }
                Op::Commit => {
                    history.maps.push(map.clone());
                    history.sets.push(set.clone());
                    history.models.push(model.clone());
                    history.parents.push(base);
                    base = Some(history.maps.len() - 1);
                }
                Op::Branch(index) => {
                    if !history.maps.is_empty() {
                        let index = usize::from(index) % history.maps.len();
                        map = history.maps[index].clone();
                        set = history.sets[index].clone();
                        model = history.models[index].clone();
                        base = Some(index);
                    }
                }
                Op::Rebuild => {
                    let mut rebuilt = HamtMap::with_hasher(*map.hasher());
                    rebuilt.extend(map.iter().map(|(key, value)| (key.clone(), *value)));
                    map = rebuilt;
                    let mut rebuilt = HamtSet::with_hasher(*set.hasher());
                    rebuilt.extend(set.iter().cloned());
                    set = rebuilt;
                }
                Op::Clear => {
                    map = HamtMap::new();
                    set = HamtSet::new();
                    model.clear();
                    base = None;
                }
            }
        }
        history
    }

    fn map_refs(&self) -> Vec<&HamtMap<K, u32>> {
        self.maps.iter().collect()
    }

    fn set_refs(&self) -> Vec<&HamtSet<K>> {
        self.sets.iter().collect()
    }

    /// The parents `serialize_multiple` writes: each version against the one before.
    fn chain(&self) -> Vec<Option<usize>> {
        (0..self.maps.len()).map(|index| index.checked_sub(1)).collect()
    }

    fn map_set(&self) -> VersionSet<HamtMap<K, u32>> {
        let mut versions = VersionSet::new();
        for (map, parent) in self.maps.iter().zip(&self.parents) {
            versions.push_with_parent(map.clone(), *parent);
        }
        versions
    }

    fn set_set(&self) -> VersionSet<HamtSet<K>> {
        let mut versions = VersionSet::new();
        for (set, parent) in self.sets.iter().zip(&self.parents) {
            versions.push_with_parent(set.clone(), *parent);
        }
        versions
    }

    /// Checks decoded maps against the models: contents, invariants, and a shared root for every version equal to
    /// the parent it was written against.
    fn check_maps<P, S>(&self, decoded: &[HamtMap<K, u32, P, S>], parents: &[Option<usize>], form: &str)
    where
        P: PointerKind,
        S: BuildHasher,
    {
        assert_eq!(decoded.len(), self.models.len(), "{form}: number of versions");
        for (index, (map, model)) in decoded.iter().zip(&self.models).enumerate() {
            map.check_invariants();
            let contents: HashMap<K, u32> = map.iter().map(|(key, value)| (key.clone(), *value)).collect();
            assert_eq!(&contents, model, "{form}: version {index}");
            if let Some(parent) = parents[index] {
                if self.models[parent] == *model {
                    assert!(map.ptr_eq(&decoded[parent]), "{form}: version {index} equals its parent {parent}");
                }
            }
        }
    }

    fn check_sets<P, S>(&self, decoded: &[HamtSet<K, P, S>], parents: &[Option<usize>], form: &str)
    where
        P: PointerKind,
        S: BuildHasher,
    {
        assert_eq!(decoded.len(), self.models.len(), "{form}: number of versions");
        for (index, (set, model)) in decoded.iter().zip(&self.models).enumerate() {
            set.check_invariants();
            let contents: HashSet<K> = set.iter().cloned().collect();
            let expected: HashSet<K> = model.keys().cloned().collect();
            assert_eq!(contents, expected, "{form}: version {index}");
            if let Some(parent) = parents[index] {
                if self.models[parent].keys().eq_by_keys(model) {
                    assert!(set.ptr_eq(&decoded[parent]), "{form}: version {index} equals its parent {parent}");
                }
            }
        }
    }
}

/// Key-set equality of a model's keys with another model (sets ignore the values).
trait EqByKeys<K> {
    fn eq_by_keys(self, other: &HashMap<K, u32>) -> bool;
}

impl<'a, K: TestKey, I: Iterator<Item = &'a K>> EqByKeys<K> for I {
    fn eq_by_keys(self, other: &HashMap<K, u32>) -> bool {
        let mut count = 0;
        for key in self {
            if !other.contains_key(key) {
                return false;
            }
            count += 1;
        }
        count == other.len()
    }
}

/// The maps of a history through the binary form, the streaming forms and `VersionSet`, read back with pointer
/// kind `P` and hasher `S`.
fn maps_round_trip<P, K, S>()
where
    P: PointerKind,
    K: TestKey + Serialize + DeserializeOwned,
    S: BuildHasher + Clone + Default,
{
    common::check(
        200,
        60,
        (|ops: Vec<Op>| {
            let history = History::<K>::run(&ops);
            let bytes = hamt_serde::serialize_multiple(&history.map_refs()).expect("encodes");
            let decoded = hamt_serde::deserialize_multiple::<hamt_core::HamtMap<K, u32, P, S>>(&bytes)
                .expect("serialize_multiple decodes");
            history.check_maps(&decoded, &history.chain(), "serialize_multiple");

            let mut streamed = Vec::new();
            hamt_serde::serialize_multiple_into(&mut streamed, &history.map_refs()).expect("writing to a Vec");
            assert!(streamed == bytes, "serialize_multiple_into writes what serialize_multiple returns");
            let decoded: Vec<HamtMap<K, u32, P, S>> =
                hamt_serde::deserialize_multiple_from(bytes.as_slice()).expect("deserialize_multiple_from");
            history.check_maps(&decoded, &history.chain(), "deserialize_multiple_from");

            let versions = history.map_set();
            let bytes = versions.to_bytes().expect("encodes");
            let decoded = VersionSet::<HamtMap<K, u32, P, S>>::from_bytes(&bytes).expect("VersionSet::from_bytes");
            check_parents(&decoded, &history.parents);
            history.check_maps(decoded.versions(), &history.parents, "VersionSet::to_bytes");
            let mut streamed = Vec::new();
            versions.write_to(&mut streamed).expect("writing to a Vec");
            assert!(streamed == bytes, "VersionSet::write_to writes what to_bytes returns");
            let decoded = VersionSet::<HamtMap<K, u32, P, S>>::read_from(bytes.as_slice()).expect("read_from");
            check_parents(&decoded, &history.parents);
            history.check_maps(decoded.versions(), &history.parents, "VersionSet::read_from");
        }) as fn(Vec<Op>),
    );
}

/// The sets of a history through the same forms.
fn sets_round_trip<P, K, S>()
where
    P: PointerKind,
    K: TestKey + Serialize + DeserializeOwned,
    S: BuildHasher + Clone + Default,
{
    common::check(
        200,
        60,
        (|ops: Vec<Op>| {
            let history = History::<K>::run(&ops);
            let bytes = hamt_serde::serialize_multiple(&history.set_refs()).expect("encodes");
            let decoded =
                hamt_serde::deserialize_multiple::<hamt_core::HamtSet<K, P, S>>(&bytes).expect("serialize_multiple");
            history.check_sets(&decoded, &history.chain(), "serialize_multiple");

            let mut streamed = Vec::new();
            hamt_serde::serialize_multiple_into(&mut streamed, &history.set_refs()).expect("writing to a Vec");
            assert!(streamed == bytes, "serialize_multiple_into writes what serialize_multiple returns");
            let decoded: Vec<HamtSet<K, P, S>> =
                hamt_serde::deserialize_multiple_from(bytes.as_slice()).expect("deserialize_multiple_from");
            history.check_sets(&decoded, &history.chain(), "deserialize_multiple_from");

            let decoded = VersionSet::<HamtSet<K, P, S>>::from_bytes(&history.set_set().to_bytes().expect("encodes"))
                .expect("from_bytes");
            check_parents(&decoded, &history.parents);
            history.check_sets(decoded.versions(), &history.parents, "VersionSet<HamtSet>::to_bytes");
        }) as fn(Vec<Op>),
    );
}

/// `VersionSet`'s serde form through JSON, postcard and bincode 2.
fn version_sets_through_serde_formats<P, K, S>()
where
    P: PointerKind,
    K: TestKey + Serialize + DeserializeOwned,
    S: BuildHasher + Clone + Default,
{
    common::check(
        100,
        60,
        (|ops: Vec<Op>| {
            let history = History::<K>::run(&ops);
            let maps = history.map_set();
            let sets = history.set_set();

            let json = serde_json::to_string(&maps).expect("JSON encodes");
            let decoded: VersionSet<HamtMap<K, u32, P, S>> = serde_json::from_str(&json).expect("JSON decodes");
            check_parents(&decoded, &history.parents);
            history.check_maps(decoded.versions(), &history.parents, "serde_json");
            let json = serde_json::to_string(&sets).expect("JSON encodes");
            let decoded: VersionSet<HamtSet<K, P, S>> = serde_json::from_str(&json).expect("JSON decodes");
            check_parents(&decoded, &history.parents);
            history.check_sets(decoded.versions(), &history.parents, "serde_json sets");

            let bytes = postcard::to_allocvec(&maps).expect("postcard encodes");
            let decoded: VersionSet<HamtMap<K, u32, P, S>> = postcard::from_bytes(&bytes).expect("postcard decodes");
            check_parents(&decoded, &history.parents);
            history.check_maps(decoded.versions(), &history.parents, "postcard");
            let bytes = postcard::to_allocvec(&sets).expect("postcard encodes");
            let decoded: VersionSet<HamtSet<K, P, S>> = postcard::from_bytes(&bytes).expect("postcard decodes");
            check_parents(&decoded, &history.parents);
            history.check_sets(decoded.versions(), &history.parents, "postcard sets");

            let config = bincode::config::standard();
            let bytes = bincode::serde::encode_to_vec(&maps, config).expect("bincode encodes");
            let (decoded, read): (VersionSet<HamtMap<K, u32, P, S>>, usize) =
                bincode::serde::decode_from_slice(&bytes, config).expect("bincode decodes");
            assert_eq!(read, bytes.len(), "bincode reads every byte it wrote");
            check_parents(&decoded, &history.parents);
            history.check_maps(decoded.versions(), &history.parents, "bincode");
            let bytes = bincode::serde::encode_to_vec(&sets, config).expect("bincode encodes");
            let (decoded, _): (VersionSet<HamtSet<K, P, S>>, usize) =
                bincode::serde::decode_from_slice(&bytes, config).expect("bincode decodes");
            check_parents(&decoded, &history.parents);
            history.check_sets(decoded.versions(), &history.parents, "bincode sets");
        }) as fn(Vec<Op>),
    );
}

fn check_parents<C>(decoded: &VersionSet<C>, parents: &[Option<usize>]) {
    let decoded_parents: Vec<Option<usize>> = (0..decoded.len()).map(|index| decoded.parent(index)).collect();
    assert_eq!(decoded_parents, parents, "the parents round-trip");
}

for_each_kind!(maps_u16_default_hasher, maps_round_trip, [u16, DefaultHashBuilder]);
for_each_kind!(native_only maps_string_std_random_state, maps_round_trip, [String, RandomState]);
for_each_kind!(maps_u16_colliding, maps_round_trip, [u16, Collide]);
for_each_kind!(native_only maps_u64_deep, maps_round_trip, [u64, Deep]);
for_each_kind!(native_only maps_string_few_bits, maps_round_trip, [String, FewBits]);
for_each_kind!(sets_u16_default_hasher, sets_round_trip, [u16, DefaultHashBuilder]);
for_each_kind!(native_only sets_string_one_hash, sets_round_trip, [String, OneHash]);
for_each_kind!(native_only sets_u64_std_random_state, sets_round_trip, [u64, RandomState]);
for_each_kind!(serde_formats_u16_default_hasher, version_sets_through_serde_formats, [u16, DefaultHashBuilder]);
for_each_kind!(native_only serde_formats_string_colliding, version_sets_through_serde_formats, [String, Collide]);

/// The encoding does not depend on the writer's pointer kind or hasher: versions written from `ArcTK` maps with a
/// colliding hasher decode like any others.
#[test]
fn writer_kind_and_hasher_do_not_matter() {
    common::check(
        50,
        40,
        (|ops: Vec<Op>| {
            let history = History::<u16>::run(&ops);
            let converted: Vec<HamtMap<u16, u32, hamt_core::ArcTK, Collide>> =
                history.maps.iter().map(|map| map.iter().map(|(key, value)| (*key, *value)).collect()).collect();
            let refs: Vec<_> = converted.iter().collect();
            let bytes = hamt_serde::serialize_multiple(&refs).expect("encodes");
            let decoded = hamt_serde::deserialize_multiple::<
                hamt_core::HamtMap<u16, u32, hamt_core::RcK, DefaultHashBuilder>,
            >(&bytes)
            .expect("decodes");
            history.check_maps(&decoded, &history.chain(), "ArcTK + Collide writer");
        }) as fn(Vec<Op>),
    );
}

/// `serialize_multiple` takes every usual way of holding a list of versions, maps and sets alike, and they all give
/// the same bytes; so does the writer form.
#[test]
fn every_usual_list_of_versions_is_accepted() {
    let v1: HamtMap<u32, String> = (0..50).map(|i| (i, i.to_string())).collect();
    let v2 = v1.insert(7, "seven".to_owned());
    let owned: Vec<HamtMap<u32, String>> = vec![v1.clone(), v2.clone()];
    let references: Vec<&HamtMap<u32, String>> = vec![&v1, &v2];
    let expected = hamt_serde::serialize_multiple([&v1, &v2]).expect("an array of references");
    let forms = [
        hamt_serde::serialize_multiple(&[&v1, &v2]).expect("a slice of references"),
        hamt_serde::serialize_multiple(&references[..]).expect("a slice of references"),
        hamt_serde::serialize_multiple(&references).expect("a &Vec of references"),
        hamt_serde::serialize_multiple(references.iter().copied()).expect("an iterator of references"),
        hamt_serde::serialize_multiple(&owned).expect("a &Vec of maps"),
        hamt_serde::serialize_multiple(&owned[..]).expect("a slice of maps"),
        hamt_serde::serialize_multiple(owned.iter()).expect("an iterator over maps"),
        hamt_serde::serialize_multiple(std::iter::once(&v1).chain([&v2])).expect("a chain"),
    ];
    for bytes in &forms {
        assert!(*bytes == expected, "every form writes the same bytes");
    }
    let mut streamed = Vec::new();
    hamt_serde::serialize_multiple_into(&mut streamed, &owned).expect("writing to a Vec");
    assert!(streamed == expected);
    let decoded: Vec<HamtMap<u32, String>> = hamt_serde::deserialize_multiple(&expected).expect("decodes");
    assert_eq!(decoded, owned);

    let s1: HamtSet<u8> = [1, 2, 3].into();
    let s2 = s1.remove(&2);
    let sets = vec![s1.clone(), s2.clone()];
    let expected = hamt_serde::serialize_multiple(&sets).expect("sets too");
    assert!(hamt_serde::serialize_multiple([&s1, &s2]).expect("an array of references") == expected);
    assert!(hamt_serde::serialize_multiple(&[&s1, &s2]).expect("a slice of references") == expected);
    assert_eq!(hamt_serde::deserialize_multiple::<HamtSet<u8>>(&expected).expect("decodes"), sets);
}
