//! Persistent maps whose nodes are blocks in content-addressed storage, in py-hamt's format.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod blockstore;
mod cache;
pub mod car;
mod error;
mod format;
mod gc;
mod map;
mod value;
mod walk;

pub use blockstore::{Blockstore, MemoryStore};
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
