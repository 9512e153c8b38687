//! StoredMap against std's `HashMap`: random histories of inserts, removes, flushes and reloads, in every bucket
//! size and value mode, with the canonical shape checked after every flush (the same contents give the same root,
//! whatever the history), and diffs against the model's.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use hamt_core::HamtMap;
use hamt_store::{
    Blockstore, Bytes, Cid, Config, DiffItem, LinkFormat, MemoryStore, StoreError, StoredMap, Value, ValueMode,
};
use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};

mod common;
use common::{CountingStore, bucket_of, node_with};

#[derive(Debug, Clone)]
enum Op {
    Insert(u16, u8),
    Remove(u16),
    Flush,
    Reload,
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Self {
        match u8::arbitrary(g) % 10 {
            0..=5 => Op::Insert(u16::arbitrary(g) % 300, u8::arbitrary(g)),
            6..=7 => Op::Remove(u16::arbitrary(g) % 300),
            8 => Op::Flush,
            _ => Op::Reload,
        }
    }
}

/// Keys of mixed lengths, with non-ASCII text and the empty key.
fn key(index: u16) -> String {
    match index % 5 {
        0 => format!("{index}"),
        1 => format!("ключ-{index}"),
        2 => format!("a/long/zarr/like/path/c/{index}/0/0"),
        3 if index == 3 => String::new(),
        _ => format!("🔑{index}"),
    }
}

fn value(mode: ValueMode, byte: u8) -> Value {
    match (mode, byte % 3) {
        (ValueMode::Bytes, _) | (ValueMode::Cbor, 0) => Value::Bytes(vec![byte; usize::from(byte % 7)]),
        (ValueMode::Cbor, 1) => Value::from(i64::from(byte)),
        (ValueMode::Cbor, _) => Value::from(format!("text {byte}")),
    }
}

fn contents<B: Blockstore>(map: &StoredMap<B>) -> HashMap<String, Value> {
    map.iter().collect::<Result<_, _>>().expect("every block is there")
}

/// The root a map of `model`'s contents has when built from scratch in sorted order.
fn canonical_root(model: &HashMap<String, Value>, config: Config) -> Cid {
    let sorted: BTreeMap<_, _> = model.iter().collect();
    let mut fresh = StoredMap::with_config(MemoryStore::new(), config);
    for (key, value) in sorted {
        fresh.insert(key.clone(), value.clone()).unwrap();
    }
    fresh.flush().unwrap()
}

fn run(ops: Vec<Op>, max_bucket_size: usize, mode: ValueMode, links: LinkFormat) -> TestResult {
    let config =
        Config { max_bucket_size, value_mode: mode, link_format: links, cache_bytes: 64 << 10, ..Config::default() };
    let store = MemoryStore::new();
    let mut map = StoredMap::with_config(store.clone(), config);
    let mut model = HashMap::new();
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Insert(index, byte) => {
                let value = value(mode, *byte);
                map.insert(key(*index), value.clone()).unwrap();
                model.insert(key(*index), value);
            }
            Op::Remove(index) => {
                assert_eq!(map.remove(&key(*index)).unwrap(), model.remove(&key(*index)).is_some(), "step {step}");
            }
            Op::Flush => {
                let root = map.flush().unwrap();
                assert_eq!(root, canonical_root(&model, config), "step {step}: the root depends on the history");
            }
            Op::Reload => {
                let root = map.flush().unwrap();
                map = StoredMap::load_with_config(store.clone(), root, config).unwrap();
            }
        }
        if let Op::Insert(index, _) | Op::Remove(index) = op {
            assert_eq!(map.get(&key(*index)).unwrap(), model.get(&key(*index)).cloned(), "step {step}");
        }
    }
    assert_eq!(map.len().unwrap(), model.len());
    assert_eq!(contents(&map), model);
    TestResult::passed()
}

fn cases() -> u64 {
    std::env::var("QUICKCHECK_TESTS").ok().and_then(|count| count.parse().ok()).unwrap_or(60)
}

/// The configurations the histories run in: py-hamt's default, and others that force deep tries and both link
/// forms.
const CONFIGS: [(usize, ValueMode, LinkFormat); 4] = [
    (4, ValueMode::Cbor, LinkFormat::Cid),
    (1, ValueMode::Bytes, LinkFormat::Multihash),
    (2, ValueMode::Cbor, LinkFormat::Multihash),
    (8, ValueMode::Bytes, LinkFormat::Cid),
];

#[test]
fn histories_match_the_model_and_the_canonical_shape() {
    fn property(ops: Vec<Op>, config: u8) -> TestResult {
        let (max_bucket_size, mode, links) = CONFIGS[usize::from(config) % CONFIGS.len()];
        run(ops, max_bucket_size, mode, links)
    }
    QuickCheck::new().tests(cases()).rng(Gen::new(400)).quickcheck(property as fn(Vec<Op>, u8) -> TestResult);
}

