//! `gc` against a model: versions built from `BTreeMap`s by an encoder written here (independent of the crate's
//! own writer), then after gc every kept version reads back whole and the store holds exactly the blocks they
//! reach. And every kind of bad data gives its typed error and deletes nothing.

use std::collections::{BTreeMap, BTreeSet};

use hamt_store::{
    Blockstore, Cid, DAG_CBOR, GcStats, MemoryStore, Node, NodeError, RAW, SlotRef, StoreError, block_cid, gc, key_hash,
};
use quickcheck::{QuickCheck, TestResult};

mod common;
use common::{bucket_of, head, link, link_item, node_with};

/// A key, its hash and its value.
type Entry<'a> = (&'a str, [u8; 32], &'a [u8]);

/// Writes the canonical trie of `entries` (each with its key's hash) at `depth`, buckets of up to 4 keys, with its
/// value blocks into `store`, and returns its root.
fn write_node(store: &MemoryStore, entries: &[Entry<'_>], depth: usize) -> Cid {
    let mut slots: Vec<Vec<Entry<'_>>> = vec![Vec::new(); 256];
    for entry in entries {
        slots[usize::from(entry.1[depth])].push(*entry);
    }
    let mut out = vec![0x99, 0x01, 0x00];
    for mut here in slots {
        if here.is_empty() {
            out.push(0xa0);
        } else if here.len() <= 4 {
            here.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then(a.0.cmp(b.0)));
            head(&mut out, 5, here.len());
            for (key, _, value) in here {
                head(&mut out, 3, key.len());
                out.extend(key.as_bytes());
                let cid = block_cid(RAW, value);
                store.put(&cid, value).unwrap();
                link(&mut out, &cid);
            }
        } else {
            let child = write_node(store, &here, depth + 1);
            head(&mut out, 4, 1);
            link(&mut out, &child);
        }
    }
    put_node(store, &out)
}

fn put_node(store: &MemoryStore, bytes: &[u8]) -> Cid {
    let cid = block_cid(DAG_CBOR, bytes);
    store.put(&cid, bytes).unwrap();
    cid
}

fn write_map(store: &MemoryStore, map: &BTreeMap<String, Vec<u8>>) -> Cid {
    let entries: Vec<Entry<'_>> =
        map.iter().map(|(key, value)| (key.as_str(), key_hash(key), value.as_slice())).collect();
    write_node(store, &entries, 0)
}

/// Reads a whole version back through the public node decoder: its entries, and every block it reaches.
fn read_map(store: &MemoryStore, root: Cid) -> (BTreeMap<String, Vec<u8>>, BTreeSet<Cid>) {
    let mut entries = BTreeMap::new();
    let mut blocks = BTreeSet::new();
    let mut stack = vec![(root, Vec::new())];
    while let Some((cid, path)) = stack.pop() {
        blocks.insert(cid);
        let bytes = store.get(&cid).unwrap().expect("a kept node is still there");
        let node = Node::decode(&bytes, &path).unwrap();
        for (index, slot) in node.slots() {
            match slot {
                SlotRef::Bucket(bucket) => {
                    for (key, value) in bucket {
                        blocks.insert(*value);
                        entries.insert(
                            key.clone(),
                            store.get(value).unwrap().expect("a kept value is still there").to_vec(),
                        );
                    }
                }
                SlotRef::Link(child) => stack.push((*child, [path.as_slice(), &[index]].concat())),
                SlotRef::Unflushed(_) => unreachable!("decoded nodes hold no unflushed children"),
            }
        }
    }
    (entries, blocks)
}

