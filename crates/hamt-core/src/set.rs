//! The persistent hash set: a [`HamtMap`] with unit values.

use core::borrow::Borrow;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::iter::FusedIterator;
use core::ops::{BitAnd, BitOr, BitXor, Sub};

use archery::RcK;

use crate::diff::{Diff, DiffItem as MapDiffItem};
use crate::hasher::DefaultHashBuilder;
use crate::iter::{IntoIter as MapIntoIter, Keys};
use crate::kind::PointerKind;
use crate::map::HamtMap;

/// A persistent hash set, with the structure sharing, O(1) clone and sharing-aware comparisons of [`HamtMap`].
///
/// # Examples
///
/// ```
/// use hamt_core::HamtSet;
///
/// let a: HamtSet<u32> = [1, 2, 3].into();
/// let b = a.insert(4).remove(&1);
/// assert!(a.contains(&1) && !b.contains(&1));
/// assert_eq!(a.intersection(&b), [2, 3].into());
/// ```
pub struct HamtSet<T, P: PointerKind = RcK, S = DefaultHashBuilder> {
    pub(crate) map: HamtMap<T, (), P, S>,
}

/// One difference between two sets, as yielded by [`HamtSet::diff`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DiffItem<'a, T> {
    /// The element is only in the second set.
    Added(&'a T),
    /// The element is only in the first set.
    Removed(&'a T),
}

impl<T> HamtSet<T> {
    /// An empty set with the default pointer kind and hasher.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(hamt_core::HamtSet::<u8>::new().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        HamtSet { map: HamtMap::new() }
    }

    /// Converts `value` into a set by its [`From`] implementation, with the default pointer kind and hasher, so
    /// that `HamtSet::from([...])` needs no type annotation (see [`HamtMap::from`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::HamtSet;
    ///
    /// let set = HamtSet::from([1, 2, 3]);
    /// assert!(set.contains(&2));
    /// assert_eq!(HamtSet::from(vec![3, 2, 1, 1]), set);
    /// ```
    pub fn from<V>(value: V) -> Self
    where
        Self: From<V>,
    {
        <Self as From<V>>::from(value)
    }
}

impl<T, P: PointerKind, S> HamtSet<T, P, S> {
    /// An empty set that hashes with `hasher` (see [`HamtMap::with_hasher`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let set: hamt_core::HamtSet<u8, archery::RcK, _> = hamt_core::HamtSet::with_hasher(hamt_core::DefaultHashBuilder);
    /// assert!(set.is_empty());
    /// ```
    #[must_use]
    pub fn with_hasher(hasher: S) -> Self {
        HamtSet { map: HamtMap::with_hasher(hasher) }
    }

    /// The set's hasher.
    ///
    /// # Examples
    ///
    /// ```
    /// let _ = hamt_core::HamtSet::<u8>::new().hasher();
    /// ```
    pub fn hasher(&self) -> &S {
        self.map.hasher()
    }

    /// The number of elements. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(hamt_core::HamtSet::<_>::from([1, 2]).len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the set is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(hamt_core::HamtSet::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Whether the two sets are the same version (share their root). O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// let set: hamt_core::HamtSet<_> = [1].into();
    /// assert!(set.ptr_eq(&set.clone()));
    /// ```
    pub fn ptr_eq(&self, other: &Self) -> bool {
        self.map.ptr_eq(&other.map)
    }

    /// An iterator over the elements, in trie order.
    ///
    /// # Examples
    ///
    /// ```
    /// let set: hamt_core::HamtSet<_> = [1, 2].into();
    /// assert_eq!(set.iter().sum::<i32>(), 3);
    /// ```
    pub fn iter(&self) -> Iter<'_, T, P> {
        Iter { inner: self.map.keys() }
    }

    /// Removes every element.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut set: hamt_core::HamtSet<_> = [1].into();
    /// set.clear();
    /// assert!(set.is_empty());
    /// ```
    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// The map underneath: the set's elements as keys with unit values, sharing every node with the set. O(1).
    ///
    /// Code written for maps (an encoder, a diff over entries) works on sets through this view.
    ///
    /// # Examples
    ///
    /// ```
    /// let set: hamt_core::HamtSet<_> = [1, 2].into();
    /// let map = set.as_map();
    /// assert_eq!(map.len(), 2);
    /// assert_eq!(map.get(&1), Some(&()));
    /// ```
    pub fn as_map(&self) -> &HamtMap<T, (), P, S> {
        &self.map
    }

    /// Turns the set into the map underneath (elements as keys, unit values), keeping its nodes and hasher. O(1).
    ///
    /// The inverse is `HamtSet::from(map)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{HamtMap, HamtSet};
    ///
    /// let set: HamtSet<_> = [1, 2].into();
    /// let map: HamtMap<_, ()> = set.clone().into_map();
    /// assert!(map.contains_key(&2));
    /// assert_eq!(HamtSet::from(map), set);
    /// ```
    #[must_use]
    pub fn into_map(self) -> HamtMap<T, (), P, S> {
        self.map
    }
}

