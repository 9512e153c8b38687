//! The difference between two maps, as a lazy iterator that skips the subtrees both maps share.

use alloc::vec::Vec;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::iter::FusedIterator;
use core::ptr;

use crate::hasher::hash_of;
use crate::iter::Iter;
use crate::kind::PointerKind;
use crate::map::HamtMap;
use crate::raw::{Bits, Node, Slot};
use crate::trie::{BITS, COLLISION_SHIFT, MAX_DEPTH, get_at};

/// One difference between two maps, as yielded by [`HamtMap::diff`]: what it takes to turn the first map (`self`)
/// into the second (`other`).
///
/// # Examples
///
/// ```
/// use hamt_core::{DiffItem, HamtMap};
///
/// let old: HamtMap<&str, i32> = [("a", 1), ("b", 2)].into();
/// let new = old.insert("b", 20).insert("c", 3).remove("a");
/// let mut changes: Vec<_> = old.diff(&new).collect();
/// changes.sort_by_key(|item| *item.key());
/// assert_eq!(
///     changes,
///     [DiffItem::Removed(&"a", &1), DiffItem::Changed { key: &"b", old: &2, new: &20 }, DiffItem::Added(&"c", &3)]
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DiffItem<'a, K, V> {
    /// The key is only in the second map.
    Added(&'a K, &'a V),
    /// The key is only in the first map.
    Removed(&'a K, &'a V),
    /// The key is in both maps, with different values.
    Changed {
        /// The key.
        key: &'a K,
        /// Its value in the first map.
        old: &'a V,
        /// Its value in the second map.
        new: &'a V,
    },
}

impl<'a, K, V> DiffItem<'a, K, V> {
    /// The key this difference is about.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::DiffItem;
    ///
    /// assert_eq!(DiffItem::Added(&"k", &1).key(), &"k");
    /// ```
    pub fn key(&self) -> &'a K {
        match *self {
            DiffItem::Added(key, _) | DiffItem::Removed(key, _) | DiffItem::Changed { key, .. } => key,
        }
    }
}

/// Which map a one-sided subtree belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Only in the first map: its entries are `Removed`.
    First,
    /// Only in the second map: its entries are `Added`.
    Second,
}

/// One level of the side-by-side walk.
enum Frame<'a, K, V, P: PointerKind> {
    /// Two nodes at the same position; `bits` are the positions not yet compared.
    Both { first: &'a Node<K, V, P>, second: &'a Node<K, V, P>, shift: u32, bits: Bits },
    /// Two collision nodes; `index` walks the first's entries, then the second's.
    Collision { first: &'a [(K, V)], second: &'a [(K, V)], index: usize },
    /// A subtree only one map has (except `skip`, an entry already accounted for).
    One { node: &'a Node<K, V, P>, side: Side, skip: Option<&'a (K, V)>, entry: usize, child: usize },
}

/// The iterator returned by [`HamtMap::diff`].
///
/// When both maps hash alike it walks the two tries together and never enters a subtree they share, so it costs
/// what differs; otherwise it looks every key up in the other map.
pub struct Diff<'a, K, V, P: PointerKind = archery::RcK, S = crate::DefaultHashBuilder> {
    inner: DiffInner<'a, K, V, P, S>,
}

#[expect(clippy::large_enum_variant, reason = "one per diff call, never stored in bulk")]
enum DiffInner<'a, K, V, P: PointerKind, S> {
    Structural {
        stack: Vec<Frame<'a, K, V, P>>,
        pending: Option<DiffItem<'a, K, V>>,
        hasher: &'a S,
    },
    Lookup {
        first: &'a HamtMap<K, V, P, S>,
        second: &'a HamtMap<K, V, P, S>,
        first_iter: Iter<'a, K, V, P>,
        second_iter: Iter<'a, K, V, P>,
    },
}

