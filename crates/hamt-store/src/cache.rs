//! The node cache: decoded nodes by id, shared by every clone of a map and by concurrent readers, bounded in bytes.

use std::sync::Arc;

use cid::Cid;
use quick_cache::Weighter;

use crate::format::Node;

/// A decoded node, with the path it was checked against and its weight.
#[derive(Debug)]
pub(crate) struct CachedNode {
    pub(crate) node: Arc<Node>,
    /// The slot indices from the root to this node: `Node::decode` checked every key against them.
    pub(crate) path: Box<[u8]>,
    weight: u64,
}

impl CachedNode {
    pub(crate) fn new(node: Arc<Node>, path: &[u8]) -> Self {
        let weight = (node.weight() + path.len() + size_of::<Self>()) as u64;
        Self { node, path: path.into(), weight }
    }
}

#[derive(Debug, Clone, Copy)]
struct ByWeight;

impl Weighter<Cid, Arc<CachedNode>> for ByWeight {
    fn weight(&self, _: &Cid, node: &Arc<CachedNode>) -> u64 {
        node.weight
    }
}

/// What a map's node cache holds and how it has served, from [`StoredMap::cache_stats`](crate::StoredMap::cache_stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// The approximate bytes of the nodes held.
    pub bytes: u64,
    /// The most bytes the cache holds.
    pub capacity: u64,
    /// The nodes held.
    pub nodes: usize,
    /// Lookups the cache answered.
    pub hits: u64,
    /// Lookups that went to the store.
    pub misses: u64,
}

/// Decoded nodes by id, evicted by size (quick_cache's CLOCK-Pro with a byte weight, sharded so that readers on
/// several threads rarely wait for each other).
#[derive(Debug)]
pub(crate) struct NodeCache {
    nodes: quick_cache::sync::Cache<Cid, Arc<CachedNode>, ByWeight>,
}

/// What a node typically weighs, to size the cache's tables.
const TYPICAL_NODE_BYTES: usize = 2048;

impl NodeCache {
    pub(crate) fn new(capacity_bytes: usize) -> Self {
        let items = (capacity_bytes / TYPICAL_NODE_BYTES).max(16);
        Self { nodes: quick_cache::sync::Cache::with_weighter(items, capacity_bytes as u64, ByWeight) }
    }

    pub(crate) fn get(&self, cid: &Cid) -> Option<Arc<CachedNode>> {
        self.nodes.get(cid)
    }

    pub(crate) fn contains(&self, cid: &Cid) -> bool {
        self.nodes.contains_key(cid)
    }

    pub(crate) fn insert(&self, cid: Cid, node: Arc<CachedNode>) {
        self.nodes.insert(cid, node);
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            bytes: self.nodes.weight(),
            capacity: self.nodes.capacity(),
            nodes: self.nodes.len(),
            hits: self.nodes.hits(),
            misses: self.nodes.misses(),
        }
    }
}
