//! Serialization for [`hamt_core`] maps.
//!
//! This crate is the home of the version-set encoding (many versions of one map written with their shared
//! structure stored once). It is filled by its own issue; for now it only re-exports the core types it will
//! serialize, so that the workspace layout is in place.

pub use hamt_core::{HamtMap, HamtSet};
