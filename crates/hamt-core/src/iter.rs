//! Iterators over maps. Each holds one position per trie level (O(depth) state) and allocates nothing per step.

use alloc::vec::Vec;
use core::fmt;
use core::iter::FusedIterator;
use core::slice;

use crate::kind::PointerKind;
use crate::raw::{BitCounter, Drain, Node, Parts};
use crate::trie::MAX_DEPTH;

/// An iterator over the entries of a map, as `(&K, &V)`. Created by [`HamtMap::iter`](crate::HamtMap::iter).
///
/// Entries come in trie order (by hash), which is the same for every map with the same keys and hasher, except
/// among keys whose full 64-bit hashes are equal (those keep their insertion order).
pub struct Iter<'a, K, V, P: PointerKind = archery::RcK> {
    entries: slice::Iter<'a, (K, V)>,
    /// The children still to visit at each level above the current node; `depth` of them are live.
    stack: [slice::Iter<'a, Node<K, V, P>>; MAX_DEPTH],
    depth: usize,
    remaining: usize,
    counter: BitCounter,
}

impl<'a, K, V, P: PointerKind> Iter<'a, K, V, P> {
    pub(crate) fn new(root: Option<&'a Node<K, V, P>>, len: usize) -> Self {
        let counter = BitCounter::new();
        let mut stack: [slice::Iter<'a, Node<K, V, P>>; MAX_DEPTH] = core::array::from_fn(|_| [].iter());
        let (entries, depth) = match root {
            Some(root) => {
                let (entries, children) = root.contents(counter);
                children.iter().for_each(Node::prefetch);
                stack[0] = children.iter();
                (entries.iter(), 1)
            }
            None => ([].iter(), 0),
        };
        Iter { entries, stack, depth, remaining: len, counter }
    }
}

/// Folds the entries of the subtree `node` in the order [`Iter`] yields them: the node's own entries, then each
/// child's subtree in turn. The recursion is as deep as the trie (at most [`MAX_DEPTH`] levels).
fn fold_subtree<'a, K, V, P, B, F>(node: &'a Node<K, V, P>, counter: BitCounter, init: B, f: &mut F) -> B
where
    P: PointerKind,
    F: FnMut(B, (&'a K, &'a V)) -> B,
{
    let (entries, children) = node.contents(counter);
    // The walk will visit every child: start loading them now, so that their cache misses overlap with the work
    // on this node's entries instead of following one another.
    children.iter().for_each(Node::prefetch);
    let accumulator = entries.iter().fold(init, |accumulator, (key, value)| f(accumulator, (key, value)));
    children.iter().fold(accumulator, |accumulator, child| fold_subtree(child, counter, accumulator, f))
}

impl<'a, K, V, P: PointerKind> Iterator for Iter<'a, K, V, P> {
    type Item = (&'a K, &'a V);

