//! Persistent hash maps and sets that share structure between versions.
//!
//! [`HamtMap`] and [`HamtSet`] are CHAMP tries (Steindorfer and Vinju, OOPSLA 2015): 32-way nodes with one bitmap
//! for the entries stored inline and one for the children, each node a single exact-size allocation. Every update
//! returns a new version that shares all unchanged nodes with the old one; the `_mut` twins update in place the
//! nodes a map owns alone. Clone is O(1). The trie is kept in canonical form, so two maps with the same contents
//! have the same shape: equality, [`diff`](HamtMap::diff) and the set operations walk two maps side by side and
//! skip every subtree they share.
//!
//! The pointer kind `P` picks the reference count: [`archery::RcK`] (default) for single-threaded use,
//! [`archery::ArcK`] or [`archery::ArcTK`] for maps that are `Send + Sync`.
//!
//! ```
//! use hamt_core::{DiffItem, HamtMap};
//!
//! // A large state and a what-if variant of it: the variant shares all but one path of nodes.
//! let state: HamtMap<u64, u64> = (0..10_000).map(|i| (i, i * 2)).collect();
//! let what_if = state.insert(42, 0).remove(&7);
//! assert_eq!(state.len(), 10_000);
//! assert_eq!(what_if.len(), 9_999);
//!
//! // Comparing them costs what differs, not their size.
//! let mut changes: Vec<_> = state.diff(&what_if).collect();
//! changes.sort_by_key(|change| *change.key());
//! assert_eq!(changes, [DiffItem::Removed(&7, &14), DiffItem::Changed { key: &42, old: &84, new: &0 }]);
//! ```
//!
//! # Features
//! - `std` (default): `From<std::collections::HashMap>` and `From<HashSet>`, and std-seeded randomness for the
//!   default hasher. Without it the crate is `no_std` and needs only `alloc`.
//! - `serde`: `Serialize` and `Deserialize` for [`HamtMap`] (a serde map) and [`HamtSet`] (a sequence), with any
//!   serde format and without `std`. Deserializing rejects duplicate keys, and never reserves more than 1 MiB on
//!   the strength of a length read from the input. The `sorted` module serializes in key order instead of trie
//!   order, for output that is the same in every run (snapshot tests).
//! - `arbitrary`, `quickcheck`, `proptest`: the property-testing frameworks' `Arbitrary` traits for [`HamtMap`]
//!   and [`HamtSet`] (which the orphan rule keeps users from implementing), generating what each framework
//!   generates for std's `HashMap` and `HashSet`. `proptest` implies `std`.
//! - `rayon`: parallel iteration, collection, extension, set operations and diff for maps and sets that are
//!   `Send + Sync` (the `par` module). Implies `std`.
//!
//! # Persistent methods return the new map
//!
//! [`insert`](HamtMap::insert), [`remove`](HamtMap::remove), [`update_with`](HamtMap::update_with) and the set
//! operations take `&self` and return a new map; the map they are called on is unchanged. Code written for std's
//! `HashMap` or imbl, where `map.insert(k, v);` changes `map`, must call the in-place twin instead
//! ([`insert_mut`](HamtMap::insert_mut), [`remove_mut`](HamtMap::remove_mut),
//! [`update_with_mut`](HamtMap::update_with_mut)) or assign the result. Every persistent method is `#[must_use]`
//! with a message naming its in-place twin, so a discarded result is a warning, and an error under
//! `#![deny(unused_must_use)]`:
//!
//! ```compile_fail
//! #![deny(unused_must_use)]
//! let mut map = hamt_core::HamtMap::new();
//! map.insert(1, "one"); // error: `insert` returns a new map and leaves this one unchanged; ... use `insert_mut`
//! # assert!(map.is_empty());
//! ```
//!
//! ```
//! #![deny(unused_must_use)]
//! let mut map = hamt_core::HamtMap::new();
//! map.insert_mut(1, "one");
//! map = map.insert(2, "two");
//! # assert_eq!(map.len(), 2);
//! ```
//!
//! # Keys whose `Hash` or `Eq` misbehave
//!
//! As with std's `HashMap`, a key whose hash changes while it is in the map, or whose `Eq` is not an equivalence
//! (it answers at random, say), is a logic error in the caller's type: the map may then fail to find such a key,
//! or hold two keys that compare equal. It stays sound and whole all the same: no operation panics or corrupts
//! memory, the trie keeps its canonical shape, and `len` counts the entries that iteration yields (tested with
//! keys whose `Eq` lies a third of the time, tests/inconsistent_eq.rs). An [`OccupiedEntry`] removes the entry it
//! points at without comparing keys again.
//!
//! # Which operations clone keys and values
//!
//! Versions share nodes, and a node with two owners cannot be changed or emptied in place: an operation that
//! changes a shared node copies it, cloning the keys and values it holds. So every operation that creates or changes
//! a node from existing ones needs `K: Clone` and `V: Clone`: the persistent updates (`insert`, `remove`,
//! `update_with`), their in-place twins (`insert_mut`, `remove_mut`, `get_mut`, `entry`, `retain`, `iter_mut`,
//! which copy the nodes they share with other versions), the set operations and `extend`, and by-value iteration
//! (`into_iter`, `into_keys`, `into_values`), which moves entries out of nodes this map owns alone but must clone
//! those of nodes other versions still hold. Lookups, borrowing iteration, equality, [`diff`](HamtMap::diff),
//! `is_submap` and building a map with `collect` or `from` need no `Clone` at all.
//!
//! A path copy clones the up to 32 entries stored inline in each node it copies, whatever their size. For values
//! that are large, expensive to clone or not `Clone`, store `Arc<V>` (or `Rc<V>` in `RcK` maps): a clone is then a
//! reference-count increment, and the value itself is shared by every version that holds it.
//!
//! ```
//! use std::sync::Arc;
//!
//! struct Document { body: String } // not Clone
//! let docs: hamt_core::HamtMap<u32, Arc<Document>> = [(1, Arc::new(Document { body: "hello".into() }))].into();
//! let more = docs.insert(2, Arc::new(Document { body: "world".into() })); // copies two pointers, not documents
//! assert!(Arc::ptr_eq(&docs[&1], &more[&1]));
//! # assert_eq!(more[&2].body, "world");
//! ```
//!
//! # Panics, leaks and allocation failure
//!
//! A panic from a key's or value's `Clone`, `Hash`, `Eq` or `Drop`, or from a closure given to a method, leaves
//! every map whole: nothing is dropped twice, the trie's invariants hold, [`HamtMap::len`] counts the entries, and
//! the map can be used as before. An operation that panics leaves its map as it was before or as it would be
//! after, except where std's `HashMap` also stops half way: [`HamtMap::retain`], [`Extend`] entry by entry, and
//! [`HamtMap::iter_mut`] (or `values_mut`) when the caller's code panics mid-way. Nothing leaks, with std's
//! exceptions: a panic while already unwinding (a second `Drop` panicking) aborts, and `mem::forget` of an
//! iterator forgets what it holds. When a `Drop` panics while a map or a node is dropped, the other entries are
//! still dropped, as std's `Vec` does.
//!
//! An allocation failure that unwinds (a panicking alloc-error hook) leaves the map as it was: each operation
//! allocates before it changes a node. One step cannot be undone without allocating and aborts instead: shrinking
//! a node after one of its entries moved into a new child (no allocator in std fails a shrink).
#![no_std]
// docs.rs builds with `--cfg docsrs` on nightly, where `doc_cfg` labels the items of each optional feature.
#![cfg_attr(docsrs, feature(doc_cfg))]
// `RUSTFLAGS="--cfg hamt_may_dangle"` on nightly lets keys and values borrow data that is dropped before the map.
#![cfg_attr(hamt_may_dangle, feature(dropck_eyepatch))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod build;
#[cfg(any(test, feature = "invariants"))]
mod check;
mod diff;
mod entry;
mod hasher;
mod iter;
mod kind;
mod macros;
pub mod map;
mod ops;
#[cfg(feature = "rayon")]
pub mod par;
mod raw;
#[cfg(feature = "serde")]
mod serde;
pub mod set;
#[cfg(feature = "serde")]
pub mod sorted;
#[cfg(any(feature = "arbitrary", feature = "quickcheck", feature = "proptest"))]
mod testing;
mod trie;

pub use archery::{ArcK, ArcTK, RcK};
pub use diff::{Diff, DiffItem};
pub use entry::{Entry, OccupiedEntry, VacantEntry};
pub use hasher::DefaultHashBuilder;
pub use iter::{IntoIter, IntoKeys, IntoValues, Iter, IterMut, Keys, Values, ValuesMut};
pub use kind::PointerKind;
pub use map::HamtMap;
pub use set::{DiffItem as SetDiffItem, HamtSet};

/// The names most code needs: `use hamt_core::prelude::*;`. hamt-sync's prelude has the same names for its
/// thread-safe maps, so that switching crates is a change of crate name in this one line.
///
/// # Examples
///
/// ```
/// use hamt_core::prelude::*;
///
/// let mut map = HamtMap::new();
/// map.insert_mut(1, "one");
/// assert_eq!(hamt_map! { 1 => "one" }, map);
/// assert_eq!(HamtSet::from([1, 2]), hamt_set![2, 1]);
/// ```
pub mod prelude {
    pub use crate::{HamtMap, HamtSet, hamt_map, hamt_set};
}

#[cfg(test)]
mod tests;
