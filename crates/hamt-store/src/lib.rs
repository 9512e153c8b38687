//! Persistent maps whose nodes are blocks in content-addressed storage, in the format of py-hamt (the Python
//! HAMT that publishes Zarr data sets on IPFS), byte for byte.
//!
//! A [`StoredMap`] maps text keys to values. Its nodes are blocks in a [`Blockstore`], read on demand through a
//! node cache bounded in bytes, so a map can be larger than memory, and several processes or machines can share
//! its versions. Every block is named by the hash of its bytes (a [`Cid`]), so:
//! - a version is one root id: [`flush`](StoredMap::flush) returns it, [`StoredMap::load`] opens it;
//! - subtrees that two versions share are stored once, however many versions are written;
//! - [`diff`](StoredMap::diff) skips every subtree whose id is the same on both sides;
//! - everything read is checked against its id, so a damaged or tampered store gives an error, never wrong data.
//!
//! ```
//! use hamt_store::{MemoryStore, StoredMap, Value};
//!
//! let store = MemoryStore::new();
//! let mut map = StoredMap::new(&store);
//! map.insert("temperature".to_owned(), Value::from(21))?;
//! map.insert("city".to_owned(), Value::from("Lisbon"))?;
//! let v1 = map.flush()?; // the root id of this version
//!
//! map.insert("temperature".to_owned(), Value::from(23))?;
//! let v2 = map.flush()?;
//!
//! let then = StoredMap::load(&store, v1)?;
//! assert_eq!(then.get("temperature")?, Some(Value::from(21)));
//! let now = StoredMap::load(&store, v2)?;
//! assert_eq!(then.diff(&now).count(), 1);
//! # Ok::<(), hamt_store::StoreError>(())
//! ```
//!
//! # The format
//!
//! The nodes are py-hamt's (docs/store-format.md has the layout byte by byte): a node is a DAG-CBOR array of 256
//! slots, indexed by successive bytes of the BLAKE3 hash of the key; a slot is empty, a bucket of up to
//! `max_bucket_size` keys (4 by default) with links to their value blocks, or a link to a child node. The shape
//! depends only on the contents, so the same entries give the same root id as py-hamt's, whatever the order of
//! insertions and deletions. Ids are CIDv1 with BLAKE3-256 multihashes, DAG-CBOR for nodes and raw for values, as
//! IPFS makes them; links are written as CIDs (or as bare multihashes, as py-hamt's in-memory store writes them:
//! [`LinkFormat`]), and read in either form.
//!
//! Values are blocks of their own, either DAG-CBOR (py-hamt's default) or raw bytes (what py-hamt's Zarr store
//! writes), as the map's [`Config`] says: see [`Value`] and [`ValueMode`].
//!
//! # Stores
//!
//! - [`MemoryStore`]: a hash map in memory.
//! - `RedbStore` (feature `redb`, on by default): one file of the redb embedded database, crash-safe.
//! - `ObjectStore` (feature `object-store`): S3, GCS, Azure or local files through the `object_store` crate.
//!
//! Any type can be a store by implementing [`Blockstore`]: five methods and optional batch forms.
//!
//! # Errors
//!
//! Every fallible call returns a [`StoreError`] that names the block and what is wrong with it. Bad data (a block
//! that does not hash to its id, a malformed node, a key in a slot its hash does not name, a link to a missing
//! block) is an error, never a panic, and decoding never allocates more than the block's own size justifies. An
//! operation that fails leaves the map as it was.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod blockstore;
mod cache;
pub mod car;
mod error;
mod format;
mod gc;
mod map;
#[cfg(feature = "object-store")]
mod objects;
#[cfg(feature = "redb")]
mod redb_store;
mod value;
mod walk;
#[cfg(feature = "zarr")]
#[cfg_attr(docsrs, doc(cfg(feature = "zarr")))]
pub mod zarr;

pub use blockstore::{Blockstore, MemoryStore};
pub use bytes::{self, Bytes};
pub use cache::CacheStats;
pub use cid::{self, Cid};
pub use error::{NodeError, StoreError};
pub use format::{
    BLAKE3, DAG_CBOR, LinkFormat, MAX_DEPTH, Node, RAW, SLOTS, SlotRef, block_cid, key_hash, verify_block,
};
pub use gc::{GcStats, gc};
pub use ipld_core::{self, ipld::Ipld};
pub use map::{Config, StoredMap};
pub use value::{Value, ValueMode};
pub use walk::{Diff, DiffItem, Iter, Keys, Links};

/// The `object_store` crate, re-exported so that the stores handed to [`ObjectStore`] come from the same version.
#[cfg(feature = "object-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "object-store")))]
pub use object_store;
#[cfg(feature = "object-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "object-store")))]
pub use objects::{DEFAULT_CONCURRENCY, MAX_BLOCK_BYTES, ObjectStore};
/// The `redb` crate, re-exported for [`RedbStore::from_database`].
#[cfg(feature = "redb")]
#[cfg_attr(docsrs, doc(cfg(feature = "redb")))]
pub use redb;
#[cfg(feature = "redb")]
#[cfg_attr(docsrs, doc(cfg(feature = "redb")))]
pub use redb_store::RedbStore;
/// The `zarrs_storage` crate, re-exported so that the traits [`zarr::ZarrStore`] implements come from the same
/// version.
#[cfg(feature = "zarr")]
#[cfg_attr(docsrs, doc(cfg(feature = "zarr")))]
pub use zarrs_storage;
