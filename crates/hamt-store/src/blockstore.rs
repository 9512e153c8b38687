//! The [`Blockstore`] trait, at the centre of the crate, and the in-memory backend.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use cid::Cid;

use crate::StoreError;

/// Where blocks live: a map from block ids ([`Cid`]s) to bytes.
///
/// Blocks travel as [`Bytes`], shared buffers that clone without copying: a backend that keeps blocks in memory, or
/// receives them as `Bytes` (object stores do), hands them on as they are, and a flush hands a backend the buffers
/// the map already holds.
///
/// A stored map reads and writes its nodes and values through this trait; the backends are
/// [`MemoryStore`], `RedbStore` (one redb file, feature `redb`, on by default) and `ObjectStore` (S3, GCS, Azure or
/// local files through the `object_store` crate, feature `object-store`).
///
/// Blocks are immutable: the bytes under an id are the bytes that hash to it, so putting a block that is already
/// there must succeed and change nothing. The store need not check ids against bytes; the map checks every block it
/// reads ([`StoreError::HashMismatch`]).
///
/// The batch forms, [`get_many`](Blockstore::get_many) and [`put_many`](Blockstore::put_many), are what stored maps
/// call when they load or flush several blocks at once; backends with latency (object stores) run them
/// concurrently, and the default implementations call the single forms in turn. [`list`](Blockstore::list) and
/// [`delete`](Blockstore::delete) serve [`gc`](crate::gc).
///
/// A shared reference or an [`Arc`] of a store is a store too, so that several maps can share one.
///
/// # Examples
///
/// ```
/// use hamt_store::{Blockstore, MemoryStore, block_cid, RAW};
///
/// let store = MemoryStore::new();
/// let bytes = b"hello";
/// let cid = block_cid(RAW, bytes);
/// store.put(&cid, bytes)?;
/// assert!(store.has(&cid)?);
/// assert_eq!(store.get(&cid)?.as_deref(), Some(&bytes[..]));
/// # Ok::<(), hamt_store::StoreError>(())
/// ```
pub trait Blockstore: Send + Sync {
    /// The bytes of block `cid`, or `None` if the store does not hold it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the backend fails.
    fn get(&self, cid: &Cid) -> Result<Option<Bytes>, StoreError>;

    /// Stores `bytes` as block `cid`. Writing a block that is already there is harmless.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the backend fails.
    fn put(&self, cid: &Cid, bytes: &[u8]) -> Result<(), StoreError>;

    /// Whether the store holds block `cid`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the backend fails.
    fn has(&self, cid: &Cid) -> Result<bool, StoreError> {
        Ok(self.get(cid)?.is_some())
    }

    /// The bytes of every block of `cids`, in order (`None` for a block the store does not hold). Backends may fetch
    /// them concurrently.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the backend fails.
    fn get_many(&self, cids: &[Cid]) -> Result<Vec<Option<Bytes>>, StoreError> {
        cids.iter().map(|cid| self.get(cid)).collect()
    }

    /// Stores every block of `blocks`. Backends may write them concurrently, and in any order; a backend with
    /// transactions writes them in one.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the backend fails; some of the blocks may have been written.
    fn put_many(&self, blocks: &[(Cid, Bytes)]) -> Result<(), StoreError> {
        blocks.iter().try_for_each(|(cid, bytes)| self.put(cid, bytes))
    }

    /// The ids of every block the store holds, in no particular order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the backend fails.
    fn list(&self) -> Result<Vec<Cid>, StoreError>;

    /// Deletes the blocks `cids`; ids the store does not hold are ignored.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the backend fails; some of the blocks may have been deleted.
    fn delete(&self, cids: &[Cid]) -> Result<(), StoreError>;
}

macro_rules! forward_blockstore {
    ($($pointer:ty),*) => {$(
        impl<B: Blockstore + ?Sized> Blockstore for $pointer {
            fn get(&self, cid: &Cid) -> Result<Option<Bytes>, StoreError> {
                (**self).get(cid)
            }
            fn put(&self, cid: &Cid, bytes: &[u8]) -> Result<(), StoreError> {
                (**self).put(cid, bytes)
            }
            fn has(&self, cid: &Cid) -> Result<bool, StoreError> {
                (**self).has(cid)
            }
            fn get_many(&self, cids: &[Cid]) -> Result<Vec<Option<Bytes>>, StoreError> {
                (**self).get_many(cids)
            }
            fn put_many(&self, blocks: &[(Cid, Bytes)]) -> Result<(), StoreError> {
                (**self).put_many(blocks)
            }
            fn list(&self) -> Result<Vec<Cid>, StoreError> {
                (**self).list()
            }
            fn delete(&self, cids: &[Cid]) -> Result<(), StoreError> {
                (**self).delete(cids)
            }
        }
    )*};
}

