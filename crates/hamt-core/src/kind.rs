//! Pointer kinds: which reference count a trie's nodes carry.
//!
//! The maps are generic over archery's pointer kinds ([`RcK`], [`ArcK`], [`ArcTK`]), the vocabulary the Rust
//! ecosystem already uses for "Rc or Arc" (rpds, archery). archery's `SharedPointer<T>` needs a sized `T`, while a
//! CHAMP node is a header followed by two arrays whose lengths vary, so our nodes are allocated by the private
//! `raw` module; the kind only decides the type of the reference count stored in each node header.

use core::cell::Cell;
use core::panic::{RefUnwindSafe, UnwindSafe};
use core::sync::atomic::Ordering;
// Under `--cfg loom` the atomic count and its fence come from loom, whose model checker then explores every
// interleaving of the count operations in tests/loom.rs. Only the test build uses that cfg.
#[cfg(not(loom))]
use core::sync::atomic::{AtomicU32, fence};
#[cfg(loom)]
use loom::sync::atomic::{AtomicU32, fence};

use archery::{ArcK, ArcTK, RcK};

use crate::raw::{Drain, Node};

/// A pointer kind that can own trie nodes: one of archery's [`RcK`], [`ArcK`] or [`ArcTK`].
///
/// `RcK` gives nodes a plain reference count (fastest; the map is neither `Send` nor `Sync`). `ArcK` and `ArcTK`
/// give them an atomic count, so maps can be shared between threads; for our nodes the two behave the same,
/// and both are offered so that code written against archery's kinds works unchanged.
///
/// This trait is sealed: it cannot be implemented outside this crate.
///
/// # Examples
///
/// ```
/// use archery::ArcTK;
/// use hamt_core::HamtMap;
///
/// let map: HamtMap<&str, i32, ArcTK> = HamtMap::default().insert("a", 1);
/// let copy = map.clone();
/// std::thread::spawn(move || assert_eq!(copy.get("a"), Some(&1))).join().unwrap();
/// ```
pub trait PointerKind: archery::SharedPointerKind + sealed::Sealed + 'static {
    /// The reference count stored in every node header.
    #[doc(hidden)]
    type Count: sealed::RefCount;
}

impl PointerKind for RcK {
    type Count = Cell<u32>;
}

impl PointerKind for ArcK {
    type Count = AtomicU32;
}

impl PointerKind for ArcTK {
    type Count = AtomicU32;
}

// Unwind safety, as std gives it to `Rc<T>` and `Arc<T>` when `T: RefUnwindSafe`. A node's only interior
// mutability is its reference count (a `Cell` for `RcK`), which the compiler would otherwise take as a reason to
// deny `UnwindSafe` to every `RcK` map. Every change of the count is a single step that a panic cannot interrupt
// half way, so no caught panic can leave a count that other code would observe broken; the entries behind it are
// reached only through shared references unless the node is unique, so they are as unwind-safe as `K` and `V`.
impl<K: RefUnwindSafe, V: RefUnwindSafe, P: PointerKind> UnwindSafe for Node<K, V, P> {}
impl<K: RefUnwindSafe, V: RefUnwindSafe, P: PointerKind> RefUnwindSafe for Node<K, V, P> {}
// A node being drained by an owning iterator is owned alone, like a `Box` of its entries.
impl<K: UnwindSafe, V: UnwindSafe, P: PointerKind> UnwindSafe for Drain<K, V, P> {}
impl<K: RefUnwindSafe, V: RefUnwindSafe, P: PointerKind> RefUnwindSafe for Drain<K, V, P> {}

pub(crate) mod sealed {
    /// Keeps [`PointerKind`](super::PointerKind) closed to the three kinds whose counts we know.
    pub trait Sealed {}

    impl Sealed for archery::RcK {}
    impl Sealed for archery::ArcK {}
    impl Sealed for archery::ArcTK {}

    /// A node reference count. The `raw` module's memory safety depends on these methods doing exactly what they
    /// say, which is why the trait is sealed and implemented only here.
    pub trait RefCount {
        /// A count of one, for a node that was just allocated.
        fn one() -> Self;
        /// Adds a reference.
        fn increment(&self);
        /// Removes a reference; returns `true` when it was the last one, after which the caller owns the node
        /// exclusively and must free it.
        fn decrement(&self) -> bool;
        /// Whether the caller holds the only reference (so the node may be changed in place).
        fn is_unique(&self) -> bool;
    }
}

/// Stops the process when a reference count would overflow. Overflow needs `usize::MAX` live handles (only
/// possible by leaking them with `mem::forget`); continuing would make the count wrap and free a live node.
#[cold]
#[inline(never)]
fn count_overflow() -> ! {
    // A panic while this guard is being dropped during unwinding aborts the process, without needing `std`.
    struct AbortOnDrop;
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            panic!("hamt: node reference count overflow");
        }
    }
    let _guard = AbortOnDrop;
    panic!("hamt: node reference count overflow");
}

// Counts are 32 bits wide, so that the header keeps 4 bytes for the spare capacity a removal leaves (see
// `raw::Header`). Four billion handles to one node would take 32 GiB of handles alone; a count that would pass the
// limit aborts the process, as `Rc` and `Arc` do at theirs, rather than wrap.
impl sealed::RefCount for Cell<u32> {
    #[inline]
    fn one() -> Self {
        Cell::new(1)
    }

    #[inline]
    fn increment(&self) {
        let count = self.get();
        if count == u32::MAX {
            count_overflow();
        }
        self.set(count + 1);
    }

    #[inline]
    fn decrement(&self) -> bool {
        let count = self.get() - 1;
        self.set(count);
        count == 0
    }

    #[inline]
    fn is_unique(&self) -> bool {
        self.get() == 1
    }
}

impl sealed::RefCount for AtomicU32 {
    #[inline]
    fn one() -> Self {
        AtomicU32::new(1)
    }

    #[inline]
    fn increment(&self) {
        // Relaxed suffices, as in `std::sync::Arc::clone`: a new reference can only be made from an existing one,
        // which already orders every access to the node before it.
        let previous = self.fetch_add(1, Ordering::Relaxed);
        // Like `Arc`, stop well before wrap-around: other threads may increment between our check and theirs
        // (two billion of them would have to, to wrap).
        if previous > i32::MAX as u32 {
            count_overflow();
        }
    }

    #[inline]
    fn decrement(&self) -> bool {
        // Release makes this thread's uses of the node happen before the free; the Acquire fence below makes
        // every other thread's uses happen before it too (the protocol of `std::sync::Arc::drop`).
        if self.fetch_sub(1, Ordering::Release) != 1 {
            return false;
        }
        fence(Ordering::Acquire);
        true
    }

    #[inline]
    fn is_unique(&self) -> bool {
        // Acquire pairs with the Release decrement of the handle that was dropped last, so that its reads of the
        // node happen before our writes (as in `Arc::get_mut`). Nodes have no weak references to race with.
        self.load(Ordering::Acquire) == 1
    }
}
