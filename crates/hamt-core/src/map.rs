//! The persistent hash map.

use core::borrow::Borrow;
use core::fmt;
use core::hash::{BuildHasher, Hash, Hasher};
use core::ops::{BitOr, Index};

use archery::RcK;

use crate::build::build;
use crate::diff::Diff;
use crate::entry::{Entry, OccupiedEntry, VacantEntry};
use crate::hasher::{DefaultHashBuilder, HasherId, hash_of, stable_hash};
use crate::iter::{IntoIter, IntoKeys, IntoValues, Iter, IterMut, Keys, Values, ValuesMut};
use crate::kind::PointerKind;
use crate::ops::{Built, Count, Merge, MergeKind, Merger, Shared, is_subnode, nodes_equal};
use crate::raw::{Found, Node};
use crate::trie::{self, ByKey, Change, Insert, Keyed, Left, Persistent, Remove, Seen, Update, UpdateWith};

/// A persistent hash map: a CHAMP trie whose versions share every node they have in common.
///
/// Cloning is O(1). [`insert`](Self::insert), [`remove`](Self::remove) and [`update_with`](Self::update_with)
/// return a new map that shares all unchanged nodes with the old one and copies only the path to the change
/// (O(log₃₂ n) nodes). Their `_mut` twins ([`insert_mut`](Self::insert_mut), [`remove_mut`](Self::remove_mut)),
/// and the by-value [`with`](Self::with) / [`without`](Self::without), change nodes in place where this map is
/// their only owner, so a map that is not shared costs no more to update than a mutable one.
///
/// Equality, [`diff`](Self::diff) and the set operations walk two maps side by side and skip the subtrees they
/// share, so comparing a map with a version derived from it costs what differs, not the size of the map.
///
/// - `P` is the pointer kind: [`RcK`] (the default, single-threaded), or `ArcK` / `ArcTK` for maps that are
///   `Send + Sync` (see [`PointerKind`]).
/// - `S` is the hasher, [`DefaultHashBuilder`] unless given by [`with_hasher`](Self::with_hasher).
///
/// # Examples
///
/// ```
/// use hamt_core::HamtMap;
///
/// let v1: HamtMap<&str, i32> = HamtMap::new().insert("apples", 3);
/// let v2 = v1.insert("pears", 5);
/// assert_eq!(v1.len(), 1); // the old version is unchanged
/// assert_eq!(v2.get("pears"), Some(&5));
///
/// let mut v3 = v2.clone(); // O(1)
/// v3.insert_mut("apples", 4); // copies only the path to "apples"
/// assert_eq!((v2["apples"], v3["apples"]), (3, 4));
/// ```
pub struct HamtMap<K, V, P: PointerKind = RcK, S = DefaultHashBuilder> {
    root: Option<Node<K, V, P>>,
    // The entry API reaches these two beside a node of the trie (`raw::Found::change_node`).
    pub(crate) len: usize,
    pub(crate) hasher: S,
    hasher_id: HasherId,
}

impl<K, V> HamtMap<K, V> {
    /// An empty map with the default pointer kind and hasher. Allocates nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<String, u32> = hamt_core::HamtMap::new();
    /// assert!(map.is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::with_hasher(DefaultHashBuilder)
    }

    /// Converts `value` into a map by its [`From`] implementation, with the default pointer kind and hasher.
    ///
    /// `HamtMap::from([...])` calls this function, which fixes the pointer kind to [`RcK`] as std's
    /// `HashMap::from([...])` fixes its hasher, so that the call needs no type annotation. The trait method
    /// (reached by `.into()`, or by naming another kind, as `hamt_sync::HamtMap::from` does) converts into any
    /// kind. Code generic over the kind or hasher must therefore name the type it converts into:
    /// `Self::from(x)`, `HamtMap::<K, V, P, S>::from(x)` or `x.into()`, since a bare `HamtMap::from(x)` means this
    /// function.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::HamtMap;
    ///
    /// let map = HamtMap::from([(1, "one"), (2, "two")]);
    /// assert_eq!(map[&2], "two");
    /// let from_vec = HamtMap::from(vec![(1, "one"), (2, "two")]);
    /// assert_eq!(from_vec, map);
    /// ```
    pub fn from<T>(value: T) -> Self
    where
        Self: From<T>,
    {
        <Self as From<T>>::from(value)
    }
}

impl<K, V, P: PointerKind, S> HamtMap<K, V, P, S> {
    /// An empty map that hashes keys with `hasher`. Allocates nothing.
    ///
    /// Maps derived from this one (by clone or update) share the hasher. Two maps created separately with hashers
    /// that have state (such as std's `RandomState`) are compared and merged by lookups rather than side by side,
    /// since nothing proves they hash alike; zero-sized hashers such as [`DefaultHashBuilder`] always do.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// use hamt_core::HamtMap;
    ///
    /// let map: HamtMap<u32, u32, archery::RcK, RandomState> = HamtMap::with_hasher(RandomState::new());
    /// assert_eq!(map.insert(1, 2).get(&1), Some(&2));
    /// ```
    #[must_use]
    pub fn with_hasher(hasher: S) -> Self {
        HamtMap { root: None, len: 0, hasher, hasher_id: HasherId::new::<S>() }
    }

    /// The map's hasher.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{DefaultHashBuilder, HamtMap};
    ///
    /// let map: HamtMap<u8, u8> = HamtMap::new();
    /// let _: &DefaultHashBuilder = map.hasher();
    /// ```
    pub fn hasher(&self) -> &S {
        &self.hasher
    }

    /// The number of entries. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<_, _> = [(1, 'a'), (2, 'b')].into();
    /// assert_eq!(map.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the map has no entries.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = hamt_core::HamtMap::<u8, u8>::new();
    /// assert!(map.is_empty());
    /// assert!(!map.insert(1, 1).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the two maps are the same version: they share their root node (or are both empty). O(1).
    ///
    /// Maps that are `ptr_eq` are equal; equal maps need not be `ptr_eq`.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<_, _> = [(1, 2)].into();
    /// let copy = map.clone();
    /// assert!(map.ptr_eq(&copy));
    /// assert!(!map.ptr_eq(&copy.insert(1, 2)));
    /// ```
    pub fn ptr_eq(&self, other: &Self) -> bool {
        match (&self.root, &other.root) {
            (Some(a), Some(b)) => a.ptr_eq(b),
            (None, None) => true,
            _ => false,
        }
    }

