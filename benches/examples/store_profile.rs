//! A fixed workload for instruction-level profiling of hamt-store's hot paths (a build and flush, and warm
//! lookups), with the workload of the `store` section of `cargo xtask bench` (`extras::store::workload`: keys
//! `key-<i>` in a seeded shuffled order, 32-byte values), bare multihash links and an in-memory store.
//!
//! Run under callgrind with collection limited to one phase, for instance:
//!
//! ```text
//! cargo build --profile bench -p hamt-benches --example store_profile
//! valgrind --tool=callgrind --toggle-collect=store_profile::warm_lookups \
//!     target/release/examples/store_profile 10000 bytes
//! ```
//!
//! Collection can be toggled on `store_profile::build_and_flush` or `store_profile::warm_lookups`; divide the
//! instructions by the key count for a figure per operation. Timings belong in the benchmark, not here.

use std::hint::black_box;

use hamt_benches::extras::store::workload;
use hamt_store::{Cid, Config, LinkFormat, MemoryStore, StoredMap, Value, ValueMode};

/// Inserts every entry into a new map over `store` and flushes it. The map is returned, so that dropping it (which
/// the benchmark does not time either) is not counted.
#[inline(never)]
fn build_and_flush<'a>(
    store: &'a MemoryStore,
    config: Config,
    entries: &[(String, Vec<u8>)],
) -> (Cid, StoredMap<&'a MemoryStore>) {
    let mut map = StoredMap::with_config(store, config);
    for (key, value) in entries {
        map.insert(key.clone(), Value::Bytes(value.clone())).expect("an in-memory insert succeeds");
    }
    (map.flush().expect("an in-memory flush succeeds"), map)
}

/// Looks up every key through `reader`, whose caches already hold every node and value.
#[inline(never)]
fn warm_lookups(reader: &StoredMap<&MemoryStore>, entries: &[(String, Vec<u8>)]) -> usize {
    let mut found = 0;
    for (key, _) in entries {
        found += usize::from(black_box(reader.get(key).expect("a cached lookup succeeds")).is_some());
    }
    found
}

fn main() {
    let mut arguments = std::env::args().skip(1);
    let size: usize = arguments.next().and_then(|size| size.parse().ok()).unwrap_or(10_000);
    let value_mode = match arguments.next().as_deref() {
        Some("cbor") => ValueMode::Cbor,
        _ => ValueMode::Bytes,
    };
    let config = Config { value_mode, link_format: LinkFormat::Multihash, ..Config::default() };
    let entries = workload(size);
    let store = MemoryStore::new();
    let (root, built) = build_and_flush(&store, config, &entries);
    drop(built);
    let reader = StoredMap::load_with_config(&store, root, config).expect("the root was just stored");
    // A first pass fills the caches, so that the measured one finds every node and value there.
    for (key, value) in &entries {
        assert_eq!(reader.get(key).expect("a lookup succeeds"), Some(Value::Bytes(value.clone())));
    }
    assert_eq!(warm_lookups(&reader, &entries), size);
    println!("{size} keys, root {root}");
}
