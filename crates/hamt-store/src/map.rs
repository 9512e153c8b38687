//! [`StoredMap`]: a map whose nodes are blocks in a [`Blockstore`], loaded on demand and written back on flush.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

use bytes::Bytes;
use cid::Cid;
use hamt_core::{HamtMap, PointerKind};

use crate::cache::{BlockKey, CacheStats, CachedNode, NodeCache};
use crate::format::{
    DAG_CBOR, Link, LinkFormat, MAX_DEPTH, Node, Slot, block_cid, canonical_order, checked_block, key_hash,
};
use crate::walk::{Diff, Iter, Keys, Links};
use crate::{Blockstore, StoreError, Value, ValueMode};

/// How a [`StoredMap`] lays out and caches its data.
///
/// The defaults are py-hamt's: buckets of at most 4 keys, values in DAG-CBOR, links as CIDs; and caches of 64 MiB
/// for nodes and 16 MiB for values.
///
/// # Examples
///
/// ```
/// use hamt_store::{Config, MemoryStore, StoredMap, ValueMode};
///
/// // Raw byte values, as py-hamt's Zarr store writes them, and a small cache.
/// let config = Config { value_mode: ValueMode::Bytes, cache_bytes: 1 << 20, ..Config::default() };
/// let mut map = StoredMap::with_config(MemoryStore::new(), config);
/// map.insert("zarr.json".to_owned(), b"{}".to_vec().into())?;
/// # Ok::<(), hamt_store::StoreError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The most keys a bucket holds before it splits into a child node (py-hamt's `max_bucket_size`, default 4;
    /// at least 1). Readers need not know it, but writers of one map must agree on it for roots to match.
    pub max_bucket_size: usize,
    /// How values are stored: DAG-CBOR (py-hamt's default) or raw bytes.
    pub value_mode: ValueMode,
    /// How this map writes links in the nodes it writes (it reads both forms).
    pub link_format: LinkFormat,
    /// The most bytes of decoded nodes the map's cache keeps (default 64 MiB), shared by the map's clones.
    pub cache_bytes: usize,
    /// The most bytes of value blocks the map's cache keeps (default 16 MiB; 0 turns the value cache off), so
    /// that values read again are not fetched and checked again. A value larger than a shard of the cache
    /// (about 1/32 of it, depending on the number of CPUs) is never cached.
    pub value_cache_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_bucket_size: 4,
            value_mode: ValueMode::Cbor,
            link_format: LinkFormat::Cid,
            cache_bytes: 64 << 20,
            value_cache_bytes: 16 << 20,
        }
    }
}

/// Value blocks not yet flushed, by id (every one a BLAKE3-256 id the map computed, so keyed as the caches key).
type Pending = HashMap<BlockKey, Bytes, foldhash::fast::RandomState>;

/// The root of a map: a stored node, or one changed since the last flush.
#[derive(Debug, Clone)]
enum Root {
    /// A stored root, with its node (held here, so that every read starts without a cache lookup).
    Stored(Cid, Arc<Node>),
    Dirty(Arc<Node>),
}

/// A persistent map from text keys to values whose nodes are blocks in content-addressed storage, in py-hamt's
/// format, so that the same contents give the same root id and the same blocks as py-hamt.
///
/// A map is loaded from a root id and reads nodes on demand through a cache bounded in bytes. Changes stay in
/// memory until [`flush`](Self::flush), which writes only the nodes and values changed since the last flush
/// (children before parents, in one batch) and returns the new root id. A root id is a version: every flushed
/// root stays readable for as long as its blocks are kept (see [`gc`](crate::gc)), and unchanged subtrees are
/// stored once across all versions.
///
/// Reading takes `&self`: a map is `Send + Sync` when its store is, and threads that read one map (or its clones)
/// share its node cache. Cloning a map is cheap: clones share the cache and their unflushed nodes, and diverge on
/// write.
///
/// # Values
///
/// A [`Value`] is bytes or any IPLD value. The map's [`ValueMode`] says how value blocks hold them: DAG-CBOR
/// (py-hamt's default) or raw bytes (`values_are_bytes`, which py-hamt's Zarr store uses). Nothing in the stored
/// data says which, so a reader must be told, through [`Config`].
///
/// # Examples
///
/// ```
/// use hamt_store::{MemoryStore, StoredMap, Value};
///
/// let store = MemoryStore::new();
/// let mut map = StoredMap::new(&store);
/// for i in 0..100 {
///     map.insert(format!("key {i}"), Value::from(i64::from(i)))?;
/// }
/// let v1 = map.flush()?;
/// map.remove("key 7")?;
/// let v2 = map.flush()?;
///
/// // Both versions stay readable, and share every node the removal did not touch.
/// let old = StoredMap::load(&store, v1)?;
/// assert_eq!(old.get("key 7")?, Some(Value::from(7)));
/// assert_eq!(StoredMap::load(&store, v2)?.get("key 7")?, None);
/// assert_eq!(old.diff(&map).count(), 1);
/// # Ok::<(), hamt_store::StoreError>(())
/// ```
#[derive(Debug, Clone)]
pub struct StoredMap<B> {
    store: B,
    config: Config,
    cache: Arc<NodeCache>,
    root: Root,
    /// Value blocks written since the last flush, by id. Empty while the root is stored: every change that adds
    /// one makes the root dirty first, and only a successful flush makes it stored again.
    pending: Pending,
}

