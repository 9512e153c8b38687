//! Allocation failure that unwinds. std documents that the alloc-error hook may panic, and nightly's
//! `set_alloc_error_hook` makes it do so: `handle_alloc_error` then unwinds out of any operation that allocates.
//! This suite installs a global allocator that fails the Nth allocation (counted per thread, for the test's own
//! thread only) and a hook that panics, and runs every operation with every N from zero until it no longer fails,
//! on maps that own their nodes (the in-place reshapes: `edit`, `push_down`, `pull_up`) and on maps that share
//! them (the path copies). After each failure the map must be as before or as after the operation, its invariants
//! and length right, and it must keep working; nothing may leak, and nothing may be dropped twice (Miri checks the
//! memory itself: run it under Miri to see a use after free or a double free as an error).
//!
//! Fresh allocations and growing reallocations fail. Shrinking reallocations fail only in the removal sweeps: the
//! one place that cannot undo a failed shrink (`push_down`, after sliding an entry into a new child) aborts.
//!
//! Compiled only on nightly: always under Miri (which is nightly's), and natively with
//! `RUSTFLAGS="--cfg hamt_alloc_error_hook"`. `cargo xtask test` runs it both ways.
#![cfg(any(miri, hamt_alloc_error_hook))]
#![feature(alloc_error_hook)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System, set_alloc_error_hook};
use std::cell::Cell;
use std::hash::BuildHasher;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use common::{Collide, Deep};
use hamt_core::{DefaultHashBuilder, Entry, HamtMap, PointerKind};

thread_local! {
    /// Allocations left before one fails (`None`: never fail).
    static BUDGET: Cell<Option<u64>> = const { Cell::new(None) };
    /// Whether shrinking reallocations count (and can fail) too.
    static FAIL_SHRINKS: Cell<bool> = const { Cell::new(false) };
    /// Live `Item`s: created and cloned ones minus dropped ones.
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

/// Spends one allocation of the budget; true if this one must fail (which disarms it).
fn fails() -> bool {
    BUDGET.with(|budget| match budget.get() {
        None => false,
        Some(0) => {
            budget.set(None);
            true
        }
        Some(n) => {
            budget.set(Some(n - 1));
            false
        }
    })
}

struct FailingAllocator;

// SAFETY: every call is forwarded to `System` unchanged, or fails by returning null, which `GlobalAlloc` allows
// for `alloc` and `realloc` (a failed `realloc` leaves the old block as it was, which holds since `System` is not
// called then).
#[expect(unsafe_code, reason = "a global allocator implements an unsafe trait; it only forwards to `System`")]
unsafe impl GlobalAlloc for FailingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if fails() {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let counts = new_size > layout.size() || (new_size < layout.size() && FAIL_SHRINKS.with(Cell::get));
        if counts && fails() {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: FailingAllocator = FailingAllocator;

fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| set_alloc_error_hook(|layout| panic!("test: allocation of {layout:?} failed")));
}

/// A counted key or value with a heap part, so that a double drop is a double free (Miri reports it).
#[derive(Debug)]
struct Item {
    n: u32,
    heap: Box<u32>,
}

fn item(n: u32) -> Item {
    let heap = Box::new(n);
    LIVE.with(|live| live.set(live.get() + 1));
    Item { n, heap }
}

impl Clone for Item {
    fn clone(&self) -> Self {
        let copy = Item { n: self.n, heap: self.heap.clone() };
        LIVE.with(|live| live.set(live.get() + 1));
        copy
    }
}

impl Drop for Item {
    fn drop(&mut self) {
        LIVE.with(|live| live.set(live.get() - 1));
    }
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        self.n == other.n
    }
}

impl Eq for Item {}

impl std::hash::Hash for Item {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.n.hash(state);
    }
}

type Map<P, S> = HamtMap<Item, Item, P, S>;

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
        map.insert_mut(item(n), item(n * 10));
    }
    map
}

/// The operations that can insert (and so grow nodes or push entries down), and those that only remove (and so
/// shrink nodes or pull entries up), which also run with failing shrinks.
const GROWING: &[&str] = &[
    "insert_mut new",
    "insert_mut existing",
    "insert new",
    "insert existing",
    "entry insert",
    "update_with_mut",
    "get_mut",
    "iter_mut",
    "union",
    "extend",
    "from_iter",
    "into_iter",
];
const SHRINKING: &[&str] =
    &["remove_mut", "remove_entry_mut", "remove", "update_with_mut remove", "entry remove", "retain", "clear"];

