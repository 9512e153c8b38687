//! Parallel operations with [rayon] (feature `rayon`): iteration, collection, extension, set operations and diff.
//!
//! Hash bits are consumed from the top, so the 32 slots of the root split a map into 32 disjoint subtries by the
//! top five bits of the hash, and every child below splits its subtrie again. The parallel operations use this
//! shape directly:
//!
//! - **Iteration** ([`ParIter`], [`ParKeys`], [`ParValues`], [`ParSetIter`]) hands rayon a producer that covers a
//!   range of one node's children (and possibly its entries). Splitting gives half of the children to the other
//!   side; a producer left with one child descends into it. Nothing is allocated per item or per split.
//! - **Collection** ([`FromParallelIterator`]) hashes the items in parallel and deals them into 32 groups by the
//!   root slot their hash selects, builds each group's subtrie at level 1 on its own thread with the bulk
//!   builder, and writes the root from the 32 parts. The parts are disjoint subtries, already in the place the
//!   trie needs them, so nothing is inserted twice.
//! - **Set operations** ([`HamtMap::par_union`] and its siblings, and the same four on [`HamtSet`]) and
//!   [`ParallelExtend`] merge the two maps' root slots in parallel, each with the sequential merge, which skips the
//!   subtrees the maps share.
//! - **Diff** ([`HamtMap::par_diff`]) splits the side-by-side walk over the root slots.
//!
//! All of it is available for maps and sets that are `Send + Sync` themselves: with the `ArcK` or `ArcTK` pointer
//! kind, and keys, values and hasher that are `Send + Sync`. An `RcK` map never is, since its reference counts are
//! not atomic. Small maps are handled on the calling thread, where rayon's overhead would exceed the gain.
//!
//! ```
//! use hamt_core::{ArcTK, HamtMap};
//! use rayon::prelude::*;
//!
//! let squares: HamtMap<u64, u64, ArcTK> = (0..100_000u64).into_par_iter().map(|i| (i, i * i)).collect();
//! assert_eq!(squares.par_values().filter(|square| *square % 2 == 1).count(), 50_000);
//! assert_eq!(squares, (0..100_000u64).map(|i| (i, i * i)).collect());
//! ```

use alloc::vec::Vec;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;

use rayon::iter::plumbing::{Folder, UnindexedConsumer, UnindexedProducer, bridge_unindexed};
use rayon::iter::{FromParallelIterator, IntoParallelIterator, ParallelExtend, ParallelIterator};

use crate::build::{build, build_slot, node_from_slots, root_slot};
use crate::diff::{Diff, DiffItem};
use crate::hasher::hash_of;
use crate::kind::PointerKind;
use crate::map::{Difference, HamtMap, Intersection, KeepLeft, KeepRight, SymmetricDifference};
use crate::ops::{Built, Count, Merge, Merger, subtree_len};
use crate::raw::{Bits, Node};
use crate::set::HamtSet;
use crate::trie::{BITS, MAX_DEPTH};

/// Below these sizes the parallel operations run on the calling thread, where splitting the work would cost more
/// than it saves. Measured on a 2-core machine against the sequential twins (docs/architecture.md, "Parallel
/// operations"): iterating 16k entries on two threads is about as fast as on one, building 32k to 64k, merging
/// (two maps together) about 64k.
const ITERATION_CUT_OFF: usize = 16_384;
/// See [`ITERATION_CUT_OFF`]: the number of items below which `collect` and `par_extend` build on one thread.
const BUILD_CUT_OFF: usize = 32_768;
/// See [`ITERATION_CUT_OFF`]: the total length of two maps below which a set operation runs on one thread.
const MERGE_CUT_OFF: usize = 65_536;

/// Whether work on `len` entries stays on the calling thread, given the operation's cut-off. With the
/// `invariants` feature (the test builds) it never does, so that small test inputs take the parallel paths; the
/// result is the same either way.
#[inline]
fn too_small(len: usize, cut_off: usize) -> bool {
    !cfg!(feature = "invariants") && len < cut_off
}

/// A map or a set, seen as the trie it owns.
///
/// The parallel code reaches nodes only through a shared reference to the map or set that owns them, and sends
/// what it builds back to the calling thread inside a map or set. So the bounds that let it cross threads are the
/// public ones (`HamtMap: Sync` to read, `HamtMap: Send` to build), with no bound on the private node type.
trait Trie {
    type Key;
    type Value;
    type Kind: PointerKind;

    fn trie_root(&self) -> Option<&Node<Self::Key, Self::Value, Self::Kind>>;

    /// Puts in a trie of `len` entries and returns the old root.
    fn replace_root(
        &mut self,
        root: Option<Node<Self::Key, Self::Value, Self::Kind>>,
        len: usize,
    ) -> Option<Node<Self::Key, Self::Value, Self::Kind>>;
}

impl<K, V, P: PointerKind, S> Trie for HamtMap<K, V, P, S> {
    type Key = K;
    type Value = V;
    type Kind = P;

    fn trie_root(&self) -> Option<&Node<K, V, P>> {
        self.root()
    }

    fn replace_root(&mut self, root: Option<Node<K, V, P>>, len: usize) -> Option<Node<K, V, P>> {
        self.replace_contents(root, len)
    }
}

impl<T, P: PointerKind, S> Trie for HamtSet<T, P, S> {
    type Key = T;
    type Value = ();
    type Kind = P;

    fn trie_root(&self) -> Option<&Node<T, (), P>> {
        self.map.root()
    }