impl<B: Blockstore> StoredMap<B> {
    /// An empty map over `store`, with the default [`Config`]. Nothing is written until [`flush`](Self::flush).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{MemoryStore, StoredMap};
    ///
    /// let mut map = StoredMap::new(MemoryStore::new());
    /// assert!(map.is_empty()?);
    /// // The empty map's root is py-hamt's empty node.
    /// assert_eq!(map.flush()?.to_string(), "bafyr4igb3js3dqlnsvmbi533lhghfet3l4r35vbi7mlrvxjb6f3n5wkc3m");
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn new(store: B) -> Self {
        Self::with_config(store, Config::default())
    }

    /// An empty map over `store`, laid out and cached as `config` says.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{Config, MemoryStore, StoredMap, ValueMode};
    ///
    /// let config = Config { value_mode: ValueMode::Bytes, ..Config::default() };
    /// let map = StoredMap::with_config(MemoryStore::new(), config);
    /// assert_eq!(map.config().value_mode, ValueMode::Bytes);
    /// ```
    pub fn with_config(store: B, config: Config) -> Self {
        let config = Config { max_bucket_size: config.max_bucket_size.max(1), ..config };
        Self {
            store,
            cache: Arc::new(NodeCache::new(config.cache_bytes, config.value_cache_bytes)),
            config,
            root: Root::Dirty(Arc::new(Node::default())),
            pending: HashMap::default(),
        }
    }

    /// The map whose root node is block `root` of `store`, with the default [`Config`]. The root node is read
    /// (and checked) at once; the rest is read on demand.
    ///
    /// # Errors
    ///
    /// If the root block is missing ([`StoreError::MissingBlock`]), does not hash to `root`
    /// ([`StoreError::HashMismatch`]), or is not a node ([`StoreError::BadNode`]), or the store fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{MemoryStore, StoredMap};
    ///
    /// let store = MemoryStore::new();
    /// let mut map = StoredMap::new(&store);
    /// map.insert("a".to_owned(), "alpha".into())?;
    /// let root = map.flush()?;
    /// assert_eq!(StoredMap::load(&store, root)?.get("a")?, Some("alpha".into()));
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn load(store: B, root: Cid) -> Result<Self, StoreError> {
        Self::load_with_config(store, root, Config::default())
    }

    /// The map whose root node is block `root` of `store`, read as `config` says (its value mode must be the one
    /// the map was written with).
    ///
    /// # Errors
    ///
    /// As [`load`](Self::load).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{Config, MemoryStore, StoredMap, ValueMode};
    ///
    /// let config = Config { value_mode: ValueMode::Bytes, ..Config::default() };
    /// let store = MemoryStore::new();
    /// let mut map = StoredMap::with_config(&store, config);
    /// map.insert("chunk".to_owned(), vec![1, 2, 3].into())?;
    /// let root = map.flush()?;
    /// let read = StoredMap::load_with_config(&store, root, config)?;
    /// assert_eq!(read.get("chunk")?, Some(vec![1, 2, 3].into()));
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn load_with_config(store: B, root: Cid, config: Config) -> Result<Self, StoreError> {
        let mut map = Self::with_config(store, config);
        let node = Arc::clone(&map.load_node(&root, &[])?.node);
        map.root = Root::Stored(root, node);
        Ok(map)
    }

    /// The store the map reads and writes.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{MemoryStore, StoredMap};
    ///
    /// let map = StoredMap::new(MemoryStore::new());
    /// assert!(map.store().is_empty());
    /// ```
    pub fn store(&self) -> &B {
        &self.store
    }

    /// The map's configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{MemoryStore, StoredMap};
    ///
    /// assert_eq!(StoredMap::new(MemoryStore::new()).config().max_bucket_size, 4);
    /// ```
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The root id, if nothing changed since the map was loaded or last flushed; `None` if there are changes to
    /// flush.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{MemoryStore, StoredMap};
    ///
    /// let mut map = StoredMap::new(MemoryStore::new());
    /// assert_eq!(map.root(), None);
    /// let root = map.flush()?;
    /// assert_eq!(map.root(), Some(root));
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn root(&self) -> Option<Cid> {
        match self.root {
            Root::Stored(cid, _) => Some(cid),
            Root::Dirty(_) => None,
        }
    }

