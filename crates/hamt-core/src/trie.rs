//! The trie algorithms on nodes: lookup, and one update engine that inserts, changes and removes, in place where
//! a node is unshared and by path copy where it is shared. All of it is safe code over the `raw` module.
//!
//! Hash bits are consumed from the most significant end, five per level: level `d` (the root is level 0) uses bits
//! `63 - 5d ..= 59 - 5d`, and level 12 the last four. Keys whose 64-bit hashes are all equal meet at level 13, in a
//! collision node. Consuming the top bits first makes trie order the same as hash order, which the bulk builder
//! and the parallel builder rely on.

use core::borrow::Borrow;
use core::hash::{BuildHasher, Hash};
use core::mem;

use crate::hasher::hash_of;
use crate::kind::PointerKind;
use crate::raw::{Builder, Edit, Node, Shape};

/// Bits of the hash consumed per level.
pub(crate) const BITS: u32 = 5;

/// The shift at which hash bits run out and nodes are collision nodes (level 13).
pub(crate) const COLLISION_SHIFT: u32 = 13 * BITS;

/// The deepest level a node can be at (the collision level), plus one: the longest root-to-leaf path.
pub(crate) const MAX_DEPTH: usize = 14;

/// The bit that `hash` selects in a node at `shift` (`shift = 5 * level`, below `COLLISION_SHIFT`).
#[inline]
pub(crate) fn bit_at(hash: u64, shift: u32) -> u32 {
    1 << ((hash << shift) >> (64 - BITS))
}

/// The position of `bit` among the set bits of `bitmap`.
#[inline]
pub(crate) fn index_of(bitmap: u32, bit: u32) -> usize {
    (bitmap & bit.wrapping_sub(1)).count_ones() as usize
}

/// Finds the entry for `key` below `node` (at `shift`).
#[inline]
pub(crate) fn get<'a, K, V, P, Q>(node: &'a Node<K, V, P>, hash: u64, key: &Q) -> Option<&'a (K, V)>
where
    P: PointerKind,
    K: Borrow<Q>,
    Q: Eq + ?Sized,
{
    get_at(node, hash, 0, key)
}

/// Finds the entry for `key` below `node`, which is at `shift`.
#[inline]
pub(crate) fn get_at<'a, K, V, P, Q>(
    mut node: &'a Node<K, V, P>,
    hash: u64,
    mut shift: u32,
    key: &Q,
) -> Option<&'a (K, V)>
where
    P: PointerKind,
    K: Borrow<Q>,
    Q: Eq + ?Sized,
{
    loop {
        if shift >= COLLISION_SHIFT {
            return node.entries().iter().find(|entry| entry.0.borrow() == key);
        }
        let bit = bit_at(hash, shift);
        if let Some(entry) = node.entry_at_bit(bit) {
            return if entry.0.borrow() == key { Some(entry) } else { None };
        }
        node = node.child_at_bit(bit)?;
        shift += BITS;
    }
}

/// A node holding one entry, at the bit `hash` selects at `shift`. At the collision level this is a collision node
/// of one entry: never part of a finished trie, but a valid operand for merging, and what a parent pulls up.
pub(crate) fn single<K, V, P: PointerKind>(entry: (K, V), hash: u64, shift: u32) -> Node<K, V, P> {
    let shape = if shift >= COLLISION_SHIFT { Shape::collision(1) } else { Shape::bitmap(bit_at(hash, shift), 0) };
    let mut builder = Builder::new(shape);
    builder.push_entry(entry);
    builder.finish()
}

/// The smallest subtree at `shift` that holds two entries with different keys.
pub(crate) fn merge_two<K, V, P: PointerKind>(
    first: (K, V),
    first_hash: u64,
    second: (K, V),
    second_hash: u64,
    shift: u32,
) -> Node<K, V, P> {
    if shift >= COLLISION_SHIFT {
        let mut builder = Builder::new(Shape::collision(2));
        builder.push_entry(first);
        builder.push_entry(second);
        return builder.finish();
    }
    let first_bit = bit_at(first_hash, shift);
    let second_bit = bit_at(second_hash, shift);
    if first_bit == second_bit {
        let mut builder = Builder::new(Shape::bitmap(0, first_bit));
        builder.push_child(merge_two(first, first_hash, second, second_hash, shift + BITS));
        return builder.finish();
    }
    let mut builder = Builder::new(Shape::bitmap(first_bit | second_bit, 0));
    let (low, high) = if first_bit < second_bit { (first, second) } else { (second, first) };
    builder.push_entry(low);
    builder.push_entry(high);
    builder.finish()
}

