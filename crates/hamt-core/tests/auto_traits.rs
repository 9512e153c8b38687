//! Which maps, sets and iterators are `Send` and `Sync`.
//!
//! Nodes are shared between versions like an `Arc<(K, V)>`: with an atomic count (`ArcK`, `ArcTK`) a map is
//! `Send + Sync` exactly when its keys and values are `Send + Sync`; with `RcK` it is neither.

mod common;

use std::cell::Cell;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::rc::Rc;
use std::sync::MutexGuard;
use std::thread;

use hamt_core::set::{self, SetDiff};
use hamt_core::{
    ArcK, ArcTK, DefaultHashBuilder, Diff, Entry, HamtMap, HamtSet, IntoIter, Iter, IterMut, Keys, OccupiedEntry,
    PointerKind, RcK, VacantEntry, Values, ValuesMut,
};
use static_assertions::{assert_impl_all, assert_not_impl_any};

type S = DefaultHashBuilder;

// Atomic kinds: Send + Sync for Send + Sync contents.
assert_impl_all!(HamtMap<i32, i32, ArcK>: Send, Sync, Clone, Default, std::fmt::Debug);
assert_impl_all!(HamtMap<i32, i32, ArcTK>: Send, Sync, Clone, Default, std::fmt::Debug);
assert_impl_all!(HamtMap<String, Vec<u8>, ArcK>: Send, Sync);
assert_impl_all!(HamtSet<i32, ArcK>: Send, Sync);
assert_impl_all!(HamtSet<i32, ArcTK>: Send, Sync);

// RcK: neither, whatever the contents.
assert_not_impl_any!(HamtMap<i32, i32, RcK>: Send, Sync);
assert_not_impl_any!(HamtMap<i32, i32>: Send, Sync);
assert_not_impl_any!(HamtSet<i32, RcK>: Send, Sync);
assert_not_impl_any!(HamtSet<i32>: Send, Sync);

