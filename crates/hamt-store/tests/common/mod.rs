//! Helpers shared by hamt-store's test suites: blocks written by hand, byte by byte (so that the tests do not
//! depend on the encoder they check), and a small seeded random number generator.

// Each suite uses some of these helpers; the others are dead code in that suite's crate.
#![allow(dead_code, reason = "each test suite uses only some of the shared helpers")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hamt_store::{Blockstore, Bytes, Cid, MemoryStore, StoreError};

/// A CBOR head in its shortest form (arguments up to 16 bits, all these tests need).
pub(crate) fn head(out: &mut Vec<u8>, major: u8, value: usize) {
    let major = major << 5;
    match value {
        0..=23 => out.push(major | value as u8),
        24..=0xff => out.extend([major | 24, value as u8]),
        _ => {
            out.push(major | 25);
            out.extend((value as u16).to_be_bytes());
        }
    }
}

/// A link in DAG-CBOR's CID form: tag 42 around a zero byte and the CID.
pub(crate) fn link(out: &mut Vec<u8>, cid: &Cid) {
    let bytes = cid.to_bytes();
    out.extend([0xd8, 0x2a]);
    head(out, 2, bytes.len() + 1);
    out.push(0);
    out.extend(bytes);
}

/// A node of 256 slots, all empty but `slot`, which holds the encoded `item`.
pub(crate) fn node_with(slot: u8, item: &[u8]) -> Vec<u8> {
    let mut out = vec![0x99, 0x01, 0x00];
    out.extend(std::iter::repeat_n(0xa0, usize::from(slot)));
    out.extend(item);
    out.extend(std::iter::repeat_n(0xa0, 255 - usize::from(slot)));
    out
}

/// The item of a bucket of one key.
pub(crate) fn bucket_of(key: &str, value: &Cid) -> Vec<u8> {
    let mut out = Vec::new();
    head(&mut out, 5, 1);
    head(&mut out, 3, key.len());
    out.extend(key.as_bytes());
    link(&mut out, value);
    out
}

/// The item of a child link slot: an array of one link.
pub(crate) fn link_item(child: &Cid) -> Vec<u8> {
    let mut out = vec![0x81];
    link(&mut out, child);
    out
}

/// A seeded xorshift generator, so that a failing case reproduces from its seed.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// A number below `bound`.
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound
    }
}

/// A memory store that counts the blocks read through it, so that a test can say how many reads an operation made.
/// Clones share the blocks and the count.
#[derive(Debug, Clone, Default)]
pub(crate) struct CountingStore {
    pub(crate) inner: MemoryStore,
    gets: Arc<AtomicUsize>,
}

impl CountingStore {
    /// Counts the reads of `inner`'s blocks.
    pub(crate) fn over(inner: MemoryStore) -> Self {
        CountingStore { inner, gets: Arc::default() }
    }

    /// The blocks read since the store was made or last reset.
    pub(crate) fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }

    pub(crate) fn reset(&self) {
        self.gets.store(0, Ordering::SeqCst);
    }
}

impl Blockstore for CountingStore {
    fn get(&self, cid: &Cid) -> Result<Option<Bytes>, StoreError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(cid)
    }

    fn put(&self, cid: &Cid, bytes: &[u8]) -> Result<(), StoreError> {
        self.inner.put(cid, bytes)
    }

    fn list(&self) -> Result<Vec<Cid>, StoreError> {
        self.inner.list()
    }

    fn delete(&self, cids: &[Cid]) -> Result<(), StoreError> {
        self.inner.delete(cids)
    }
}

/// The element at (`row`, `column`) of every Zarr test array, the formula tests/py/zarr_vectors.py computes too:
/// exact in `f32`.
pub(crate) fn zarr_element(row: u64, column: u64) -> f32 {
    row as f32 * 0.5 + (column % 97) as f32 * 0.25 - 64.0
}

/// The elements of a region of a Zarr test array, row by row.
pub(crate) fn zarr_elements(rows: std::ops::Range<u64>, columns: std::ops::Range<u64>) -> Vec<f32> {
    rows.flat_map(|row| columns.clone().map(move |column| zarr_element(row, column))).collect()
}