    /// An iterator over the entries, in trie order (which depends on the hashes, not on insertion order).
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<_, _> = [(1, 10), (2, 20)].into();
    /// let mut entries: Vec<_> = map.iter().collect();
    /// entries.sort();
    /// assert_eq!(entries, [(&1, &10), (&2, &20)]);
    /// ```
    pub fn iter(&self) -> Iter<'_, K, V, P> {
        Iter::new(self.root.as_ref(), self.len)
    }

    /// An iterator over the keys.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<_, _> = [("a", 1)].into();
    /// assert_eq!(map.keys().collect::<Vec<_>>(), [&"a"]);
    /// ```
    pub fn keys(&self) -> Keys<'_, K, V, P> {
        Keys { inner: self.iter() }
    }

    /// An iterator over the values.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<_, _> = [("a", 1), ("b", 2)].into();
    /// assert_eq!(map.values().sum::<i32>(), 3);
    /// ```
    pub fn values(&self) -> Values<'_, K, V, P> {
        Values { inner: self.iter() }
    }

    /// Removes every entry. Nodes shared with other versions stay alive for them.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map: hamt_core::HamtMap<_, _> = [(1, 1)].into();
    /// let old = map.clone();
    /// map.clear();
    /// assert!(map.is_empty() && old.len() == 1);
    /// ```
    pub fn clear(&mut self) {
        // Empty the map before dropping anything, so that a panicking `Drop` finds it empty (and the other entries
        // are still dropped, as by std's `clear`).
        let root = self.root.take();
        self.len = 0;
        drop(root);
    }

    pub(crate) fn root(&self) -> Option<&Node<K, V, P>> {
        self.root.as_ref()
    }

    pub(crate) fn root_mut(&mut self) -> Option<&mut Node<K, V, P>> {
        self.root.as_mut()
    }

    /// Puts in a new trie of `len` entries (built for this map's hasher) and returns the old root.
    #[cfg(feature = "rayon")]
    pub(crate) fn replace_contents(&mut self, root: Option<Node<K, V, P>>, len: usize) -> Option<Node<K, V, P>> {
        self.len = len;
        core::mem::replace(&mut self.root, root)
    }

    /// Whether both maps are known to hash keys alike, so that their tries can be walked side by side.
    pub(crate) fn hashes_like(&self, other: &Self) -> bool {
        self.hasher_id == other.hasher_id
    }

    /// A map with this map's hasher and the given contents.
    pub(crate) fn derived(&self, root: Option<Node<K, V, P>>, len: usize) -> Self
    where
        S: Clone,
    {
        HamtMap { root, len, hasher: self.hasher.clone(), hasher_id: self.hasher_id }
    }
}

impl<K, V, P, S> HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq,
    S: BuildHasher,
{
    /// The value for `key`.
    ///
    /// # Complexity
    /// O(log₃₂ n): one node per level, about 4 at a million entries.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<String, i32> = [("a".to_string(), 1)].into();
    /// assert_eq!(map.get("a"), Some(&1)); // look up a `String` key by `&str`
    /// assert_eq!(map.get("b"), None);
    /// ```
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get_key_value(key).map(|(_, value)| value)
    }

    /// The stored key and value for `key`.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<_, _> = [(1, "one")].into();
    /// assert_eq!(map.get_key_value(&1), Some((&1, &"one")));
    /// ```
    #[inline(always)]
    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let root = self.root.as_ref()?;
        trie::get(root, hash_of(&self.hasher, key), key, self.len).map(|(k, v)| (k, v))
    }

    /// Whether the map has an entry for `key`.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<_, _> = [(1, ())].into();
    /// assert!(map.contains_key(&1) && !map.contains_key(&2));
    /// ```
    #[inline]
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get_key_value(key).is_some()
    }

    /// An iterator over the differences that turn this map into `other`: keys [`Added`](crate::DiffItem::Added)
    /// in `other`, [`Removed`](crate::DiffItem::Removed) from this map, and
    /// [`Changed`](crate::DiffItem::Changed) values.
    ///
    /// # Complexity
    /// When the maps hash alike (derived from one another, or using a zero-sized hasher such as the default),
    /// the two tries are walked together and subtrees they share are skipped: the cost is O(d · log n) for d
    /// differences, whatever the size of the maps. Otherwise every key of both maps is looked up in the other.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{DiffItem, HamtMap};
    ///
    /// let base: HamtMap<u32, u32> = (0..100_000).map(|i| (i, i)).collect();
    /// let variant = base.insert(7, 0);
    /// assert_eq!(base.diff(&variant).collect::<Vec<_>>(), [DiffItem::Changed { key: &7, old: &7, new: &0 }]);
    /// ```
    pub fn diff<'a>(&'a self, other: &'a Self) -> Diff<'a, K, V, P, S>
    where
        V: PartialEq,
    {
        Diff::new(self, other)
    }

    /// Whether every entry of this map is in `other` with an equal value.
    ///
    /// # Complexity
    /// Shared subtrees are skipped when the maps hash alike (see [`diff`](Self::diff)).
    ///
    /// # Examples
    ///
    /// ```
    /// let small: hamt_core::HamtMap<_, _> = [(1, 'a')].into();
    /// let large = small.insert(2, 'b');
    /// assert!(small.is_submap(&large) && !large.is_submap(&small));
    /// assert!(!small.insert(1, 'z').is_submap(&large));
    /// ```
    pub fn is_submap(&self, other: &Self) -> bool
    where
        V: PartialEq,
    {
        if self.len > other.len {
            return false;
        }
        match (&self.root, &other.root) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) if self.hashes_like(other) => is_subnode(a, b, 0, &self.hasher),
            (Some(_), Some(_)) => self.iter().all(|(key, value)| other.get(key) == Some(value)),
        }
    }

    /// Whether this map is a submap of `other` (see [`is_submap`](Self::is_submap)) and `other` has more entries.
    ///
    /// # Examples
    ///
    /// ```
    /// let small: hamt_core::HamtMap<_, _> = [(1, 'a')].into();
    /// let large = small.insert(2, 'b');
    /// assert!(small.is_proper_submap(&large));
    /// assert!(!small.is_proper_submap(&small) && small.is_submap(&small));
    /// ```
    pub fn is_proper_submap(&self, other: &Self) -> bool
    where
        V: PartialEq,
    {
        self.len < other.len && self.is_submap(other)
    }
}