impl<'a, K, V, P, S> Diff<'a, K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq,
    V: PartialEq,
    S: BuildHasher,
{
    pub(crate) fn new(first: &'a HamtMap<K, V, P, S>, second: &'a HamtMap<K, V, P, S>) -> Self {
        if !first.hashes_like(second) {
            return Diff {
                inner: DiffInner::Lookup { first, second, first_iter: first.iter(), second_iter: second.iter() },
            };
        }
        let root_frame = match (first.root(), second.root()) {
            (Some(a), Some(b)) if !a.ptr_eq(b) => {
                Some(Frame::Both { first: a, second: b, shift: 0, bits: Bits(all_bits(a) | all_bits(b)) })
            }
            (Some(a), None) => Some(one(a, Side::First, None)),
            (None, Some(b)) => Some(one(b, Side::Second, None)),
            _ => None,
        };
        // One frame per level at most: the walk never allocates after this.
        let mut stack = Vec::new();
        if let Some(frame) = root_frame {
            stack.reserve_exact(MAX_DEPTH + 1);
            stack.push(frame);
        }
        Diff { inner: DiffInner::Structural { stack, pending: None, hasher: first.hasher() } }
    }
}

impl<'a, K, V, P: PointerKind, S> Diff<'a, K, V, P, S> {
    /// The differences under the root slots in `bits` only, for two distinct roots of maps that hash alike: the
    /// part of a diff that the parallel diff gives one of its tasks.
    #[cfg(feature = "rayon")]
    pub(crate) fn root_slots(first: &'a Node<K, V, P>, second: &'a Node<K, V, P>, bits: u32, hasher: &'a S) -> Self {
        let mut stack = Vec::with_capacity(MAX_DEPTH + 1);
        stack.push(Frame::Both { first, second, shift: 0, bits: Bits(bits & (all_bits(first) | all_bits(second))) });
        Diff { inner: DiffInner::Structural { stack, pending: None, hasher } }
    }
}

fn all_bits<K, V, P: PointerKind>(node: &Node<K, V, P>) -> u32 {
    node.datamap() | node.nodemap()
}

fn one<'a, K, V, P: PointerKind>(node: &'a Node<K, V, P>, side: Side, skip: Option<&'a (K, V)>) -> Frame<'a, K, V, P> {
    Frame::One { node, side, skip, entry: 0, child: 0 }
}

fn item<'a, K, V>(side: Side, entry: &'a (K, V)) -> DiffItem<'a, K, V> {
    match side {
        Side::First => DiffItem::Removed(&entry.0, &entry.1),
        Side::Second => DiffItem::Added(&entry.0, &entry.1),
    }
}

/// The item for a key found in both maps, if its value changed.
fn changed<'a, K, V: PartialEq>(first: &'a (K, V), second: &'a (K, V)) -> Option<DiffItem<'a, K, V>> {
    (first.1 != second.1).then_some(DiffItem::Changed { key: &first.0, old: &first.1, new: &second.1 })
}

impl<'a, K, V, P, S> Iterator for Diff<'a, K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq,
    V: PartialEq,
    S: BuildHasher,
{
    type Item = DiffItem<'a, K, V>;

    fn next(&mut self) -> Option<DiffItem<'a, K, V>> {
        match &mut self.inner {
            DiffInner::Structural { stack, pending, hasher } => {
                if let Some(item) = pending.take() {
                    return Some(item);
                }
                structural_next(stack, pending, *hasher)
            }
            DiffInner::Lookup { first, second, first_iter, second_iter } => {
                for (key, value) in first_iter.by_ref() {
                    match second.get_key_value(key) {
                        None => return Some(DiffItem::Removed(key, value)),
                        Some((_, new)) if new != value => return Some(DiffItem::Changed { key, old: value, new }),
                        Some(_) => {}
                    }
                }
                second_iter
                    .by_ref()
                    .find(|(key, _)| !first.contains_key(*key))
                    .map(|(key, value)| DiffItem::Added(key, value))
            }
        }
    }
}

