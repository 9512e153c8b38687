//! The entry API: one key's place in a map, to inspect and change in place.

use core::fmt;
use core::hash::{BuildHasher, Hash};

use crate::kind::PointerKind;
use crate::map::HamtMap;
use crate::raw::{Found, NodeInMap};
use crate::trie::{self, Place};

/// A key's place in a map, from [`HamtMap::entry`]: occupied or vacant.
///
/// # Examples
///
/// ```
/// use hamt_core::{Entry, HamtMap};
///
/// let mut map: HamtMap<&str, Vec<u32>> = HamtMap::new();
/// map.entry("a").or_default().push(1);
/// map.entry("a").and_modify(|list| list.push(2)).or_default();
/// assert_eq!(map["a"], [1, 2]);
/// assert!(matches!(map.entry("b"), Entry::Vacant(_)));
/// ```
pub enum Entry<'a, K, V, P: PointerKind = archery::RcK, S = crate::DefaultHashBuilder> {
    /// The key is in the map.
    Occupied(OccupiedEntry<'a, K, V, P, S>),
    /// The key is not in the map.
    Vacant(VacantEntry<'a, K, V, P, S>),
}

/// An occupied [`Entry`].
///
/// It holds the entry it found, so that reading and changing it walk the trie no more, and removing it goes
/// straight to it with no further hashing or key comparisons: what it removes is the entry it points at, even for a
/// key whose `Eq` is inconsistent. (Where the entry lies under a node the map shares with other versions, the first
/// change copies that path, as any change does, and the entry is held from then on.)
pub struct OccupiedEntry<'a, K, V, P: PointerKind = archery::RcK, S = crate::DefaultHashBuilder> {
    /// The map, and the entry itself when its path is the map's alone.
    found: Found<'a, HamtMap<K, V, P, S>, (K, V)>,
    /// The key the entry was asked for (`None` for an entry made by inserting, which moved it into the map).
    key: Option<K>,
    hash: u64,
    place: Place,
}

/// A vacant [`Entry`].
///
/// It holds the node where the key goes when the path to it is the map's alone, so that inserting starts there
/// instead of walking from the root again; otherwise (the map is empty, or shares a node on the way with other
/// versions) inserting copies the path from the root.
pub struct VacantEntry<'a, K, V, P: PointerKind = archery::RcK, S = crate::DefaultHashBuilder> {
    /// The map, and the node where the key goes when its path is the map's alone.
    found: NodeInMap<'a, K, V, P, S>,
    /// The shift of that node.
    shift: u32,
    key: K,
    hash: u64,
}

impl<'a, K, V, P, S> Entry<'a, K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher,
{
    /// The value, inserting `default` first if the key is vacant.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map: hamt_core::HamtMap<&str, i32> = hamt_core::HamtMap::new();
    /// *map.entry("a").or_insert(1) += 1;
    /// assert_eq!(map["a"], 2);
    /// ```
    pub fn or_insert(self, default: V) -> &'a mut V {
        self.or_insert_with(|| default)
    }

    /// The value, inserting `make()` first if the key is vacant.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map: hamt_core::HamtMap<&str, String> = hamt_core::HamtMap::new();
    /// map.entry("a").or_insert_with(|| "x".repeat(3));
    /// assert_eq!(map["a"], "xxx");
    /// ```
    pub fn or_insert_with<F: FnOnce() -> V>(self, make: F) -> &'a mut V {
        match self {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(make()),
        }
    }

    /// The value, inserting `make(&key)` first if the key is vacant.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map: hamt_core::HamtMap<&str, usize> = hamt_core::HamtMap::new();
    /// assert_eq!(*map.entry("four").or_insert_with_key(|key| key.len()), 4);
    /// ```
    pub fn or_insert_with_key<F: FnOnce(&K) -> V>(self, make: F) -> &'a mut V {
        match self {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                let value = make(&entry.key);
                entry.insert(value)
            }
        }
    }

    /// The value, inserting `V::default()` first if the key is vacant.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map: hamt_core::HamtMap<&str, u32> = hamt_core::HamtMap::new();
    /// *map.entry("a").or_default() += 5;
    /// assert_eq!(map["a"], 5);
    /// ```
    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    /// Calls `modify` on the value if the key is occupied; returns the entry for chaining.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map: hamt_core::HamtMap<&str, u32> = [("a", 1)].into();
    /// map.entry("a").and_modify(|v| *v += 1).or_insert(0);
    /// map.entry("b").and_modify(|v| *v += 1).or_insert(0);
    /// assert_eq!((map["a"], map["b"]), (2, 0));
    /// ```
    pub fn and_modify<F: FnOnce(&mut V)>(self, modify: F) -> Self {
        match self {
            Entry::Occupied(mut entry) => {
                modify(entry.get_mut());
                Entry::Occupied(entry)
            }
            vacant @ Entry::Vacant(_) => vacant,
        }
    }

    /// The key this entry is for.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map: hamt_core::HamtMap<&str, u32> = hamt_core::HamtMap::new();
    /// assert_eq!(map.entry("a").key(), &"a");
    /// ```
    pub fn key(&self) -> &K {
        match self {
            Entry::Occupied(entry) => entry.key(),
            Entry::Vacant(entry) => entry.key(),
        }
    }
}

