//! Whole-map operations that walk two tries side by side: equality, submap, union, intersection, difference and
//! symmetric difference. Subtrees shared by pointer are decided without being read, so the cost follows what
//! differs between the two maps, not their size. All of it needs both maps to hash alike (see `HasherId`).

use alloc::vec::Vec;
use core::hash::{BuildHasher, Hash};

use crate::build::node_from_slots;
use crate::hasher::hash_of;
use crate::kind::PointerKind;
use crate::raw::{BitCounter, Bits, Builder, Node, Shape, Slot};
use crate::trie::{BITS, COLLISION_SHIFT, get_at, merge_two, single};

/// The number of entries in a subtree.
pub(crate) fn subtree_len<K, V, P: PointerKind>(node: &Node<K, V, P>) -> usize {
    node.entries().len() + node.children().iter().map(subtree_len).sum::<usize>()
}

/// Whether two subtrees at `shift` hold the same entries. Relies on canonical form: equal contents have equal
/// shapes, so a difference in bitmaps settles the question.
pub(crate) fn nodes_equal<K: Eq, V: PartialEq, P: PointerKind>(
    a: &Node<K, V, P>,
    b: &Node<K, V, P>,
    shift: u32,
) -> bool {
    subtrees_equal(a, b, shift, BitCounter::new())
}

/// [`nodes_equal`], counting bits with `counter` (chosen once for the whole walk).
fn subtrees_equal<K: Eq, V: PartialEq, P: PointerKind>(
    a: &Node<K, V, P>,
    b: &Node<K, V, P>,
    shift: u32,
    counter: BitCounter,
) -> bool {
    if a.ptr_eq(b) {
        return true;
    }
    if shift < COLLISION_SHIFT && (a.datamap() != b.datamap() || a.nodemap() != b.nodemap()) {
        return false;
    }
    let ((a_entries, a_children), (b_entries, b_children)) = (a.contents(counter), b.contents(counter));
    if shift >= COLLISION_SHIFT {
        return a_entries.len() == b_entries.len()
            && a_entries.iter().all(|(key, value)| b_entries.iter().any(|(k, v)| k == key && v == value));
    }
    // Both subtrees will be walked: start loading every child of both now, so that their cache misses overlap.
    a_children.iter().chain(b_children).for_each(Node::prefetch);
    a_entries.iter().zip(b_entries).all(|(x, y)| x.0 == y.0 && x.1 == y.1)
        && a_children.iter().zip(b_children).all(|(x, y)| subtrees_equal(x, y, shift + BITS, counter))
}

/// Whether every entry of `a` is in `b` with an equal value (both at `shift`).
pub(crate) fn is_subnode<K, V, P, S>(a: &Node<K, V, P>, b: &Node<K, V, P>, shift: u32, hasher: &S) -> bool
where
    P: PointerKind,
    K: Hash + Eq,
    V: PartialEq,
    S: BuildHasher,
{
    if a.ptr_eq(b) {
        return true;
    }
    if shift >= COLLISION_SHIFT {
        let entries = b.entries();
        return a.entries().iter().all(|(key, value)| entries.iter().any(|(k, v)| k == key && v == value));
    }
    let (a_data, a_nodes, b_data, b_nodes) = (a.datamap(), a.nodemap(), b.datamap(), b.nodemap());
    // A subtree of two or more entries never fits in a single entry, and nothing fits in an empty slot.
    if a_nodes & !b_nodes != 0 || a_data & !(b_data | b_nodes) != 0 {
        return false;
    }
    for (bit, (key, value)) in Bits(a_data).zip(a.entries()) {
        let found = match b.entry_at_bit(bit) {
            Some(entry) => (entry.0 == *key).then_some(entry),
            None => {
                let child = b.child_at_bit(bit).expect("checked above that b has this bit");
                get_at(child, hash_of(hasher, key), shift + BITS, key)
            }
        };
        if found.is_none_or(|entry| entry.1 != *value) {
            return false;
        }
    }
    Bits(a_nodes).zip(a.children()).all(|(bit, child)| {
        is_subnode(child, b.child_at_bit(bit).expect("checked above that b has this bit"), shift + BITS, hasher)
    })
}