    #[inline]
    fn next(&mut self) -> Option<(&'a K, &'a V)> {
        loop {
            if let Some((key, value)) = self.entries.next() {
                self.remaining -= 1;
                return Some((key, value));
            }
            // The current node's entries are done: move to the next node in depth-first order.
            loop {
                let level = self.depth.checked_sub(1)?;
                if let Some(child) = self.stack[level].next() {
                    let (entries, grandchildren) = child.contents(self.counter);
                    self.entries = entries.iter();
                    if self.depth < MAX_DEPTH {
                        // The walk will visit all of them: start loading them now, so that their cache misses
                        // overlap instead of following one another.
                        grandchildren.iter().for_each(Node::prefetch);
                        self.stack[self.depth] = grandchildren.iter();
                        self.depth += 1;
                    }
                    break;
                }
                self.depth = level;
            }
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }

    /// Walks the rest of the trie by recursion rather than by `next`'s explicit stack: a node's entries are folded
    /// as one slice, and the bookkeeping between nodes is a call (`for_each`, `sum`, `count` and the other
    /// consuming adapters use this).
    fn fold<B, F>(self, init: B, mut f: F) -> B
    where
        F: FnMut(B, Self::Item) -> B,
    {
        let Iter { entries, stack, depth, counter, .. } = self;
        // What `next` would yield: the rest of the current node, then the children still to visit, deepest level
        // first (each child's whole subtree before its next sibling).
        let mut accumulator = entries.fold(init, |accumulator, (key, value)| f(accumulator, (key, value)));
        for children in stack.into_iter().take(depth).rev() {
            accumulator =
                children.fold(accumulator, |accumulator, child| fold_subtree(child, counter, accumulator, &mut f));
        }
        accumulator
    }
}

impl<K, V, P: PointerKind> ExactSizeIterator for Iter<'_, K, V, P> {}
impl<K, V, P: PointerKind> FusedIterator for Iter<'_, K, V, P> {}

impl<K, V, P: PointerKind> Clone for Iter<'_, K, V, P> {
    fn clone(&self) -> Self {
        Iter {
            entries: self.entries.clone(),
            stack: self.stack.clone(),
            depth: self.depth,
            remaining: self.remaining,
            counter: self.counter,
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug, P: PointerKind> fmt::Debug for Iter<'_, K, V, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// An iterator over the keys of a map. Created by [`HamtMap::keys`](crate::HamtMap::keys).
pub struct Keys<'a, K, V, P: PointerKind = archery::RcK> {
    pub(crate) inner: Iter<'a, K, V, P>,
}

/// An iterator over the values of a map. Created by [`HamtMap::values`](crate::HamtMap::values).
pub struct Values<'a, K, V, P: PointerKind = archery::RcK> {
    pub(crate) inner: Iter<'a, K, V, P>,
}

impl<'a, K, V, P: PointerKind> Iterator for Keys<'a, K, V, P> {
    type Item = &'a K;

    #[inline]
    fn next(&mut self) -> Option<&'a K> {
        self.inner.next().map(|(key, _)| key)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }

    fn fold<B, F: FnMut(B, &'a K) -> B>(self, init: B, mut f: F) -> B {
        self.inner.fold(init, |accumulator, (key, _)| f(accumulator, key))
    }
}

impl<'a, K, V, P: PointerKind> Iterator for Values<'a, K, V, P> {
    type Item = &'a V;

    #[inline]
    fn next(&mut self) -> Option<&'a V> {
        self.inner.next().map(|(_, value)| value)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }

    fn fold<B, F: FnMut(B, &'a V) -> B>(self, init: B, mut f: F) -> B {
        self.inner.fold(init, |accumulator, (_, value)| f(accumulator, value))
    }
}

impl<K, V, P: PointerKind> ExactSizeIterator for Keys<'_, K, V, P> {}
impl<K, V, P: PointerKind> FusedIterator for Keys<'_, K, V, P> {}
impl<K, V, P: PointerKind> ExactSizeIterator for Values<'_, K, V, P> {}
impl<K, V, P: PointerKind> FusedIterator for Values<'_, K, V, P> {}

impl<K, V, P: PointerKind> Clone for Keys<'_, K, V, P> {
    fn clone(&self) -> Self {
        Keys { inner: self.inner.clone() }
    }
}

impl<K, V, P: PointerKind> Clone for Values<'_, K, V, P> {
    fn clone(&self) -> Self {
        Values { inner: self.inner.clone() }
    }
}

impl<K: fmt::Debug, V, P: PointerKind> fmt::Debug for Keys<'_, K, V, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<K, V: fmt::Debug, P: PointerKind> fmt::Debug for Values<'_, K, V, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// An iterator over the entries of a map, as `(&K, &mut V)`. Created by
/// [`HamtMap::iter_mut`](crate::HamtMap::iter_mut), which first copies whatever nodes the map shares.
pub struct IterMut<'a, K, V, P: PointerKind = archery::RcK> {
    entries: slice::IterMut<'a, (K, V)>,
    stack: Vec<slice::IterMut<'a, Node<K, V, P>>>,
    remaining: usize,
}

impl<'a, K, V, P: PointerKind> IterMut<'a, K, V, P> {
    /// Iterates a trie none of whose nodes is shared.
    pub(crate) fn new(root: Option<&'a mut Node<K, V, P>>, len: usize) -> Self {
        let mut stack = Vec::new();
        let entries = match root {
            Some(root) => {
                stack.reserve_exact(MAX_DEPTH);
                let (entries, children) = unique_parts(root);
                stack.push(children.iter_mut());
                entries.iter_mut()
            }
            None => [].iter_mut(),
        };
        IterMut { entries, stack, remaining: len }
    }
}

