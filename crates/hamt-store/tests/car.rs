//! CAR export and import: round trips of several versions against their models, interop with an independent
//! implementation (iroh-car) in both directions, every kind of bad data refused with its typed error, and the
//! worked example of docs/store-format.md checked byte for byte.

use std::collections::{BTreeMap, BTreeSet};

use hamt_store::car::{self, CarError, ExportStats};
use hamt_store::{
    Blockstore, Cid, Config, DAG_CBOR, LinkFormat, MemoryStore, Node, NodeError, RAW, SlotRef, StoreError, StoredMap,
    Value, ValueMode, block_cid, key_hash,
};
use quickcheck::{QuickCheck, TestResult};

mod common;
use common::{bucket_of, head, link, node_with};

fn contents<B: Blockstore>(map: &StoredMap<B>) -> BTreeMap<String, Value> {
    map.iter().collect::<Result<_, _>>().expect("every block is there")
}

/// Every block a version reaches, found by a walk written here over the public node decoder.
fn blocks_of(store: &MemoryStore, root: Cid) -> BTreeSet<Cid> {
    let mut blocks = BTreeSet::new();
    let mut stack = vec![(root, Vec::new())];
    while let Some((cid, path)) = stack.pop() {
        blocks.insert(cid);
        let node = Node::decode(&store.get(&cid).unwrap().unwrap(), &path).unwrap();
        for (index, slot) in node.slots() {
            match slot {
                SlotRef::Bucket(entries) => blocks.extend(entries.iter().map(|(_, value)| *value)),
                SlotRef::Link(child) => stack.push((*child, [path.as_slice(), &[index]].concat())),
                SlotRef::Unflushed(_) => unreachable!("decoded nodes hold no unflushed children"),
            }
        }
    }
    blocks
}

/// A history of versions of one map, from batches of edits (value 0 removes), in `config`.
fn versions(store: &MemoryStore, edits: &[Vec<(u16, u8)>], config: Config) -> Vec<(Cid, BTreeMap<String, Value>)> {
    let mut map = StoredMap::with_config(store, config);
    let mut model = BTreeMap::new();
    let mut versions = Vec::new();
    for batch in edits {
        for &(key, byte) in batch {
            let key = format!("key/{}", key % 500);
            if byte == 0 {
                map.remove(&key).unwrap();
                model.remove(&key);
            } else {
                let value = Value::Bytes(vec![byte; usize::from(byte % 4)]);
                map.insert(key.clone(), value.clone()).unwrap();
                model.insert(key, value);
            }
        }
        versions.push((map.flush().unwrap(), model.clone()));
    }
    versions
}

/// Several versions in one file: the file holds exactly the union of their blocks, once each, and a fresh store
/// that imports it reads every version back as its model, in both link forms.
#[test]
fn several_versions_round_trip_with_every_shared_block_once() {
    fn property(mut edits: Vec<Vec<(u16, u8)>>, multihash_links: bool) -> TestResult {
        // A dozen versions share enough to test sharing; more only make the test slower.
        edits.truncate(12);
        if edits.is_empty() {
            return TestResult::discard();
        }
        let link_format = if multihash_links { LinkFormat::Multihash } else { LinkFormat::Cid };
        let config = Config { value_mode: ValueMode::Bytes, link_format, ..Config::default() };
        let store = MemoryStore::new();
        let versions = versions(&store, &edits, config);
        let roots: Vec<Cid> = versions.iter().map(|(root, _)| *root).collect();
        let union: BTreeSet<Cid> = roots.iter().flat_map(|root| blocks_of(&store, *root)).collect();

        let mut file = Vec::new();
        let written = car::export(&store, &roots, &mut file).unwrap();
        assert_eq!(written, ExportStats { blocks: union.len(), bytes: file.len() as u64 });

        let fresh = MemoryStore::new();
        assert_eq!(car::import(&fresh, file.as_slice()).unwrap(), roots);
        assert_eq!(fresh.list().unwrap().into_iter().collect::<BTreeSet<_>>(), union);
        for (root, model) in &versions {
            assert_eq!(&contents(&StoredMap::load_with_config(&fresh, *root, config).unwrap()), model);
        }
        TestResult::passed()
    }
    QuickCheck::new().tests(if cfg!(miri) { 2 } else { 30 }).quickcheck(property as fn(_, _) -> TestResult);
}