/// What a merge does with a subtree both maps share by pointer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shared {
    /// Keep it as it is (union, intersection).
    Keep,
    /// Leave it out (difference, symmetric difference).
    Drop,
    /// Pass each of its entries through `both` (the `_with` variants, whose function must see every common key).
    Map,
}

/// How a merge counts the length of its result, so that it only ever counts subtrees it had to visit anyway.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Count {
    /// The result is the left map, adjusted: count what is dropped from the left and added from the right.
    FromLeft,
    /// Count what is kept (for operations that drop what is shared).
    Kept,
}

/// The fixed decisions of one binary set operation.
pub(crate) trait MergeKind {
    /// Whether entries only the left map holds are kept.
    const KEEP_LEFT_ONLY: bool;
    /// Whether entries only the right map holds are kept.
    const KEEP_RIGHT_ONLY: bool;
    const SHARED: Shared;
    const COUNT: Count;
}

/// One binary set operation: its fixed decisions, and what becomes of keys both maps hold.
pub(crate) trait Merge<K, V>: MergeKind {
    /// The value for a key both maps hold, or `None` to leave it out.
    fn both(&mut self, key: &K, left: &V, right: &V) -> Option<V>;
}

/// A merged subtree, in the form its parent needs to stay canonical.
pub(crate) enum Built<K, V, P: PointerKind> {
    Empty,
    One((K, V)),
    Many(Node<K, V, P>),
}

/// Merges two subtrees at `shift`; `count` accumulates the result length as `M::COUNT` says.
pub(crate) struct Merger<'h, M, S> {
    pub(crate) merge: M,
    pub(crate) hasher: &'h S,
    pub(crate) count: isize,
}

impl<M: MergeKind, S> Merger<'_, M, S> {
    /// Counts a left-only (or shared) part of `len` entries that the result keeps or drops.
    pub(crate) fn left(&mut self, kept: bool, len: impl FnOnce() -> usize) {
        match (M::COUNT, kept) {
            (Count::FromLeft, false) => self.count -= len() as isize,
            (Count::Kept, true) => self.count += len() as isize,
            _ => {}
        }
    }

    /// Counts a right-only part of `len` entries that the result keeps or drops.
    pub(crate) fn right(&mut self, kept: bool, len: impl FnOnce() -> usize) {
        if kept {
            self.count += len() as isize;
        }
    }
}

