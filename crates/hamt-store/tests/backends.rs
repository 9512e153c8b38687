//! The backend conformance suite: every backend (`MemoryStore`, `RedbStore`, and `ObjectStore` over object_store's
//! `InMemory`, `LocalFileSystem` and a real S3 server, s3s-fs on 127.0.0.1) against a `HashMap` model, through the
//! `Blockstore` trait and through `StoredMap`. Nothing here reaches an address other than 127.0.0.1.
//!
//! Operation sequences are generated from fixed seeds, so a failure reproduces; the failing backend, seed and step
//! are in the panic message.

use std::collections::{HashMap, HashSet};
use std::env;
use std::fs;
use std::path::PathBuf;

use hamt_store::{Blockstore, Config, DAG_CBOR, LinkFormat, MemoryStore, RAW, StoreError, StoredMap, ValueMode};
use hamt_store::{Bytes, Cid, block_cid};

#[cfg(feature = "object-store")]
use hamt_store::ObjectStore;
#[cfg(feature = "redb")]
use hamt_store::RedbStore;
#[cfg(feature = "object-store")]
use hamt_store::object_store::{self as objects, ObjectStoreExt as _};
#[cfg(feature = "object-store")]
use std::sync::Arc;
#[cfg(feature = "object-store")]
use std::time::Duration;

mod common;
use common::Rng;

/// An error and its sources, for failure messages.
fn report(error: &StoreError) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// A fresh temporary directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = env::temp_dir().join(format!("hamt-store-backends-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// Block `i` of the test corpus: raw blocks of sizes from empty to 70 KiB, and some tagged as DAG-CBOR, so that ids
/// of both codecs go through each backend.
fn block(i: u64) -> (Cid, Bytes) {
    let length = match i % 5 {
        0 => 0,
        1 => 1,
        2 => 37,
        3 => 1_000,
        _ => 70_000 + i as usize,
    };
    let bytes: Vec<u8> = (0..length).map(|j| (j as u64).wrapping_mul(31).wrapping_add(i) as u8).collect();
    // Blocks of length 0 differ only in their codec, so that the corpus still has distinct ids.
    let bytes = if length == 0 { i.to_le_bytes()[..(i % 8) as usize].to_vec() } else { bytes };
    let codec = if i.is_multiple_of(3) { DAG_CBOR } else { RAW };
    (block_cid(codec, &bytes), Bytes::from(bytes))
}

/// The corpus as a list without repeated ids.
fn corpus(count: u64) -> Vec<(Cid, Bytes)> {
    let mut seen = HashSet::new();
    (0..count).map(block).filter(|(cid, _)| seen.insert(*cid)).collect()
}

fn sorted(mut cids: Vec<Cid>) -> Vec<Cid> {
    cids.sort();
    cids
}