    fn replace_root(&mut self, root: Option<Node<T, (), P>>, len: usize) -> Option<Node<T, (), P>> {
        self.map.replace_contents(root, len)
    }
}

/// The root of a map or set.
type Root<C> = Option<Node<<C as Trie>::Key, <C as Trie>::Value, <C as Trie>::Kind>>;

/// Entries with their hashes.
type Hashed<K, V> = Vec<(u64, (K, V))>;

/// What a parallel iterator yields for each entry.
trait Projection<K, V> {
    type Item<'a>
    where
        K: 'a,
        V: 'a;

    fn project(entry: &(K, V)) -> Self::Item<'_>;
}

/// `(&key, &value)`.
struct EntryRefs;
/// `&key`.
struct KeyRefs;
/// `&value`.
struct ValueRefs;

impl<K, V> Projection<K, V> for EntryRefs {
    type Item<'a>
        = (&'a K, &'a V)
    where
        K: 'a,
        V: 'a;

    #[inline]
    fn project(entry: &(K, V)) -> (&K, &V) {
        (&entry.0, &entry.1)
    }
}

impl<K, V> Projection<K, V> for KeyRefs {
    type Item<'a>
        = &'a K
    where
        K: 'a,
        V: 'a;

    #[inline]
    fn project(entry: &(K, V)) -> &K {
        &entry.0
    }
}

impl<K, V> Projection<K, V> for ValueRefs {
    type Item<'a>
        = &'a V
    where
        K: 'a,
        V: 'a;

    #[inline]
    fn project(entry: &(K, V)) -> &V {
        &entry.1
    }
}

/// A part of a trie for rayon to iterate: some of the children of one node, and possibly that node's entries.
///
/// The node is named by its path from the root (a child index per level), so the producer holds no node
/// reference, only the shared reference to the map or set, which is what makes it `Send`.
struct Subtries<'a, C, J> {
    trie: &'a C,
    /// The child indices from the root to the node, `depth` of them.
    path: [u8; MAX_DEPTH],
    depth: usize,
    /// Whether the node's own entries belong to this part.
    entries: bool,
    /// The node's children in this part, as a range of indices into its child array.
    children: (usize, usize),
    /// Whether rayon may split this part (false for maps too small to gain from it).
    splittable: bool,
    projection: PhantomData<fn() -> J>,
}

impl<'a, C: Trie, J> Subtries<'a, C, J> {
    /// All of `trie`, or `None` if it is empty.
    fn new(trie: &'a C, splittable: bool) -> Option<Self> {
        let root = trie.trie_root()?;
        let children = (0, root.children().len());
        let path = [0; MAX_DEPTH];
        Some(Subtries { trie, path, depth: 0, entries: true, children, splittable, projection: PhantomData })
    }

    fn node(&self) -> &'a Node<C::Key, C::Value, C::Kind> {
        let mut node = self.trie.trie_root().expect("a producer is made only for a trie with a root");
        for &index in &self.path[..self.depth] {
            node = &node.children()[usize::from(index)];
        }
        node
    }

    /// Another part of the same node: these children, and its entries or not.
    fn part(&self, entries: bool, children: (usize, usize)) -> Self {
        Subtries { entries, children, ..*self }
    }
}

impl<C, J> Clone for Subtries<'_, C, J> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C, J> Copy for Subtries<'_, C, J> {}

impl<'a, C, J> UnindexedProducer for Subtries<'a, C, J>
where
    C: Trie + Sync,
    J: Projection<C::Key, C::Value>,
{
    type Item = J::Item<'a>;

    fn split(mut self) -> (Self, Option<Self>) {
        if !self.splittable {
            return (self, None);
        }
        loop {
            let node = self.node();
            let (start, end) = self.children;
            match end - start {
                0 => return (self, None),
                1 if self.entries && !node.entries().is_empty() => {
                    return (self.part(true, (start, start)), Some(self.part(false, self.children)));
                }
                1 => {
                    // One child left: split inside it instead.
                    self.path[self.depth] = u8::try_from(start).expect("a node has at most 32 children");
                    self.depth += 1;
                    let child = &node.children()[start];
                    self.entries = true;
                    self.children = (0, child.children().len());
                }
                count => {
                    let middle = start + count / 2;
                    return (self.part(self.entries, (start, middle)), Some(self.part(false, (middle, end))));
                }
            }
        }
    }

    fn fold_with<F: Folder<Self::Item>>(self, mut folder: F) -> F {
        let node = self.node();
        if self.entries {
            // A closure rather than the path `J::project`: with the path, compilers up to at least 1.88 (the MSRV
            // is 1.85) fail to prove that the entries outlive the projected items.
            folder = folder.consume_iter(node.entries().iter().map(|entry| J::project(entry)));
        }
        for child in &node.children()[self.children.0..self.children.1] {
            if folder.full() {
                break;
            }
            folder = fold_subtree::<C::Key, C::Value, C::Kind, J, F>(child, folder);
        }
        folder
    }
}

/// Feeds every entry below `node` to `folder`, depth first, until it is full.
fn fold_subtree<'a, K, V, P, J, F>(node: &'a Node<K, V, P>, mut folder: F) -> F
where
    P: PointerKind,
    J: Projection<K, V>,
    F: Folder<J::Item<'a>>,
{
    // A closure rather than `J::project`, for the MSRV (see `fold_with` above).
    folder = folder.consume_iter(node.entries().iter().map(|entry| J::project(entry)));
    for child in node.children() {
        if folder.full() {
            break;
        }
        folder = fold_subtree::<K, V, P, J, F>(child, folder);
    }
    folder
}

