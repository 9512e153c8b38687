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
use crate::raw::{BitCounter, Builder, Edit, Node, NodeMut, Shape, Slot, SlotMut, Unallocated, index_of, with_popcnt};

/// Bits of the hash consumed per level.
pub(crate) const BITS: u32 = 5;

/// The shift at which hash bits run out and nodes are collision nodes (level 13).
pub(crate) const COLLISION_SHIFT: u32 = 13 * BITS;

/// The deepest level a node can be at (the collision level), plus one: the longest root-to-leaf path.
pub(crate) const MAX_DEPTH: usize = 14;

/// The slot (`0..32`) that `hash` selects in a node at `shift` (`shift = 5 * level`, below `COLLISION_SHIFT`).
#[inline]
pub(crate) fn digit_at(hash: u64, shift: u32) -> u32 {
    ((hash << shift) >> (64 - BITS)) as u32
}

/// The bit that `hash` selects in a node at `shift` (`shift = 5 * level`, below `COLLISION_SHIFT`).
#[inline]
pub(crate) fn bit_at(hash: u64, shift: u32) -> u32 {
    1 << digit_at(hash, shift)
}

/// Finds the entry for `key` below the root `node`.
///
/// The root's level is taken before the loop (`walk`, which [`get_at`] also runs), so that it reads only the hash's top five bits: where
/// the hash is computed inline (a hasher that rearranges a key's own hash, say), the compiler can find those five
/// bits with a fraction of the hash's instructions, and the processor can start reading the root while the rest of
/// the hash, which only the levels below need, is still being computed.
///
/// `len` is the number of entries in the trie: from [`PREFETCH_FROM`] on, the walk asks for the second cache line
/// of each node it goes down to, and below it for the first (see [`Node::prefetch_line`]).
#[inline(always)]
pub(crate) fn get<'a, K, V, P, Q>(node: &'a Node<K, V, P>, hash: u64, key: &Q, len: usize) -> Option<&'a (K, V)>
where
    P: PointerKind,
    K: Borrow<Q>,
    Q: Eq + ?Sized,
{
    let counter = BitCounter::new();
    // One walk for every size, with the line to ask for as a number rather than a test at every level.
    let line = usize::from(len >= PREFETCH_FROM);
    match step(node, digit_at(hash, 0), key, counter, true, line) {
        Step::Down(child) => walk(child, hash, BITS, key, counter, line),
        Step::Done(found) => found,
    }
}

/// The shift of the first level at which a lookup no longer tests for full nodes (level 4).
///
/// A node is full when each of its 32 slots holds at least two keys. With random hashes, a node at level `d` is
/// then likely full once the map holds some `6 * 32^(d + 1)` keys (six per slot leave one slot in 50 with fewer
/// than two): levels 0 to 3 fill at about 200, 6 thousand, 200 thousand and 6 million keys, and level 4 only at
/// 200 million. Below level 3, the nodes a lookup meets are mostly chains of nodes that hold a single child, which
/// keys whose hashes share a long prefix make (colliding keys end in them), and there the test only costs.
const FULL_NODES_BELOW: u32 = 4 * BITS;

/// The number of entries from which a lookup asks for the second cache line of each node it goes down to: about
/// where a trie outgrows a core's 1 MiB second-level cache (some 30 bytes of nodes per entry, and the keys and
/// values they point to). In a smaller trie the nodes are mostly cached already, and the request for a line the
/// lookup does not need evicts one that a later lookup does: measured at 1,000 `String` keys, lookups were 25%
/// slower with it; at 100,000 and more, faster (docs/architecture.md).
pub(crate) const PREFETCH_FROM: usize = 1 << 15;

/// Finds the entry for `key` below `node`, which is at `shift`.
#[inline]
pub(crate) fn get_at<'a, K, V, P, Q>(node: &'a Node<K, V, P>, hash: u64, shift: u32, key: &Q) -> Option<&'a (K, V)>
where
    P: PointerKind,
    K: Borrow<Q>,
    Q: Eq + ?Sized,
{
    walk(node, hash, shift, key, BitCounter::new(), 0)
}

/// The lookup's loop: [`get_at`], with bits counted by `counter`, asking for cache line `line` of each node it goes
/// down to (see [`get`]).
///
/// Bits are counted with a [`BitCounter`] chosen once per lookup (POPCNT where the processor has it): a lookup is
/// too short to pay for a call into a copy compiled with POPCNT, as the in-place updates do.
#[inline]
fn walk<'a, K, V, P, Q>(
    mut node: &'a Node<K, V, P>,
    hash: u64,
    mut shift: u32,
    key: &Q,
    counter: BitCounter,
    line: usize,
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
        match step(node, digit_at(hash, shift), key, counter, shift < FULL_NODES_BELOW, line) {
            Step::Down(child) => node = child,
            Step::Done(found) => return found,
        }
        shift += BITS;
    }
}