/// The fixed checks every backend passes: an empty store, single and batch operations, idempotent puts, missing
/// blocks and deletes of what is not there.
fn basic_operations(store: &dyn Blockstore, backend: &str) {
    let blocks = corpus(12);
    let (first, first_bytes) = &blocks[3];
    let missing = block_cid(RAW, b"never stored");

    assert!(store.list().expect("list").is_empty(), "{backend}: a new store lists blocks");
    assert_eq!(store.get(first).expect("get"), None, "{backend}: a new store holds a block");
    assert!(!store.has(first).expect("has"), "{backend}: a new store has a block");
    assert_eq!(store.get_many(&[]).expect("get_many"), Vec::<Option<Bytes>>::new(), "{backend}");
    store.put_many(&[]).expect("put_many of nothing");
    store.delete(&[]).expect("delete of nothing");

    store.put(first, first_bytes).expect("put");
    store.put(first, first_bytes).expect("a second put of the same block");
    assert_eq!(store.get(first).expect("get").as_ref(), Some(first_bytes), "{backend}: get after put");
    assert!(store.has(first).expect("has"), "{backend}: has after put");
    assert_eq!(store.list().expect("list"), vec![*first], "{backend}: list after two puts of one block");

    // A batch that repeats a block and includes one that is there already.
    let mut batch = blocks.clone();
    batch.push(blocks[5].clone());
    store.put_many(&batch).expect("put_many");
    store.put_many(&batch).expect("a second put_many of the same blocks");
    let expected: Vec<Cid> = sorted(blocks.iter().map(|(cid, _)| *cid).collect());
    assert_eq!(sorted(store.list().expect("list")), expected, "{backend}: list after put_many");

    // get_many answers in the order asked, with None for what is missing, and repeats what is asked twice.
    let asked = [blocks[7].0, missing, blocks[0].0, blocks[7].0, blocks[11].0];
    let answers = store.get_many(&asked).expect("get_many");
    let wanted: Vec<Option<Bytes>> = vec![
        Some(blocks[7].1.clone()),
        None,
        Some(blocks[0].1.clone()),
        Some(blocks[7].1.clone()),
        Some(blocks[11].1.clone()),
    ];
    assert_eq!(answers, wanted, "{backend}: get_many");
    assert!(!store.has(&missing).expect("has"), "{backend}: has a block never stored");
    assert_eq!(store.get(&missing).expect("get"), None, "{backend}: get of a block never stored");

    // Deleting what is there and what is not.
    store.delete(&[blocks[0].0, missing, blocks[4].0]).expect("delete");
    store.delete(&[blocks[0].0]).expect("a second delete of the same block");
    assert!(!store.has(&blocks[0].0).expect("has"), "{backend}: has after delete");
    assert_eq!(store.get(&blocks[4].0).expect("get"), None, "{backend}: get after delete");
    let remaining: Vec<Cid> =
        sorted(blocks.iter().map(|(cid, _)| *cid).filter(|cid| *cid != blocks[0].0 && *cid != blocks[4].0).collect());
    assert_eq!(sorted(store.list().expect("list")), remaining, "{backend}: list after delete");

    // A deleted block can be stored again.
    store.put(&blocks[0].0, &blocks[0].1).expect("put after delete");
    assert_eq!(store.get(&blocks[0].0).expect("get").as_ref(), Some(&blocks[0].1), "{backend}: put after delete");

    store.delete(&store.list().expect("list")).expect("delete everything");
    assert!(store.list().expect("list").is_empty(), "{backend}: list after deleting everything");
}

/// Random operations against a `HashMap` model, compared after every step.
fn model_operations(store: &dyn Blockstore, backend: &str, seed: u64, steps: usize) {
    let blocks = corpus(30);
    let mut model: HashMap<Cid, Bytes> =
        store.list().expect("list").into_iter().map(|cid| (cid, Bytes::new())).collect();
    assert!(model.is_empty(), "{backend}: the model test needs an empty store");
    let mut rng = Rng(seed);
    let pick = |rng: &mut Rng| blocks[rng.below(blocks.len() as u64) as usize].clone();
    for step in 0..steps {
        let context = format!("{backend}, seed {seed:#x}, step {step}");
        match rng.below(6) {
            0 => {
                let (cid, bytes) = pick(&mut rng);
                store.put(&cid, &bytes).unwrap_or_else(|error| panic!("{context}: put: {}", report(&error)));
                model.insert(cid, bytes);
            }
            1 => {
                let batch: Vec<_> = (0..rng.below(8)).map(|_| pick(&mut rng)).collect();
                store.put_many(&batch).unwrap_or_else(|error| panic!("{context}: put_many: {}", report(&error)));
                model.extend(batch);
            }
            2 => {
                let cids: Vec<Cid> = (0..rng.below(4)).map(|_| pick(&mut rng).0).collect();
                store.delete(&cids).unwrap_or_else(|error| panic!("{context}: delete: {}", report(&error)));
                for cid in &cids {
                    model.remove(cid);
                }
            }
            3 => {
                let cids: Vec<Cid> = (0..rng.below(10)).map(|_| pick(&mut rng).0).collect();
                let answers =
                    store.get_many(&cids).unwrap_or_else(|error| panic!("{context}: get_many: {}", report(&error)));
                let expected: Vec<_> = cids.iter().map(|cid| model.get(cid).cloned()).collect();
                assert_eq!(answers, expected, "{context}: get_many");
            }
            4 => {
                let (cid, _) = pick(&mut rng);
                let found = store.get(&cid).unwrap_or_else(|error| panic!("{context}: get: {}", report(&error)));
                assert_eq!(found.as_ref(), model.get(&cid), "{context}: get");
                let has = store.has(&cid).unwrap_or_else(|error| panic!("{context}: has: {}", report(&error)));
                assert_eq!(has, model.contains_key(&cid), "{context}: has");
            }
            _ => {
                let listed = store.list().unwrap_or_else(|error| panic!("{context}: list: {}", report(&error)));
                assert_eq!(sorted(listed), sorted(model.keys().copied().collect()), "{context}: list");
            }
        }
    }
    let listed = store.list().expect("list");
    assert_eq!(sorted(listed), sorted(model.keys().copied().collect()), "{backend}, seed {seed:#x}: final list");
    store.delete(&store.list().expect("list")).expect("delete everything");
}

