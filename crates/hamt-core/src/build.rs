//! Bulk construction: a trie built top-down by an MSD radix partition on the trie's own 5-bit digits.
//!
//! The entries are hashed once and stay where the input put them; what moves is a `(hash, position)` pair per
//! entry. A group of entries whose hashes agree above `shift` is partitioned by its digit at `shift` (count the 32
//! digits, scatter the pairs stably into a second buffer), which gives the node's shape; the node is allocated, and
//! each digit's group becomes an entry or, recursively, a child, partitioned back into the first buffer. Nodes are
//! therefore allocated once at their exact size, parents before children, which lays them out in depth-first order
//! in memory, and an entry moves from the input straight into its node. Two-entry groups (the most common at the
//! bottom) are built directly, other small groups are sorted by hash instead of counted, and a group whose hashes
//! are all equal (where equal keys end up) is deduplicated and becomes a chain of one-child nodes ending in a
//! collision node, without further passes. Large inputs are first dealt into their root slots, the partition's
//! level 0 done by moving the entries, so that each slot's entries are gathered from a part that fits the caches.

use alloc::vec::Vec;
use core::hash::{BuildHasher, Hash};

use crate::hasher::hash_of;
use crate::kind::PointerKind;
use crate::ops::Built;
use crate::raw::{Bits, Builder, Node, Shape};
use crate::trie::{BITS, COLLISION_SHIFT, bit_at};

/// Groups of three up to this many entries (two-entry groups go to [`Input::pair`]) are sorted by hash (an insertion
/// sort) and built from the sorted run rather than partitioned by counting: for a few entries, 32 counters cost more
/// than the sort. Measured on `u64` keys, 4 and 8 build equally fast at 1k, 10k and 100k entries, 16 is 10% slower at
/// 10k and 32 20% slower. Test builds (the `invariants` feature) sort up to 3, so that the test suites' small inputs
/// take both paths.
const SORT_UP_TO: usize = if cfg!(any(test, feature = "invariants")) { 3 } else { 8 };

/// From this many entries on, [`build`] deals them into their root slots before partitioning each slot on its own
/// (see [`build_dealt`]): the partition moves positions, and each entry is moved into its node from wherever the
/// input had it, which stays within the caches only if the input does. Measured: at 100k entries, building without
/// dealing is 5% (`u64`) to 15% (`String` keys) faster; at 200k, dealing is 15% faster with `String` keys; at 1M
/// entries, not dealing is 2.2 times slower. Test builds (the `invariants` feature) deal from 64 entries on, so that
/// the test suites' small inputs take both paths.
const DEAL_FROM: usize = if cfg!(any(test, feature = "invariants")) { 64 } else { 131_072 };

/// An entry's hash and its position in the input: what the partition moves instead of the entry.
type Keyed = (u64, usize);

/// Builds a canonical trie from `entries`; of entries with equal keys, the first key is kept with the last value (as
/// inserting them in order does). Returns the root and the number of distinct keys.
///
/// One algorithm with two drivers: this function partitions the whole input from the root down; `par.rs` deals the
/// entries into the 32 root slots on rayon's threads (the root level of the same partition), builds each slot with
/// [`build_slot`] on its own thread, and writes the root with [`node_from_slots`].
pub(crate) fn build<K, V, P, S, I>(entries: I, hasher: &S) -> (Option<Node<K, V, P>>, usize)
where
    P: PointerKind,
    K: Hash + Eq,
    S: BuildHasher,
    I: IntoIterator<Item = (K, V)>,
{
    let entries = entries.into_iter();
    let capacity = entries.size_hint().0;
    if capacity >= DEAL_FROM {
        let hashed: Vec<(u64, (K, V))> = entries.map(|(key, value)| (hash_of(hasher, &key), (key, value))).collect();
        return build_dealt(hashed);
    }
    let (mut input, mut keyed) =
        Input::positioned(entries.map(|(key, value)| (hash_of(hasher, &key), (key, value))), capacity);
    if keyed.len() >= DEAL_FROM {
        // The iterator said less than it held: deal after all.
        let hashed = keyed.iter().zip(input.entries).map(|(&(hash, _), entry)| (hash, entry.expect("not taken")));
        return build_dealt(hashed.collect());
    }
    if keyed.is_empty() {
        return (None, 0);
    }
    let mut scratch = alloc::vec![(0, 0); keyed.len()];
    let root = input.node(&mut keyed, &mut scratch, 0);
    (Some(root), input.distinct)
}