    /// What the node cache holds and how it has served.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{MemoryStore, StoredMap};
    ///
    /// let store = MemoryStore::new();
    /// let mut map = StoredMap::new(&store);
    /// map.insert("k".to_owned(), vec![1].into())?;
    /// let root = map.flush()?;
    /// let read = StoredMap::load(&store, root)?;
    /// let stats = read.cache_stats();
    /// assert!(stats.nodes >= 1 && stats.bytes <= stats.capacity);
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// The value of `key`, or `None` if the map does not hold it.
    ///
    /// # Errors
    ///
    /// If a block on the way is missing or damaged, or the value does not decode in the map's value mode.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{MemoryStore, StoredMap};
    ///
    /// let mut map = StoredMap::new(MemoryStore::new());
    /// map.insert("k".to_owned(), vec![7].into())?;
    /// assert_eq!(map.get("k")?, Some(vec![7].into()));
    /// assert_eq!(map.get("absent")?, None);
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn get(&self, key: &str) -> Result<Option<Value>, StoreError> {
        self.lookup(key, |cid| self.value(cid))
    }

    /// The id of `key`'s value block, without reading the value.
    ///
    /// # Errors
    ///
    /// If a node on the way is missing or damaged.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{MemoryStore, StoredMap};
    ///
    /// let mut map = StoredMap::new(MemoryStore::new());
    /// map.insert("k".to_owned(), vec![7].into())?;
    /// let link = map.get_link("k")?.expect("present");
    /// assert_eq!(map.value(&link)?, vec![7].into());
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn get_link(&self, key: &str) -> Result<Option<Cid>, StoreError> {
        self.lookup(key, |cid| Ok(*cid))
    }

    /// What `found` makes of the id of `key`'s value block, if the map holds `key`: the id is lent from the node
    /// that holds it, rather than copied out.
    fn lookup<R>(&self, key: &str, found: impl FnOnce(&Cid) -> Result<R, StoreError>) -> Result<Option<R>, StoreError> {
        let hash = key_hash(key);
        // The node read at each level is borrowed from whatever keeps it alive (the map's root, an unflushed parent,
        // or the cached node held in `cached`), so that a level costs no reference count but the cache's.
        let mut cached: Arc<CachedNode>;
        let mut node: &Node = self.root_ref();
        for depth in 0..MAX_DEPTH {
            match node.find(hash[depth]).map(|position| &node.slots[position].1) {
                Err(_) => return Ok(None),
                Ok(Slot::Bucket(entries)) => {
                    return match entries.iter().find(|(candidate, _)| candidate == key) {
                        Some((_, cid)) => found(cid).map(Some),
                        None => Ok(None),
                    };
                }
                Ok(Slot::Link(link)) => {
                    cached = self.child(link, &hash[..=depth])?;
                    node = &cached.node;
                }
                Ok(Slot::Dirty(child)) => node = child,
            }
        }
        Err(StoreError::TooDeep { key: key.to_owned() })
    }

