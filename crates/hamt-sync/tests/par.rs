//! The parallel operations on the thread-safe aliases (feature `rayon`): the aliases are hamt-core's types, so
//! this checks that the feature reaches them and that the bounds hold for the `ArcTK` flavour.
#![cfg(feature = "rayon")]

use hamt_sync::{HamtMap, HamtSet};
use rayon::prelude::*;

#[test]
fn parallel_operations_on_the_sync_flavour() {
    let map: HamtMap<u64, u64> = (0..50_000u64).into_par_iter().map(|i| (i, i * 2)).collect();
    assert_eq!(map, (0..50_000u64).map(|i| (i, i * 2)).collect());
    assert_eq!(map.par_values().sum::<u64>(), 2 * (0..50_000u64).sum::<u64>());
    assert_eq!(map.par_iter().count(), map.par_keys().count());

    let variant = map.insert(7, 0).remove(&8);
    assert_eq!(map.par_union(&variant), map.union(&variant));
    assert_eq!(map.par_diff(&variant).count(), 2);

    let mut extended = map.clone();
    extended.par_extend((50_000..100_000u64).into_par_iter().map(|i| (i, 0)));
    assert_eq!(extended.len(), 100_000);

    let set: HamtSet<u64> = (0..50_000u64).into_par_iter().collect();
    assert_eq!(set.par_iter().count(), 50_000);
}