/// Where one level of a lookup leads.
enum Step<'a, K, V, P: PointerKind> {
    /// To this child, one level down.
    Down(&'a Node<K, V, P>),
    /// To this answer: the entry for the key, or none.
    Done(Option<&'a (K, V)>),
}

/// One level of a lookup: the slot `digit` of the bitmap node `node`. A full node's child is read without
/// counting bits (see [`Node::full_child`]) if `full` asks to test for one, and cache line `line` of the child the
/// walk goes down to is asked for at once (see [`Node::prefetch_line`]).
#[inline(always)]
fn step<'a, K, V, P, Q>(
    node: &'a Node<K, V, P>,
    digit: u32,
    key: &Q,
    counter: BitCounter,
    full: bool,
    line: usize,
) -> Step<'a, K, V, P>
where
    P: PointerKind,
    K: Borrow<Q>,
    Q: Eq + ?Sized,
{
    let full_child = if full { node.full_child(digit) } else { None };
    let child = match full_child {
        Some(child) => child,
        None => match node.slot_at_bit(1 << digit, counter) {
            Slot::Entry(entry) => return Step::Done((entry.0.borrow() == key).then_some(entry)),
            Slot::Child(child) => child,
            Slot::Empty => return Step::Done(None),
        },
    };
    child.prefetch_line(line);
    Step::Down(child)
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
    if let Some((first_bit, second_bit)) = parting_bits(first_hash, second_hash, shift) {
        // The common case, one node of two entries: no recursion, and no entries to give back on failure.
        let builder = Builder::new(Shape::bitmap(first_bit | second_bit, 0));
        return fill_pair(builder, (first, first_bit), (second, second_bit));
    }
    try_merge_two(first, first_hash, second, second_hash, shift).unwrap_or_else(|failed| {
        let layout = failed.layout;
        drop((failed.first, failed.second));
        alloc::alloc::handle_alloc_error(layout)
    })
}

/// The bits two hashes select at `shift`, when they differ there (and `shift` is above the collision level): the
/// two entries then fit one bitmap node of two entries.
#[inline]
fn parting_bits(first_hash: u64, second_hash: u64, shift: u32) -> Option<(u32, u32)> {
    if shift >= COLLISION_SHIFT {
        return None;
    }
    let (first_bit, second_bit) = (bit_at(first_hash, shift), bit_at(second_hash, shift));
    (first_bit != second_bit).then_some((first_bit, second_bit))
}

/// Fills `builder`, allocated for a bitmap node of exactly two entries at the (different) bits given, with the
/// two entries in bit order.
#[inline]
fn fill_pair<K, V, P: PointerKind>(
    mut builder: Builder<K, V, P>,
    first: ((K, V), u32),
    second: ((K, V), u32),
) -> Node<K, V, P> {
    let (low, high) = if first.1 < second.1 { (first.0, second.0) } else { (second.0, first.0) };
    builder.push_entry(low);
    builder.push_entry(high);
    builder.finish()
}

/// Turns the entry at `bit` of `node` into a subtree (at `shift`, one level down) holding it and `entry`, whose
/// key differs.
///
/// In the common case the two entries part at `shift`, and the subtree is one node of two entries: it is
/// allocated here, before `push_down` moves anything (a failure leaves the node as it was and drops `entry`),
/// and filling it cannot fail. Otherwise [`try_merge_two`] builds the deeper subtree inside `push_down`, which
/// puts the entry back if an allocation fails.
#[inline(always)]
fn push_down_beside<K, V, P: PointerKind>(
    node: NodeMut<'_, K, V, P>,
    bit: u32,
    existing_hash: u64,
    entry: (K, V),
    hash: u64,
    shift: u32,
) {
    let (existing_bit, new_bit) =
        if shift < COLLISION_SHIFT { (bit_at(existing_hash, shift), bit_at(hash, shift)) } else { (0, 0) };
    if existing_bit != new_bit {
        let pair = Builder::new(Shape::bitmap(existing_bit | new_bit, 0));
        node.push_down(bit, move |existing| Ok(fill_pair(pair, (existing, existing_bit), (entry, new_bit))));
        return;
    }
    node.push_down(bit, |existing| try_merge_two(existing, existing_hash, entry, hash, shift));
}

/// [`merge_two`], giving both entries back if an allocation fails. Each node is allocated before the nodes below
/// it and before any entry moves in, so a failure at any depth frees what was allocated and loses nothing.
pub(crate) fn try_merge_two<K, V, P: PointerKind>(
    first: (K, V),
    first_hash: u64,
    second: (K, V),
    second_hash: u64,
    shift: u32,
) -> Result<Node<K, V, P>, Unallocated<K, V>> {
    let (first_bit, second_bit) =
        if shift >= COLLISION_SHIFT { (0, 0) } else { (bit_at(first_hash, shift), bit_at(second_hash, shift)) };
    let shape = if shift >= COLLISION_SHIFT {
        Shape::collision(2)
    } else if first_bit == second_bit {
        Shape::bitmap(0, first_bit)
    } else {
        Shape::bitmap(first_bit | second_bit, 0)
    };
    let mut builder = match Builder::try_new(shape) {
        Ok(builder) => builder,
        Err(layout) => return Err(Unallocated { first, second, layout }),
    };
    if shift < COLLISION_SHIFT && first_bit == second_bit {
        builder.push_child(try_merge_two(first, first_hash, second, second_hash, shift + BITS)?);
        return Ok(builder.finish());
    }
    let (low, high) = if first_bit <= second_bit { (first, second) } else { (second, first) };
    builder.push_entry(low);
    builder.push_entry(high);
    Ok(builder.finish())
}

/// What an update does to an entry that exists.
pub(crate) enum Action<V> {
    Replace(V),
    Remove,
}

/// One update of one key: the engine walks to the key's place and asks the operation what to do there.
///
/// An operation never drops a key or value itself: the update's own key, when the map keeps its stored one, comes
/// back as `existing`'s second result, and the engine drops it before it changes anything, while the decided value
/// is still one of its locals (a value being returned is not dropped when a local's `Drop` panics).
pub(crate) trait Update<K, V>: Sized {
    /// Whether `stored` is the key this update is for: `at` is `None` for the entry at the hash's bit of a bitmap
    /// node, and its index for an entry of a collision node. The engine asks nothing else about keys, so an update
    /// may name its entry by key (comparing with `Eq`) or by its [`Place`] (comparing nothing).
    fn is_key(&self, stored: &K, at: Option<usize>) -> bool;

