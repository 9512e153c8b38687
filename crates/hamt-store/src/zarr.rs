//! Zarr v3 arrays in a stored map: [`ZarrStore`] is a storage for the [`zarrs`](https://docs.rs/zarrs) crate,
//! laid out as py-hamt's `ZarrHAMTStore` lays it out, so that Python's zarr over py-hamt and Rust's zarrs over
//! hamt-store read and write the same data sets under the same root ids.
//!
//! The layout: every Zarr key (`zarr.json`, `temp/zarr.json`, `temp/c/0/1`) is a key of the map, verbatim, and
//! every value (a metadata document or an encoded chunk) is a value block of raw bytes (the map's
//! [`ValueMode::Bytes`], py-hamt's `values_are_bytes`). With [`Encryption`], each value is encrypted as
//! py-hamt's `SimpleEncryptedZarrHAMTStore` encrypts it; the keys stay readable (see [`Encryption`] for what that
//! protects and what it does not).
//!
//! [`ZarrStore`] implements `zarrs_storage`'s readable, listable and writable traits, so an
//! `Arc<ZarrStore<B>>` is what `zarrs::array::Array::create`/`open` and `zarrs::group::Group` take:
//!
//! - reads go through the map's node cache, and a byte-range read of a chunk (zarrs reads a shard's index and
//!   inner chunks that way) fetches that chunk's value block and nothing else once the nodes on its path are
//!   cached;
//! - metadata documents (keys ending in `zarr.json`, py-hamt's rule) are kept decoded and decrypted after their
//!   first read, since zarr reads them over and over;
//! - writes change the map in memory; [`ZarrStore::flush`] writes the changed nodes and values and returns the new
//!   root id, which [`ZarrStore::load`] (in this process or any other, or py-hamt) opens again.
//!
//! Errors reach zarrs as `StorageError::IOError`; the `io::Error` inside holds a [`ZarrError`], reachable with
//! `get_ref()` and `downcast_ref`.
//!
//! # Examples
//!
//! An array written through zarrs, flushed, and opened again by root id:
//!
//! ```
//! use std::sync::Arc;
//!
//! use hamt_store::MemoryStore;
//! use hamt_store::zarr::ZarrStore;
//! use zarrs::array::{ArrayBuilder, ArraySubset, data_type};
//!
//! let blocks = MemoryStore::new();
//! let storage = Arc::new(ZarrStore::new(blocks.clone()));
//! let array = ArrayBuilder::new(vec![4, 6], vec![2, 3], data_type::float32(), 0.0f32).build(storage.clone(), "/temp")?;
//! array.store_metadata()?;
//! let values: Vec<f32> = (0..24).map(|i| i as f32 * 0.5).collect();
//! array.store_array_subset(&ArraySubset::new_with_shape(vec![4, 6]), values.clone())?;
//! let root = storage.flush()?;
//!
//! // Anyone holding the blocks and the root id reads the array back.
//! let reopened = Arc::new(ZarrStore::load(blocks, root)?);
//! let array = zarrs::array::Array::open(reopened, "/temp")?;
//! let region: Vec<f32> = array.retrieve_array_subset(&ArraySubset::new_with_ranges(&[1..3, 2..5]))?;
//! assert_eq!(region, [4.0, 4.5, 5.0, 7.0, 7.5, 8.0]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod crypt;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use crypt::{DecryptError, EncryptError, Encryption, NONCE_LEN, OVERHEAD, TAG_LEN};
use zarrs_storage::byte_range::{ByteRange, ByteRangeIterator, InvalidByteRangeError};
use zarrs_storage::{
    Bytes, ListableStorageTraits, MaybeBytes, MaybeBytesIterator, OffsetBytesIterator, ReadableStorageTraits,
    StorageError, StoreKey, StoreKeys, StoreKeysPrefixes, StorePrefix, WritableStorageTraits,
};

use crate::{Blockstore, Cid, Config, RAW, StoreError, StoredMap, ValueMode, block_cid};