/// Builds a large input's trie by dealing its entries into their root slots first (moving them, in input order),
/// then building each slot with [`build_slot`], as the parallel builder does on several threads.
fn build_dealt<K: Eq, V, P: PointerKind>(hashed: Vec<(u64, (K, V))>) -> (Option<Node<K, V, P>>, usize) {
    let mut counts = [0usize; 32];
    for (hash, _) in &hashed {
        counts[root_slot(*hash)] += 1;
    }
    let mut groups: Vec<Vec<(u64, (K, V))>> = counts.iter().map(|&count| Vec::with_capacity(count)).collect();
    for item in hashed {
        groups[root_slot(item.0)].push(item);
    }
    let mut slots = Vec::with_capacity(32);
    let mut len = 0;
    for (slot, group) in groups.into_iter().enumerate() {
        if !group.is_empty() {
            let (built, count) = build_slot(group, BITS);
            len += count;
            slots.push((1 << slot, built));
        }
    }
    (node_from_slots(slots), len)
}

/// Builds what one slot of a node at `shift - BITS` holds, from entries whose hashes agree on the bits above
/// `shift`, in input order (of equal keys, the first key with the last value): nothing, one entry to store
/// inline, or a subtrie at `shift`. Returns it with the number of distinct keys. The parallel builder calls this
/// once per root slot, on as many threads as it has; [`build_dealt`] on one.
pub(crate) fn build_slot<K: Eq, V, P: PointerKind>(hashed: Vec<(u64, (K, V))>, shift: u32) -> (Built<K, V, P>, usize) {
    let capacity = hashed.len();
    let (mut input, mut keyed) = Input::positioned(hashed, capacity);
    let built = match keyed.len() {
        0 => Built::Empty,
        1 => Built::One(input.take(keyed[0].1)),
        _ if all_equal(&keyed) => match input.dedup(&mut keyed) {
            1 => Built::One(input.take(keyed[0].1)),
            distinct => Built::Many(input.chain(&keyed[..distinct], shift)),
        },
        _ => {
            let mut scratch = alloc::vec![(0, 0); keyed.len()];
            Built::Many(input.node(&mut keyed, &mut scratch, shift))
        }
    };
    (built, input.distinct)
}

/// The root slot (0..32) that a hash selects.
#[inline]
pub(crate) fn root_slot(hash: u64) -> usize {
    digit(hash, 0)
}

/// The slot (0..32) that a hash selects in a node at `shift` (below [`COLLISION_SHIFT`]).
#[inline]
fn digit(hash: u64, shift: u32) -> usize {
    ((hash << shift) >> (64 - BITS)) as usize
}

/// Whether every hash in a group of at least one is the same; stops at the first that differs, so that it costs
/// next to nothing on the usual group, whose first two hashes differ.
#[inline]
fn all_equal(group: &[Keyed]) -> bool {
    let first = group[0].0;
    group[1..].iter().all(|&(hash, _)| hash == first)
}

/// The input's entries, each taken once into its node, and the count of distinct keys taken so far.
struct Input<K, V> {
    entries: Vec<Option<(K, V)>>,
    distinct: usize,
}

impl<K: Eq, V> Input<K, V> {
    /// The input of `hashed` (entries with their hashes, in input order; about `capacity` of them), and the
    /// `(hash, position)` pair of each entry, which the partition moves in the entry's place.
    fn positioned(hashed: impl IntoIterator<Item = (u64, (K, V))>, capacity: usize) -> (Self, Vec<Keyed>) {
        let mut input = Input { entries: Vec::with_capacity(capacity), distinct: 0 };
        let mut keyed = Vec::with_capacity(capacity);
        for (hash, entry) in hashed {
            keyed.push((hash, input.entries.len()));
            input.entries.push(Some(entry));
        }
        (input, keyed)
    }

    /// Takes the entry at `position` to store it in a node, counting it.
    #[inline]
    fn take(&mut self, position: usize) -> (K, V) {
        self.distinct += 1;
        self.entries[position].take().expect("each entry is stored once")
    }

    /// The key of the entry at `position`, which has not been taken yet.
    fn key(&self, position: usize) -> &K {
        &self.entries[position].as_ref().expect("an entry not yet stored").0
    }

