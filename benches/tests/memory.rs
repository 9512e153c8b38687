//! The counting allocator and the heap figures, in a test binary of their own: counting is process-wide, so no
//! other test may allocate while these run.

use std::hash::BuildHasher;

use hamt_benches::alloc;
use hamt_benches::maps::{BenchHasher, HASH_SEED, Implementation};
use hamt_benches::memory::{KeyPattern, hash_seed, map_heap_per_entry, variant_heap};
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
    let std = map_heap_per_entry(Implementation::StdFold, 10_000, KeyPattern::Random, HASH_SEED);
    assert!((std.bytes - 27.8544).abs() < 1e-9, "std: {std:?}");
    assert!((std.allocations - 1e-4).abs() < 1e-12, "std: {std:?}");

    for implementation in Implementation::ALL {
        for pattern in KeyPattern::ALL {
            let figures = map_heap_per_entry(implementation, 10_000, pattern, hash_seed(0));
            assert!(figures.bytes >= 16.0 && figures.bytes < 400.0, "{implementation:?} {pattern:?}: {figures:?}");
        }
        let (per_variant, variants) = variant_heap(implementation, 10_000);
        assert_eq!(variants, VARIANTS);
        assert!(per_variant.bytes > 0.0, "{implementation:?}: {per_variant:?}");
    }

    the_heap_of_our_map_is_the_shape_of_its_trie_whatever_the_seed();
}

/// The number of nodes of a canonical CHAMP trie over these 64-bit hashes, counted from the hashes alone: the root,
/// and a node for every prefix of 5, 10, ... 60 bits (the levels below the root) and of all 64 bits (a collision
/// node) that two or more of the hashes share. A prefix that only one hash has is an entry in its parent instead.
fn model_nodes(hashes: &mut [u64]) -> usize {
    hashes.sort_unstable();
    let shared_prefixes = |bits: u32| {
        let mut count = 0;
        let mut index = 0;
        while index < hashes.len() {
            let prefix = hashes[index] >> (64 - bits);
            let run = hashes[index..].iter().take_while(|&&hash| hash >> (64 - bits) == prefix).count();
            count += usize::from(run >= 2);
            index += run;
        }
        count
    };
    1 + (5..=60).step_by(5).chain([64]).map(shared_prefixes).sum::<usize>()
}

/// Checks that the heap of our map, with every pattern and several seeds, is exactly what the shape of its trie
/// makes it: the spread over seeds comes from the trie, not from anything else the map allocates. Called from the
/// one test of this binary, since a test running beside it would be counted too.
fn the_heap_of_our_map_is_the_shape_of_its_trie_whatever_the_seed() {
    let size = 10_000;
    let mut node_counts = std::collections::BTreeSet::new();
    for pattern in KeyPattern::ALL {
        for seed in (0..5).map(hash_seed).chain([HASH_SEED]) {
            let hasher = BenchHasher::with_seed(seed);
            let mut hashes: Vec<u64> = pattern.entries(size).into_iter().map(|(key, _)| hasher.hash_one(key)).collect();
            let nodes = model_nodes(&mut hashes);
            let full_collisions = hashes.windows(2).filter(|pair| pair[0] == pair[1]).count();
            assert_eq!(
                full_collisions, 0,
                "a 64-bit collision among {size} {pattern:?} keys would need its own formula"
            );
            let figures = map_heap_per_entry(Implementation::HamtRc, size, pattern, seed);
            // One allocation per node and nothing else.
            let allocations = (figures.allocations * size as f64).round() as usize;
            assert_eq!(allocations, nodes, "{pattern:?} seed {seed:x}");
            // The node layout of docs/architecture.md: a 16-byte header per node, an 8-byte pointer per child (every
            // node but the root is one) and the 16-byte entries inline, so every byte is accounted for.
            let expected_bytes = 16 * nodes + 8 * (nodes - 1) + 16 * size;
            let bytes = (figures.bytes * size as f64).round() as usize;
            assert_eq!(bytes, expected_bytes, "{pattern:?} seed {seed:x}");
            node_counts.insert(nodes);
        }
    }
    // The seeds and patterns do give tries of different shapes, so the equalities above compare something.
    assert!(node_counts.len() > 2, "{node_counts:?}");
}