/// The suffix of the keys whose values [`ZarrStore`] caches after the first read: Zarr v3's metadata documents,
/// by py-hamt's rule (any key that ends with it).
pub const METADATA_SUFFIX: &str = "zarr.json";

/// A Zarr v3 storage over a [`StoredMap`] of raw byte values, in py-hamt's `ZarrHAMTStore` layout, optionally
/// encrypted as its `SimpleEncryptedZarrHAMTStore` encrypts (see the [module](self) documentation).
///
/// Readers share the map behind a read lock and never wait for each other; writers take the write lock for the
/// change to the in-memory map only. `ZarrStore<B>` is `Send + Sync` when `B` is, as zarrs requires.
///
/// # Examples
///
/// See the [module](self) documentation.
pub struct ZarrStore<B> {
    map: RwLock<StoredMap<B>>,
    /// Plaintext metadata documents already read, by key; dropped when their key is written or erased.
    metadata: Mutex<HashMap<String, Bytes>>,
    encryption: Option<Encryption>,
}

impl<B: Blockstore> ZarrStore<B> {
    /// An empty Zarr store over `store`: a new map with the default [`Config`] but values as raw bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::MemoryStore;
    /// use hamt_store::zarr::ZarrStore;
    ///
    /// let zarr = ZarrStore::new(MemoryStore::new());
    /// assert!(zarr.root().is_none());
    /// ```
    pub fn new(store: B) -> Self {
        Self::wrap(StoredMap::with_config(store, bytes_config(Config::default())))
    }

    /// The Zarr store whose map's root is `root` in `store` (written by [`flush`](Self::flush), or by py-hamt's
    /// `ZarrHAMTStore`), with the default [`Config`] but values as raw bytes.
    ///
    /// # Errors
    ///
    /// If the root block is missing or not a valid node.
    ///
    /// # Examples
    ///
    /// See the [module](self) documentation.
    pub fn load(store: B, root: Cid) -> Result<Self, StoreError> {
        Self::load_with_config(store, root, Config::default())
    }

    /// As [`load`](Self::load), with the map's cache sizes and link format from `config` (its value mode is
    /// always [`ValueMode::Bytes`]).
    ///
    /// # Errors
    ///
    /// As [`load`](Self::load).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::zarr::ZarrStore;
    /// use hamt_store::{Config, MemoryStore};
    ///
    /// let store = MemoryStore::new();
    /// let root = ZarrStore::new(&store).flush()?;
    /// let config = Config { cache_bytes: 1 << 20, ..Config::default() };
    /// let zarr = ZarrStore::load_with_config(&store, root, config)?;
    /// assert_eq!(zarr.root(), Some(root));
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn load_with_config(store: B, root: Cid, config: Config) -> Result<Self, StoreError> {
        StoredMap::load_with_config(store, root, bytes_config(config)).map(Self::wrap)
    }

    /// The Zarr store over `map`, which must keep its values as raw bytes.
    ///
    /// # Errors
    ///
    /// [`NotBytes`] (giving the map back) if the map's value mode is not [`ValueMode::Bytes`]: py-hamt's
    /// Zarr store, and this one, keep Zarr's bytes as they are.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::zarr::ZarrStore;
    /// use hamt_store::{Config, MemoryStore, StoredMap, ValueMode};
    ///
    /// let cbor = StoredMap::new(MemoryStore::new());
    /// assert!(ZarrStore::from_map(cbor).is_err());
    /// let bytes = StoredMap::with_config(MemoryStore::new(), Config { value_mode: ValueMode::Bytes, ..Config::default() });
    /// assert!(ZarrStore::from_map(bytes).is_ok());
    /// ```
    #[allow(clippy::result_large_err, reason = "the error gives the map back, as `Err` of a conversion does")]
    pub fn from_map(map: StoredMap<B>) -> Result<Self, NotBytes<B>> {
        if map.config().value_mode == ValueMode::Bytes { Ok(Self::wrap(map)) } else { Err(NotBytes(map)) }
    }

    fn wrap(map: StoredMap<B>) -> Self {
        Self { map: RwLock::new(map), metadata: Mutex::new(HashMap::new()), encryption: None }
    }