impl<K, V, P, S> HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher + Clone,
{
    /// A new map with `key` set to `value`; this map is unchanged.
    ///
    /// If the key was present, the new map keeps the stored key and takes the new value.
    ///
    /// # Complexity
    /// O(log₃₂ n): copies the nodes on the path to the key and shares all others with this map. To update a map you
    /// own without keeping the old version, [`insert_mut`](Self::insert_mut) and [`with`](Self::with) change
    /// unshared nodes in place instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let v1: hamt_core::HamtMap<_, _> = [("a", 1)].into();
    /// let v2 = v1.insert("a", 2).insert("b", 3);
    /// assert_eq!((v1.get("a"), v2.get("a"), v2.len()), (Some(&1), Some(&2), 2));
    /// ```
    #[must_use = "`insert` returns a new map and leaves this one unchanged; to change the map in place, use `insert_mut`"]
    pub fn insert(&self, key: K, value: V) -> Self {
        self.updated_persistent(Insert { key, value })
    }

    /// A new map without `key`; this map is unchanged. If the key is absent, the result shares everything with
    /// this map (it is [`ptr_eq`](Self::ptr_eq) to it).
    ///
    /// # Examples
    ///
    /// ```
    /// let v1: hamt_core::HamtMap<_, _> = [("a", 1), ("b", 2)].into();
    /// let v2 = v1.remove("a");
    /// assert_eq!((v1.len(), v2.len()), (2, 1));
    /// assert!(v2.remove("zzz").ptr_eq(&v2));
    /// ```
    #[must_use = "`remove` returns a new map and leaves this one unchanged; to change the map in place, use `remove_mut`"]
    pub fn remove<Q>(&self, key: &Q) -> Self
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.updated_persistent(Remove { target: ByKey(key), wants_key: false })
    }

    /// A new map where `key`'s value is what `f` makes of the current one: `f(None)` for an absent key,
    /// `f(Some(&value))` for a present one; returning `None` removes the key. One walk down the trie does the
    /// lookup and the insert, change or removal.
    ///
    /// # Examples
    ///
    /// ```
    /// let counts: hamt_core::HamtMap<&str, u32> = [("a", 1)].into();
    /// let bump = |count: Option<&u32>| Some(count.map_or(1, |c| c + 1));
    /// let counts = counts.update_with("a", bump).update_with("b", bump);
    /// assert_eq!((counts["a"], counts["b"]), (2, 1));
    /// let counts = counts.update_with("a", |_| None);
    /// assert!(!counts.contains_key("a"));
    /// ```
    #[must_use = "`update_with` returns a new map and leaves this one unchanged; to change the map in place, use `update_with_mut`"]
    pub fn update_with<F>(&self, key: K, f: F) -> Self
    where
        F: FnOnce(Option<&V>) -> Option<V>,
    {
        self.updated_persistent(UpdateWith { key, decide: f })
    }

    /// The value for `key` and a new map without it, or `None` if the key is absent; this map is unchanged.
    ///
    /// The persistent way to take a value out (imbl's `extract`); [`remove_entry`](Self::remove_entry) does it
    /// in place.
    ///
    /// # Complexity
    /// O(log₃₂ n), as [`remove`](Self::remove), and one clone of the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<_, _> = [("a", 1), ("b", 2)].into();
    /// let (value, rest) = map.extract("a").unwrap();
    /// assert_eq!((value, rest.len(), map.len()), (1, 1, 2));
    /// assert!(map.extract("z").is_none());
    /// ```
    #[must_use = "`extract` returns the value and a new map, and leaves this map unchanged; to take the entry out in place, use `remove_entry`"]
    pub fn extract<Q>(&self, key: &Q) -> Option<(V, Self)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        // One walk: the removal reports the entry it took out of this map's trie, whose value is cloned.
        match self.updated_persistent_seen(Remove { target: ByKey(key), wants_key: false }) {
            (rest, Some(Seen::Removed((_, value)))) => Some((value.clone(), rest)),
            _ => None,
        }
    }

    /// This map with `key` set to `value`, taking the map by value: the by-value twin of [`insert`](Self::insert),
    /// for code written as `map = map.with(k, v)`.
    ///
    /// When `self` is the only handle to its nodes, this updates them in place like
    /// [`insert_mut`](Self::insert_mut) (no path copy, nothing to free); when other versions share them, it copies
    /// the path like `insert`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map = hamt_core::HamtMap::new();
    /// for i in 0..100 {
    ///     map = map.with(i, i * i); // in place: nobody else holds `map`
    /// }
    /// assert_eq!(map.get(&9), Some(&81));
    /// ```
    #[must_use = "`with` takes the map by value and returns the updated map, dropped here; to change the map in place, use `insert_mut`"]
    pub fn with(mut self, key: K, value: V) -> Self {
        self.insert_mut(key, value);
        self
    }

    /// This map without `key`, taking the map by value: the by-value twin of [`remove`](Self::remove), in place
    /// where the nodes are unshared.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<_, _> = [(1, 1), (2, 2)].into();
    /// assert_eq!(map.without(&1).len(), 1);
    /// ```
    #[must_use = "`without` takes the map by value and returns the updated map, dropped here; to change the map in place, use `remove_mut`"]
    pub fn without<Q>(mut self, key: &Q) -> Self
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove_mut(key);
        self
    }

    fn updated_persistent<U>(&self, op: U) -> Self
    where
        U: Update<K, V> + Keyed,
        U::Key: Hash,
    {
        self.updated_persistent_seen(op).0
    }

    /// [`updated_persistent`](Self::updated_persistent), with what the walk found: `None` when nothing changed.
    fn updated_persistent_seen<U>(&self, op: U) -> (Self, Option<Seen<'_, K, V>>)
    where
        U: Update<K, V> + Keyed,
        U::Key: Hash,
    {
        let hash = hash_of(&self.hasher, op.key());
        let Some(root) = &self.root else {
            return match op.vacant() {
                Some(entry) => (self.derived(Some(trie::single(entry, hash, 0)), 1), Some(Seen::Inserted)),
                None => (self.clone(), None),
            };
        };
        match trie::update_persistent(root, hash, 0, op, &self.hasher) {
            Persistent::Unchanged => (self.clone(), None),
            Persistent::Node(node, seen) => {
                (self.derived(Some(node), self.len.wrapping_add_signed(seen.len_delta())), Some(seen))
            }
            Persistent::Empty(removed) => (self.derived(None, 0), Some(Seen::Removed(removed))),
            Persistent::Single(..) => unreachable!("the root never collapses into its parent"),
        }
    }
}

