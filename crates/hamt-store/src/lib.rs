//! Persistent maps whose nodes are blocks in content-addressed storage, in py-hamt's format.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod blockstore;
mod cache;
mod error;
mod format;
mod map;
#[cfg(feature = "object-store")]
mod objects;
#[cfg(feature = "redb")]
mod redb_store;
mod value;
mod walk;

pub use blockstore::{Blockstore, MemoryStore};
pub use cache::CacheStats;
pub use cid::{self, Cid};
pub use error::{NodeError, StoreError};
pub use format::{
    BLAKE3, DAG_CBOR, LinkFormat, MAX_DEPTH, Node, RAW, SLOTS, SlotRef, block_cid, key_hash, verify_block,
};
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
pub use objects::{DEFAULT_CONCURRENCY, ObjectStore};
/// The `redb` crate, re-exported for [`RedbStore::from_database`].
#[cfg(feature = "redb")]
#[cfg_attr(docsrs, doc(cfg(feature = "redb")))]
pub use redb;
#[cfg(feature = "redb")]
#[cfg_attr(docsrs, doc(cfg(feature = "redb")))]
pub use redb_store::RedbStore;