    /// Decides what happens to the existing entry for the key, and gives back the update's own key if it has one
    /// (the map keeps its stored key).
    fn existing(self, value: &V) -> (Action<V>, Option<K>);

    /// Decides what is inserted where the key is absent.
    fn vacant(self) -> Option<(K, V)>;

    /// Whether a removal should return the stored key (cloned when the node holding it is shared).
    fn wants_removed_key(&self) -> bool {
        false
    }

    /// Whether `existing` can decide to remove (an insert never does, and skips the checks removals need).
    const MAY_REMOVE: bool = true;
}

/// An update that names its entry by a key (every update but a removal [`AtPlace`]): the map hashes this key to
/// find where the update goes.
pub(crate) trait Keyed {
    /// The type the key is looked up by (`K` itself, or a borrowed form).
    type Key: ?Sized;

    fn key(&self) -> &Self::Key;
}

/// Inserts or replaces.
pub(crate) struct Insert<K, V> {
    pub(crate) key: K,
    pub(crate) value: V,
}

impl<K, V> Keyed for Insert<K, V> {
    type Key = K;

    #[inline]
    fn key(&self) -> &K {
        &self.key
    }
}

impl<K: Eq, V> Update<K, V> for Insert<K, V> {
    const MAY_REMOVE: bool = false;

    #[inline]
    fn is_key(&self, stored: &K, _: Option<usize>) -> bool {
        *stored == self.key
    }

    #[inline]
    fn existing(self, _: &V) -> (Action<V>, Option<K>) {
        (Action::Replace(self.value), Some(self.key))
    }

    #[inline]
    fn vacant(self) -> Option<(K, V)> {
        Some((self.key, self.value))
    }
}

/// Removes the entry that `target` names; `wants_key` asks for the stored key too (`remove_entry_mut`, and the
/// entry API's removal).
pub(crate) struct Remove<T> {
    pub(crate) target: T,
    pub(crate) wants_key: bool,
}

/// How a removal names its entry: by a key, or by a place.
pub(crate) trait Target<K> {
    /// [`Update::is_key`] for the removal.
    fn is_key(&self, stored: &K, at: Option<usize>) -> bool;
}

/// A removal's key, compared with `Eq`.
pub(crate) struct ByKey<'q, Q: ?Sized>(pub(crate) &'q Q);

impl<K: Borrow<Q>, Q: Eq + ?Sized> Target<K> for ByKey<'_, Q> {
    #[inline]
    fn is_key(&self, stored: &K, _: Option<usize>) -> bool {
        stored.borrow() == self.0
    }
}

/// The [`Place`] of the entry to remove, which the caller found for the same hash in the same unchanged map:
/// no key is compared, so what an [`OccupiedEntry`](crate::OccupiedEntry) removes is the entry it points at, even
/// when the key's `Eq` is inconsistent.
pub(crate) struct AtPlace(pub(crate) Place);

impl<K> Target<K> for AtPlace {
    #[inline]
    fn is_key(&self, _: &K, at: Option<usize>) -> bool {
        at.is_none_or(|index| index == self.0.collision_index)
    }
}

impl<Q: ?Sized> Keyed for Remove<ByKey<'_, Q>> {
    type Key = Q;

    #[inline]
    fn key(&self) -> &Q {
        self.target.0
    }
}

impl<K, V, T: Target<K>> Update<K, V> for Remove<T> {
    #[inline]
    fn is_key(&self, stored: &K, at: Option<usize>) -> bool {
        self.target.is_key(stored, at)
    }

    #[inline]
    fn existing(self, _: &V) -> (Action<V>, Option<K>) {
        (Action::Remove, None)
    }

    #[inline]
    fn vacant(self) -> Option<(K, V)> {
        None
    }

    #[inline]
    fn wants_removed_key(&self) -> bool {
        self.wants_key
    }
}

/// Inserts, changes or removes, as a function of the current value decides.
pub(crate) struct UpdateWith<K, F> {
    pub(crate) key: K,
    pub(crate) decide: F,
}

impl<K: Eq, F> Keyed for UpdateWith<K, F> {
    type Key = K;

    #[inline]
    fn key(&self) -> &K {
        &self.key
    }
}

impl<K: Eq, V, F: FnOnce(Option<&V>) -> Option<V>> Update<K, V> for UpdateWith<K, F> {
    #[inline]
    fn is_key(&self, stored: &K, _: Option<usize>) -> bool {
        *stored == self.key
    }

    #[inline]
    fn existing(self, value: &V) -> (Action<V>, Option<K>) {
        let UpdateWith { key, decide } = self;
        match decide(Some(value)) {
            Some(new) => (Action::Replace(new), Some(key)),
            None => (Action::Remove, Some(key)),
        }
    }

    #[inline]
    fn vacant(self) -> Option<(K, V)> {
        let UpdateWith { key, decide } = self;
        match decide(None) {
            Some(value) => Some((key, value)),
            None => {
                // Nothing changed yet, so a panicking `Drop` here leaves the map as it was.
                drop(key);
                None
            }
        }
    }
}