forward_blockstore!(&B, Arc<B>, Box<B>);

/// Block ids are hashes already, so a fast non-cryptographic hasher spreads them well.
type Blocks = HashMap<StoredId, Bytes, foldhash::fast::RandomState>;

/// A block id as the in-memory store keys it: equal as the [`Cid`] is, hashed through the first 8 bytes of its
/// digest when that is BLAKE3-256 (the ids this crate writes; a cryptographic hash is spread evenly already, and the
/// map's random seed mixes it), and through the whole id otherwise (an identity multihash, say, is not spread).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StoredId(Cid);

impl std::hash::Hash for StoredId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let hash = self.0.hash();
        match hash.digest().first_chunk::<8>() {
            Some(prefix) if hash.code() == crate::BLAKE3 && hash.size() == 32 => {
                state.write_u64(u64::from_le_bytes(*prefix));
            }
            _ => std::hash::Hash::hash(&self.0, state),
        }
    }
}

/// Blocks in memory, in a hash map behind a read-write lock: for tests, caches and maps that fit in memory.
///
/// Clones share the same blocks.
///
/// # Examples
///
/// ```
/// use hamt_store::{MemoryStore, StoredMap};
///
/// let store = MemoryStore::new();
/// let mut map = StoredMap::new(store.clone());
/// map.insert("answer".to_owned(), b"42".to_vec().into())?;
/// let root = map.flush()?;
/// assert_eq!(store.len(), 2); // one node and one value
/// let reopened = StoredMap::load(store, root)?;
/// assert_eq!(reopened.get("answer")?, Some(b"42".to_vec().into()));
/// # Ok::<(), hamt_store::StoreError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    blocks: Arc<RwLock<Blocks>>,
}

impl MemoryStore {
    /// An empty store.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(hamt_store::MemoryStore::new().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of blocks held.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(hamt_store::MemoryStore::new().len(), 0);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the store holds no block.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(hamt_store::MemoryStore::new().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// The total size of the blocks' bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{Blockstore, MemoryStore, block_cid, RAW};
    ///
    /// let store = MemoryStore::new();
    /// store.put(&block_cid(RAW, b"abc"), b"abc")?;
    /// assert_eq!(store.stored_bytes(), 3);
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    #[must_use]
    pub fn stored_bytes(&self) -> usize {
        self.read().values().map(|bytes| bytes.len()).sum()
    }

    // A panic while the lock was held cannot leave the map half-updated (every update is one `insert` or `remove`),
    // so a poisoned lock is still safe to use.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Blocks> {
        self.blocks.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Blocks> {
        self.blocks.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Blockstore for MemoryStore {
    fn get(&self, cid: &Cid) -> Result<Option<Bytes>, StoreError> {
        Ok(self.read().get(&StoredId(*cid)).cloned())
    }

    fn put(&self, cid: &Cid, bytes: &[u8]) -> Result<(), StoreError> {
        self.write().entry(StoredId(*cid)).or_insert_with(|| Bytes::copy_from_slice(bytes));
        Ok(())
    }

    fn has(&self, cid: &Cid) -> Result<bool, StoreError> {
        Ok(self.read().contains_key(&StoredId(*cid)))
    }

    fn put_many(&self, blocks: &[(Cid, Bytes)]) -> Result<(), StoreError> {
        let mut map = self.write();
        map.reserve(blocks.len());
        for (cid, bytes) in blocks {
            map.entry(StoredId(*cid)).or_insert_with(|| bytes.clone());
        }
        Ok(())
    }

    fn list(&self) -> Result<Vec<Cid>, StoreError> {
        Ok(self.read().keys().map(|id| id.0).collect())
    }

    fn delete(&self, cids: &[Cid]) -> Result<(), StoreError> {
        let mut map = self.write();
        for cid in cids {
            map.remove(&StoredId(*cid));
        }
        Ok(())
    }
}
