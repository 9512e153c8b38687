//! Zarr arrays shared with Python: zarr 3 over py-hamt 3.6.0's `ZarrHAMTStore` (and its encrypted variant) on one
//! side, zarrs over `hamt_store::zarr::ZarrStore` on the other.
//!
//! - The committed vectors (tests/vectors/zarr-*.cbor, written by tests/py/zarr_vectors.py) are read on every
//!   machine: every block against its id, the group and array attributes, the shape, chunks and codec, and every
//!   element against the formula both languages compute.
//! - Live, with the Python `cargo xtask test` prepares (`HAMT_PY_HAMT_PYTHON`): Python writes random arrays (plain
//!   and encrypted) that Rust reads and checks, and Rust writes random arrays that tests/py/zarr_live.py reads
//!   through zarr and py-hamt and checks element by element. `HAMT_PY_HAMT_SEED` repeats a run.
//!
//! A vector is one DAG-CBOR map; tests/py/zarr_vectors.py documents it field by field.
#![cfg(feature = "zarr")]

mod common;
#[allow(dead_code, reason = "each test file uses its own part of the shared code")]
mod interop_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::zarr_elements;
use hamt_store::zarr::{Encryption, ZarrStore};
use hamt_store::{Blockstore, Cid, Config, DAG_CBOR, Ipld, MemoryStore, RAW, StoredMap, ValueMode, block_cid};
use interop_support::SplitMix64;
use interop_support::live::{SEED_VARIABLE, python, run_script, scratch, seed};
use serde_json::{Map, Value as Json};
use zarrs::array::{Array, ArrayBuilder, ArraySubset, codec, data_type};
use zarrs::group::{Group, GroupBuilder};

/// A Zarr vector.
#[derive(Debug, Clone, PartialEq)]
struct ZarrVector {
    generator: String,
    description: String,
    root: Cid,
    blocks: BTreeMap<Cid, Vec<u8>>,
    /// The key and header, for an encrypted array.
    encryption: Option<([u8; 32], Vec<u8>)>,
    group_attributes: Map<String, Json>,
    path: String,
    shape: [u64; 2],
    chunks: [u64; 2],
    compressor: String,
    attributes: Map<String, Json>,
}

fn field(fields: &mut BTreeMap<String, Ipld>, name: &str) -> Ipld {
    fields.remove(name).unwrap_or_else(|| panic!("no field `{name}`"))
}

fn text(ipld: Ipld) -> String {
    match ipld {
        Ipld::String(text) => text,
        other => panic!("not text: {other:?}"),
    }
}

fn bytes(ipld: Ipld) -> Vec<u8> {
    match ipld {
        Ipld::Bytes(bytes) => bytes,
        other => panic!("not bytes: {other:?}"),
    }
}

fn pair(ipld: Ipld) -> [u64; 2] {
    match ipld {
        Ipld::List(items) => match items.as_slice() {
            [Ipld::Integer(a), Ipld::Integer(b)] => [u64::try_from(*a).unwrap(), u64::try_from(*b).unwrap()],
            other => panic!("not two integers: {other:?}"),
        },
        other => panic!("not a list: {other:?}"),
    }
}

/// JSON as zarr writes attributes: the vector holds them as plain CBOR.
fn json(ipld: Ipld) -> Json {
    match ipld {
        Ipld::Null => Json::Null,
        Ipld::Bool(value) => Json::Bool(value),
        Ipld::Integer(value) => Json::from(i64::try_from(value).expect("attribute integers fit in i64")),
        Ipld::Float(value) => Json::from(value),
        Ipld::String(value) => Json::String(value),
        Ipld::List(items) => Json::Array(items.into_iter().map(json).collect()),
        Ipld::Map(fields) => Json::Object(object(Ipld::Map(fields))),
        other => panic!("not JSON: {other:?}"),
    }
}

fn object(ipld: Ipld) -> Map<String, Json> {
    match ipld {
        Ipld::Map(fields) => fields.into_iter().map(|(name, value)| (name, json(value))).collect(),
        other => panic!("not a map: {other:?}"),
    }
}

fn ipld(value: &Json) -> Ipld {
    match value {
        Json::Null => Ipld::Null,
        Json::Bool(value) => Ipld::Bool(*value),
        Json::Number(number) => match number.as_i64() {
            Some(integer) => Ipld::Integer(integer.into()),
            None => Ipld::Float(number.as_f64().expect("a finite number")),
        },
        Json::String(value) => Ipld::String(value.clone()),
        Json::Array(items) => Ipld::List(items.iter().map(ipld).collect()),
        Json::Object(fields) => Ipld::Map(fields.iter().map(|(name, value)| (name.clone(), ipld(value))).collect()),
    }
}