/// What an in-place update changed, carrying out of the trie everything it took out of it, so that the caller
/// puts the map in order (its length, an emptied root) before anything is dropped. (The update's own key, when the
/// map keeps its stored one, is dropped before the trie changes: a panic there leaves the map as it was.)
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Change<K, V> {
    Nothing,
    Inserted,
    /// The value replaced (the map kept the stored key).
    Replaced {
        old: V,
    },
    /// The value removed, and its key: moved out, or cloned from a shared node when the update asked for it.
    Removed {
        key: Option<K>,
        value: V,
    },
    /// The key is the root's only entry, which the update removes: the caller takes the root out of the map and
    /// moves the entry out of it.
    RemovesRoot,
}

impl<K, V> Change<K, V> {
    /// The change in the number of entries (for `RemovesRoot`, the caller empties the map instead).
    #[inline]
    pub(crate) fn len_delta(&self) -> isize {
        match self {
            Change::Inserted => 1,
            Change::Removed { .. } | Change::RemovesRoot => -1,
            Change::Nothing | Change::Replaced { .. } => 0,
        }
    }

    /// The old value, if the update replaced or removed one. A removed key is dropped first, while the value is
    /// still a local of this function: should the key's `Drop` panic, the value is dropped too, not leaked.
    #[inline]
    pub(crate) fn into_old(self) -> Option<V> {
        match self {
            Change::Replaced { old } => Some(old),
            Change::Removed { key, value } => {
                drop(key);
                Some(value)
            }
            Change::Nothing | Change::Inserted | Change::RemovesRoot => None,
        }
    }

    /// The removed value with the removed key (if it was asked for).
    pub(crate) fn into_removed(self) -> Option<(Option<K>, V)> {
        match self {
            Change::Removed { key, value } => Some((key, value)),
            Change::Replaced { .. } | Change::Nothing | Change::Inserted | Change::RemovesRoot => None,
        }
    }
}

/// What a persistent update changed, borrowed from the old version.
pub(crate) enum Seen<'a, K, V> {
    Inserted,
    Replaced(&'a V),
    Removed(&'a (K, V)),
}

impl<K, V> Seen<'_, K, V> {
    pub(crate) fn len_delta(&self) -> isize {
        match self {
            Seen::Inserted => 1,
            Seen::Replaced(_) => 0,
            Seen::Removed(_) => -1,
        }
    }
}

impl<K: Clone, V: Clone> Seen<'_, K, V> {
    /// The in-place change this persistent one amounts to, cloning what it took from the shared nodes (the key
    /// only when `with_key`).
    fn cloned(self, with_key: bool) -> Change<K, V> {
        match self {
            Seen::Inserted => Change::Inserted,
            Seen::Replaced(old) => Change::Replaced { old: old.clone() },
            Seen::Removed((key, value)) => {
                let key = with_key.then(|| key.clone());
                Change::Removed { key, value: value.clone() }
            }
        }
    }
}

/// How many entries the subtree an in-place update worked on holds afterwards, where that calls for the parent
/// to act: the trie stays canonical by pulling a single entry up into the parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Left {
    /// Enough that the subtree stays where it is.
    Many,
    /// Exactly one entry, in a node below the root on the key's path (from `update_mut`: in the node the walk
    /// ended in, or in one of its parents): [`pull_up_singles`] must pull it up.
    One,
    /// Nothing (only for the root): the map is now empty.
    Nothing,
}