#[test]
fn roots_can_be_given_by_value_by_reference_or_repeated() {
    let store = MemoryStore::new();
    let mut map = StoredMap::new(&store);
    map.insert("a".to_owned(), Value::from("x")).unwrap();
    let root = map.flush().unwrap();
    let mut files = [Vec::new(), Vec::new(), Vec::new()];
    car::export(&store, [root], &mut files[0]).unwrap();
    let slice: &[Cid] = &[root];
    car::export(&store, slice, &mut files[1]).unwrap();
    car::export(&store, vec![root, root], &mut files[2]).unwrap();
    assert_eq!(files[0], files[1]);
    // The repeated root is named twice in the header, and its blocks are written once.
    assert_eq!(car::import(&MemoryStore::new(), files[2].as_slice()).unwrap(), vec![root, root]);
    assert_eq!(files[2].len(), files[0].len() + root.encoded_len() + 5);
    assert!(matches!(car::export(&store, Vec::<Cid>::new(), &mut Vec::new()), Err(CarError::NoRoots)));
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().unwrap()
}

/// A store of several versions of a map with child nodes, and its roots.
fn sample() -> (MemoryStore, Vec<Cid>) {
    let store = MemoryStore::new();
    let mut map = StoredMap::new(&store);
    let mut roots = Vec::new();
    for round in 0..3 {
        for i in 0..200 {
            map.insert(format!("{round}/{i}"), Value::from(i64::from(i % 50))).unwrap();
        }
        roots.push(map.flush().unwrap());
    }
    (store, roots)
}

/// What iroh-car reads from our file is the header's roots and exactly the store's blocks; and iroh-car, given
/// the same roots and blocks in the same order, writes the same bytes.
#[test]
fn iroh_car_reads_our_files_and_writes_the_same_bytes() {
    let (store, roots) = sample();
    let mut ours = Vec::new();
    let written = car::export(&store, &roots, &mut ours).unwrap();

    let blocks = runtime().block_on(async {
        let mut reader = iroh_car::CarReader::new(ours.as_slice()).await.unwrap();
        assert_eq!(reader.header().roots(), roots.as_slice());
        assert_eq!(reader.header().version(), 1);
        let mut blocks = Vec::new();
        while let Some(block) = reader.next_block().await.unwrap() {
            blocks.push(block);
        }
        blocks
    });
    assert_eq!(blocks.len(), written.blocks);
    let distinct: BTreeSet<Cid> = blocks.iter().map(|(cid, _)| *cid).collect();
    assert_eq!(distinct.len(), blocks.len(), "a block was written twice");
    for (cid, bytes) in &blocks {
        assert_eq!(store.get(cid).unwrap().as_deref(), Some(&bytes[..]));
    }

    let theirs = runtime().block_on(async {
        let mut writer = iroh_car::CarWriter::new(iroh_car::CarHeader::new_v1(roots.clone()), Vec::new());
        for (cid, bytes) in &blocks {
            writer.write(*cid, bytes).await.unwrap();
        }
        writer.finish().await.unwrap()
    });
    assert_eq!(theirs, ours);
}

/// A file iroh-car writes, with the blocks in another order (values first, nodes last) and a block no root
/// reaches, imports into a store from which every version loads.
#[test]
fn we_read_iroh_car_files() {
    let (store, roots) = sample();
    let mut all = store.list().unwrap();
    all.sort_by_key(|cid| (cid.codec() == DAG_CBOR, cid.to_bytes()));
    let stray = block_cid(RAW, b"no root reaches this");
    let file = runtime().block_on(async {
        let mut writer = iroh_car::CarWriter::new(iroh_car::CarHeader::new_v1(roots.clone()), Vec::new());
        writer.write(stray, b"no root reaches this").await.unwrap();
        for cid in &all {
            writer.write(*cid, store.get(cid).unwrap().unwrap()).await.unwrap();
        }
        writer.finish().await.unwrap()
    });
    let fresh = MemoryStore::new();
    assert_eq!(car::import(&fresh, file.as_slice()).unwrap(), roots);
    assert_eq!(fresh.len(), all.len() + 1);
    for root in &roots {
        let original = StoredMap::load(&store, *root).unwrap();
        assert_eq!(contents(&StoredMap::load(&fresh, *root).unwrap()), contents(&original));
    }
}

// ---- Bad data ----