    /// This store with every value encrypted and decrypted by `encryption`, as py-hamt's
    /// `SimpleEncryptedZarrHAMTStore` does. Use it on an empty map, or on one written with the same key and header.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::MemoryStore;
    /// use hamt_store::zarr::{Encryption, ZarrStore};
    ///
    /// let zarr = ZarrStore::new(MemoryStore::new()).with_encryption(Encryption::new([9; 32], b"header".to_vec()));
    /// assert!(zarr.encryption().is_some());
    /// ```
    #[must_use]
    pub fn with_encryption(mut self, encryption: Encryption) -> Self {
        self.encryption = Some(encryption);
        self.metadata_cache().clear();
        self
    }

    /// The encryption of this store's values, if any.
    ///
    /// # Examples
    ///
    /// See [`with_encryption`](Self::with_encryption).
    pub fn encryption(&self) -> Option<&Encryption> {
        self.encryption.as_ref()
    }

    /// Writes the nodes and values changed since the last flush and returns the map's new root id.
    ///
    /// # Errors
    ///
    /// If the block store fails; the changes stay in memory then, and a later flush writes them.
    ///
    /// # Examples
    ///
    /// See the [module](self) documentation.
    pub fn flush(&self) -> Result<Cid, StoreError> {
        self.write_map().flush()
    }

    /// The map's root id, or `None` if it changed since the last flush.
    ///
    /// # Examples
    ///
    /// See [`new`](Self::new).
    pub fn root(&self) -> Option<Cid> {
        self.read_map().root()
    }

