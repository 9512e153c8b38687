//! `zarr::ZarrStore` as a zarrs storage: zarrs_storage's own conformance checks, random histories against zarrs'
//! `MemoryStore` as the model (plain and encrypted, before and after a flush and reload), arrays written and read
//! through zarrs (plain, sharded, reopened by root id), what a read fetches, and damaged or foreign data.
#![cfg(feature = "zarr")]

mod common;

use std::sync::Arc;

use common::{CountingStore, Rng, zarr_elements};
use hamt_store::zarr::{DecryptError, Encryption, ZarrError, ZarrStore};
use hamt_store::{Blockstore, Cid, Config, MemoryStore, StoreError, StoredMap, Value, ValueMode};
use zarrs::array::{Array, ArrayBuilder, ArraySubset, data_type};
use zarrs::group::GroupBuilder;
use zarrs_storage::byte_range::ByteRange;
use zarrs_storage::store::MemoryStore as ModelStore;
use zarrs_storage::{
    ListableStorageTraits, ReadableStorageTraits, StorageError, StoreKey, StorePrefix, WritableStorageTraits,
    store_test,
};

fn encryption() -> Encryption {
    Encryption::new(*b"0123456789abcdef0123456789abcdef", b"tests/zarr.rs".to_vec())
}

#[test]
fn zarrs_storage_conformance() {
    for encrypted in [false, true] {
        let mut store = ZarrStore::new(MemoryStore::new());
        if encrypted {
            store = store.with_encryption(encryption());
        }
        store_test::store_write(&store).unwrap();
        store_test::store_read(&store).unwrap();
        store_test::store_list(&store).unwrap();
        store_test::store_list_size(&store).unwrap();

        // The same after the map is flushed and opened again from its blocks.
        let root = store.flush().unwrap();
        let blocks = store.map().store().clone();
        let mut reopened = ZarrStore::load(blocks, root).unwrap();
        if encrypted {
            reopened = reopened.with_encryption(encryption());
        }
        store_test::store_read(&reopened).unwrap();
        store_test::store_list(&reopened).unwrap();
        store_test::store_list_size(&reopened).unwrap();
    }
}

/// Keys drawn from a small tree of directories, so that listings and prefixes have something to find.
fn random_key(rng: &mut Rng) -> String {
    const PARTS: [&str; 6] = ["a", "b", "c", "zarr.json", "0", "temp"];
    let depth = 1 + rng.below(4) as usize;
    (0..depth).map(|_| PARTS[rng.below(PARTS.len() as u64) as usize]).collect::<Vec<_>>().join("/")
}

fn random_prefix(rng: &mut Rng) -> StorePrefix {
    if rng.below(4) == 0 {
        return StorePrefix::root();
    }
    let key = random_key(rng);
    StorePrefix::new(format!("{key}/")).unwrap()
}

/// A byte range within a value of `len` bytes. (zarrs' `MemoryStore` panics on ranges outside the value, so the
/// model is asked only valid ones; `invalid_byte_ranges_are_errors` checks the others.)
fn random_range(rng: &mut Rng, len: u64) -> ByteRange {
    let start = rng.below(len + 1);
    match rng.below(3) {
        0 => ByteRange::FromStart(start, None),
        1 => ByteRange::FromStart(start, Some(rng.below(len - start + 1))),
        _ => ByteRange::Suffix(rng.below(len + 1)),
    }
}

/// Reads through both stores and compares: values, partial reads (errors must agree too), sizes, listings.
fn compare(ours: &ZarrStore<MemoryStore>, model: &ModelStore, rng: &mut Rng, context: &str) {
    for _ in 0..8 {
        let key = StoreKey::new(random_key(rng)).unwrap();
        assert_eq!(ours.get(&key).unwrap(), model.get(&key).unwrap(), "{context}: get {key}");
        assert_eq!(ours.size_key(&key).unwrap(), model.size_key(&key).unwrap(), "{context}: size {key}");
        let len = model.size_key(&key).unwrap().unwrap_or(0);
        let ranges = [random_range(rng, len), random_range(rng, len)];
        let read = |store: &dyn ReadableStorageTraits| {
            store
                .get_partial_many(&key, Box::new(ranges.into_iter()))
                .unwrap()
                .map(|parts| parts.map(Result::unwrap).collect::<Vec<_>>())
        };
        assert_eq!(read(ours), read(model), "{context}: {key} {ranges:?}");
    }
    assert_eq!(ours.list().unwrap(), model.list().unwrap(), "{context}: list");
    for _ in 0..4 {
        let prefix = random_prefix(rng);
        assert_eq!(ours.list_prefix(&prefix).unwrap(), model.list_prefix(&prefix).unwrap(), "{context}: {prefix}");
        assert_eq!(ours.list_dir(&prefix).unwrap(), model.list_dir(&prefix).unwrap(), "{context}: dir {prefix}");
        assert_eq!(ours.size_prefix(&prefix).unwrap(), model.size_prefix(&prefix).unwrap(), "{context}: {prefix}");
    }
}