/// Runs `consumer` over every entry of `trie`, projected by `J`.
fn drive_entries<'a, C, J, R>(trie: &'a C, len: usize, consumer: R) -> R::Result
where
    C: Trie + Sync,
    J: Projection<C::Key, C::Value>,
    J::Item<'a>: Send,
    R: UnindexedConsumer<J::Item<'a>>,
{
    match Subtries::<C, J>::new(trie, !too_small(len, ITERATION_CUT_OFF)) {
        Some(producer) => bridge_unindexed(producer, consumer),
        None => consumer.into_folder().complete(),
    }
}

/// A parallel iterator over the entries of a [`HamtMap`], as `(&key, &value)`: see [`HamtMap::par_iter`].
pub struct ParIter<'a, K, V, P: PointerKind, S> {
    map: &'a HamtMap<K, V, P, S>,
}

/// A parallel iterator over the keys of a [`HamtMap`]: see [`HamtMap::par_keys`].
pub struct ParKeys<'a, K, V, P: PointerKind, S> {
    map: &'a HamtMap<K, V, P, S>,
}

/// A parallel iterator over the values of a [`HamtMap`]: see [`HamtMap::par_values`].
pub struct ParValues<'a, K, V, P: PointerKind, S> {
    map: &'a HamtMap<K, V, P, S>,
}

/// A parallel iterator over the elements of a [`HamtSet`]: see [`HamtSet::par_iter`].
pub struct ParSetIter<'a, T, P: PointerKind, S> {
    set: &'a HamtSet<T, P, S>,
}

macro_rules! map_iterator {
    ($name:ident, $projection:ty, $item:ty) => {
        impl<'a, K, V, P, S> ParallelIterator for $name<'a, K, V, P, S>
        where
            P: PointerKind,
            K: Sync,
            V: Sync,
            HamtMap<K, V, P, S>: Sync,
        {
            type Item = $item;

            fn drive_unindexed<C: UnindexedConsumer<Self::Item>>(self, consumer: C) -> C::Result {
                drive_entries::<_, $projection, _>(self.map, self.map.len(), consumer)
            }
        }

        impl<K, V, P: PointerKind, S> Clone for $name<'_, K, V, P, S> {
            fn clone(&self) -> Self {
                $name { map: self.map }
            }
        }

        impl<K, V, P: PointerKind, S> fmt::Debug for $name<'_, K, V, P, S> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).field("len", &self.map.len()).finish_non_exhaustive()
            }
        }
    };
}

map_iterator!(ParIter, EntryRefs, (&'a K, &'a V));
map_iterator!(ParKeys, KeyRefs, &'a K);
map_iterator!(ParValues, ValueRefs, &'a V);

impl<'a, T, P, S> ParallelIterator for ParSetIter<'a, T, P, S>
where
    P: PointerKind,
    T: Sync,
    HamtSet<T, P, S>: Sync,
{
    type Item = &'a T;

    fn drive_unindexed<C: UnindexedConsumer<&'a T>>(self, consumer: C) -> C::Result {
        drive_entries::<_, KeyRefs, _>(self.set, self.set.len(), consumer)
    }
}

impl<T, P: PointerKind, S> Clone for ParSetIter<'_, T, P, S> {
    fn clone(&self) -> Self {
        ParSetIter { set: self.set }
    }
}

impl<T, P: PointerKind, S> fmt::Debug for ParSetIter<'_, T, P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParSetIter").field("len", &self.set.len()).finish_non_exhaustive()
    }
}

impl<K, V, P, S> HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Sync,
    V: Sync,
    Self: Sync,
{
    /// A parallel iterator over the entries, as `(&key, &value)`, in no particular order.
    ///
    /// Available when the map is `Sync`: with the `ArcK` or `ArcTK` pointer kind and `Sync` keys, values and
    /// hasher. Rayon splits the work along the trie: a part of the map is a range of one node's children, and
    /// splitting it gives half of them to another thread. Maps of fewer than 16 Ki entries are iterated on the
    /// calling thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcTK, HamtMap};
    /// use rayon::prelude::*;
    ///
    /// let map: HamtMap<u64, u64, ArcTK> = (0..10_000).map(|i| (i, 2 * i)).collect();
    /// let sum: u64 = map.par_iter().map(|(key, value)| key + value).sum();
    /// assert_eq!(sum, 3 * (0..10_000).sum::<u64>());
    /// ```
    pub fn par_iter(&self) -> ParIter<'_, K, V, P, S> {
        ParIter { map: self }
    }

    /// A parallel iterator over the keys, in no particular order (see [`par_iter`](Self::par_iter)).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcK, HamtMap};
    /// use rayon::prelude::*;
    ///
    /// let map: HamtMap<u32, char, ArcK> = [(1, 'a'), (2, 'b'), (3, 'c')].into_iter().collect();
    /// assert_eq!(map.par_keys().max(), Some(&3));
    /// ```
    pub fn par_keys(&self) -> ParKeys<'_, K, V, P, S> {
        ParKeys { map: self }
    }

    /// A parallel iterator over the values, in no particular order (see [`par_iter`](Self::par_iter)).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcTK, HamtMap};
    /// use rayon::prelude::*;
    ///
    /// let map: HamtMap<&str, u32, ArcTK> = [("a", 1), ("b", 2)].into_iter().collect();
    /// assert_eq!(map.par_values().sum::<u32>(), 3);
    /// ```
    pub fn par_values(&self) -> ParValues<'_, K, V, P, S> {
        ParValues { map: self }
    }
}

