//! hamt-store checked live against the real py-hamt 3.6.0, both ways, with random maps.
//!
//! - py-hamt writes: tests/py/live_check.py builds random maps (both link forms, both value modes, with deletes)
//!   and exports their blocks; hamt-store loads each, finds every entry and the count, and rebuilds the contents
//!   (py-hamt's writes, then shuffled writes) to the same root and the same blocks.
//! - hamt-store writes: random maps built here go to live_check.py, which reads every entry and the count through
//!   py-hamt, rebuilds them with py-hamt and must get the same root and the same blocks.
//!
//! It needs a Python with py-hamt, named by `HAMT_PY_HAMT_PYTHON` (`cargo xtask test` makes one in
//! target/py-hamt-venv and sets it). Without the variable the tests pass without checking anything and say so on
//! standard error; tests/interop.rs checks the committed vectors on every machine. `HAMT_PY_HAMT_SEED` repeats a run:
//! each run draws a new seed otherwise, and every failure names it.

#[allow(dead_code, reason = "each test file uses its own part of the shared code")]
mod interop_support;

use std::collections::BTreeMap;

use hamt_store::{Cid, Ipld, LinkFormat, MemoryStore, RAW, StoredMap, Value, ValueMode, block_cid};
use interop_support::live::{SEED_VARIABLE, python, run_script, scratch, seed};
use interop_support::{SplitMix64, Vector, Write, check_entries, check_same_blocks, reachable_blocks, root_id};

/// The four ways py-hamt stores a map: bare multihash or CID links, DAG-CBOR or bytes values.
const FORMS: [(LinkFormat, ValueMode); 4] = [
    (LinkFormat::Multihash, ValueMode::Cbor),
    (LinkFormat::Multihash, ValueMode::Bytes),
    (LinkFormat::Cid, ValueMode::Cbor),
    (LinkFormat::Cid, ValueMode::Bytes),
];

fn link_name(links: LinkFormat) -> &'static str {
    if links == LinkFormat::Cid { "cid" } else { "multihash" }
}

fn value_name(values: ValueMode) -> &'static str {
    if values == ValueMode::Cbor { "cbor" } else { "bytes" }
}

#[test]
fn hamt_store_reads_and_rebuilds_what_py_hamt_writes() {
    let Some(python) = python("hamt_store_reads_and_rebuilds_what_py_hamt_writes") else { return };
    let seed = seed();
    let reproduce = format!("reproduce with {SEED_VARIABLE}={seed}");
    let folder = scratch("py_hamt_writes");
    let mut random = SplitMix64(seed);
    for (form, (links, values)) in FORMS.into_iter().enumerate() {
        let keys = 100 + random.below(400);
        let deletes = random.below(keys);
        let path = folder.join(format!("{form}.cbor"));
        let arguments = [
            "export".to_owned(),
            format!("--seed={}", seed * 10 + form as u64),
            format!("--keys={keys}"),
            format!("--deletes={deletes}"),
            format!("--overwrites={}", random.below(50)),
            format!("--reinserts={}", random.below(deletes / 2 + 1)),
            format!("--links={}", link_name(links)),
            format!("--values={}", value_name(values)),
            path.to_string_lossy().into_owned(),
        ];
        run_script(&python, "live_check.py", &folder, &arguments, &reproduce);
        let mut vector = Vector::read(&path);
        assert_eq!(vector.generator, "py-hamt 3.6.0");
        vector.description = format!("{} ({reproduce})", vector.description);
        check_entries(&vector);
        check_same_blocks(&vector, &vector.history.clone(), "py-hamt's writes");
        check_same_blocks(&vector, &interop_support::shuffled_writes(&vector, seed, 30), "shuffled writes");
    }
}

#[test]
fn py_hamt_reads_and_rebuilds_what_hamt_store_writes() {
    let Some(python) = python("py_hamt_reads_and_rebuilds_what_hamt_store_writes") else { return };
    let seed = seed();
    let reproduce = format!("reproduce with {SEED_VARIABLE}={seed}");
    let folder = scratch("hamt_store_writes");
    let mut random = SplitMix64(seed ^ 0x5eed);
    let mut paths = Vec::new();
    for (form, (links, values)) in FORMS.into_iter().enumerate() {
        let vector = random_vector(&mut random, links, values, &reproduce);
        let path = folder.join(format!("{form}.cbor"));
        std::fs::write(&path, vector.encode()).expect("the vector can be written");
        paths.push(path.to_string_lossy().into_owned());
    }
    let arguments: Vec<String> = std::iter::once("check".to_owned()).chain(paths).collect();
    run_script(&python, "live_check.py", &folder, &arguments, &reproduce);
}

