//! [`VersionedStore`]: one evolving map shared between threads, read by snapshot without a lock.
//!
//! The store's whole state (the current version, its number and the history of earlier versions) is one immutable
//! `Published` value behind an [`ArcSwap`]. Readers load the pointer and clone the map out of it (two atomic
//! operations and no lock, whatever the other threads do); writers build the next `Published` from the one they
//! loaded and install it with a compare-and-swap on the pointer, retrying from the newer state if another writer
//! got there first. docs/architecture.md argues why this is correct (memory ordering, ABA) and why arc-swap.

use core::fmt;
use core::hash::{BuildHasher, Hash};
use std::error::Error;
use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};
use hamt_core::{ArcK, ArcTK, DefaultHashBuilder, HamtMap, PointerKind};

/// A map shared between threads as a sequence of numbered versions: any thread takes a snapshot of the current
/// version without a lock, and any thread publishes the next one.
///
/// - [`load`](Self::load) returns the current version as a map of its own: O(1), no lock, and since maps are
///   persistent, the snapshot never changes under its reader, whatever is published meanwhile.
/// - [`store`](Self::store) publishes a map; [`update`](Self::update) publishes a function of the current version
///   and retries until no other publish came in between, so concurrent updates are never lost;
///   [`compare_and_swap`](Self::compare_and_swap) publishes only if the current version is the one given.
/// - Every published version gets the next number (the first map is version 0). A store made
///   [`with_history`](Self::with_history) also keeps the latest earlier versions, which
///   [`version`](Self::version) and [`history`](Self::history) read and [`rollback`](Self::rollback) republishes.
///
/// The type parameters are those of [`hamt_core::HamtMap`], in its order: keys `K`, values `V`, the pointer kind
/// `P` ([`ArcTK`] unless named; the [`crate::arck`] module names the [`ArcK`](crate::ArcK) flavour) and the hasher
/// `S`. The pointer kind must be thread-safe ([`ThreadSafeKind`]): a store of hamt-core's default `RcK` maps is
/// refused when it is made, since the store exists to share its maps between threads. The store is `Send` and
/// `Sync` when its maps are, that is when `K`, `V` and `S` are.
///
/// # Examples
///
/// ```
/// use hamt_sync::{HamtMap, VersionedStore};
///
/// let store = VersionedStore::with_history(HamtMap::<&str, u64>::default(), 10);
/// std::thread::scope(|scope| {
///     for _ in 0..4 {
///         scope.spawn(|| {
///             for _ in 0..100 {
///                 store.update(|current| current.update_with("hits", |hits| Some(hits.map_or(1, |n| n + 1))));
///             }
///         });
///     }
///     // A reader's snapshot is one whole version, and stays what it was.
///     let snapshot = store.load();
///     assert!(snapshot.get("hits").copied().unwrap_or(0) <= 400);
/// });
/// assert_eq!(store.load()["hits"], 400);
/// assert_eq!(store.current_version(), 400);
/// assert_eq!(store.version(395).map(|map| map["hits"]), Some(395));
/// ```
pub struct VersionedStore<K, V, P: ThreadSafeKind = ArcTK, S = DefaultHashBuilder> {
    state: ArcSwap<Published<K, V, P, S>>,
    /// How many versions before the current one the history keeps.
    depth: usize,
}

/// The pointer kinds whose maps can be shared between threads, and so can be kept in a [`VersionedStore`]:
/// [`ArcTK`] (hamt-sync's default) and [`ArcK`].
///
/// hamt-core's default kind, `RcK`, counts references without atomics; a store of `RcK` maps is refused at
/// compile time, where it is made, with a message that names hamt-sync's maps. This trait is sealed.
///
/// # Examples
///
/// ```
/// use hamt_sync::{ArcTK, ThreadSafeKind};
///
/// fn shareable<P: ThreadSafeKind>() {}
/// shareable::<ArcTK>();
/// ```
///
/// A store of hamt-core's `RcK` maps does not compile:
///
/// ```compile_fail
/// let map: hamt_core::HamtMap<u32, u32> = hamt_core::HamtMap::new(); // RcK
/// let store = hamt_sync::VersionedStore::new(map);
/// ```
#[diagnostic::on_unimplemented(
    message = "hamt-sync's `VersionedStore` shares its maps between threads, so it needs a thread-safe pointer kind, not `{Self}`",
    label = "not a thread-safe pointer kind",
    note = "make the map a `hamt_sync::HamtMap` (pointer kind `ArcTK`) or a `hamt_sync::arck::HamtMap` (`ArcK`); hamt-core's default `HamtMap<K, V>` uses `RcK`, which is not thread-safe"
)]
pub trait ThreadSafeKind: PointerKind + sealed::Sealed {}