#[test]
fn large_map_inserted_then_mostly_removed_collapses_to_the_canonical_shape() {
    let config = Config::default();
    let mut map = StoredMap::new(MemoryStore::new());
    let mut model = HashMap::new();
    for i in 0..5_000u32 {
        map.insert(format!("k{i}"), Value::from(i64::from(i))).unwrap();
        model.insert(format!("k{i}"), Value::from(i64::from(i)));
    }
    map.flush().unwrap();
    for i in (0..5_000u32).filter(|i| i % 10 != 0) {
        assert!(map.remove(&format!("k{i}")).unwrap());
        model.remove(&format!("k{i}"));
    }
    assert_eq!(map.flush().unwrap(), canonical_root(&model, config));
    assert_eq!(contents(&map), model);
}

#[test]
fn from_map_and_to_map_round_trip_with_the_root_of_inserts() {
    for mode in [ValueMode::Cbor, ValueMode::Bytes] {
        let config = Config { value_mode: mode, ..Config::default() };
        let source: HamtMap<String, Vec<u8>> =
            (0..2_000u32).map(|i| (key(i as u16), i.to_le_bytes().to_vec())).collect();
        let built = StoredMap::from_map_with_config(MemoryStore::new(), &source, config).unwrap();
        assert_eq!(built.to_map().unwrap(), source);
        let model: HashMap<String, Value> =
            source.iter().map(|(key, value)| (key.clone(), Value::Bytes(value.clone()))).collect();
        assert_eq!(built.root(), Some(canonical_root(&model, config)));
    }
}

#[test]
fn diff_matches_the_model_and_skips_shared_subtrees() {
    let store = MemoryStore::new();
    let mut base = StoredMap::new(&store);
    for i in 0..3_000u32 {
        base.insert(format!("{i}"), Value::from(i64::from(i))).unwrap();
    }
    base.flush().unwrap();
    let mut edited = base.clone();
    let mut expected = Vec::new();
    for i in (0..3_000u32).step_by(97) {
        edited.insert(format!("{i}"), Value::from(-1)).unwrap();
        expected.push(format!("changed {i}"));
    }
    for i in (1..3_000u32).step_by(301) {
        edited.remove(&format!("{i}")).unwrap();
        expected.push(format!("removed {i}"));
    }
    for i in 3_000..3_020u32 {
        edited.insert(format!("{i}"), Value::from(0)).unwrap();
        expected.push(format!("added {i}"));
    }
    expected.sort();
    let describe = |item: DiffItem| match item {
        DiffItem::Added(key, _) => format!("added {key}"),
        DiffItem::Removed(key, _) => format!("removed {key}"),
        DiffItem::Changed { key, .. } => format!("changed {key}"),
    };
    // Unflushed, then flushed: both give the same differences.
    for flush in [false, true] {
        if flush {
            edited.flush().unwrap();
        }
        let mut found: Vec<String> = base.diff(&edited).map(|item| describe(item.unwrap())).collect();
        found.sort();
        assert_eq!(found, expected);
        // The reverse diff swaps additions and removals.
        assert_eq!(edited.diff(&base).count(), expected.len());
    }
    assert_eq!(base.diff(&base.clone()).count(), 0);

    // A diff of two flushed versions reads only the nodes on the changed paths: with the cache emptied, a store
    // that counts reads sees far fewer than all the nodes.
    let counting = CountingStore::over(store.clone());
    let old = StoredMap::load(&counting, base.root().unwrap()).unwrap();
    let mut new = StoredMap::load(&counting, base.root().unwrap()).unwrap();
    new.insert("0".to_owned(), Value::from(5)).unwrap();
    new.flush().unwrap();
    let fresh_old = StoredMap::load(&counting, old.root().unwrap()).unwrap();
    let fresh_new = StoredMap::load(&counting, new.root().unwrap()).unwrap();
    counting.reset();
    assert_eq!(fresh_old.diff(&fresh_new).count(), 1);
    let nodes = store.len() - 3_000;
    assert!(counting.gets() <= 8, "read {} of {nodes} nodes", counting.gets());
}

/// A store whose reads and writes fail while `failing` is set.
#[derive(Clone)]
struct FlakyStore {
    inner: MemoryStore,
    failing: Arc<std::sync::atomic::AtomicBool>,
}

impl FlakyStore {
    fn check(&self, operation: &'static str) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            Err(StoreError::backend(operation, std::io::Error::other("injected failure")))
        } else {
            Ok(())
        }
    }
}