impl<'a, K, V, P, S> IntoParallelIterator for &'a HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Sync,
    V: Sync,
    HamtMap<K, V, P, S>: Sync,
{
    type Iter = ParIter<'a, K, V, P, S>;
    type Item = (&'a K, &'a V);

    /// The same as [`HamtMap::par_iter`]; also gives rayon's `par_iter()` through `IntoParallelRefIterator`.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcTK, HamtMap};
    /// use rayon::prelude::*;
    ///
    /// let map: HamtMap<u8, u8, ArcTK> = [(1, 10), (2, 20)].into_iter().collect();
    /// assert_eq!((&map).into_par_iter().count(), 2);
    /// ```
    fn into_par_iter(self) -> ParIter<'a, K, V, P, S> {
        self.par_iter()
    }
}

impl<T, P, S> HamtSet<T, P, S>
where
    P: PointerKind,
    T: Sync,
    Self: Sync,
{
    /// A parallel iterator over the elements, in no particular order.
    ///
    /// Available when the set is `Sync` (the `ArcK` or `ArcTK` pointer kind); see [`HamtMap::par_iter`].
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcTK, HamtSet};
    /// use rayon::prelude::*;
    ///
    /// let set: HamtSet<u64, ArcTK> = (0..10_000).collect();
    /// assert_eq!(set.par_iter().filter(|n| *n % 3 == 0).count(), 3_334);
    /// ```
    pub fn par_iter(&self) -> ParSetIter<'_, T, P, S> {
        ParSetIter { set: self }
    }
}

impl<'a, T, P, S> IntoParallelIterator for &'a HamtSet<T, P, S>
where
    P: PointerKind,
    T: Sync,
    HamtSet<T, P, S>: Sync,
{
    type Iter = ParSetIter<'a, T, P, S>;
    type Item = &'a T;

    /// The same as [`HamtSet::par_iter`].
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcK, HamtSet};
    /// use rayon::prelude::*;
    ///
    /// let set: HamtSet<u8, ArcK> = [1, 2, 3].into_iter().collect();
    /// assert_eq!((&set).into_par_iter().sum::<u8>(), 6);
    /// ```
    fn into_par_iter(self) -> ParSetIter<'a, T, P, S> {
        self.par_iter()
    }
}

/// A root node holding only `slot` at `bit`, or `None` if the slot is empty. Wrapped in a map or set, this is how
/// one root slot travels between threads.
fn slot_root<K, V, P: PointerKind>(bit: u32, slot: Built<K, V, P>) -> Option<Node<K, V, P>> {
    node_from_slots(alloc::vec![(bit, slot)])
}

/// A copy of what `root` holds at `bit`, as a root of its own (the child is shared, the entry cloned).
fn slot_of<K: Clone, V: Clone, P: PointerKind>(root: &Node<K, V, P>, bit: u32) -> Option<Node<K, V, P>> {
    if let Some(entry) = root.entry_at_bit(bit) {
        return slot_root(bit, Built::One(entry.clone()));
    }
    root.child_at_bit(bit).map(|child| slot_root(bit, Built::Many(child.clone())).expect("a child makes a root"))
}

/// Writes the root from parts that each hold one root slot, in slot order (or nothing). No entry is inserted:
/// each part's entry or child moves into the new root as it is.
fn assemble<C: Trie>(parts: impl IntoIterator<Item = C>) -> Option<Node<C::Key, C::Value, C::Kind>> {
    let mut slots = Vec::with_capacity(32);
    for mut part in parts {
        let Some(root) = part.replace_root(None, 0) else { continue };
        let (datamap, nodemap) = (root.datamap(), root.nodemap());
        let Ok(mut drain) = root.into_drain() else { unreachable!("a part's root was just built and is not shared") };
        let slot = if datamap != 0 {
            Built::One(drain.next_entry().expect("a one-entry root"))
        } else {
            Built::Many(drain.next_child().expect("a one-child root"))
        };
        slots.push((datamap | nodemap, slot));
    }
    node_from_slots(slots)
}