impl<K, V, P, S> HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher,
{
    /// Sets `key` to `value` in this map, returning the old value. The stored key is kept if present.
    ///
    /// Nodes this map owns alone are changed in place; the first shared node on the path and those below it are
    /// copied (other versions keep seeing their own contents).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map = hamt_core::HamtMap::new();
    /// assert_eq!(map.insert_mut("a", 1), None);
    /// assert_eq!(map.insert_mut("a", 2), Some(1));
    /// ```
    pub fn insert_mut(&mut self, key: K, value: V) -> Option<V> {
        self.update_in_place(Insert { key, value }).into_old()
    }

    /// Removes `key` from this map, returning its value. When the key is absent nothing is copied, even where
    /// nodes are shared.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map: hamt_core::HamtMap<_, _> = [("a", 1)].into();
    /// assert_eq!(map.remove_mut("a"), Some(1));
    /// assert_eq!(map.remove_mut("a"), None);
    /// ```
    pub fn remove_mut<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.update_in_place(Remove { target: ByKey(key), wants_key: false }).into_old()
    }

    /// Removes `key` from this map, returning the stored key and value: std's `HashMap::remove_entry`, in place.
    ///
    /// Like [`entry`](Self::entry), [`retain`](Self::retain) and [`get_mut`](Self::get_mut), this std name keeps
    /// std's in-place meaning, since there is no persistent twin to give it to; the persistent way to take a value
    /// out is [`extract`](Self::extract).
    ///
    /// The entry is moved out of the map where this map alone holds its node; where the node is shared with
    /// another version, the key and value are cloned (the other version keeps them).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map: hamt_core::HamtMap<_, _> = [("a", 1), ("b", 2)].into();
    /// assert_eq!(map.remove_entry("a"), Some(("a", 1)));
    /// assert_eq!(map.remove_entry("a"), None);
    /// assert_eq!(map.len(), 1);
    /// ```
    pub fn remove_entry<Q>(&mut self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let (stored, value) = self.update_in_place(Remove { target: ByKey(key), wants_key: true }).into_removed()?;
        Some((stored.expect("hamt: a removal that asks for the key returns it"), value))
    }

    /// The former name of [`remove_entry`](Self::remove_entry), hidden from the docs. (Not yet deprecated, so
    /// that branches written against the old name merge without warnings; deprecate it once they are in.)
    #[doc(hidden)]
    pub fn remove_entry_mut<Q>(&mut self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove_entry(key)
    }

    /// The in-place twin of [`update_with`](Self::update_with): sets, changes or removes `key` in this map as `f`
    /// decides, returning the old value.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map: hamt_core::HamtMap<&str, i32> = hamt_core::HamtMap::new();
    /// map.update_with_mut("n", |n| Some(n.copied().unwrap_or(0) + 1));
    /// map.update_with_mut("n", |n| Some(n.copied().unwrap_or(0) + 1));
    /// assert_eq!(map["n"], 2);
    /// ```
    pub fn update_with_mut<F>(&mut self, key: K, f: F) -> Option<V>
    where
        F: FnOnce(Option<&V>) -> Option<V>,
    {
        self.update_in_place(UpdateWith { key, decide: f }).into_old()
    }

    /// Applies `op` in place. The map is whole (its trie canonical, its length right) before anything that left
    /// it is dropped: what the update took out comes back in the [`Change`], for the caller to return or drop.
    pub(crate) fn update_in_place<U>(&mut self, op: U) -> Change<K, V>
    where
        U: Update<K, V> + Keyed,
        U::Key: Hash,
    {
        let hash = hash_of(&self.hasher, op.key());
        self.update_in_place_hashed(hash, op)
    }

    /// [`update_in_place`](Self::update_in_place) with the key's hash already computed.
    #[inline]
    pub(crate) fn update_in_place_hashed<U>(&mut self, hash: u64, op: U) -> Change<K, V>
    where
        U: Update<K, V>,
    {
        let Some(root) = &mut self.root else {
            if let Some(entry) = op.vacant() {
                self.root = Some(trie::single(entry, hash, 0));
                self.len = 1;
                return Change::Inserted;
            }
            return Change::Nothing;
        };
        let (change, left) = trie::update_mut(root, hash, 0, op, &self.hasher);
        if left != Left::Nothing {
            if left == Left::One {
                trie::pull_up_singles(root, hash);
            }
            self.len = self.len.wrapping_add_signed(change.len_delta());
            return change;
        }
        // The map is now empty: take the root out and set the length first.
        let root = self.root.take().expect("the map had a root");
        self.len = 0;
        match change {
            Change::RemovesRoot => {
                let (key, value) = trie::into_only_entry(root);
                Change::Removed { key: Some(key), value }
            }
            // A shared root, whose entry was cloned: dropping this handle drops nothing else.
            change => {
                drop(root);
                change
            }
        }
    }

    /// A mutable reference to the value for `key`. Copies the shared nodes on the path to it, but only when the key
    /// is present.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map: hamt_core::HamtMap<_, _> = [("a", 1)].into();
    /// let old = map.clone();
    /// *map.get_mut("a").unwrap() += 10;
    /// assert_eq!((old["a"], map["a"]), (1, 11));
    /// ```
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = hash_of(&self.hasher, key);
        trie::get_mut(self.root.as_mut()?, hash, key)
    }

    /// The entry for `key`, to inspect and change in place, as with std's `HashMap::entry`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut words: hamt_core::HamtMap<&str, usize> = hamt_core::HamtMap::new();
    /// for word in "a rose is a rose".split(' ') {
    ///     *words.entry(word).or_insert(0) += 1;
    /// }
    /// assert_eq!((words["rose"], words["is"]), (2, 1));
    /// ```
    pub fn entry(&mut self, key: K) -> Entry<'_, K, V, P, S> {
        let hash = hash_of(&self.hasher, &key);
        let (mut place, mut vacant_shift) = (None, 0);
        // One walk: on a path of nodes this map alone holds, an entry is kept by reference, so that the occupied
        // entry reads and changes it with no further walk, and so is the node where an absent key would go, so
        // that the vacant entry inserts there.
        let found = Found::new_or_other(self, |map| {
            let Some(root) = map.root.as_mut() else { return Ok(None) };
            match trie::locate_mut(root, hash, |stored, _| *stored == key) {
                trie::Located::Unique(entry, at) => {
                    place = Some(at);
                    Ok(Some(entry))
                }
                trie::Located::Shared(at) => {
                    place = Some(at);
                    Ok(None)
                }
                trie::Located::Vacant(node, shift) => {
                    vacant_shift = shift;
                    Err(node)
                }
                trie::Located::Absent => Ok(None),
            }
        });
        match (found, place) {
            (Err(node), _) => Entry::Vacant(VacantEntry::new(node, key, hash, vacant_shift)),
            (Ok(found), Some(place)) => Entry::Occupied(OccupiedEntry::new(found, key, hash, place)),
            (Ok(found), None) => {
                Entry::Vacant(VacantEntry::new(Found::new(found.into_owner(), |_| None), key, hash, 0))
            }
        }
    }

    /// Inserts an entry whose key [`entry`](Self::entry) found absent, where its hash leads, and returns it.
    pub(crate) fn insert_vacant(&mut self, hash: u64, entry: (K, V)) -> (&mut (K, V), trie::Place) {
        if self.root.is_none() {
            let root = self.root.insert(trie::single(entry, hash, 0));
            self.len = 1;
            let entry = &mut root.unique_mut().expect("a new node is unique").into_parts().0[0];
            return (entry, trie::Place { collision_index: 0 });
        }
        let root = self.root.as_mut().expect("checked above");
        let inserted = trie::insert_vacant(root, hash, 0, entry, &self.hasher);
        self.len += 1;
        inserted
    }

    /// Keeps only the entries for which `keep` returns `true`; `keep` may also change the values it keeps.
    ///
    /// # Complexity
    /// O(n) to visit every entry, plus O(log₃₂ n) per removed entry. Nodes shared with other versions are copied.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map: hamt_core::HamtMap<_, _> = (0..10).map(|i| (i, i)).collect();
    /// map.retain(|key, value| {
    ///     *value *= 10;
    ///     key % 2 == 0
    /// });
    /// assert_eq!(map.len(), 5);
    /// assert_eq!(map.get(&4), Some(&40));
    /// ```
    pub fn retain<F>(&mut self, mut keep: F)
    where
        F: FnMut(&K, &mut V) -> bool,
    {
        let doomed: alloc::vec::Vec<K> =
            self.iter_mut().filter_map(|(key, value)| (!keep(key, value)).then(|| key.clone())).collect();
        for key in &doomed {
            self.remove_mut(key);
        }
    }

    /// An iterator over the entries with mutable values. Nodes shared with other versions are copied first (so
    /// that the other versions do not see the changes).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map: hamt_core::HamtMap<_, _> = [(1, 1), (2, 2)].into();
    /// for (_, value) in map.iter_mut() {
    ///     *value += 1;
    /// }
    /// assert_eq!(map.values().sum::<i32>(), 5);
    /// ```
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V, P> {
        if let Some(root) = &mut self.root {
            trie::make_all_unique(root);
        }
        IterMut::new(self.root.as_mut(), self.len)
    }

    /// An iterator over mutable references to the values (see [`iter_mut`](Self::iter_mut)).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map: hamt_core::HamtMap<_, _> = [("a", 1)].into();
    /// map.values_mut().for_each(|value| *value = 7);
    /// assert_eq!(map["a"], 7);
    /// ```
    pub fn values_mut(&mut self) -> ValuesMut<'_, K, V, P> {
        ValuesMut { inner: self.iter_mut() }
    }
}