fn varint(out: &mut Vec<u8>, mut value: usize) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A CAR file written by hand: the header naming `roots`, then `frames` as they are (CID and bytes).
fn car_file(roots: &[Cid], frames: &[(Cid, &[u8])]) -> Vec<u8> {
    let mut header = vec![0xa2, 0x65];
    header.extend(b"roots");
    head(&mut header, 4, roots.len());
    for root in roots {
        let bytes = root.to_bytes();
        header.extend([0xd8, 0x2a]);
        head(&mut header, 2, bytes.len() + 1);
        header.push(0);
        header.extend(bytes);
    }
    header.push(0x67);
    header.extend(b"version");
    header.push(0x01);
    let mut file = Vec::new();
    varint(&mut file, header.len());
    file.extend(header);
    for (cid, bytes) in frames {
        let cid_bytes = cid.to_bytes();
        varint(&mut file, cid_bytes.len() + bytes.len());
        file.extend(cid_bytes);
        file.extend(*bytes);
    }
    file
}

fn import(file: &[u8]) -> Result<Vec<Cid>, CarError> {
    car::import(&MemoryStore::new(), file)
}

fn store_error(result: Result<Vec<Cid>, CarError>) -> StoreError {
    match result {
        Err(CarError::Store(error)) => error,
        other => panic!("expected a store error, got {other:?}"),
    }
}

fn node_error(result: Result<Vec<Cid>, CarError>) -> NodeError {
    match store_error(result) {
        StoreError::BadNode { error, .. } => error,
        other => panic!("expected a bad node, got {other:?}"),
    }
}

#[test]
fn a_block_whose_bytes_do_not_match_its_cid_is_refused_before_it_is_stored() {
    let node = node_with(0, &[0xa0]);
    let cid = block_cid(DAG_CBOR, &node);
    let file = car_file(&[cid], &[(cid, b"other bytes")]);
    let store = MemoryStore::new();
    assert!(matches!(car::import(&store, file.as_slice()), Err(CarError::Store(StoreError::HashMismatch { .. }))));
    assert!(store.is_empty());
    // A CID whose hash cannot be checked (SHA-256, as IPFS uses by default) is refused too.
    let digest: [u8; 32] = *blake3::hash(&node).as_bytes();
    let sha256 = Cid::new_v1(DAG_CBOR, hamt_store::cid::multihash::Multihash::wrap(0x12, &digest).unwrap());
    let error = store_error(import(&car_file(&[sha256], &[(sha256, &node)])));
    assert!(matches!(error, StoreError::UnsupportedHash { .. }));
}

#[test]
fn truncated_and_malformed_nodes_in_a_file_are_refused() {
    let mut truncated = node_with(0, &[0xa0]);
    truncated.truncate(200);
    let cid = block_cid(DAG_CBOR, &truncated);
    assert_eq!(node_error(import(&car_file(&[cid], &[(cid, &truncated)]))), NodeError::Truncated);

    let mut short = vec![0x98, 0xff];
    short.extend([0xa0; 255]);
    let cid = block_cid(DAG_CBOR, &short);
    assert_eq!(node_error(import(&car_file(&[cid], &[(cid, &short)]))), NodeError::WrongSlotCount { found: 255 });
}

#[test]
fn keys_in_the_wrong_slot_and_absurd_depths_are_refused() {
    let value = block_cid(RAW, b"\x01");
    let wrong = node_with(key_hash("a")[0].wrapping_add(1), &bucket_of("a", &value));
    let cid = block_cid(DAG_CBOR, &wrong);
    let error = node_error(import(&car_file(&[cid], &[(cid, &wrong), (value, b"\x01")])));
    assert!(matches!(error, NodeError::KeyInWrongSlot { .. }));

    // A chain of 34 nodes, each linking to the next.
    let mut blocks = vec![node_with(0, &[0xa0])];
    for _ in 0..33 {
        let mut item = vec![0x81];
        link(&mut item, &block_cid(DAG_CBOR, blocks.last().unwrap()));
        blocks.push(node_with(0, &item));
    }
    let frames: Vec<(Cid, &[u8])> = blocks.iter().map(|bytes| (block_cid(DAG_CBOR, bytes), bytes.as_slice())).collect();
    let root = frames.last().unwrap().0;
    assert_eq!(node_error(import(&car_file(&[root], &frames))), NodeError::TooDeep);
}