#[test]
fn invalid_byte_ranges_are_errors() {
    let store = ZarrStore::new(MemoryStore::new());
    let key = StoreKey::new("a/c/0").unwrap();
    store.set(&key, vec![7; 10].into()).unwrap();
    for range in [
        ByteRange::FromStart(11, None),
        ByteRange::FromStart(5, Some(6)),
        ByteRange::FromStart(u64::MAX, Some(2)),
        ByteRange::Suffix(11),
        ByteRange::Suffix(u64::MAX),
    ] {
        let error = store.get_partial(&key, range).unwrap_err();
        assert!(matches!(error, StorageError::InvalidByteRangeError(_)), "{range:?}: {error}");
    }
    assert_eq!(store.get_partial(&key, ByteRange::FromStart(10, None)).unwrap().unwrap().len(), 0);
    assert_eq!(store.get_partial(&key, ByteRange::Suffix(10)).unwrap().unwrap().len(), 10);
}

#[test]
fn random_histories_match_zarrs_memory_store() {
    for seed in 1..=24_u64 {
        let encrypted = seed % 2 == 0;
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let blocks = MemoryStore::new();
        let open = |root: Option<Cid>| {
            let store = match root {
                Some(root) => ZarrStore::load(blocks.clone(), root).unwrap(),
                None => ZarrStore::new(blocks.clone()),
            };
            if encrypted { store.with_encryption(encryption()) } else { store }
        };
        let mut ours = open(None);
        let model = ModelStore::new();
        for step in 0..120 {
            let key = StoreKey::new(random_key(&mut rng)).unwrap();
            match rng.below(10) {
                0..=4 => {
                    let value: Vec<u8> = (0..rng.below(20)).map(|_| rng.below(256) as u8).collect();
                    ours.set(&key, value.clone().into()).unwrap();
                    model.set(&key, value.into()).unwrap();
                }
                5 => {
                    let offset = rng.below(16);
                    let value: Vec<u8> = (0..rng.below(6)).map(|_| rng.below(256) as u8).collect();
                    ours.set_partial(&key, offset, value.clone().into()).unwrap();
                    model.set_partial(&key, offset, value.into()).unwrap();
                }
                6 | 7 => {
                    ours.erase(&key).unwrap();
                    model.erase(&key).unwrap();
                }
                8 => {
                    let prefix = random_prefix(&mut rng);
                    ours.erase_prefix(&prefix).unwrap();
                    model.erase_prefix(&prefix).unwrap();
                }
                _ => {
                    // A flush, and reading on through the map opened again from its root.
                    let root = ours.flush().unwrap();
                    ours = open(Some(root));
                }
            }
            compare(&ours, &model, &mut rng, &format!("seed {seed}, step {step}"));
        }
    }
}

/// Writes a float32 array of `shape` in chunks of `chunks` (shards of `shard` inner chunks when given) under
/// `/temp`, with the root group, and returns the root id.
fn write_array(
    store: &Arc<ZarrStore<CountingStore>>,
    shape: [u64; 2],
    chunks: [u64; 2],
    inner: Option<[u64; 2]>,
) -> Cid {
    let mut group = GroupBuilder::new().build(store.clone(), "/").unwrap();
    group.attributes_mut().insert("title".into(), "tests/zarr.rs · ünïcode".into());
    group.store_metadata().unwrap();
    let mut builder = ArrayBuilder::new(shape.to_vec(), chunks.to_vec(), data_type::float32(), f32::NAN);
    if let Some(inner) = inner {
        builder.subchunk_shape(inner.to_vec());
    }
    let mut array = builder.build(store.clone(), "/temp").unwrap();
    array.attributes_mut().insert("units".into(), "K".into());
    array.store_metadata().unwrap();
    let all = ArraySubset::new_with_shape(shape.to_vec());
    array.store_array_subset(&all, zarr_elements(0..shape[0], 0..shape[1])).unwrap();
    store.flush().unwrap()
}

