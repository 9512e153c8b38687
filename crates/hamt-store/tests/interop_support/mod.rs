//! Shared by tests/interop.rs (the committed vectors) and tests/py_hamt_live.rs (py-hamt run live): the vector file
//! format of tests/py/hamt_vectors.py, read and written, and the checks that compare a vector with hamt-store.
//!
//! A vector is one DAG-CBOR map: the link form and value mode, the root's id, every block reachable from the root
//! (as codec and bytes; ids are computed, which checks them), the entries the map holds, and the writes that made
//! it. tests/py/hamt_vectors.py documents it field by field.

pub(crate) mod live;

use std::collections::BTreeMap;
use std::path::Path;

use hamt_store::{
    Blockstore, Bytes, Cid, Config, DAG_CBOR, Ipld, LinkFormat, MemoryStore, Node, RAW, SlotRef, StoredMap, Value,
    ValueMode, block_cid,
};

/// One write of a map's history.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Write {
    Set(String, Value),
    Delete(String),
}

/// A map as a vector file describes it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Vector {
    pub(crate) description: String,
    pub(crate) generator: String,
    pub(crate) links: LinkFormat,
    pub(crate) values: ValueMode,
    /// The root's id as the writer named it: CID bytes, or a bare multihash.
    pub(crate) root_id: Vec<u8>,
    /// Every block reachable from the root, by its id (a CIDv1, also for a vector of bare multihash links, since
    /// that is how hamt-store names blocks whichever form its nodes link with).
    pub(crate) blocks: BTreeMap<Cid, Vec<u8>>,
    /// The entries in the order the file lists them.
    pub(crate) entries: Vec<(String, Value)>,
    pub(crate) history: Vec<Write>,
}

/// The format version this code reads and writes.
const FORMAT: i128 = 1;

impl Vector {
    /// Reads a vector file; a malformed one fails the test, naming the file and what is wrong.
    pub(crate) fn read(path: &Path) -> Vector {
        let bytes = std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        Vector::decode(&bytes).unwrap_or_else(|reason| panic!("{}: {reason}", path.display()))
    }

    fn decode(bytes: &[u8]) -> Result<Vector, String> {
        let ipld: Ipld = serde_ipld_dagcbor::from_slice(bytes).map_err(|error| error.to_string())?;
        let Ipld::Map(mut fields) = ipld else { return Err("not a map".to_owned()) };
        let mut take = |name: &str| fields.remove(name).ok_or_else(|| format!("no field `{name}`"));
        if take("format")? != Ipld::Integer(FORMAT) {
            return Err(format!("not a format-{FORMAT} vector"));
        }
        let links = match take("links")? {
            Ipld::String(text) if text == "cid" => LinkFormat::Cid,
            Ipld::String(text) if text == "multihash" => LinkFormat::Multihash,
            other => return Err(format!("unknown links {other:?}")),
        };
        let values = match take("values")? {
            Ipld::String(text) if text == "cbor" => ValueMode::Cbor,
            Ipld::String(text) if text == "bytes" => ValueMode::Bytes,
            other => return Err(format!("unknown values {other:?}")),
        };
        let Ipld::Bytes(root_id) = take("root")? else { return Err("the root is not bytes".to_owned()) };
        let Ipld::List(block_list) = take("blocks")? else { return Err("the blocks are not a list".to_owned()) };
        let mut blocks = BTreeMap::new();
        for block in block_list {
            let (codec, bytes) = match block {
                Ipld::List(pair) => match <[Ipld; 2]>::try_from(pair) {
                    Ok([Ipld::String(codec), Ipld::Bytes(bytes)]) => (codec, bytes),
                    _ => return Err("a block is not [codec, bytes]".to_owned()),
                },
                _ => return Err("a block is not a list".to_owned()),
            };
            let codec = match codec.as_str() {
                "dag-cbor" => DAG_CBOR,
                "raw" => RAW,
                other => return Err(format!("unknown codec {other}")),
            };
            blocks.insert(block_cid(codec, &bytes), bytes);
        }
        let Ipld::Map(entry_map) = take("entries")? else { return Err("the entries are not a map".to_owned()) };
        let entries = entry_map.into_iter().map(|(key, value)| (key, Value::from(value))).collect();
        let Ipld::List(writes) = take("history")? else { return Err("the history is not a list".to_owned()) };
        let history = writes
            .into_iter()
            .map(|write| match write {
                Ipld::List(parts) => match <[Ipld; 3]>::try_from(parts) {
                    Ok([Ipld::String(kind), Ipld::String(key), value]) if kind == "set" => {
                        Ok(Write::Set(key, Value::from(value)))
                    }
                    Ok(_) => Err("a three-part write is not a set".to_owned()),
                    Err(parts) => match <[Ipld; 2]>::try_from(parts) {
                        Ok([Ipld::String(kind), Ipld::String(key)]) if kind == "delete" => Ok(Write::Delete(key)),
                        _ => Err("a write is neither a set nor a delete".to_owned()),
                    },
                },
                _ => Err("a write is not a list".to_owned()),
            })
            .collect::<Result<_, _>>()?;
        let text = |value: Ipld| match value {
            Ipld::String(text) => Ok(text),
            _ => Err("a text field is not text".to_owned()),
        };
        let description = text(take("description")?)?;
        let generator = text(take("generator")?)?;
        Ok(Vector { description, generator, links, values, root_id, blocks, entries, history })
    }