impl<T, P, S> HamtSet<T, P, S>
where
    P: PointerKind,
    T: Hash + Eq,
    S: BuildHasher,
{
    /// Whether `value` is in the set.
    ///
    /// # Examples
    ///
    /// ```
    /// let set: hamt_core::HamtSet<String> = ["a".to_string()].into();
    /// assert!(set.contains("a"));
    /// ```
    pub fn contains<Q>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.contains_key(value)
    }

    /// The stored element equal to `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let set: hamt_core::HamtSet<_> = [1].into();
    /// assert_eq!(set.get(&1), Some(&1));
    /// ```
    pub fn get<Q>(&self, value: &Q) -> Option<&T>
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get_key_value(value).map(|(key, _)| key)
    }

    /// Whether every element of this set is in `other` (skipping shared subtrees, as [`HamtMap::is_submap`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let small: hamt_core::HamtSet<_> = [1].into();
    /// assert!(small.is_subset(&small.insert(2)));
    /// ```
    pub fn is_subset(&self, other: &Self) -> bool {
        self.map.is_submap(&other.map)
    }

    /// Whether every element of `other` is in this set.
    ///
    /// # Examples
    ///
    /// ```
    /// let small: hamt_core::HamtSet<_> = [1].into();
    /// assert!(small.insert(2).is_superset(&small));
    /// ```
    pub fn is_superset(&self, other: &Self) -> bool {
        other.is_subset(self)
    }

    /// Whether this set is a subset of `other` and `other` has more elements.
    ///
    /// # Examples
    ///
    /// ```
    /// let small: hamt_core::HamtSet<_> = [1].into();
    /// assert!(small.is_proper_subset(&small.insert(2)));
    /// assert!(!small.is_proper_subset(&small));
    /// ```
    pub fn is_proper_subset(&self, other: &Self) -> bool {
        self.map.is_proper_submap(&other.map)
    }

    /// Whether the two sets have no element in common.
    ///
    /// # Complexity
    /// O(m log₃₂ n): every element of the smaller set (m elements) is looked up in the larger one.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: hamt_core::HamtSet<_> = [1, 2].into();
    /// assert!(a.is_disjoint(&[3, 4].into()));
    /// assert!(!a.is_disjoint(&[2, 3].into()));
    /// ```
    pub fn is_disjoint(&self, other: &Self) -> bool {
        let (small, large) = if self.len() <= other.len() { (self, other) } else { (other, self) };
        small.iter().all(|value| !large.contains(value))
    }

    /// An iterator over the elements added and removed between this set and `other`; shared subtrees are skipped
    /// (see [`HamtMap::diff`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{HamtSet, SetDiffItem};
    ///
    /// let old: HamtSet<_> = [1, 2].into();
    /// let new = old.insert(3).remove(&1);
    /// let mut changes: Vec<_> = old.diff(&new).collect();
    /// changes.sort_by_key(|item| match item { SetDiffItem::Added(x) | SetDiffItem::Removed(x) => **x });
    /// assert_eq!(changes, [SetDiffItem::Removed(&1), SetDiffItem::Added(&3)]);
    /// ```
    pub fn diff<'a>(&'a self, other: &'a Self) -> SetDiff<'a, T, P, S> {
        SetDiff { inner: self.map.diff(&other.map) }
    }
}

