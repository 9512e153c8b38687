//! The `Send + Sync` flavour of [`hamt_core`]'s persistent maps, and a store that shares one evolving map between
//! threads.
//!
//! [`HamtMap`] and [`HamtSet`] are hamt-core's types with triomphe's `Arc` ([`ArcTK`], an atomic count and no weak
//! count) as their pointer kind, so that a map and every version derived from it can be sent to and shared between
//! threads. Everything else a user names (entries, iterators, [`DiffItem`], [`DefaultHashBuilder`], the pointer
//! kinds) is re-exported here, so that switching from hamt-core to hamt-sync is a change of crate name. The one
//! difference is the constructor: hamt-core's `HamtMap::new()` is only defined for its default `RcK` kind (which
//! lets `let mut map = HamtMap::new();` compile without a type annotation), so the thread-safe maps are made with
//! `HamtMap::default()`, `collect()` or `from`, which both crates offer.
//!
//! The flavour over std's `Arc` ([`ArcK`], which also carries a weak count that tries never use) is available by
//! name in the [`arck`] module, with the same aliases.
//!
//! [`VersionedStore`] holds the current version of a map and lets any number of threads take snapshots of it
//! without a lock and publish new versions, optionally keeping a bounded history of the versions it published.
//!
//! ```
//! use hamt_sync::{HamtMap, VersionedStore};
//!
//! let map: HamtMap<u32, &str> = [(1, "one")].into();
//! let shared = map.clone();
//! std::thread::spawn(move || assert_eq!(shared.get(&1), Some(&"one"))).join().unwrap();
//!
//! let store = VersionedStore::new(map);
//! std::thread::scope(|scope| {
//!     scope.spawn(|| store.update(|current| current.insert(2, "two")));
//!     scope.spawn(|| store.update(|current| current.insert(3, "three")));
//! });
//! assert_eq!(store.load().len(), 3); // neither update was lost
//! assert_eq!(store.current_version(), 2);
//! ```
//!
//! # Features
//! - `rayon`: parallel iteration (`par_iter`, `par_keys`, `par_values`), parallel `collect` and `par_extend`,
//!   `par_union` and the other parallel set operations, and `par_diff`, on these maps and sets (hamt-core's
//!   `rayon` feature, whose `par` module documents them).

mod store;

pub use hamt_core::{
    ArcK, ArcTK, DefaultHashBuilder, Diff, DiffItem, Entry, IntoIter, Iter, IterMut, Keys, OccupiedEntry, PointerKind,
    RcK, SetDiffItem, VacantEntry, Values, ValuesMut,
};
pub use store::{Version, VersionNotFound, VersionedStore};

/// The thread-safe persistent hash map: [`hamt_core::HamtMap`] with triomphe's `Arc` ([`ArcTK`]) as its pointer
/// kind. `Send` and `Sync` when `K`, `V` and `S` are.
///
/// # Examples
///
/// ```
/// let map = hamt_sync::HamtMap::<u32, u32>::default().insert(1, 10);
/// let reader = map.clone();
/// let sum = std::thread::spawn(move || reader.values().sum::<u32>()).join().unwrap();
/// assert_eq!(sum, 10);
/// ```
pub type HamtMap<K, V, S = DefaultHashBuilder> = hamt_core::HamtMap<K, V, ArcTK, S>;

/// The thread-safe persistent hash set: [`hamt_core::HamtSet`] with triomphe's `Arc` ([`ArcTK`]) as its pointer
/// kind. `Send` and `Sync` when `T` and `S` are.
///
/// # Examples
///
/// ```
/// let set: hamt_sync::HamtSet<&str> = ["a", "b"].into();
/// let reader = set.clone();
/// assert!(std::thread::spawn(move || reader.contains("a")).join().unwrap());
/// ```
pub type HamtSet<T, S = DefaultHashBuilder> = hamt_core::HamtSet<T, ArcTK, S>;

/// The map module of the thread-safe flavour, mirroring [`hamt_core::map`].
pub mod map {
    pub use crate::HamtMap;
}

/// The set module of the thread-safe flavour, mirroring [`hamt_core::set`]: the set and its iterators.
pub mod set {
    pub use crate::HamtSet;
    pub use hamt_core::set::{DiffItem, IntoIter, Iter, SetDiff};
}

/// The same types over std's `Arc` ([`ArcK`]) instead of triomphe's.
///
/// For our nodes the two kinds behave the same (tries never use weak references); `ArcK` is offered so that code
/// written against archery's kinds, as rpds users' is, works unchanged. Prefer the crate-level aliases otherwise.
///
/// # Examples
///
/// ```
/// use hamt_sync::arck::{HamtMap, VersionedStore};
///
/// let store = VersionedStore::new(HamtMap::<&str, u32>::default());
/// store.update(|current| current.insert("visits", 1));
/// assert_eq!(store.load()["visits"], 1);
/// ```
pub mod arck {
    use crate::{ArcK, DefaultHashBuilder};

    /// [`hamt_core::HamtMap`] over std's `Arc` ([`ArcK`]). `Send` and `Sync` when `K`, `V` and `S` are.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_sync::arck::HamtMap<u8, u8> = [(1, 2)].into();
    /// assert_eq!(std::thread::spawn(move || map[&1]).join().unwrap(), 2);
    /// ```
    pub type HamtMap<K, V, S = DefaultHashBuilder> = hamt_core::HamtMap<K, V, ArcK, S>;

    /// [`hamt_core::HamtSet`] over std's `Arc` ([`ArcK`]). `Send` and `Sync` when `T` and `S` are.
    ///
    /// # Examples
    ///
    /// ```
    /// let set: hamt_sync::arck::HamtSet<u8> = [1, 2].into();
    /// assert!(std::thread::spawn(move || set.contains(&2)).join().unwrap());
    /// ```
    pub type HamtSet<T, S = DefaultHashBuilder> = hamt_core::HamtSet<T, ArcK, S>;

    /// A [`crate::VersionedStore`] of maps over std's `Arc` ([`ArcK`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let store: hamt_sync::arck::VersionedStore<u8, u8> = Default::default();
    /// assert_eq!(store.store([(1, 1)].into()), 1);
    /// ```
    pub type VersionedStore<K, V, S = DefaultHashBuilder> = crate::VersionedStore<K, V, S, ArcK>;

    /// A [`crate::Version`] of a map over std's `Arc` ([`ArcK`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let store: hamt_sync::arck::VersionedStore<u8, u8> = Default::default();
    /// let version: hamt_sync::arck::Version<u8, u8> = store.load_versioned();
    /// assert_eq!(version.number, 0);
    /// ```
    pub type Version<K, V, S = DefaultHashBuilder> = crate::Version<K, V, S, ArcK>;
}