/// Versions made by random edits of one model map; gc keeps the chosen ones; they read back as their models and
/// the store holds exactly their blocks.
#[test]
fn gc_keeps_exactly_the_blocks_of_the_live_versions() {
    fn property(edits: Vec<Vec<(u16, u8)>>, keep: Vec<bool>) -> TestResult {
        if edits.is_empty() {
            return TestResult::discard();
        }
        let store = MemoryStore::new();
        let mut model: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut versions = Vec::new();
        for batch in &edits {
            for &(key, value) in batch {
                // Keys from a small range, so that edits overwrite and delete; value 0 deletes.
                let key = format!("key {}", key % 600);
                if value == 0 {
                    model.remove(&key);
                } else {
                    model.insert(key, vec![value; usize::from(value % 5)]);
                }
            }
            versions.push((write_map(&store, &model), model.clone()));
        }
        let live: Vec<&(Cid, BTreeMap<String, Vec<u8>>)> = versions
            .iter()
            .zip(keep.iter().chain(std::iter::repeat(&true)))
            .filter(|(_, k)| **k)
            .map(|(v, _)| v)
            .collect();
        let before = store.len();
        let stats = gc(&store, live.iter().map(|(root, _)| root)).unwrap();

        let mut reachable = BTreeSet::new();
        for (root, expected) in &live {
            let (entries, blocks) = read_map(&store, *root);
            assert_eq!(&entries, expected);
            reachable.extend(blocks);
        }
        let held: BTreeSet<Cid> = store.list().unwrap().into_iter().collect();
        assert_eq!(held, reachable);
        assert_eq!(stats, GcStats { kept: reachable.len(), deleted: before - reachable.len() });
        TestResult::passed()
    }
    QuickCheck::new().tests(if cfg!(miri) { 2 } else { 20 }).quickcheck(property as fn(_, _) -> TestResult);
}

#[test]
fn roots_can_be_given_by_value_by_reference_or_repeated() {
    let store = MemoryStore::new();
    let map = BTreeMap::from([("a".to_owned(), b"1".to_vec())]);
    let root = write_map(&store, &map);
    let stray = block_cid(RAW, b"stray");
    store.put(&stray, b"stray").unwrap();

    assert_eq!(gc(&store, [root, root]).unwrap(), GcStats { kept: 2, deleted: 1 });
    let slice: &[Cid] = &[root];
    assert_eq!(gc(&store, slice).unwrap(), GcStats { kept: 2, deleted: 0 });
    assert_eq!(gc(&store, vec![root]).unwrap(), GcStats { kept: 2, deleted: 0 });
    // No live root: everything goes.
    assert_eq!(gc(&store, Vec::<Cid>::new()).unwrap(), GcStats { kept: 0, deleted: 2 });
    assert!(store.is_empty());
}

/// A store with one good version (of enough keys to have child nodes) and one damaged root, built by `damage`.
/// gc over both must fail with the error `expected` accepts, and delete nothing.
fn refuses(damage: impl FnOnce(&MemoryStore) -> Cid, expected: impl FnOnce(&StoreError) -> bool) {
    let store = MemoryStore::new();
    let model: BTreeMap<String, Vec<u8>> = (0..300).map(|i| (format!("k{i}"), vec![i as u8])).collect();
    let good = write_map(&store, &model);
    let stray = block_cid(RAW, b"unreached");
    store.put(&stray, b"unreached").unwrap();
    let bad = damage(&store);
    let before: BTreeSet<Cid> = store.list().unwrap().into_iter().collect();
    let error = gc(&store, [good, bad]).unwrap_err();
    assert!(expected(&error), "unexpected error {error:?}");
    let after: BTreeSet<Cid> = store.list().unwrap().into_iter().collect();
    assert_eq!(before, after, "a failed gc deleted blocks");
}

#[test]
fn a_block_whose_bytes_do_not_match_its_id_is_refused() {
    refuses(
        |store| {
            let cid = block_cid(DAG_CBOR, &node_with(0, &[0xa0]));
            store.put(&cid, b"other bytes").unwrap();
            cid
        },
        |error| matches!(error, StoreError::HashMismatch { .. }),
    );
}