    /// The vector as a file that tests/py/live_check.py reads.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let text = |text: &str| Ipld::String(text.to_owned());
        let blocks = self
            .blocks
            .iter()
            .map(|(cid, bytes)| {
                let codec = if cid.codec() == DAG_CBOR { "dag-cbor" } else { "raw" };
                Ipld::List(vec![text(codec), Ipld::Bytes(bytes.clone())])
            })
            .collect();
        let entries = self.entries.iter().map(|(key, value)| (key.clone(), value.clone().into_ipld())).collect();
        let history = self
            .history
            .iter()
            .map(|write| match write {
                Write::Set(key, value) => Ipld::List(vec![text("set"), text(key), value.clone().into_ipld()]),
                Write::Delete(key) => Ipld::List(vec![text("delete"), text(key)]),
            })
            .collect();
        let fields = BTreeMap::from([
            ("format".to_owned(), Ipld::Integer(FORMAT)),
            ("generator".to_owned(), text(&self.generator)),
            ("description".to_owned(), text(&self.description)),
            ("links".to_owned(), text(if self.links == LinkFormat::Cid { "cid" } else { "multihash" })),
            ("values".to_owned(), text(if self.values == ValueMode::Cbor { "cbor" } else { "bytes" })),
            ("max_bucket_size".to_owned(), Ipld::Integer(4)),
            ("root".to_owned(), Ipld::Bytes(self.root_id.clone())),
            ("blocks".to_owned(), Ipld::List(blocks)),
            ("entries".to_owned(), Ipld::Map(entries)),
            ("history".to_owned(), Ipld::List(history)),
        ]);
        serde_ipld_dagcbor::to_vec(&Ipld::Map(fields)).expect("an IPLD map of text, bytes and integers encodes")
    }

    /// The root as hamt-store names it: a CIDv1 of a DAG-CBOR block.
    pub(crate) fn root(&self) -> Cid {
        match self.links {
            LinkFormat::Cid => Cid::try_from(self.root_id.as_slice()).expect("the root is a CID"),
            LinkFormat::Multihash => Cid::new_v1(
                DAG_CBOR,
                hamt_store::cid::multihash::Multihash::<64>::from_bytes(&self.root_id)
                    .expect("the root is a multihash"),
            ),
        }
    }

    /// The map's configuration: how its nodes link and its values are stored.
    pub(crate) fn config(&self) -> Config {
        Config { link_format: self.links, value_mode: self.values, ..Config::default() }
    }

    /// A store holding exactly the vector's blocks.
    pub(crate) fn store(&self) -> MemoryStore {
        let store = MemoryStore::new();
        let blocks: Vec<(Cid, Bytes)> =
            self.blocks.iter().map(|(cid, bytes)| (*cid, Bytes::copy_from_slice(bytes))).collect();
        store.put_many(&blocks).expect("a memory store takes every block");
        store
    }
}

/// The id of `root` as a writer of `links` names it: the CID's bytes, or its bare multihash.
pub(crate) fn root_id(root: &Cid, links: LinkFormat) -> Vec<u8> {
    match links {
        LinkFormat::Cid => root.to_bytes(),
        LinkFormat::Multihash => root.hash().to_bytes(),
    }
}

/// Every block reachable from `root` in `store`: the nodes, read with hamt-store's own node decoder, and the value
/// blocks their buckets point at.
pub(crate) fn reachable_blocks(store: &impl Blockstore, root: &Cid) -> BTreeMap<Cid, Vec<u8>> {
    walk(store, root).0
}

/// The id of each key's value block, read from the nodes reachable from `root`.
pub(crate) fn value_links(store: &impl Blockstore, root: &Cid) -> BTreeMap<String, Cid> {
    walk(store, root).1
}

