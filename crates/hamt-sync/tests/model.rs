//! Model-based property test of the store's sequential behaviour: random sequences of publishes, updates,
//! compare-and-swaps and rollbacks applied to a `VersionedStore` and to a model (the list of every version as a
//! std `HashMap`), compared after every step: the current version, its number, the history and lookups by number.
//! On failure quickcheck shrinks the sequence and prints it: that is the reproduction.

mod common;

use std::collections::HashMap;

use hamt_sync::{HamtMap, VersionNotFound, VersionedStore};
use quickcheck::{Arbitrary, Gen};

type Map = HamtMap<u8, u32>;

/// One store operation. Keys are taken modulo 16; version numbers are taken modulo the number of versions so far
/// plus two (so some are unknown).
#[derive(Clone, Debug)]
enum Op {
    /// `store` a version derived from the current one.
    Store(u8, u32),
    /// `store` a map built from scratch.
    StoreFresh(Vec<(u8, u32)>),
    Update(u8, u32),
    UpdateRemove(u8),
    /// `try_update` whose function declines.
    TryUpdateDeclined,
    /// `compare_and_swap` against the current version (succeeds).
    SwapCurrent(u8, u32),
    /// `compare_and_swap` against an older version (fails unless it is the same map, by identity).
    SwapStale(u64, u8, u32),
    Rollback(u64),
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Self {
        let key = u8::arbitrary(g) % 16;
        let value = u32::arbitrary(g) % 100;
        match u8::arbitrary(g) % 8 {
            0 => Op::Store(key, value),
            1 => Op::StoreFresh(Vec::arbitrary(g).into_iter().map(|(k, v): (u8, u32)| (k % 16, v)).collect()),
            2 => Op::Update(key, value),
            3 => Op::UpdateRemove(key),
            4 => Op::TryUpdateDeclined,
            5 => Op::SwapCurrent(key, value),
            6 => Op::SwapStale(u64::arbitrary(g), key, value),
            _ => Op::Rollback(u64::arbitrary(g)),
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        match self {
            Op::StoreFresh(entries) => Box::new(entries.shrink().map(Op::StoreFresh)),
            _ => Box::new(std::iter::empty()),
        }
    }
}

/// Every version published so far, as std maps, and the store's maps kept alive to test identity.
struct Model {
    versions: Vec<HashMap<u8, u32>>,
    maps: Vec<Map>,
    depth: usize,
}

impl Model {
    fn current(&self) -> u64 {
        self.versions.len() as u64 - 1
    }

    fn oldest(&self) -> u64 {
        self.current().saturating_sub(self.depth as u64)
    }