/// A file that lacks a block its root reaches fails, naming the block; so does exporting from a store that lacks
/// it, or that holds other bytes under its id.
#[test]
fn missing_and_damaged_blocks_are_refused_in_both_directions() {
    let (store, roots) = sample();
    let mut file = Vec::new();
    car::export(&store, &roots, &mut file).unwrap();
    let value = StoredMap::load(&store, roots[0]).unwrap().get_link("0/7").unwrap().unwrap();

    let without: Vec<(Cid, Vec<u8>)> = store
        .list()
        .unwrap()
        .into_iter()
        .filter(|cid| *cid != value)
        .map(|cid| (cid, store.get(&cid).unwrap().unwrap().to_vec()))
        .collect();
    let frames: Vec<(Cid, &[u8])> = without.iter().map(|(cid, bytes)| (*cid, bytes.as_slice())).collect();
    let error = store_error(import(&car_file(&roots, &frames)));
    assert!(matches!(error, StoreError::MissingBlock { cid } if *cid == value));

    // A store that already holds the missing block completes the file.
    let holder = MemoryStore::new();
    holder.put(&value, &store.get(&value).unwrap().unwrap()).unwrap();
    assert_eq!(car::import(&holder, car_file(&roots, &frames).as_slice()).unwrap(), roots);

    store.delete(&[value]).unwrap();
    let error = car::export(&store, &roots, &mut Vec::new()).unwrap_err();
    assert!(matches!(error, CarError::Store(StoreError::MissingBlock { cid }) if *cid == value));
    store.put(&value, b"other bytes").unwrap();
    let error = car::export(&store, &roots, &mut Vec::new()).unwrap_err();
    assert!(matches!(error, CarError::Store(StoreError::HashMismatch { cid }) if *cid == value));
}

/// Every prefix of a valid file fails with a typed error (a cut inside an item is `Truncated`, a cut between
/// frames leaves blocks missing), and never panics.
#[test]
fn every_prefix_of_a_file_is_refused() {
    let store = MemoryStore::new();
    let mut map = StoredMap::new(&store);
    for i in 0..8 {
        map.insert(format!("{i}"), Value::from(i64::from(i))).unwrap();
    }
    let root = map.flush().unwrap();
    let mut file = Vec::new();
    car::export(&store, [root], &mut file).unwrap();
    for cut in 0..file.len() {
        match import(&file[..cut]) {
            Err(CarError::Truncated { .. } | CarError::Store(StoreError::MissingBlock { .. })) => {}
            other => panic!("a file cut at {cut} of {} gave {other:?}", file.len()),
        }
    }
    assert_eq!(import(&file).unwrap(), vec![root]);
}

