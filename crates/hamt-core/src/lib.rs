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
//!
//! # Features
//! - `std` (default): `From<std::collections::HashMap>` and `From<HashSet>`, and std-seeded randomness for the
//!   default hasher. Without it the crate is `no_std` and needs only `alloc`.
//! - `serde`: `Serialize` and `Deserialize` for [`HamtMap`] (a serde map) and [`HamtSet`] (a sequence), with any
//!   serde format and without `std`. Deserializing rejects duplicate keys, and never reserves more than 1 MiB on
//!   the strength of a length read from the input.
//! - `rayon`: parallel iteration, collection, extension, set operations and diff for maps and sets that are
//!   `Send + Sync` (the `par` module). Implies `std`.
#![no_std]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]
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
pub mod map;
mod ops;
#[cfg(feature = "rayon")]
pub mod par;
mod raw;
#[cfg(feature = "serde")]
mod serde;
pub mod set;
mod trie;

pub use archery::{ArcK, ArcTK, RcK};
pub use diff::{Diff, DiffItem};
pub use entry::{Entry, OccupiedEntry, VacantEntry};
pub use hasher::DefaultHashBuilder;
pub use iter::{IntoIter, Iter, IterMut, Keys, Values, ValuesMut};
pub use kind::PointerKind;
pub use map::HamtMap;
pub use set::{DiffItem as SetDiffItem, HamtSet};

#[cfg(test)]
mod tests;