impl<T, P, S> HamtSet<T, P, S>
where
    P: PointerKind,
    T: Hash + Eq + Clone,
    S: BuildHasher + Clone,
{
    /// A new set with `value` added; this set is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = hamt_core::HamtSet::new();
    /// let b = a.insert("x");
    /// assert!(a.is_empty() && b.contains("x"));
    /// ```
    #[must_use = "`insert` returns a new set and leaves this one unchanged; to change the set in place, use `insert_mut`"]
    pub fn insert(&self, value: T) -> Self {
        HamtSet { map: self.map.insert(value, ()) }
    }

    /// A new set without `value`; this set is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: hamt_core::HamtSet<_> = [1, 2].into();
    /// assert_eq!(a.remove(&1).len(), 1);
    /// ```
    #[must_use = "`remove` returns a new set and leaves this one unchanged; to change the set in place, use `remove_mut`"]
    pub fn remove<Q>(&self, value: &Q) -> Self
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        HamtSet { map: self.map.remove(value) }
    }

    /// This set with `value` added, in place where unshared (the by-value twin of [`insert`](Self::insert)).
    ///
    /// # Examples
    ///
    /// ```
    /// let set = hamt_core::HamtSet::new().with(1).with(2);
    /// assert_eq!(set.len(), 2);
    /// ```
    #[must_use = "`with` takes the set by value and returns the updated set, dropped here; to change the set in place, use `insert_mut`"]
    pub fn with(self, value: T) -> Self {
        HamtSet { map: self.map.with(value, ()) }
    }

    /// This set without `value`, in place where unshared.
    ///
    /// # Examples
    ///
    /// ```
    /// let set: hamt_core::HamtSet<_> = [1, 2].into();
    /// assert_eq!(set.without(&1).len(), 1);
    /// ```
    #[must_use = "`without` takes the set by value and returns the updated set, dropped here; to change the set in place, use `remove_mut`"]
    pub fn without<Q>(self, value: &Q) -> Self
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        HamtSet { map: self.map.without(value) }
    }

    /// Adds `value` to this set; returns whether it was new.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut set = hamt_core::HamtSet::new();
    /// assert!(set.insert_mut(1));
    /// assert!(!set.insert_mut(1));
    /// ```
    pub fn insert_mut(&mut self, value: T) -> bool {
        if self.map.contains_key(&value) {
            return false;
        }
        self.map.insert_mut(value, ());
        true
    }

    /// Removes `value` from this set; returns whether it was there.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut set: hamt_core::HamtSet<_> = [1].into();
    /// assert!(set.remove_mut(&1));
    /// assert!(!set.remove_mut(&1));
    /// ```
    pub fn remove_mut<Q>(&mut self, value: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.remove_mut(value).is_some()
    }

    /// Removes the element equal to `value` from this set and returns it: std's `HashSet::take`, in place.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut set: hamt_core::HamtSet<String> = ["a".to_string()].into();
    /// assert_eq!(set.take("a"), Some("a".to_string()));
    /// assert_eq!(set.take("a"), None);
    /// ```
    pub fn take<Q>(&mut self, value: &Q) -> Option<T>
    where
        T: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.remove_entry(value).map(|(stored, ())| stored)
    }

    /// Adds `value` to this set, replacing the stored element equal to it, and returns the replaced element:
    /// std's `HashSet::replace`, in place. ([`insert_mut`](Self::insert_mut) keeps the stored element.)
    ///
    /// # Examples
    ///
    /// ```
    /// let mut set = hamt_core::HamtSet::new();
    /// assert_eq!(set.replace(vec![1]), None);
    /// assert_eq!(set.replace(vec![1]), Some(vec![1]));
    /// assert_eq!(set.len(), 1);
    /// ```
    pub fn replace(&mut self, value: T) -> Option<T> {
        let replaced = self.take(&value);
        self.map.insert_mut(value, ());
        replaced
    }

    /// Keeps only the elements for which `keep` returns `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut set: hamt_core::HamtSet<_> = (0..10).collect();
    /// set.retain(|x| x % 2 == 0);
    /// assert_eq!(set.len(), 5);
    /// ```
    pub fn retain<F: FnMut(&T) -> bool>(&mut self, mut keep: F) {
        self.map.retain(|value, ()| keep(value));
    }

    /// The elements of either set (shared subtrees reused whole).
    ///
    /// # Examples
    ///
    /// ```
    /// let a: hamt_core::HamtSet<_> = [1, 2].into();
    /// let b: hamt_core::HamtSet<_> = [2, 3].into();
    /// assert_eq!(a.union(&b), [1, 2, 3].into());
    /// ```
    #[must_use = "`union` returns a new set and leaves both unchanged; to add elements in place, use `extend` (or assign: `set = set.union(&other)`)"]
    pub fn union(&self, other: &Self) -> Self {
        HamtSet { map: self.map.union(&other.map) }
    }

    /// The elements of both sets.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: hamt_core::HamtSet<_> = [1, 2].into();
    /// let b: hamt_core::HamtSet<_> = [2, 3].into();
    /// assert_eq!(a.intersection(&b), [2].into());
    /// ```
    #[must_use = "`intersection` returns a new set and leaves both unchanged; to drop elements in place, use `retain` (or assign: `set = set.intersection(&other)`)"]
    pub fn intersection(&self, other: &Self) -> Self {
        HamtSet { map: self.map.intersection(&other.map) }
    }

    /// The elements of this set that are not in `other`.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: hamt_core::HamtSet<_> = [1, 2].into();
    /// let b: hamt_core::HamtSet<_> = [2, 3].into();
    /// assert_eq!(a.difference(&b), [1].into());
    /// ```
    #[must_use = "`difference` returns a new set and leaves both unchanged; to drop elements in place, use `retain` (or assign: `set = set.difference(&other)`)"]
    pub fn difference(&self, other: &Self) -> Self {
        HamtSet { map: self.map.difference(&other.map) }
    }

    /// The elements in exactly one of the two sets.
    ///
    /// # Examples
    ///
    /// ```
    /// let a: hamt_core::HamtSet<_> = [1, 2].into();
    /// let b: hamt_core::HamtSet<_> = [2, 3].into();
    /// assert_eq!(a.symmetric_difference(&b), [1, 3].into());
    /// ```
    #[must_use = "`symmetric_difference` returns a new set and leaves both unchanged; assign it (`set = set.symmetric_difference(&other)`) to keep it"]
    pub fn symmetric_difference(&self, other: &Self) -> Self {
        HamtSet { map: self.map.symmetric_difference(&other.map) }
    }
}

