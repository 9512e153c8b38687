//! Drop counting and panic safety.
//!
//! Keys and values are `Tracked`: every instance gets a serial number, registered while it lives. A drop of a
//! serial that is not live is counted as a double drop; serials still live after every map is gone are leaks.
//! The counters are thread-local, since tests run on parallel threads.
//!
//! Panic safety: `Tracked::clone`, `Tracked::hash` and `Tracked::drop` can each be armed to panic after a number
//! of calls. Each operation is run with every budget from zero up to the number of calls it needs, on maps that
//! share their nodes with another version (so that updates copy paths) and on maps that own all their nodes (so
//! that updates change nodes in place); after each panic the inputs must be intact, the map must be as before or
//! as after the operation (with its invariants and its length right), nothing may leak, and nothing may be
//! dropped twice.

mod common;

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::hash::{BuildHasher, Hash, Hasher};
use std::mem;
use std::panic::{self, AssertUnwindSafe};

use common::{Collide, Deep, FewBits};
use hamt_core::{DefaultHashBuilder, Entry, HamtMap, PointerKind};
use quickcheck::{Arbitrary, Gen};

thread_local! {
    static LIVE: RefCell<HashSet<u64>> = RefCell::new(HashSet::new());
    static NEXT_SERIAL: Cell<u64> = const { Cell::new(0) };
    static DOUBLE_DROPS: Cell<u64> = const { Cell::new(0) };
    static CLONE_BUDGET: Cell<Option<u64>> = const { Cell::new(None) };
    static HASH_BUDGET: Cell<Option<u64>> = const { Cell::new(None) };
    static DROP_BUDGET: Cell<Option<u64>> = const { Cell::new(None) };
}

/// A counted instance: equal, ordered and hashed by `n` alone.
#[derive(Debug)]
struct Tracked {
    n: u32,
    serial: u64,
}

impl Tracked {
    fn new(n: u32) -> Self {
        let serial = NEXT_SERIAL.with(|next| {
            let serial = next.get();
            next.set(serial + 1);
            serial
        });
        LIVE.with(|live| assert!(live.borrow_mut().insert(serial), "serial reused"));
        Tracked { n, serial }
    }
}

/// Spends one unit of an armed budget; panics when it is exhausted (and disarms, so that only one panic happens).
fn spend(budget: &'static std::thread::LocalKey<Cell<Option<u64>>>, what: &str) {
    budget.with(|budget| match budget.get() {
        None => {}
        Some(0) => {
            budget.set(None);
            panic!("test: {what} budget exhausted");
        }
        Some(n) => budget.set(Some(n - 1)),
    });
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        spend(&CLONE_BUDGET, "clone");
        Tracked::new(self.n)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let was_live = LIVE.with(|live| live.borrow_mut().remove(&self.serial));
        if !was_live {
            DOUBLE_DROPS.with(|count| count.set(count.get() + 1));
        }
        // An armed budget panics here, once the instance is unregistered (it is gone either way). Never while the
        // thread is already unwinding: a second panic would abort the whole test binary.
        if !std::thread::panicking() {
            spend(&DROP_BUDGET, "drop");
        }
    }
}

impl PartialEq for Tracked {
    fn eq(&self, other: &Self) -> bool {
        self.n == other.n
    }
}

impl Eq for Tracked {}

impl Hash for Tracked {
    fn hash<H: Hasher>(&self, state: &mut H) {
        spend(&HASH_BUDGET, "hash");
        self.n.hash(state);
    }
}

fn t(n: u32) -> Tracked {
    Tracked::new(n)
}

fn live() -> usize {
    LIVE.with(|live| live.borrow().len())
}

fn double_drops() -> u64 {
    DOUBLE_DROPS.with(Cell::get)
}

/// Starts a test on this thread with clean counters.
fn reset() {
    LIVE.with(|live| live.borrow_mut().clear());
    DOUBLE_DROPS.with(|count| count.set(0));
    CLONE_BUDGET.with(|budget| budget.set(None));
    HASH_BUDGET.with(|budget| budget.set(None));
    DROP_BUDGET.with(|budget| budget.set(None));
}

#[track_caller]
fn assert_clean(what: &str) {
    assert_eq!(double_drops(), 0, "{what}: instances dropped twice");
    assert_eq!(live(), 0, "{what}: instances leaked");
}