/// `StoredMap` on the backend: a map built from a model, flushed, reloaded, changed, flushed again; the roots equal
/// those of the same map on a `MemoryStore` (the format does not depend on the backend), and every block the map
/// links is in the store and verifies.
fn stored_map_round_trip<B: Blockstore>(store: B, backend: &str) {
    for config in [
        Config::default(),
        Config {
            value_mode: ValueMode::Bytes,
            link_format: LinkFormat::Multihash,
            max_bucket_size: 2,
            ..Config::default()
        },
    ] {
        let reference = MemoryStore::new();
        let mut on_backend = StoredMap::with_config(&store, config);
        let mut in_memory = StoredMap::with_config(&reference, config);
        let mut model = HashMap::new();
        let mut rng = Rng(0x5eed ^ config.max_bucket_size as u64);
        let mut roots = Vec::new();
        for round in 0..3 {
            for _ in 0..100 {
                let key = format!("key-{}", rng.below(200));
                if rng.below(4) == 0 {
                    let removed = on_backend.remove(&key).expect("remove");
                    assert_eq!(in_memory.remove(&key).expect("remove"), removed);
                    assert_eq!(model.remove(&key).is_some(), removed, "{backend}, round {round}: remove {key}");
                } else {
                    let value = format!("value {} of {key}", rng.below(1_000)).into_bytes();
                    on_backend.insert(key.clone(), value.clone().into()).expect("insert");
                    in_memory.insert(key.clone(), value.clone().into()).expect("insert");
                    model.insert(key, value);
                }
            }
            let root = on_backend.flush().expect("flush");
            assert_eq!(
                root,
                in_memory.flush().expect("flush"),
                "{backend}, round {round}: the root differs from the one in memory"
            );
            roots.push((root, model.clone()));

            // A fresh load sees the model.
            let loaded = StoredMap::load_with_config(&store, root, config).expect("load");
            assert_eq!(loaded.len().expect("len"), model.len(), "{backend}, round {round}: len");
            for (key, value) in loaded.iter().map(|entry| entry.expect("iter")) {
                assert_eq!(
                    Some(&value),
                    model.get(&key).map(|bytes| bytes.clone().into()).as_ref(),
                    "{backend}: {key}"
                );
            }
            // Every block of the same map in memory is on the backend, with bytes that hash to its id.
            let cids = reference.list().expect("list");
            for (cid, stored) in cids.iter().zip(store.get_many(&cids).expect("get_many")) {
                let stored = stored.unwrap_or_else(|| panic!("{backend}: block {cid} missing"));
                hamt_store::verify_block(cid, &stored).expect("the stored block verifies");
            }
            on_backend = loaded;
        }
        // Every version flushed is still readable in full.
        for (round, (root, expected)) in roots.iter().enumerate() {
            let loaded = StoredMap::load_with_config(&store, *root, config).expect("load");
            let mut seen: HashMap<String, Vec<u8>> = HashMap::new();
            for (key, value) in loaded.iter().map(|entry| entry.expect("iter")) {
                let hamt_store::Value::Bytes(bytes) = value else {
                    panic!("{backend}, version {round}: {key} is not bytes")
                };
                seen.insert(key, bytes);
            }
            assert_eq!(&seen, expected, "{backend}: version {round}");
        }
        store.delete(&store.list().expect("list")).expect("delete everything");
    }
}

fn conformance(store: &dyn Blockstore, backend: &str) {
    basic_operations(store, backend);
    for seed in [0x9e37_79b9_7f4a_7c15, 0x2545_f491_4f6c_dd1d] {
        model_operations(store, backend, seed, 200);
    }
    stored_map_round_trip(store, backend);
}

