//! hamt-store against maps that the real py-hamt 3.6.0 wrote: the vectors in tests/vectors/, made by
//! tests/py/make_vectors.py, so that these checks run on any machine, with or without Python.
//!
//! For each vector: hamt-store loads py-hamt's blocks and finds every entry, and the same count by iteration; then
//! hamt-store builds the same contents from nothing (py-hamt's own history of writes, and the entries in shuffled
//! orders with other keys set and deleted on the way) and must name the same root and write the same blocks, byte
//! for byte. tests/py_hamt_live.rs does the same with maps py-hamt makes on the spot, and the other way round.

#[allow(dead_code, reason = "each test file uses its own part of the shared code")]
mod interop_support;

use std::path::{Path, PathBuf};

use hamt_store::{Blockstore, Ipld, LinkFormat, StoreError, StoredMap, ValueMode};
use interop_support::{Vector, Write, check_entries, check_same_blocks, shuffled_writes};

/// Every committed vector, with the link form and value mode make_vectors.py gave it. A vector added there must be
/// added here; `every_vector_is_checked` fails otherwise.
const VECTORS: [(&str, LinkFormat, ValueMode); 7] = [
    ("multihash-cbor", LinkFormat::Multihash, ValueMode::Cbor),
    ("multihash-bytes", LinkFormat::Multihash, ValueMode::Bytes),
    ("cid-cbor", LinkFormat::Cid, ValueMode::Cbor),
    ("cid-bytes", LinkFormat::Cid, ValueMode::Bytes),
    ("cid-cbor-history", LinkFormat::Cid, ValueMode::Cbor),
    ("multihash-bytes-history", LinkFormat::Multihash, ValueMode::Bytes),
    ("cid-empty", LinkFormat::Cid, ValueMode::Cbor),
];

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("vectors")
}

fn vector(name: &str) -> Vector {
    let (_, links, values) = VECTORS.iter().find(|(known, ..)| *known == name).expect("a listed vector");
    let vector = Vector::read(&vectors_dir().join(format!("{name}.cbor")));
    assert_eq!(vector.generator, "py-hamt 3.6.0", "{name} was written by py-hamt");
    assert_eq!((vector.links, vector.values), (*links, *values), "{name}: its link form and value mode");
    vector
}

/// Everything this file checks of one vector.
fn check(name: &str) {
    let vector = vector(name);
    check_entries(&vector);
    // py-hamt's own writes, in its order (for vectors without deletes, the entries in file order).
    let history = if vector.history.is_empty() {
        vector.entries.iter().map(|(key, value)| Write::Set(key.clone(), value.clone())).collect()
    } else {
        vector.history.clone()
    };
    check_same_blocks(&vector, &history, "py-hamt's writes");
    for seed in 1..=3 {
        check_same_blocks(&vector, &shuffled_writes(&vector, seed, 40), &format!("shuffled writes, seed {seed}"));
    }
}

#[test]
fn multihash_links_with_cbor_values() {
    check("multihash-cbor");
}

#[test]
fn multihash_links_with_bytes_values() {
    check("multihash-bytes");
}

#[test]
fn cid_links_with_cbor_values() {
    check("cid-cbor");
}

#[test]
fn cid_links_with_bytes_values() {
    check("cid-bytes");
}

#[test]
fn a_history_of_deletes_overwrites_and_reinserts() {
    check("cid-cbor-history");
}

#[test]
fn deletes_that_collapse_the_tree_to_its_root() {
    check("multihash-bytes-history");
}

#[test]
fn the_empty_map() {
    check("cid-empty");
}

#[test]
fn the_vectors_cover_what_the_issue_asks() {
    let multihash = vector("multihash-cbor");
    let keys: Vec<&str> = multihash.entries.iter().map(|(key, _)| key.as_str()).collect();
    assert!(keys.len() >= 300, "hundreds of keys");
    assert!(keys.contains(&""), "the empty key");
    assert!(keys.iter().any(|key| !key.is_ascii()), "non-ASCII keys");
    assert!(keys.iter().any(|key| key.len() > 255), "keys past CBOR's one-byte text length");
    // Nodes below the root: at least one link, which the keys sharing two hash bytes force two levels down.
    assert!(multihash.blocks.keys().filter(|cid| cid.codec() == hamt_store::DAG_CBOR).count() >= 3);
    // Values of every IPLD kind, nested ones included, in the DAG-CBOR vectors of both link forms.
    for name in ["multihash-cbor", "cid-cbor"] {
        let kinds: std::collections::BTreeSet<&str> =
            vector(name).entries.into_iter().map(|(_, value)| ipld_kind(&value.into_ipld())).collect();
        let every_kind = ["bool", "bytes", "float", "integer", "link", "list", "map", "null", "string"];
        assert_eq!(kinds.into_iter().collect::<Vec<_>>(), every_kind, "{name}: the kinds of values");
    }
    let history = vector("cid-cbor-history");
    assert!(history.history.iter().any(|write| matches!(write, Write::Delete(_))), "deletes");
}

fn ipld_kind(value: &Ipld) -> &'static str {
    match value {
        Ipld::Null => "null",
        Ipld::Bool(_) => "bool",
        Ipld::Integer(_) => "integer",
        Ipld::Float(_) => "float",
        Ipld::String(_) => "string",
        Ipld::Bytes(_) => "bytes",
        Ipld::List(_) => "list",
        Ipld::Map(_) => "map",
        Ipld::Link(_) => "link",
    }
}

#[test]
fn every_vector_is_checked() {
    let mut on_disk: Vec<String> = std::fs::read_dir(vectors_dir())
        .expect("tests/vectors exists")
        .map(|entry| entry.expect("a readable entry").file_name().to_string_lossy().into_owned())
        // The Zarr vectors have a format of their own, checked by tests/zarr_interop.rs.
        .filter(|name| !name.starts_with("zarr-"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = VECTORS.iter().map(|(name, ..)| format!("{name}.cbor")).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[test]
fn a_block_that_does_not_match_its_id_is_refused() {
    let vector = vector("cid-cbor");
    let store = vector.store();
    let (key, _) = &vector.entries[1];
    let value_cid = interop_support::value_links(&store, &vector.root())[key];
    // The value's id with other bytes: what a corrupt disk or a lying server hands back. A memory store keeps the
    // first bytes put under an id, so the block goes first.
    store.delete(&[value_cid]).expect("a memory store deletes");
    store.put(&value_cid, b"not the value").expect("a memory store takes any bytes");
    let map = StoredMap::load_with_config(store, vector.root(), vector.config()).expect("the root is intact");
    assert!(matches!(map.get(key), Err(StoreError::HashMismatch { cid }) if *cid == value_cid));
}