fn unique_parts<K, V, P: PointerKind>(node: &mut Node<K, V, P>) -> Parts<'_, K, V, P> {
    node.unique_mut().expect("iter_mut makes every node unique before it starts").into_parts()
}

impl<'a, K, V, P: PointerKind> Iterator for IterMut<'a, K, V, P> {
    type Item = (&'a K, &'a mut V);

    #[inline]
    fn next(&mut self) -> Option<(&'a K, &'a mut V)> {
        loop {
            if let Some((key, value)) = self.entries.next() {
                self.remaining -= 1;
                return Some((&*key, value));
            }
            loop {
                let top = self.stack.last_mut()?;
                if let Some(child) = top.next() {
                    let (entries, children) = unique_parts(child);
                    self.entries = entries.iter_mut();
                    self.stack.push(children.iter_mut());
                    break;
                }
                self.stack.pop();
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }

    /// Walks the rest of the trie by recursion, a node's entries as one slice (see [`Iter`]'s `fold`).
    fn fold<B, F>(self, init: B, mut f: F) -> B
    where
        F: FnMut(B, Self::Item) -> B,
    {
        let IterMut { entries, stack, .. } = self;
        let mut accumulator = entries.fold(init, |accumulator, (key, value)| f(accumulator, (&*key, value)));
        for children in stack.into_iter().rev() {
            accumulator = children.fold(accumulator, |accumulator, child| fold_subtree_mut(child, accumulator, &mut f));
        }
        accumulator
    }
}

/// [`fold_subtree`] for [`IterMut`]: the node's own entries, then each child's subtree in turn.
fn fold_subtree_mut<'a, K, V, P, B, F>(node: &'a mut Node<K, V, P>, init: B, f: &mut F) -> B
where
    P: PointerKind,
    F: FnMut(B, (&'a K, &'a mut V)) -> B,
{
    let (entries, children) = unique_parts(node);
    let accumulator = entries.iter_mut().fold(init, |accumulator, (key, value)| f(accumulator, (&*key, value)));
    children.iter_mut().fold(accumulator, |accumulator, child| fold_subtree_mut(child, accumulator, f))
}

impl<K, V, P: PointerKind> ExactSizeIterator for IterMut<'_, K, V, P> {}
impl<K, V, P: PointerKind> FusedIterator for IterMut<'_, K, V, P> {}

impl<K, V, P: PointerKind> fmt::Debug for IterMut<'_, K, V, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IterMut").field("remaining", &self.remaining).finish_non_exhaustive()
    }
}

/// An iterator over mutable references to the values of a map. Created by
/// [`HamtMap::values_mut`](crate::HamtMap::values_mut).
pub struct ValuesMut<'a, K, V, P: PointerKind = archery::RcK> {
    pub(crate) inner: IterMut<'a, K, V, P>,
}

impl<'a, K, V, P: PointerKind> Iterator for ValuesMut<'a, K, V, P> {
    type Item = &'a mut V;

    #[inline]
    fn next(&mut self) -> Option<&'a mut V> {
        self.inner.next().map(|(_, value)| value)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }

    fn fold<B, F: FnMut(B, &'a mut V) -> B>(self, init: B, mut f: F) -> B {
        self.inner.fold(init, |accumulator, (_, value)| f(accumulator, value))
    }
}

impl<K, V, P: PointerKind> ExactSizeIterator for ValuesMut<'_, K, V, P> {}
impl<K, V, P: PointerKind> FusedIterator for ValuesMut<'_, K, V, P> {}

impl<K, V, P: PointerKind> fmt::Debug for ValuesMut<'_, K, V, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// One node being consumed by [`IntoIter`]: moved out of when nobody else holds it, cloned from otherwise.
enum Frame<K, V, P: PointerKind> {
    Owned(Drain<K, V, P>),
    Shared { node: Node<K, V, P>, entry: usize, child: usize },
}

impl<K, V, P: PointerKind> Frame<K, V, P> {
    fn new(node: Node<K, V, P>) -> Self {
        match node.into_drain() {
            Ok(drain) => Frame::Owned(drain),
            Err(node) => Frame::Shared { node, entry: 0, child: 0 },
        }
    }
}

