//! The counting allocator and the heap figures, in a test binary of their own: counting is process-wide, so no
//! other test may allocate while these run.

use hamt_benches::alloc;
use hamt_benches::maps::Implementation;
use hamt_benches::memory::{map_heap_per_entry, variant_heap};
use hamt_benches::scenarios::VARIANTS;

#[test]
fn heap_figures_are_counted_and_plausible() {
    alloc::start_counting();

    let before = alloc::snapshot();
    let block = std::hint::black_box(vec![0u8; 1000]);
    let during = alloc::snapshot();
    drop(block);
    let after = alloc::snapshot();
    assert_eq!(during.live_bytes - before.live_bytes, 1000);
    assert_eq!(during.live_allocations - before.live_allocations, 1);
    assert!(during.peak_bytes >= during.live_bytes);
    assert_eq!(after.live_bytes, before.live_bytes);

    // std's table for 10k entries has 16,384 buckets of 16 bytes and one control byte each, plus 16 more control
    // bytes: 278,544 bytes in one allocation.
    let std = map_heap_per_entry(Implementation::StdFold, 10_000);
    assert!((std.bytes - 27.8544).abs() < 1e-9, "std: {std:?}");
    assert!((std.allocations - 1e-4).abs() < 1e-12, "std: {std:?}");

    for implementation in Implementation::ALL {
        let figures = map_heap_per_entry(implementation, 10_000);
        assert!(figures.bytes >= 16.0 && figures.bytes < 400.0, "{implementation:?}: {figures:?}");
        let (per_variant, variants) = variant_heap(implementation, 10_000);
        assert_eq!(variants, VARIANTS);
        assert!(per_variant.bytes > 0.0, "{implementation:?}: {per_variant:?}");
    }
}
