//! Raw bytes into every binary decoder: maps of integers and of strings, sets, and `VersionSet`. Decoding must
//! never panic, and whatever it accepts must pass the trie invariants.
#![no_main]

mod common;

use hamt_core::{DefaultHashBuilder, HamtMap, HamtSet, RcK};
use hamt_serde::VersionSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(maps) = hamt_serde::deserialize_multiple::<HamtMap<u64, u64, RcK, DefaultHashBuilder>>(data) {
        common::check_maps(&maps);
    }
    if let Ok(maps) = hamt_serde::deserialize_multiple::<HamtMap<String, String, RcK, DefaultHashBuilder>>(data) {
        common::check_maps(&maps);
    }
    if let Ok(maps) = hamt_serde::deserialize_multiple::<HamtMap<String, serde_json::Value>>(data) {
        common::check_maps(&maps);
    }
    if let Ok(sets) = hamt_serde::deserialize_multiple::<HamtSet<u32, RcK, DefaultHashBuilder>>(data) {
        common::check_sets(&sets);
    }
    if let Ok(versions) = VersionSet::<HamtMap<u64, u64>>::from_bytes(data) {
        common::check_parents(&versions);
        common::check_maps(versions.versions());
    }
    if let Ok(versions) = VersionSet::<HamtSet<String>>::from_bytes(data) {
        common::check_parents(&versions);
        common::check_sets(versions.versions());
    }
});