impl ZarrVector {
    fn read(path: &Path) -> ZarrVector {
        let file = std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let Ipld::Map(mut fields) = serde_ipld_dagcbor::from_slice(&file).expect("a DAG-CBOR vector") else {
            panic!("{}: not a map", path.display())
        };
        assert_eq!(field(&mut fields, "format"), Ipld::Integer(1), "{}", path.display());
        assert_eq!(text(field(&mut fields, "links")), "cid");
        let Ipld::List(listed) = field(&mut fields, "blocks") else { panic!("blocks is not a list") };
        // Ids are computed from the codec and the bytes, which checks them.
        let mut blocks = BTreeMap::new();
        for block in listed {
            let Ipld::List(parts) = block else { panic!("a block is not a list") };
            let [codec, data] = <[Ipld; 2]>::try_from(parts).expect("a block is a codec and bytes");
            let codec = match text(codec).as_str() {
                "dag-cbor" => DAG_CBOR,
                "raw" => RAW,
                other => panic!("unknown codec {other}"),
            };
            let data = bytes(data);
            blocks.insert(block_cid(codec, &data), data);
        }
        let encryption = match field(&mut fields, "encryption") {
            Ipld::Null => None,
            Ipld::Map(mut encryption) => {
                let key = bytes(field(&mut encryption, "key")).try_into().expect("a 32-byte key");
                Some((key, bytes(field(&mut encryption, "header"))))
            }
            other => panic!("encryption is {other:?}"),
        };
        let Ipld::Map(mut array) = field(&mut fields, "array") else { panic!("array is not a map") };
        assert_eq!(text(field(&mut array, "dtype")), "float32");
        ZarrVector {
            generator: text(field(&mut fields, "generator")),
            description: text(field(&mut fields, "description")),
            root: Cid::try_from(bytes(field(&mut fields, "root"))).expect("the root is a CID"),
            blocks,
            encryption,
            group_attributes: object(field(&mut fields, "group_attributes")),
            path: text(field(&mut array, "path")),
            shape: pair(field(&mut array, "shape")),
            chunks: pair(field(&mut array, "chunks")),
            compressor: text(field(&mut array, "compressor")),
            attributes: object(field(&mut array, "attributes")),
        }
    }

    fn encode(&self) -> Vec<u8> {
        let pair = |values: [u64; 2]| Ipld::List(values.iter().map(|&value| Ipld::Integer(value.into())).collect());
        let encryption = match &self.encryption {
            None => Ipld::Null,
            Some((key, header)) => Ipld::Map(BTreeMap::from([
                ("key".to_owned(), Ipld::Bytes(key.to_vec())),
                ("header".to_owned(), Ipld::Bytes(header.clone())),
            ])),
        };
        let blocks = self
            .blocks
            .iter()
            .map(|(cid, data)| {
                let codec = if cid.codec() == DAG_CBOR { "dag-cbor" } else { "raw" };
                Ipld::List(vec![Ipld::String(codec.to_owned()), Ipld::Bytes(data.clone())])
            })
            .collect();
        let object = |fields: &Map<String, Json>| ipld(&Json::Object(fields.clone()));
        let vector = Ipld::Map(BTreeMap::from([
            ("format".to_owned(), Ipld::Integer(1)),
            ("generator".to_owned(), Ipld::String(self.generator.clone())),
            ("description".to_owned(), Ipld::String(self.description.clone())),
            ("links".to_owned(), Ipld::String("cid".to_owned())),
            ("root".to_owned(), Ipld::Bytes(self.root.to_bytes())),
            ("blocks".to_owned(), Ipld::List(blocks)),
            ("encryption".to_owned(), encryption),
            ("group_attributes".to_owned(), object(&self.group_attributes)),
            (
                "array".to_owned(),
                Ipld::Map(BTreeMap::from([
                    ("path".to_owned(), Ipld::String(self.path.clone())),
                    ("shape".to_owned(), pair(self.shape)),
                    ("chunks".to_owned(), pair(self.chunks)),
                    ("dtype".to_owned(), Ipld::String("float32".to_owned())),
                    ("compressor".to_owned(), Ipld::String(self.compressor.clone())),
                    ("attributes".to_owned(), object(&self.attributes)),
                ])),
            ),
        ]));
        serde_ipld_dagcbor::to_vec(&vector).expect("a vector encodes")
    }

    fn store(&self) -> ZarrStore<MemoryStore> {
        let blocks = MemoryStore::new();
        for (cid, data) in &self.blocks {
            blocks.put(cid, data).unwrap();
        }
        let store = ZarrStore::load(blocks, self.root).unwrap_or_else(|error| panic!("{}: {error}", self.description));
        match &self.encryption {
            Some((key, header)) => store.with_encryption(Encryption::new(*key, header.clone())),
            None => store,
        }
    }
}