impl Blockstore for FlakyStore {
    fn get(&self, cid: &Cid) -> Result<Option<Bytes>, StoreError> {
        self.check("get")?;
        self.inner.get(cid)
    }
    fn put(&self, cid: &Cid, bytes: &[u8]) -> Result<(), StoreError> {
        self.check("put")?;
        self.inner.put(cid, bytes)
    }
    fn put_many(&self, blocks: &[(Cid, Bytes)]) -> Result<(), StoreError> {
        self.check("put")?;
        self.inner.put_many(blocks)
    }
    fn list(&self) -> Result<Vec<Cid>, StoreError> {
        self.inner.list()
    }
    fn delete(&self, cids: &[Cid]) -> Result<(), StoreError> {
        self.inner.delete(cids)
    }
}

#[test]
fn failed_operations_leave_the_map_unchanged() {
    let flaky = FlakyStore { inner: MemoryStore::new(), failing: Arc::new(Default::default()) };
    let config = Config { cache_bytes: 0, value_cache_bytes: 0, ..Config::default() };
    let mut writer = StoredMap::with_config(flaky.clone(), config);
    let mut model = HashMap::new();
    for i in 0..3_000u32 {
        writer.insert(key(i as u16), Value::from(i64::from(i))).unwrap();
        model.insert(key(i as u16), Value::from(i64::from(i)));
    }
    let root = writer.flush().unwrap();
    // A map with no cache reads every node below the root from the store, so every operation below that goes
    // past the root meets the failure; those that succeed (in the root's own buckets) are applied to the model.
    let mut map = StoredMap::load_with_config(flaky.clone(), root, config).unwrap();
    flaky.failing.store(true, Ordering::SeqCst);
    let mut failures = 0;
    for i in 0..50u32 {
        match map.insert(key(i as u16), Value::from(-1)) {
            Ok(()) => drop(model.insert(key(i as u16), Value::from(-1))),
            Err(_) => failures += 1,
        }
        match map.remove(&key(i as u16 + 100)) {
            Ok(removed) => assert_eq!(removed, model.remove(&key(i as u16 + 100)).is_some()),
            Err(_) => failures += 1,
        }
    }
    assert!(failures > 80, "only {failures} of 100 operations met the failure");
    flaky.failing.store(false, Ordering::SeqCst);
    assert_eq!(contents(&map), model);

    // A flush that fails keeps the changes, and the next one writes them.
    map.insert("new".to_owned(), Value::from(1)).unwrap();
    model.insert("new".to_owned(), Value::from(1));
    flaky.failing.store(true, Ordering::SeqCst);
    assert!(matches!(map.flush(), Err(StoreError::Backend { operation: "put", .. })));
    flaky.failing.store(false, Ordering::SeqCst);
    let root = map.flush().unwrap();
    assert_eq!(contents(&StoredMap::load_with_config(flaky, root, config).unwrap()), model);
}

/// Writes a map of the keys `0..count` (as text), each with its number's little-endian bytes, into `store`, and
/// returns its root.
fn store_numbers(store: &MemoryStore, count: u32) -> Cid {
    let mut map = StoredMap::new(store);
    for i in 0..count {
        map.insert(format!("{i}"), Value::Bytes(i.to_le_bytes().to_vec())).unwrap();
    }
    map.flush().unwrap()
}

#[test]
fn readers_on_many_threads_share_a_small_cache() {
    let store = MemoryStore::new();
    let root = store_numbers(&store, 20_000);
    let config = Config { cache_bytes: 256 << 10, ..Config::default() };
    let reader = StoredMap::load_with_config(&store, root, config).unwrap();
    std::thread::scope(|scope| {
        for thread in 0..4u32 {
            let reader = &reader;
            scope.spawn(move || {
                for i in (thread..20_000).step_by(4) {
                    assert_eq!(reader.get(&format!("{i}")).unwrap(), Some(Value::Bytes(i.to_le_bytes().to_vec())));
                }
            });
        }
    });
    let stats = reader.cache_stats();
    assert!(stats.bytes <= stats.capacity, "{stats:?}");
    assert!(stats.misses > 0 && stats.hits > 0, "{stats:?}");
}

#[test]
fn a_stored_map_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<StoredMap<MemoryStore>>();
    assert_send_sync::<StoredMap<&MemoryStore>>();
    assert_send_sync::<StoredMap<Arc<MemoryStore>>>();
}

#[test]
fn values_not_storable_in_the_mode_are_refused() {
    let config = Config { value_mode: ValueMode::Bytes, ..Config::default() };
    let mut map = StoredMap::with_config(MemoryStore::new(), config);
    assert!(matches!(map.insert("k".to_owned(), Value::from(1)), Err(StoreError::ValueNotBytes { .. })));
    let mut cbor = StoredMap::new(MemoryStore::new());
    let nan = Value::Ipld(hamt_store::Ipld::Float(f64::NAN));
    assert!(matches!(cbor.insert("k".to_owned(), nan), Err(StoreError::ValueEncoding { .. })));
    assert!(cbor.is_empty().unwrap());
}

