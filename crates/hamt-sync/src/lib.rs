//! The `Send + Sync` flavour of [`hamt_core`]'s persistent maps, and a store that shares one evolving map between
//! threads.
//!
//! [`HamtMap`] and [`HamtSet`] are hamt-core's types with triomphe's `Arc` ([`ArcTK`], an atomic count and no weak
//! count) as their pointer kind, so that a map and every version derived from it can be sent to and shared between
//! threads. Every other type a user names has an alias here with the same name and the same parameters as
//! hamt-core's, minus the pointer kind: the iterators ([`Keys`], [`Iter`], [`IntoIter`], ...), the entries
//! ([`Entry`]), the diff ([`Diff`], [`DiffItem`]), the set's types ([`set`]) and, with `rayon`, the parallel ones
//! (`par`). The macros [`hamt_map!`] and [`hamt_set!`] make these maps with the syntax of hamt-core's.
//!
//! # Switching from hamt-core
//!
//! Code that imports hamt-core's prelude switches by changing the crate name: `use hamt_core::prelude::*;`
//! becomes `use hamt_sync::prelude::*;`, and `HamtMap::new()`, `HamtMap::from([...])`, `hamt_map!`, `collect()`
//! and every method call compile unchanged (a test compiles the same source against both crates). Two things differ:
//!
//! - `new()`. hamt-core's `HamtMap::new()` is an inherent function of its `RcK` maps, which is what lets
//!   `let mut map = HamtMap::new();` compile without a type annotation; Rust cannot give the thread-safe maps a
//!   second inherent `new` without making that call ambiguous. Their `new()` comes from the [`New`] trait, which the
//!   prelude brings into scope (the compiler suggests importing it when it is missing). `default()` works in both.
//! - A custom hasher is the third parameter here (`HamtMap<K, V, S>`) and the fourth in hamt-core
//!   (`HamtMap<K, V, P, S>`), after the pointer kind.
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
//!   `par_union` and the other parallel set operations of maps and sets, and `par_diff` of maps (hamt-core's
//!   `rayon` feature, whose `par` module documents them); the `par` module names their types.
//! - `serde`: `Serialize` and `Deserialize` for these maps (a serde map) and sets (a sequence): hamt-core's
//!   `serde` feature.

// docs.rs builds with `--cfg docsrs` on nightly, where `doc_cfg` labels the items of each optional feature.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod macros;
mod store;

pub use hamt_core::{ArcK, ArcTK, DefaultHashBuilder, DiffItem, PointerKind, RcK, SetDiffItem};
pub use store::{ThreadSafeKind, Version, VersionNotFound, VersionedStore};

/// The thread-safe persistent hash map: [`hamt_core::HamtMap`] with triomphe's `Arc` ([`ArcTK`]) as its pointer
/// kind. `Send` and `Sync` when `K`, `V` and `S` are.
///
/// # Examples
///
/// ```
/// use hamt_sync::prelude::*;
///
/// let map = HamtMap::new().insert(1, 10);
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
/// let set = hamt_sync::HamtSet::from(["a", "b"]);
/// let reader = set.clone();
/// assert!(std::thread::spawn(move || reader.contains("a")).join().unwrap());
/// ```
pub type HamtSet<T, S = DefaultHashBuilder> = hamt_core::HamtSet<T, ArcTK, S>;

/// `new()` for the thread-safe maps and sets, which hamt-core's inherent `new()` (defined for its `RcK` maps
/// only) does not reach. In the [`prelude`].
///
/// # Examples
///
/// ```
/// use hamt_sync::{HamtMap, HamtSet, New};
///
/// let mut map = HamtMap::new();
/// map.insert_mut("a", 1);
/// let set: HamtSet<u8> = HamtSet::new();
/// assert_eq!((map.len(), set.len()), (1, 0));
/// ```
pub trait New {
    /// An empty map or set with the default hasher. Allocates nothing.
    fn new() -> Self;
}

impl<K, V> New for hamt_core::HamtMap<K, V, ArcTK> {
    fn new() -> Self {
        Self::default()
    }
}

impl<K, V> New for hamt_core::HamtMap<K, V, ArcK> {
    fn new() -> Self {
        Self::default()
    }
}

impl<T> New for hamt_core::HamtSet<T, ArcTK> {
    fn new() -> Self {
        Self::default()
    }
}