impl<'a, K, V, P, S> OccupiedEntry<'a, K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher,
{
    pub(crate) fn new(found: Found<'a, HamtMap<K, V, P, S>, (K, V)>, key: K, hash: u64, place: Place) -> Self {
        OccupiedEntry { found, key: Some(key), hash, place }
    }

    fn stored(&self) -> &(K, V) {
        if let Some(entry) = self.found.place() {
            return entry;
        }
        let map = self.found.owner().expect("an entry not held leaves the map readable");
        trie::get_at_place(map.root().expect("an occupied entry's map is not empty"), self.hash, self.place)
    }

    /// The entry, mutably: the one held, or else found by its place, copying the shared nodes on its path (and
    /// held from then on).
    fn stored_mut(&mut self) -> &mut (K, V) {
        if !self.found.has_place() {
            let (hash, place) = (self.hash, self.place);
            self.found.refind(|map| {
                let root = map.root_mut().expect("an occupied entry's map is not empty");
                Some(trie::get_mut_at_place(root, hash, 0, place))
            });
        }
        self.found.place_mut().expect("the entry is held")
    }

    /// The key stored in the map.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::Entry;
    ///
    /// let mut map: hamt_core::HamtMap<&str, u32> = [("a", 1)].into();
    /// if let Entry::Occupied(entry) = map.entry("a") {
    ///     assert_eq!(entry.key(), &"a");
    /// }
    /// ```
    pub fn key(&self) -> &K {
        &self.stored().0
    }

    /// The value.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::Entry;
    ///
    /// let mut map: hamt_core::HamtMap<&str, u32> = [("a", 1)].into();
    /// if let Entry::Occupied(entry) = map.entry("a") {
    ///     assert_eq!(entry.get(), &1);
    /// }
    /// ```
    pub fn get(&self) -> &V {
        &self.stored().1
    }

    /// The value, mutably (copying shared nodes on its path).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::Entry;
    ///
    /// let mut map: hamt_core::HamtMap<&str, u32> = [("a", 1)].into();
    /// if let Entry::Occupied(mut entry) = map.entry("a") {
    ///     *entry.get_mut() = 9;
    /// }
    /// assert_eq!(map["a"], 9);
    /// ```
    pub fn get_mut(&mut self) -> &mut V {
        &mut self.stored_mut().1
    }

    /// The value, mutably, for as long as the map was borrowed.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::Entry;
    ///
    /// let mut map: hamt_core::HamtMap<&str, u32> = [("a", 1)].into();
    /// if let Entry::Occupied(entry) = map.entry("a") {
    ///     *entry.into_mut() += 1;
    /// }
    /// assert_eq!(map["a"], 2);
    /// ```
    pub fn into_mut(self) -> &'a mut V {
        let OccupiedEntry { found, key, hash, place } = self;
        // The map keeps its stored key; this one is dropped before the map is touched.
        drop(key);
        match found.into_place() {
            Ok(entry) => &mut entry.1,
            Err(map) => {
                let root = map.root_mut().expect("an occupied entry's map is not empty");
                &mut trie::get_mut_at_place(root, hash, 0, place).1
            }
        }
    }

    /// Replaces the value, returning the old one.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::Entry;
    ///
    /// let mut map: hamt_core::HamtMap<&str, u32> = [("a", 1)].into();
    /// if let Entry::Occupied(mut entry) = map.entry("a") {
    ///     assert_eq!(entry.insert(2), 1);
    /// }
    /// ```
    pub fn insert(&mut self, value: V) -> V {
        core::mem::replace(self.get_mut(), value)
    }

    /// Removes the entry, returning its value.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::Entry;
    ///
    /// let mut map: hamt_core::HamtMap<&str, u32> = [("a", 1)].into();
    /// if let Entry::Occupied(entry) = map.entry("a") {
    ///     assert_eq!(entry.remove(), 1);
    /// }
    /// assert!(map.is_empty());
    /// ```
    pub fn remove(self) -> V {
        let (key, value) = self.remove_entry();
        drop(key);
        value
    }

    /// Removes the entry, returning the stored key and the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::Entry;
    ///
    /// let mut map: hamt_core::HamtMap<&str, u32> = [("a", 1)].into();
    /// if let Entry::Occupied(entry) = map.entry("a") {
    ///     assert_eq!(entry.remove_entry(), ("a", 1));
    /// }
    /// ```
    pub fn remove_entry(self) -> (K, V) {
        let OccupiedEntry { found, key, hash, place } = self;
        // The entry is removed by its place, comparing no keys: the key asked for is not needed.
        drop(key);
        let removed = found
            .into_owner()
            .update_in_place_hashed(hash, trie::Remove { target: trie::AtPlace(place), wants_key: true })
            .into_removed();
        let (stored, value) = removed.expect("hamt: an occupied entry's place leads to its entry");
        (stored.expect("hamt: a removal that asks for the key returns it"), value)
    }
}