    /// Whether the map holds `key`.
    ///
    /// # Errors
    ///
    /// As [`get_link`](Self::get_link).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{MemoryStore, StoredMap};
    ///
    /// let mut map = StoredMap::new(MemoryStore::new());
    /// map.insert("k".to_owned(), vec![1].into())?;
    /// assert!(map.contains_key("k")?);
    /// assert!(!map.contains_key("other")?);
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn contains_key(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.get_link(key)?.is_some())
    }

    /// Reads the value block `cid` (a link from [`get_link`](Self::get_link), [`links`](Self::links) or
    /// [`diff`](Self::diff)) in the map's value mode.
    ///
    /// # Errors
    ///
    /// If the block is missing, does not hash to `cid`, or does not decode in the map's value mode.
    ///
    /// # Examples
    ///
    /// See [`get_link`](Self::get_link).
    pub fn value(&self, cid: &Cid) -> Result<Value, StoreError> {
        // A cached value is decoded where the cache holds it (a small one is copied once, into the value).
        if self.pending.is_empty()
            && let Some(cached) = self.cache.value(cid)
        {
            return Value::decode_slice(self.config.value_mode, cid, cached.as_slice());
        }
        Value::decode(self.config.value_mode, cid, self.value_block(cid)?)
    }

    /// The bytes of value block `cid`, checked against its id: from the values not yet flushed, the value cache,
    /// or the store. Shared buffers throughout, so that nothing is copied on the way.
    pub(crate) fn value_block(&self, cid: &Cid) -> Result<Bytes, StoreError> {
        // Nothing is pending while the root is stored, so a reader of a stored map skips hashing the id for it.
        if !self.pending.is_empty()
            && let Some(bytes) = BlockKey::of(cid).and_then(|key| self.pending.get(&key))
        {
            return Ok(bytes.clone());
        }
        if let Some(cached) = self.cache.value(cid) {
            return Ok(cached.into_bytes());
        }
        let bytes = checked_block(cid, self.store.get(cid)?)?;
        self.cache.insert_value(cid, bytes.clone());
        Ok(bytes)
    }

    /// Sets `key` to `value`. The value block is written on the next [`flush`](Self::flush).
    ///
    /// # Errors
    ///
    /// If a node on the way cannot be read, or the value cannot be stored in the map's value mode
    /// ([`StoreError::ValueNotBytes`], [`StoreError::ValueEncoding`]). The map is unchanged then.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{MemoryStore, StoredMap};
    ///
    /// let mut map = StoredMap::new(MemoryStore::new());
    /// map.insert("k".to_owned(), "one".into())?;
    /// map.insert("k".to_owned(), "two".into())?;
    /// assert_eq!(map.get("k")?, Some("two".into()));
    /// assert_eq!(map.len()?, 1);
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn insert(&mut self, key: String, value: Value) -> Result<(), StoreError> {
        let (cid, bytes) = value.into_block(self.config.value_mode, &key)?;
        self.insert_link(key, cid)?;
        add_pending(&mut self.pending, cid, Bytes::from(bytes));
        Ok(())
    }

    /// Sets `key` to the raw value block `bytes`, whose id `cid` the caller computed (`block_cid(RAW, &bytes)`)
    /// outside any lock it holds the map in: the Zarr store hashes chunks of a megabyte on its writers' threads.
    #[cfg(feature = "zarr")]
    pub(crate) fn insert_raw_block(&mut self, key: String, cid: Cid, bytes: Bytes) -> Result<(), StoreError> {
        debug_assert_eq!(self.config.value_mode, ValueMode::Bytes);
        debug_assert_eq!(cid, crate::block_cid(crate::RAW, &bytes));
        self.insert_link(key, cid)?;
        add_pending(&mut self.pending, cid, bytes);
        Ok(())
    }

    /// Sets `key` to the value block `cid`, which must be in the store already (or be written by the caller
    /// before the map's root is published).
    fn insert_link(&mut self, key: String, cid: Cid) -> Result<(), StoreError> {
        let hash = key_hash(&key);
        let context = Context { store: &self.store, cache: &self.cache, max_bucket_size: self.config.max_bucket_size };
        let root = match &mut self.root {
            Root::Dirty(root) => root,
            Root::Stored(_, node) => {
                self.root = Root::Dirty(Arc::clone(node));
                match &mut self.root {
                    Root::Dirty(root) => root,
                    Root::Stored(..) => unreachable!("the root was just made dirty"),
                }
            }
        };
        context.insert(Arc::make_mut(root), 0, &hash, key, cid)
    }

    /// Removes `key`, and returns whether the map held it.
    ///
    /// # Errors
    ///
    /// If a node on the way cannot be read. The map is unchanged then.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{MemoryStore, StoredMap};
    ///
    /// let mut map = StoredMap::new(MemoryStore::new());
    /// map.insert("k".to_owned(), "v".into())?;
    /// assert!(map.remove("k")?);
    /// assert!(!map.remove("k")?);
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn remove(&mut self, key: &str) -> Result<bool, StoreError> {
        let hash = key_hash(key);
        let context = Context { store: &self.store, cache: &self.cache, max_bucket_size: self.config.max_bucket_size };
        match &mut self.root {
            // A changed root is changed in place: its nodes are this map's alone (unless a clone shares them, and
            // then `make_mut` copies what it changes), so a removal copies nothing.
            Root::Dirty(root) => context.remove(Arc::make_mut(root), 0, &hash, key),
            // A stored root is changed in a copy, kept only if the key was there, so that a removal of an absent
            // key leaves a stored root stored.
            Root::Stored(_, node) => {
                let mut root = Arc::clone(node);
                let removed = context.remove(Arc::make_mut(&mut root), 0, &hash, key)?;
                if removed {
                    self.root = Root::Dirty(root);
                }
                Ok(removed)
            }
        }
    }

    /// Writes every node and value changed since the last flush, and returns the root id.
    ///
    /// Blocks go to the store in one [`put_many`](Blockstore::put_many): the changed values first, then the
    /// changed nodes, every child before its parent and the root last, so that a store that applies the batch in
    /// order never holds a node whose children are missing. Nothing else is written: a map loaded and left
    /// unchanged writes nothing, and one changed key writes one value and the nodes on its path.
    ///
    /// # Errors
    ///
    /// If the store fails. The map keeps its changes then, and a later flush writes them again.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{MemoryStore, StoredMap};
    ///
    /// let store = MemoryStore::new();
    /// let mut map = StoredMap::new(&store);
    /// map.insert("a".to_owned(), "1".into())?;
    /// let first = map.flush()?;
    /// let blocks = store.len();
    /// assert_eq!(map.flush()?, first); // nothing changed, nothing written
    /// assert_eq!(store.len(), blocks);
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn flush(&mut self) -> Result<Cid, StoreError> {
        let root = match &self.root {
            Root::Stored(cid, _) => return Ok(*cid),
            Root::Dirty(root) => Arc::clone(root),
        };
        // Encode the changed nodes children first, each with its children's new ids, and take the new values
        // their buckets name out of `pending`; nothing in the map changes until the store has everything.
        let mut blocks = Vec::new();
        let mut nodes = Vec::new();
        let root_cid = encode_changed(&root, self.config.link_format, &mut self.pending, &mut blocks, &mut nodes);
        let values = blocks.len();
        blocks.extend(nodes);
        if let Err(error) = self.store.put_many(&blocks) {
            blocks.truncate(values);
            for (cid, bytes) in blocks {
                add_pending(&mut self.pending, cid, bytes);
            }
            return Err(error);
        }
        // The store has every block: the changed nodes become links to them, and go into the cache as they will
        // read back.
        drop(root);
        let Root::Dirty(mut root) = std::mem::replace(&mut self.root, Root::Dirty(Arc::default())) else {
            unreachable!("the root was dirty above")
        };
        let mut ids = blocks[values..].iter().map(|(cid, _)| *cid);
        let mut path = Vec::with_capacity(MAX_DEPTH);
        settle(Arc::make_mut(&mut root), &mut ids, &mut path, &self.cache);
        self.cache.insert(&root_cid, Arc::new(CachedNode::new(Arc::clone(&root), &[])));
        self.root = Root::Stored(root_cid, root);
        self.pending.clear();
        Ok(root_cid)
    }

    /// The number of entries. Walks every node (not the values).
    ///
    /// # Errors
    ///
    /// If a node is missing or damaged.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{MemoryStore, StoredMap};
    ///
    /// let mut map = StoredMap::new(MemoryStore::new());
    /// for i in 0..20 {
    ///     map.insert(i.to_string(), vec![i].into())?;
    /// }
    /// assert_eq!(map.len()?, 20);
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn len(&self) -> Result<usize, StoreError> {
        let mut count = 0;
        for link in self.links() {
            link?;
            count += 1;
        }
        Ok(count)
    }

    /// Whether the map has no entries.
    ///
    /// # Errors
    ///
    /// If the root node is missing or damaged.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{MemoryStore, StoredMap};
    ///
    /// let mut map = StoredMap::new(MemoryStore::new());
    /// assert!(map.is_empty()?);
    /// map.insert("k".to_owned(), vec![1].into())?;
    /// assert!(!map.is_empty()?);
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.root_node()?.slots.is_empty())
    }

    /// Every key with the id of its value block, in hash order; values are not read. Memory is bounded by the
    /// trie's depth, not the map's size.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{MemoryStore, StoredMap};
    ///
    /// let mut map = StoredMap::new(MemoryStore::new());
    /// map.insert("a".to_owned(), "same".into())?;
    /// map.insert("b".to_owned(), "same".into())?;
    /// let links: Vec<_> = map.links().collect::<Result<_, _>>()?;
    /// assert_eq!(links.len(), 2);
    /// assert_eq!(links[0].1, links[1].1); // equal values are one block
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn links(&self) -> Links<'_, B> {
        Links::new(self)
    }

    /// Every entry, in hash order, each value read from the store as the iteration reaches it. Memory is bounded by
    /// the trie's depth, not the map's size.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{MemoryStore, StoredMap, Value};
    ///
    /// let mut map = StoredMap::new(MemoryStore::new());
    /// map.insert("x".to_owned(), Value::from(1))?;
    /// let entries: Vec<(String, Value)> = map.iter().collect::<Result<_, _>>()?;
    /// assert_eq!(entries, [("x".to_owned(), Value::from(1))]);
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn iter(&self) -> Iter<'_, B> {
        Iter::new(self)
    }

    /// Every key, in hash order.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{MemoryStore, StoredMap};
    ///
    /// let mut map = StoredMap::new(MemoryStore::new());
    /// map.insert("x".to_owned(), vec![].into())?;
    /// assert_eq!(map.keys().collect::<Result<Vec<_>, _>>()?, ["x"]);
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn keys(&self) -> Keys<'_, B> {
        Keys::new(self)
    }

    /// The differences from `self` to `other`, computed lazily: subtrees with equal ids (or shared unflushed nodes)
    /// are skipped unread, so comparing two versions costs what differs between them. Values are given as the ids
    /// of their blocks; read them with [`value`](Self::value).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{DiffItem, MemoryStore, StoredMap};
    ///
    /// let store = MemoryStore::new();
    /// let mut old = StoredMap::new(&store);
    /// for i in 0..1000 {
    ///     old.insert(format!("{i}"), vec![1].into())?;
    /// }
    /// old.flush()?;
    /// let mut new = old.clone();
    /// new.insert("500".to_owned(), vec![2].into())?;
    /// new.remove("7")?;
    /// new.flush()?;
    /// let mut changes: Vec<DiffItem> = old.diff(&new).collect::<Result<_, _>>()?;
    /// changes.sort_by(|a, b| a.key().cmp(b.key()));
    /// assert!(matches!(&changes[0], DiffItem::Changed { key, .. } if key == "500"));
    /// assert!(matches!(&changes[1], DiffItem::Removed(key, _) if key == "7"));
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn diff<'a>(&'a self, other: &'a StoredMap<B>) -> Diff<'a, B> {
        Diff::new(self, other)
    }

    /// Builds a stored map with the entries of `map` (values stored as bytes, in the default [`Config`]'s value
    /// mode), bottom-up in one pass, and flushes it.
    ///
    /// # Errors
    ///
    /// If the store fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::HamtMap;
    /// use hamt_store::{MemoryStore, StoredMap};
    ///
    /// let map: HamtMap<String, Vec<u8>> = (0..100).map(|i| (format!("k{i}"), vec![i])).collect();
    /// let stored = StoredMap::from_map(MemoryStore::new(), &map)?;
    /// assert_eq!(stored.to_map()?, map);
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn from_map<P: PointerKind, S>(store: B, map: &HamtMap<String, Vec<u8>, P, S>) -> Result<Self, StoreError> {
        Self::from_map_with_config(store, map, Config::default())
    }

    /// [`from_map`](Self::from_map) with a configuration of the caller's.
    ///
    /// # Errors
    ///
    /// If the store fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::HamtMap;
    /// use hamt_store::{Config, MemoryStore, StoredMap, ValueMode};
    ///
    /// let map: HamtMap<String, Vec<u8>> = [("chunk".to_owned(), vec![0; 8])].into_iter().collect();
    /// let config = Config { value_mode: ValueMode::Bytes, ..Config::default() };
    /// let stored = StoredMap::from_map_with_config(MemoryStore::new(), &map, config)?;
    /// assert_eq!(stored.get("chunk")?, Some(vec![0; 8].into()));
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn from_map_with_config<P: PointerKind, S>(
        store: B,
        map: &HamtMap<String, Vec<u8>, P, S>,
        config: Config,
    ) -> Result<Self, StoreError> {
        let mut stored = Self::with_config(store, config);
        let mut entries = Vec::with_capacity(map.len());
        for (key, value) in map.iter() {
            let (cid, bytes) = Value::Bytes(value.clone()).into_block(stored.config.value_mode, key)?;
            add_pending(&mut stored.pending, cid, Bytes::from(bytes));
            entries.push((key_hash(key), key.clone(), cid));
        }
        entries.sort_unstable_by_key(|entry| entry.0);
        let root = build(&entries, 0, stored.config.max_bucket_size)?;
        stored.root = Root::Dirty(Arc::new(root));
        stored.flush()?;
        Ok(stored)
    }

    /// Every entry, read into a [`HamtMap`] of the default flavour. Every value must be bytes.
    ///
    /// # Errors
    ///
    /// If a block is missing or damaged, or a value is not bytes ([`StoreError::ValueNotBytes`]).
    ///
    /// # Examples
    ///
    /// See [`from_map`](Self::from_map).
    pub fn to_map(&self) -> Result<HamtMap<String, Vec<u8>>, StoreError> {
        self.to_map_with_hasher(Default::default())
    }

    /// Every entry, read into a [`HamtMap`] of the caller's flavour and hasher. Every value must be bytes.
    ///
    /// # Errors
    ///
    /// As [`to_map`](Self::to_map).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_core::{ArcTK, DefaultHashBuilder, HamtMap};
    /// use hamt_store::{MemoryStore, StoredMap};
    ///
    /// let mut stored = StoredMap::new(MemoryStore::new());
    /// stored.insert("k".to_owned(), vec![1].into())?;
    /// let map: HamtMap<String, Vec<u8>, ArcTK> = stored.to_map_with_hasher(DefaultHashBuilder::default())?;
    /// assert_eq!(map.get("k"), Some(&vec![1]));
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn to_map_with_hasher<P: PointerKind, S: BuildHasher>(
        &self,
        hasher: S,
    ) -> Result<HamtMap<String, Vec<u8>, P, S>, StoreError> {
        let mut map = HamtMap::with_hasher(hasher);
        for entry in self.iter() {
            let (key, value) = entry?;
            match value {
                Value::Bytes(bytes) => map.insert_mut(key, bytes),
                Value::Ipld(_) => return Err(StoreError::ValueNotBytes { key }),
            };
        }
        Ok(map)
    }

    fn root_ref(&self) -> &Node {
        match &self.root {
            Root::Stored(_, node) | Root::Dirty(node) => node,
        }
    }

    pub(crate) fn root_node(&self) -> Result<Arc<Node>, StoreError> {
        Ok(match &self.root {
            Root::Stored(_, node) | Root::Dirty(node) => Arc::clone(node),
        })
    }

    pub(crate) fn load_node(&self, cid: &Cid, path: &[u8]) -> Result<Arc<CachedNode>, StoreError> {
        let context = Context { store: &self.store, cache: &self.cache, max_bucket_size: self.config.max_bucket_size };
        context.load_node(cid, path)
    }

    /// The child node `link` leads to, at `path`.
    pub(crate) fn child(&self, link: &Link, path: &[u8]) -> Result<Arc<CachedNode>, StoreError> {
        let context = Context { store: &self.store, cache: &self.cache, max_bucket_size: self.config.max_bucket_size };
        context.child(link, path)
    }

    /// Reads the nodes of `cids` that the cache lacks with one batched read (which object stores run
    /// concurrently), so that a walk that is about to visit them finds them cached.
    pub(crate) fn prefetch(&self, cids: &[(Cid, Vec<u8>)]) -> Result<(), StoreError> {
        let missing: Vec<&(Cid, Vec<u8>)> = cids.iter().filter(|(cid, _)| !self.cache.contains(cid)).collect();
        if missing.len() < 2 {
            return Ok(());
        }
        let ids: Vec<Cid> = missing.iter().map(|(cid, _)| *cid).collect();
        let blocks = self.store.get_many(&ids)?;
        for ((cid, path), bytes) in missing.into_iter().zip(blocks) {
            // A block that is missing or damaged is left for the walk to report when it gets there.
            let _ = admit(&self.cache, cid, bytes, path);
        }
        Ok(())
    }
}

