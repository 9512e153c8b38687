//! Which of hamt-sync's types are `Send` and `Sync`: a map, a set or a store is `Send` exactly when its keys,
//! values and hasher are `Send` (and the keys and values `Sync`, since versions share them between threads like
//! an `Arc<(K, V)>`), and `Sync` exactly when they are all `Sync` (and the keys and values `Send`). The `RcK`
//! flavour is neither, whatever its contents.

use std::cell::Cell;
use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasher;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::MutexGuard;

use hamt_sync::{RcK, Version, VersionedStore, arck};
use static_assertions::{assert_impl_all, assert_not_impl_any};

/// A hasher with state that is `Send` but not `Sync`.
#[derive(Clone, Default)]
struct CellHasher(PhantomData<Cell<u64>>);

impl BuildHasher for CellHasher {
    type Hasher = DefaultHasher;

    fn build_hasher(&self) -> DefaultHasher {
        DefaultHasher::new()
    }
}

/// A hasher with state that is neither `Send` nor `Sync`.
#[derive(Clone, Default)]
struct RcHasher(PhantomData<Rc<u64>>);

impl BuildHasher for RcHasher {
    type Hasher = DefaultHasher;

    fn build_hasher(&self) -> DefaultHasher {
        DefaultHasher::new()
    }
}

/// Asserts the auto traits of one flavour's map and set (`$map`, `$set`, with the hasher as their last parameter).
macro_rules! assert_flavour {
    ($map:ident, $set:ident) => {
        assert_impl_all!($map<i32, i32>: Send, Sync, Clone, Default, std::fmt::Debug);
        assert_impl_all!($map<String, Vec<u8>>: Send, Sync);
        assert_impl_all!($set<i32>: Send, Sync, Clone, Default);

        // Keys or values that are not Send: neither.
        assert_not_impl_any!($map<Rc<i32>, i32>: Send, Sync);
        assert_not_impl_any!($map<i32, Rc<i32>>: Send, Sync);
        assert_not_impl_any!($set<Rc<i32>>: Send, Sync);
        // Keys or values that are Send but not Sync: neither, since versions on two threads share nodes.
        assert_not_impl_any!($map<Cell<i32>, i32>: Send, Sync);
        assert_not_impl_any!($map<i32, Cell<i32>>: Send, Sync);
        // Values that are Sync but not Send: neither, since the last version may be dropped on any thread.
        assert_not_impl_any!($map<i32, MutexGuard<'static, i32>>: Send, Sync);

        // The hasher is held by value: the map is Send and Sync as far as the hasher is.
        assert_impl_all!($map<i32, i32, CellHasher>: Send);
        assert_not_impl_any!($map<i32, i32, CellHasher>: Sync);
        assert_not_impl_any!($map<i32, i32, RcHasher>: Send, Sync);
        assert_not_impl_any!($set<i32, RcHasher>: Send, Sync);
    };
}

mod arc_t {
    use super::*;
    use hamt_sync::{HamtMap, HamtSet};

    assert_flavour!(HamtMap, HamtSet);
}

mod arc {
    use super::*;
    use arck::{HamtMap, HamtSet};

    assert_flavour!(HamtMap, HamtSet);
}

// The Rc flavour is neither, whatever its contents.
assert_not_impl_any!(hamt_core::HamtMap<i32, i32>: Send, Sync);
assert_not_impl_any!(hamt_core::HamtMap<i32, i32, RcK>: Send, Sync);
assert_not_impl_any!(hamt_core::HamtSet<i32, RcK>: Send, Sync);

// The store follows its maps: `ArcSwap` is Send + Sync when what it points to is.
assert_impl_all!(VersionedStore<i32, i32>: Send, Sync, Default, std::fmt::Debug);
assert_impl_all!(arck::VersionedStore<String, String>: Send, Sync);
assert_impl_all!(Version<i32, i32>: Send, Sync, Clone, std::fmt::Debug);
assert_not_impl_any!(VersionedStore<i32, Rc<i32>>: Send, Sync);
assert_not_impl_any!(VersionedStore<i32, Cell<i32>>: Send, Sync);
assert_not_impl_any!(VersionedStore<i32, i32, hamt_sync::ArcTK, CellHasher>: Send, Sync);
// A store of `RcK` maps does not exist: `VersionedStore::new` refuses it (the compile-fail doctest of
// `ThreadSafeKind`, and tests/compile_fail).

#[test]
fn a_store_is_shared_by_reference_between_threads() {
    let store: VersionedStore<u32, String> = VersionedStore::default();
    std::thread::scope(|scope| {
        scope.spawn(|| store.update(|current| current.insert(1, "one".to_owned())));
    });
    let moved = std::thread::spawn(move || store.load()).join().expect("thread panicked");
    assert_eq!(moved[&1], "one");
}