    /// Keeps one entry of each set of equal keys in `group` (whose hashes are all equal, in input order): the first
    /// key, with the last value, as inserting them one by one does (like std's maps, `insert` keeps the key it
    /// finds and replaces its value). Drops the other keys and values; moves the kept entries to the front and
    /// returns how many they are.
    fn dedup(&mut self, group: &mut [Keyed]) -> usize {
        let mut kept = 0;
        for index in 0..group.len() {
            let position = group[index].1;
            let key = self.key(position);
            match group[..kept].iter().position(|&(_, earlier)| self.key(earlier) == key) {
                Some(slot) => {
                    // A later equal key's value replaces the earlier entry's value; the later key is dropped.
                    let (_, value) = self.entries[position].take().expect("an entry not yet stored");
                    let earlier = group[slot].1;
                    self.entries[earlier].as_mut().expect("an entry not yet stored").1 = value;
                }
                None => {
                    group[kept] = group[index];
                    kept += 1;
                }
            }
        }
        kept
    }

    /// Builds the subtrie at `shift` for two or more distinct keys that share one hash: one-child nodes down to a
    /// collision node.
    fn chain<P: PointerKind>(&mut self, group: &[Keyed], shift: u32) -> Node<K, V, P> {
        if shift >= COLLISION_SHIFT {
            let mut builder = Builder::new(Shape::collision(group.len()));
            for &(_, position) in group {
                builder.push_entry(self.take(position));
            }
            return builder.finish();
        }
        let mut builder = Builder::new(Shape::bitmap(0, bit_at(group[0].0, shift)));
        builder.push_child(self.chain(group, shift + BITS));
        builder.finish()
    }

    /// Builds the node at `shift` for `group`, entries whose hashes agree above `shift` and do not all agree (or
    /// any nonempty group, at the root), in input order. `scratch` is as long as `group`; both are overwritten.
    fn node<P: PointerKind>(&mut self, group: &mut [Keyed], scratch: &mut [Keyed], shift: u32) -> Node<K, V, P> {
        if let [first, second] = *group {
            if first.0 != second.0 {
                return self.pair(first, second, shift);
            }
        }
        if group.len() <= SORT_UP_TO {
            // A stable sort (an insertion sort, at this size) keeps equal hashes in input order for `dedup`.
            group.sort_by_key(|&(hash, _)| hash);
            return self.sorted_node(group, shift);
        }
        let mut counts = [0usize; 32];
        for &(hash, _) in group.iter() {
            counts[digit(hash, shift)] += 1;
        }
        // The digits present, as a bitmap: the loops below visit only those.
        let present =
            counts.iter().enumerate().fold(0u32, |bits, (index, &count)| bits | (u32::from(count != 0) << index));
        let mut next = [0usize; 32];
        let mut start = 0;
        for bit in Bits(present) {
            let index = bit.trailing_zeros() as usize;
            next[index] = start;
            start += counts[index];
        }
        // The scatter keeps input order within each digit, which `dedup` relies on.
        for &item in group.iter() {
            let slot = &mut next[digit(item.0, shift)];
            scratch[*slot] = item;
            *slot += 1;
        }
        // Each digit's distinct keys (a group of equal hashes may hold equal keys) give the node's shape. After the
        // scatter, `next` holds where each digit's run ends.
        let (mut datamap, mut uniform) = (0u32, 0u32);
        for bit in Bits(present) {
            let index = bit.trailing_zeros() as usize;
            let count = counts[index];
            if count == 1 {
                datamap |= bit;
                continue;
            }
            let end = next[index];
            let run = &mut scratch[end - count..end];
            if all_equal(run) {
                uniform |= bit;
                // `counts` now holds the distinct keys of a uniform run, which sit at its start.
                counts[index] = self.dedup(run);
                if counts[index] == 1 {
                    datamap |= bit;
                }
            }
        }
        // Allocate the parent before its children, so that the nodes lie in depth-first order.
        let mut builder = Builder::new(Shape::bitmap(datamap, present & !datamap));
        // Each digit's run is in `scratch`, and partitions back into the same range of `group`.
        let (mut rest, mut rest_scratch) = (scratch, group);
        let mut start = 0;
        for bit in Bits(present) {
            let index = bit.trailing_zeros() as usize;
            let end = next[index];
            let (run, after) = rest.split_at_mut(end - start);
            let (run_scratch, after_scratch) = rest_scratch.split_at_mut(end - start);
            (rest, rest_scratch, start) = (after, after_scratch, end);
            if datamap & bit != 0 {
                builder.push_entry(self.take(run[0].1));
            } else if uniform & bit != 0 {
                builder.push_child(self.chain(&run[..counts[index]], shift + BITS));
            } else {
                builder.push_child(self.node(run, run_scratch, shift + BITS));
            }
        }
        builder.finish()
    }