impl ThreadSafeKind for ArcTK {}
impl ThreadSafeKind for ArcK {}

mod sealed {
    /// Keeps [`ThreadSafeKind`](super::ThreadSafeKind) to the atomic kinds.
    pub trait Sealed {}

    impl Sealed for hamt_core::ArcTK {}
    impl Sealed for hamt_core::ArcK {}
}

/// One version of a map, with its number in the sequence of versions a [`VersionedStore`] published.
///
/// # Examples
///
/// ```
/// use hamt_sync::{HamtMap, Version, VersionedStore};
///
/// let store = VersionedStore::new(HamtMap::<u8, u8>::default());
/// store.store([(1, 1)].into());
/// let Version { number, map } = store.load_versioned();
/// assert_eq!((number, map.len()), (1, 1));
/// ```
pub struct Version<K, V, P: ThreadSafeKind = ArcTK, S = DefaultHashBuilder> {
    /// The version's number: 0 for the store's first map, then one more for every map published.
    pub number: u64,
    /// The map.
    pub map: HamtMap<K, V, P, S>,
}

/// The error of [`VersionedStore::rollback`]: the version asked for is not in the store's history (it is newer
/// than the current version, or old enough to have been dropped).
///
/// # Examples
///
/// ```
/// use hamt_sync::{HamtMap, VersionNotFound, VersionedStore};
///
/// let store = VersionedStore::new(HamtMap::<u8, u8>::default());
/// let error = store.rollback(7).unwrap_err();
/// assert_eq!(error, VersionNotFound { number: 7, oldest: 0, current: 0 });
/// assert_eq!(error.to_string(), "version 7 is not in the history, which holds versions 0 to 0");
/// assert!(std::error::Error::source(&error).is_none()); // the message is the whole story
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VersionNotFound {
    /// The version that was asked for.
    pub number: u64,
    /// The oldest version the history held when it was asked.
    pub oldest: u64,
    /// The current version when it was asked.
    pub current: u64,
}

impl fmt::Display for VersionNotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "version {} is not in the history, which holds versions {} to {}",
            self.number, self.oldest, self.current
        )
    }
}

impl Error for VersionNotFound {}

/// The state a store publishes atomically: replaced as a whole, never changed after it was published.
struct Published<K, V, P: ThreadSafeKind, S> {
    number: u64,
    map: HamtMap<K, V, P, S>,
    /// The earlier versions kept, by number: a contiguous range ending at `number - 1` (empty when the store keeps
    /// no history). Persistent, so that the next state shares all of it but the path to the added and dropped
    /// version: publishing costs O(log depth), not O(depth).
    history: HamtMap<u64, HamtMap<K, V, P, S>, P>,
}

impl<K, V, P: ThreadSafeKind, S: Clone> Published<K, V, P, S> {
    fn first(map: HamtMap<K, V, P, S>) -> Self {
        Published { number: 0, map, history: HamtMap::default() }
    }

    /// The state that publishes `map` after this one, keeping at most `depth` earlier versions.
    fn next(&self, map: HamtMap<K, V, P, S>, depth: usize) -> Self {
        // 2^64 publications would take centuries at any rate a compare-and-swap allows.
        let number = self.number.checked_add(1).expect("hamt-sync: version number overflow");
        let mut history = self.history.clone();
        if depth > 0 {
            history.insert_mut(self.number, self.map.clone());
            if history.len() > depth {
                // The range is contiguous and ends at `number - 1`, so the one version too many is its first.
                let oldest = number - history.len() as u64;
                history.remove_mut(&oldest);
            }
        }
        Published { number, map, history }
    }

    fn oldest(&self) -> u64 {
        self.number - self.history.len() as u64
    }

