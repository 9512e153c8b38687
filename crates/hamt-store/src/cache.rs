//! The node cache: decoded nodes by id, shared by every clone of a map and by concurrent readers, bounded in bytes.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use bytes::Bytes;
use cid::Cid;
use quick_cache::Weighter;

use crate::format::{BLAKE3, MAX_DEPTH, Node};

/// A block id as the caches hold it: the BLAKE3-256 digest and the codec, which together name one CIDv1 (every
/// cached block was checked against such an id, and a CIDv0 is never BLAKE3).
///
/// It is smaller than a [`Cid`] (whose multihash reserves 64 digest bytes) and cheaper to hash and compare, which
/// is most of a cache lookup: it hashes only the digest's first 8 bytes, which the hasher's random seed then mixes.
/// Those bytes are a cryptographic hash of the block, so they are spread evenly, and a store cannot choose them to
/// crowd one bucket without finding partial BLAKE3 collisions against a seed it does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlockKey {
    digest: [u8; 32],
    codec: u64,
}

impl BlockKey {
    /// The key of `cid`, or `None` if it is not a BLAKE3-256 id: no such block is ever cached, since no such block
    /// can be checked.
    pub(crate) fn of(cid: &Cid) -> Option<Self> {
        let hash = cid.hash();
        if hash.code() != BLAKE3 {
            return None;
        }
        let digest = <[u8; 32]>::try_from(hash.digest()).ok()?;
        Some(Self { digest, codec: cid.codec() })
    }
}

impl Hash for BlockKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut prefix = [0; 8];
        prefix.copy_from_slice(&self.digest[..8]);
        state.write_u64(u64::from_le_bytes(prefix));
    }
}

/// A decoded node, with the path it was checked against and its weight.
#[derive(Debug)]
pub(crate) struct CachedNode {
    pub(crate) node: Arc<Node>,
    /// The slot indices from the root to this node (the first `path_length` bytes): `Node::decode` checked every
    /// key against them. Held inline, so that a lookup compares it without reaching into another allocation.
    path: [u8; MAX_DEPTH],
    path_length: u8,
    weight: u64,
}

impl CachedNode {
    /// `node`, decoded at `path` (which a node's own decoding keeps below [`MAX_DEPTH`] bytes).
    pub(crate) fn new(node: Arc<Node>, path: &[u8]) -> Self {
        let weight = (node.weight() + size_of::<Self>()) as u64;
        let path_length = path.len().min(MAX_DEPTH);
        let mut inline = [0; MAX_DEPTH];
        inline[..path_length].copy_from_slice(&path[..path_length]);
        Self { node, path: inline, path_length: path_length as u8, weight }
    }

    /// The path the node was checked at.
    pub(crate) fn path(&self) -> &[u8] {
        &self.path[..usize::from(self.path_length)]
    }
}

#[derive(Debug, Clone, Copy)]
struct ByWeight;

impl Weighter<BlockKey, Arc<CachedNode>> for ByWeight {
    fn weight(&self, _: &BlockKey, node: &Arc<CachedNode>) -> u64 {
        node.weight
    }
}

/// What a map's node cache holds and how it has served, from [`StoredMap::cache_stats`](crate::StoredMap::cache_stats).
///
/// # Examples
///
/// See [`StoredMap::cache_stats`](crate::StoredMap::cache_stats).
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

#[derive(Debug, Clone, Copy)]
struct ByLength;

impl Weighter<BlockKey, CachedValue> for ByLength {
    fn weight(&self, _: &BlockKey, value: &CachedValue) -> u64 {
        let outside = match value {
            CachedValue::Inline { .. } => 0,
            // The buffer and its shared header.
            CachedValue::Shared(bytes) => bytes.len() + 32,
        };
        (size_of::<BlockKey>() + size_of::<CachedValue>() + 16 + outside) as u64
    }
}

/// The most bytes of a value block the value cache holds inline.
const INLINE_VALUE_BYTES: usize = 46;

/// A value block as the value cache holds it: a small one inline, so that reading it touches neither another
/// allocation nor a shared reference count (most of the cost of a read, once the map is larger than the processor's
/// caches); a larger one as a shared buffer, which is handed on without a copy.
#[derive(Debug, Clone)]
pub(crate) enum CachedValue {
    Inline { length: u8, bytes: [u8; INLINE_VALUE_BYTES] },
    Shared(Bytes),
}

