//! The `store_node` fuzz target: see `crates/hamt-store/tests/fuzz/checks.rs`, which `tests/fuzz_regressions.rs` of
//! hamt-store shares to replay every finding.
#![no_main]

#[path = "../../crates/hamt-store/tests/fuzz/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::node::store_node(data));