    fn version(&self) -> Version<K, V, P, S> {
        Version { number: self.number, map: self.map.clone() }
    }

    fn get(&self, number: u64) -> Option<HamtMap<K, V, P, S>> {
        if number == self.number { Some(self.map.clone()) } else { self.history.get(&number).cloned() }
    }
}

impl<K, V, P: ThreadSafeKind, S: Clone> VersionedStore<K, V, P, S> {
    /// A store whose current version (number 0) is `map`, keeping no earlier versions.
    ///
    /// # Examples
    ///
    /// ```
    /// let store = hamt_sync::VersionedStore::new(hamt_sync::HamtMap::from([("a", 1)]));
    /// assert_eq!(store.load()["a"], 1);
    /// store.store(Default::default());
    /// assert_eq!(store.version(0), None); // not kept
    /// ```
    pub fn new(map: HamtMap<K, V, P, S>) -> Self {
        Self::with_history(map, 0)
    }

    /// A store whose current version (number 0) is `map`, keeping the `depth` versions published before the
    /// current one (older ones are dropped as new ones come).
    ///
    /// Versions share structure, so the history costs what the versions changed, not `depth` times the map.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_sync::{HamtMap, VersionedStore};
    ///
    /// let store = VersionedStore::with_history(HamtMap::<u32, u32>::default(), 2);
    /// for i in 1..=5 {
    ///     store.update(|current| current.insert(i, i));
    /// }
    /// let kept: Vec<u64> = store.history().iter().map(|version| version.number).collect();
    /// assert_eq!(kept, [3, 4, 5]);
    /// ```
    pub fn with_history(map: HamtMap<K, V, P, S>, depth: usize) -> Self {
        VersionedStore { state: ArcSwap::from_pointee(Published::first(map)), depth }
    }

    /// How many versions before the current one the store keeps.
    ///
    /// # Examples
    ///
    /// ```
    /// let store = hamt_sync::VersionedStore::with_history(hamt_sync::HamtMap::<u8, u8>::default(), 3);
    /// assert_eq!(store.history_depth(), 3);
    /// ```
    pub fn history_depth(&self) -> usize {
        self.depth
    }

    /// A snapshot of the current version.
    ///
    /// The snapshot is a map of its own that shares every node with the store's version. It never changes, and
    /// changing it (say with [`insert_mut`](HamtMap::insert_mut)) copies the path it changes without affecting
    /// the store.
    ///
    /// # Complexity
    ///
    /// O(1) and lock-free: one load of the store's pointer (arc-swap's fast path, which neither takes a lock nor
    /// waits for writers) and one increment of the root node's reference count.
    ///
    /// # Examples
    ///
    /// ```
    /// let store = hamt_sync::VersionedStore::new(hamt_sync::HamtMap::from([(1, "one")]));
    /// let snapshot = store.load();
    /// store.update(|current| current.insert(2, "two"));
    /// assert_eq!(snapshot.len(), 1); // taken before the update, and unchanged by it
    /// assert_eq!(store.load().len(), 2);
    /// ```
    pub fn load(&self) -> HamtMap<K, V, P, S> {
        self.state.load().map.clone()
    }

    /// Calls `f` with the current version, without taking a snapshot: the cheapest way to read a few entries.
    ///
    /// The version stays alive while `f` runs, even if writers publish others meanwhile. Keep `f` short: a
    /// thread holds at most a few such reads at once without falling back to a slower path, and while `f` runs a
    /// version that writers replaced cannot be freed.
    ///
    /// # Complexity
    ///
    /// O(1) and lock-free: one load of the store's pointer (arc-swap's fast path), and no reference count is
    /// touched, so that readers on many cores do not contend on the root node's count.
    ///
    /// # Examples
    ///
    /// ```
    /// let store = hamt_sync::VersionedStore::new(hamt_sync::HamtMap::from([(1, "one")]));
    /// assert_eq!(store.read(|current| current.get(&1).copied()), Some("one"));
    /// ```
    pub fn read<R>(&self, f: impl FnOnce(&HamtMap<K, V, P, S>) -> R) -> R {
        f(&self.state.load().map)
    }

