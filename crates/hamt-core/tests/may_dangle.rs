//! With `--cfg hamt_may_dangle` (nightly), a map may hold borrows of data dropped before the map itself, as std's
//! `HashMap` may: the map's drop does not use its keys and values beyond dropping them. Without the cfg this file
//! does not compile (the borrows "do not live long enough"), which is the measure of the feature.
#![cfg(hamt_may_dangle)]

use hamt_core::{ArcK, HamtMap, HamtSet};

#[test]
fn borrowed_keys_and_values_need_not_outlive_the_map() {
    let mut map: HamtMap<&str, &str> = HamtMap::new();
    let mut shared: HamtMap<&String, &String, ArcK> = HamtMap::default();
    let mut set: HamtSet<&str> = HamtSet::new();
    // Declared after the collections, so dropped before them.
    let key = String::from("key");
    let value = String::from("value");
    map.insert_mut(&key, &value);
    shared.insert_mut(&key, &value);
    set.insert_mut(&key);
    let version = map.insert("other", &value);
    assert_eq!((map.len(), shared.len(), set.len(), version.len()), (1, 1, 1, 2));
}
