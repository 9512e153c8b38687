//! hamt-store's CAR import on arbitrary bytes into a memory store: it never panics, and whatever it accepts is
//! whole: every root's version is in the store, so it exports again, the export imports to the same roots, and
//! gc keeping those roots succeeds.
#![no_main]

use hamt_store::{MemoryStore, car, gc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let store = MemoryStore::new();
    let Ok(roots) = car::import(&store, data) else { return };
    let mut file = Vec::new();
    let written = car::export(&store, &roots, &mut file).expect("an imported version exports");
    assert_eq!(written.bytes, file.len() as u64);
    let again = MemoryStore::new();
    assert_eq!(car::import(&again, file.as_slice()).expect("an export imports"), roots);
    let stats = gc(&store, &roots).expect("an imported version is whole");
    assert_eq!(stats.kept, again.len());
});