    /// A snapshot of the current version together with its number, read at the same instant.
    ///
    /// # Complexity
    ///
    /// O(1) and lock-free, as [`load`](Self::load).
    ///
    /// # Examples
    ///
    /// ```
    /// let store = hamt_sync::VersionedStore::new(hamt_sync::HamtMap::<u8, u8>::default());
    /// store.update(|current| current.insert(1, 1));
    /// let version = store.load_versioned();
    /// assert_eq!(version.number, 1);
    /// assert_eq!(version.map[&1], 1);
    /// ```
    pub fn load_versioned(&self) -> Version<K, V, P, S> {
        self.state.load().version()
    }

    /// The number of the current version: 0 for the first map, then one more for every map published.
    ///
    /// # Examples
    ///
    /// ```
    /// let store = hamt_sync::VersionedStore::new(hamt_sync::HamtMap::<u8, u8>::default());
    /// assert_eq!(store.current_version(), 0);
    /// store.store(Default::default());
    /// assert_eq!(store.current_version(), 1);
    /// ```
    pub fn current_version(&self) -> u64 {
        self.state.load().number
    }

    /// Version `number`, if it is the current version or one the history still keeps.
    ///
    /// # Complexity
    ///
    /// O(1) for the current version, a lookup in the history (O(log depth)) for the others.
    ///
    /// # Examples
    ///
    /// ```
    /// let store = hamt_sync::VersionedStore::with_history(hamt_sync::HamtMap::<u8, u8>::default(), 1);
    /// store.update(|current| current.insert(1, 1));
    /// store.update(|current| current.insert(2, 2));
    /// assert_eq!(store.version(2).map(|map| map.len()), Some(2));
    /// assert_eq!(store.version(1).map(|map| map.len()), Some(1));
    /// assert_eq!(store.version(0), None); // dropped: the history keeps one earlier version
    /// assert_eq!(store.version(3), None); // not published yet
    /// ```
    pub fn version(&self, number: u64) -> Option<HamtMap<K, V, P, S>> {
        self.state.load().get(number)
    }

    /// The versions the store keeps, oldest first; the last one is the current version. All of them are read
    /// from the same state, so together they are a consistent picture even while other threads publish.
    ///
    /// # Complexity
    ///
    /// O(depth).
    ///
    /// # Examples
    ///
    /// ```
    /// let store = hamt_sync::VersionedStore::with_history(hamt_sync::HamtMap::<u8, u8>::default(), 5);
    /// store.store([(1, 1)].into());
    /// let lengths: Vec<(u64, usize)> =
    ///     store.history().into_iter().map(|version| (version.number, version.map.len())).collect();
    /// assert_eq!(lengths, [(0, 0), (1, 1)]);
    /// ```
    pub fn history(&self) -> Vec<Version<K, V, P, S>> {
        let state = self.state.load();
        (state.oldest()..=state.number)
            .map(|number| Version { number, map: state.get(number).expect("the history is a contiguous range") })
            .collect()
    }

    /// Publishes `map` as the next version, whatever the current one is, and returns its number.
    ///
    /// # Examples
    ///
    /// ```
    /// let store = hamt_sync::VersionedStore::new(hamt_sync::HamtMap::<u8, u8>::default());
    /// assert_eq!(store.store([(1, 1)].into()), 1);
    /// assert_eq!(store.load()[&1], 1);
    /// ```
    pub fn store(&self, map: HamtMap<K, V, P, S>) -> u64 {
        match self.publish(|_| Ok::<_, core::convert::Infallible>(map.clone())) {
            Ok(published) => published.number,
            Err(never) => match never {},
        }
    }

    /// Publishes `f(current)` as the next version and returns it, retrying with the newer version whenever
    /// another thread published between the read of the current version and the publication of its successor.
    ///
    /// Updates from any number of threads are therefore never lost: each one is applied to the version it
    /// replaces. `f` may be called more than once (once per attempt), so it should be cheap and have no side
    /// effects beyond building the map it returns. It runs without any lock held; a slow `f` only makes its own
    /// update retry more often, and never blocks readers or other writers.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_sync::{HamtMap, VersionedStore};
    ///
    /// let store = VersionedStore::new(HamtMap::<&str, u32>::from([("count", 0)]));
    /// std::thread::scope(|scope| {
    ///     for _ in 0..2 {
    ///         scope.spawn(|| {
    ///             for _ in 0..50 {
    ///                 store.update(|current| current.insert("count", current["count"] + 1));
    ///             }
    ///         });
    ///     }
    /// });
    /// let latest = store.update(|current| current.clone());
    /// assert_eq!((latest.number, latest.map["count"]), (101, 100));
    /// ```
    pub fn update<F>(&self, mut f: F) -> Version<K, V, P, S>
    where
        F: FnMut(&HamtMap<K, V, P, S>) -> HamtMap<K, V, P, S>,
    {
        match self.publish(|current| Ok::<_, core::convert::Infallible>(f(current))) {
            Ok(published) => published.version(),
            Err(never) => match never {},
        }
    }

