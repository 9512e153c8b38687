//! The invariant checker, compiled for tests and with the `invariants` feature. Randomized tests call it after
//! every mutation.

use alloc::vec::Vec;
use core::hash::{BuildHasher, Hash};

use crate::hasher::hash_of;
use crate::kind::PointerKind;
use crate::raw::{Bits, Node};
use crate::trie::{BITS, COLLISION_SHIFT, bit_at};

/// Whether the checker requires a collision node's keys to be distinct.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keys {
    Distinct,
    /// For keys whose `Eq` is inconsistent: the map may then hold equal keys, but nothing else may break.
    MayRepeat,
}

/// Checks a whole trie; panics with a description of the first broken invariant.
pub(crate) fn check_map<K, V, P, S>(root: Option<&Node<K, V, P>>, len: usize, hasher: &S, keys: Keys)
where
    P: PointerKind,
    K: Hash + Eq,
    S: BuildHasher,
{
    let Some(root) = root else {
        assert_eq!(len, 0, "an empty trie must have len 0");
        return;
    };
    let mut path = Vec::new();
    let counted = check_node(root, 0, &mut path, hasher, keys);
    assert_eq!(counted, len, "len does not match the number of entries");
    assert!(len > 0, "a non-empty root must hold entries");
}

/// Checks the subtree at `shift` reached through the bits in `path`; returns its number of entries.
fn check_node<K, V, P, S>(node: &Node<K, V, P>, shift: u32, path: &mut Vec<u32>, hasher: &S, keys: Keys) -> usize
where
    P: PointerKind,
    K: Hash + Eq,
    S: BuildHasher,
{
    let is_root = shift == 0;
    let hash_fits_path =
        |hash: u64| path.iter().enumerate().all(|(level, &bit)| bit_at(hash, level as u32 * BITS) == bit);
    if shift >= COLLISION_SHIFT {
        assert!(node.is_collision(), "a node at the collision level must be a collision node");
        let entries = node.entries();
        assert!(entries.len() >= 2, "a collision node must hold two or more entries");
        let first_hash = hash_of(hasher, &entries[0].0);
        for (index, (key, _)) in entries.iter().enumerate() {
            assert_eq!(hash_of(hasher, key), first_hash, "a collision node's keys must share their full hash");
            if keys == Keys::Distinct {
                assert!(!entries[..index].iter().any(|(other, _)| other == key), "duplicate key in a collision node");
            }
        }
        assert!(hash_fits_path(first_hash), "collision node keys are not where their hash leads");
        return entries.len();
    }
    assert!(!node.is_collision(), "a collision node above the collision level");
    let (datamap, nodemap) = (node.datamap(), node.nodemap());
    assert_eq!(datamap & nodemap, 0, "a bit is both an entry and a child");
    assert_eq!(node.entries().len(), datamap.count_ones() as usize, "datamap does not match the entries");
    assert_eq!(node.children().len(), nodemap.count_ones() as usize, "nodemap does not match the children");
    for (bit, (key, _)) in Bits(datamap).zip(node.entries()) {
        let hash = hash_of(hasher, key);
        assert!(hash_fits_path(hash) && bit_at(hash, shift) == bit, "an entry is not where its hash leads");
    }
    let mut total = node.entries().len();
    for (bit, child) in Bits(nodemap).zip(node.children()) {
        path.push(bit);
        total += check_node(child, shift + BITS, path, hasher, keys);
        path.pop();
    }
    if !is_root {
        assert!(total >= 2, "canonical form: a subtree with fewer than two entries must be pulled up");
    }
    total
}
