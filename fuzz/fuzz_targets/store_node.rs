//! The `store_node` fuzz target: see `crates/hamt-store/tests/fuzz/checks.rs`, which `tests/fuzz_regressions.rs` of
//! hamt-store shares to replay every finding.
#![no_main]

#[path = "../../crates/hamt-store/tests/fuzz/checks.rs"]
#[allow(dead_code, reason = "each target runs the checks of one of the shared modules")]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::node::store_node(data));