#[test]
fn truncated_or_malformed_nodes_are_refused() {
    refuses(
        |store| {
            let mut bytes = node_with(0, &[0xa0]);
            bytes.truncate(100);
            put_node(store, &bytes)
        },
        |error| matches!(error, StoreError::BadNode { error: NodeError::Truncated, .. }),
    );
    refuses(
        |store| put_node(store, b"\xa1\x61a\x01"),
        |error| matches!(error, StoreError::BadNode { error: NodeError::Unexpected { at: 0, .. }, .. }),
    );
}

#[test]
fn a_node_with_the_wrong_slot_count_is_refused() {
    refuses(
        |store| {
            let mut bytes = vec![0x98, 0xff];
            bytes.extend([0xa0; 255]);
            put_node(store, &bytes)
        },
        |error| matches!(error, StoreError::BadNode { error: NodeError::WrongSlotCount { found: 255 }, .. }),
    );
}

#[test]
fn links_to_missing_nodes_and_values_are_refused() {
    let absent_node = block_cid(DAG_CBOR, b"not stored");
    refuses(
        |store| put_node(store, &node_with(7, &link_item(&absent_node))),
        |error| matches!(error, StoreError::MissingBlock { cid } if **cid == absent_node),
    );
    let absent_value = block_cid(RAW, b"not stored");
    refuses(
        |store| {
            let key = "a";
            put_node(store, &node_with(key_hash(key)[0], &bucket_of(key, &absent_value)))
        },
        |error| matches!(error, StoreError::MissingBlock { cid } if **cid == absent_value),
    );
    // The root itself.
    refuses(|_| absent_node, |error| matches!(error, StoreError::MissingBlock { cid } if **cid == absent_node));
}

#[test]
fn keys_in_a_bucket_they_do_not_hash_to_are_refused() {
    refuses(
        |store| {
            let key = "a";
            let value = block_cid(RAW, b"1");
            store.put(&value, b"1").unwrap();
            put_node(store, &node_with(key_hash(key)[0].wrapping_add(1), &bucket_of(key, &value)))
        },
        |error| matches!(error, StoreError::BadNode { error: NodeError::KeyInWrongSlot { .. }, .. }),
    );
    // The key is in the right slot of its parent's path at depth 0, but the child sits under another slot.
    refuses(
        |store| {
            let key = "a";
            let value = block_cid(RAW, b"1");
            store.put(&value, b"1").unwrap();
            let hash = key_hash(key);
            let child = put_node(store, &node_with(hash[1], &bucket_of(key, &value)));
            put_node(store, &node_with(hash[0].wrapping_add(1), &link_item(&child)))
        },
        |error| matches!(error, StoreError::BadNode { error: NodeError::KeyInWrongSlot { .. }, .. }),
    );
}

#[test]
fn absurd_depths_are_refused() {
    refuses(
        |store| {
            // A chain of nodes that each hold only a link to the next: 33 levels, more than a 256-bit hash allows.
            let mut cid = put_node(store, &node_with(0, &[0xa0]));
            for _ in 0..33 {
                cid = put_node(store, &node_with(0, &link_item(&cid)));
            }
            cid
        },
        |error| matches!(error, StoreError::BadNode { error: NodeError::TooDeep, .. }),
    );
}

/// The encoder of these tests and the crate's map agree, so that the versions above are the ones a map writes.
#[test]
fn the_test_encoder_writes_what_a_stored_map_writes() {
    let model: BTreeMap<String, Vec<u8>> = (0..400).map(|i| (format!("k{i}"), vec![i as u8; i % 3])).collect();
    let store = MemoryStore::new();
    let config = hamt_store::Config { value_mode: hamt_store::ValueMode::Bytes, ..hamt_store::Config::default() };
    let mut map = hamt_store::StoredMap::with_config(&store, config);
    for (key, value) in &model {
        map.insert(key.clone(), value.clone().into()).unwrap();
    }
    assert_eq!(map.flush().unwrap(), write_map(&MemoryStore::new(), &model));
}
