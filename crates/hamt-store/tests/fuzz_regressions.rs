//! Replays every input in `tests/data/fuzz-regressions/TARGET/` the way fuzz target TARGET (in `/fuzz`) runs it,
//! with the same checks (`tests/fuzz/checks.rs`, which the targets include): the seeds, and everything
//! `cargo xtask fuzz` ever found in hamt-store's decoders. Nothing may panic.

#[path = "fuzz/checks.rs"]
mod checks;

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

/// What a fuzz target runs on an input.
type Check = fn(&[u8]);

/// Every fuzz target of hamt-store, with what it runs on an input.
const TARGETS: &[(&str, Check)] = &[("store_node", checks::node::store_node), ("store_car", checks::car::store_car)];

#[test]
fn every_regression_input_is_handled() {
    let regressions = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-regressions");
    let mut replayed = 0;
    for entry in fs::read_dir(&regressions).expect("the regressions directory") {
        let dir = entry.expect("a directory entry").path();
        let name = dir.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        let Some((_, run)) = TARGETS.iter().find(|(target, _)| *target == name) else {
            panic!("{}: no fuzz target of that name", dir.display());
        };
        for file in fs::read_dir(&dir).expect("a target's directory") {
            let path = file.expect("a directory entry").path();
            let data = fs::read(&path).expect("a regression input");
            if panic::catch_unwind(AssertUnwindSafe(|| run(&data))).is_err() {
                panic!("{} ({} bytes) panics", path.display(), data.len());
            }
            replayed += 1;
        }
    }
    assert!(replayed >= TARGETS.len(), "only {replayed} inputs: each target needs at least one");
}

/// Writes the CAR seed if it is missing: two versions of a small map, exported together.
///
/// `cargo test -p hamt-store --test fuzz_regressions -- --ignored write_seeds`
#[test]
#[ignore = "writes the seed files; run by hand"]
fn write_seeds() {
    let store = hamt_store::MemoryStore::new();
    let mut map = hamt_store::StoredMap::new(&store);
    for i in 0..40 {
        map.insert(format!("key {i}"), hamt_store::Value::from(i64::from(i))).unwrap();
    }
    let first = map.flush().unwrap();
    map.remove("key 3").unwrap();
    let second = map.flush().unwrap();
    let mut file = Vec::new();
    hamt_store::car::export(&store, [first, second], &mut file).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-regressions/store_car/two-versions.car");
    if !path.exists() {
        fs::write(path, file).unwrap();
    }
}
