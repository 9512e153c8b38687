//! The `Send + Sync` flavour of [`hamt_core`]'s persistent maps.
//!
//! The aliases below fix the pointer kind to triomphe's `Arc` (no weak count), so that maps and sets can be shared
//! between threads. The versioned store and the parallel operations are filled by this crate's own issue.
//!
//! ```
//! let map: hamt_sync::HamtMap<u32, &str> = [(1, "one")].into();
//! let shared = map.clone();
//! std::thread::spawn(move || assert_eq!(shared.get(&1), Some(&"one"))).join().unwrap();
//! ```
//!
//! # Features
//! - `rayon`: parallel iteration (`par_iter`, `par_keys`, `par_values`), parallel `collect` and `par_extend`,
//!   `par_union` and the other parallel set operations, and `par_diff`, on these maps and sets (hamt-core's
//!   `rayon` feature, whose `par` module documents them).

/// The thread-safe persistent hash map: [`hamt_core::HamtMap`] with triomphe's `Arc` as its pointer kind.
pub type HamtMap<K, V, S = hamt_core::DefaultHashBuilder> = hamt_core::HamtMap<K, V, archery::ArcTK, S>;

/// The thread-safe persistent hash set: [`hamt_core::HamtSet`] with triomphe's `Arc` as its pointer kind.
pub type HamtSet<T, S = hamt_core::DefaultHashBuilder> = hamt_core::HamtSet<T, archery::ArcTK, S>;