    /// The map, to read it as a map (a [`diff`](StoredMap::diff) of two versions, its keys) while the store is in
    /// use. Writes through zarrs wait while the guard lives.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::MemoryStore;
    /// use hamt_store::zarr::ZarrStore;
    /// use zarrs_storage::{StoreKey, WritableStorageTraits};
    ///
    /// let zarr = ZarrStore::new(MemoryStore::new());
    /// zarr.set(&StoreKey::new("zarr.json")?, "{}".into())?;
    /// assert_eq!(zarr.map().len()?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map(&self) -> RwLockReadGuard<'_, StoredMap<B>> {
        self.read_map()
    }

    /// The map, with whatever was written and not flushed.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::MemoryStore;
    /// use hamt_store::zarr::ZarrStore;
    ///
    /// let mut map = ZarrStore::new(MemoryStore::new()).into_map();
    /// assert!(map.is_empty()?);
    /// # Ok::<(), hamt_store::StoreError>(())
    /// ```
    pub fn into_map(self) -> StoredMap<B> {
        self.map.into_inner().unwrap_or_else(PoisonError::into_inner)
    }

    /// The plaintext value of `key`, through the metadata cache for metadata documents.
    ///
    /// # Errors
    ///
    /// If a block is missing or damaged ([`ZarrError::Store`]) or the value does not decrypt
    /// ([`ZarrError::Decrypt`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::MemoryStore;
    /// use hamt_store::zarr::ZarrStore;
    /// use zarrs_storage::{StoreKey, WritableStorageTraits};
    ///
    /// let zarr = ZarrStore::new(MemoryStore::new());
    /// zarr.set(&StoreKey::new("a/c/0")?, vec![1, 2, 3].into())?;
    /// assert_eq!(zarr.value("a/c/0")?.as_deref(), Some(&[1, 2, 3][..]));
    /// assert_eq!(zarr.value("a/c/1")?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn value(&self, key: &str) -> Result<Option<Bytes>, ZarrError> {
        let metadata = key.ends_with(METADATA_SUFFIX);
        if metadata && let Some(bytes) = self.metadata_cache().get(key) {
            return Ok(Some(bytes.clone()));
        }
        // The map stays read-locked until the document is cached, so that no write of the key can come between
        // the read and the caching and leave an old document in the cache (writers drop the entry while they hold
        // the write lock).
        let map = self.read_map();
        let Some(stored) = stored_value(&map, key)? else { return Ok(None) };
        let plaintext = match &self.encryption {
            Some(encryption) => Bytes::from(encryption.decrypt(&stored)?),
            None => stored,
        };
        if metadata {
            self.metadata_cache().insert(key.to_owned(), plaintext.clone());
        }
        drop(map);
        Ok(Some(plaintext))
    }

    /// Sets `key` to `value` (encrypted if the store encrypts) in the map; [`flush`](Self::flush) writes it.
    ///
    /// # Errors
    ///
    /// If a node on the way cannot be read, or encryption fails; the map is unchanged then.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::MemoryStore;
    /// use hamt_store::zarr::ZarrStore;
    ///
    /// let zarr = ZarrStore::new(MemoryStore::new());
    /// zarr.set_value("zarr.json", br#"{"zarr_format":3,"node_type":"group"}"#)?;
    /// assert!(zarr.value("zarr.json")?.is_some());
    /// # Ok::<(), hamt_store::zarr::ZarrError>(())
    /// ```
    pub fn set_value(&self, key: &str, value: &[u8]) -> Result<(), ZarrError> {
        match &self.encryption {
            Some(encryption) => self.store_value(key, Bytes::from(encryption.encrypt(value)?)),
            None => self.store_value(key, Bytes::copy_from_slice(value)),
        }
    }

    /// Sets `key` to the stored (already encrypted, if the store encrypts) bytes `value`.
    fn store_value(&self, key: &str, value: Bytes) -> Result<(), ZarrError> {
        // The value's hash is computed before the map is locked, so that writers of different chunks (zarrs writes
        // them in parallel) hash at the same time and hold the lock only to change the trie.
        let cid = block_cid(RAW, &value);
        let mut map = self.write_map();
        map.insert_raw_block(key.to_owned(), cid, value)?;
        // Under the write lock, so that no reader caches the old document after this (see `value`).
        self.metadata_cache().remove(key);
        Ok(())
    }

    /// Removes `key`; whether it was there.
    ///
    /// # Errors
    ///
    /// If a node on the way cannot be read; the map is unchanged then.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::MemoryStore;
    /// use hamt_store::zarr::ZarrStore;
    ///
    /// let zarr = ZarrStore::new(MemoryStore::new());
    /// zarr.set_value("k", b"v")?;
    /// assert!(zarr.remove("k")?);
    /// assert!(!zarr.remove("k")?);
    /// # Ok::<(), hamt_store::zarr::ZarrError>(())
    /// ```
    pub fn remove(&self, key: &str) -> Result<bool, ZarrError> {
        let mut map = self.write_map();
        let removed = map.remove(key)?;
        // Under the write lock, as in `store_value`.
        self.metadata_cache().remove(key);
        Ok(removed)
    }

    /// Every key of the map, sorted, as Zarr keys. Keys that are not valid Zarr keys (a py-hamt map may hold any
    /// text) are left out: no Zarr node can name them.
    fn keys_where(&self, keep: impl Fn(&str) -> bool) -> Result<StoreKeys, ZarrError> {
        let mut keys = Vec::new();
        for key in self.read_map().keys() {
            let key = key?;
            if keep(&key)
                && let Ok(key) = StoreKey::new(key)
            {
                keys.push(key);
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// The plaintext length of the value of `key`.
    fn value_len(&self, key: &str) -> Result<Option<u64>, ZarrError> {
        if let Some(bytes) = self.metadata_cache().get(key) {
            return Ok(Some(bytes.len() as u64));
        }
        let Some(stored) = stored_value(&self.read_map(), key)? else { return Ok(None) };
        let len = stored.len();
        if self.encryption.is_some() {
            // Not decrypted: the length is all that is asked, and a value too short to hold a nonce and a tag is
            // refused as decryption would refuse it.
            return match len.checked_sub(OVERHEAD) {
                Some(plaintext) => Ok(Some(plaintext as u64)),
                None => Err(DecryptError::TooShort { len }.into()),
            };
        }
        Ok(Some(len as u64))
    }

    fn read_map(&self) -> RwLockReadGuard<'_, StoredMap<B>> {
        // A panic while the lock was held cannot leave the map half-changed: its changes are failure-atomic, and
        // a panic inside one is a bug that unwinds before the new root is installed.
        self.map.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_map(&self) -> RwLockWriteGuard<'_, StoredMap<B>> {
        self.map.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn metadata_cache(&self) -> MutexGuard<'_, HashMap<String, Bytes>> {
        self.metadata.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The value block of `key` in `map` as stored (encrypted, if the store encrypts), checked against its id.
fn stored_value<B: Blockstore>(map: &StoredMap<B>, key: &str) -> Result<Option<Bytes>, StoreError> {
    match map.get_link(key)? {
        Some(cid) => map.value_block(&cid).map(Some),
        None => Ok(None),
    }
}

/// The bytes `range` names in a value of `len` bytes, or `None` if it reaches outside the value. (zarrs'
/// `ByteRange::start` and `end` assume a valid range and overflow on others.)
fn within(range: ByteRange, len: u64) -> Option<std::ops::Range<u64>> {
    match range {
        ByteRange::FromStart(start, None) => (start <= len).then_some(start..len),
        ByteRange::FromStart(start, Some(length)) => {
            start.checked_add(length).filter(|&end| end <= len).map(|end| start..end)
        }
        ByteRange::Suffix(length) => len.checked_sub(length).map(|start| start..len),
    }
}

/// `config` with values as raw bytes, the layout of Zarr stores.
fn bytes_config(config: Config) -> Config {
    Config { value_mode: ValueMode::Bytes, ..config }
}

impl<B> fmt::Debug for ZarrStore<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZarrStore").field("encryption", &self.encryption).finish_non_exhaustive()
    }
}

/// The map given to [`ZarrStore::from_map`], given back because its values are not raw bytes.
pub struct NotBytes<B>(pub StoredMap<B>);

impl<B> fmt::Debug for NotBytes<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NotBytes(..)")
    }
}