    /// Like [`update`](Self::update), but `f` may decline to publish by returning an error, which is then
    /// returned unchanged (and the current version stays).
    ///
    /// # Errors
    ///
    /// The first error `f` returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_sync::{HamtMap, VersionedStore};
    ///
    /// let store = VersionedStore::new(HamtMap::<&str, u32>::from([("stock", 1)]));
    /// let take = |current: &HamtMap<&'static str, u32>| match current["stock"] {
    ///     0 => Err("sold out"),
    ///     stock => Ok(current.insert("stock", stock - 1)),
    /// };
    /// assert_eq!(store.try_update(take).map(|version| version.number), Ok(1));
    /// assert_eq!(store.try_update(take).map(|version| version.number), Err("sold out"));
    /// ```
    pub fn try_update<F, E>(&self, f: F) -> Result<Version<K, V, P, S>, E>
    where
        F: FnMut(&HamtMap<K, V, P, S>) -> Result<HamtMap<K, V, P, S>, E>,
    {
        self.publish(f).map(|published| published.version())
    }

    /// Publishes `new` if the current version is `current`, and returns the number of the new version; otherwise
    /// publishes nothing and returns the current version.
    ///
    /// The versions are compared by identity ([`HamtMap::ptr_eq`]: the same root node, or both empty), which is
    /// O(1) and implies equal contents. So a success means that `new` replaces exactly the contents it was
    /// derived from, even if versions came and went in between and one of them was a copy of `current` (a
    /// [`rollback`](Self::rollback), say): no update made by another thread is lost. Two non-empty maps that are
    /// equal but were built separately do not count as the same version. Empty maps have no root to compare, so
    /// any empty map counts as the same version as a current empty one: the swap then replaces exactly the
    /// contents it was derived from (none), and no update is lost either.
    ///
    /// # Errors
    ///
    /// The current version, when it is not `current`; loop with it as the new `current` for a hand-written
    /// [`update`](Self::update).
    ///
    /// # Examples
    ///
    /// ```
    /// let store = hamt_sync::VersionedStore::new(hamt_sync::HamtMap::from([(1, 1)]));
    /// let seen = store.load();
    /// assert_eq!(store.compare_and_swap(&seen, seen.insert(2, 2)), Ok(1));
    ///
    /// // `seen` is no longer current: nothing is published, and the current version comes back.
    /// let current = store.compare_and_swap(&seen, seen.insert(3, 3)).unwrap_err();
    /// assert_eq!((current.number, current.map.len()), (1, 2));
    /// assert_eq!(store.compare_and_swap(&current.map, Default::default()), Ok(2));
    ///
    /// // Now empty: a separately built empty map counts as the current version.
    /// assert_eq!(store.compare_and_swap(&Default::default(), hamt_sync::HamtMap::from([(4, 4)])), Ok(3));
    /// ```
    pub fn compare_and_swap(
        &self,
        current: &HamtMap<K, V, P, S>,
        new: HamtMap<K, V, P, S>,
    ) -> Result<u64, Version<K, V, P, S>> {
        self.publish_state(|state| if state.map.ptr_eq(current) { Ok(new.clone()) } else { Err(state.version()) })
            .map(|published| published.number)
    }