/// Builds a trie from `items` in parallel; later items win over earlier ones with an equal key. `empty` makes an
/// empty map or set to carry a part back from a worker thread.
fn par_build<C, S, I>(items: I, hasher: &S, empty: impl Fn() -> C + Sync) -> (Root<C>, usize)
where
    C: Trie + Send,
    C::Key: Hash + Eq + Send,
    C::Value: Send,
    S: BuildHasher + Sync,
    I: ParallelIterator<Item = (C::Key, C::Value)>,
{
    if items.opt_len().is_some_and(|len| too_small(len, BUILD_CUT_OFF)) {
        let entries: Vec<(C::Key, C::Value)> = items.collect();
        return build(entries, hasher);
    }
    /// One part of the input's entries, dealt by root slot: 32 vectors (in a vector rather than an array, so that
    /// `fold` moves 24 bytes per item rather than 768).
    type Groups<K, V> = Vec<Hashed<K, V>>;
    /// A root slot, and the parts of its entries in input order.
    type Group<K, V> = (usize, Vec<Hashed<K, V>>);
    // Hash in parallel and deal the entries into groups by root slot. Each rayon part keeps its entries in input
    // order, and `collect` returns the parts in input order, so a group's entries stay in input order.
    let parts: Vec<Groups<C::Key, C::Value>> = items
        .fold(
            || (0..32).map(|_| Vec::new()).collect(),
            |mut groups: Groups<C::Key, C::Value>, (key, value)| {
                let hash = hash_of(hasher, &key);
                groups[root_slot(hash)].push((hash, (key, value)));
                groups
            },
        )
        .collect();
    let mut groups: Vec<Group<C::Key, C::Value>> = (0..32).map(|slot| (slot, Vec::new())).collect();
    for part in parts {
        for (slot, entries) in part.into_iter().enumerate() {
            if !entries.is_empty() {
                groups[slot].1.push(entries);
            }
        }
    }
    groups.retain(|(_, pieces)| !pieces.is_empty());
    let empty = &empty;
    let parts: Vec<(C, usize)> = groups
        .into_par_iter()
        .map(|(slot, pieces)| {
            let entries = concat(pieces);
            let (built, len) = build_slot(entries, BITS);
            let mut part = empty();
            part.replace_root(slot_root(1 << slot, built), len);
            (part, len)
        })
        .collect();
    let len = parts.iter().map(|(_, len)| len).sum();
    (assemble(parts.into_iter().map(|(part, _)| part)), len)
}

/// The pieces of a group, in order, as one vector.
fn concat<T>(mut pieces: Vec<Vec<T>>) -> Vec<T> {
    if pieces.len() == 1 {
        return pieces.pop().expect("one piece");
    }
    let mut all = Vec::with_capacity(pieces.iter().map(Vec::len).sum());
    for mut piece in pieces {
        all.append(&mut piece);
    }
    all
}

/// Merges two tries that hash alike, one root slot per task, each with the sequential merge (which skips the
/// subtrees they share). Returns the root and the merge's count (see `Count`).
fn par_merge<C, S, M>(
    a: &C,
    b: &C,
    hasher: &S,
    merge: impl Fn() -> M + Sync,
    empty: impl Fn() -> C + Sync,
) -> (Root<C>, isize)
where
    C: Trie + Send + Sync,
    C::Key: Clone + Hash + Eq,
    C::Value: Clone,
    S: BuildHasher + Sync,
    M: Merge<C::Key, C::Value>,
{
    let bits_of = |trie: &C| trie.trie_root().map_or(0, |root| root.datamap() | root.nodemap());
    let slots: Vec<u32> = Bits(bits_of(a) | bits_of(b)).collect();
    let (merge, empty) = (&merge, &empty);
    let parts: Vec<(C, isize)> = slots
        .into_par_iter()
        .map(|bit| {
            let mut merger = Merger { merge: merge(), hasher, count: 0 };
            let left = a.trie_root().and_then(|root| slot_of(root, bit));
            let right = b.trie_root().and_then(|root| slot_of(root, bit));
            let merged = match (left, right) {
                (Some(left), Some(right)) => match merger.nodes(&left, &right, 0) {
                    Built::Many(root) => Some(root),
                    Built::Empty => None,
                    Built::One(_) => unreachable!("a merged root is never collapsed"),
                },
                (Some(left), None) => {
                    merger.left(M::KEEP_LEFT_ONLY, || subtree_len(&left));
                    M::KEEP_LEFT_ONLY.then_some(left)
                }
                (None, Some(right)) => {
                    merger.right(M::KEEP_RIGHT_ONLY, || subtree_len(&right));
                    M::KEEP_RIGHT_ONLY.then_some(right)
                }
                (None, None) => None,
            };
            let mut part = empty();
            part.replace_root(merged, 0);
            (part, merger.count)
        })
        .collect();
    let count = parts.iter().map(|(_, count)| count).sum();
    (assemble(parts.into_iter().map(|(part, _)| part)), count)
}