#[test]
fn memory_store() {
    conformance(&MemoryStore::new(), "MemoryStore");
}

#[cfg(feature = "redb")]
#[test]
fn redb_store() {
    let dir = temp_dir("redb");
    let path = dir.join("blocks.redb");
    let store = RedbStore::open(&path).expect("open");
    conformance(&store, "RedbStore");

    // What is stored survives closing and reopening the file.
    let blocks = corpus(10);
    store.put_many(&blocks).expect("put_many");
    store.set_root("main", &blocks[2].0).expect("set_root");
    drop(store);
    let store = RedbStore::open(&path).expect("reopen");
    assert_eq!(sorted(store.list().expect("list")), sorted(blocks.iter().map(|(cid, _)| *cid).collect()));
    for (cid, bytes) in &blocks {
        assert_eq!(store.get(cid).expect("get").as_ref(), Some(bytes));
    }
    assert_eq!(store.root("main").expect("root"), Some(blocks[2].0));
    drop(store);
    fs::remove_dir_all(&dir).expect("cleaning up");
}

#[cfg(feature = "redb")]
#[test]
fn redb_roots() {
    let dir = temp_dir("redb-roots");
    let store = RedbStore::open(dir.join("blocks.redb")).expect("open");
    let blocks = corpus(3);
    assert_eq!(store.root("main").expect("root"), None);
    assert!(store.roots().expect("roots").is_empty());

    // A root whose block is missing is refused, and nothing is published.
    let refused = store.set_root("main", &blocks[0].0);
    assert!(matches!(refused, Err(StoreError::MissingBlock { ref cid }) if **cid == blocks[0].0), "{refused:?}");
    assert_eq!(store.root("main").expect("root"), None);

    store.put_many(&blocks).expect("put_many");
    store.set_root("main", &blocks[0].0).expect("set_root");
    store.set_root("other", &blocks[1].0).expect("set_root");
    store.set_root("main", &blocks[2].0).expect("replacing a root");
    assert_eq!(store.root("main").expect("root"), Some(blocks[2].0));
    assert_eq!(
        store.roots().expect("roots"),
        vec![("main".to_owned(), blocks[2].0), ("other".to_owned(), blocks[1].0)]
    );
    assert!(store.remove_root("other").expect("remove_root"));
    assert!(!store.remove_root("other").expect("remove_root"));
    assert_eq!(store.roots().expect("roots"), vec![("main".to_owned(), blocks[2].0)]);

    // Clones share the open database; a second open of the same file is an error, not a panic.
    let clone = store.clone();
    assert_eq!(clone.root("main").expect("root"), Some(blocks[2].0));
    let second = RedbStore::open(dir.join("blocks.redb"));
    assert!(matches!(second, Err(StoreError::Backend { operation: "open", .. })), "{second:?}");
    drop((store, clone));
    fs::remove_dir_all(&dir).expect("cleaning up");
}

#[cfg(feature = "redb")]
#[test]
fn redb_rejects_what_is_not_a_database() {
    let dir = temp_dir("redb-garbage");
    let path = dir.join("garbage.redb");
    fs::write(&path, vec![0x5a; 10_000]).expect("writing garbage");
    let opened = RedbStore::open(&path);
    assert!(matches!(opened, Err(StoreError::Backend { operation: "open", .. })), "{opened:?}");
    let opened = RedbStore::open(dir.join("no such directory").join("blocks.redb"));
    assert!(matches!(opened, Err(StoreError::Backend { operation: "open", .. })), "{opened:?}");
    fs::remove_dir_all(&dir).expect("cleaning up");
}

#[cfg(feature = "object-store")]
#[test]
fn object_store_in_memory() {
    let store = ObjectStore::new(Arc::new(objects::memory::InMemory::new()));
    conformance(&store, "ObjectStore over InMemory");
    // One request at a time gives the same answers.
    conformance(&store.with_concurrency(1), "ObjectStore over InMemory, one request at a time");
}