    /// Publishes a copy of version `number` (from the history) as the next version, and returns the new number.
    ///
    /// Like a revert in version control, a rollback adds a version rather than removing any: the versions it
    /// rolls back over stay in the history, and can be rolled back to in turn.
    ///
    /// # Errors
    ///
    /// [`VersionNotFound`] if version `number` is neither the current version nor kept in the history.
    ///
    /// # Examples
    ///
    /// ```
    /// let store = hamt_sync::VersionedStore::with_history(hamt_sync::HamtMap::<&str, u8>::default(), 10);
    /// store.update(|current| current.insert("good", 1));
    /// store.update(|current| current.insert("bad", 2));
    /// assert_eq!(store.rollback(1), Ok(3));
    /// assert!(!store.load().contains_key("bad"));
    /// assert_eq!(store.rollback(2), Ok(4)); // the rolled-back version is still there
    /// assert!(store.load().contains_key("bad"));
    /// ```
    pub fn rollback(&self, number: u64) -> Result<u64, VersionNotFound> {
        self.publish_state(|state| {
            state.get(number).ok_or(VersionNotFound { number, oldest: state.oldest(), current: state.number })
        })
        .map(|published| published.number)
    }

    /// The publication loop behind every write: builds the next state from `f(current map)` and installs it if
    /// the state is still the one `f` saw, retrying from the newer state otherwise.
    fn publish<F, E>(&self, mut f: F) -> Result<Arc<Published<K, V, P, S>>, E>
    where
        F: FnMut(&HamtMap<K, V, P, S>) -> Result<HamtMap<K, V, P, S>, E>,
    {
        self.publish_state(|state| f(&state.map))
    }

    fn publish_state<F, E>(&self, mut f: F) -> Result<Arc<Published<K, V, P, S>>, E>
    where
        F: FnMut(&Published<K, V, P, S>) -> Result<HamtMap<K, V, P, S>, E>,
    {
        // A full `Arc` rather than a `Guard`: `f` is the caller's code and may take long, and arc-swap's guards
        // are meant to be short-lived (each thread has a few fast slots).
        let mut current = self.state.load_full();
        loop {
            let next = Arc::new(current.next(f(&current)?, self.depth));
            // The swap succeeds only if the store still points at `current`. Holding `current` keeps its
            // allocation alive, so no other state can have been allocated at its address meanwhile (no ABA): the
            // pointers are equal exactly when nothing was published since we loaded it.
            let previous = self.state.compare_and_swap(&current, Arc::clone(&next));
            if Arc::ptr_eq(&previous, &current) {
                return Ok(next);
            }
            current = Guard::into_inner(previous);
        }
    }
}

impl<K, V, P: ThreadSafeKind, S: Clone + Default> Default for VersionedStore<K, V, P, S> {
    /// A store of an empty map, keeping no earlier versions.
    fn default() -> Self {
        Self::new(HamtMap::default())
    }
}

impl<K, V, P: ThreadSafeKind, S: Clone> From<HamtMap<K, V, P, S>> for VersionedStore<K, V, P, S> {
    /// A store whose first version is `map` ([`VersionedStore::new`]).
    fn from(map: HamtMap<K, V, P, S>) -> Self {
        Self::new(map)
    }
}

impl<K: fmt::Debug, V: fmt::Debug, P: ThreadSafeKind, S> fmt::Debug for VersionedStore<K, V, P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load();
        f.debug_struct("VersionedStore")
            .field("version", &state.number)
            .field("history_depth", &self.depth)
            .field("map", &state.map)
            .finish()
    }
}

impl<K, V, P: ThreadSafeKind, S: Clone> Clone for Version<K, V, P, S> {
    fn clone(&self) -> Self {
        Version { number: self.number, map: self.map.clone() }
    }
}

impl<K: fmt::Debug, V: fmt::Debug, P: ThreadSafeKind, S> fmt::Debug for Version<K, V, P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Version").field("number", &self.number).field("map", &self.map).finish()
    }
}

impl<K, V, P, S> PartialEq for Version<K, V, P, S>
where
    K: Hash + Eq,
    V: PartialEq,
    S: BuildHasher,
    P: ThreadSafeKind,
{
    /// Versions are equal when their numbers and their maps are.
    fn eq(&self, other: &Self) -> bool {
        self.number == other.number && self.map == other.map
    }
}

impl<K, V, P, S> Eq for Version<K, V, P, S>
where
    K: Hash + Eq,
    V: Eq,
    S: BuildHasher,
    P: ThreadSafeKind,
{
}

#[cfg(test)]
mod tests;