/// What an update does to an entry that exists.
pub(crate) enum Action<V> {
    Replace(V),
    Remove,
}

/// One update of one key: the engine walks to the key's place and asks the operation what to do there.
pub(crate) trait Update<K, V>: Sized {
    /// The type the key is looked up by (`K` itself, or a borrowed form).
    type Key: Eq + ?Sized;

    fn key(&self) -> &Self::Key;

    /// Decides what happens to the existing entry for the key.
    fn existing(self, value: &V) -> Action<V>;

    /// Decides what is inserted where the key is absent.
    fn vacant(self) -> Option<(K, V)>;
}

/// Inserts or replaces.
pub(crate) struct Insert<K, V> {
    pub(crate) key: K,
    pub(crate) value: V,
}

impl<K: Eq, V> Update<K, V> for Insert<K, V> {
    type Key = K;

    #[inline]
    fn key(&self) -> &K {
        &self.key
    }

    #[inline]
    fn existing(self, _: &V) -> Action<V> {
        Action::Replace(self.value)
    }

    #[inline]
    fn vacant(self) -> Option<(K, V)> {
        Some((self.key, self.value))
    }
}

/// Removes.
pub(crate) struct Remove<'q, Q: ?Sized>(pub(crate) &'q Q);

impl<K, V, Q: Eq + ?Sized> Update<K, V> for Remove<'_, Q> {
    type Key = Q;

    #[inline]
    fn key(&self) -> &Q {
        self.0
    }

    #[inline]
    fn existing(self, _: &V) -> Action<V> {
        Action::Remove
    }

    #[inline]
    fn vacant(self) -> Option<(K, V)> {
        None
    }
}

/// Inserts, changes or removes, as a function of the current value decides.
pub(crate) struct UpdateWith<K, F> {
    pub(crate) key: K,
    pub(crate) decide: F,
}

impl<K: Eq, V, F: FnOnce(Option<&V>) -> Option<V>> Update<K, V> for UpdateWith<K, F> {
    type Key = K;

    #[inline]
    fn key(&self) -> &K {
        &self.key
    }

    #[inline]
    fn existing(self, value: &V) -> Action<V> {
        match (self.decide)(Some(value)) {
            Some(new) => Action::Replace(new),
            None => Action::Remove,
        }
    }

    #[inline]
    fn vacant(self) -> Option<(K, V)> {
        let key = self.key;
        (self.decide)(None).map(|value| (key, value))
    }
}

/// What an update changed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Change<V> {
    Nothing,
    Inserted,
    Replaced(V),
    Removed(V),
}

impl<V> Change<V> {
    /// The change in the number of entries.
    pub(crate) fn len_delta(&self) -> isize {
        match self {
            Change::Inserted => 1,
            Change::Removed(_) => -1,
            Change::Nothing | Change::Replaced(_) => 0,
        }
    }

    /// The old value, if the update replaced or removed one.
    pub(crate) fn into_old(self) -> Option<V> {
        match self {
            Change::Replaced(old) | Change::Removed(old) => Some(old),
            Change::Nothing | Change::Inserted => None,
        }
    }
}

impl<V: Clone> Change<&V> {
    fn cloned(self) -> Change<V> {
        match self {
            Change::Nothing => Change::Nothing,
            Change::Inserted => Change::Inserted,
            Change::Replaced(old) => Change::Replaced(old.clone()),
            Change::Removed(old) => Change::Removed(old.clone()),
        }
    }
}

/// How many entries the subtree an in-place update worked on holds afterwards, where that calls for the parent
/// to act: the trie stays canonical by pulling a single entry up into the parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Left {
    /// Enough that the subtree stays where it is.
    Many,
    /// Exactly one entry (never reported for the root): the parent must pull it up.
    One,
    /// Nothing (only for the root): the map is now empty.
    Nothing,
}

