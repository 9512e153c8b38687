//! The entry API and removals with keys that misbehave or count what is done to them: `entry` searches once,
//! never clones the key, and never panics after inserting, even for a key whose `Eq` is not reflexive (a NaN-like
//! key) or whose `Hash` drifts, as std's `HashMap` does not; removals move what they remove.

mod common;

use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

use common::{Collide, OneHash};
use hamt_core::{DefaultHashBuilder, Entry, HamtMap, PointerKind};

thread_local! {
    static EQ_CALLS: Cell<u64> = const { Cell::new(0) };
    static HASH_CALLS: Cell<u64> = const { Cell::new(0) };
    static CLONE_CALLS: Cell<u64> = const { Cell::new(0) };
}

fn counts() -> (u64, u64, u64) {
    (EQ_CALLS.with(Cell::get), HASH_CALLS.with(Cell::get), CLONE_CALLS.with(Cell::get))
}

/// A key that counts its comparisons, hashes and clones. With `nan`, it equals nothing, not even itself; with
/// `drift`, its hash changes on every call.
#[derive(Debug)]
struct Key {
    n: u32,
    nan: bool,
    drift: bool,
    hashed: Cell<u64>,
}

impl Key {
    fn new(n: u32) -> Self {
        Key { n, nan: false, drift: false, hashed: Cell::new(0) }
    }

    fn nan(n: u32) -> Self {
        Key { nan: true, ..Key::new(n) }
    }

    fn drifting(n: u32) -> Self {
        Key { drift: true, ..Key::new(n) }
    }
}

impl Clone for Key {
    fn clone(&self) -> Self {
        CLONE_CALLS.with(|calls| calls.set(calls.get() + 1));
        Key { n: self.n, nan: self.nan, drift: self.drift, hashed: Cell::new(0) }
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        EQ_CALLS.with(|calls| calls.set(calls.get() + 1));
        !self.nan && !other.nan && self.n == other.n
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        HASH_CALLS.with(|calls| calls.set(calls.get() + 1));
        self.n.hash(state);
        if self.drift {
            self.hashed.set(self.hashed.get() + 1);
            self.hashed.get().hash(state);
        }
    }
}

type Map<P, S> = HamtMap<Key, u32, P, S>;

/// `entry(k).or_insert(v)` with keys that equal nothing: each call inserts a new entry (as std's `HashMap` does)
/// and returns it, without panicking, cloning the key or comparing it after the search.
fn nan_keys_insert_without_panicking<P: PointerKind, S: BuildHasher + Default + Clone>() {
    let mut map = Map::<P, S>::default();
    let mut model = HashMap::new();
    let keys = common::scaled(200, 20) as u32;
    for round in 0..2 {
        for n in 0..keys {
            let before = counts();
            *map.entry(Key::nan(n)).or_insert(round) += 10;
            let after = counts();
            assert_eq!(after.2, before.2, "entry cloned the key");
            // The search compares with the entries at the key's place; nothing is compared after inserting.
            assert!(after.0 - before.0 <= map.len() as u64, "entry compared more than one search does");
            model.insert((n, round), round + 10);
        }
        assert_eq!(map.len(), model.len());
    }
    map.check_invariants();
    let mut values: Vec<u32> = map.values().copied().collect();
    let mut expected: Vec<u32> = model.values().copied().collect();
    values.sort_unstable();
    expected.sort_unstable();
    assert_eq!(values, expected);
    // No lookup finds a NaN key, so none can be removed; the map still works for other operations.
    assert_eq!(map.remove_mut(&Key::nan(0)), None);
    assert_eq!(map.iter().count(), map.len());
    let copy = map.insert(Key::new(1_000_000), 1);
    assert_eq!(copy.len(), map.len() + 1);
}

/// A key whose hash drifts goes in where its first hash led, once, without a panic.
fn drifting_keys_insert_without_panicking<P: PointerKind, S: BuildHasher + Default + Clone>() {
    let mut map = Map::<P, S>::default();
    let keys = common::scaled(200, 20) as u32;
    for n in 0..keys {
        let key = Key::drifting(n);
        let before = counts();
        *map.entry(key).or_insert(n) += 1;
        // Once for the key, and once more when an entry it meets must move down a level.
        assert!(counts().1 - before.1 <= 2, "the key was hashed more than once");
    }
    assert_eq!(map.len(), keys as usize);
    assert_eq!(map.iter().count(), keys as usize);
    assert!(map.values().all(|value| *value >= 1));
}

/// One search per `entry`: an occupied key is compared once (a bitmap node holds one candidate) and hashed once,
/// whatever the entry does next; the key is never cloned.
fn entry_searches_once<P: PointerKind, S: BuildHasher + Default + Clone>() {
    let mut map = Map::<P, S>::default();
    let keys = common::scaled(300, 30) as u32;
    for n in 0..keys {
        map.insert_mut(Key::new(n), n);
    }
    // First on a map that owns its nodes, then on a copy sharing them with the first (whose paths are copied,
    // which clones the entries of the copied nodes: those clones are not counted against the entry).
    let mut kept = None;
    for sharing in [false, true] {
        let target = if sharing { kept.insert(map.clone()) } else { &mut map };
        for n in 0..keys {
            let before = counts();
            *target.entry(Key::new(n)).or_insert(0) += 1;
            let after = counts();
            let clones = if sharing { 0 } else { after.2 - before.2 };
            assert_eq!((after.0 - before.0, after.1 - before.1, clones), (1, 1, 0), "key {n}");
            let before = counts();
            match target.entry(Key::new(n)) {
                Entry::Occupied(mut entry) => {
                    assert_eq!(entry.key().n, n);
                    *entry.get_mut() += 1;
                    assert_eq!(*entry.get(), n + if sharing { 4 } else { 2 });
                }
                Entry::Vacant(_) => panic!("key {n} is present"),
            }
            let after = counts();
            let clones = if sharing { 0 } else { after.2 - before.2 };
            assert_eq!((after.0 - before.0, after.1 - before.1, clones), (1, 1, 0), "key {n}");
        }
        target.check_invariants();
    }
    assert!(map.iter().all(|(key, value)| *value == key.n + 2));
    assert!(kept.expect("made above").iter().all(|(key, value)| *value == key.n + 4));
}