type Map<P, S> = HamtMap<Tracked, Tracked, P, S>;

fn contents<P: PointerKind, S: BuildHasher>(map: &Map<P, S>) -> Vec<(u32, u32)> {
    map.check_invariants();
    let mut entries: Vec<(u32, u32)> = map.iter().map(|(k, v)| (k.n, v.n)).collect();
    entries.sort_unstable();
    assert_eq!(entries.len(), map.len());
    entries
}

fn build<P: PointerKind, S: BuildHasher + Default + Clone>(keys: impl Iterator<Item = u32>) -> Map<P, S> {
    let mut map = Map::<P, S>::default();
    for n in keys {
        map.insert_mut(t(n), t(n * 10));
    }
    map
}

// ---------------------------------------------------------------------------------------------------------------
// Exactly-once drops across many versions.

#[derive(Clone, Debug)]
enum Op {
    Insert(u8, u8),
    Remove(u8),
    UpdateWith(u8, Option<u8>),
    With(u8, u8),
    Without(u8),
    InsertMut(u8, u8),
    RemoveMut(u8),
    RemoveEntryMut(u8),
    UpdateWithMut(u8, Option<u8>),
    GetMut(u8),
    EntryInsert(u8, u8),
    EntryRemove(u8),
    Retain(u8),
    IterMut,
    Extend(Vec<(u8, u8)>),
    ExtendLarge(u8),
    /// Consumes `into_iter` of a clone partly, then drops the iterator.
    IntoIterPartial(u8),
    /// Replaces the map with the set operation of it and a kept version (by index).
    Union(u8),
    Intersection(u8),
    Difference(u8),
    SymmetricDifference(u8),
    Snapshot,
    /// Drops a kept version (by index).
    DropVersion(u8),
    Clear,
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Self {
        let (k, v) = (u8::arbitrary(g), u8::arbitrary(g));
        match u8::arbitrary(g) % 32 {
            0..=3 => Op::Insert(k, v),
            4..=5 => Op::Remove(k),
            6 => Op::UpdateWith(k, Option::arbitrary(g)),
            7 => Op::With(k, v),
            8 => Op::Without(k),
            9..=11 => Op::InsertMut(k, v),
            12..=13 => Op::RemoveMut(k),
            14 => Op::RemoveEntryMut(k),
            15 => Op::UpdateWithMut(k, Option::arbitrary(g)),
            16 => Op::GetMut(k),
            17 => Op::EntryInsert(k, v),
            18 => Op::EntryRemove(k),
            19 => Op::Retain(k),
            20 => Op::IterMut,
            21 => Op::Extend(Arbitrary::arbitrary(g)),
            22 => Op::ExtendLarge(v),
            23 => Op::IntoIterPartial(k),
            24 => Op::Union(k),
            25 => Op::Intersection(k),
            26 => Op::Difference(k),
            27 => Op::SymmetricDifference(k),
            28..=29 => Op::Snapshot,
            30 => Op::DropVersion(k),
            _ => Op::Clear,
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        match self {
            Op::Extend(entries) => Box::new(entries.shrink().map(Op::Extend)),
            _ => quickcheck::empty_shrinker(),
        }
    }
}

fn run_versions<P: PointerKind, S: BuildHasher + Default + Clone>(ops: &[Op]) {
    let key = |k: &u8| t(u32::from(k % 64));
    let val = |v: &u8| t(u32::from(*v));
    let mut map = Map::<P, S>::default();
    let mut versions: Vec<Map<P, S>> = Vec::new();
    for op in ops {
        let pick = |versions: &Vec<Map<P, S>>, i: &u8| versions.get(usize::from(*i) % versions.len().max(1)).cloned();
        match op {
            Op::Insert(k, v) => {
                let next = map.insert(key(k), val(v));
                versions.push(mem::replace(&mut map, next));
            }
            Op::Remove(k) => {
                let next = map.remove(&key(k));
                versions.push(mem::replace(&mut map, next));
            }
            Op::UpdateWith(k, v) => {
                let next = map.update_with(key(k), |_| v.as_ref().map(val));
                versions.push(mem::replace(&mut map, next));
            }
            Op::With(k, v) => map = mem::take(&mut map).with(key(k), val(v)),
            Op::Without(k) => map = mem::take(&mut map).without(&key(k)),
            Op::InsertMut(k, v) => drop(map.insert_mut(key(k), val(v))),
            Op::RemoveMut(k) => drop(map.remove_mut(&key(k))),
            Op::RemoveEntryMut(k) => drop(map.remove_entry(&key(k))),
            Op::UpdateWithMut(k, v) => drop(map.update_with_mut(key(k), |_| v.as_ref().map(val))),
            Op::GetMut(k) => {
                if let Some(value) = map.get_mut(&key(k)) {
                    *value = t(value.n + 1);
                }
            }
            Op::EntryInsert(k, v) => match map.entry(key(k)) {
                Entry::Occupied(mut entry) => drop(entry.insert(val(v))),
                Entry::Vacant(entry) => drop(entry.insert(val(v))),
            },
            Op::EntryRemove(k) => {
                if let Entry::Occupied(entry) = map.entry(key(k)) {
                    drop(entry.remove_entry());
                }
            }
            Op::Retain(m) => {
                let m = u32::from(m % 3) + 2;
                map.retain(|key, value| {
                    *value = t(value.n + 1);
                    key.n % m != 0
                });
            }
            Op::IterMut => map.iter_mut().for_each(|(_, value)| *value = t(value.n * 2)),
            Op::Extend(entries) => map.extend(entries.iter().map(|(k, v)| (key(k), val(v)))),
            Op::ExtendLarge(v) => {
                // At least 64 entries, for the bulk path.
                let len: u8 = if common::reduced() { 66 } else { 100 };
                map.extend((0..len).map(|k| (key(&k.wrapping_mul(*v | 1)), val(&k))));
            }
            Op::IntoIterPartial(n) => {
                let mut iter = map.clone().into_iter();
                for _ in 0..(usize::from(*n) % (map.len() + 1)) {
                    drop(iter.next());
                }
            }
            Op::Union(i) => map = map.union(&pick(&versions, i).unwrap_or_default()),
            Op::Intersection(i) => map = map.intersection(&pick(&versions, i).unwrap_or_default()),
            Op::Difference(i) => map = map.difference(&pick(&versions, i).unwrap_or_default()),
            Op::SymmetricDifference(i) => map = map.symmetric_difference(&pick(&versions, i).unwrap_or_default()),
            Op::Snapshot => versions.push(map.clone()),
            Op::DropVersion(i) => {
                if !versions.is_empty() {
                    let i = usize::from(*i) % versions.len();
                    drop(versions.swap_remove(i));
                }
            }
            Op::Clear => map.clear(),
        }
        map.check_invariants();
        assert_eq!(double_drops(), 0, "an instance was dropped twice");
    }
    // Drop the versions in an order unrelated to their creation.
    while !versions.is_empty() {
        let i = (versions.len() * 7 + 3) % versions.len();
        versions.swap_remove(i).check_invariants();
    }
    drop(map);
}

fn versions_drop_once<P: PointerKind, S: BuildHasher + Default + Clone>() {
    fn property<P: PointerKind, S: BuildHasher + Default + Clone>(ops: Vec<Op>) -> bool {
        reset();
        run_versions::<P, S>(&ops);
        assert_clean("after dropping every version");
        true
    }
    common::check(100, 80, property::<P, S> as fn(Vec<Op>) -> bool);
}

for_each_kind!(versions_default, versions_drop_once, [DefaultHashBuilder]);
for_each_kind!(miri_arc versions_collide, versions_drop_once, [Collide]);
for_each_kind!(native_only versions_deep, versions_drop_once, [Deep]);

// ---------------------------------------------------------------------------------------------------------------
// Iterators and in-place operations on shared maps.

/// `into_iter` stopped after `taken` entries, on a map that is unshared, wholly shared, or partly shared.
fn into_iter_partial<P: PointerKind, S: BuildHasher + Default + Clone>() {
    let size = common::scaled(150, 30) as u32;
    let steps: Vec<usize> = (0..=size as usize).step_by(common::scaled(7, 11)).collect();
    for sharing in 0..3 {
        for &taken in &steps {
            reset();
            let base = build::<P, S>(0..size);
            let expected = contents(&base);
            let (map, kept) = match sharing {
                0 => (base, None),
                1 => (base.clone(), Some(base)),
                _ => {
                    let mut partly = base.clone();
                    for n in (0..size).step_by(5) {
                        partly.insert_mut(t(n), t(n + 1));
                    }
                    (partly, Some(base))
                }
            };
            let mut iter = map.into_iter();
            let mut seen = HashSet::new();
            for i in 0..taken {
                assert_eq!(iter.len(), size as usize - i);
                let (key, _) = iter.next().expect("len promised more");
                assert!(seen.insert(key.n), "into_iter yielded key {} twice", key.n);
            }
            drop(iter);
            if let Some(kept) = &kept {
                assert_eq!(contents(kept), expected, "into_iter must not change a version that shares its nodes");
            }
            drop(kept);
            assert_clean(&format!("into_iter, sharing {sharing}, {taken} taken"));
        }
    }
}

for_each_kind!(into_iter_default, into_iter_partial, [DefaultHashBuilder]);
for_each_kind!(into_iter_collide, into_iter_partial, [Collide]);
for_each_kind!(native_only into_iter_deep, into_iter_partial, [Deep]);

/// `iter_mut`, `values_mut`, `retain` and `clear` on a map that shares its nodes with another version.
fn in_place_on_shared<P: PointerKind, S: BuildHasher + Default + Clone>() {
    reset();
    let size = common::scaled(200, 16) as u32;
    let base = build::<P, S>(0..size);
    let expected = contents(&base);

    let mut changed = base.clone();
    assert_eq!(changed.iter_mut().len(), size as usize);
    for (key, value) in changed.iter_mut() {
        *value = t(key.n + 1);
    }
    assert_eq!(contents(&base), expected, "iter_mut must not change a version that shares its nodes");
    assert!(changed.iter().all(|(k, v)| v.n == k.n + 1));

    let mut doubled = changed.clone();
    doubled.values_mut().for_each(|value| *value = t(value.n * 2));
    assert!(changed.iter().all(|(k, v)| v.n == k.n + 1), "values_mut changed a shared version");

    let mut retained = base.clone();
    retained.retain(|key, value| {
        *value = t(value.n + 3);
        key.n % 3 == 0
    });
    assert_eq!(contents(&base), expected, "retain must not change a version that shares its nodes");
    assert_eq!(
        contents(&retained),
        expected.iter().filter(|(k, _)| k % 3 == 0).map(|&(k, v)| (k, v + 3)).collect::<Vec<_>>()
    );

    let mut cleared = retained.clone();
    cleared.clear();
    assert_eq!(cleared.len(), 0);
    assert_eq!(retained.len(), expected.iter().filter(|(k, _)| k % 3 == 0).count());

    drop((base, changed, doubled, retained, cleared));
    assert_clean("in-place operations on shared maps");
}

for_each_kind!(native_only in_place_default, in_place_on_shared, [DefaultHashBuilder]);
for_each_kind!(in_place_collide, in_place_on_shared, [Collide]);
for_each_kind!(native_only in_place_few_bits, in_place_on_shared, [FewBits]);

/// Every instance the map ever held is dropped exactly once, and old values are returned (not dropped) by the
/// `_mut` operations.
fn values_returned_not_dropped<P: PointerKind, S: BuildHasher + Default + Clone>() {
    reset();
    let mut map = Map::<P, S>::default();
    for n in 0..50 {
        assert!(map.insert_mut(t(n), t(n)).is_none());
    }
    assert_eq!(live(), 100);
    let old = map.insert_mut(t(7), t(700)).expect("7 is present");
    assert_eq!(old.n, 7);
    // The new key instance was dropped (the stored key is kept); the old value is in `old`.
    assert_eq!(live(), 101);
    drop(old);
    assert_eq!(live(), 100);
    let removed = map.remove_entry(&t(8)).expect("8 is present");
    assert_eq!((removed.0.n, removed.1.n), (8, 8));
    assert_eq!(live(), 100);
    drop(removed);
    assert_eq!(live(), 98);
    let shared = map.clone();
    assert_eq!(live(), 98, "clone must not clone entries");
    let updated = map.insert(t(9), t(900));
    assert!(live() > 98, "a persistent insert copies a path");
    drop(updated);
    assert_eq!(live(), 98, "dropping a version frees exactly its own copies");
    drop(shared);
    drop(map);
    assert_clean("returned values");
}

for_each_kind!(returned_default, values_returned_not_dropped, [DefaultHashBuilder]);
for_each_kind!(native_only returned_collide, values_returned_not_dropped, [Collide]);

// ---------------------------------------------------------------------------------------------------------------
// Panic safety.

/// The operations swept with every panic budget. Each takes the map (which shares its nodes with `kept`) and
/// another version derived from it, and returns what it produced.
const PANIC_OPS: &[&str] = &[
    "insert new",
    "insert existing",
    "remove",
    "update_with",
    "insert_mut",
    "insert_mut existing",
    "remove_mut",
    "update_with_mut",
    "with",
    "without",
    "get_mut",
    "entry insert",
    "entry remove",
    "iter_mut",
    "retain",
    "into_iter",
    "union",
    "union_with",
    "intersection",
    "difference",
    "symmetric_difference",
    "extend large",
    "from_iter",
    "update_with remove",
    "update_with_mut remove",
    "remove_entry_mut",
    "entry or_insert new",
    "entry or_insert existing",
    "clear",
    "drop",
];

/// The operations swept under Miri: one of each kind of path copy (persistent, in place on a shared path, whole
/// trie, merge), each with a different way to unwind out of a half-built node.
const MIRI_PANIC_OPS: &[&str] = &["insert new", "remove", "insert_mut", "iter_mut", "into_iter", "union"];

/// The operations swept with a panicking `Drop` under Miri: each place where the map drops what it took out.
const MIRI_DROP_PANIC_OPS: &[&str] =
    &["insert_mut existing", "remove_mut", "update_with_mut remove", "entry remove", "clear", "drop"];

/// Runs operation `op` on `map`; returns the maps it produced. `present` is a key in the map, `absent` one that is
/// not but that collides with `present` as far as the hasher allows.
fn apply<P: PointerKind, S: BuildHasher + Default + Clone>(
    op: &str,
    map: &mut Map<P, S>,
    other: &Map<P, S>,
    present: u32,
    absent: u32,
) -> Vec<Map<P, S>> {
    match op {
        "insert new" => vec![map.insert(t(absent), t(1))],
        "insert existing" => vec![map.insert(t(present), t(1))],
        "remove" => {
            // Not `vec![map.remove(&t(present))]`: a value being returned is not dropped when a temporary's `Drop`
            // panics after it is built (rust-lang/rust#47949), which would show as a leak of the test's own.
            let key = t(present);
            let removed = map.remove(&key);
            drop(key);
            vec![removed]
        }
        "update_with" => vec![map.update_with(t(present), |v| v.map(|v| t(v.n + 1)))],
        "insert_mut" => {
            map.insert_mut(t(absent), t(1));
            vec![]
        }
        "insert_mut existing" => {
            map.insert_mut(t(present), t(1));
            vec![]
        }
        "remove_mut" => {
            map.remove_mut(&t(present));
            vec![]
        }
        "update_with_mut" => {
            map.update_with_mut(t(present), |v| v.map(|v| t(v.n + 1)));
            vec![]
        }
        "with" => {
            *map = mem::take(map).with(t(absent), t(1));
            vec![]
        }
        "without" => {
            *map = mem::take(map).without(&t(present));
            vec![]
        }
        "get_mut" => {
            if let Some(value) = map.get_mut(&t(present)) {
                *value = t(2);
            }
            vec![]
        }
        "entry insert" => {
            match map.entry(t(absent)) {
                Entry::Vacant(entry) => drop(entry.insert(t(3))),
                Entry::Occupied(mut entry) => drop(entry.insert(t(3))),
            }
            vec![]
        }
        "entry remove" => {
            if let Entry::Occupied(entry) = map.entry(t(present)) {
                drop(entry.remove());
            }
            vec![]
        }
        "iter_mut" => {
            map.iter_mut().for_each(|(_, value)| *value = t(value.n + 1));
            vec![]
        }
        "retain" => {
            map.retain(|key, _| key.n % 2 == 0);
            vec![]
        }
        "into_iter" => {
            let entries: Vec<(Tracked, Tracked)> = mem::take(map).into_iter().collect();
            drop(entries);
            vec![]
        }
        "union" => vec![map.union(other)],
        "union_with" => vec![map.union_with(other, |_, l, r| t(l.n + r.n))],
        "intersection" => vec![map.intersection(other)],
        "difference" => vec![map.difference(other)],
        "symmetric_difference" => vec![map.symmetric_difference(other)],
        "extend large" => {
            map.extend(other.iter().map(|(k, v)| (t(k.n), t(v.n + 5))));
            vec![]
        }
        "from_iter" => vec![other.iter().map(|(k, v)| (k.clone(), v.clone())).collect()],
        "update_with remove" => vec![map.update_with(t(present), |_| None)],
        "update_with_mut remove" => {
            map.update_with_mut(t(present), |_| None);
            vec![]
        }
        "remove_entry_mut" => {
            drop(map.remove_entry_mut(&t(present)));
            vec![]
        }
        "entry or_insert new" => {
            map.entry(t(absent)).or_insert(t(4)).n += 1;
            vec![]
        }
        "entry or_insert existing" => {
            map.entry(t(present)).or_insert(t(4)).n += 1;
            vec![]
        }
        "clear" => {
            map.clear();
            vec![]
        }
        "drop" => {
            drop(mem::take(map));
            vec![]
        }
        _ => unreachable!("unknown operation {op}"),
    }
}

/// The map the panic tests start from, a kept version of it, and another version derived from it. When `shared`,
/// the three share their nodes; otherwise each was built on its own, so that the map owns all its nodes.
fn panic_fixture<P: PointerKind, S: BuildHasher + Default + Clone>(
    size: u32,
    shared: bool,
) -> (Map<P, S>, Map<P, S>, Map<P, S>) {
    let map = build::<P, S>(0..size);
    let kept = if shared { map.clone() } else { build::<P, S>(0..size) };
    let mut other = if shared { map.clone() } else { build::<P, S>(0..size) };
    for n in (0..size).step_by(3) {
        other.insert_mut(t(n), t(n + 1000));
    }
    for n in size..size + size / 4 {
        other.insert_mut(t(n), t(n));
    }
    other.remove_mut(&t(1));
    (map, kept, other)
}

/// Sweeps the budget of `budget` (clone or hash calls) over every operation.
fn sweep<P: PointerKind, S: BuildHasher + Default + Clone>(
    budget: &'static std::thread::LocalKey<Cell<Option<u64>>>,
    what: &str,
) {
    let size = common::scaled(80, 6) as u32;
    // In the collision-heavy hashers, `size + 4` shares its hash with `present` (keys that agree modulo 4).
    let (present, absent) = (size / 2, size / 2 + size * 4);
    // The expected panics' messages go to the test's captured output, shown only if the test fails.
    let mut failures = Vec::new();
    let drops = what == "drop";
    let ops = match (common::reduced(), drops) {
        (false, _) => PANIC_OPS,
        (true, false) => MIRI_PANIC_OPS,
        (true, true) => MIRI_DROP_PANIC_OPS,
    };
    // Natively, on shared and on unshared maps; under Miri, drop panics on unshared maps (the in-place paths) and
    // the other panics on shared ones (the path copies).
    let sharings: &[bool] = match (common::reduced(), drops) {
        (false, _) => &[true, false],
        (true, true) => &[false],
        (true, false) => &[true],
    };
    for (op, &shared) in ops.iter().flat_map(|op| sharings.iter().map(move |shared| (op, shared))) {
        let what = &format!("{what} ({})", if shared { "shared" } else { "unshared" });
        // What the operation does without a panic, on a fresh fixture.
        reset();
        let (mut map, kept, other) = panic_fixture::<P, S>(size, shared);
        let before = contents(&map);
        let produced = apply(op, &mut map, &other, present, absent);
        // Operations that consume the map leave nothing to compare after a panic.
        let consumes = matches!(*op, "into_iter" | "with" | "without" | "drop");
        let after = if consumes { Vec::new() } else { contents(&map) };
        drop((map, kept, other, produced));
        assert_clean(&format!("{what}: {op} without a panic"));

        let mut limit = 0;
        loop {
            reset();
            let (mut map, kept, other) = panic_fixture::<P, S>(size, shared);
            let other_before = contents(&other);
            budget.with(|cell| cell.set(Some(limit)));
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| apply(op, &mut map, &other, present, absent)));
            budget.with(|cell| cell.set(None));
            let panicked = outcome.is_err();
            drop(outcome);
            let check = panic::catch_unwind(AssertUnwindSafe(|| {
                assert_eq!(contents(&kept), before, "a kept version changed");
                assert_eq!(contents(&other), other_before, "the other operand changed");
                if !consumes {
                    let now = contents(&map);
                    let is_subset =
                        |small: &[(u32, u32)], large: &[(u32, u32)]| small.iter().all(|e| large.contains(e));
                    if *op == "retain" {
                        // Like std's, a `retain` stopped by a panic may have removed some of the doomed entries.
                        assert!(
                            is_subset(&after, &now) && is_subset(&now, &before),
                            "retain left a state between neither"
                        );
                    } else if *op == "extend large" && common::reduced() {
                        // A batch this small is inserted entry by entry, so a panic may leave it half applied.
                        let keys = |entries: &[(u32, u32)]| entries.iter().map(|e| e.0).collect::<HashSet<u32>>();
                        let either: Vec<(u32, u32)> = before.iter().chain(&after).copied().collect();
                        assert!(
                            is_subset(&now, &either) && keys(&before).is_subset(&keys(&now)),
                            "extend left a state that is not a partial extension"
                        );
                    } else if *op == "iter_mut" {
                        // The caller's closure replaces values one by one; a panic in it (here, dropping an old
                        // value) stops it half way, as with std's `iter_mut`: each value is the old or the new one.
                        assert!(
                            now.iter().all(|e| before.contains(e) || after.contains(e)) && now.len() == before.len(),
                            "iter_mut left an entry that is neither old nor new"
                        );
                    } else {
                        assert!(
                            now == before || now == after,
                            "the map is neither as before nor as after the operation"
                        );
                    }
                    // The map keeps working: it can be changed, in place and by path copy, and agrees with itself.
                    let mut again = map.clone();
                    again.insert_mut(t(absent), t(7));
                    for &(key, _) in now.iter().take(3) {
                        assert!(again.remove_mut(&t(key)).is_some(), "a key that iteration shows is not removable");
                    }
                    contents(&again);
                    drop(again);
                    for &(key, _) in now.iter().take(3) {
                        assert!(map.remove_mut(&t(key)).is_some(), "a key that iteration shows is not removable");
                    }
                    contents(&map);
                }
            }));
            drop((map, kept, other));
            let leaks = live();
            let doubles = double_drops();
            if let Err(error) = check {
                let message = error.downcast_ref::<String>().cloned().unwrap_or_default();
                failures.push(format!("{op}, {what} panic after {limit}: {message}"));
            }
            if leaks != 0 || doubles != 0 {
                failures.push(format!("{op}, {what} panic after {limit}: {leaks} leaked, {doubles} dropped twice"));
            }
            if !panicked {
                break;
            }
            // Every budget at first, then a sample; under Miri the first few, then a sparser sample.
            limit += match (common::reduced(), limit) {
                (true, 0..3) => 1,
                (true, _) => 5,
                (false, 0..40) => 1,
                (false, _) => 5,
            };
        }
    }
    assert!(failures.is_empty(), "panic safety failures:\n{}", failures.join("\n"));
}