impl<K, V, P, S> HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Clone + Send + Sync,
    V: Clone + Send + Sync,
    S: BuildHasher + Clone + Send + Sync,
    Self: Send + Sync,
{
    /// The set operation `M`, merging the root slots in parallel when the maps hash alike and are large.
    fn par_merged<M: Merge<K, V>>(&self, other: &Self, merge: impl Fn() -> M + Sync) -> Self {
        if !self.hashes_like(other)
            || self.is_empty()
            || other.is_empty()
            || too_small(self.len() + other.len(), MERGE_CUT_OFF)
        {
            return self.merged(other, merge());
        }
        let (root, count) = par_merge(self, other, self.hasher(), merge, || self.derived(None, 0));
        let len = match M::COUNT {
            Count::FromLeft => self.len().wrapping_add_signed(count),
            Count::Kept => count as usize,
        };
        self.derived(root, len)
    }

    /// [`union`](Self::union) in parallel: the entries of both maps; for keys in both, this map's value.
    ///
    /// The root's slots are merged in parallel, each by the sequential union, which reuses the subtrees the maps
    /// share without visiting them. The result is the same map `union` returns. Maps of fewer than 64 Ki entries
    /// together, and maps that do not hash alike (see [`HamtMap::with_hasher`]), are merged on the calling thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcTK, HamtMap};
    ///
    /// let evens: HamtMap<u64, &str, ArcTK> = (0..20_000).step_by(2).map(|i| (i, "even")).collect();
    /// let threes: HamtMap<u64, &str, ArcTK> = (0..20_000).step_by(3).map(|i| (i, "three")).collect();
    /// let both = evens.par_union(&threes);
    /// assert_eq!(both, evens.union(&threes));
    /// assert_eq!((both[&6], both[&9]), ("even", "three"));
    /// ```
    #[must_use = "`par_union` returns a new map and leaves both unchanged; to add entries in place, use `par_extend` (or assign: `map = map.par_union(&other)`)"]
    pub fn par_union(&self, other: &Self) -> Self {
        self.par_merged(other, || KeepLeft)
    }

    /// [`intersection`](Self::intersection) in parallel (see [`par_union`](Self::par_union)).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcTK, HamtMap};
    ///
    /// let evens: HamtMap<u64, u64, ArcTK> = (0..20_000).step_by(2).map(|i| (i, i)).collect();
    /// let threes: HamtMap<u64, u64, ArcTK> = (0..20_000).step_by(3).map(|i| (i, i)).collect();
    /// assert_eq!(evens.par_intersection(&threes).len(), 3_334);
    /// ```
    #[must_use = "`par_intersection` returns a new map and leaves both unchanged; to drop entries in place, use `retain` (or assign: `map = map.par_intersection(&other)`)"]
    pub fn par_intersection(&self, other: &Self) -> Self {
        self.par_merged(other, || Intersection)
    }

    /// [`difference`](Self::difference) in parallel (see [`par_union`](Self::par_union)).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcTK, HamtMap};
    ///
    /// let all: HamtMap<u64, (), ArcTK> = (0..20_000).map(|i| (i, ())).collect();
    /// let odd = all.par_difference(&(0..20_000).step_by(2).map(|i| (i, ())).collect());
    /// assert!(odd.len() == 10_000 && odd.contains_key(&7));
    /// ```
    #[must_use = "`par_difference` returns a new map and leaves both unchanged; to drop entries in place, use `retain` (or assign: `map = map.par_difference(&other)`)"]
    pub fn par_difference(&self, other: &Self) -> Self {
        self.par_merged(other, || Difference)
    }

    /// [`symmetric_difference`](Self::symmetric_difference) in parallel (see [`par_union`](Self::par_union)).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcTK, HamtMap};
    ///
    /// let low: HamtMap<u64, (), ArcTK> = (0..15_000).map(|i| (i, ())).collect();
    /// let high: HamtMap<u64, (), ArcTK> = (5_000..20_000).map(|i| (i, ())).collect();
    /// assert_eq!(low.par_symmetric_difference(&high).len(), 10_000);
    /// ```
    #[must_use = "`par_symmetric_difference` returns a new map and leaves both unchanged; assign it (`map = map.par_symmetric_difference(&other)`) to keep it"]
    pub fn par_symmetric_difference(&self, other: &Self) -> Self {
        self.par_merged(other, || SymmetricDifference)
    }
}

/// The parallel set operations of sets: their maps' (see [`HamtMap::par_union`]).
impl<T, P, S> HamtSet<T, P, S>
where
    P: PointerKind,
    T: Hash + Eq + Clone + Send + Sync,
    S: BuildHasher + Clone + Send + Sync,
    HamtMap<T, (), P, S>: Send + Sync,
{
    /// [`union`](Self::union) in parallel: the root's slots are merged on separate threads, each skipping the
    /// subtrees the sets share. The result is the set `union` returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcTK, HamtSet};
    ///
    /// let evens: HamtSet<u64, ArcTK> = (0..20_000).step_by(2).collect();
    /// let threes: HamtSet<u64, ArcTK> = (0..20_000).step_by(3).collect();
    /// assert_eq!(evens.par_union(&threes), evens.union(&threes));
    /// ```
    #[must_use = "`par_union` returns a new set and leaves both unchanged; to add elements in place, use `par_extend` (or assign: `set = set.par_union(&other)`)"]
    pub fn par_union(&self, other: &Self) -> Self {
        HamtSet { map: self.map.par_union(&other.map) }
    }

    /// [`intersection`](Self::intersection) in parallel (see [`par_union`](Self::par_union)).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcTK, HamtSet};
    ///
    /// let evens: HamtSet<u64, ArcTK> = (0..20_000).step_by(2).collect();
    /// let threes: HamtSet<u64, ArcTK> = (0..20_000).step_by(3).collect();
    /// assert_eq!(evens.par_intersection(&threes).len(), 3_334);
    /// ```
    #[must_use = "`par_intersection` returns a new set and leaves both unchanged; to drop elements in place, use `retain` (or assign: `set = set.par_intersection(&other)`)"]
    pub fn par_intersection(&self, other: &Self) -> Self {
        HamtSet { map: self.map.par_intersection(&other.map) }
    }

    /// [`difference`](Self::difference) in parallel (see [`par_union`](Self::par_union)).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcTK, HamtSet};
    ///
    /// let all: HamtSet<u64, ArcTK> = (0..20_000).collect();
    /// let odd = all.par_difference(&(0..20_000).step_by(2).collect());
    /// assert!(odd.len() == 10_000 && odd.contains(&7));
    /// ```
    #[must_use = "`par_difference` returns a new set and leaves both unchanged; to drop elements in place, use `retain` (or assign: `set = set.par_difference(&other)`)"]
    pub fn par_difference(&self, other: &Self) -> Self {
        HamtSet { map: self.map.par_difference(&other.map) }
    }

    /// [`symmetric_difference`](Self::symmetric_difference) in parallel (see [`par_union`](Self::par_union)).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcTK, HamtSet};
    ///
    /// let low: HamtSet<u64, ArcTK> = (0..15_000).collect();
    /// let high: HamtSet<u64, ArcTK> = (5_000..20_000).collect();
    /// assert_eq!(low.par_symmetric_difference(&high).len(), 10_000);
    /// ```
    #[must_use = "`par_symmetric_difference` returns a new set and leaves both unchanged; assign it (`set = set.par_symmetric_difference(&other)`) to keep it"]
    pub fn par_symmetric_difference(&self, other: &Self) -> Self {
        HamtSet { map: self.map.par_symmetric_difference(&other.map) }
    }
}