#[test]
fn malformed_files_are_refused_without_allocating_what_they_claim() {
    let root = block_cid(DAG_CBOR, &node_with(0, &[0xa0]));
    let good = car_file(&[root], &[(root, &node_with(0, &[0xa0]))]);

    // A frame that claims 2^40 bytes.
    let mut huge = car_file(&[root], &[]);
    huge.extend([0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
    let at = huge.len() as u64 - 6;
    assert!(matches!(import(&huge), Err(CarError::TooLarge { at: a, length }) if a == at && length == 1 << 40));
    // A header that claims 32 MiB and one byte.
    let mut header = Vec::new();
    varint(&mut header, (32 << 20) + 1);
    assert!(matches!(import(&header), Err(CarError::TooLarge { at: 0, .. })));
    // A varint in a longer form than it needs.
    assert!(matches!(import(&[0x81, 0x00]), Err(CarError::BadVarint { at: 0 })));
    // An empty file, and a header that is not DAG-CBOR.
    assert!(matches!(import(&[]), Err(CarError::Truncated { at: 0 })));
    assert!(matches!(import(&[0x02, 0xff, 0xff]), Err(CarError::BadHeader { .. })));
    // A CARv2 pragma.
    let v2 = [0x0a, 0xa1, 0x67, b'v', b'e', b'r', b's', b'i', b'o', b'n', 0x02];
    assert!(matches!(import(&v2), Err(CarError::UnsupportedVersion { version: 2 })));
    // A header with no roots.
    assert!(matches!(import(&car_file(&[], &[])), Err(CarError::NoRoots)));
    // A frame that does not start with a CID, and an empty frame.
    let mut bad_cid = car_file(&[root], &[]);
    let at = bad_cid.len() as u64;
    bad_cid.extend([0x03, 0x01, 0xff, 0xff]);
    assert!(matches!(import(&bad_cid), Err(CarError::BadCid { at: a }) if a == at));
    let mut empty_frame = car_file(&[root], &[]);
    empty_frame.push(0x00);
    assert!(matches!(import(&empty_frame), Err(CarError::BadCid { .. })));

    assert_eq!(import(&good).unwrap(), vec![root]);
}

// ---- The worked example of docs/store-format.md ----

const FORMAT_DOC: &str = include_str!("../../../docs/store-format.md");

/// The bytes of the listing titled `# name` in the format document: each line's hex bytes up to its `#` comment,
/// where `a0*85` stands for 85 bytes `a0` and `{other}` (alone on its line) for the bytes of the listing titled
/// `other`.
fn listing(name: &str) -> Vec<u8> {
    let title = format!("```text\n# {name}\n");
    let start = FORMAT_DOC.find(&title).unwrap_or_else(|| panic!("no listing {name:?}")) + title.len();
    let end = start + FORMAT_DOC[start..].find("```").expect("the listing ends");
    let mut bytes = Vec::new();
    for line in FORMAT_DOC[start..end].lines() {
        let code = line.split('#').next().unwrap();
        // A reference takes the whole line, as its name may hold spaces.
        if let Some(other) = code.trim().strip_prefix('{') {
            bytes.extend(listing(other.strip_suffix('}').expect("a closing brace")));
            continue;
        }
        for token in code.split_whitespace() {
            if let Some((byte, count)) = token.split_once('*') {
                let byte = u8::from_str_radix(byte, 16).unwrap();
                bytes.extend(std::iter::repeat_n(byte, count.parse().unwrap()));
            } else {
                bytes.push(u8::from_str_radix(token, 16).unwrap_or_else(|_| panic!("bad token {token:?} in {name}")));
            }
        }
    }
    bytes
}

/// Every listing, id and size of the worked example, against a map built as the document says.
#[test]
fn the_worked_example_of_the_format_document_is_what_the_code_writes() {
    let store = MemoryStore::new();
    let mut map = StoredMap::new(&store);
    let fruits = [("apple", "red"), ("kiwi", "green"), ("lemon", "yellow")];
    for (key, value) in fruits {
        map.insert(key.to_owned(), Value::from(value)).unwrap();
    }
    let root = map.flush().unwrap();
    assert_eq!(store.len(), 4);

    for (key, _) in fruits {
        let value = map.get_link(key).unwrap().unwrap();
        let bytes = store.get(&value).unwrap().unwrap();
        assert_eq!(listing(&format!("value block of {key:?}")), bytes, "the value block of {key}");
        assert!(FORMAT_DOC.contains(&format!("`{value}`")), "the id of {key}'s value, {value}");
    }
    let node = store.get(&root).unwrap().unwrap();
    assert_eq!(listing("root node"), node);
    assert!(FORMAT_DOC.contains(&format!("The root node, {} bytes", node.len())));
    assert!(FORMAT_DOC.contains(&format!("`{root}`")), "the root id {root}");

    let hashes = Node::decode(&node, &[]).unwrap().encode(LinkFormat::Multihash);
    assert!(FORMAT_DOC.contains(&format!("the node is {} bytes", hashes.len())));
    let hashes_root = block_cid(DAG_CBOR, &hashes);
    assert!(FORMAT_DOC.contains(&format!("`{hashes_root}`")), "the root id in the multihash form, {hashes_root}");

    let mut file = Vec::new();
    car::export(&store, [root], &mut file).unwrap();
    assert_eq!(listing("CAR file"), file);
    assert!(FORMAT_DOC.contains(&format!("this {}-byte CAR file", file.len())));
}

/// A value larger than a CAR section may be is refused by export, before the file holds any of it, rather than
/// written into a file that no reader would take.
#[test]
fn export_refuses_a_block_larger_than_a_section() {
    let store = MemoryStore::new();
    let config = Config { value_mode: ValueMode::Bytes, ..Config::default() };
    let mut map = StoredMap::with_config(&store, config);
    let large = vec![7; car::MAX_FRAME_BYTES as usize];
    map.insert("large".to_owned(), Value::Bytes(large)).unwrap();
    let root = map.flush().unwrap();
    let mut file = Vec::new();
    let error = car::export(&store, [root], &mut file).unwrap_err();
    // The frame is the 36-byte CID and the block.
    assert!(matches!(error, CarError::TooLarge { length, .. } if length == car::MAX_FRAME_BYTES + 36));
    assert!(file.len() < 1 << 20);
}