impl<B> fmt::Display for NotBytes<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Zarr store needs a map whose values are raw bytes (ValueMode::Bytes)")
    }
}

impl<B> std::error::Error for NotBytes<B> {}

/// Why a [`ZarrStore`] operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ZarrError {
    /// The map or its block store failed: a missing or damaged block, a backend error.
    Store(StoreError),
    /// A stored value does not decrypt with the store's key and header.
    Decrypt(DecryptError),
    /// A value could not be encrypted.
    Encrypt(EncryptError),
}

impl fmt::Display for ZarrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZarrError::Store(_) => f.write_str("the stored map failed"),
            ZarrError::Decrypt(_) => f.write_str("a value does not decrypt"),
            ZarrError::Encrypt(_) => f.write_str("a value could not be encrypted"),
        }
    }
}

impl std::error::Error for ZarrError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ZarrError::Store(error) => Some(error),
            ZarrError::Decrypt(error) => Some(error),
            ZarrError::Encrypt(error) => Some(error),
        }
    }
}

impl From<StoreError> for ZarrError {
    fn from(error: StoreError) -> Self {
        ZarrError::Store(error)
    }
}

impl From<DecryptError> for ZarrError {
    fn from(error: DecryptError) -> Self {
        ZarrError::Decrypt(error)
    }
}

impl From<EncryptError> for ZarrError {
    fn from(error: EncryptError) -> Self {
        ZarrError::Encrypt(error)
    }
}

impl From<ZarrError> for StorageError {
    /// An `IOError` holding the [`ZarrError`]: `InvalidData` for data that does not verify or decrypt, `Other` for
    /// a failing backend.
    fn from(error: ZarrError) -> Self {
        let kind = match &error {
            ZarrError::Store(StoreError::Backend { .. }) | ZarrError::Encrypt(_) => io::ErrorKind::Other,
            _ => io::ErrorKind::InvalidData,
        };
        StorageError::IOError(Arc::new(io::Error::new(kind, error)))
    }
}