impl<M, S> Merger<'_, M, S> {
    /// Merges two subtrees at `shift`.
    pub(crate) fn nodes<K, V, P>(&mut self, a: &Node<K, V, P>, b: &Node<K, V, P>, shift: u32) -> Built<K, V, P>
    where
        P: PointerKind,
        K: Clone + Hash + Eq,
        V: Clone,
        S: BuildHasher,
        M: Merge<K, V>,
    {
        if a.ptr_eq(b) {
            return self.shared(a, shift);
        }
        if shift >= COLLISION_SHIFT {
            return self.collisions(a.entries(), b.entries());
        }
        let bits = a.datamap() | a.nodemap() | b.datamap() | b.nodemap();
        let mut slots: Vec<(u32, Built<K, V, P>)> = Vec::with_capacity(bits.count_ones() as usize);
        for bit in Bits(bits) {
            let built = match (a.slot(bit), b.slot(bit)) {
                (Slot::Entry(left), Slot::Empty) => self.left_only_entry(left),
                (Slot::Child(left), Slot::Empty) => self.left_only_node(left),
                (Slot::Empty, Slot::Entry(right)) => self.right_only_entry(right),
                (Slot::Empty, Slot::Child(right)) => self.right_only_node(right),
                (Slot::Entry(left), Slot::Entry(right)) => self.entries(left, right, shift),
                // The promoted clone is dropped while the result is a local, so that a panicking `Drop` in it
                // drops the result too rather than leak it (a value being returned is not dropped on unwinding).
                (Slot::Entry(left), Slot::Child(right)) => {
                    let promoted = single(left.clone(), hash_of(self.hasher, &left.0), shift + BITS);
                    let built = self.nodes(&promoted, right, shift + BITS);
                    drop(promoted);
                    built
                }
                (Slot::Child(left), Slot::Entry(right)) => {
                    let promoted = single(right.clone(), hash_of(self.hasher, &right.0), shift + BITS);
                    let built = self.nodes(left, &promoted, shift + BITS);
                    drop(promoted);
                    built
                }
                (Slot::Child(left), Slot::Child(right)) => self.nodes(left, right, shift + BITS),
                (Slot::Empty, Slot::Empty) => Built::Empty,
            };
            push_slot(&mut slots, bit, built);
        }
        finish(slots, shift)
    }

    fn left_only_entry<K: Clone, V: Clone, P: PointerKind>(&mut self, entry: &(K, V)) -> Built<K, V, P>
    where
        M: Merge<K, V>,
        S: BuildHasher,
    {
        self.left(M::KEEP_LEFT_ONLY, || 1);
        if M::KEEP_LEFT_ONLY { Built::One(entry.clone()) } else { Built::Empty }
    }

    fn left_only_node<K, V, P: PointerKind>(&mut self, node: &Node<K, V, P>) -> Built<K, V, P>
    where
        M: Merge<K, V>,
        S: BuildHasher,
    {
        self.left(M::KEEP_LEFT_ONLY, || subtree_len(node));
        if M::KEEP_LEFT_ONLY { Built::Many(node.clone()) } else { Built::Empty }
    }

    fn right_only_entry<K: Clone, V: Clone, P: PointerKind>(&mut self, entry: &(K, V)) -> Built<K, V, P>
    where
        M: Merge<K, V>,
        S: BuildHasher,
    {
        self.right(M::KEEP_RIGHT_ONLY, || 1);
        if M::KEEP_RIGHT_ONLY { Built::One(entry.clone()) } else { Built::Empty }
    }

    fn right_only_node<K, V, P: PointerKind>(&mut self, node: &Node<K, V, P>) -> Built<K, V, P>
    where
        M: Merge<K, V>,
        S: BuildHasher,
    {
        self.right(M::KEEP_RIGHT_ONLY, || subtree_len(node));
        if M::KEEP_RIGHT_ONLY { Built::Many(node.clone()) } else { Built::Empty }
    }

    /// A key both maps hold.
    fn both<K: Clone, V, P: PointerKind>(&mut self, key: &K, left: &V, right: &V) -> Built<K, V, P>
    where
        M: Merge<K, V>,
        S: BuildHasher,
    {
        match self.merge.both(key, left, right) {
            Some(value) => {
                self.left(true, || 1);
                Built::One((key.clone(), value))
            }
            None => {
                self.left(false, || 1);
                Built::Empty
            }
        }
    }

    /// Two entries at the same bit of two nodes at `shift`.
    fn entries<K, V, P>(&mut self, left: &(K, V), right: &(K, V), shift: u32) -> Built<K, V, P>
    where
        P: PointerKind,
        K: Clone + Hash + Eq,
        V: Clone,
        S: BuildHasher,
        M: Merge<K, V>,
    {
        if left.0 == right.0 {
            return self.both(&left.0, &left.1, &right.1);
        }
        match (self.left_only_entry(left), self.right_only_entry(right)) {
            (Built::One(l), Built::One(r)) => {
                let (left_hash, right_hash) = (hash_of(self.hasher, &l.0), hash_of(self.hasher, &r.0));
                Built::Many(merge_two(l, left_hash, r, right_hash, shift + BITS))
            }
            (one @ Built::One(_), _) | (_, one @ Built::One(_)) => one,
            _ => Built::Empty,
        }
    }

    /// A subtree both maps share by pointer.
    fn shared<K, V, P>(&mut self, node: &Node<K, V, P>, shift: u32) -> Built<K, V, P>
    where
        P: PointerKind,
        K: Clone + Hash + Eq,
        V: Clone,
        S: BuildHasher,
        M: Merge<K, V>,
    {
        match M::SHARED {
            Shared::Keep => {
                self.left(true, || subtree_len(node));
                Built::Many(node.clone())
            }
            Shared::Drop => {
                self.left(false, || subtree_len(node));
                Built::Empty
            }
            Shared::Map => {
                let mut slots = Vec::new();
                // A collision node's entries have no bits: zero for each (its slots are written in order).
                let entry_bits = Bits(node.datamap()).chain(core::iter::repeat(0));
                for (bit, (key, value)) in entry_bits.zip(node.entries()) {
                    push_slot(&mut slots, bit, self.both::<K, V, P>(key, value, value));
                }
                for (bit, child) in Bits(node.nodemap()).zip(node.children()) {
                    push_slot(&mut slots, bit, self.shared(child, shift + BITS));
                }
                if node.is_collision() { finish_collision(slots) } else { finish(slots, shift) }
            }
        }
    }

    /// Two collision nodes (all keys of both have one hash).
    fn collisions<K, V, P>(&mut self, a: &[(K, V)], b: &[(K, V)]) -> Built<K, V, P>
    where
        P: PointerKind,
        K: Clone + Eq,
        V: Clone,
        S: BuildHasher,
        M: Merge<K, V>,
    {
        let mut slots = Vec::new();
        for left in a {
            let built: Built<K, V, P> = match b.iter().find(|right| right.0 == left.0) {
                Some(right) => self.both(&left.0, &left.1, &right.1),
                None => self.left_only_entry(left),
            };
            push_slot(&mut slots, 0, built);
        }
        for right in b.iter().filter(|right| !a.iter().any(|left| left.0 == right.0)) {
            push_slot(&mut slots, 0, self.right_only_entry::<K, V, P>(right));
        }
        finish_collision(slots)
    }
}