fn apply<P: PointerKind, S: BuildHasher + Default + Clone>(
    op: &str,
    map: &mut Map<P, S>,
    other: &Map<P, S>,
    present: u32,
    absent: u32,
) -> Vec<Map<P, S>> {
    match op {
        "insert_mut new" => drop(map.insert_mut(item(absent), item(1))),
        "insert_mut existing" => drop(map.insert_mut(item(present), item(1))),
        "insert new" => return vec![map.insert(item(absent), item(1))],
        "insert existing" => return vec![map.insert(item(present), item(1))],
        "entry insert" => match map.entry(item(absent)) {
            Entry::Vacant(entry) => entry.insert(item(2)).n += 1,
            Entry::Occupied(entry) => entry.into_mut().n += 1,
        },
        "update_with_mut" => drop(map.update_with_mut(item(present), |v| v.map(|v| item(v.n + 1)))),
        "get_mut" => {
            if let Some(value) = map.get_mut(&item(present)) {
                value.n += 0;
            }
        }
        "iter_mut" => map.iter_mut().for_each(|(_, value)| value.n += 0),
        "union" => return vec![map.union(other)],
        "extend" => map.extend(other.iter().map(|(k, v)| (k.clone(), item(v.n + 5)))),
        "from_iter" => return vec![other.iter().map(|(k, v)| (k.clone(), v.clone())).collect()],
        "into_iter" => drop(std::mem::take(map).into_iter().collect::<Vec<_>>()),
        "remove_mut" => drop(map.remove_mut(&item(present))),
        "remove_entry_mut" => drop(map.remove_entry_mut(&item(present))),
        "remove" => {
            let key = item(present);
            let removed = map.remove(&key);
            drop(key);
            return vec![removed];
        }
        "update_with_mut remove" => drop(map.update_with_mut(item(present), |_| None)),
        "entry remove" => {
            if let Entry::Occupied(entry) = map.entry(item(present)) {
                drop(entry.remove_entry());
            }
        }
        "retain" => map.retain(|key, _| key.n % 3 != 0),
        "clear" => map.clear(),
        _ => unreachable!("unknown operation {op}"),
    }
    vec![]
}

/// Under Miri, one operation of each kind of reshape: a push-down or an edit that grows a node (in place and
/// through the entry API), a path copy, and a removal that shrinks a node or takes a pair in.
const MIRI_OPS: &[&str] = &["insert_mut new", "insert new", "entry insert", "remove_mut"];

/// Every operation, on shared and unshared maps; the removals also with failing shrinks.
fn sweep<P: PointerKind, S: BuildHasher + Default + Clone>() {
    let kept = |op: &&&str| !common::reduced() || MIRI_OPS.contains(op);
    let growing = GROWING.iter().filter(kept).flat_map(|op| [(op, false, false), (op, false, true)]);
    let shrinking = SHRINKING
        .iter()
        .filter(kept)
        .flat_map(|op| [(op, false, false), (op, false, true), (op, true, false), (op, true, true)]);
    sweep_runs::<P, S>(growing.chain(shrinking));
}

fn sweep_runs<'a, P: PointerKind, S: BuildHasher + Default + Clone>(
    runs: impl Iterator<Item = (&'a &'static str, bool, bool)>,
) {
    install_hook();
    let size = common::scaled(40, 4) as u32;
    let (present, absent) = (size / 2, size / 2 + size * 4);
    let mut failures = Vec::new();
    for (op, fail_shrinks, shared) in runs {
        {
            let fixture = || {
                let map = build::<P, S>(0..size);
                let kept = if shared { map.clone() } else { build::<P, S>(0..size) };
                let mut other = build::<P, S>(size / 2..size + size / 2);
                other.insert_mut(item(absent), item(3));
                (map, kept, other)
            };
            let (mut map, kept, other) = fixture();
            let before = contents(&map);
            let produced = apply(op, &mut map, &other, present, absent);
            let consumes = *op == "into_iter";
            let after = if consumes { Vec::new() } else { contents(&map) };
            drop((map, kept, other, produced));
            assert_eq!(LIVE.with(Cell::get), 0, "{op}: leaked without a failure");

            for limit in 0.. {
                let (mut map, kept, other) = fixture();
                FAIL_SHRINKS.with(|flag| flag.set(fail_shrinks));
                BUDGET.with(|budget| budget.set(Some(limit)));
                let outcome = panic::catch_unwind(AssertUnwindSafe(|| apply(op, &mut map, &other, present, absent)));
                BUDGET.with(|budget| budget.set(None));
                FAIL_SHRINKS.with(|flag| flag.set(false));
                let failed = outcome.is_err();
                drop(outcome);
                let what = format!("{op} (shared: {shared}, failing shrinks: {fail_shrinks}), allocation {limit}");
                let check = panic::catch_unwind(AssertUnwindSafe(|| {
                    assert_eq!(contents(&kept), before, "a kept version changed");
                    if !consumes {
                        let now = contents(&map);
                        let subset =
                            |small: &[(u32, u32)], large: &[(u32, u32)]| small.iter().all(|e| large.contains(e));
                        if matches!(*op, "retain" | "extend") {
                            // Entry by entry: a failure may stop them half way.
                            let either: Vec<(u32, u32)> = before.iter().chain(&after).copied().collect();
                            assert!(subset(&now, &either), "a state that is not part way");
                        } else {
                            assert!(now == before || now == after, "neither as before nor as after");
                        }
                        map.insert_mut(item(absent + 1), item(0));
                        for &(key, _) in now.iter().take(3) {
                            assert!(map.remove_mut(&item(key)).is_some(), "key {key} cannot be removed");
                        }
                        contents(&map);
                    }
                }));
                drop((map, kept, other));
                if let Err(error) = check {
                    let message = error.downcast_ref::<String>().cloned().unwrap_or_default();
                    failures.push(format!("{what}: {message}"));
                }
                let live = LIVE.with(|live| live.replace(0));
                if live != 0 {
                    failures.push(format!("{what}: {live} items leaked (or, if negative, dropped twice)"));
                }
                if !failed {
                    break;
                }
            }
        }
    }
    assert!(failures.is_empty(), "allocation failures:\n{}", failures.join("\n"));
}

// Under Miri, `RcK` only: the reshapes are the same code for every kind.
for_each_kind!(default_hasher, sweep, [DefaultHashBuilder]);
for_each_kind!(colliding, sweep, [Collide]);
for_each_kind!(deep, sweep, [Deep]);