/// An iterator over the elements of a set. Created by [`HamtSet::iter`].
pub struct Iter<'a, T, P: PointerKind = RcK> {
    inner: Keys<'a, T, (), P>,
}

impl<'a, T, P: PointerKind> Iterator for Iter<'a, T, P> {
    type Item = &'a T;

    #[inline]
    fn next(&mut self) -> Option<&'a T> {
        self.inner.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T, P: PointerKind> ExactSizeIterator for Iter<'_, T, P> {}
impl<T, P: PointerKind> FusedIterator for Iter<'_, T, P> {}

impl<T, P: PointerKind> Clone for Iter<'_, T, P> {
    fn clone(&self) -> Self {
        Iter { inner: self.inner.clone() }
    }
}

impl<T: fmt::Debug, P: PointerKind> fmt::Debug for Iter<'_, T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// An owning iterator over the elements of a set.
pub struct IntoIter<T, P: PointerKind = RcK> {
    inner: MapIntoIter<T, (), P>,
}

impl<T: Clone, P: PointerKind> Iterator for IntoIter<T, P> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.inner.next().map(|(value, ())| value)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T: Clone, P: PointerKind> ExactSizeIterator for IntoIter<T, P> {}
impl<T: Clone, P: PointerKind> FusedIterator for IntoIter<T, P> {}

impl<T, P: PointerKind> fmt::Debug for IntoIter<T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// The iterator returned by [`HamtSet::diff`].
pub struct SetDiff<'a, T, P: PointerKind = RcK, S = DefaultHashBuilder> {
    inner: Diff<'a, T, (), P, S>,
}

impl<'a, T, P, S> Iterator for SetDiff<'a, T, P, S>
where
    P: PointerKind,
    T: Hash + Eq,
    S: BuildHasher,
{
    type Item = DiffItem<'a, T>;

    fn next(&mut self) -> Option<DiffItem<'a, T>> {
        // Unit values never differ, so a set difference is never `Changed`.
        self.inner.find_map(|item| match item {
            MapDiffItem::Added(value, ()) => Some(DiffItem::Added(value)),
            MapDiffItem::Removed(value, ()) => Some(DiffItem::Removed(value)),
            MapDiffItem::Changed { .. } => None,
        })
    }
}

impl<T: Hash + Eq, P: PointerKind, S: BuildHasher> FusedIterator for SetDiff<'_, T, P, S> {}

impl<T, P: PointerKind, S> fmt::Debug for SetDiff<'_, T, P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetDiff").finish_non_exhaustive()
    }
}

impl<T, P: PointerKind, S: Clone> Clone for HamtSet<T, P, S> {
    /// O(1): the copy shares every node.
    fn clone(&self) -> Self {
        HamtSet { map: self.map.clone() }
    }
}

impl<T, P: PointerKind, S: Default> Default for HamtSet<T, P, S> {
    fn default() -> Self {
        HamtSet { map: HamtMap::default() }
    }
}

impl<T: fmt::Debug, P: PointerKind, S> fmt::Debug for HamtSet<T, P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<T: Hash + Eq, P: PointerKind, S: BuildHasher> PartialEq for HamtSet<T, P, S> {
    /// Equal when both hold the same elements; shared subtrees are skipped (see [`HamtMap`]'s `PartialEq`).
    fn eq(&self, other: &Self) -> bool {
        self.map == other.map
    }
}

impl<T: Hash + Eq, P: PointerKind, S: BuildHasher> Eq for HamtSet<T, P, S> {}