/// The result of a persistent update of a subtree.
pub(crate) enum Persistent<'a, K, V, P: PointerKind> {
    /// Nothing changed: the caller keeps the old subtree.
    Unchanged,
    /// The new subtree.
    Node(Node<K, V, P>, Change<&'a V>),
    /// The subtree is down to one entry (a clone of the survivor), which the parent takes in; never for the root.
    Single((K, V), &'a V),
    /// The root's last entry was removed.
    Empty(&'a V),
}

/// Updates the subtree in `slot` (at `shift`), in place where its nodes are unshared.
pub(crate) fn update_mut<K, V, P, S, U>(
    slot: &mut Node<K, V, P>,
    hash: u64,
    shift: u32,
    op: U,
    hasher: &S,
) -> (Change<V>, Left)
where
    P: PointerKind,
    K: Clone + Hash + Eq + Borrow<U::Key>,
    V: Clone,
    S: BuildHasher,
    U: Update<K, V>,
{
    if !slot.is_unique() {
        // Everything below a shared node is shared too: switch to path copying, which also looks before it
        // copies (nothing is copied when the update changes nothing).
        return match update_persistent(slot, hash, shift, op, hasher) {
            Persistent::Unchanged => (Change::Nothing, Left::Many),
            Persistent::Node(node, change) => {
                let change = change.cloned();
                *slot = node;
                (change, Left::Many)
            }
            Persistent::Single(entry, old) => {
                let old = old.clone();
                *slot = single(entry, hash, shift);
                (Change::Removed(old), Left::One)
            }
            Persistent::Empty(old) => (Change::Removed(old.clone()), Left::Nothing),
        };
    }
    if shift >= COLLISION_SHIFT {
        return collision_update_mut(slot, op);
    }
    let bit = bit_at(hash, shift);
    let (datamap, nodemap) = (slot.datamap(), slot.nodemap());
    if datamap & bit != 0 {
        let index = index_of(datamap, bit);
        let entry = &slot.entries()[index];
        if entry.0.borrow() != op.key() {
            let Some(new_entry) = op.vacant() else { return (Change::Nothing, Left::Many) };
            let existing_hash = hash_of(hasher, &entry.0);
            let node = slot.unique_mut().expect("checked unique above");
            node.push_down(bit, |existing| merge_two(existing, existing_hash, new_entry, hash, shift + BITS));
            return (Change::Inserted, Left::Many);
        }
        return match op.existing(&entry.1) {
            Action::Replace(value) => {
                let (entries, _) = slot.unique_mut().expect("checked unique above").into_parts();
                (Change::Replaced(mem::replace(&mut entries[index].1, value)), Left::Many)
            }
            Action::Remove => {
                if nodemap == 0 && datamap == bit {
                    // Only the root can hold a single entry: removing it empties the map, which the caller does.
                    return (Change::Removed(entry.1.clone()), Left::Nothing);
                }
                let node = slot.unique_mut().expect("checked unique above");
                let (removed, _) = node.edit(Shape::bitmap(datamap ^ bit, nodemap), Edit::Remove(index), Edit::Keep);
                let removed = removed.expect("an entry was removed");
                let left =
                    if shift > 0 && nodemap == 0 && (datamap ^ bit).count_ones() == 1 { Left::One } else { Left::Many };
                (Change::Removed(removed.1), left)
            }
        };
    }
    if nodemap & bit != 0 {
        let child = slot.unique_mut().expect("checked unique above").into_child_at_bit(bit).expect("nodemap has bit");
        let (change, left) = update_mut(child, hash, shift + BITS, op, hasher);
        if left != Left::One {
            return (change, Left::Many);
        }
        slot.unique_mut().expect("checked unique above").pull_up(bit);
        let left = if shift > 0 && datamap == 0 && nodemap == bit { Left::One } else { Left::Many };
        return (change, left);
    }
    let Some(new_entry) = op.vacant() else { return (Change::Nothing, Left::Many) };
    let node = slot.unique_mut().expect("checked unique above");
    let index = index_of(datamap | bit, bit);
    node.edit(Shape::bitmap(datamap | bit, nodemap), Edit::Insert(index, new_entry), Edit::Keep);
    (Change::Inserted, Left::Many)
}

/// `update_mut` for an unshared collision node.
fn collision_update_mut<K, V, P, U>(slot: &mut Node<K, V, P>, op: U) -> (Change<V>, Left)
where
    P: PointerKind,
    K: Borrow<U::Key>,
    U: Update<K, V>,
{
    let len = slot.entries().len();
    let Some(index) = slot.entries().iter().position(|entry| entry.0.borrow() == op.key()) else {
        let Some(new_entry) = op.vacant() else { return (Change::Nothing, Left::Many) };
        let node = slot.unique_mut().expect("caller checked uniqueness");
        node.edit(Shape::collision(len + 1), Edit::Insert(len, new_entry), Edit::Keep);
        return (Change::Inserted, Left::Many);
    };
    match op.existing(&slot.entries()[index].1) {
        Action::Replace(value) => {
            let (entries, _) = slot.unique_mut().expect("caller checked uniqueness").into_parts();
            (Change::Replaced(mem::replace(&mut entries[index].1, value)), Left::Many)
        }
        Action::Remove => {
            let node = slot.unique_mut().expect("caller checked uniqueness");
            let (removed, _) = node.edit(Shape::collision(len - 1), Edit::Remove(index), Edit::Keep);
            let left = if len == 2 { Left::One } else { Left::Many };
            (Change::Removed(removed.expect("an entry was removed").1), left)
        }
    }
}

/// Updates the subtree `node` (at `shift`) by path copying: the result shares every untouched node with `node`.
pub(crate) fn update_persistent<'a, K, V, P, S, U>(
    node: &'a Node<K, V, P>,
    hash: u64,
    shift: u32,
    op: U,
    hasher: &S,
) -> Persistent<'a, K, V, P>
where
    P: PointerKind,
    K: Clone + Hash + Eq + Borrow<U::Key>,
    V: Clone,
    S: BuildHasher,
    U: Update<K, V>,
{
    if shift >= COLLISION_SHIFT {
        return collision_update_persistent(node, op);
    }
    let bit = bit_at(hash, shift);
    let (datamap, nodemap) = (node.datamap(), node.nodemap());
    let same_shape = Shape::bitmap(datamap, nodemap);
    if datamap & bit != 0 {
        let index = index_of(datamap, bit);
        let entry = &node.entries()[index];
        if entry.0.borrow() != op.key() {
            let Some(new_entry) = op.vacant() else { return Persistent::Unchanged };
            let existing_hash = hash_of(hasher, &entry.0);
            let child = merge_two(entry.clone(), existing_hash, new_entry, hash, shift + BITS);
            let shape = Shape::bitmap(datamap ^ bit, nodemap | bit);
            let copy = node.copy_edited(shape, Edit::Remove(index), Edit::Insert(index_of(nodemap, bit), child));
            return Persistent::Node(copy, Change::Inserted);
        }
        return match op.existing(&entry.1) {
            Action::Replace(value) => {
                let copy = node.copy_edited(same_shape, Edit::Replace(index, (entry.0.clone(), value)), Edit::Keep);
                Persistent::Node(copy, Change::Replaced(&entry.1))
            }
            Action::Remove => {
                if nodemap == 0 && datamap == bit {
                    Persistent::Empty(&entry.1)
                } else if shift > 0 && nodemap == 0 && (datamap ^ bit).count_ones() == 1 {
                    Persistent::Single(node.entries()[1 - index].clone(), &entry.1)
                } else {
                    let copy = node.copy_edited(Shape::bitmap(datamap ^ bit, nodemap), Edit::Remove(index), Edit::Keep);
                    Persistent::Node(copy, Change::Removed(&entry.1))
                }
            }
        };
    }
    if nodemap & bit != 0 {
        let child_index = index_of(nodemap, bit);
        let child = &node.children()[child_index];
        return match update_persistent(child, hash, shift + BITS, op, hasher) {
            Persistent::Unchanged => Persistent::Unchanged,
            Persistent::Node(new_child, change) => Persistent::Node(
                node.copy_edited(same_shape, Edit::Keep, Edit::Replace(child_index, new_child)),
                change,
            ),
            Persistent::Single(entry, old) => {
                if shift > 0 && datamap == 0 && nodemap == bit {
                    return Persistent::Single(entry, old);
                }
                let shape = Shape::bitmap(datamap | bit, nodemap ^ bit);
                let entry_edit = Edit::Insert(index_of(datamap | bit, bit), entry);
                Persistent::Node(node.copy_edited(shape, entry_edit, Edit::Remove(child_index)), Change::Removed(old))
            }
            // A child subtree holds at least two entries, so one removal cannot empty it.
            Persistent::Empty(_) => unreachable!("hamt: a child subtree held a single entry"),
        };
    }
    let Some(new_entry) = op.vacant() else { return Persistent::Unchanged };
    let shape = Shape::bitmap(datamap | bit, nodemap);
    Persistent::Node(
        node.copy_edited(shape, Edit::Insert(index_of(datamap | bit, bit), new_entry), Edit::Keep),
        Change::Inserted,
    )
}

/// `update_persistent` for a collision node.
fn collision_update_persistent<'a, K, V, P, U>(node: &'a Node<K, V, P>, op: U) -> Persistent<'a, K, V, P>
where
    P: PointerKind,
    K: Clone + Borrow<U::Key>,
    V: Clone,
    U: Update<K, V>,
{
    let entries = node.entries();
    let len = entries.len();
    let Some(index) = entries.iter().position(|entry| entry.0.borrow() == op.key()) else {
        let Some(new_entry) = op.vacant() else { return Persistent::Unchanged };
        let copy = node.copy_edited(Shape::collision(len + 1), Edit::Insert(len, new_entry), Edit::Keep);
        return Persistent::Node(copy, Change::Inserted);
    };
    let entry = &entries[index];
    match op.existing(&entry.1) {
        Action::Replace(value) => {
            let copy =
                node.copy_edited(Shape::collision(len), Edit::Replace(index, (entry.0.clone(), value)), Edit::Keep);
            Persistent::Node(copy, Change::Replaced(&entry.1))
        }
        Action::Remove if len == 2 => Persistent::Single(entries[1 - index].clone(), &entry.1),
        Action::Remove => {
            let copy = node.copy_edited(Shape::collision(len - 1), Edit::Remove(index), Edit::Keep);
            Persistent::Node(copy, Change::Removed(&entry.1))
        }
    }
}