/// The set operations. They walk the two tries together when the maps hash alike (see [`HamtMap::diff`]), reuse
/// whole subtrees from either side, and visit subtrees the maps share only when a function must see their entries.
impl<K, V, P, S> HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher + Clone,
{
    pub(crate) fn merged<M: Merge<K, V>>(&self, other: &Self, merge: M) -> Self {
        if !self.hashes_like(other) {
            return self.merged_by_lookup(other, merge);
        }
        let (root, len) = match (&self.root, &other.root) {
            (Some(a), Some(b)) => {
                let mut merger = Merger { merge, hasher: &self.hasher, count: 0 };
                let built = merger.nodes(a, b, 0);
                let len = match M::COUNT {
                    Count::FromLeft => self.len.wrapping_add_signed(merger.count),
                    Count::Kept => merger.count as usize,
                };
                let root = match built {
                    Built::Empty => None,
                    Built::Many(node) => Some(node),
                    Built::One(_) => unreachable!("a merged root is never collapsed"),
                };
                (root, len)
            }
            (Some(_), None) => {
                return if M::KEEP_LEFT_ONLY { self.clone() } else { self.derived(None, 0) };
            }
            (None, Some(_)) => {
                return if M::KEEP_RIGHT_ONLY {
                    self.derived(other.root.clone(), other.len)
                } else {
                    self.derived(None, 0)
                };
            }
            (None, None) => (None, 0),
        };
        self.derived(root, len)
    }

    /// The same operation for maps that may hash differently: one lookup per key.
    fn merged_by_lookup<M: Merge<K, V>>(&self, other: &Self, mut merge: M) -> Self {
        let mut result = self.derived(None, 0);
        for (key, value) in self {
            match other.get(key) {
                Some(other_value) => {
                    if let Some(merged) = merge.both(key, value, other_value) {
                        result.insert_mut(key.clone(), merged);
                    }
                }
                None if M::KEEP_LEFT_ONLY => {
                    result.insert_mut(key.clone(), value.clone());
                }
                None => {}
            }
        }
        if M::KEEP_RIGHT_ONLY {
            for (key, value) in other.iter().filter(|(key, _)| !self.contains_key(*key)) {
                result.insert_mut(key.clone(), value.clone());
            }
        }
        result
    }