#[test]
fn values_read_again_come_from_the_value_cache_unless_it_is_off() {
    let store = MemoryStore::new();
    let mut writer = StoredMap::new(&store);
    writer.insert("k".to_owned(), Value::Bytes(vec![9; 100])).unwrap();
    let root = writer.flush().unwrap();
    for (value_cache_bytes, expected_reads) in [(1 << 20, 1), (0, 5)] {
        let counting = CountingStore::over(store.clone());
        let config = Config { value_cache_bytes, ..Config::default() };
        let map = StoredMap::load_with_config(&counting, root, config).unwrap();
        counting.reset();
        for _ in 0..5 {
            assert_eq!(map.get("k").unwrap(), Some(Value::Bytes(vec![9; 100])));
        }
        assert_eq!(counting.gets(), expected_reads, "value cache of {value_cache_bytes} bytes");
    }
}

#[test]
fn a_key_in_a_slot_its_hash_does_not_name_is_an_error_every_time() {
    let store = MemoryStore::new();
    let value = hamt_store::block_cid(hamt_store::RAW, b"v");
    store.put(&value, b"v").unwrap();
    let right = hamt_store::key_hash("k")[0];
    let good = node_with(right, &bucket_of("k", &value));
    let good_root = hamt_store::block_cid(hamt_store::DAG_CBOR, &good);
    store.put(&good_root, &good).unwrap();
    let map =
        StoredMap::load_with_config(&store, good_root, Config { value_mode: ValueMode::Bytes, ..Config::default() });
    assert_eq!(map.unwrap().get("k").unwrap(), Some(Value::Bytes(b"v".to_vec())));

    let bad = node_with(right.wrapping_add(1), &bucket_of("k", &value));
    let bad_root = hamt_store::block_cid(hamt_store::DAG_CBOR, &bad);
    store.put(&bad_root, &bad).unwrap();
    for _ in 0..2 {
        assert!(matches!(
            StoredMap::load(&store, bad_root),
            Err(StoreError::BadNode { error: hamt_store::NodeError::KeyInWrongSlot { .. }, .. })
        ));
    }
}

/// A link remembers the child read through it only weakly: with every node cached, a second pass of lookups reads
/// nothing from the store; with a cache far smaller than the map, the second pass reads evicted nodes again (and
/// checks them again), so remembered links keep nothing alive that the cache let go.
#[test]
fn links_remember_children_only_while_the_cache_keeps_them() {
    let store = MemoryStore::new();
    let root = store_numbers(&store, 8_000);
    for (cache_bytes, everything_cached) in [(64 << 20, true), (64 << 10, false)] {
        let counting = CountingStore::over(store.clone());
        let config = Config { cache_bytes, value_cache_bytes: 0, ..Config::default() };
        let reader = StoredMap::load_with_config(&counting, root, config).unwrap();
        for pass in 0..2 {
            counting.reset();
            for i in 0..8_000u32 {
                assert!(reader.get_link(&format!("{i}")).unwrap().is_some(), "key {i}, pass {pass}");
            }
        }
        let stats = reader.cache_stats();
        assert!(stats.bytes <= stats.capacity, "{stats:?}");
        if everything_cached {
            assert_eq!(counting.gets(), 0, "a second pass over a cache that holds every node");
        } else {
            assert!(counting.gets() > 500, "only {} reads in the second pass, {stats:?}", counting.gets());
        }
    }
}

/// Values on both sides of the size the value cache holds inline read back the same from the store and from the
/// cache, in both value modes, and a second read comes from the cache.
#[test]
fn values_of_every_size_read_back_through_the_value_cache() {
    let lengths = [0, 1, 30, 44, 45, 46, 47, 48, 100, 5000];
    for value_mode in [ValueMode::Bytes, ValueMode::Cbor] {
        let store = MemoryStore::new();
        let config = Config { value_mode, ..Config::default() };
        let mut writer = StoredMap::with_config(&store, config);
        for length in lengths {
            writer.insert(format!("{length}"), Value::Bytes(vec![length as u8; length])).unwrap();
        }
        let root = writer.flush().unwrap();
        let counting = CountingStore::over(store.clone());
        let reader = StoredMap::load_with_config(&counting, root, config).unwrap();
        for pass in 0..2 {
            counting.reset();
            for length in lengths {
                let expected = Value::Bytes(vec![length as u8; length]);
                assert_eq!(reader.get(&format!("{length}")).unwrap(), Some(expected), "{value_mode:?} {length} {pass}");
            }
            if pass == 1 {
                assert_eq!(counting.gets(), 0, "{value_mode:?}: the second pass reads from the caches");
            }
        }
    }
}