fn walk(store: &impl Blockstore, root: &Cid) -> (BTreeMap<Cid, Vec<u8>>, BTreeMap<String, Cid>) {
    let (mut blocks, mut values) = (BTreeMap::new(), BTreeMap::new());
    let mut pending = vec![(*root, Vec::new())];
    while let Some((cid, path)) = pending.pop() {
        let bytes = store.get(&cid).expect("the store answers").unwrap_or_else(|| panic!("node {cid} is missing"));
        let node = Node::decode(&bytes, &path).unwrap_or_else(|error| panic!("node {cid}: {error}"));
        for (index, slot) in node.slots() {
            match slot {
                SlotRef::Bucket(entries) => {
                    for (key, value) in entries {
                        let block = store.get(value).expect("the store answers");
                        blocks.insert(
                            *value,
                            block.unwrap_or_else(|| panic!("the value of {key:?} is missing")).to_vec(),
                        );
                        values.insert(key.clone(), *value);
                    }
                }
                SlotRef::Link(child) => pending.push((*child, [path.as_slice(), &[index]].concat())),
                SlotRef::Unflushed(_) => panic!("a node read from bytes holds an unflushed child"),
            }
        }
        blocks.insert(cid, bytes.to_vec());
    }
    (blocks, values)
}

/// Loads the vector's map through hamt-store and checks that it holds exactly the vector's entries: each one found
/// by `get`, the count, and the same entries by iteration.
pub(crate) fn check_entries(vector: &Vector) {
    let name = &vector.description;
    let map = StoredMap::load_with_config(vector.store(), vector.root(), vector.config())
        .unwrap_or_else(|error| panic!("{name}: loading the root failed: {error}"));
    assert_eq!(map.len().expect("the nodes are all there"), vector.entries.len(), "{name}: the count");
    for (key, expected) in &vector.entries {
        let found = map.get(key).unwrap_or_else(|error| panic!("{name}: get({key:?}) failed: {error}"));
        assert_eq!(found.as_ref(), Some(expected), "{name}: the value of {key:?}");
    }
    let mut iterated: Vec<(String, Value)> =
        map.iter().map(|entry| entry.unwrap_or_else(|error| panic!("{name}: iteration failed: {error}"))).collect();
    iterated.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected = vector.entries.clone();
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(iterated, expected, "{name}: the entries by iteration");
}

/// Applies `writes` to a new hamt-store map configured as the vector's, flushes it once, and returns its store and
/// root.
pub(crate) fn build(vector: &Vector, writes: &[Write]) -> (MemoryStore, Cid) {
    let mut map = StoredMap::with_config(MemoryStore::new(), vector.config());
    for write in writes {
        match write {
            Write::Set(key, value) => map.insert(key.clone(), value.clone()).expect("a memory store takes writes"),
            Write::Delete(key) => assert!(map.remove(key).expect("a memory store takes writes"), "{key:?} was set"),
        }
    }
    let root = map.flush().expect("a memory store takes the flush");
    (map.store().clone(), root)
}

/// Checks that `writes`, applied by hamt-store, give the vector's root and exactly its blocks, byte for byte.
pub(crate) fn check_same_blocks(vector: &Vector, writes: &[Write], what: &str) {
    let name = &vector.description;
    let (store, root) = build(vector, writes);
    assert_eq!(root_id(&root, vector.links), vector.root_id, "{name}: the root of {what}");
    let blocks = reachable_blocks(&store, &root);
    assert_eq!(blocks.len(), vector.blocks.len(), "{name}: the number of blocks of {what}");
    for (cid, bytes) in &vector.blocks {
        assert_eq!(blocks.get(cid), Some(bytes), "{name}: block {cid} of {what}");
    }
}

/// The vector's entries in a random order, with `extra` keys that are not in it set and deleted again on the way
/// (each deletion at a random later point), so that the shape must not depend on history.
pub(crate) fn shuffled_writes(vector: &Vector, seed: u64, extra: usize) -> Vec<Write> {
    let mut random = SplitMix64(seed);
    let mut entries = vector.entries.clone();
    random.shuffle(&mut entries);
    let mut writes: Vec<Write> = entries.into_iter().map(|(key, value)| Write::Set(key, value)).collect();
    let taken: std::collections::HashSet<&str> = vector.entries.iter().map(|(key, _)| key.as_str()).collect();
    let mut added = 0;
    let mut counter: u32 = 0;
    while added < extra {
        counter += 1;
        let key = format!("extra-{seed}-{counter}");
        if taken.contains(key.as_str()) {
            continue;
        }
        let value = match vector.values {
            ValueMode::Bytes => Value::Bytes(key.as_bytes().to_vec()),
            ValueMode::Cbor => Value::from(Ipld::Integer(i128::from(counter))),
        };
        let set_at = random.below(writes.len() + 1);
        writes.insert(set_at, Write::Set(key.clone(), value));
        let delete_at = set_at + 1 + random.below(writes.len() - set_at);
        writes.insert(delete_at, Write::Delete(key));
        added += 1;
    }
    writes
}

/// A small seeded generator (SplitMix64), so that every random order here is reproducible from its seed without a
/// dependency.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `bound` (which must not be zero).
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        let bound = u64::try_from(bound).expect("a length fits in 64 bits");
        usize::try_from(self.next() % bound).expect("a number below a length fits in usize")
    }

    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for index in (1..items.len()).rev() {
            items.swap(index, self.below(index + 1));
        }
    }
}