impl<'a, K, V, P, S> VacantEntry<'a, K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher,
{
    pub(crate) fn new(found: NodeInMap<'a, K, V, P, S>, key: K, hash: u64, shift: u32) -> Self {
        VacantEntry { found, shift, key, hash }
    }

    /// The key this entry would insert.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::Entry;
    ///
    /// let mut map: hamt_core::HamtMap<&str, u32> = hamt_core::HamtMap::new();
    /// if let Entry::Vacant(entry) = map.entry("a") {
    ///     assert_eq!(entry.key(), &"a");
    /// }
    /// ```
    pub fn key(&self) -> &K {
        &self.key
    }

    /// The key, given back without inserting.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::Entry;
    ///
    /// let mut map: hamt_core::HamtMap<String, u32> = hamt_core::HamtMap::new();
    /// if let Entry::Vacant(entry) = map.entry("a".to_string()) {
    ///     assert_eq!(entry.into_key(), "a");
    /// }
    /// ```
    pub fn into_key(self) -> K {
        self.key
    }

    /// Inserts `value` for the key, returning a mutable reference to it.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::Entry;
    ///
    /// let mut map: hamt_core::HamtMap<&str, u32> = hamt_core::HamtMap::new();
    /// if let Entry::Vacant(entry) = map.entry("a") {
    ///     *entry.insert(1) += 1;
    /// }
    /// assert_eq!(map["a"], 2);
    /// ```
    /// The key is neither cloned nor compared again: the entry goes where the key's hash led when the entry was
    /// made, and the reference comes from that insertion.
    pub fn insert(self, value: V) -> &'a mut V {
        self.insert_entry(value).into_mut()
    }
}

impl<K: fmt::Debug, V: fmt::Debug, P, S> fmt::Debug for Entry<'_, K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Occupied(entry) => f.debug_tuple("Occupied").field(entry).finish(),
            Entry::Vacant(entry) => f.debug_tuple("Vacant").field(entry).finish(),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug, P, S> fmt::Debug for OccupiedEntry<'_, K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OccupiedEntry").field("key", self.key()).field("value", self.get()).finish()
    }
}

impl<K: fmt::Debug, V, P: PointerKind, S> fmt::Debug for VacantEntry<'_, K, V, P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VacantEntry").field(&self.key).finish()
    }
}

/// `insert_entry`, std's (Rust 1.83) insert that keeps the entry.
impl<'a, K, V, P, S> Entry<'a, K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher,
{
    /// Sets the entry's value to `value`, inserting the key if vacant, and returns the occupied entry.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut map: hamt_core::HamtMap<&str, u32> = hamt_core::HamtMap::new();
    /// let entry = map.entry("a").insert_entry(1);
    /// assert_eq!((entry.key(), entry.get()), (&"a", &1));
    /// assert_eq!(map.entry("a").insert_entry(2).remove(), 2);
    /// assert!(map.is_empty());
    /// ```
    pub fn insert_entry(self, value: V) -> OccupiedEntry<'a, K, V, P, S> {
        match self {
            Entry::Occupied(mut entry) => {
                entry.insert(value);
                entry
            }
            Entry::Vacant(entry) => entry.insert_entry(value),
        }
    }
}

impl<'a, K, V, P, S> VacantEntry<'a, K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher,
{
    /// Inserts `value` for the key and returns the now occupied entry.
    ///
    /// As with [`insert`](Self::insert), the key is neither cloned nor compared again, and the entry remembers
    /// where it went. Removing through that entry searches with a clone of the stored key (the key itself moved
    /// into the map).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::Entry;
    ///
    /// let mut map: hamt_core::HamtMap<&str, u32> = hamt_core::HamtMap::new();
    /// if let Entry::Vacant(entry) = map.entry("a") {
    ///     let mut occupied = entry.insert_entry(1);
    ///     *occupied.get_mut() += 1;
    /// }
    /// assert_eq!(map["a"], 2);
    /// ```
    pub fn insert_entry(self, value: V) -> OccupiedEntry<'a, K, V, P, S> {
        let VacantEntry { found, shift, key, hash } = self;
        let (found, place) = if found.has_place() {
            // The node `entry` found: nothing else has reached the map since, so the key still goes below it.
            found.change_node(|node, len, hasher| {
                let inserted = trie::insert_vacant(node, hash, shift, (key, value), hasher);
                *len += 1;
                inserted
            })
        } else {
            let mut place = Place { collision_index: 0 };
            let found = Found::new(found.into_owner(), |map| {
                let (entry, at) = map.insert_vacant(hash, (key, value));
                place = at;
                Some(entry)
            });
            (found, place)
        };
        OccupiedEntry { found, key: None, hash, place }
    }
}