/// A parallel iterator over the differences between two maps: see [`HamtMap::par_diff`].
pub struct ParDiff<'a, K, V, P: PointerKind, S> {
    first: &'a HamtMap<K, V, P, S>,
    second: &'a HamtMap<K, V, P, S>,
}

impl<K, V, P, S> HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Sync,
    V: PartialEq + Sync,
    S: BuildHasher,
    Self: Sync,
{
    /// [`diff`](Self::diff) as a parallel iterator: the same items, in no particular order.
    ///
    /// When the maps hash alike, the side-by-side walk is split over the root's slots, and each part skips the
    /// subtrees the maps share as `diff` does. This pays off when the maps differ in many places (two maps built
    /// separately, or far-apart versions); for a few differences the sequential `diff` is already microseconds.
    /// Maps that do not hash alike are compared by parallel lookups.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcTK, DiffItem, HamtMap};
    /// use rayon::prelude::*;
    ///
    /// let old: HamtMap<u64, u64, ArcTK> = (0..20_000).map(|i| (i, i)).collect();
    /// let new: HamtMap<u64, u64, ArcTK> = (0..20_000).map(|i| (i, if i % 10 == 0 { 0 } else { i })).collect();
    /// let changed = old.par_diff(&new).filter(|item| matches!(item, DiffItem::Changed { .. })).count();
    /// assert_eq!(changed, 1_999); // every tenth key but 0
    /// ```
    pub fn par_diff<'a>(&'a self, other: &'a Self) -> ParDiff<'a, K, V, P, S> {
        ParDiff { first: self, second: other }
    }
}

/// A part of a diff for rayon: the side-by-side walk below some of the root slots.
struct RootSlots<'a, K, V, P: PointerKind, S> {
    first: &'a HamtMap<K, V, P, S>,
    second: &'a HamtMap<K, V, P, S>,
    bits: u32,
}

impl<'a, K, V, P, S> UnindexedProducer for RootSlots<'a, K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq,
    V: PartialEq,
    S: BuildHasher,
    HamtMap<K, V, P, S>: Sync,
{
    type Item = DiffItem<'a, K, V>;

    fn split(self) -> (Self, Option<Self>) {
        let count = self.bits.count_ones();
        if count < 2 {
            return (self, None);
        }
        let mut high = self.bits;
        for _ in 0..count / 2 {
            high &= high - 1;
        }
        let low = self.bits ^ high;
        (RootSlots { bits: low, ..self }, Some(RootSlots { bits: high, ..self }))
    }

    fn fold_with<F: Folder<Self::Item>>(self, folder: F) -> F {
        let (Some(first), Some(second)) = (self.first.root(), self.second.root()) else {
            unreachable!("a diff is split only between two roots")
        };
        folder.consume_iter(Diff::root_slots(first, second, self.bits, self.first.hasher()))
    }
}

impl<'a, K, V, P, S> ParallelIterator for ParDiff<'a, K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Sync,
    V: PartialEq + Sync,
    S: BuildHasher,
    HamtMap<K, V, P, S>: Sync,
{
    type Item = DiffItem<'a, K, V>;

    fn drive_unindexed<C: UnindexedConsumer<Self::Item>>(self, consumer: C) -> C::Result {
        let (first, second) = (self.first, self.second);
        let large = !too_small(first.len() + second.len(), ITERATION_CUT_OFF);
        if !first.hashes_like(second) && large {
            let removed_or_changed = first.par_iter().filter_map(move |(key, old)| match second.get(key) {
                None => Some(DiffItem::Removed(key, old)),
                Some(new) if new != old => Some(DiffItem::Changed { key, old, new }),
                Some(_) => None,
            });
            let added = second
                .par_iter()
                .filter_map(move |(key, value)| (!first.contains_key(key)).then_some(DiffItem::Added(key, value)));
            return removed_or_changed.chain(added).drive_unindexed(consumer);
        }
        match (first.root(), second.root()) {
            (Some(a), Some(b)) if first.hashes_like(second) && large && !a.ptr_eq(b) => {
                let bits = a.datamap() | a.nodemap() | b.datamap() | b.nodemap();
                bridge_unindexed(RootSlots { first, second, bits }, consumer)
            }
            _ => consumer.into_folder().consume_iter(first.diff(second)).complete(),
        }
    }
}

impl<K, V, P: PointerKind, S> Clone for ParDiff<'_, K, V, P, S> {
    fn clone(&self) -> Self {
        ParDiff { first: self.first, second: self.second }
    }
}

impl<K, V, P: PointerKind, S> fmt::Debug for ParDiff<'_, K, V, P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParDiff").finish_non_exhaustive()
    }
}