impl<T> New for hamt_core::HamtSet<T, ArcK> {
    fn new() -> Self {
        Self::default()
    }
}

/// The names most code needs, as in hamt-core's prelude: `use hamt_sync::prelude::*;` in place of
/// `use hamt_core::prelude::*;` switches a program to the thread-safe maps.
///
/// # Examples
///
/// ```
/// use hamt_sync::prelude::*;
///
/// let mut map = HamtMap::new();
/// map.insert_mut(1, "one");
/// let set = HamtSet::from([1, 2]);
/// assert_eq!(hamt_map! { 1 => "one" }, map);
/// assert_eq!(hamt_set![2, 1], set);
/// ```
pub mod prelude {
    pub use crate::{HamtMap, HamtSet, New, hamt_map, hamt_set};
}

/// Aliases for hamt-core's iterator, entry and diff types over one pointer kind, each with a doctest that names
/// the alias as the type of what the method returns.
macro_rules! flavour_aliases {
    ($kind:ident, $path:literal) => {
        flavour_aliases!(@lifetime $kind, $path, Iter, iter, "An iterator over a map's entries");
        flavour_aliases!(@lifetime $kind, $path, Keys, keys, "An iterator over a map's keys");
        flavour_aliases!(@lifetime $kind, $path, Values, values, "An iterator over a map's values");
        flavour_aliases!(@lifetime_mut $kind, $path, IterMut, iter_mut, "An iterator over a map's entries with mutable values");
        flavour_aliases!(@lifetime_mut $kind, $path, ValuesMut, values_mut, "An iterator over mutable references to a map's values");
        flavour_aliases!(@owned $kind, $path, IntoIter, into_iter, "An owning iterator over a map's entries");
        flavour_aliases!(@owned $kind, $path, IntoKeys, into_keys, "An owning iterator over a map's keys");
        flavour_aliases!(@owned $kind, $path, IntoValues, into_values, "An owning iterator over a map's values");

        #[doc = concat!("A key's place in a map: [`hamt_core::Entry`] over [`", stringify!($kind), "`].")]
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("let mut map: ", $path, "HamtMap<&str, u32> = Default::default();")]
        #[doc = concat!("let entry: ", $path, "Entry<'_, &str, u32> = map.entry(\"a\");")]
        /// *entry.or_insert(0) += 1;
        /// assert_eq!(map["a"], 1);
        /// ```
        pub type Entry<'a, K, V, S = DefaultHashBuilder> = hamt_core::Entry<'a, K, V, $kind, S>;

        #[doc = concat!("An occupied entry: [`hamt_core::OccupiedEntry`] over [`", stringify!($kind), "`].")]
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("let mut map: ", $path, "HamtMap<&str, u32> = [(\"a\", 1)].into();")]
        #[doc = concat!("if let hamt_core::Entry::Occupied(entry) = map.entry(\"a\") {")]
        #[doc = concat!("    let entry: ", $path, "OccupiedEntry<'_, &str, u32> = entry;")]
        ///     assert_eq!(entry.remove(), 1);
        /// }
        /// ```
        pub type OccupiedEntry<'a, K, V, S = DefaultHashBuilder> = hamt_core::OccupiedEntry<'a, K, V, $kind, S>;

        #[doc = concat!("A vacant entry: [`hamt_core::VacantEntry`] over [`", stringify!($kind), "`].")]
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("let mut map: ", $path, "HamtMap<&str, u32> = Default::default();")]
        #[doc = concat!("if let hamt_core::Entry::Vacant(entry) = map.entry(\"a\") {")]
        #[doc = concat!("    let entry: ", $path, "VacantEntry<'_, &str, u32> = entry;")]
        ///     entry.insert(1);
        /// }
        /// assert_eq!(map["a"], 1);
        /// ```
        pub type VacantEntry<'a, K, V, S = DefaultHashBuilder> = hamt_core::VacantEntry<'a, K, V, $kind, S>;

        #[doc = concat!("The differences between two maps: [`hamt_core::Diff`] over [`", stringify!($kind), "`].")]
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("let old: ", $path, "HamtMap<u8, u8> = [(1, 1)].into();")]
        /// let new = old.insert(2, 2);
        #[doc = concat!("let diff: ", $path, "Diff<'_, u8, u8> = old.diff(&new);")]
        /// assert_eq!(diff.count(), 1);
        /// ```
        pub type Diff<'a, K, V, S = DefaultHashBuilder> = hamt_core::Diff<'a, K, V, $kind, S>;
    };
    (@lifetime $kind:ident, $path:literal, $name:ident, $method:ident, $what:literal) => {
        #[doc = concat!($what, ": [`hamt_core::", stringify!($name), "`] over [`", stringify!($kind), "`].")]
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("let map: ", $path, "HamtMap<u8, u8> = [(1, 2)].into();")]
        #[doc = concat!("let iter: ", $path, stringify!($name), "<'_, u8, u8> = map.", stringify!($method), "();")]
        /// assert_eq!(iter.count(), 1);
        /// ```
        pub type $name<'a, K, V> = hamt_core::$name<'a, K, V, $kind>;
    };
    (@lifetime_mut $kind:ident, $path:literal, $name:ident, $method:ident, $what:literal) => {
        #[doc = concat!($what, ": [`hamt_core::", stringify!($name), "`] over [`", stringify!($kind), "`].")]
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("let mut map: ", $path, "HamtMap<u8, u8> = [(1, 2)].into();")]
        #[doc = concat!("let iter: ", $path, stringify!($name), "<'_, u8, u8> = map.", stringify!($method), "();")]
        /// assert_eq!(iter.count(), 1);
        /// ```
        pub type $name<'a, K, V> = hamt_core::$name<'a, K, V, $kind>;
    };
    (@owned $kind:ident, $path:literal, $name:ident, $method:ident, $what:literal) => {
        #[doc = concat!($what, ": [`hamt_core::", stringify!($name), "`] over [`", stringify!($kind), "`].")]
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("let map: ", $path, "HamtMap<u8, u8> = [(1, 2)].into();")]
        #[doc = concat!("let iter: ", $path, stringify!($name), "<u8, u8> = map.", stringify!($method), "();")]
        /// assert_eq!(iter.count(), 1);
        /// ```
        pub type $name<K, V> = hamt_core::$name<K, V, $kind>;
    };
}