    fn publish(&mut self, map: Map) -> u64 {
        self.versions.push(map.iter().map(|(k, v)| (*k, *v)).collect());
        self.maps.push(map);
        self.current()
    }
}

fn to_std(map: &Map) -> HashMap<u8, u32> {
    map.iter().map(|(k, v)| (*k, *v)).collect()
}

fn check_against(store: &VersionedStore<u8, u32>, model: &Model) {
    let current = store.load_versioned();
    assert_eq!(current.number, model.current());
    assert_eq!(store.current_version(), model.current());
    assert_eq!(to_std(&current.map), model.versions[current.number as usize]);
    assert!(current.map.ptr_eq(&model.maps[current.number as usize]), "the store holds the published map itself");
    current.map.check_invariants();
    let history = store.history();
    let numbers: Vec<u64> = history.iter().map(|version| version.number).collect();
    assert_eq!(numbers, (model.oldest()..=model.current()).collect::<Vec<_>>());
    for version in &history {
        assert_eq!(to_std(&version.map), model.versions[version.number as usize]);
    }
    for number in 0..model.current() + 2 {
        let expected = (model.oldest()..=model.current()).contains(&number).then(|| &model.versions[number as usize]);
        assert_eq!(store.version(number).as_ref().map(to_std).as_ref(), expected, "version {number}");
    }
}

fn run(depth: usize, ops: Vec<Op>) -> bool {
    let first: Map = [(0, 0)].into();
    let store = VersionedStore::with_history(first.clone(), depth);
    let mut model = Model { versions: vec![to_std(&first)], maps: vec![first], depth };
    check_against(&store, &model);
    for op in ops {
        let current = model.maps.last().expect("at least one version").clone();
        match op {
            Op::Store(key, value) => {
                let map = current.insert(key, value);
                assert_eq!(store.store(map.clone()), model.publish(map));
            }
            Op::StoreFresh(entries) => {
                let map: Map = entries.into_iter().collect();
                assert_eq!(store.store(map.clone()), model.publish(map));
            }
            Op::Update(key, value) => {
                let version = store.update(|map| map.insert(key, value));
                assert_eq!(version.number, model.publish(version.map.clone()));
                assert_eq!(to_std(&version.map), to_std(&current.insert(key, value)));
            }
            Op::UpdateRemove(key) => {
                let version = store.update(|map| map.remove(&key));
                assert_eq!(version.number, model.publish(version.map.clone()));
                assert_eq!(to_std(&version.map), to_std(&current.remove(&key)));
            }
            Op::TryUpdateDeclined => {
                assert_eq!(
                    store.try_update(|_| Err::<Map, _>("declined")).map(|version| version.number),
                    Err("declined")
                );
            }
            Op::SwapCurrent(key, value) => {
                let map = current.insert(key, value);
                assert_eq!(store.compare_and_swap(&current, map.clone()), Ok(model.publish(map)));
            }
            Op::SwapStale(number, key, value) => {
                let stale = model.maps[(number % (model.current() + 1)) as usize].clone();
                let map = stale.insert(key, value);
                match store.compare_and_swap(&stale, map.clone()) {
                    Ok(number) => {
                        assert!(stale.ptr_eq(&current), "a swap against a different map succeeded");
                        assert_eq!(number, model.publish(map));
                    }
                    Err(actual) => {
                        assert!(!stale.ptr_eq(&current), "a swap against the current map failed");
                        assert_eq!(actual.number, model.current());
                        assert!(actual.map.ptr_eq(&current));
                    }
                }
            }
            Op::Rollback(number) => {
                let number = number % (model.current() + 2);
                match store.rollback(number) {
                    Ok(new) => {
                        assert!(number >= model.oldest() && number <= model.current());
                        let map = model.maps[number as usize].clone();
                        assert_eq!(new, model.publish(map));
                    }
                    Err(error) => {
                        assert_eq!(error, VersionNotFound { number, oldest: model.oldest(), current: model.current() })
                    }
                }
            }
        }
        check_against(&store, &model);
    }
    true
}

fn run_without_history(ops: Vec<Op>) -> bool {
    run(0, ops)
}

fn run_with_short_history(ops: Vec<Op>) -> bool {
    run(3, ops)
}

fn run_with_long_history(ops: Vec<Op>) -> bool {
    run(100, ops)
}

#[test]
fn store_without_history_matches_model() {
    common::check(200, 40, run_without_history as fn(Vec<Op>) -> bool);
}

#[test]
fn store_with_short_history_matches_model() {
    common::check(200, 40, run_with_short_history as fn(Vec<Op>) -> bool);
}

#[test]
fn store_with_long_history_matches_model() {
    common::check(100, 60, run_with_long_history as fn(Vec<Op>) -> bool);
}

/// `compare_and_swap` compares versions by identity, except that empty maps have no root to compare: any empty map
/// counts as a current empty version, while equal non-empty maps built separately do not.
#[test]
fn compare_and_swap_counts_every_empty_map_as_the_same_version() {
    let store = VersionedStore::new(Map::default());
    assert_eq!(store.compare_and_swap(&Map::default(), Map::from([(1, 1)])), Ok(1));
    let equal_but_separate = Map::from([(1, 1)]);
    let current = store.compare_and_swap(&equal_but_separate, Map::default()).expect_err("not the same version");
    assert_eq!(current.number, 1);
    assert_eq!(store.compare_and_swap(&current.map, Map::default()), Ok(2));
    assert_eq!(store.compare_and_swap(&HamtMap::default(), Map::from([(2, 2)])), Ok(3));
}