/// A random map written by hamt-store: a few hundred keys set, some deleted and some overwritten, flushed once.
fn random_vector(random: &mut SplitMix64, links: LinkFormat, values: ValueMode, reproduce: &str) -> Vector {
    let config = hamt_store::Config { link_format: links, value_mode: values, ..hamt_store::Config::default() };
    let mut map = StoredMap::with_config(MemoryStore::new(), config);
    let mut model: BTreeMap<String, Value> = BTreeMap::new();
    let mut history = Vec::new();
    let count = 100 + random.below(300);
    while model.len() < count {
        let key = random_key(random);
        let value = random_value(random, values);
        map.insert(key.clone(), value.clone()).expect("a memory store takes writes");
        model.insert(key.clone(), value.clone());
        history.push(Write::Set(key, value));
    }
    for _ in 0..random.below(count) {
        let keys: Vec<&String> = model.keys().collect();
        let key = keys[random.below(keys.len())].clone();
        if random.below(4) == 0 {
            let value = random_value(random, values);
            map.insert(key.clone(), value.clone()).expect("a memory store takes writes");
            model.insert(key.clone(), value.clone());
            history.push(Write::Set(key, value));
        } else {
            assert!(map.remove(&key).expect("a memory store takes writes"));
            model.remove(&key);
            history.push(Write::Delete(key));
        }
    }
    let root = map.flush().expect("a memory store takes the flush");
    Vector {
        description: format!("hamt-store, {} links, {} values ({reproduce})", link_name(links), value_name(values)),
        generator: "hamt-store".to_owned(),
        links,
        values,
        root_id: root_id(&root, links),
        blocks: reachable_blocks(map.store(), &root),
        entries: model.into_iter().collect(),
        history,
    }
}

/// Characters of one to four UTF-8 bytes, with a NUL.
const ALPHABET: [char; 14] = ['a', 'z', 'Q', '0', '/', '-', ' ', 'é', 'ж', 'Ω', '日', '語', '🦀', '\0'];

fn random_text(random: &mut SplitMix64, length: usize) -> String {
    (0..length).map(|_| ALPHABET[random.below(ALPHABET.len())]).collect()
}

fn random_key(random: &mut SplitMix64) -> String {
    match random.below(10) {
        0 => String::new(),
        1..=4 => format!("key-{}", random.next() % 100_000),
        5..=8 => {
            let length = 1 + random.below(15);
            random_text(random, length)
        }
        _ => {
            let length = 20 + random.below(280);
            random_text(random, length)
        }
    }
}

fn random_bytes(random: &mut SplitMix64, length: usize) -> Vec<u8> {
    (0..length).map(|_| random.next().to_le_bytes()[0]).collect()
}

fn random_value(random: &mut SplitMix64, values: ValueMode) -> Value {
    match values {
        ValueMode::Bytes => {
            let length = [0, 1, 2 + random.below(60), 64 + random.below(400)][random.below(4)];
            Value::Bytes(random_bytes(random, length))
        }
        ValueMode::Cbor => Value::from(random_ipld(random, 0)),
    }
}

fn random_ipld(random: &mut SplitMix64, depth: u32) -> Ipld {
    let kinds = if depth < 2 { 10 } else { 8 };
    match random.below(kinds) {
        0 => Ipld::Integer(i128::from(random.next() as i64)),
        // The edges of CBOR's integer heads and its whole range, -2^64 to 2^64 - 1.
        1 => Ipld::Integer(
            [0, 23, 24, 255, 256, 65_536, 1 << 32, (1 << 64) - 1, -1, -24, -25, -(1 << 64)][random.below(12)],
        ),
        2 => {
            let length = random.below(30);
            Ipld::String(random_text(random, length))
        }
        3 => {
            let length = random.below(40);
            Ipld::Bytes(random_bytes(random, length))
        }
        4 => [Ipld::Bool(true), Ipld::Bool(false), Ipld::Null][random.below(3)].clone(),
        5 => Ipld::Float([0.0, -0.5, 1.5, std::f64::consts::PI, 1e300, -2.5e-300][random.below(6)]),
        6 => {
            let target: Cid = block_cid(RAW, &random.next().to_le_bytes());
            Ipld::Link(target)
        }
        7 => Ipld::Integer(i128::from(random.next() % 1000)),
        8 => Ipld::List((0..random.below(5)).map(|_| random_ipld(random, depth + 1)).collect()),
        _ => Ipld::Map((0..random.below(5)).map(|_| (random_key(random), random_ipld(random, depth + 1))).collect()),
    }
}