/// A mutable reference to the value for `key` below `slot`, copying shared nodes on the way down only once it is
/// known that the key is there.
pub(crate) fn get_mut<'a, K, V, P, Q>(mut slot: &'a mut Node<K, V, P>, hash: u64, key: &Q) -> Option<&'a mut V>
where
    P: PointerKind,
    K: Clone + Borrow<Q>,
    V: Clone,
    Q: Eq + ?Sized,
{
    let mut shift = 0;
    loop {
        if !slot.is_unique() {
            // Look before copying: a shared subtree without the key must not be copied.
            get_at(slot, hash, shift, key)?;
            *slot = slot.copy_edited(slot.shape(), Edit::Keep, Edit::Keep);
        }
        if shift >= COLLISION_SHIFT {
            let (entries, _) = slot.unique_mut().expect("made unique above").into_parts();
            return entries.iter_mut().find(|entry| entry.0.borrow() == key).map(|entry| &mut entry.1);
        }
        let bit = bit_at(hash, shift);
        if slot.datamap() & bit != 0 {
            let entry = slot.unique_mut().expect("made unique above").into_entry_at_bit(bit)?;
            return if entry.0.borrow() == key { Some(&mut entry.1) } else { None };
        }
        slot = slot.unique_mut().expect("made unique above").into_child_at_bit(bit)?;
        shift += BITS;
    }
}

/// Makes every node below `slot` unshared, copying the shared ones (before mutable iteration).
pub(crate) fn make_all_unique<K: Clone, V: Clone, P: PointerKind>(slot: &mut Node<K, V, P>) {
    if !slot.is_unique() {
        *slot = slot.copy_edited(slot.shape(), Edit::Keep, Edit::Keep);
    }
    let (_, children) = slot.unique_mut().expect("made unique above").into_parts();
    for child in children {
        make_all_unique(child);
    }
}