#[cfg(feature = "object-store")]
#[test]
fn object_store_local_files() {
    let dir = temp_dir("local");
    let local = objects::local::LocalFileSystem::new_with_prefix(&dir).expect("a local store");
    let store = ObjectStore::with_prefix(Arc::new(local), "blocks");
    conformance(&store, "ObjectStore over LocalFileSystem");
    fs::remove_dir_all(&dir).expect("cleaning up");
}

/// A real S3 server on 127.0.0.1 for one test, and a bucket on it.
#[cfg(feature = "object-store")]
fn s3_server(name: &str) -> (s3_loopback::S3Server, PathBuf) {
    let dir = temp_dir(name);
    // The server stops by itself after a minute even if the test hangs.
    let server = s3_loopback::S3Server::start(&dir, Duration::from_secs(60)).expect("the S3 server starts");
    assert!(server.address().ip().is_loopback());
    server.create_bucket("blocks").expect("a bucket");
    (server, dir)
}

#[cfg(feature = "object-store")]
#[test]
fn object_store_s3() {
    let (server, dir) = s3_server("s3");
    let s3 = server.client("blocks").expect("an S3 client");
    let store = ObjectStore::with_prefix(Arc::new(s3), "conformance");
    conformance(&store, "ObjectStore over S3 (s3s-fs)");
    drop(store);
    drop(server);
    fs::remove_dir_all(&dir).expect("cleaning up");
}

/// A Zarr array written through zarrs into a map on S3 and read back by root id through another client: the
/// layout py-hamt publishes, in an object store.
#[cfg(all(feature = "object-store", feature = "zarr"))]
#[test]
fn zarr_array_on_s3() {
    use hamt_store::zarr::ZarrStore;
    use zarrs::array::{Array, ArrayBuilder, ArraySubset, data_type};

    let (server, dir) = s3_server("s3-zarr");
    let writer = Arc::new(ZarrStore::new(ObjectStore::new(Arc::new(server.client("blocks").expect("a client")))));
    let array = ArrayBuilder::new(vec![40, 30], vec![16, 16], data_type::int32(), -1i32)
        .build(writer.clone(), "/counts")
        .expect("an array");
    array.store_metadata().expect("metadata");
    let values: Vec<i32> = (0..40 * 30).collect();
    array.store_array_subset(&array.subset_all(), values.clone()).expect("write");
    let root = writer.flush().expect("flush");

    let reader = ZarrStore::load(ObjectStore::new(Arc::new(server.client("blocks").expect("a client"))), root);
    let array = Array::open(Arc::new(reader.expect("load")), "/counts").expect("open");
    let read: Vec<i32> = array.retrieve_array_subset(&array.subset_all()).expect("read");
    assert_eq!(read, values);
    let region: Vec<i32> = array.retrieve_array_subset(&ArraySubset::new_with_ranges(&[20..22, 5..7])).expect("read");
    assert_eq!(region, [605, 606, 635, 636]);
    drop((array, writer));
    drop(server);
    fs::remove_dir_all(&dir).expect("cleaning up");
}

/// Stores under different prefixes of one bucket do not see each other's blocks, even when one prefix lies inside
/// the other, and objects that are not blocks are not listed.
#[cfg(feature = "object-store")]
#[test]
fn object_store_prefixes_share_a_bucket() {
    let (server, dir) = s3_server("s3-prefixes");
    let bucket: Arc<dyn objects::ObjectStore> = Arc::new(server.client("blocks").expect("an S3 client"));
    let outer = ObjectStore::with_prefix(Arc::clone(&bucket), "data");
    let inner = ObjectStore::with_prefix(Arc::clone(&bucket), "data/inner");
    let top = ObjectStore::new(Arc::clone(&bucket));
    let blocks = corpus(6);
    outer.put_many(&blocks[..3]).expect("put_many");
    inner.put_many(&blocks[3..]).expect("put_many");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime
        .block_on(async {
            let stray = objects::path::Path::from("data/notes.txt");
            bucket.put(&stray, objects::PutPayload::from_static(b"not a block")).await?;
            // A block id in a form other than the one the store writes (upper case base32).
            let shouted = objects::path::Path::from(format!("data/{}", blocks[3].0.to_string().to_uppercase()));
            bucket.put(&shouted, objects::PutPayload::from_static(b"not canonical")).await
        })
        .expect("stray objects");
    assert_eq!(sorted(outer.list().expect("list")), sorted(blocks[..3].iter().map(|(cid, _)| *cid).collect()));
    assert_eq!(sorted(inner.list().expect("list")), sorted(blocks[3..].iter().map(|(cid, _)| *cid).collect()));
    assert!(top.list().expect("list").is_empty());
    assert!(!outer.has(&blocks[4].0).expect("has"));
    assert_eq!(inner.get(&blocks[4].0).expect("get").as_ref(), Some(&blocks[4].1));
    drop(runtime);
    drop((outer, inner, top, bucket));
    drop(server);
    fs::remove_dir_all(&dir).expect("cleaning up");
}