/// Aliases for hamt-core's set types over one pointer kind.
macro_rules! set_aliases {
    ($kind:ident, $path:literal) => {
        #[doc = concat!("An iterator over a set's elements: [`hamt_core::set::Iter`] over [`", stringify!($kind), "`].")]
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("let set: ", $path, "HamtSet<u8> = [1, 2].into();")]
        #[doc = concat!("let iter: ", $path, "set::Iter<'_, u8> = set.iter();")]
        /// assert_eq!(iter.count(), 2);
        /// ```
        pub type Iter<'a, T> = hamt_core::set::Iter<'a, T, $kind>;

        #[doc = concat!("An owning iterator over a set's elements: [`hamt_core::set::IntoIter`] over [`", stringify!($kind), "`].")]
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("let set: ", $path, "HamtSet<u8> = [1, 2].into();")]
        #[doc = concat!("let iter: ", $path, "set::IntoIter<u8> = set.into_iter();")]
        /// assert_eq!(iter.count(), 2);
        /// ```
        pub type IntoIter<T> = hamt_core::set::IntoIter<T, $kind>;

        #[doc = concat!("The differences between two sets: [`hamt_core::set::SetDiff`] over [`", stringify!($kind), "`].")]
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("let old: ", $path, "HamtSet<u8> = [1].into();")]
        /// let new = old.insert(2);
        #[doc = concat!("let diff: ", $path, "set::SetDiff<'_, u8> = old.diff(&new);")]
        /// assert_eq!(diff.count(), 1);
        /// ```
        pub type SetDiff<'a, T, S = DefaultHashBuilder> = hamt_core::set::SetDiff<'a, T, $kind, S>;
    };
}