impl CachedValue {
    fn new(block: Bytes) -> Self {
        let mut bytes = [0; INLINE_VALUE_BYTES];
        match bytes.get_mut(..block.len()) {
            Some(inline) => {
                inline.copy_from_slice(&block);
                Self::Inline { length: block.len() as u8, bytes }
            }
            None => Self::Shared(block),
        }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Self::Inline { length, bytes } => &bytes[..usize::from(*length)],
            Self::Shared(bytes) => bytes,
        }
    }

    pub(crate) fn into_bytes(self) -> Bytes {
        match self {
            Self::Inline { .. } => Bytes::copy_from_slice(self.as_slice()),
            Self::Shared(bytes) => bytes,
        }
    }
}

/// Decoded nodes by id, evicted by size (quick_cache's CLOCK-Pro with a byte weight, sharded so that readers on
/// several threads rarely wait for each other), and beside them, value blocks already checked against their ids.
#[derive(Debug)]
pub(crate) struct NodeCache {
    nodes: quick_cache::sync::Cache<BlockKey, Arc<CachedNode>, ByWeight>,
    /// The paths at which node blocks were found with every key in its slot, so that a node evicted and read
    /// again is not checked again (about 150 bytes per node, against the kilobytes of the decoded node).
    placed: quick_cache::sync::Cache<BlockKey, Arc<[u8]>>,
    values: Option<quick_cache::sync::Cache<BlockKey, CachedValue, ByLength>>,
}

/// What a node typically weighs, to size the cache's tables.
const TYPICAL_NODE_BYTES: usize = 2048;
/// The node cache's bytes per remembered placement (an entry costs about 150 bytes, counted against nothing, so
/// this keeps them to a few percent of the budget): with nodes of a few kilobytes, it remembers about as many
/// nodes as the cache holds, and more when the nodes are larger.
const PLACEMENT_SHARE: usize = 2048;
/// What a value typically weighs, to size the value cache's tables.
const TYPICAL_VALUE_BYTES: usize = 256;

impl NodeCache {
    pub(crate) fn new(capacity_bytes: usize, value_capacity_bytes: usize) -> Self {
        let items = (capacity_bytes / TYPICAL_NODE_BYTES).max(16);
        let values = (value_capacity_bytes > 0).then(|| {
            let items = (value_capacity_bytes / TYPICAL_VALUE_BYTES).max(16);
            quick_cache::sync::Cache::with_weighter(items, value_capacity_bytes as u64, ByLength)
        });
        Self {
            nodes: quick_cache::sync::Cache::with_weighter(items, capacity_bytes as u64, ByWeight),
            placed: quick_cache::sync::Cache::new((capacity_bytes / PLACEMENT_SHARE).max(256)),
            values,
        }
    }

    /// Whether node `cid` was already found well placed at `path`.
    pub(crate) fn is_placed(&self, cid: &Cid, path: &[u8]) -> bool {
        BlockKey::of(cid).and_then(|key| self.placed.get(&key)).is_some_and(|placed| *placed == *path)
    }

    pub(crate) fn set_placed(&self, cid: &Cid, path: &[u8]) {
        if let Some(key) = BlockKey::of(cid) {
            self.placed.insert(key, path.into());
        }
    }

    pub(crate) fn value(&self, cid: &Cid) -> Option<CachedValue> {
        self.values.as_ref()?.get(&BlockKey::of(cid)?)
    }

    /// Keeps value block `cid`, which must have been checked against its id.
    pub(crate) fn insert_value(&self, cid: &Cid, bytes: Bytes) {
        if let (Some(values), Some(key)) = (&self.values, BlockKey::of(cid)) {
            values.insert(key, CachedValue::new(bytes));
        }
    }

    pub(crate) fn get(&self, cid: &Cid) -> Option<Arc<CachedNode>> {
        self.nodes.get(&BlockKey::of(cid)?)
    }

    pub(crate) fn contains(&self, cid: &Cid) -> bool {
        BlockKey::of(cid).is_some_and(|key| self.nodes.contains_key(&key))
    }

    /// Keeps node `cid`, which must have been checked against its id (or encoded by the map itself).
    pub(crate) fn insert(&self, cid: &Cid, node: Arc<CachedNode>) {
        if let Some(key) = BlockKey::of(cid) {
            self.nodes.insert(key, node);
        }
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