// Atomic kinds with contents that are not Send + Sync: neither, as for `Arc<T>`.
assert_not_impl_any!(HamtMap<Rc<i32>, i32, ArcK>: Send, Sync);
assert_not_impl_any!(HamtMap<i32, Rc<i32>, ArcK>: Send, Sync);
assert_not_impl_any!(HamtMap<i32, Rc<i32>, ArcTK>: Send, Sync);
assert_not_impl_any!(HamtSet<Rc<i32>, ArcK>: Send, Sync);
// `Cell` is Send but not Sync: two threads holding versions that share a node would share the `Cell`.
assert_not_impl_any!(HamtMap<i32, Cell<i32>, ArcK>: Send, Sync);
assert_not_impl_any!(HamtMap<Cell<i32>, i32, ArcTK>: Send, Sync);
// `MutexGuard` is Sync but not Send: the last version dropped on another thread would drop it there.
assert_not_impl_any!(HamtMap<i32, MutexGuard<'static, i32>, ArcK>: Send, Sync);

// Unwind safety, as for std's `Rc` and `Arc` maps: every kind, when the contents are `RefUnwindSafe`, so that
// `catch_unwind` over code that reads or updates a map compiles.
assert_impl_all!(HamtMap<i32, String>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(HamtMap<i32, i32, RcK>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(HamtMap<i32, i32, ArcK>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(HamtMap<i32, i32, ArcTK>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(HamtSet<String>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(HamtSet<i32, ArcTK>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(Iter<'static, i32, i32, RcK>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(IntoIter<i32, i32, RcK>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(set::Iter<'static, i32, RcK>: UnwindSafe, RefUnwindSafe);
// ... but not with contents that are not: a `Cell` could be left half updated by a panic.
assert_not_impl_any!(HamtMap<i32, Cell<i32>>: UnwindSafe, RefUnwindSafe);
assert_not_impl_any!(HamtSet<Cell<i32>>: UnwindSafe, RefUnwindSafe);

/// `catch_unwind` over a closure that reads a map it borrows compiles (the closure must be `UnwindSafe`).
#[test]
fn catch_unwind_over_a_borrowed_rc_map() {
    let map: HamtMap<i32, String> = [(1, "one".to_string())].into();
    let result = std::panic::catch_unwind(|| map.get(&1).map(String::len));
    assert_eq!(result.ok().flatten(), Some(3));
}

// Borrowing iterators and entries of the atomic kinds.
assert_impl_all!(Iter<'static, i32, i32, ArcK>: Send, Sync, Clone);
assert_impl_all!(Iter<'static, i32, i32, ArcTK>: Send, Sync, Clone);
assert_impl_all!(Keys<'static, i32, i32, ArcK>: Send, Sync, Clone);
assert_impl_all!(Values<'static, i32, i32, ArcK>: Send, Sync, Clone);
assert_impl_all!(IterMut<'static, i32, i32, ArcK>: Send, Sync);
assert_impl_all!(ValuesMut<'static, i32, i32, ArcK>: Send, Sync);
assert_impl_all!(set::Iter<'static, i32, ArcK>: Send, Sync, Clone);
assert_impl_all!(Entry<'static, i32, i32, ArcK, S>: Send, Sync);
assert_impl_all!(OccupiedEntry<'static, i32, i32, ArcK, S>: Send, Sync);
assert_impl_all!(VacantEntry<'static, i32, i32, ArcK, S>: Send, Sync);

// Owning and diff iterators of the atomic kinds, like the maps they come from.
assert_impl_all!(IntoIter<i32, i32, ArcK>: Send, Sync);
assert_impl_all!(IntoIter<i32, i32, ArcTK>: Send, Sync);
assert_impl_all!(set::IntoIter<i32, ArcK>: Send, Sync);
assert_impl_all!(Diff<'static, i32, i32, ArcK, S>: Send, Sync);
assert_impl_all!(Diff<'static, i32, i32, ArcTK, S>: Send, Sync);
assert_impl_all!(SetDiff<'static, i32, ArcK, S>: Send, Sync);
assert_not_impl_any!(IntoIter<i32, Cell<i32>, ArcK>: Send, Sync);
assert_not_impl_any!(Diff<'static, i32, Cell<i32>, ArcK, S>: Send, Sync);

// ... and of RcK: neither.
assert_not_impl_any!(Iter<'static, i32, i32, RcK>: Send, Sync);
assert_not_impl_any!(IterMut<'static, i32, i32, RcK>: Send, Sync);
assert_not_impl_any!(IntoIter<i32, i32, RcK>: Send, Sync);
assert_not_impl_any!(Diff<'static, i32, i32, RcK, S>: Send, Sync);
assert_not_impl_any!(Entry<'static, i32, i32, RcK, S>: Send, Sync);
assert_not_impl_any!(IntoIter<i32, Rc<i32>, ArcK>: Send, Sync);

/// Versions of one map used from several threads at once: each thread reads the shared base, derives its own
/// versions (copying paths out of shared nodes) and drops them, while the base stays intact. Under Miri this also
/// checks the atomic reference counts for data races.
fn threads_share_versions<P: PointerKind>()
where
    HamtMap<u32, String, P>: Send + Sync,
{
    let size = common::scaled(2000, 40) as u32;
    let base: HamtMap<u32, String, P> = (0..size).map(|i| (i, i.to_string())).collect();
    let handles: Vec<_> = (0..4u32)
        .map(|t| {
            let base = base.clone();
            thread::spawn(move || {
                let mut mine = base.clone();
                for i in (t..size).step_by(3) {
                    mine.insert_mut(i, format!("{t}:{i}"));
                    mine = mine.remove(&(i + 1));
                }
                assert!(base.iter().all(|(k, v)| *v == k.to_string()));
                mine.check_invariants();
                mine
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|handle| handle.join().expect("thread panicked")).collect();
    base.check_invariants();
    assert_eq!(base.len(), size as usize);
    assert!(base.iter().all(|(k, v)| *v == k.to_string()), "the shared base changed");
    for (t, result) in results.iter().enumerate() {
        assert_ne!(result.len(), 0, "thread {t}");
        assert!(result.diff(&base).count() > 0);
    }
    // Consume one result on another thread: entries are moved out of the nodes it owns alone and cloned from
    // those it shares with the base.
    let mut results = results;
    let consumed = results.pop().expect("four results");
    let base_copy = base.clone();
    let drained = thread::spawn(move || consumed.into_iter().filter(|(k, _)| base_copy.contains_key(k)).count());
    assert!(drained.join().expect("thread panicked") <= size as usize);
    // Drop the other results on other threads, concurrently with the base being dropped here.
    let droppers: Vec<_> = results.into_iter().map(|result| thread::spawn(move || drop(result))).collect();
    drop(base);
    for dropper in droppers {
        dropper.join().expect("thread panicked");
    }
}

#[test]
fn threads_share_versions_arc() {
    threads_share_versions::<ArcK>();
}

#[test]
fn threads_share_versions_arc_t() {
    threads_share_versions::<ArcTK>();
}