/// Writing a block that is there already does not rewrite it (create-only puts): the object's version tag stays.
#[cfg(feature = "object-store")]
#[test]
fn object_store_puts_are_create_only() {
    let (server, dir) = s3_server("s3-create-only");
    let bucket: Arc<dyn objects::ObjectStore> = Arc::new(server.client("blocks").expect("an S3 client"));
    let store = ObjectStore::new(Arc::clone(&bucket));
    let (cid, bytes) = block(3);
    store.put(&cid, &bytes).expect("put");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let location = objects::path::Path::from(cid.to_string());
    let before = runtime.block_on(bucket.head(&location)).expect("head");
    // A create-only put of other bytes under the same name is refused by the server: the mode is really in effect.
    let create = objects::PutOptions { mode: objects::PutMode::Create, ..Default::default() };
    let refused = runtime.block_on(bucket.put_opts(&location, objects::PutPayload::from_static(b"other"), create));
    assert!(matches!(refused, Err(objects::Error::AlreadyExists { .. })), "{refused:?}");
    store.put(&cid, &bytes).expect("a second put");
    store.put_many(&[(cid, bytes.clone())]).expect("a second put_many");
    let after = runtime.block_on(bucket.head(&location)).expect("head");
    assert_eq!((before.last_modified, before.e_tag), (after.last_modified, after.e_tag));
    assert_eq!(store.get(&cid).expect("get"), Some(bytes));
    drop(runtime);
    drop((store, bucket));
    drop(server);
    fs::remove_dir_all(&dir).expect("cleaning up");
}

/// An object store that holds an object larger than any block may be, under a block's name, cannot make the store
/// read it into memory: `get` (and `get_many`) refuse it by the size the store names, before reading the body.
#[cfg(feature = "object-store")]
#[test]
fn object_store_refuses_oversized_objects() {
    let bucket: Arc<dyn objects::ObjectStore> = Arc::new(objects::memory::InMemory::new());
    let store = ObjectStore::new(Arc::clone(&bucket));
    let limit = usize::try_from(hamt_store::MAX_BLOCK_BYTES).expect("32 MiB fits");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    for size in [limit, limit + 1] {
        // The object's bytes do not matter: it is refused, or read and then checked against its id by a map.
        let (cid, _) = block(size as u64);
        let location = objects::path::Path::from(cid.to_string());
        runtime.block_on(bucket.put(&location, vec![7; size].into())).expect("put");
        let got = store.get(&cid);
        let many = store.get_many(&[cid]);
        if size == limit {
            assert_eq!(got.expect("at the limit").map(|bytes| bytes.len()), Some(limit));
            assert!(many.is_ok());
        } else {
            assert!(matches!(got, Err(StoreError::BlockTooLarge { size: claimed, .. }) if claimed == size as u64));
            assert!(matches!(many, Err(StoreError::BlockTooLarge { .. })));
        }
    }
}