    /// The entries of both maps; for keys in both, this map's value.
    ///
    /// # Complexity
    /// Subtrees the maps share are reused without being visited: the union of a map and a version derived from it
    /// costs what differs between them.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: hamt_core::HamtMap<_, _> = [(1, "a"), (2, "a")].into();
    /// let b: hamt_core::HamtMap<_, _> = [(2, "b"), (3, "b")].into();
    /// let both = a.union(&b);
    /// assert_eq!((both[&1], both[&2], both[&3]), ("a", "a", "b"));
    /// ```
    #[must_use = "`union` returns a new map and leaves both unchanged; to add entries in place, use `extend` (or assign: `map = map.union(&other)`)"]
    pub fn union(&self, other: &Self) -> Self {
        self.merged(other, KeepLeft)
    }

    /// The entries of both maps; for keys in both, `f(key, this map's value, other's value)`.
    ///
    /// `f` is called for every key in both maps, including those in subtrees the maps share.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: hamt_core::HamtMap<_, _> = [("x", 1), ("y", 2)].into();
    /// let b: hamt_core::HamtMap<_, _> = [("y", 10)].into();
    /// let sums = a.union_with(&b, |_, l, r| l + r);
    /// assert_eq!((sums["x"], sums["y"]), (1, 12));
    /// ```
    #[must_use = "`union_with` returns a new map and leaves both unchanged; assign it (`map = map.union_with(&other, f)`) to keep it"]
    pub fn union_with<F>(&self, other: &Self, f: F) -> Self
    where
        F: FnMut(&K, &V, &V) -> V,
    {
        self.merged(other, UnionWith(f))
    }

    /// The entries of this map whose keys are also in `other`, with this map's values.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: hamt_core::HamtMap<_, _> = [(1, 'a'), (2, 'a')].into();
    /// let b: hamt_core::HamtMap<_, _> = [(2, 'b'), (3, 'b')].into();
    /// assert_eq!(a.intersection(&b), [(2, 'a')].into());
    /// ```
    #[must_use = "`intersection` returns a new map and leaves both unchanged; to drop entries in place, use `retain` (or assign: `map = map.intersection(&other)`)"]
    pub fn intersection(&self, other: &Self) -> Self {
        self.merged(other, Intersection)
    }

    /// The keys in both maps, with values `f(key, this map's value, other's value)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: hamt_core::HamtMap<_, _> = [(1, 2), (2, 3)].into();
    /// let b: hamt_core::HamtMap<_, _> = [(2, 4)].into();
    /// assert_eq!(a.intersection_with(&b, |_, l, r| l * r), [(2, 12)].into());
    /// ```
    #[must_use = "`intersection_with` returns a new map and leaves both unchanged; assign it (`map = map.intersection_with(&other, f)`) to keep it"]
    pub fn intersection_with<F>(&self, other: &Self, f: F) -> Self
    where
        F: FnMut(&K, &V, &V) -> V,
    {
        self.merged(other, IntersectionWith(f))
    }

    /// The entries of this map whose keys are not in `other`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: hamt_core::HamtMap<_, _> = [(1, ()), (2, ())].into();
    /// let b: hamt_core::HamtMap<_, _> = [(2, ())].into();
    /// assert_eq!(a.difference(&b), [(1, ())].into());
    /// ```
    #[must_use = "`difference` returns a new map and leaves both unchanged; to drop entries in place, use `retain` (or assign: `map = map.difference(&other)`)"]
    pub fn difference(&self, other: &Self) -> Self {
        self.merged(other, Difference)
    }

    /// The entries whose keys are in exactly one of the two maps.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: hamt_core::HamtMap<_, _> = [(1, ()), (2, ())].into();
    /// let b: hamt_core::HamtMap<_, _> = [(2, ()), (3, ())].into();
    /// assert_eq!(a.symmetric_difference(&b), [(1, ()), (3, ())].into());
    /// ```
    #[must_use = "`symmetric_difference` returns a new map and leaves both unchanged; assign it (`map = map.symmetric_difference(&other)`) to keep it"]
    pub fn symmetric_difference(&self, other: &Self) -> Self {
        self.merged(other, SymmetricDifference)
    }

    /// The union of all the maps; for a key in several, the value of the first map that has it (as by folding
    /// with [`union`](Self::union)). No maps make an empty map.
    ///
    /// # Complexity
    /// One [`union`](Self::union) per map after the first, each skipping the subtrees the maps share.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::HamtMap;
    ///
    /// let base: HamtMap<_, _> = [(1, "base"), (2, "base")].into();
    /// let all = HamtMap::unions([base.insert(1, "first"), base.insert(3, "second"), base.clone()]);
    /// assert_eq!(all, [(1, "first"), (2, "base"), (3, "second")].into());
    /// assert!(HamtMap::<u8, u8>::unions([]).is_empty());
    /// ```
    #[must_use]
    pub fn unions<I>(maps: I) -> Self
    where
        I: IntoIterator<Item = Self>,
        S: Default,
    {
        let mut maps = maps.into_iter();
        let Some(first) = maps.next() else { return Self::default() };
        maps.fold(first, |all, map| all.union(&map))
    }
}

pub(crate) struct KeepLeft;
pub(crate) struct UnionWith<F>(F);
pub(crate) struct Intersection;
pub(crate) struct IntersectionWith<F>(F);
pub(crate) struct Difference;
pub(crate) struct SymmetricDifference;
/// Union where the right side wins: the bulk path of `Extend`.
pub(crate) struct KeepRight;

impl MergeKind for KeepLeft {
    const KEEP_LEFT_ONLY: bool = true;
    const KEEP_RIGHT_ONLY: bool = true;
    const SHARED: Shared = Shared::Keep;
    const COUNT: Count = Count::FromLeft;
}

impl<K, V: Clone> Merge<K, V> for KeepLeft {
    fn both(&mut self, _: &K, left: &V, _: &V) -> Option<V> {
        Some(left.clone())
    }
}