fn clone_panics<P: PointerKind, S: BuildHasher + Default + Clone>() {
    sweep::<P, S>(&CLONE_BUDGET, "clone");
}

fn hash_panics<P: PointerKind, S: BuildHasher + Default + Clone>() {
    sweep::<P, S>(&HASH_BUDGET, "hash");
}

fn drop_panics<P: PointerKind, S: BuildHasher + Default + Clone>() {
    sweep::<P, S>(&DROP_BUDGET, "drop");
}

for_each_kind!(clone_panic_default, clone_panics, [DefaultHashBuilder]);
for_each_kind!(clone_panic_collide, clone_panics, [Collide]);
for_each_kind!(native_only clone_panic_deep, clone_panics, [Deep]);
for_each_kind!(hash_panic_default, hash_panics, [DefaultHashBuilder]);
for_each_kind!(native_only hash_panic_collide, hash_panics, [Collide]);
for_each_kind!(native_only hash_panic_few_bits, hash_panics, [FewBits]);
for_each_kind!(miri_arc drop_panic_default, drop_panics, [DefaultHashBuilder]);
for_each_kind!(drop_panic_collide, drop_panics, [Collide]);
for_each_kind!(native_only drop_panic_deep, drop_panics, [Deep]);
for_each_kind!(native_only drop_panic_few_bits, drop_panics, [FewBits]);