#[test]
fn arrays_round_trip_through_zarrs() {
    for (shape, chunks, inner) in [
        ([64, 48], [16, 16], None),
        ([50, 37], [16, 16], None),          // partial chunks at both edges
        ([64, 64], [32, 64], Some([8, 16])), // sharded: zarrs reads each shard's index and inner chunks by range
    ] {
        for encrypted in [false, true] {
            let blocks = CountingStore::default();
            let mut store = ZarrStore::new(blocks.clone());
            if encrypted {
                store = store.with_encryption(encryption());
            }
            let root = write_array(&Arc::new(store), shape, chunks, inner);

            let mut reopened = ZarrStore::load(blocks.clone(), root).unwrap();
            if encrypted {
                reopened = reopened.with_encryption(encryption());
            }
            let reopened = Arc::new(reopened);
            let array = Array::open(reopened.clone(), "/temp").unwrap();
            assert_eq!(array.attributes()["units"], "K");
            let all: Vec<f32> = array.retrieve_array_subset(&array.subset_all()).unwrap();
            assert_eq!(all, zarr_elements(0..shape[0], 0..shape[1]), "{shape:?} {chunks:?} {inner:?}");
            let region = ArraySubset::new_with_ranges(&[3..shape[0] - 5, 7..shape[1] - 2]);
            let read: Vec<f32> = array.retrieve_array_subset(&region).unwrap();
            assert_eq!(read, zarr_elements(3..shape[0] - 5, 7..shape[1] - 2));
            let group = zarrs::group::Group::open(reopened, "/").unwrap();
            assert_eq!(group.attributes()["title"], "tests/zarr.rs · ünïcode");
        }
    }
}

#[test]
fn a_byte_range_read_fetches_only_the_value_block() {
    let blocks = CountingStore::default();
    let root = write_array(&Arc::new(ZarrStore::new(blocks.clone())), [64, 64], [32, 64], Some([8, 16]));
    // Without a value cache, so that every value read reaches the block store and is counted.
    let config = Config { value_cache_bytes: 0, ..Config::default() };
    let store = ZarrStore::load_with_config(blocks.clone(), root, config).unwrap();
    let key = StoreKey::new("temp/c/1/0").unwrap();
    // The first read loads the nodes on the key's path and the value; after it, each read is the value block.
    let whole = store.get(&key).unwrap().unwrap();
    let before = blocks.gets();
    let tail = store.get_partial(&key, ByteRange::Suffix(16)).unwrap().unwrap();
    assert_eq!(tail, whole.slice(whole.len() - 16..));
    let middle = store.get_partial(&key, ByteRange::FromStart(100, Some(50))).unwrap().unwrap();
    assert_eq!(middle, whole.slice(100..150));
    assert_eq!(blocks.gets() - before, 2, "each range read fetches the one value block");
}

#[test]
fn metadata_documents_are_read_once() {
    for encrypted in [false, true] {
        let blocks = CountingStore::default();
        let mut store = ZarrStore::new(blocks.clone());
        if encrypted {
            store = store.with_encryption(encryption());
        }
        let root = write_array(&Arc::new(store), [8, 8], [4, 4], None);
        let mut store = ZarrStore::load(blocks.clone(), root).unwrap();
        if encrypted {
            store = store.with_encryption(encryption());
        }
        let key = StoreKey::new("temp/zarr.json").unwrap();
        let first = store.get(&key).unwrap().unwrap();
        let before = blocks.gets();
        for _ in 0..5 {
            assert_eq!(store.get(&key).unwrap().unwrap(), first);
            assert_eq!(store.size_key(&key).unwrap(), Some(first.len() as u64));
        }
        assert_eq!(blocks.gets(), before, "cached metadata is not fetched again");
        // A write replaces the cached document.
        store.set(&key, "{}".into()).unwrap();
        assert_eq!(store.get(&key).unwrap().unwrap(), "{}");
        store.erase(&key).unwrap();
        assert_eq!(store.get(&key).unwrap(), None);
    }
}

/// The `ZarrError` inside a storage error zarrs reports.
fn zarr_error(error: &StorageError) -> &ZarrError {
    let StorageError::IOError(io) = error else { panic!("not an I/O error: {error}") };
    io.get_ref().and_then(|inner| inner.downcast_ref::<ZarrError>()).expect("a ZarrError inside")
}