impl<B: Blockstore> PartialEq for StoredMap<B> {
    /// Two maps are equal when they hold the same entries (values compared by their block ids). Flushed maps
    /// compare by root id alone.
    fn eq(&self, other: &Self) -> bool {
        match (self.root(), other.root()) {
            (Some(a), Some(b)) if a == b => true,
            _ => self.diff(other).next().is_none(),
        }
    }
}

/// What insertion, removal and loading need of a map: its store, cache and bucket size.
struct Context<'a, B> {
    store: &'a B,
    cache: &'a NodeCache,
    max_bucket_size: usize,
}

impl<B: Blockstore> Context<'_, B> {
    fn load_node(&self, cid: &Cid, path: &[u8]) -> Result<Arc<CachedNode>, StoreError> {
        if let Some(cached) = self.cache.get(cid)
            && cached.path() == path
        {
            return Ok(cached);
        }
        admit(self.cache, cid, self.store.get(cid)?, path)
    }

    /// The child node `link` leads to, at `path`: through the link's own reference when the cache still holds the
    /// child (no lookup), else through the cache or the store, after which the link remembers it.
    fn child(&self, link: &Link, path: &[u8]) -> Result<Arc<CachedNode>, StoreError> {
        if let Some(child) = link.cached(path) {
            return Ok(child);
        }
        let child = self.load_node(&link.cid, path)?;
        link.remember(&child);
        Ok(child)
    }

    /// Puts `key` with value `cid` into `node` at `depth`. Everything that can fail (reading a child, a path too
    /// deep) happens before the first change, so the map is unchanged on error.
    fn insert(&self, node: &mut Node, depth: usize, hash: &[u8; 32], key: String, cid: Cid) -> Result<(), StoreError> {
        let index = hash[depth];
        let position = match node.find(index) {
            Ok(position) => position,
            Err(position) => {
                node.insert_slot(position, index, Slot::Bucket(vec![(key, cid)]));
                return Ok(());
            }
        };
        let replacement = match &mut node.slots[position].1 {
            Slot::Bucket(entries) => {
                match entries.binary_search_by(|(candidate, _)| canonical_order(candidate, &key)) {
                    Ok(found) => {
                        entries[found].1 = cid;
                        return Ok(());
                    }
                    Err(at) if entries.len() < self.max_bucket_size => {
                        entries.insert(at, (key, cid));
                        return Ok(());
                    }
                    // A full bucket becomes a child node one level down that holds its keys and the new one.
                    Err(_) => {
                        if depth + 1 >= MAX_DEPTH {
                            return Err(StoreError::TooDeep { key });
                        }
                        let mut child = Node::default();
                        for (old_key, old_cid) in entries.iter() {
                            self.insert(&mut child, depth + 1, &key_hash(old_key), old_key.clone(), *old_cid)?;
                        }
                        self.insert(&mut child, depth + 1, hash, key, cid)?;
                        child
                    }
                }
            }
            Slot::Link(link) => {
                let loaded = self.child(link, &hash[..=depth])?;
                let mut child = Node::clone(&loaded.node);
                self.insert(&mut child, depth + 1, hash, key, cid)?;
                child
            }
            Slot::Dirty(child) => return self.insert(Arc::make_mut(child), depth + 1, hash, key, cid),
        };
        node.slots[position].1 = Slot::Dirty(Arc::new(replacement));
        Ok(())
    }

    /// Removes `key` from `node` at `depth`; a child left with at most `max_bucket_size` keys in buckets collapses
    /// into a bucket of its parent, so the shape depends only on the contents, as py-hamt's does.
    fn remove(&self, node: &mut Node, depth: usize, hash: &[u8; 32], key: &str) -> Result<bool, StoreError> {
        let index = hash[depth];
        let Ok(position) = node.find(index) else { return Ok(false) };
        let slot = &mut node.slots[position].1;
        match slot {
            Slot::Bucket(entries) => {
                let Some(found) = entries.iter().position(|(candidate, _)| candidate == key) else {
                    return Ok(false);
                };
                entries.remove(found);
            }
            Slot::Link(link) => {
                let loaded = self.child(link, &hash[..=depth])?;
                let mut child = Node::clone(&loaded.node);
                if !self.remove(&mut child, depth + 1, hash, key)? {
                    return Ok(false);
                }
                *slot = self.collapse(&child).map_or_else(|| Slot::Dirty(Arc::new(child)), Slot::Bucket);
            }
            Slot::Dirty(child) => {
                if !self.remove(Arc::make_mut(child), depth + 1, hash, key)? {
                    return Ok(false);
                }
                if let Some(entries) = self.collapse(child) {
                    *slot = Slot::Bucket(entries);
                }
            }
        }
        if matches!(slot, Slot::Bucket(entries) if entries.is_empty()) {
            node.remove_slot(position);
        }
        Ok(true)
    }

    /// The entries of `child` as one bucket, if it holds only buckets with at most `max_bucket_size` keys in all.
    /// (A child slot covers more keys than a bucket holds, so a child with a child slot never collapses.)
    fn collapse(&self, child: &Node) -> Option<Vec<(String, Cid)>> {
        let mut entries = Vec::new();
        for (_, slot) in &child.slots {
            match slot {
                Slot::Bucket(bucket) if entries.len() + bucket.len() <= self.max_bucket_size => {
                    entries.extend(bucket.iter().cloned());
                }
                _ => return None,
            }
        }
        entries.sort_by(|a: &(String, Cid), b| canonical_order(&a.0, &b.0));
        Some(entries)
    }
}