/// Backend failures are `StoreError::Backend` naming the operation, never panics: here the S3 server is gone
/// (its port refuses connections, so each call fails after the client's two quick retries).
#[cfg(feature = "object-store")]
#[test]
fn object_store_reports_backend_failures() {
    let (server, dir) = s3_server("s3-gone");
    let store = ObjectStore::new(Arc::new(server.client("blocks").expect("an S3 client")));
    let blocks = corpus(3);
    store.put_many(&blocks).expect("put_many while the server runs");
    drop(server);
    let (cid, bytes) = &blocks[1];
    let operation = |result: Result<(), StoreError>| match result {
        Err(StoreError::Backend { operation, .. }) => operation,
        other => panic!("expected a backend error, got {other:?}"),
    };
    assert_eq!(operation(store.put(cid, bytes)), "put");
    assert_eq!(operation(store.put_many(&blocks)), "put");
    assert_eq!(operation(store.get(cid).map(drop)), "get");
    assert_eq!(operation(store.get_many(&[*cid, blocks[0].0]).map(drop)), "get");
    assert_eq!(operation(store.has(cid).map(drop)), "has");
    assert_eq!(operation(store.list().map(drop)), "list");
    assert_eq!(operation(store.delete(&[*cid])), "delete");
    let error = store.get(cid).expect_err("the server is gone");
    assert!(std::error::Error::source(&error).is_some(), "the backend's error is kept as the source");
    fs::remove_dir_all(&dir).expect("cleaning up");
}

/// Called from inside a runtime (async code, on a single-threaded and on a multi-threaded runtime), the store works
/// and does not panic; dropping it there does not panic either.
#[cfg(feature = "object-store")]
#[test]
fn object_store_inside_a_runtime() {
    let (server, dir) = s3_server("s3-in-runtime");
    let s3: Arc<dyn objects::ObjectStore> = Arc::new(server.client("blocks").expect("an S3 client"));
    let blocks = corpus(8);
    for runtime in [
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime"),
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime"),
    ] {
        let s3 = Arc::clone(&s3);
        let blocks = blocks.clone();
        runtime.block_on(async move {
            let store = ObjectStore::new(s3);
            store.put_many(&blocks).expect("put_many inside a runtime");
            let cids: Vec<Cid> = blocks.iter().map(|(cid, _)| *cid).collect();
            let found = store.get_many(&cids).expect("get_many inside a runtime");
            assert_eq!(found, blocks.iter().map(|(_, bytes)| Some(bytes.clone())).collect::<Vec<_>>());
            let mut map = StoredMap::new(&store);
            map.insert("inside".to_owned(), b"a runtime".to_vec().into()).expect("insert");
            let root = map.flush().expect("flush inside a runtime");
            let loaded = StoredMap::load(&store, root).expect("load");
            assert_eq!(loaded.get("inside").expect("get"), Some(b"a runtime".to_vec().into()));
            // The recommended way: from a blocking task.
            let moved = store.clone();
            let listed = tokio::task::spawn_blocking(move || moved.list()).await.expect("the task").expect("list");
            assert_eq!(listed.len(), blocks.len() + 2);
            store.delete(&listed).expect("delete");
            // The last clone drops here, inside the runtime.
            drop(store);
        });
    }
    drop(server);
    fs::remove_dir_all(&dir).expect("cleaning up");
}

/// object_store's `InMemory` behind a layer that counts the gets and puts in flight and holds each for a
/// millisecond, so that concurrent requests overlap; and that can fail a create-only put of an existing object
/// with a broken connection, as a server does that answers before reading the body and hangs up.
#[cfg(feature = "object-store")]
#[derive(Debug, Default)]
struct CountingLayer {
    inner: objects::memory::InMemory,
    in_flight: std::sync::atomic::AtomicUsize,
    most_in_flight: std::sync::atomic::AtomicUsize,
    hang_up_on_existing: std::sync::atomic::AtomicBool,
    hang_up_always: std::sync::atomic::AtomicBool,
}

#[cfg(feature = "object-store")]
impl CountingLayer {
    async fn track<T>(&self, request: impl std::future::Future<Output = T>) -> T {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.in_flight.fetch_add(1, SeqCst) + 1;
        self.most_in_flight.fetch_max(now, SeqCst);
        tokio::time::sleep(Duration::from_millis(1)).await;
        let answer = request.await;
        self.in_flight.fetch_sub(1, SeqCst);
        answer
    }

    fn take_most_in_flight(&self) -> usize {
        self.most_in_flight.swap(0, std::sync::atomic::Ordering::SeqCst)
    }
}

#[cfg(feature = "object-store")]
impl std::fmt::Display for CountingLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CountingLayer({})", self.inner)
    }
}

