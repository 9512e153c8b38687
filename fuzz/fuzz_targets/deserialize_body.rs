//! Bytes as the body of a valid envelope, so that the fuzzer explores records instead of the checksum: the first
//! byte is the flags (its low bit: sets; the next: the self-describing, CBOR body), the second the version count,
//! the rest the body. The same wrapping is in crates/hamt-serde/tests/fuzz_regressions.rs, which replays this
//! target's findings.
#![no_main]

mod common;

use hamt_core::{DefaultHashBuilder, HamtMap, HamtSet, RcK};
use libfuzzer_sys::fuzz_target;

/// The binary form with `data[0] & 0b11` as the flags, `data[1]` as the version count and the rest as the body, with
/// the trailer's length and checksum right.
fn envelope(data: &[u8]) -> Vec<u8> {
    let (flags, count, body) = match data {
        [flags, count, body @ ..] => (flags & 0b11, u32::from(*count), body),
        _ => (0, 0, data),
    };
    let mut bytes = b"HAMT".to_vec();
    bytes.extend([1, flags]);
    bytes.extend(count.to_le_bytes());
    bytes.extend(body);
    bytes.extend((body.len() as u64).to_le_bytes());
    let checksum = crc32fast::hash(&bytes);
    bytes.extend(checksum.to_le_bytes());
    bytes
}

fuzz_target!(|data: &[u8]| {
    let bytes = envelope(data);
    if let Ok(maps) = hamt_serde::deserialize_multiple::<HamtMap<u64, u64, RcK, DefaultHashBuilder>>(&bytes) {
        common::check_maps(&maps);
    }
    if let Ok(maps) = hamt_serde::deserialize_multiple::<HamtMap<String, String, RcK, DefaultHashBuilder>>(&bytes) {
        common::check_maps(&maps);
    }
    // Values that only the self-describing body carries: every CBOR item, through `deserialize_any`.
    if let Ok(maps) = hamt_serde::deserialize_multiple::<HamtMap<String, serde_json::Value>>(&bytes) {
        common::check_maps(&maps);
    }
    if let Ok(sets) = hamt_serde::deserialize_multiple::<HamtSet<u32, RcK, DefaultHashBuilder>>(&bytes) {
        common::check_sets(&sets);
    }
});