/// Keeps value block `cid` (a BLAKE3-256 id the map computed) for the next flush.
fn add_pending(pending: &mut Pending, cid: Cid, bytes: Bytes) {
    // Only a BLAKE3-256 id has a key, and the map computes only those: `None` cannot happen.
    if let Some(key) = BlockKey::of(&cid) {
        pending.entry(key).or_insert(bytes);
    }
}

/// Turns node block `cid`, as the store returned it, into a cached node: checked against its id, decoded at `path`
/// (its keys' placement checked unless the cache remembers it was already), and put into the cache.
fn admit(cache: &NodeCache, cid: &Cid, bytes: Option<Bytes>, path: &[u8]) -> Result<Arc<CachedNode>, StoreError> {
    let bytes = checked_block(cid, bytes)?;
    let placed = cache.is_placed(cid, path);
    let node = Node::decode_checking(&bytes, path, !placed).map_err(|error| StoreError::bad_node(Some(*cid), error))?;
    if !placed {
        cache.set_placed(cid, path);
    }
    let cached = Arc::new(CachedNode::new(Arc::new(node), path));
    cache.insert(cid, Arc::clone(&cached));
    Ok(cached)
}

/// Builds the node at `depth` for `entries`, which are sorted by hash and share their first `depth` hash bytes.
fn build(entries: &[([u8; 32], String, Cid)], depth: usize, max_bucket_size: usize) -> Result<Node, StoreError> {
    let mut node = Node::default();
    let mut rest = entries;
    while let Some(first) = rest.first() {
        let index = first.0[depth];
        let count = rest.iter().take_while(|entry| entry.0[depth] == index).count();
        let (group, tail) = rest.split_at(count);
        rest = tail;
        let slot = if group.len() <= max_bucket_size {
            let mut bucket: Vec<(String, Cid)> = group.iter().map(|(_, key, cid)| (key.clone(), *cid)).collect();
            bucket.sort_by(|a, b| canonical_order(&a.0, &b.0));
            Slot::Bucket(bucket)
        } else if depth + 1 >= MAX_DEPTH {
            return Err(StoreError::TooDeep { key: first.1.clone() });
        } else {
            Slot::Dirty(Arc::new(build(group, depth + 1, max_bucket_size)?))
        };
        node.push_slot(index, slot);
    }
    Ok(node)
}

