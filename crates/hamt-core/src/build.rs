//! Bulk construction: a trie built bottom-up from entries sorted by hash.
//!
//! Sorting by hash puts the entries in trie order (hash bits are consumed from the top), so every node's contents
//! are a contiguous run: each node is allocated once at its exact size, parents before children, which lays the
//! nodes out in depth-first order in memory. Nothing is copied or reallocated, and lookups and iteration on the
//! result touch memory in the order it was allocated.

use alloc::vec::Vec;
use core::hash::{BuildHasher, Hash};

use crate::hasher::hash_of;
use crate::kind::PointerKind;
use crate::ops::Built;
use crate::raw::{Builder, Node, Shape};
use crate::trie::{BITS, COLLISION_SHIFT, bit_at};

/// Below this many entries, [`build`] sorts them all at once; from it on, it first deals them into their root
/// slots, so that each slot's sort and build work on a part of the input that fits the caches (the parallel
/// builder deals them the same way, and builds the slots on different threads). Measured on `u64` keys: the same
/// speed from 10k to 40k entries either way, 20% faster at 100k and 2.8 times at 1M. Test builds (the `invariants`
/// feature) deal from 64 entries on, so that the test suites' small inputs take both paths.
const PARTITION_FROM: usize = if cfg!(any(test, feature = "invariants")) { 64 } else { 32_768 };

/// Builds a canonical trie from `entries`; later entries win over earlier ones with an equal key. Returns the root
/// and the number of distinct keys.
///
/// One algorithm with two drivers: entries are dealt into the 32 root slots by the top bits of their hashes, each
/// slot's subtrie is built by [`build_slot`], and [`node_from_slots`] writes the root. This function runs the
/// slots one after the other; `par.rs` runs them on rayon's threads.
pub(crate) fn build<K, V, P, S, I>(entries: I, hasher: &S) -> (Option<Node<K, V, P>>, usize)
where
    P: PointerKind,
    K: Hash + Eq,
    S: BuildHasher,
    I: IntoIterator<Item = (K, V)>,
{
    let hashed: Vec<(u64, (K, V))> = entries.into_iter().map(|(k, v)| (hash_of(hasher, &k), (k, v))).collect();
    if hashed.len() < PARTITION_FROM {
        return build_root(hashed);
    }
    let mut slots = Vec::with_capacity(32);
    let mut len = 0;
    for (slot, group) in deal_by_root_slot(hashed).into_iter().enumerate() {
        if group.is_empty() {
            continue;
        }
        let (built, count) = build_slot(group, BITS);
        len += count;
        slots.push((1 << slot, built));
    }
    (node_from_slots(slots), len)
}

/// Builds the whole trie from entries with their hashes, in one sort: for inputs too small to gain from dealing
/// them into root slots first.
fn build_root<K: Eq, V, P: PointerKind>(mut hashed: Vec<(u64, (K, V))>) -> (Option<Node<K, V, P>>, usize) {
    // A stable sort keeps equal keys in their input order, so deduplication can keep the last.
    sort_by_hash(&mut hashed, 0);
    let hashed = dedup_keep_last(hashed);
    let len = hashed.len();
    if len == 0 {
        return (None, 0);
    }
    let hashes: Vec<u64> = hashed.iter().map(|(hash, _)| *hash).collect();
    let mut entries = hashed.into_iter().map(|(_, entry)| entry);
    (Some(build_node(&hashes, &mut entries, 0)), len)
}

/// The root slot (0..32) that a hash selects.
#[inline]
pub(crate) fn root_slot(hash: u64) -> usize {
    (hash >> (64 - BITS)) as usize
}

