//! Model checks of the atomic node reference count (`ArcK`, `ArcTK`) with loom, which runs each test under every
//! interleaving of the threads' atomic operations that the C++ memory model allows.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p hamt-core --test loom --release` (`cargo xtask test` does, in a
//! target directory of its own). Under that cfg the count in every node header is loom's `AtomicUsize`, and the
//! fence after the last decrement is loom's.
//!
//! The maps are small (one node, or a root with a few children) so that each model finishes in seconds.
#![cfg(loom)]

use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hamt_core::{ArcK, ArcTK, HamtMap, PointerKind};
use loom::thread;

/// A deterministic zero-sized hasher, so that every run of a model builds the same trie.
type Fixed = BuildHasherDefault<DefaultHasher>;

/// A value that keeps a count of its live instances (made or cloned, and not yet dropped), shared by its clones.
struct Counted(Arc<AtomicUsize>);

impl Counted {
    fn new(live: &Arc<AtomicUsize>) -> Self {
        // The counter is outside the model (a std atomic): it only tallies, and the tests read it where every
        // thread that changed it has been joined.
        live.fetch_add(1, Ordering::Relaxed);
        Counted(Arc::clone(live))
    }
}

impl Clone for Counted {
    fn clone(&self) -> Self {
        Counted::new(&self.0)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn counted_map<P: PointerKind>(len: u8, live: &Arc<AtomicUsize>) -> HamtMap<u8, Counted, P, Fixed> {
    (0..len).map(|key| (key, Counted::new(live))).collect()
}

/// Two clones dropped on two threads while the original is dropped on a third: whichever drop comes last frees
/// every node, exactly once, so every value is dropped exactly once.
fn concurrent_drops_free_once<P: PointerKind>(len: u8)
where
    HamtMap<u8, Counted, P, Fixed>: Send,
{
    loom::model(move || {
        let live = Arc::new(AtomicUsize::new(0));
        let map = counted_map::<P>(len, &live);
        let first = map.clone();
        let second = map.clone();
        // Clones of a map share its nodes: no value was copied.
        assert_eq!(live.load(Ordering::Relaxed), usize::from(len));
        let one = thread::spawn(move || drop(first));
        let two = thread::spawn(move || drop(second));
        drop(map);
        one.join().expect("thread panicked");
        two.join().expect("thread panicked");
        // Every value was dropped, and none twice (which would wrap the count below zero).
        assert_eq!(live.load(Ordering::Relaxed), 0);
    });
}

#[test]
fn concurrent_drops_free_each_node_once_arc() {
    concurrent_drops_free_once::<ArcK>(3);
}

#[test]
fn concurrent_drops_free_each_node_once_arc_t_with_children() {
    // 40 keys: a root with children, so the last drop also releases the children's counts.
    concurrent_drops_free_once::<ArcTK>(40);
}

/// One thread changes its clone in place (`insert_mut` when the count says it is unique, a path copy otherwise)
/// while another drops its clone: no value is lost or dropped twice, and the changed map is whole.
#[test]
fn in_place_insert_races_a_drop() {
    loom::model(|| {
        let live = Arc::new(AtomicUsize::new(0));
        let map = counted_map::<ArcTK>(4, &live);
        let other = map.clone();
        let dropper = thread::spawn(move || drop(other));
        let mut mine = map;
        let replaced = mine.insert_mut(1, Counted::new(&live));
        assert!(replaced.is_some());
        drop(replaced);
        assert_eq!(mine.len(), 4);
        dropper.join().expect("thread panicked");
        // Whether the insert changed the node in place or copied it (and the dropper then freed the old one), the
        // values left are exactly this map's.
        assert_eq!(live.load(Ordering::Relaxed), 4);
        drop(mine);
        assert_eq!(live.load(Ordering::Relaxed), 0);
    });
}

/// A value whose reads and writes loom tracks, to check that they are ordered by happens-before.
struct Tracked(loom::cell::UnsafeCell<u32>);

// SAFETY: `Tracked` is shared between the test's threads only through the map's nodes, and every access to its
// cell goes through loom's `with` / `with_mut`, which check that each write happens-before every other access (and
// fail the test with a causality violation otherwise). That ordering is exactly what the test asserts the map's
// reference count provides; without it loom reports the race instead of letting it happen.
#[expect(unsafe_code, reason = "the cell's accesses are ordered by the property under test, and checked by loom")]
unsafe impl Sync for Tracked {}

impl Tracked {
    fn read(&self) -> u32 {
        // SAFETY: loom checks that no write to the cell races this read (see `unsafe impl Sync` above).
        #[expect(unsafe_code, reason = "a read through loom's tracked cell")]
        self.0.with(|value| unsafe { *value })
    }

    fn write(&mut self, new: u32) {
        // SAFETY: `&mut self` is exclusive within this thread, and loom checks that the write happens after every
        // other thread's access.
        #[expect(unsafe_code, reason = "a write through loom's tracked cell")]
        self.0.with_mut(|value| unsafe { *value = new });
    }
}

impl Drop for Tracked {
    /// Dropping writes to the cell, so that loom checks that every read of the value happens before its drop.
    fn drop(&mut self) {
        self.write(u32::MAX);
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        Tracked(loom::cell::UnsafeCell::new(self.read()))
    }
}

/// One thread reads a value through its clone and drops the clone; the other writes the value in place through
/// `get_mut` if its count says it is now unique (or copies the path first otherwise). The reader's read must
/// happen before the in-place write: the decrement is Release and the uniqueness check Acquire.
fn read_then_drop_races_get_mut<P: PointerKind>()
where
    HamtMap<u8, Tracked, P, Fixed>: Send,
{
    loom::model(|| {
        let map: HamtMap<u8, Tracked, P, Fixed> =
            (0..3).map(|key| (key, Tracked(loom::cell::UnsafeCell::new(u32::from(key))))).collect();
        let other = map.clone();
        let reader = thread::spawn(move || {
            assert_eq!(other.get(&1).map(Tracked::read), Some(1));
            drop(other);
        });
        let mut mine = map;
        mine.get_mut(&1).expect("key 1 is present").write(10);
        assert_eq!(mine.get(&1).map(Tracked::read), Some(10));
        reader.join().expect("thread panicked");
    });
}

#[test]
fn read_then_drop_races_get_mut_arc() {
    read_then_drop_races_get_mut::<ArcK>();
}

#[test]
fn read_then_drop_races_get_mut_arc_t() {
    read_then_drop_races_get_mut::<ArcTK>();
}

/// Both threads read a value through their clones and drop them; the last drop frees the node and drops the value
/// (a write, for loom). The other thread's read must happen before it: the decrement is Release, and the last one
/// is followed by an Acquire fence.
fn reads_happen_before_the_free<P: PointerKind>()
where
    HamtMap<u8, Tracked, P, Fixed>: Send,
{
    loom::model(|| {
        let map: HamtMap<u8, Tracked, P, Fixed> =
            (0..3).map(|key| (key, Tracked(loom::cell::UnsafeCell::new(u32::from(key))))).collect();
        let other = map.clone();
        let reader = thread::spawn(move || {
            assert_eq!(other.get(&2).map(Tracked::read), Some(2));
            drop(other);
        });
        assert_eq!(map.get(&2).map(Tracked::read), Some(2));
        drop(map);
        reader.join().expect("thread panicked");
    });
}

#[test]
fn reads_happen_before_the_free_arc() {
    reads_happen_before_the_free::<ArcK>();
}

#[test]
fn reads_happen_before_the_free_arc_t() {
    reads_happen_before_the_free::<ArcTK>();
}