/// Aliases for hamt-core's parallel iterator types over one pointer kind.
#[cfg(feature = "rayon")]
macro_rules! par_aliases {
    ($kind:ident, $path:literal) => {
        par_aliases!(@map $kind, $path, ParIter, par_iter, "A parallel iterator over a map's entries");
        par_aliases!(@map $kind, $path, ParKeys, par_keys, "A parallel iterator over a map's keys");
        par_aliases!(@map $kind, $path, ParValues, par_values, "A parallel iterator over a map's values");

        #[doc = concat!("A parallel iterator over a set's elements: [`hamt_core::par::ParSetIter`] over [`", stringify!($kind), "`].")]
        ///
        /// # Examples
        ///
        /// ```
        /// use rayon::prelude::*;
        ///
        #[doc = concat!("let set: ", $path, "HamtSet<u8> = [1, 2].into();")]
        #[doc = concat!("let iter: ", $path, "par::ParSetIter<'_, u8> = set.par_iter();")]
        /// assert_eq!(iter.count(), 2);
        /// ```
        pub type ParSetIter<'a, T, S = DefaultHashBuilder> = hamt_core::par::ParSetIter<'a, T, $kind, S>;

        #[doc = concat!("A parallel diff of two maps: [`hamt_core::par::ParDiff`] over [`", stringify!($kind), "`].")]
        ///
        /// # Examples
        ///
        /// ```
        /// use rayon::prelude::*;
        ///
        #[doc = concat!("let old: ", $path, "HamtMap<u8, u8> = [(1, 1)].into();")]
        /// let new = old.insert(2, 2);
        #[doc = concat!("let diff: ", $path, "par::ParDiff<'_, u8, u8> = old.par_diff(&new);")]
        /// assert_eq!(diff.count(), 1);
        /// ```
        pub type ParDiff<'a, K, V, S = DefaultHashBuilder> = hamt_core::par::ParDiff<'a, K, V, $kind, S>;
    };
    (@map $kind:ident, $path:literal, $name:ident, $method:ident, $what:literal) => {
        #[doc = concat!($what, ": [`hamt_core::par::", stringify!($name), "`] over [`", stringify!($kind), "`].")]
        ///
        /// # Examples
        ///
        /// ```
        /// use rayon::prelude::*;
        ///
        #[doc = concat!("let map: ", $path, "HamtMap<u8, u8> = [(1, 2)].into();")]
        #[doc = concat!("let iter: ", $path, "par::", stringify!($name), "<'_, u8, u8> = map.", stringify!($method), "();")]
        /// assert_eq!(iter.count(), 1);
        /// ```
        pub type $name<'a, K, V, S = DefaultHashBuilder> = hamt_core::par::$name<'a, K, V, $kind, S>;
    };
}

flavour_aliases!(ArcTK, "hamt_sync::");

/// The map module of the thread-safe flavour, mirroring [`hamt_core::map`].
pub mod map {
    pub use crate::HamtMap;
}

/// The set module of the thread-safe flavour, mirroring [`hamt_core::set`]: the set and its iterators.
pub mod set {
    use crate::{ArcTK, DefaultHashBuilder};

    pub use crate::HamtSet;
    pub use hamt_core::set::DiffItem;

    set_aliases!(ArcTK, "hamt_sync::");
}

/// The types of the parallel operations (feature `rayon`) over the thread-safe maps, mirroring
/// [`hamt_core::par`], which documents the operations.
#[cfg(feature = "rayon")]
pub mod par {
    use crate::{ArcTK, DefaultHashBuilder};

    par_aliases!(ArcTK, "hamt_sync::");
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
    pub type VersionedStore<K, V, S = DefaultHashBuilder> = crate::VersionedStore<K, V, ArcK, S>;

    /// A [`crate::Version`] of a map over std's `Arc` ([`ArcK`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let store: hamt_sync::arck::VersionedStore<u8, u8> = Default::default();
    /// let version: hamt_sync::arck::Version<u8, u8> = store.load_versioned();
    /// assert_eq!(version.number, 0);
    /// ```
    pub type Version<K, V, S = DefaultHashBuilder> = crate::Version<K, V, ArcK, S>;

    flavour_aliases!(ArcK, "hamt_sync::arck::");

    /// [`crate::set`]'s aliases over std's `Arc` ([`ArcK`]).
    pub mod set {
        use crate::{ArcK, DefaultHashBuilder};

        set_aliases!(ArcK, "hamt_sync::arck::");
    }

    /// [`crate::par`]'s aliases over std's `Arc` ([`ArcK`]).
    #[cfg(feature = "rayon")]
    pub mod par {
        use crate::{ArcK, DefaultHashBuilder};

        par_aliases!(ArcK, "hamt_sync::arck::");
    }
}
