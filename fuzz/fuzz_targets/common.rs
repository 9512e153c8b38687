//! What every target does with a decoded value: check that it is well formed.
#![allow(dead_code, reason = "each target uses some of these checks")]

use std::hash::{BuildHasher, Hash};

use hamt_core::{HamtMap, HamtSet, PointerKind};
use hamt_serde::VersionSet;

pub fn check_maps<K: Hash + Eq, V, P: PointerKind, S: BuildHasher>(maps: &[HamtMap<K, V, P, S>]) {
    maps.iter().for_each(HamtMap::check_invariants);
}

pub fn check_sets<T: Hash + Eq, P: PointerKind, S: BuildHasher>(sets: &[HamtSet<T, P, S>]) {
    sets.iter().for_each(HamtSet::check_invariants);
}

pub fn check_parents<C>(versions: &VersionSet<C>) {
    for index in 0..versions.len() {
        assert!(versions.parent(index).is_none_or(|parent| parent < index), "version {index} has a later parent");
    }
}