impl<T: Hash, P: PointerKind, S> Hash for HamtSet<T, P, S> {
    /// Independent of insertion order and of the hasher's seed, consistent with `Eq`.
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.map.hash(state);
    }
}

impl<T: Hash + Eq, P: PointerKind, S: BuildHasher + Default> FromIterator<T> for HamtSet<T, P, S> {
    /// Builds the set in bulk (see [`HamtMap`]'s `FromIterator`).
    fn from_iter<I: IntoIterator<Item = T>>(values: I) -> Self {
        HamtSet { map: values.into_iter().map(|value| (value, ())).collect() }
    }
}

impl<T: Hash + Eq + Clone, P: PointerKind, S: BuildHasher + Clone> Extend<T> for HamtSet<T, P, S> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, values: I) {
        self.map.extend(values.into_iter().map(|value| (value, ())));
    }
}

impl<'a, T: Hash + Eq + Clone + 'a, P: PointerKind, S: BuildHasher + Clone> Extend<&'a T> for HamtSet<T, P, S> {
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, values: I) {
        self.extend(values.into_iter().cloned());
    }
}

impl<T: Hash + Eq, P: PointerKind, const N: usize> From<[T; N]> for HamtSet<T, P> {
    fn from(values: [T; N]) -> Self {
        values.into_iter().collect()
    }
}

impl<T: Hash + Eq, P: PointerKind> From<alloc::vec::Vec<T>> for HamtSet<T, P> {
    /// Builds the set in bulk from a vector's elements.
    ///
    /// # Examples
    ///
    /// ```
    /// let set = hamt_core::HamtSet::from(vec!["a", "b", "a"]);
    /// assert_eq!(set.len(), 2);
    /// ```
    fn from(values: alloc::vec::Vec<T>) -> Self {
        values.into_iter().collect()
    }
}

impl<T, P: PointerKind, S> From<HamtMap<T, (), P, S>> for HamtSet<T, P, S> {
    /// The set of the map's keys, keeping its nodes and hasher (the inverse of [`HamtSet::into_map`]). O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{HamtMap, HamtSet};
    ///
    /// let map: HamtMap<_, ()> = [("a", ()), ("b", ())].into();
    /// let set = HamtSet::from(map);
    /// assert!(set.contains("a") && set.contains("b"));
    /// ```
    fn from(map: HamtMap<T, (), P, S>) -> Self {
        HamtSet { map }
    }
}

#[cfg(feature = "std")]
impl<T: Hash + Eq, P: PointerKind, H> From<std::collections::HashSet<T, H>> for HamtSet<T, P> {
    fn from(values: std::collections::HashSet<T, H>) -> Self {
        values.into_iter().collect()
    }
}

impl<'a, T, P: PointerKind, S> IntoIterator for &'a HamtSet<T, P, S> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T, P>;

    fn into_iter(self) -> Iter<'a, T, P> {
        self.iter()
    }
}

impl<T: Clone, P: PointerKind, S> IntoIterator for HamtSet<T, P, S> {
    type Item = T;
    type IntoIter = IntoIter<T, P>;

    fn into_iter(self) -> IntoIter<T, P> {
        IntoIter { inner: self.map.into_iter() }
    }
}

/// Implements a std-style set operator on references as the named method.
macro_rules! set_operator {
    ($trait:ident, $method:ident, $operation:ident, $doc:literal) => {
        impl<T, P, S> $trait for &HamtSet<T, P, S>
        where
            P: PointerKind,
            T: Hash + Eq + Clone,
            S: BuildHasher + Clone,
        {
            type Output = HamtSet<T, P, S>;

            #[doc = $doc]
            fn $method(self, other: &HamtSet<T, P, S>) -> HamtSet<T, P, S> {
                self.$operation(other)
            }
        }
    };
}

set_operator!(BitOr, bitor, union, "The [`union`](HamtSet::union) of the two sets.");
set_operator!(BitAnd, bitand, intersection, "The [`intersection`](HamtSet::intersection) of the two sets.");
set_operator!(Sub, sub, difference, "The [`difference`](HamtSet::difference) of the two sets.");
set_operator!(
    BitXor,
    bitxor,
    symmetric_difference,
    "The [`symmetric_difference`](HamtSet::symmetric_difference) of the two sets."
);

#[cfg(any(test, feature = "invariants"))]
impl<T: Hash + Eq, P: PointerKind, S: BuildHasher> HamtSet<T, P, S> {
    /// Checks the trie's invariants (see [`HamtMap::check_invariants`]).
    #[doc(hidden)]
    pub fn check_invariants(&self) {
        self.map.check_invariants();
    }
}
