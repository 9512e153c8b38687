//! Heap figures, measured with the [counting allocator](crate::alloc): bytes per entry of one map, and the extra
//! live heap of each variant in the variants workload.
//!
//! These functions must run in a process that called [`start_counting`](crate::alloc::start_counting) before
//! allocating anything they measure; the report binary runs each in a child process of its own.

use std::hint::black_box;

use serde::{Deserialize, Serialize};

use crate::alloc::{self, Snapshot};
use crate::keys::Data;
use crate::maps::{BenchMap, Implementation};
use crate::scenarios::{MapVisitor, build, variant_count, visit_map};

/// What a structure holds on the heap.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeapFigures {
    /// Live requested bytes.
    pub bytes: f64,
    /// Live allocations (blocks).
    pub allocations: f64,
}

impl HeapFigures {
    fn between(before: Snapshot, after: Snapshot) -> Self {
        Self {
            bytes: (after.live_bytes - before.live_bytes) as f64,
            allocations: (after.live_allocations - before.live_allocations) as f64,
        }
    }

    /// The figures divided by `count`.
    pub fn per(self, count: usize) -> Self {
        Self { bytes: self.bytes / count as f64, allocations: self.allocations / count as f64 }
    }
}

/// The live heap of one map of `size` `u64 -> u64` entries built by in-place inserts, per entry.
///
/// # Panics
///
/// If counting was not started.
pub fn map_heap_per_entry(implementation: Implementation, size: usize) -> HeapFigures {
    assert!(alloc::is_counting(), "call alloc::start_counting() first");
    struct Visitor<'d>(&'d Data<u64>);
    impl MapVisitor<u64> for Visitor<'_> {
        type Output = HeapFigures;
        fn visit<M: BenchMap<u64>>(self) -> HeapFigures {
            // The keys are `u64`s: cloning them allocates nothing, so only the map's own blocks are counted.
            let entries = self.0.entries();
            let before = alloc::snapshot();
            let mut map = M::empty();
            for (key, value) in &entries {
                map.insert_mut(*key, *value);
            }
            let after = alloc::snapshot();
            black_box(&map);
            HeapFigures::between(before, after).per(map.len())
        }
    }
    let data = Data::<u64>::generate(size);
    visit_map(implementation, Visitor(&data))
}

/// The extra live heap of each variant when the variants workload makes them of a base of `size` entries: the
/// heap after making them all, less the heap of the base alone, divided by their number. Returns the figures and
/// the number of variants made.
///
/// # Panics
///
/// If counting was not started.
pub fn variant_heap(implementation: Implementation, size: usize) -> (HeapFigures, usize) {
    assert!(alloc::is_counting(), "call alloc::start_counting() first");
    struct Visitor<'d>(&'d Data<u64>);
    impl MapVisitor<u64> for Visitor<'_> {
        type Output = (HeapFigures, usize);
        fn visit<M: BenchMap<u64>>(self) -> (HeapFigures, usize) {
            let base: M = build(self.0);
            let count = variant_count(M::IMPLEMENTATION, self.0.len());
            let keys = &self.0.absent[..count];
            let mut versions = Vec::with_capacity(count);
            let before = alloc::snapshot();
            for (index, key) in keys.iter().enumerate() {
                versions.push(base.insert(*key, index as u64));
            }
            let after = alloc::snapshot();
            black_box(&versions);
            (HeapFigures::between(before, after).per(count), count)
        }
    }
    let data = Data::<u64>::generate(size);
    visit_map(implementation, Visitor(&data))
}
