//! Bytes into `VersionSet`'s serde form through postcard, bincode 2 and JSON.
#![no_main]

mod common;

use hamt_core::{HamtMap, HamtSet};
use hamt_serde::VersionSet;
use libfuzzer_sys::fuzz_target;

type Maps = VersionSet<HamtMap<u64, u64>>;
type Sets = VersionSet<HamtSet<String>>;

fuzz_target!(|data: &[u8]| {
    if let Ok(versions) = postcard::from_bytes::<Maps>(data) {
        common::check_parents(&versions);
        common::check_maps(versions.versions());
    }
    if let Ok(versions) = postcard::from_bytes::<Sets>(data) {
        common::check_parents(&versions);
        common::check_sets(versions.versions());
    }
    let config = bincode::config::standard();
    if let Ok((versions, _)) = bincode::serde::decode_from_slice::<Maps, _>(data, config) {
        common::check_parents(&versions);
        common::check_maps(versions.versions());
    }
    if let Ok(versions) = serde_json::from_slice::<Maps>(data) {
        common::check_parents(&versions);
        common::check_maps(versions.versions());
    }
});