impl<K, V, P, S> FromParallelIterator<(K, V)> for HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Send,
    V: Send,
    S: BuildHasher + Default + Sync,
    Self: Send,
{
    /// Builds the map in parallel; as with `collect` into std's `HashMap`, a later item (in the parallel
    /// iterator's order) wins over an earlier one with an equal key. The result equals the sequential
    /// `FromIterator`'s.
    ///
    /// The items are hashed in parallel and dealt into 32 groups by the root slot their hash selects; each
    /// group's subtrie is built on its own thread by the bulk builder, and the root is written from the parts,
    /// which are disjoint subtries already shaped for their slots: nothing is inserted twice. Inputs known to hold
    /// fewer than 32 Ki items are built on the calling thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcTK, HamtMap};
    /// use rayon::prelude::*;
    ///
    /// let map: HamtMap<u64, u64, ArcTK> = (0..50_000u64).into_par_iter().map(|i| (i % 1_000, i)).collect();
    /// assert_eq!(map.len(), 1_000);
    /// assert_eq!(map[&7], 49_007); // the last item for key 7 wins
    /// ```
    fn from_par_iter<I: IntoParallelIterator<Item = (K, V)>>(items: I) -> Self {
        let mut map = Self::with_hasher(S::default());
        let (root, len) = par_build(items.into_par_iter(), map.hasher(), || Self::with_hasher(S::default()));
        map.replace_contents(root, len);
        map
    }
}

impl<K, V, P, S> ParallelExtend<(K, V)> for HamtMap<K, V, P, S>
where
    P: PointerKind,
    K: Hash + Eq + Clone + Send + Sync,
    V: Clone + Send + Sync,
    S: BuildHasher + Clone + Send + Sync,
    Self: Send + Sync,
{
    /// Inserts every item, a later one winning over an earlier one with an equal key (and over the map's entry).
    ///
    /// A batch at least a quarter of the map's size is built in parallel (as by `collect`) and merged in with the
    /// root's slots in parallel, reusing whole subtrees; a smaller one is inserted entry by entry, as `Extend` does.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcTK, HamtMap};
    /// use rayon::prelude::*;
    ///
    /// let mut map: HamtMap<u64, u64, ArcTK> = (0..10_000).map(|i| (i, 0)).collect();
    /// map.par_extend((5_000..15_000u64).into_par_iter().map(|i| (i, 1)));
    /// assert_eq!((map.len(), map[&4_999], map[&5_000]), (15_000, 0, 1));
    /// ```
    fn par_extend<I: IntoParallelIterator<Item = (K, V)>>(&mut self, items: I) {
        let entries: Vec<(K, V)> = items.into_par_iter().collect();
        if too_small(entries.len(), BUILD_CUT_OFF) || entries.len() < self.len() / 4 {
            self.extend(entries);
            return;
        }
        let (root, len) = par_build(entries.into_par_iter(), self.hasher(), || self.derived(None, 0));
        let batch = self.derived(root, len);
        *self = if self.is_empty() { batch } else { self.par_merged(&batch, || KeepRight) };
    }
}

impl<T, P, S> FromParallelIterator<T> for HamtSet<T, P, S>
where
    P: PointerKind,
    T: Hash + Eq + Send,
    S: BuildHasher + Default + Sync,
    Self: Send,
{
    /// Builds the set in parallel (see [`HamtMap`]'s `FromParallelIterator`).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcTK, HamtSet};
    /// use rayon::prelude::*;
    ///
    /// let set: HamtSet<u64, ArcTK> = (0..30_000u64).into_par_iter().map(|i| i % 7_000).collect();
    /// assert_eq!(set.len(), 7_000);
    /// ```
    fn from_par_iter<I: IntoParallelIterator<Item = T>>(values: I) -> Self {
        let mut set = Self::with_hasher(S::default());
        let items = values.into_par_iter().map(|value| (value, ()));
        let (root, len) = par_build(items, set.hasher(), || Self::with_hasher(S::default()));
        set.replace_root(root, len);
        set
    }
}

impl<T, P, S> ParallelExtend<T> for HamtSet<T, P, S>
where
    P: PointerKind,
    T: Hash + Eq + Clone + Send + Sync,
    S: BuildHasher + Clone + Send + Sync,
    Self: Send + Sync,
{
    /// Inserts every value (see [`HamtMap`]'s `ParallelExtend`).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcK, HamtSet};
    /// use rayon::prelude::*;
    ///
    /// let mut set: HamtSet<u64, ArcK> = (0..10_000).collect();
    /// set.par_extend(5_000..15_000u64);
    /// assert_eq!(set.len(), 15_000);
    /// ```
    fn par_extend<I: IntoParallelIterator<Item = T>>(&mut self, values: I) {
        let values: Vec<T> = values.into_par_iter().collect();
        if too_small(values.len(), BUILD_CUT_OFF) || values.len() < self.len() / 4 {
            self.extend(values);
            return;
        }
        let this: &Self = self;
        let hasher = this.hasher();
        // `move` captures the set itself (which is `Sync`) rather than its inner map.
        let empty = move || HamtSet { map: this.map.derived(None, 0) };
        let (root, len) = par_build(values.into_par_iter().map(|value| (value, ())), hasher, empty);
        let batch = HamtSet { map: self.map.derived(root, len) };
        if self.is_empty() {
            *self = batch;
            return;
        }
        if !self.map.hashes_like(&batch.map) || too_small(self.len() + batch.len(), MERGE_CUT_OFF) {
            self.map = self.map.merged(&batch.map, KeepRight);
            return;
        }
        let (root, count) = par_merge(self, &batch, hasher, || KeepRight, empty);
        let len = self.len().wrapping_add_signed(count);
        self.map = self.map.derived(root, len);
    }
}