/// `insert_entry` on vacant NaN-like keys: no panic, no clone, and the returned entry reads and changes the value.
fn nan_keys_insert_entry<P: PointerKind, S: BuildHasher + Default + Clone>() {
    let mut map = Map::<P, S>::default();
    let keys = common::scaled(100, 12) as u32;
    for n in 0..keys {
        let clones = counts().2;
        let mut entry = map.entry(Key::nan(n)).insert_entry(n);
        *entry.get_mut() += 1;
        assert_eq!((entry.key().n, *entry.get()), (n, n + 1));
        assert_eq!(counts().2, clones, "insert_entry cloned the key");
    }
    assert_eq!(map.len(), keys as usize);
    map.check_invariants();
    // A normal key, inserted and removed through the entry (the removal searches with a clone of the stored key).
    let entry = map.entry(Key::new(1_000_000)).insert_entry(7);
    assert_eq!(entry.remove_entry().1, 7);
    assert_eq!(map.len(), keys as usize);
}

/// A map built only through vacant entries, which insert at the node where `entry`'s walk stopped: beside an entry
/// that must move down, into an empty slot deep in the trie, or into a collision node; and, once a clone shares
/// the nodes, from the root with a path copy. It matches a model, keeps its invariants, never clones a key, and
/// leaves the clone as it was.
fn vacant_entries_insert_where_the_walk_stopped<P: PointerKind, S: BuildHasher + Default + Clone>() {
    let mut map = Map::<P, S>::default();
    let mut model = HashMap::new();
    let keys = common::scaled(400, 40) as u32;
    let mut snapshot = None;
    for n in 0..keys {
        if n == keys / 2 {
            snapshot = Some((map.clone(), model.clone()));
        }
        let clones = counts().2;
        match map.entry(Key::new(n)) {
            Entry::Vacant(entry) => *entry.insert(n) += 1,
            Entry::Occupied(_) => panic!("key {n} is absent"),
        }
        // (Once the clone shares the nodes, path copies clone the entries of the copied nodes.)
        if snapshot.is_none() {
            assert_eq!(counts().2, clones, "a vacant entry cloned the key");
        }
        model.insert(n, n + 1);
        // Every other key is looked at again through its now occupied entry.
        if n % 2 == 0 {
            assert_eq!(*map.entry(Key::new(n)).or_insert(0), n + 1);
        }
    }
    map.check_invariants();
    assert_eq!(map.len(), model.len());
    assert!(map.iter().all(|(key, value)| model[&key.n] == *value));
    let (half, half_model) = snapshot.expect("taken half way");
    half.check_invariants();
    assert_eq!(half.len(), half_model.len());
    assert!(half.iter().all(|(key, value)| half_model[&key.n] == *value));
}

for_each_kind!(nan_default, nan_keys_insert_without_panicking, [DefaultHashBuilder]);
for_each_kind!(nan_insert_entry_default, nan_keys_insert_entry, [DefaultHashBuilder]);
for_each_kind!(nan_insert_entry_one_hash, nan_keys_insert_entry, [OneHash]);
for_each_kind!(nan_collide, nan_keys_insert_without_panicking, [Collide]);
for_each_kind!(nan_one_hash, nan_keys_insert_without_panicking, [OneHash]);
for_each_kind!(drift_default, drifting_keys_insert_without_panicking, [DefaultHashBuilder]);
for_each_kind!(drift_collide, drifting_keys_insert_without_panicking, [Collide]);
for_each_kind!(searches_once, entry_searches_once, [DefaultHashBuilder]);
for_each_kind!(vacant_default, vacant_entries_insert_where_the_walk_stopped, [DefaultHashBuilder]);
for_each_kind!(vacant_collide, vacant_entries_insert_where_the_walk_stopped, [Collide]);
for_each_kind!(vacant_one_hash, vacant_entries_insert_where_the_walk_stopped, [OneHash]);

/// Removing moves the stored key and value out (no clone) from a map that owns its nodes, the last entry too, and
/// `remove_entry_mut` returns the stored key, not the one it was given.
fn removals_move<P: PointerKind, S: BuildHasher + Default + Clone>() {
    let mut map = Map::<P, S>::default();
    let keys = common::scaled(100, 12) as u32;
    for n in 0..keys {
        // The stored key is marked by its drift flag's absence; the probe differs only in that.
        map.insert_mut(Key::new(n), n);
    }
    let clones = counts().2;
    for n in 0..keys {
        let probe = Key { hashed: Cell::new(99), ..Key::new(n) };
        let (key, value) = map.remove_entry_mut(&probe).expect("present");
        assert_eq!((key.n, value), (n, n));
        assert_eq!(key.hashed.get(), 0, "returned the probe's key, not the stored one");
        assert_eq!(map.len(), (keys - n - 1) as usize);
    }
    assert!(map.is_empty());
    map.insert_mut(Key::new(7), 7);
    assert_eq!(map.remove_mut(&Key::new(7)), Some(7));
    assert_eq!(counts().2, clones, "a removal cloned a key or a value");
    map.check_invariants();
}

for_each_kind!(removals_default, removals_move, [DefaultHashBuilder]);
for_each_kind!(removals_collide, removals_move, [Collide]);