    /// Builds the node at `shift` for two entries with different hashes that agree above `shift`: the most common
    /// group at the bottom of a trie, built without sorting or counting.
    fn pair<P: PointerKind>(&mut self, first: Keyed, second: Keyed, shift: u32) -> Node<K, V, P> {
        let (first_bit, second_bit) = (bit_at(first.0, shift), bit_at(second.0, shift));
        if first_bit == second_bit {
            let mut builder = Builder::new(Shape::bitmap(0, first_bit));
            builder.push_child(self.pair(first, second, shift + BITS));
            return builder.finish();
        }
        let mut builder = Builder::new(Shape::bitmap(first_bit | second_bit, 0));
        let (low, high) = if first_bit < second_bit { (first, second) } else { (second, first) };
        builder.push_entry(self.take(low.1));
        builder.push_entry(self.take(high.1));
        builder.finish()
    }

    /// Builds the node at `shift` for a group sorted by hash (equal hashes in input order), as [`Input::node`]
    /// does for an unsorted one: each run of equal digits is one slot.
    fn sorted_node<P: PointerKind>(&mut self, group: &mut [Keyed], shift: u32) -> Node<K, V, P> {
        // (start, end, distinct keys, all hashes equal) for each run of equal digits.
        let mut runs = [(0usize, 0usize, 0usize, false); SORT_UP_TO];
        let mut run_count = 0;
        let (mut datamap, mut nodemap) = (0u32, 0u32);
        let mut start = 0;
        while start < group.len() {
            let bit = bit_at(group[start].0, shift);
            let end = start + group[start..].iter().take_while(|&&(hash, _)| bit_at(hash, shift) == bit).count();
            // Sorted, so the run's hashes are all equal if its first and last are.
            let uniform = end - start > 1 && group[start].0 == group[end - 1].0;
            let distinct = if uniform { self.dedup(&mut group[start..end]) } else { end - start };
            if distinct == 1 {
                datamap |= bit;
            } else {
                nodemap |= bit;
            }
            runs[run_count] = (start, end, distinct, uniform);
            run_count += 1;
            start = end;
        }
        // Allocate the parent before its children, so that the nodes lie in depth-first order.
        let mut builder = Builder::new(Shape::bitmap(datamap, nodemap));
        for &(start, end, distinct, uniform) in &runs[..run_count] {
            if distinct == 1 {
                builder.push_entry(self.take(group[start].1));
            } else if uniform {
                builder.push_child(self.chain(&group[start..start + distinct], shift + BITS));
            } else {
                builder.push_child(self.sorted_node(&mut group[start..end], shift + BITS));
            }
        }
        builder.finish()
    }
}

/// Writes a bitmap node from what each of its slots holds (`(bit, slot)` in bit order): entries inline and
/// subtries as children, moved in as they are. `None` if every slot is empty. The one writer of a node from slots:
/// the builders' roots, and every node the set operations produce.
pub(crate) fn node_from_slots<K, V, P: PointerKind>(slots: Vec<(u32, Built<K, V, P>)>) -> Option<Node<K, V, P>> {
    let (mut datamap, mut nodemap) = (0, 0);
    for (bit, slot) in &slots {
        match slot {
            Built::Empty => {}
            Built::One(_) => datamap |= bit,
            Built::Many(_) => nodemap |= bit,
        }
    }
    if datamap | nodemap == 0 {
        return None;
    }
    let mut builder = Builder::new(Shape::bitmap(datamap, nodemap));
    for (_, slot) in slots {
        match slot {
            Built::Empty => {}
            Built::One(entry) => builder.push_entry(entry),
            Built::Many(child) => builder.push_child(child),
        }
    }
    Some(builder.finish())
}