/// Encodes the changed nodes under and including `node`, every child before its parent, appending them to
/// `nodes`, and moves the values their buckets name from `pending` to `values`; returns `node`'s id.
fn encode_changed(
    node: &Node,
    links: LinkFormat,
    pending: &mut Pending,
    values: &mut Vec<(Cid, Bytes)>,
    nodes: &mut Vec<(Cid, Bytes)>,
) -> Cid {
    let mut children = Vec::new();
    for (_, slot) in &node.slots {
        match slot {
            Slot::Dirty(child) => children.push(encode_changed(child, links, pending, values, nodes)),
            Slot::Bucket(entries) => {
                for (_, cid) in entries {
                    if let Some(bytes) = BlockKey::of(cid).and_then(|key| pending.remove(&key)) {
                        values.push((*cid, bytes));
                    }
                }
            }
            Slot::Link(_) => {}
        }
    }
    let bytes = node.encode_with(links, &mut children.into_iter());
    let cid = block_cid(DAG_CBOR, &bytes);
    nodes.push((cid, Bytes::from(bytes)));
    cid
}

/// Turns the changed children under `node` into links to the ids `ids` gives (in the order
/// [`encode_changed`] wrote them), and puts each child into the cache.
fn settle(node: &mut Node, ids: &mut impl Iterator<Item = Cid>, path: &mut Vec<u8>, cache: &NodeCache) {
    for (index, slot) in &mut node.slots {
        if let Slot::Dirty(child) = slot {
            path.push(*index);
            settle(Arc::make_mut(child), ids, path, cache);
            let Some(cid) = ids.next() else { unreachable!("encode_changed wrote one id per changed node") };
            // The map placed every key of this node itself.
            cache.set_placed(&cid, path);
            let cached = Arc::new(CachedNode::new(Arc::clone(child), path));
            cache.insert(&cid, Arc::clone(&cached));
            path.pop();
            *slot = Slot::Link(Box::new(Link::to_cached(cid, &cached)));
        }
    }
}