/// The result of a persistent update of a subtree.
pub(crate) enum Persistent<'a, K, V, P: PointerKind> {
    /// Nothing changed: the caller keeps the old subtree.
    Unchanged,
    /// The new subtree.
    Node(Node<K, V, P>, Seen<'a, K, V>),
    /// The subtree is down to one entry (a clone of the survivor), which the parent takes in; never for the root.
    /// The second is the removed entry.
    Single((K, V), &'a (K, V)),
    /// The root's last entry (this one) was removed.
    Empty(&'a (K, V)),
}

/// Updates the subtree in `slot` (at `shift`), in place where its nodes are unshared.
///
/// Nothing a user wrote runs after the trie's shape starts changing (hashing, comparing and the update's decision
/// come first; drops are left to the caller, see [`Change`]), so a panic leaves the trie as it was.
#[inline]
pub(crate) fn update_mut<K, V, P, S, U>(
    slot: &mut Node<K, V, P>,
    hash: u64,
    shift: u32,
    op: U,
    hasher: &S,
) -> (Change<K, V>, Left)
where
    P: PointerKind,
    K: Clone + Hash + Eq,
    V: Clone,
    S: BuildHasher,
    U: Update<K, V>,
{
    with_popcnt(
        #[inline(always)]
        move || update_mut_walk(slot, hash, shift, op, hasher),
    )
}

/// The body of [`update_mut`], inlined into its two copies (with and without POPCNT).
#[inline(always)]
fn update_mut_walk<K, V, P, S, U>(
    mut slot: &mut Node<K, V, P>,
    hash: u64,
    mut shift: u32,
    op: U,
    hasher: &S,
) -> (Change<K, V>, Left)
where
    P: PointerKind,
    K: Clone + Hash + Eq,
    V: Clone,
    S: BuildHasher,
    U: Update<K, V>,
{
    loop {
        if !slot.is_unique() {
            // Everything below a shared node is shared too: switch to path copying, which also looks before it
            // copies (nothing is copied when the update changes nothing).
            let with_key = op.wants_removed_key();
            return match update_persistent(slot, hash, shift, op, hasher) {
                Persistent::Unchanged => (Change::Nothing, Left::Many),
                Persistent::Node(node, seen) => {
                    let change = seen.cloned(with_key);
                    *slot = node;
                    (change, Left::Many)
                }
                Persistent::Single(entry, removed) => {
                    let change = Seen::Removed(removed).cloned(with_key);
                    *slot = single(entry, hash, shift);
                    (change, Left::One)
                }
                // Only the root can hold a single entry; below it, this is as the recursion that this loop
                // replaced took it: the subtree stays.
                Persistent::Empty(removed) => {
                    (Seen::Removed(removed).cloned(with_key), if shift == 0 { Left::Nothing } else { Left::Many })
                }
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
            if !op.is_key(&entry.0, None) {
                let Some(new_entry) = op.vacant() else { return (Change::Nothing, Left::Many) };
                let existing_hash = hash_of(hasher, &entry.0);
                let node = slot.unique_mut().expect("checked unique above");
                push_down_beside(node, bit, existing_hash, new_entry, hash, shift + BITS);
                return (Change::Inserted, Left::Many);
            }
            let (action, spare_key) = op.existing(&entry.1);
            // The update's own key is not stored; the trie has not changed yet, so its drop may panic harmlessly (and
            // `action` is a local then, dropped with it).
            drop(spare_key);
            return match action {
                Action::Replace(value) => {
                    let (entries, _) = slot.unique_mut().expect("checked unique above").into_parts();
                    (Change::Replaced { old: mem::replace(&mut entries[index].1, value) }, Left::Many)
                }
                Action::Remove => {
                    if nodemap == 0 && datamap == bit {
                        // Only the root can hold a single entry: removing it empties the map, which the caller does.
                        return (Change::RemovesRoot, if shift == 0 { Left::Nothing } else { Left::Many });
                    }
                    let node = slot.unique_mut().expect("checked unique above");
                    let (removed, _) =
                        node.edit(Shape::bitmap(datamap ^ bit, nodemap), Edit::Remove(index), Edit::Keep);
                    let (key, value) = removed.expect("an entry was removed");
                    let left = if shift > 0 && nodemap == 0 && (datamap ^ bit).is_power_of_two() {
                        Left::One
                    } else {
                        Left::Many
                    };
                    (Change::Removed { key: Some(key), value }, left)
                }
            };
        }
        if nodemap & bit != 0 {
            if U::MAY_REMOVE {
                let child = slot.child_at_bit(bit).expect("nodemap has bit");
                if child.chain_end().is_some_and(|end| end.entries().len() == 2) {
                    if let Some((place, index)) = locate(child, hash, shift + BITS, |stored, at| op.is_key(stored, at))
                    {
                        return update_pair(slot, bit, place, index, hash, shift, op, hasher);
                    }
                }
            }
            // Go down a level in this loop rather than recursing. A removal leaves a subtree of one entry only
            // where the subtree held two, which the check above handles from here; should it happen anyway (an
            // `Eq` that answered differently below), the level that sees it reports `Left::One` and the caller
            // restores canonical form with `pull_up_singles`.
            slot = slot.unique_mut().expect("checked unique above").into_child_at_bit(bit).expect("nodemap has bit");
            shift += BITS;
            continue;
        }
        let Some(new_entry) = op.vacant() else { return (Change::Nothing, Left::Many) };
        let node = slot.unique_mut().expect("checked unique above");
        let index = index_of(datamap | bit, bit);
        node.edit(Shape::bitmap(datamap | bit, nodemap), Edit::Insert(index, new_entry), Edit::Keep);
        return (Change::Inserted, Left::Many);
    }
}

/// Restores canonical form after [`update_mut`] reported [`Left::One`]: finds, from the root down the path of
/// `hash`, the subtree that holds a single entry, and pulls that entry up into the node above it (in one step,
/// however long the chain of one-child nodes leading to it).
pub(crate) fn pull_up_singles<K, V, P: PointerKind>(root: &mut Node<K, V, P>, hash: u64) {
    let mut slot = root;
    let mut shift = 0;
    while shift < COLLISION_SHIFT {
        let bit = bit_at(hash, shift);
        let Some(child) = slot.child_at_bit(bit) else { return };
        let single = child.unshared_chain_end().is_some_and(|end| end.entries().len() == 1);
        // A shared node was not changed in place, and neither was anything below it: the update copied the path
        // to whatever it changed. So the single entry is not under it.
        let Some(node) = slot.unique_mut() else { return };
        if single {
            node.pull_up(bit);
            return;
        }
        slot = node.into_child_at_bit(bit).expect("nodemap has bit");
        shift += BITS;
    }
}

/// `update_mut` where the key is entry `index` (at `place`) of the two entries of the subtree at `bit` of the
/// unshared node in `slot` (at `shift`). Should the update remove it, this node takes the other entry in place of the subtree in one
/// step that allocates before it moves anything (`take_pair`, or `replace_child_by_entry` when a node of the
/// subtree is shared): an allocation failure leaves the map as it was, never with a subtree of one entry.
#[expect(clippy::too_many_arguments, reason = "the engine's arguments and the key's place, found by the caller")]
fn update_pair<K, V, P, S, U>(
    slot: &mut Node<K, V, P>,
    bit: u32,
    place: Place,
    index: usize,
    hash: u64,
    shift: u32,
    op: U,
    hasher: &S,
) -> (Change<K, V>, Left)
where
    P: PointerKind,
    K: Clone + Hash + Eq,
    V: Clone,
    S: BuildHasher,
    U: Update<K, V>,
{
    // Taking the surviving entry in leaves this node with one entry when the subtree was all it held. The caller
    // looked for the key from this node's parent first, so that happens only when `Eq` answered differently up
    // there (a caller's logic error, which must still leave the trie canonical): the parent then pulls it up.
    let left_after_removal =
        if shift > 0 && slot.datamap() == 0 && slot.nodemap() == bit { Left::One } else { Left::Many };
    let child = slot.child_at_bit(bit).expect("nodemap has bit");
    if child.unshared_chain_end().is_none() {
        // A node of the subtree is shared: copy the path, and take the surviving entry's clone in.
        let with_key = op.wants_removed_key();
        return match update_persistent(child, hash, shift + BITS, op, hasher) {
            Persistent::Unchanged => (Change::Nothing, Left::Many),
            Persistent::Node(node, seen) => {
                let change = seen.cloned(with_key);
                *slot.unique_mut().expect("caller checked uniqueness").into_child_at_bit(bit).expect("has bit") = node;
                (change, Left::Many)
            }
            Persistent::Single(survivor, removed) => {
                let change = Seen::Removed(removed).cloned(with_key);
                let old_child =
                    slot.unique_mut().expect("caller checked uniqueness").replace_child_by_entry(bit, survivor);
                // Some node of the old subtree is shared, so dropping it drops no entry.
                drop(old_child);
                (change, left_after_removal)
            }
            Persistent::Empty(_) => unreachable!("hamt: a child subtree held a single entry"),
        };
    }
    let end = child.chain_end().expect("checked above");
    let (action, spare_key) = op.existing(&end.entries()[index].1);
    drop(spare_key);
    match action {
        Action::Replace(value) => {
            let child = slot.unique_mut().expect("caller checked uniqueness").into_child_at_bit(bit).expect("has bit");
            let entry = get_mut_at_place(child, hash, shift + BITS, place);
            (Change::Replaced { old: mem::replace(&mut entry.1, value) }, Left::Many)
        }
        Action::Remove => {
            let (key, value) = slot.unique_mut().expect("caller checked uniqueness").take_pair(bit, index);
            (Change::Removed { key: Some(key), value }, left_after_removal)
        }
    }
}

/// `update_mut` for an unshared collision node.
fn collision_update_mut<K, V, P, U>(slot: &mut Node<K, V, P>, op: U) -> (Change<K, V>, Left)
where
    P: PointerKind,
    U: Update<K, V>,
{
    let len = slot.entries().len();
    let Some(index) = slot.entries().iter().enumerate().position(|(index, entry)| op.is_key(&entry.0, Some(index)))
    else {
        let Some(new_entry) = op.vacant() else { return (Change::Nothing, Left::Many) };
        let node = slot.unique_mut().expect("caller checked uniqueness");
        node.edit(Shape::collision(len + 1), Edit::Insert(len, new_entry), Edit::Keep);
        return (Change::Inserted, Left::Many);
    };
    let (action, spare_key) = op.existing(&slot.entries()[index].1);
    drop(spare_key);
    match action {
        Action::Replace(value) => {
            let (entries, _) = slot.unique_mut().expect("caller checked uniqueness").into_parts();
            (Change::Replaced { old: mem::replace(&mut entries[index].1, value) }, Left::Many)
        }
        Action::Remove => {
            let node = slot.unique_mut().expect("caller checked uniqueness");
            let (removed, _) = node.edit(Shape::collision(len - 1), Edit::Remove(index), Edit::Keep);
            let (key, value) = removed.expect("an entry was removed");
            let left = if len == 2 { Left::One } else { Left::Many };
            (Change::Removed { key: Some(key), value }, left)
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
    K: Clone + Hash + Eq,
    V: Clone,
    S: BuildHasher,
    U: Update<K, V>,
{
    if shift >= COLLISION_SHIFT {
        return collision_update_persistent(node, op);
    }
    // This walk recurses, so it does not run in a copy compiled with POPCNT: it counts with the lookup's counter.
    let counter = BitCounter::new();
    let bit = bit_at(hash, shift);
    let (datamap, nodemap) = (node.datamap(), node.nodemap());
    let (same_shape, (entries, children)) = node.shaped_contents(counter);
    if datamap & bit != 0 {
        let index = counter.index_of(datamap, bit);
        let entry = &entries[index];
        if !op.is_key(&entry.0, None) {
            let Some(new_entry) = op.vacant() else { return Persistent::Unchanged };
            let existing_hash = hash_of(hasher, &entry.0);
            let child = merge_two(entry.clone(), existing_hash, new_entry, hash, shift + BITS);
            let shape = Shape::counted(datamap ^ bit, nodemap | bit, counter);
            let copy =
                node.copy_edited(shape, Edit::Remove(index), Edit::Insert(counter.index_of(nodemap, bit), child));
            return Persistent::Node(copy, Seen::Inserted);
        }
        // The update's own key is not stored; nothing is built yet, so its drop may panic harmlessly.
        let (action, spare_key) = op.existing(&entry.1);
        drop(spare_key);
        return match action {
            Action::Replace(value) => {
                let copy = node.copy_edited(same_shape, Edit::Replace(index, (entry.0.clone(), value)), Edit::Keep);
                Persistent::Node(copy, Seen::Replaced(&entry.1))
            }
            Action::Remove => {
                if nodemap == 0 && datamap == bit {
                    Persistent::Empty(entry)
                } else if shift > 0 && nodemap == 0 && (datamap ^ bit).is_power_of_two() {
                    Persistent::Single(entries[1 - index].clone(), entry)
                } else {
                    let copy = node.copy_edited(
                        Shape::counted(datamap ^ bit, nodemap, counter),
                        Edit::Remove(index),
                        Edit::Keep,
                    );
                    Persistent::Node(copy, Seen::Removed(entry))
                }
            }
        };
    }
    if nodemap & bit != 0 {
        let child_index = counter.index_of(nodemap, bit);
        let child = &children[child_index];
        return match update_persistent(child, hash, shift + BITS, op, hasher) {
            Persistent::Unchanged => Persistent::Unchanged,
            Persistent::Node(new_child, seen) => {
                Persistent::Node(node.copy_replacing_child(same_shape, child_index, new_child), seen)
            }
            Persistent::Single(entry, removed) => {
                if shift > 0 && datamap == 0 && nodemap == bit {
                    return Persistent::Single(entry, removed);
                }
                let shape = Shape::counted(datamap | bit, nodemap ^ bit, counter);
                let entry_edit = Edit::Insert(counter.index_of(datamap | bit, bit), entry);
                Persistent::Node(node.copy_edited(shape, entry_edit, Edit::Remove(child_index)), Seen::Removed(removed))
            }
            // A child subtree holds at least two entries, so one removal cannot empty it.
            Persistent::Empty(_) => unreachable!("hamt: a child subtree held a single entry"),
        };
    }
    let Some(new_entry) = op.vacant() else { return Persistent::Unchanged };
    let shape = Shape::counted(datamap | bit, nodemap, counter);
    Persistent::Node(
        node.copy_edited(shape, Edit::Insert(counter.index_of(datamap | bit, bit), new_entry), Edit::Keep),
        Seen::Inserted,
    )
}

/// `update_persistent` for a collision node.
fn collision_update_persistent<'a, K, V, P, U>(node: &'a Node<K, V, P>, op: U) -> Persistent<'a, K, V, P>
where
    P: PointerKind,
    K: Clone,
    V: Clone,
    U: Update<K, V>,
{
    let entries = node.entries();
    let len = entries.len();
    let Some(index) = entries.iter().enumerate().position(|(index, entry)| op.is_key(&entry.0, Some(index))) else {
        let Some(new_entry) = op.vacant() else { return Persistent::Unchanged };
        let copy = node.copy_edited(Shape::collision(len + 1), Edit::Insert(len, new_entry), Edit::Keep);
        return Persistent::Node(copy, Seen::Inserted);
    };
    let entry = &entries[index];
    let (action, spare_key) = op.existing(&entry.1);
    drop(spare_key);
    match action {
        Action::Replace(value) => {
            let copy =
                node.copy_edited(Shape::collision(len), Edit::Replace(index, (entry.0.clone(), value)), Edit::Keep);
            Persistent::Node(copy, Seen::Replaced(&entry.1))
        }
        Action::Remove if len == 2 => Persistent::Single(entries[1 - index].clone(), entry),
        Action::Remove => {
            let copy = node.copy_edited(Shape::collision(len - 1), Edit::Remove(index), Edit::Keep);
            Persistent::Node(copy, Seen::Removed(entry))
        }
    }
}

/// Where [`locate`] found a key: the entry at the key's bit, or at this index of the collision node its hash
/// leads to. The place stays valid while the map is not changed, and leads back to the entry with no hashing and
/// no key comparisons (the entry API relies on this).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Place {
    pub(crate) collision_index: usize,
}

/// Finds the entry below `node` (at `shift`) that `is_key` accepts (see [`Update::is_key`]) where `hash` leads: its
/// place, and its index among its node's entries.
pub(crate) fn locate<K, V, P: PointerKind>(
    mut node: &Node<K, V, P>,
    hash: u64,
    mut shift: u32,
    is_key: impl Fn(&K, Option<usize>) -> bool,
) -> Option<(Place, usize)> {
    loop {
        if shift >= COLLISION_SHIFT {
            let collision_index =
                node.entries().iter().enumerate().position(|(index, entry)| is_key(&entry.0, Some(index)))?;
            return Some((Place { collision_index }, collision_index));
        }
        let bit = bit_at(hash, shift);
        if let Some(entry) = node.entry_at_bit(bit) {
            return is_key(&entry.0, None).then(|| (Place { collision_index: 0 }, index_of(node.datamap(), bit)));
        }
        node = node.child_at_bit(bit)?;
        shift += BITS;
    }
}

/// What [`locate_mut`] found.
pub(crate) enum Located<'a, K, V, P: PointerKind> {
    /// The entry, on a path of nodes the map alone holds: it can be changed where it is.
    Unique(&'a mut (K, V), Place),
    /// The entry's place, on a path through a node that other versions share (changing it needs a path copy).
    Shared(Place),
    /// The key is absent, and the node where it would go (at this shift) lies on a path of nodes the map alone
    /// holds: an insertion can start there ([`insert_vacant`]) instead of at the root.
    Vacant(&'a mut Node<K, V, P>, u32),
    /// The key is absent, below a node that other versions share (an insertion copies the path from the root).
    Absent,
}

/// [`locate`] from the root `slot`, walking down mutably while the nodes are unshared, so that an entry found on
/// an unshared path comes back as a mutable reference (the entry API keeps it, and walks no more), and so does the
/// node where an absent key would go. Copies nothing.
pub(crate) fn locate_mut<'a, K, V, P: PointerKind>(
    mut slot: &'a mut Node<K, V, P>,
    hash: u64,
    is_key: impl Fn(&K, Option<usize>) -> bool,
) -> Located<'a, K, V, P> {
    let counter = BitCounter::new();
    let mut shift = 0;
    loop {
        if !slot.is_unique() {
            return match locate(slot, hash, shift, is_key) {
                Some((place, _)) => Located::Shared(place),
                None => Located::Absent,
            };
        }
        if shift >= COLLISION_SHIFT {
            // The key is compared through a shared look first, so that the slot itself can be handed back when
            // it is absent.
            let Some(index) =
                slot.entries().iter().enumerate().position(|(index, entry)| is_key(&entry.0, Some(index)))
            else {
                return Located::Vacant(slot, shift);
            };
            let (entries, _) = slot.unique_mut().expect("checked unique above").into_parts();
            return Located::Unique(&mut entries[index], Place { collision_index: index });
        }
        let bit = bit_at(hash, shift);
        // The key is compared through a shared read first, so that the slot itself can be handed back when the
        // key is absent; the mutable read that follows a match reads the same slot again.
        match slot.slot_at_bit(bit, counter) {
            Slot::Entry(entry) if is_key(&entry.0, None) => {}
            Slot::Entry(_) | Slot::Empty => return Located::Vacant(slot, shift),
            Slot::Child(_) => {}
        }
        match slot.unique_mut().expect("checked unique above").into_slot_at_bit(bit, counter) {
            SlotMut::Entry(entry) => return Located::Unique(entry, Place { collision_index: 0 }),
            SlotMut::Child(child) => slot = child,
            SlotMut::Empty => unreachable!("the shared read found the slot occupied"),
        }
        shift += BITS;
    }
}

/// The entry at `place` for `hash` below the root `node`.
pub(crate) fn get_at_place<K, V, P: PointerKind>(mut node: &Node<K, V, P>, hash: u64, place: Place) -> &(K, V) {
    let mut shift = 0;
    loop {
        if shift >= COLLISION_SHIFT {
            return &node.entries()[place.collision_index];
        }
        let bit = bit_at(hash, shift);
        if let Some(entry) = node.entry_at_bit(bit) {
            return entry;
        }
        node = node.child_at_bit(bit).expect("hamt: a place leads to an entry");
        shift += BITS;
    }
}

/// The entry at `place` for `hash` below `slot` (at `shift`), mutably: copies the shared nodes on the way down.
pub(crate) fn get_mut_at_place<K: Clone, V: Clone, P: PointerKind>(
    mut slot: &mut Node<K, V, P>,
    hash: u64,
    mut shift: u32,
    place: Place,
) -> &mut (K, V) {
    loop {
        if !slot.is_unique() {
            *slot = slot.copy_edited(slot.shape(), Edit::Keep, Edit::Keep);
        }
        if shift >= COLLISION_SHIFT {
            let (entries, _) = slot.unique_mut().expect("made unique above").into_parts();
            return &mut entries[place.collision_index];
        }
        let bit = bit_at(hash, shift);
        if slot.datamap() & bit != 0 {
            return slot.unique_mut().expect("made unique above").into_entry_at_bit(bit).expect("datamap has bit");
        }
        slot = slot
            .unique_mut()
            .expect("made unique above")
            .into_child_at_bit(bit)
            .expect("hamt: a place leads to an entry");
        shift += BITS;
    }
}

/// Inserts `entry`, whose key is known to be absent, where `hash` leads below `slot` (at `shift`), and returns it
/// with its place.
///
/// The key is never hashed or compared (the caller did that once, in [`locate`]), so a key whose `Eq` is not
/// reflexive or whose `Hash` drifts goes in where its first hash led, as in std's `HashMap`. Shared nodes on the
/// way down are copied first; the only user code that runs is the hash of an entry that must move down a level,
/// before any node changes shape.
pub(crate) fn insert_vacant<'a, K, V, P, S>(
    slot: &'a mut Node<K, V, P>,
    hash: u64,
    shift: u32,
    entry: (K, V),
    hasher: &S,
) -> (&'a mut (K, V), Place)
where
    P: PointerKind,
    K: Clone + Hash,
    V: Clone,
    S: BuildHasher,
{
    if !slot.is_unique() {
        *slot = slot.copy_edited(slot.shape(), Edit::Keep, Edit::Keep);
    }
    if shift >= COLLISION_SHIFT {
        let len = slot.entries().len();
        let node = slot.unique_mut().expect("made unique above");
        node.edit(Shape::collision(len + 1), Edit::Insert(len, entry), Edit::Keep);
        return (
            &mut slot.unique_mut().expect("made unique above").into_parts().0[len],
            Place { collision_index: len },
        );
    }
    let bit = bit_at(hash, shift);
    let (datamap, nodemap) = (slot.datamap(), slot.nodemap());
    if datamap & bit != 0 {
        let existing_hash = hash_of(hasher, &slot.entries()[index_of(datamap, bit)].0);
        let node = slot.unique_mut().expect("made unique above");
        push_down_beside(node, bit, existing_hash, entry, hash, shift + BITS);
        let child = slot.unique_mut().expect("made unique above").into_child_at_bit(bit).expect("pushed down");
        // The new subtree holds the existing entry and the new one, which comes second in a collision node.
        let place = Place { collision_index: 1 };
        return (get_mut_at_place(child, hash, shift + BITS, place), place);
    }
    if nodemap & bit != 0 {
        let child = slot.unique_mut().expect("made unique above").into_child_at_bit(bit).expect("nodemap has bit");
        return insert_vacant(child, hash, shift + BITS, entry, hasher);
    }
    let index = index_of(datamap | bit, bit);
    let node = slot.unique_mut().expect("made unique above");
    node.edit(Shape::bitmap(datamap | bit, nodemap), Edit::Insert(index, entry), Edit::Keep);
    (&mut slot.unique_mut().expect("made unique above").into_parts().0[index], Place { collision_index: 0 })
}

/// Moves the only entry out of a node nobody else holds (the root of a map whose last entry is removed).
pub(crate) fn into_only_entry<K, V, P: PointerKind>(node: Node<K, V, P>) -> (K, V) {
    let mut drain = node.into_drain().ok().expect("hamt: the node was checked unique");
    drain.next_entry().expect("hamt: the node holds an entry")
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