impl MergeKind for KeepRight {
    const KEEP_LEFT_ONLY: bool = true;
    const KEEP_RIGHT_ONLY: bool = true;
    const SHARED: Shared = Shared::Keep;
    const COUNT: Count = Count::FromLeft;
}

impl<K, V: Clone> Merge<K, V> for KeepRight {
    fn both(&mut self, _: &K, _: &V, right: &V) -> Option<V> {
        Some(right.clone())
    }
}

impl<F> MergeKind for UnionWith<F> {
    const KEEP_LEFT_ONLY: bool = true;
    const KEEP_RIGHT_ONLY: bool = true;
    const SHARED: Shared = Shared::Map;
    const COUNT: Count = Count::FromLeft;
}

impl<K, V, F: FnMut(&K, &V, &V) -> V> Merge<K, V> for UnionWith<F> {
    fn both(&mut self, key: &K, left: &V, right: &V) -> Option<V> {
        Some((self.0)(key, left, right))
    }
}

impl MergeKind for Intersection {
    const KEEP_LEFT_ONLY: bool = false;
    const KEEP_RIGHT_ONLY: bool = false;
    const SHARED: Shared = Shared::Keep;
    const COUNT: Count = Count::FromLeft;
}

impl<K, V: Clone> Merge<K, V> for Intersection {
    fn both(&mut self, _: &K, left: &V, _: &V) -> Option<V> {
        Some(left.clone())
    }
}

impl<F> MergeKind for IntersectionWith<F> {
    const KEEP_LEFT_ONLY: bool = false;
    const KEEP_RIGHT_ONLY: bool = false;
    const SHARED: Shared = Shared::Map;
    const COUNT: Count = Count::FromLeft;
}

impl<K, V, F: FnMut(&K, &V, &V) -> V> Merge<K, V> for IntersectionWith<F> {
    fn both(&mut self, key: &K, left: &V, right: &V) -> Option<V> {
        Some((self.0)(key, left, right))
    }
}

impl MergeKind for Difference {
    const KEEP_LEFT_ONLY: bool = true;
    const KEEP_RIGHT_ONLY: bool = false;
    const SHARED: Shared = Shared::Drop;
    const COUNT: Count = Count::Kept;
}

impl<K, V> Merge<K, V> for Difference {
    fn both(&mut self, _: &K, _: &V, _: &V) -> Option<V> {
        None
    }
}

impl MergeKind for SymmetricDifference {
    const KEEP_LEFT_ONLY: bool = true;
    const KEEP_RIGHT_ONLY: bool = true;
    const SHARED: Shared = Shared::Drop;
    const COUNT: Count = Count::Kept;
}

impl<K, V> Merge<K, V> for SymmetricDifference {
    fn both(&mut self, _: &K, _: &V, _: &V) -> Option<V> {
        None
    }
}

impl<K, V, P: PointerKind, S: Clone> Clone for HamtMap<K, V, P, S> {
    /// O(1): the copy shares every node with the original.
    fn clone(&self) -> Self {
        HamtMap { root: self.root.clone(), len: self.len, hasher: self.hasher.clone(), hasher_id: self.hasher_id }
    }
}

impl<K, V, P: PointerKind, S: Default> Default for HamtMap<K, V, P, S> {
    /// An empty map.
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<K: fmt::Debug, V: fmt::Debug, P: PointerKind, S> fmt::Debug for HamtMap<K, V, P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K, V, P, S> PartialEq for HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq,
    V: PartialEq,
    S: BuildHasher,
{
    /// Equal when both maps hold the same keys with equal values.
    ///
    /// The maps are first compared node by node, skipping subtrees they share and stopping at the first node whose
    /// shape or contents differ: comparing a map with a one-key variant of itself costs O(log n), and two maps built
    /// separately with the same hash function compare without a single lookup. Tries that match node for node
    /// hold the same entries whatever their hashers, so a match is always right. When the walk finds a difference
    /// it is decisive if the maps are known to hash alike (canonical form gives equal contents equal shapes);
    /// otherwise every key is looked up in the other map.
    fn eq(&self, other: &Self) -> bool {
        if self.len != other.len {
            return false;
        }
        match (&self.root, &other.root) {
            (Some(a), Some(b)) => {
                nodes_equal(a, b, 0)
                    || (!self.hashes_like(other) && self.iter().all(|(key, value)| other.get(key) == Some(value)))
            }
            _ => true,
        }
    }
}

impl<K, V, P, S> Eq for HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq,
    V: Eq,
    S: BuildHasher,
{
}

impl<K: Hash, V: Hash, P: PointerKind, S> Hash for HamtMap<K, V, P, S> {
    /// Independent of insertion order and of the hasher's seed: the length, then the wrapping sum of a fixed-seed
    /// hash of every entry. Equal maps therefore hash equal.
    fn hash<H: Hasher>(&self, state: &mut H) {
        let sum = self.iter().fold(0u64, |sum, entry| sum.wrapping_add(stable_hash(&entry)));
        state.write_usize(self.len);
        state.write_u64(sum);
    }
}

impl<K, V, P, S, Q> Index<&Q> for HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Borrow<Q>,
    Q: Hash + Eq + ?Sized,
    S: BuildHasher,
{
    type Output = V;

    /// The value for `key`.
    ///
    /// # Panics
    /// If the key is absent.
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("key not found in HamtMap")
    }
}

impl<K, V, P, S> FromIterator<(K, V)> for HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq,
    S: BuildHasher + Default,
{
    /// Builds the trie top-down by partitioning the entries on their hash digits: every node is allocated once at
    /// its exact size, in depth-first order, with no path copies. Later entries win over earlier ones with an equal
    /// key.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        let mut map = Self::with_hasher(S::default());
        let (root, len) = build(entries, &map.hasher);
        map.root = root;
        map.len = len;
        map
    }
}

impl<K, V, P, S> Extend<(K, V)> for HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher + Clone,
{
    /// Inserts every entry, later ones winning. A batch at least as large as a quarter of the map is built
    /// as by `FromIterator` and merged in with a union that reuses whole subtrees; a smaller one is
    /// inserted entry by entry.
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, entries: I) {
        let entries = entries.into_iter();
        let (lower, _) = entries.size_hint();
        if self.is_empty() || lower >= (self.len / 4).max(64) {
            let (root, len) = build(entries, &self.hasher);
            let batch = self.derived(root, len);
            *self = if self.is_empty() { batch } else { self.merged(&batch, KeepRight) };
        } else {
            for (key, value) in entries {
                self.insert_mut(key, value);
            }
        }
    }
}