/// Deals entries into the 32 root slots, keeping input order within each slot (which deduplication relies on).
/// Each slot's vector is allocated at its exact size, counted first.
fn deal_by_root_slot<K, V>(hashed: Vec<(u64, (K, V))>) -> Vec<Vec<(u64, (K, V))>> {
    let mut counts = [0usize; 32];
    for (hash, _) in &hashed {
        counts[root_slot(*hash)] += 1;
    }
    let mut slots: Vec<Vec<(u64, (K, V))>> = counts.iter().map(|&count| Vec::with_capacity(count)).collect();
    for item in hashed {
        slots[root_slot(item.0)].push(item);
    }
    slots
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

/// Sorts entries whose hashes agree on the bits above `shift` by hash, stably: a counting sort on the next bits of
/// the hash (hashes are uniform, so the buckets hold a few entries each), then a stable sort of each bucket. Two
/// passes over the data instead of the O(n log n) moves of a comparison sort.
fn sort_by_hash<T>(items: &mut [(u64, T)], shift: u32) {
    let len = items.len();
    if len < 64 {
        items.sort_by_key(|(hash, _)| *hash);
        return;
    }
    // About four entries per bucket, at most 2^16 buckets.
    let bits = (usize::BITS - 1 - len.leading_zeros()).saturating_sub(2).clamp(1, 16);
    // The bits above `shift` are equal in every hash, so they would only waste buckets.
    let bucket_of = |hash: u64| ((hash << shift) >> (64 - bits)) as usize;
    let mut starts = alloc::vec![0usize; (1 << bits) + 1];
    for (hash, _) in items.iter() {
        starts[bucket_of(*hash) + 1] += 1;
    }
    for bucket in 1..starts.len() {
        starts[bucket] += starts[bucket - 1];
    }
    // Where each entry goes: positions within a bucket follow input order, which keeps the sort stable.
    let mut next = starts.clone();
    let mut destination: Vec<usize> = items
        .iter()
        .map(|(hash, _)| {
            let slot = &mut next[bucket_of(*hash)];
            *slot += 1;
            *slot - 1
        })
        .collect();
    // Apply the permutation in place by following its cycles.
    for index in 0..len {
        while destination[index] != index {
            let target = destination[index];
            items.swap(index, target);
            destination.swap(index, target);
        }
    }
    for bucket in starts.windows(2) {
        let run = &mut items[bucket[0]..bucket[1]];
        if run.len() > 1 {
            run.sort_by_key(|(hash, _)| *hash);
        }
    }
}

/// Builds what one slot of a node at `shift - BITS` holds, from entries whose hashes agree on the bits above
/// `shift`, in input order (later entries win over earlier ones with an equal key): nothing, one entry to store
/// inline, or a subtrie at `shift`. Returns it with the number of distinct keys. The parallel builder calls this
/// once per root slot, on as many threads as it has; [`build`] on one.
pub(crate) fn build_slot<K: Eq, V, P: PointerKind>(
    mut hashed: Vec<(u64, (K, V))>,
    shift: u32,
) -> (Built<K, V, P>, usize) {
    sort_by_hash(&mut hashed, shift);
    let hashed = dedup_keep_last(hashed);
    let len = hashed.len();
    let built = match len {
        0 => Built::Empty,
        1 => Built::One(hashed.into_iter().next().expect("one entry").1),
        _ => {
            let hashes: Vec<u64> = hashed.iter().map(|(hash, _)| *hash).collect();
            let mut entries = hashed.into_iter().map(|(_, entry)| entry);
            Built::Many(build_node(&hashes, &mut entries, shift))
        }
    };
    (built, len)
}

/// Removes all but the last of each run of equal keys (which are adjacent in hash order, within equal hashes).
fn dedup_keep_last<K: Eq, V>(sorted: Vec<(u64, (K, V))>) -> Vec<(u64, (K, V))> {
    if !sorted.windows(2).any(|pair| pair[0].0 == pair[1].0) {
        return sorted;
    }
    let mut kept: Vec<(u64, (K, V))> = Vec::with_capacity(sorted.len());
    let mut run_start = 0;
    for (hash, entry) in sorted {
        if kept.last().is_none_or(|last| last.0 != hash) {
            run_start = kept.len();
        }
        // Within a run of equal hashes, a later equal key replaces the earlier one in place.
        match kept[run_start..].iter_mut().find(|(_, existing)| existing.0 == entry.0) {
            Some(slot) => slot.1 = entry,
            None => kept.push((hash, entry)),
        }
    }
    kept
}

/// Builds the node at `shift` for a run of distinct keys with these sorted hashes, taking their entries from
/// `entries` in order. The run holds two or more entries, or is the root.
fn build_node<K, V, P: PointerKind>(
    hashes: &[u64],
    entries: &mut impl Iterator<Item = (K, V)>,
    shift: u32,
) -> Node<K, V, P> {
    if shift >= COLLISION_SHIFT {
        let mut builder = Builder::new(Shape::collision(hashes.len()));
        for entry in entries.take(hashes.len()) {
            builder.push_entry(entry);
        }
        return builder.finish();
    }
    // The runs of equal bits at this level: one entry stays inline, two or more make a child.
    let mut groups = [(0u32, 0usize, 0usize); 32];
    let mut group_count = 0;
    let (mut datamap, mut nodemap) = (0u32, 0u32);
    let mut start = 0;
    while start < hashes.len() {
        let bit = bit_at(hashes[start], shift);
        let end = start + hashes[start..].iter().take_while(|&&hash| bit_at(hash, shift) == bit).count();
        if end - start == 1 {
            datamap |= bit;
        } else {
            nodemap |= bit;
        }
        groups[group_count] = (bit, start, end);
        group_count += 1;
        start = end;
    }
    // Allocate the parent before its children, so that the nodes lie in depth-first order.
    let mut builder = Builder::new(Shape::bitmap(datamap, nodemap));
    for &(_, start, end) in &groups[..group_count] {
        if end - start == 1 {
            builder.push_entry(entries.next().expect("one entry per hash"));
        } else {
            builder.push_child(build_node(&hashes[start..end], entries, shift + BITS));
        }
    }
    builder.finish()
}