impl<B: Blockstore> ReadableStorageTraits for ZarrStore<B> {
    fn get(&self, key: &StoreKey) -> Result<MaybeBytes, StorageError> {
        Ok(self.value(key.as_str())?)
    }

    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        let Some(value) = self.value(key.as_str())? else { return Ok(None) };
        let len = value.len() as u64;
        Ok(Some(Box::new(byte_ranges.map(move |range: ByteRange| match within(range, len) {
            // Both ends fit in `usize`: they are at most the length of bytes in memory.
            Some(bytes) => Ok(value.slice(bytes.start as usize..bytes.end as usize)),
            None => Err(InvalidByteRangeError::new(range, len).into()),
        }))))
    }

    fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        Ok(self.value_len(key.as_str())?)
    }

    fn supports_get_partial(&self) -> bool {
        true
    }
}

impl<B: Blockstore> ListableStorageTraits for ZarrStore<B> {
    fn list(&self) -> Result<StoreKeys, StorageError> {
        Ok(self.keys_where(|_| true)?)
    }

    fn list_prefix(&self, prefix: &StorePrefix) -> Result<StoreKeys, StorageError> {
        Ok(self.keys_where(|key| key.starts_with(prefix.as_str()))?)
    }

    fn list_dir(&self, prefix: &StorePrefix) -> Result<StoreKeysPrefixes, StorageError> {
        let mut keys = Vec::new();
        let mut prefixes = BTreeSet::new();
        for key in self.list_prefix(prefix)? {
            let rest = &key.as_str()[prefix.as_str().len()..];
            match rest.split_once('/') {
                Some((child, _)) => {
                    prefixes.insert(StorePrefix::new(format!("{}{child}/", prefix.as_str()))?);
                }
                None => keys.push(key),
            }
        }
        Ok(StoreKeysPrefixes::new(keys, prefixes.into_iter().collect()))
    }

    fn size_prefix(&self, prefix: &StorePrefix) -> Result<u64, StorageError> {
        let mut size = 0;
        for key in self.list_prefix(prefix)? {
            size += self.value_len(key.as_str())?.unwrap_or(0);
        }
        Ok(size)
    }
}

impl<B: Blockstore> WritableStorageTraits for ZarrStore<B> {
    fn set(&self, key: &StoreKey, value: Bytes) -> Result<(), StorageError> {
        let stored = match &self.encryption {
            Some(encryption) => Bytes::from(encryption.encrypt(&value).map_err(ZarrError::from)?),
            // The buffer zarrs encoded the chunk into, kept as it is until the flush hands it to the block store.
            None => value,
        };
        Ok(self.store_value(key.as_str(), stored)?)
    }

    fn set_partial_many(&self, key: &StoreKey, offset_values: OffsetBytesIterator<'_>) -> Result<(), StorageError> {
        // A value block is written whole: read, patch and write it again.
        let mut value = self.value(key.as_str())?.map(Vec::from).unwrap_or_default();
        for (offset, bytes) in offset_values {
            let end = usize::try_from(offset).ok().and_then(|start| Some(start..start.checked_add(bytes.len())?));
            let Some(range) = end else {
                return Err(StorageError::Unsupported(format!("a write at offset {offset} is beyond memory")));
            };
            if value.len() < range.end {
                value.resize(range.end, 0);
            }
            value[range].copy_from_slice(&bytes);
        }
        Ok(self.set_value(key.as_str(), &value)?)
    }

    fn erase(&self, key: &StoreKey) -> Result<(), StorageError> {
        self.remove(key.as_str())?;
        Ok(())
    }

    fn erase_prefix(&self, prefix: &StorePrefix) -> Result<(), StorageError> {
        // Every key of the map with the prefix, valid Zarr key or not: erasing a node erases all below it.
        let keys: Vec<String> = self
            .read_map()
            .keys()
            .filter(|key| key.as_ref().map_or(true, |key| key.starts_with(prefix.as_str())))
            .collect::<Result<_, _>>()
            .map_err(ZarrError::from)?;
        for key in keys {
            self.remove(&key)?;
        }
        Ok(())
    }

    fn supports_set_partial(&self) -> bool {
        false
    }
}