impl<'a, K, V, P, S> Extend<(&'a K, &'a V)> for HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher + Clone,
{
    /// Inserts clones of every entry.
    fn extend<I: IntoIterator<Item = (&'a K, &'a V)>>(&mut self, entries: I) {
        self.extend(entries.into_iter().map(|(key, value)| (key.clone(), value.clone())));
    }
}

impl<K, V, P, const N: usize> From<[(K, V); N]> for HamtMap<K, V, P>
where
    P: PointerKind,
    K: Hash + Eq,
{
    /// # Examples
    ///
    /// ```
    /// let map = hamt_core::HamtMap::from([(1, 2), (3, 4)]);
    /// assert_eq!(map.len(), 2);
    /// ```
    fn from(entries: [(K, V); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl<K, V, P> From<alloc::vec::Vec<(K, V)>> for HamtMap<K, V, P>
where
    P: PointerKind,
    K: Hash + Eq,
{
    /// Builds the map in bulk from a vector of entries; later entries win over earlier ones with an equal key.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = hamt_core::HamtMap::from(vec![("a", 1), ("b", 2), ("a", 3)]);
    /// assert_eq!((map.len(), map["a"]), (2, 3));
    /// ```
    fn from(entries: alloc::vec::Vec<(K, V)>) -> Self {
        entries.into_iter().collect()
    }
}

#[cfg(feature = "std")]
impl<K, V, P, H> From<std::collections::HashMap<K, V, H>> for HamtMap<K, V, P>
where
    P: PointerKind,
    K: Hash + Eq,
{
    /// Builds the map in bulk from a std `HashMap`'s entries.
    ///
    /// # Examples
    ///
    /// ```
    /// let std_map = std::collections::HashMap::from([("a", 1)]);
    /// let map: hamt_core::HamtMap<_, _> = std_map.into();
    /// assert_eq!(map["a"], 1);
    /// ```
    fn from(map: std::collections::HashMap<K, V, H>) -> Self {
        map.into_iter().collect()
    }
}

impl<'a, K, V, P: PointerKind, S> IntoIterator for &'a HamtMap<K, V, P, S> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V, P>;

    fn into_iter(self) -> Iter<'a, K, V, P> {
        self.iter()
    }
}

impl<'a, K, V, P, S> IntoIterator for &'a mut HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher,
{
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V, P>;

    fn into_iter(self) -> IterMut<'a, K, V, P> {
        self.iter_mut()
    }
}

impl<K: Clone, V: Clone, P: PointerKind, S> IntoIterator for HamtMap<K, V, P, S> {
    type Item = (K, V);
    type IntoIter = IntoIter<K, V, P>;

    /// Moves the entries out of the nodes this map alone holds, and clones those of nodes shared with other
    /// versions.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<_, _> = [(1, "one".to_string())].into();
    /// let entries: Vec<(i32, String)> = map.into_iter().collect();
    /// assert_eq!(entries, [(1, "one".to_string())]);
    /// ```
    fn into_iter(self) -> IntoIter<K, V, P> {
        IntoIter::new(self.root, self.len)
    }
}

impl<K: Clone, V: Clone, P: PointerKind, S> HamtMap<K, V, P, S> {
    /// An owning iterator over the keys, in trie order. Keys are moved out of the nodes this map alone holds and
    /// cloned from those it shares with other versions (as by [`into_iter`](IntoIterator::into_iter)).
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<_, _> = [("a".to_string(), 1), ("b".to_string(), 2)].into();
    /// let mut keys: Vec<String> = map.into_keys().collect();
    /// keys.sort();
    /// assert_eq!(keys, ["a", "b"]);
    /// ```
    pub fn into_keys(self) -> IntoKeys<K, V, P> {
        IntoKeys { inner: self.into_iter() }
    }

    /// An owning iterator over the values, in trie order; moved or cloned as by [`into_keys`](Self::into_keys).
    ///
    /// # Examples
    ///
    /// ```
    /// let map: hamt_core::HamtMap<_, _> = [(1, vec![1]), (2, vec![2, 2])].into();
    /// let total: usize = map.into_values().map(|list| list.len()).sum();
    /// assert_eq!(total, 3);
    /// ```
    pub fn into_values(self) -> IntoValues<K, V, P> {
        IntoValues { inner: self.into_iter() }
    }
}

impl<K, V, P, S> BitOr for &HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher + Clone,
{
    type Output = HamtMap<K, V, P, S>;

    /// The [`union`](HamtMap::union) of the two maps (the left map's values win).
    ///
    /// # Examples
    ///
    /// ```
    /// let a: hamt_core::HamtMap<_, _> = [(1, 'a')].into();
    /// let b: hamt_core::HamtMap<_, _> = [(2, 'b')].into();
    /// assert_eq!((&a | &b).len(), 2);
    /// ```
    fn bitor(self, other: &HamtMap<K, V, P, S>) -> HamtMap<K, V, P, S> {
        self.union(other)
    }
}

#[cfg(any(test, feature = "invariants"))]
impl<K, V, P, S> HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq,
    S: BuildHasher,
{
    /// Checks the trie's invariants (bitmaps match arrays, canonical form, every key where its hash says, no
    /// empty interior node, `len` right), panicking with a description of the first one broken.
    ///
    /// Only compiled for tests and with the `invariants` feature.
    #[doc(hidden)]
    pub fn check_invariants(&self) {
        crate::check::check_map(self.root.as_ref(), self.len, &self.hasher, crate::check::Keys::Distinct);
    }

    /// [`check_invariants`](Self::check_invariants) without the check that a collision node's keys are distinct:
    /// for keys whose `Eq` answers inconsistently, which may leave two equal keys in the map (as std's `HashMap`
    /// may) but must leave its shape intact.
    #[doc(hidden)]
    pub fn check_shape(&self) {
        crate::check::check_map(self.root.as_ref(), self.len, &self.hasher, crate::check::Keys::MayRepeat);
    }
}