/// Everything a reader can check of a vector through zarrs over hamt-store.
fn check(vector: &ZarrVector) {
    let what = &vector.description;
    let store = Arc::new(vector.store());

    // The vector holds exactly the blocks its root reaches.
    let reached: BTreeMap<Cid, Vec<u8>> = interop_support::reachable_blocks(store.map().store(), &vector.root);
    assert_eq!(reached.keys().collect::<Vec<_>>(), vector.blocks.keys().collect::<Vec<_>>(), "{what}");

    let group = Group::open(store.clone(), "/").unwrap_or_else(|error| panic!("{what}: {error}"));
    assert_eq!(group.attributes(), &vector.group_attributes, "{what}: group attributes");
    let array = Array::open(store.clone(), &format!("/{}", vector.path)).unwrap();
    assert_eq!(array.attributes(), &vector.attributes, "{what}: array attributes");
    assert_eq!(array.shape(), vector.shape, "{what}");
    assert_eq!(array.data_type(), &data_type::float32(), "{what}");
    let chunk_shape: Vec<u64> = array.chunk_shape(&[0, 0]).unwrap().iter().map(|size| size.get()).collect();
    assert_eq!(chunk_shape, vector.chunks, "{what}");
    let codecs = array.metadata().to_string();
    assert_eq!(codecs.contains("\"zstd\""), vector.compressor == "zstd", "{what}: {codecs}");

    let [rows, columns] = vector.shape;
    let all: Vec<f32> = array.retrieve_array_subset(&array.subset_all()).unwrap();
    assert_eq!(all, zarr_elements(0..rows, 0..columns), "{what}: every element");
    let (row_range, column_range) = (3.min(rows)..40.min(rows), 2.min(columns)..30.min(columns));
    let region = ArraySubset::new_with_ranges(&[row_range.clone(), column_range.clone()]);
    let read: Vec<f32> = array.retrieve_array_subset(&region).unwrap();
    assert_eq!(read, zarr_elements(row_range, column_range), "{what}: a region");

    // A wrong key or header is refused, never read as data.
    if let Some((key, header)) = &vector.encryption {
        let mut wrong_key = *key;
        wrong_key[0] ^= 1;
        for (key, header) in [(wrong_key, header.clone()), (*key, [header.as_slice(), b"!"].concat())] {
            let store = Arc::new(vector.store().with_encryption(Encryption::new(key, header)));
            assert!(Group::open(store, "/").is_err(), "{what}: a wrong key or header is refused");
        }
    }

    // Unencrypted, the layout is py-hamt's byte for byte: the same entries inserted into a new map in another
    // order give the same root.
    if vector.encryption.is_none() {
        let map = store.map();
        let mut entries: Vec<(String, Vec<u8>)> = map
            .iter()
            .map(|entry| entry.map(|(key, value)| (key, value.as_bytes().unwrap().to_vec())))
            .collect::<Result<_, _>>()
            .unwrap();
        entries.reverse();
        let config = Config { value_mode: ValueMode::Bytes, ..Config::default() };
        let mut rebuilt = StoredMap::with_config(MemoryStore::new(), config);
        for (key, value) in entries {
            rebuilt.insert(key, value.into()).unwrap();
        }
        assert_eq!(rebuilt.flush().unwrap(), vector.root, "{what}: rebuilt");
    }
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("vectors")
}

const VECTORS: [&str; 3] = ["zarr-plain", "zarr-encrypted", "zarr-edges"];

#[test]
fn committed_vectors_written_by_python_read_back() {
    for name in VECTORS {
        let vector = ZarrVector::read(&vectors_dir().join(format!("{name}.cbor")));
        assert!(vector.generator.starts_with("py-hamt 3.6.0 + zarr 3"), "{name}: {}", vector.generator);
        check(&vector);
        assert_eq!(vector.encryption.is_some(), name == "zarr-encrypted");
        // What this reader writes of it is what it read.
        let path = scratch("zarr_vectors").join(format!("{name}.cbor"));
        std::fs::write(&path, vector.encode()).unwrap();
        assert_eq!(ZarrVector::read(&path), vector);
    }
}