#[cfg(feature = "object-store")]
#[async_trait::async_trait]
impl objects::ObjectStore for CountingLayer {
    async fn put_opts(
        &self,
        location: &objects::path::Path,
        payload: objects::PutPayload,
        options: objects::PutOptions,
    ) -> objects::Result<objects::PutResult> {
        let create = matches!(options.mode, objects::PutMode::Create);
        let hang_up = self.hang_up_always.load(std::sync::atomic::Ordering::SeqCst)
            || (create
                && self.hang_up_on_existing.load(std::sync::atomic::Ordering::SeqCst)
                && self.inner.head(location).await.is_ok());
        if hang_up {
            let hung_up = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
            return Err(objects::Error::Generic { store: "CountingLayer", source: Box::new(hung_up) });
        }
        self.track(self.inner.put_opts(location, payload, options)).await
    }

    async fn put_multipart_opts(
        &self,
        location: &objects::path::Path,
        options: objects::PutMultipartOptions,
    ) -> objects::Result<Box<dyn objects::MultipartUpload>> {
        self.inner.put_multipart_opts(location, options).await
    }

    async fn get_opts(
        &self,
        location: &objects::path::Path,
        options: objects::GetOptions,
    ) -> objects::Result<objects::GetResult> {
        self.track(self.inner.get_opts(location, options)).await
    }

    fn delete_stream(
        &self,
        locations: futures::stream::BoxStream<'static, objects::Result<objects::path::Path>>,
    ) -> futures::stream::BoxStream<'static, objects::Result<objects::path::Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(
        &self,
        prefix: Option<&objects::path::Path>,
    ) -> futures::stream::BoxStream<'static, objects::Result<objects::ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&objects::path::Path>) -> objects::Result<objects::ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &objects::path::Path,
        to: &objects::path::Path,
        options: objects::CopyOptions,
    ) -> objects::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

/// The batch forms keep several requests in flight, and never more than the store's concurrency.
#[cfg(feature = "object-store")]
#[test]
fn object_store_batches_are_concurrent_and_bounded() {
    let layer = Arc::new(CountingLayer::default());
    let blocks = corpus(60);
    let cids: Vec<Cid> = blocks.iter().map(|(cid, _)| *cid).collect();
    for limit in [1, 5, hamt_store::DEFAULT_CONCURRENCY] {
        let store = ObjectStore::with_prefix(layer.clone(), format!("limit-{limit}")).with_concurrency(limit);
        store.put_many(&blocks).expect("put_many");
        let most = layer.take_most_in_flight();
        assert!(most <= limit, "put_many had {most} requests in flight, more than {limit}");
        assert!(most > 1 || limit == 1, "put_many had {most} request in flight at most, with room for {limit}");
        let found = store.get_many(&cids).expect("get_many");
        assert_eq!(found, blocks.iter().map(|(_, bytes)| Some(bytes.clone())).collect::<Vec<_>>());
        let most = layer.take_most_in_flight();
        assert!(most <= limit, "get_many had {most} requests in flight, more than {limit}");
        assert!(most > 1 || limit == 1, "get_many had {most} request in flight at most, with room for {limit}");
    }
}

/// A put whose connection breaks counts as done when the block turns out to be there (a server that refuses a
/// create-only put of an existing object may hang up before reading the body), and fails otherwise.
#[cfg(feature = "object-store")]
#[test]
fn object_store_put_of_an_existing_block_survives_a_hang_up() {
    let layer = Arc::new(CountingLayer::default());
    layer.hang_up_on_existing.store(true, std::sync::atomic::Ordering::SeqCst);
    let store = ObjectStore::new(layer.clone());
    let blocks = corpus(6);
    store.put_many(&blocks[..3]).expect("put_many of new blocks");
    store.put(&blocks[0].0, &blocks[0].1).expect("a put of an existing block, answered by a hang-up");
    store.put_many(&blocks).expect("a put_many of existing and new blocks");
    assert_eq!(sorted(store.list().expect("list")), sorted(blocks.iter().map(|(cid, _)| *cid).collect()));
    // The same broken connection for a block that is not there is an error, and the block is not there.
    layer.hang_up_always.store(true, std::sync::atomic::Ordering::SeqCst);
    let (cid, bytes) = block(40);
    let failed = store.put(&cid, &bytes);
    assert!(matches!(failed, Err(StoreError::Backend { operation: "put", .. })), "{failed:?}");
    assert!(!store.has(&cid).expect("has"));
}