/// An owning iterator over the entries of a map. Created by `into_iter` on a [`HamtMap`](crate::HamtMap).
///
/// Entries of nodes the map alone holds are moved out; entries of nodes shared with other versions are cloned.
pub struct IntoIter<K, V, P: PointerKind = archery::RcK> {
    stack: Vec<Frame<K, V, P>>,
    remaining: usize,
}

impl<K, V, P: PointerKind> IntoIter<K, V, P> {
    pub(crate) fn new(root: Option<Node<K, V, P>>, len: usize) -> Self {
        let mut stack = Vec::new();
        if let Some(root) = root {
            stack.reserve_exact(MAX_DEPTH);
            stack.push(Frame::new(root));
        }
        IntoIter { stack, remaining: len }
    }
}

impl<K: Clone, V: Clone, P: PointerKind> Iterator for IntoIter<K, V, P> {
    type Item = (K, V);

    fn next(&mut self) -> Option<(K, V)> {
        loop {
            let next_child = match self.stack.last_mut()? {
                Frame::Owned(drain) => {
                    if let Some(entry) = drain.next_entry() {
                        self.remaining -= 1;
                        return Some(entry);
                    }
                    drain.next_child()
                }
                Frame::Shared { node, entry, child } => {
                    if let Some(found) = node.entries().get(*entry) {
                        *entry += 1;
                        self.remaining -= 1;
                        return Some(found.clone());
                    }
                    let next = node.children().get(*child).cloned();
                    *child += 1;
                    next
                }
            };
            match next_child {
                Some(child) => self.stack.push(Frame::new(child)),
                None => {
                    self.stack.pop();
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K: Clone, V: Clone, P: PointerKind> ExactSizeIterator for IntoIter<K, V, P> {}
impl<K: Clone, V: Clone, P: PointerKind> FusedIterator for IntoIter<K, V, P> {}

impl<K, V, P: PointerKind> fmt::Debug for IntoIter<K, V, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter").field("remaining", &self.remaining).finish_non_exhaustive()
    }
}

/// An owning iterator over the keys of a map. Created by [`HamtMap::into_keys`](crate::HamtMap::into_keys).
///
/// Like [`IntoIter`], it moves keys out of the nodes the map alone holds and clones those of shared nodes.
pub struct IntoKeys<K, V, P: PointerKind = archery::RcK> {
    pub(crate) inner: IntoIter<K, V, P>,
}

/// An owning iterator over the values of a map. Created by
/// [`HamtMap::into_values`](crate::HamtMap::into_values).
///
/// Like [`IntoIter`], it moves values out of the nodes the map alone holds and clones those of shared nodes.
pub struct IntoValues<K, V, P: PointerKind = archery::RcK> {
    pub(crate) inner: IntoIter<K, V, P>,
}

impl<K: Clone, V: Clone, P: PointerKind> Iterator for IntoKeys<K, V, P> {
    type Item = K;

    fn next(&mut self) -> Option<K> {
        self.inner.next().map(|(key, _)| key)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<K: Clone, V: Clone, P: PointerKind> Iterator for IntoValues<K, V, P> {
    type Item = V;

    fn next(&mut self) -> Option<V> {
        self.inner.next().map(|(_, value)| value)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<K: Clone, V: Clone, P: PointerKind> ExactSizeIterator for IntoKeys<K, V, P> {}
impl<K: Clone, V: Clone, P: PointerKind> FusedIterator for IntoKeys<K, V, P> {}
impl<K: Clone, V: Clone, P: PointerKind> ExactSizeIterator for IntoValues<K, V, P> {}
impl<K: Clone, V: Clone, P: PointerKind> FusedIterator for IntoValues<K, V, P> {}

impl<K, V, P: PointerKind> fmt::Debug for IntoKeys<K, V, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoKeys").field("remaining", &self.inner.remaining).finish_non_exhaustive()
    }
}

impl<K, V, P: PointerKind> fmt::Debug for IntoValues<K, V, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoValues").field("remaining", &self.inner.remaining).finish_non_exhaustive()
    }
}