/// Advances the side-by-side walk to its next difference.
fn structural_next<'a, K, V, P, S>(
    stack: &mut Vec<Frame<'a, K, V, P>>,
    pending: &mut Option<DiffItem<'a, K, V>>,
    hasher: &S,
) -> Option<DiffItem<'a, K, V>>
where
    P: PointerKind,
    K: Hash + Eq,
    V: PartialEq,
    S: BuildHasher,
{
    loop {
        let frame = stack.last_mut()?;
        match frame {
            Frame::One { node, side, skip, entry, child } => {
                let (node, side, skip) = (*node, *side, *skip);
                if let Some(found) = node.entries().get(*entry) {
                    *entry += 1;
                    if !skip.is_some_and(|skip| ptr::eq(found, skip)) {
                        return Some(item(side, found));
                    }
                } else if let Some(next) = node.children().get(*child) {
                    *child += 1;
                    stack.push(one(next, side, skip));
                } else {
                    stack.pop();
                }
            }
            Frame::Collision { first, second, index } => {
                let (first, second) = (*first, *second);
                let at = *index;
                *index += 1;
                if let Some(entry) = first.get(at) {
                    match second.iter().find(|other| other.0 == entry.0) {
                        None => return Some(DiffItem::Removed(&entry.0, &entry.1)),
                        Some(other) => {
                            if let Some(change) = changed(entry, other) {
                                return Some(change);
                            }
                        }
                    }
                } else if let Some(entry) = second.get(at - first.len()) {
                    if !first.iter().any(|other| other.0 == entry.0) {
                        return Some(DiffItem::Added(&entry.0, &entry.1));
                    }
                } else {
                    stack.pop();
                }
            }
            Frame::Both { first, second, shift, bits } => {
                let Some(bit) = bits.next() else {
                    stack.pop();
                    continue;
                };
                let (first, second, shift) = (*first, *second, *shift);
                let next_shift = shift + BITS;
                let child_frame = |a: &'a Node<K, V, P>, b: &'a Node<K, V, P>| {
                    if next_shift >= COLLISION_SHIFT {
                        Frame::Collision { first: a.entries(), second: b.entries(), index: 0 }
                    } else {
                        Frame::Both { first: a, second: b, shift: next_shift, bits: Bits(all_bits(a) | all_bits(b)) }
                    }
                };
                match (first.slot(bit), second.slot(bit)) {
                    (Slot::Entry(a), Slot::Entry(b)) => {
                        if a.0 == b.0 {
                            if let Some(change) = changed(a, b) {
                                return Some(change);
                            }
                        } else {
                            *pending = Some(DiffItem::Added(&b.0, &b.1));
                            return Some(DiffItem::Removed(&a.0, &a.1));
                        }
                    }
                    (Slot::Child(a), Slot::Child(b)) => {
                        if !a.ptr_eq(b) {
                            stack.push(child_frame(a, b));
                        }
                    }
                    (Slot::Entry(a), Slot::Child(b)) => {
                        // An entry of the first map where the second has a subtree: the entry's key may be in it.
                        match get_at(b, hash_of(hasher, &a.0), next_shift, &a.0) {
                            Some(found) => {
                                stack.push(one(b, Side::Second, Some(found)));
                                if let Some(change) = changed(a, found) {
                                    return Some(change);
                                }
                            }
                            None => {
                                stack.push(one(b, Side::Second, None));
                                return Some(DiffItem::Removed(&a.0, &a.1));
                            }
                        }
                    }
                    (Slot::Child(a), Slot::Entry(b)) => match get_at(a, hash_of(hasher, &b.0), next_shift, &b.0) {
                        Some(found) => {
                            stack.push(one(a, Side::First, Some(found)));
                            if let Some(change) = changed(found, b) {
                                return Some(change);
                            }
                        }
                        None => {
                            stack.push(one(a, Side::First, None));
                            return Some(DiffItem::Added(&b.0, &b.1));
                        }
                    },
                    (Slot::Entry(a), Slot::Empty) => return Some(DiffItem::Removed(&a.0, &a.1)),
                    (Slot::Empty, Slot::Entry(b)) => return Some(DiffItem::Added(&b.0, &b.1)),
                    (Slot::Child(a), Slot::Empty) => stack.push(one(a, Side::First, None)),
                    (Slot::Empty, Slot::Child(b)) => stack.push(one(b, Side::Second, None)),
                    (Slot::Empty, Slot::Empty) => {}
                }
            }
        }
    }
}

impl<K, V, P: PointerKind, S> FusedIterator for Diff<'_, K, V, P, S>
where
    K: Hash + Eq,
    V: PartialEq,
    S: BuildHasher,
{
}

impl<K, V, P: PointerKind, S> fmt::Debug for Diff<'_, K, V, P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Diff").finish_non_exhaustive()
    }
}