#[test]
fn damaged_or_foreign_values_are_typed_errors() {
    let blocks = MemoryStore::new();
    let encrypted = Arc::new(ZarrStore::new(blocks.clone()).with_encryption(encryption()));
    let root = {
        let key = StoreKey::new("a/c/0").unwrap();
        encrypted.set(&key, vec![5; 100].into()).unwrap();
        encrypted.flush().unwrap()
    };
    let key = StoreKey::new("a/c/0").unwrap();
    let stored = {
        let map = StoredMap::load_with_config(
            blocks.clone(),
            root,
            Config { value_mode: ValueMode::Bytes, ..Config::default() },
        )
        .unwrap();
        map.get("a/c/0").unwrap().unwrap().as_bytes().unwrap().to_vec()
    };

    // A wrong key, and a wrong header.
    for other in [
        Encryption::new([1; 32], b"tests/zarr.rs".to_vec()),
        Encryption::new(*b"0123456789abcdef0123456789abcdef", b"another header".to_vec()),
    ] {
        let store = ZarrStore::load(blocks.clone(), root).unwrap().with_encryption(other);
        let error = store.get(&key).unwrap_err();
        assert!(matches!(zarr_error(&error), ZarrError::Decrypt(DecryptError::Authentication)), "{error}");
    }

    // Values changed after encryption (then stored under their new hash, as an attacker with write access would).
    let mut cases = Vec::new();
    for position in [0, 23, 24, 39, 40, stored.len() - 1] {
        let mut tampered = stored.clone();
        tampered[position] ^= 0x80;
        cases.push((tampered, DecryptError::Authentication));
    }
    cases.push((stored[..stored.len() - 1].to_vec(), DecryptError::Authentication));
    cases.push((stored[..40].to_vec(), DecryptError::Authentication));
    cases.push((stored[..39].to_vec(), DecryptError::TooShort { len: 39 }));
    cases.push((Vec::new(), DecryptError::TooShort { len: 0 }));
    for (tampered, expected) in cases {
        let mut map = StoredMap::load_with_config(
            blocks.clone(),
            root,
            Config { value_mode: ValueMode::Bytes, ..Config::default() },
        )
        .unwrap();
        map.insert("a/c/0".to_owned(), Value::Bytes(tampered.clone())).unwrap();
        let changed = map.flush().unwrap();
        let store = ZarrStore::load(blocks.clone(), changed).unwrap().with_encryption(encryption());
        let error = store.get(&key).unwrap_err();
        assert!(
            matches!(zarr_error(&error), ZarrError::Decrypt(found) if *found == expected),
            "{} bytes: {error}",
            tampered.len()
        );
        if expected == DecryptError::Authentication {
            // The size is the stored length less the nonce and tag, without decrypting.
            assert_eq!(store.size_key(&key).unwrap(), Some(tampered.len() as u64 - 40));
        } else {
            assert!(store.size_key(&key).is_err());
        }
    }

    // A value block whose bytes do not match its id: the map refuses it before decryption is tried.
    let map = StoredMap::load(blocks.clone(), root).unwrap();
    let link = map.get_link("a/c/0").unwrap().unwrap();
    let damaged = MemoryStore::new();
    for cid in blocks.list().unwrap() {
        let mut bytes = blocks.get(&cid).unwrap().unwrap().to_vec();
        if cid == link {
            bytes[50] ^= 1;
        }
        damaged.put(&cid, &bytes).unwrap();
    }
    let store = ZarrStore::load(damaged, root).unwrap().with_encryption(encryption());
    let error = store.get(&key).unwrap_err();
    assert!(matches!(zarr_error(&error), ZarrError::Store(StoreError::HashMismatch { .. })), "{error}");

    // A map whose values are DAG-CBOR is not a Zarr store.
    assert!(ZarrStore::from_map(StoredMap::new(MemoryStore::new())).is_err());
}

#[test]
fn writes_stay_in_memory_until_flushed() {
    let blocks = CountingStore::default();
    let store = ZarrStore::new(blocks.clone());
    let key = StoreKey::new("temp/c/0/0").unwrap();
    store.set(&key, vec![1; 64].into()).unwrap();
    assert_eq!(blocks.inner.len(), 0);
    assert_eq!(store.root(), None);
    let root = store.flush().unwrap();
    assert_eq!(store.root(), Some(root));
    assert_eq!(blocks.inner.len(), 2, "one node and one value");
    // Equal contents, equal roots: the unencrypted layout deduplicates.
    let again = ZarrStore::new(MemoryStore::new());
    again.set(&key, vec![1; 64].into()).unwrap();
    assert_eq!(again.flush().unwrap(), root);
}