#[test]
fn every_zarr_vector_is_checked() {
    let mut on_disk: Vec<String> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("zarr-"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = VECTORS.iter().map(|name| format!("{name}.cbor")).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[test]
fn hamt_store_reads_what_python_zarr_writes() {
    let Some(python) = python("hamt_store_reads_what_python_zarr_writes") else { return };
    let seed = seed();
    let reproduce = format!("reproduce with {SEED_VARIABLE}={seed}");
    let folder = scratch("python_zarr_writes");
    for case in 0..4_u64 {
        let path = folder.join(format!("{case}.cbor"));
        let mut arguments =
            vec!["write".to_owned(), path.to_string_lossy().into_owned(), format!("--seed={}", seed * 10 + case)];
        if case % 2 == 1 {
            arguments.push("--encrypted".to_owned());
        }
        run_script(&python, "zarr_live.py", &folder, &arguments, &reproduce);
        let mut vector = ZarrVector::read(&path);
        vector.description = format!("{} ({reproduce})", vector.description);
        check(&vector);
    }
}

/// Attributes of every JSON kind, with text zarr must escape.
fn random_attributes(random: &mut SplitMix64) -> Map<String, Json> {
    let mut attributes = Map::new();
    for index in 0..random.below(5) {
        let value = match random.below(5) {
            0 => Json::from(random.next() as i64 >> 12),
            1 => Json::from(random.below(1 << 20) as f64 / 16.0),
            2 => Json::from(["K", "°C", "日本語 🙂", "\"quoted\\"][random.below(4)]),
            3 => Json::from(vec![Json::from(1), Json::Null, Json::from(true)]),
            _ => Json::from(Map::from_iter([("nested".to_owned(), Json::from("ü"))])),
        };
        attributes.insert(format!("attribute {index}"), value);
    }
    attributes
}

/// A random array written through zarrs over hamt-store, as a vector.
fn rust_vector(random: &mut SplitMix64, encrypted: bool, reproduce: &str) -> ZarrVector {
    let shape = [1 + random.below(200) as u64, 1 + random.below(200) as u64];
    let chunks = [1 + random.below(shape[0] as usize) as u64, 1 + random.below(shape[1] as usize) as u64];
    let chunks = if shape[0].div_ceil(chunks[0]) * shape[1].div_ceil(chunks[1]) > 400 {
        [shape[0].div_ceil(8), shape[1].div_ceil(8)]
    } else {
        chunks
    };
    let compressor = if random.below(2) == 0 { "zstd" } else { "none" };
    let encryption = encrypted.then(|| {
        let mut key = [0; 32];
        key.iter_mut().for_each(|byte| *byte = random.next() as u8);
        (key, (0..random.below(40)).map(|_| random.next() as u8).collect::<Vec<u8>>())
    });
    let blocks = MemoryStore::new();
    let mut store = ZarrStore::new(blocks.clone());
    if let Some((key, header)) = &encryption {
        store = store.with_encryption(Encryption::new(*key, header.clone()));
    }
    let store = Arc::new(store);

    let mut group = GroupBuilder::new().build(store.clone(), "/").unwrap();
    *group.attributes_mut() = random_attributes(random);
    group.store_metadata().unwrap();
    let mut builder = ArrayBuilder::new(shape.to_vec(), chunks.to_vec(), data_type::float32(), 0.0f32);
    if compressor == "zstd" {
        builder.bytes_to_bytes_codecs(vec![Arc::new(codec::ZstdCodec::new(0, false))]);
    }
    let mut array = builder.build(store.clone(), "/temp").unwrap();
    *array.attributes_mut() = random_attributes(random);
    array.store_metadata().unwrap();
    array.store_array_subset(&array.subset_all(), zarr_elements(0..shape[0], 0..shape[1])).unwrap();
    let root = store.flush().unwrap();
    // The attributes as stored, which is what Python reads: zarrs adds a `_zarrs` entry of its own.
    let group_attributes = Group::open(store.clone(), "/").unwrap().attributes().clone();
    let attributes = Array::open(store.clone(), "/temp").unwrap().attributes().clone();

    ZarrVector {
        generator: "hamt-store + zarrs".to_owned(),
        description: format!(
            "zarrs {shape:?} in chunks of {chunks:?}, {compressor}{} ({reproduce})",
            if encrypted { ", encrypted" } else { "" }
        ),
        root,
        blocks: interop_support::reachable_blocks(&blocks, &root),
        encryption,
        group_attributes,
        path: "temp".to_owned(),
        shape,
        chunks,
        compressor: compressor.to_owned(),
        attributes,
    }
}

#[test]
fn python_zarr_reads_what_hamt_store_writes() {
    let Some(python) = python("python_zarr_reads_what_hamt_store_writes") else { return };
    let seed = seed();
    let reproduce = format!("reproduce with {SEED_VARIABLE}={seed}");
    let folder = scratch("hamt_store_zarr_writes");
    let mut random = SplitMix64(seed ^ 0x2a22);
    for case in 0..4 {
        let vector = rust_vector(&mut random, case % 2 == 1, &reproduce);
        check(&vector);
        let path = folder.join(format!("{case}.cbor"));
        std::fs::write(&path, vector.encode()).unwrap();
        let output = run_script(
            &python,
            "zarr_live.py",
            &folder,
            &["read".to_owned(), path.to_string_lossy().into_owned()],
            &reproduce,
        );
        assert!(output.contains("\"ok\": true"), "{}: {output}", vector.description);
    }
}