/// Adds what a slot at `bit` holds to `slots`, unless it holds nothing: [`finish`] and [`finish_collision`] count
/// the slots they are given.
fn push_slot<K, V, P: PointerKind>(slots: &mut Vec<(u32, Built<K, V, P>)>, bit: u32, built: Built<K, V, P>) {
    if !matches!(built, Built::Empty) {
        slots.push((bit, built));
    }
}

/// The canonical form of a bitmap node at `shift` holding `slots` (entries and subtrees, never `Empty`).
fn finish<K, V, P: PointerKind>(mut slots: Vec<(u32, Built<K, V, P>)>, shift: u32) -> Built<K, V, P> {
    // Entries and children each go in bit order; callers that gather them out of order rely on this sort.
    slots.sort_by_key(|(bit, _)| *bit);
    if shift > 0 && slots.len() == 1 && matches!(slots[0].1, Built::One(_)) {
        return slots.pop().map_or(Built::Empty, |(_, one)| one);
    }
    node_from_slots(slots).map_or(Built::Empty, Built::Many)
}

/// The canonical form of a collision node holding `slots` (all entries).
fn finish_collision<K, V, P: PointerKind>(mut slots: Vec<(u32, Built<K, V, P>)>) -> Built<K, V, P> {
    match slots.len() {
        0 => Built::Empty,
        1 => slots.pop().map_or(Built::Empty, |(_, one)| one),
        len => {
            let mut builder = Builder::new(Shape::collision(len));
            for (_, slot) in slots {
                match slot {
                    Built::One(entry) => builder.push_entry(entry),
                    Built::Empty | Built::Many(_) => unreachable!("collision nodes hold only entries"),
                }
            }
            Built::Many(builder.finish())
        }
    }
}
