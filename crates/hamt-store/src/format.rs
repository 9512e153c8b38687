//! py-hamt's node format, byte for byte: ids, key hashes, and the DAG-CBOR codec of nodes.
//!
//! The layout is specified in docs/store-format.md. In short: a node is a DAG-CBOR array of 256 slots; a slot is an
//! empty map, a bucket (a map from key text to a link to the value block, keys in DAG-CBOR's canonical order), or a
//! one-element array holding a link to a child node. Slot `i` at depth `d` holds the keys whose BLAKE3 hash has byte
//! `d` equal to `i`.
//!
//! The codec is written here rather than through a generic DAG-CBOR library because the node is the format: it must
//! come out byte for byte as py-hamt writes it, and a reader must check what a generic decoder does not (256 slots,
//! canonical order, every key in the slot its hash names, every length in its shortest form) without allocating
//! more than the block's own size. Values, which are arbitrary DAG-CBOR, go through `serde_ipld_dagcbor`.

use bytes::Bytes;
use cid::Cid;
use cid::multihash::Multihash;

use crate::StoreError;
use crate::cache::CachedNode;
use crate::error::NodeError;

/// The multicodec of DAG-CBOR, the codec of node blocks.
pub const DAG_CBOR: u64 = 0x71;
/// The multicodec of raw bytes, the codec of value blocks.
pub const RAW: u64 = 0x55;
/// The multihash code of BLAKE3 (with a 32-byte digest), the hash of every block and of every key.
pub const BLAKE3: u64 = 0x1e;
/// The number of slots of a node.
pub const SLOTS: usize = 256;
/// The deepest a node can sit: one level per byte of a key's 32-byte hash.
pub const MAX_DEPTH: usize = 32;

/// The id of a block: CIDv1 with a BLAKE3-256 multihash of `bytes` and the multicodec `codec` ([`DAG_CBOR`] for
/// nodes, [`RAW`] for values), as IPFS computes it.
///
/// # Examples
///
/// ```
/// use hamt_store::{block_cid, RAW};
///
/// let cid = block_cid(RAW, b"hello");
/// assert_eq!(cid.codec(), RAW);
/// assert_eq!(cid.hash().digest(), blake3::hash(b"hello").as_bytes());
/// ```
#[must_use]
pub fn block_cid(codec: u64, bytes: &[u8]) -> Cid {
    Cid::new_v1(codec, blake3_multihash(blake3::hash(bytes).as_bytes()))
}

fn blake3_multihash(digest: &[u8; 32]) -> Multihash<64> {
    match Multihash::wrap(BLAKE3, digest) {
        Ok(hash) => hash,
        // A 32-byte digest always fits the 64 bytes a `Multihash<64>` holds.
        Err(_) => unreachable!("a 32-byte digest fits in a Multihash<64>"),
    }
}

/// The 32-byte BLAKE3 hash of a key's UTF-8 bytes; byte `d` chooses the slot at depth `d`.
///
/// # Examples
///
/// ```
/// assert_eq!(hamt_store::key_hash("a"), *blake3::hash(b"a").as_bytes());
/// ```
#[must_use]
pub fn key_hash(key: &str) -> [u8; 32] {
    *blake3::hash(key.as_bytes()).as_bytes()
}

/// Checks that `bytes` hash to `cid`.
///
/// # Errors
///
/// [`StoreError::HashMismatch`] if they do not, [`StoreError::UnsupportedHash`] if `cid` does not use BLAKE3-256.
///
/// # Examples
///
/// ```
/// use hamt_store::{block_cid, verify_block, StoreError, RAW};
///
/// let cid = block_cid(RAW, b"hello");
/// assert!(verify_block(&cid, b"hello").is_ok());
/// assert!(matches!(verify_block(&cid, b"hullo"), Err(StoreError::HashMismatch { .. })));
/// ```
pub fn verify_block(cid: &Cid, bytes: &[u8]) -> Result<(), StoreError> {
    let hash = cid.hash();
    if hash.code() != BLAKE3 || hash.size() != 32 {
        return Err(StoreError::UnsupportedHash { cid: Box::new(*cid) });
    }
    if blake3::hash(bytes).as_bytes() == hash.digest() {
        Ok(())
    } else {
        Err(StoreError::HashMismatch { cid: Box::new(*cid) })
    }
}

/// The bytes of block `cid` as a store returned them (`None`: the store lacks it), once they are known to be there
/// and to hash to the id.
pub(crate) fn checked_block(cid: &Cid, bytes: Option<Bytes>) -> Result<Bytes, StoreError> {
    let bytes = bytes.ok_or_else(|| StoreError::MissingBlock { cid: Box::new(*cid) })?;
    verify_block(cid, &bytes)?;
    Ok(bytes)
}

/// How a node writes its links.
///
/// Readers accept both forms, in any mix.
///
/// # Examples
///
/// ```
/// use hamt_store::{Config, LinkFormat, MemoryStore, StoredMap};
///
/// // The same contents under the two link forms: different node bytes, so different roots.
/// let mut roots = Vec::new();
/// for link_format in [LinkFormat::Cid, LinkFormat::Multihash] {
///     let mut map = StoredMap::with_config(MemoryStore::new(), Config { link_format, ..Config::default() });
///     map.insert("k".to_owned(), vec![1].into())?;
///     roots.push(map.flush()?);
/// }
/// assert_ne!(roots[0], roots[1]);
/// # Ok::<(), hamt_store::StoreError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LinkFormat {
    /// A CID in DAG-CBOR's link form (tag 42, a zero byte, the CID's bytes): what py-hamt writes through IPFS
    /// (its `KuboCAS`), and what other IPLD tools read as links.
    #[default]
    Cid,
    /// The bare multihash as a byte string: what py-hamt writes through its `InMemoryCAS`.
    Multihash,
}

/// One slot of a [`Node`], as [`Node::slots`] shows it.
///
/// # Examples
///
/// See [`Node::slots`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotRef<'a> {
    /// A bucket: 1 to `max_bucket_size` keys, each with the id of its value block, in DAG-CBOR's key order.
    Bucket(&'a [(String, Cid)]),
    /// A link to a child node.
    Link(&'a Cid),
    /// A child node changed in memory and not yet flushed (only in a stored map's unflushed nodes, never in a node
    /// read from bytes).
    Unflushed(&'a Node),
}

/// A node of the trie: 256 slots, of which only the non-empty ones are held.
///
/// A stored map reads and writes nodes itself; this type is public so that tools can read the format (a block
/// inspector, a fuzz target) without going through a map.
///
/// # Examples
///
/// ```
/// use hamt_store::{LinkFormat, Node, SlotRef};
///
/// let empty = Node::default().encode(LinkFormat::Cid);
/// assert_eq!(&empty[..3], [0x99, 0x01, 0x00]); // an array of 256 items...
/// assert!(empty[3..].iter().all(|&byte| byte == 0xa0)); // ...each an empty map
/// let node = Node::decode(&empty, &[])?;
/// assert_eq!(node.slots().count(), 0);
/// # Ok::<(), hamt_store::NodeError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    /// Bit `i` is set when slot `i` is not empty: the position of a slot in `slots` is the number of bits set
    /// below its own.
    bitmap: [u64; 4],
    /// The number of bits set in the words of `bitmap` before each, so that finding a slot counts the bits of one
    /// word only (a count of bits costs a dozen instructions where the processor has no POPCNT, as in a portable
    /// build).
    below: [u8; 4],
    /// The non-empty slots, by increasing index.
    pub(crate) slots: Vec<(u8, Slot)>,
}

/// A non-empty slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Keys with the ids of their values, in DAG-CBOR's key order (shorter first, then bytewise).
    Bucket(Vec<(String, Cid)>),
    /// A stored child node. The link is boxed so that a slot is 4 words, not 15: a node being built shifts its
    /// slots on every insertion, and a decoded node holds mostly buckets.
    Link(Box<Link>),
    /// A child node changed since the last flush.
    Dirty(std::sync::Arc<Node>),
}

/// A link to a stored child node: its id, and once the child was read through it, a weak reference to the cached
/// child, so that the next read through the link goes to the child without a cache lookup.
///
/// The reference is weak, so that the cache alone decides how long a child stays: a child it evicted is read again
/// through the cache. Every read through the reference checks the path as a cache hit does.
pub(crate) struct Link {
    pub(crate) cid: Cid,
    child: std::sync::OnceLock<std::sync::Weak<CachedNode>>,
}

impl Link {
    pub(crate) fn new(cid: Cid) -> Self {
        Self { cid, child: std::sync::OnceLock::new() }
    }

    /// A link to `cid`, whose node the cache holds as `child`.
    pub(crate) fn to_cached(cid: Cid, child: &std::sync::Arc<CachedNode>) -> Self {
        Self { cid, child: std::sync::OnceLock::from(std::sync::Arc::downgrade(child)) }
    }

    /// The child, if it was read through this link before, is still held by the cache (or a reader), and was
    /// checked at `path`.
    pub(crate) fn cached(&self, path: &[u8]) -> Option<std::sync::Arc<CachedNode>> {
        self.child.get()?.upgrade().filter(|child| child.path() == path)
    }

    /// Remembers `child` as the node this link leads to, unless the link already remembers one.
    pub(crate) fn remember(&self, child: &std::sync::Arc<CachedNode>) {
        let _ = self.child.set(std::sync::Arc::downgrade(child));
    }
}

impl Clone for Link {
    fn clone(&self) -> Self {
        Self { cid: self.cid, child: self.child.clone() }
    }
}

impl PartialEq for Link {
    fn eq(&self, other: &Self) -> bool {
        self.cid == other.cid
    }
}

impl Eq for Link {}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Link").field(&self.cid).finish()
    }
}

/// DAG-CBOR's order of map keys: shorter first, then bytewise.
pub(crate) fn canonical_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

impl Node {
    /// The non-empty slots, by increasing index.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{MemoryStore, Node, SlotRef, StoredMap};
    ///
    /// let store = MemoryStore::new();
    /// let mut map = StoredMap::new(&store);
    /// map.insert("k".to_owned(), vec![1].into())?;
    /// let root = map.flush()?;
    /// let node = Node::decode(&hamt_store::Blockstore::get(&store, &root)?.expect("stored"), &[])?;
    /// let slots: Vec<_> = node.slots().collect();
    /// assert!(matches!(slots[..], [(index, SlotRef::Bucket(entries))] if index == hamt_store::key_hash("k")[0] && entries[0].0 == "k"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn slots(&self) -> impl Iterator<Item = (u8, SlotRef<'_>)> + '_ {
        self.slots.iter().map(|(index, slot)| {
            let slot = match slot {
                Slot::Bucket(entries) => SlotRef::Bucket(entries),
                Slot::Link(link) => SlotRef::Link(&link.cid),
                Slot::Dirty(node) => SlotRef::Unflushed(node),
            };
            (*index, slot)
        })
    }

    /// The position in `slots` of slot `index`, or where it would go.
    pub(crate) fn find(&self, index: u8) -> Result<usize, usize> {
        let (word, bit) = (usize::from(index >> 6), index & 63);
        let bits = self.bitmap[word];
        let below = usize::from(self.below[word]) + (bits & ((1u64 << bit) - 1)).count_ones() as usize;
        if bits & (1u64 << bit) != 0 { Ok(below) } else { Err(below) }
    }

    /// Marks slot `index` as held, which it was not.
    fn mark(&mut self, index: u8) {
        let word = usize::from(index >> 6);
        self.bitmap[word] |= 1u64 << (index & 63);
        for later in &mut self.below[word + 1..] {
            *later += 1;
        }
    }

    /// Puts `slot` at `index`, which must be empty, at `position` (what [`find`](Self::find) returned for it).
    pub(crate) fn insert_slot(&mut self, position: usize, index: u8, slot: Slot) {
        self.mark(index);
        self.slots.insert(position, (index, slot));
    }

    /// Empties the slot at `position`.
    pub(crate) fn remove_slot(&mut self, position: usize) {
        let (index, _) = self.slots.remove(position);
        let word = usize::from(index >> 6);
        self.bitmap[word] &= !(1u64 << (index & 63));
        for later in &mut self.below[word + 1..] {
            *later -= 1;
        }
    }

    /// Puts `slot` at `index`, which must be above every slot held.
    pub(crate) fn push_slot(&mut self, index: u8, slot: Slot) {
        self.mark(index);
        self.slots.push((index, slot));
    }

    /// A rough count of the heap and inline bytes this node holds, for the cache's budget.
    pub(crate) fn weight(&self) -> usize {
        let slots: usize = self
            .slots
            .iter()
            .map(|(_, slot)| match slot {
                Slot::Bucket(entries) => {
                    entries.iter().map(|(key, _)| key.len() + size_of::<(String, Cid)>()).sum::<usize>() + 16
                }
                // A link's box, and the allocation its weak reference may keep after the child is dropped.
                Slot::Link(_) => size_of::<Link>() + size_of::<CachedNode>() + 16,
                Slot::Dirty(node) => node.weight(),
            })
            .sum();
        size_of::<Self>() + self.slots.len() * size_of::<(u8, Slot)>() + slots
    }

    /// The node's block: a DAG-CBOR array of 256 slots, links written as `links` says.
    ///
    /// # Panics
    ///
    /// If a slot holds an unflushed child ([`SlotRef::Unflushed`]): a stored map writes children before parents.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{LinkFormat, Node};
    ///
    /// // A node read back and written again is the same bytes.
    /// let bytes = Node::default().encode(LinkFormat::Multihash);
    /// assert_eq!(Node::decode(&bytes, &[])?.encode(LinkFormat::Multihash), bytes);
    /// # Ok::<(), hamt_store::NodeError>(())
    /// ```
    #[must_use]
    pub fn encode(&self, links: LinkFormat) -> Vec<u8> {
        self.encode_with(links, &mut std::iter::empty())
    }

    /// The node's block, with the unflushed children's ids taken from `children` in slot order.
    pub(crate) fn encode_with(&self, links: LinkFormat, children: &mut dyn Iterator<Item = Cid>) -> Vec<u8> {
        let mut out = Vec::with_capacity(3 + SLOTS + self.encoded_extra());
        write_head(&mut out, 4, SLOTS as u64);
        let mut next = 0usize;
        for (index, slot) in &self.slots {
            let index = usize::from(*index);
            out.resize(out.len() + (index - next), 0xa0);
            next = index + 1;
            match slot {
                Slot::Bucket(entries) => {
                    write_head(&mut out, 5, entries.len() as u64);
                    for (key, cid) in entries {
                        write_head(&mut out, 3, key.len() as u64);
                        out.extend_from_slice(key.as_bytes());
                        write_link(&mut out, cid, links);
                    }
                }
                Slot::Link(link) => {
                    write_head(&mut out, 4, 1);
                    write_link(&mut out, &link.cid, links);
                }
                Slot::Dirty(_) => {
                    let cid = children.next().expect("a stored map flushes every child before encoding its parent");
                    write_head(&mut out, 4, 1);
                    write_link(&mut out, &cid, links);
                }
            }
        }
        out.resize(out.len() + (SLOTS - next), 0xa0);
        out
    }

    fn encoded_extra(&self) -> usize {
        self.slots
            .iter()
            .map(|(_, slot)| match slot {
                Slot::Bucket(entries) => entries.iter().map(|(key, _)| key.len() + 48).sum(),
                _ => 48,
            })
            .sum()
    }

    /// Reads a node block found at `path` (the slot indices from the root down to this node, empty for the root).
    ///
    /// Checks everything the format promises: 256 slots, links that parse, bucket keys in canonical order and each
    /// in the slot its hash names at this depth, below the path's slots. Never allocates more than the block's size
    /// can justify.
    ///
    /// # Errors
    ///
    /// A [`NodeError`] that says what is wrong and where.
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{LinkFormat, Node, NodeError};
    ///
    /// let bytes = Node::default().encode(LinkFormat::Cid);
    /// assert!(Node::decode(&bytes, &[]).is_ok());
    /// assert_eq!(Node::decode(&bytes[..100], &[]), Err(NodeError::Truncated));
    /// assert_eq!(Node::decode(&bytes, &[0; 32]), Err(NodeError::TooDeep));
    /// ```
    pub fn decode(bytes: &[u8], path: &[u8]) -> Result<Node, NodeError> {
        Self::decode_checking(bytes, path, true)
    }

    /// [`decode`](Self::decode), checking that every key sits in the slot its hash names only if `placement` is
    /// set: a map skips that check (a BLAKE3 hash per key) for a block it has already checked at the same path,
    /// since equal ids mean equal bytes.
    pub(crate) fn decode_checking(bytes: &[u8], path: &[u8], placement: bool) -> Result<Node, NodeError> {
        if path.len() >= MAX_DEPTH {
            return Err(NodeError::TooDeep);
        }
        let depth = path.len();
        let mut reader = Reader { bytes, at: 0 };
        let (major, count, at) = reader.head()?;
        if major != 4 {
            return Err(NodeError::Unexpected { at, expected: "an array of 256 slots" });
        }
        if count != SLOTS as u64 {
            return Err(NodeError::WrongSlotCount { found: count });
        }
        let mut node = Node::default();
        for index in 0..=u8::MAX {
            let (major, length, at) = reader.head()?;
            match major {
                5 if length == 0 => {}
                5 => {
                    // Every entry takes at least two bytes (a key head and a link head), so a length the block
                    // cannot hold is refused before anything is reserved.
                    if length > (reader.remaining() / 2) as u64 {
                        return Err(NodeError::Truncated);
                    }
                    let mut entries: Vec<(String, Cid)> = Vec::with_capacity(length as usize);
                    for _ in 0..length {
                        let key = reader.text(index)?;
                        let cid = reader.link(RAW)?;
                        if let Some((previous, _)) = entries.last()
                            && canonical_order(previous, &key) != std::cmp::Ordering::Less
                        {
                            return Err(NodeError::UnsortedBucket { slot: index });
                        }
                        if placement {
                            let hash = key_hash(&key);
                            if hash[..depth] != *path || hash[depth] != index {
                                return Err(NodeError::KeyInWrongSlot { slot: index, key });
                            }
                        }
                        entries.push((key, cid));
                    }
                    node.push_slot(index, Slot::Bucket(entries));
                }
                4 if length == 1 => {
                    if depth + 1 >= MAX_DEPTH {
                        return Err(NodeError::TooDeep);
                    }
                    node.push_slot(index, Slot::Link(Box::new(Link::new(reader.link(DAG_CBOR)?))));
                }
                _ => return Err(NodeError::Unexpected { at, expected: "a bucket (map) or a link (array of one)" }),
            }
        }
        if reader.remaining() != 0 {
            return Err(NodeError::TrailingBytes { at: reader.at });
        }
        Ok(node)
    }
}

/// Writes a CBOR head: the major type and the shortest encoding of `value`.
pub(crate) fn write_head(out: &mut Vec<u8>, major: u8, value: u64) {
    let major = major << 5;
    match value {
        0..=23 => out.push(major | value as u8),
        24..=0xff => out.extend_from_slice(&[major | 24, value as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&(value as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend_from_slice(&(value as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend_from_slice(&value.to_be_bytes());
        }
    }
}

fn write_link(out: &mut Vec<u8>, cid: &Cid, links: LinkFormat) {
    let hash = cid.hash();
    // The links this crate writes are BLAKE3-256 CIDv1s with one-byte codecs: written directly, byte for byte what
    // the general path below writes (the multihash's code and size are one-byte varints).
    if hash.code() == BLAKE3 && hash.size() == 32 && cid.version() == cid::Version::V1 && cid.codec() < 0x80 {
        let digest = hash.digest();
        match links {
            LinkFormat::Cid => out.extend_from_slice(&[0xd8, 0x2a, 0x58, 37, 0, 1, cid.codec() as u8, 0x1e, 32]),
            LinkFormat::Multihash => out.extend_from_slice(&[0x58, 34, 0x1e, 32]),
        }
        out.extend_from_slice(digest);
        return;
    }
    match links {
        LinkFormat::Cid => {
            // Tag 42, then a byte string: the identity multibase prefix (a zero byte) and the CID's binary form.
            out.extend_from_slice(&[0xd8, 0x2a]);
            write_head(out, 2, cid.encoded_len() as u64 + 1);
            out.push(0);
        }
        LinkFormat::Multihash => write_head(out, 2, cid.hash().encoded_len() as u64),
    }
    // Writing to a `Vec` cannot fail, and every CID and multihash held here was built or parsed whole.
    let written = match links {
        LinkFormat::Cid => cid.write_bytes(&mut *out).is_ok(),
        LinkFormat::Multihash => cid.hash().write(&mut *out).is_ok(),
    };
    debug_assert!(written, "writing a link to a Vec failed");
}

/// The content of `block` if it is exactly one DAG-CBOR byte string (its head in the shortest form, nothing after
/// it); `None` otherwise. The value decoder reads the common value this way, leaving every other block to the
/// general decoder.
pub(crate) fn lone_byte_string(block: &[u8]) -> Option<&[u8]> {
    let mut reader = Reader { bytes: block, at: 0 };
    let content = reader.byte_string(2, "a byte string").ok()?;
    (reader.remaining() == 0).then_some(content)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, count: usize) -> Result<&'a [u8], NodeError> {
        if count > self.remaining() {
            return Err(NodeError::Truncated);
        }
        let taken = &self.bytes[self.at..self.at + count];
        self.at += count;
        Ok(taken)
    }

    /// A CBOR head: major type, argument, and where it started. Indefinite lengths, reserved values and arguments
    /// that are not in their shortest form are refused, as DAG-CBOR requires.
    fn head(&mut self) -> Result<(u8, u64, usize), NodeError> {
        let at = self.at;
        let first = self.take(1)?[0];
        let (major, info) = (first >> 5, first & 0x1f);
        let value = match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.take(1)?[0]),
            25 => u64::from(u16::from_be_bytes([self.take(1)?[0], self.take(1)?[0]])),
            26 => {
                let bytes = self.take(4)?;
                u64::from(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
            }
            27 => {
                let bytes = self.take(8)?;
                let mut array = [0; 8];
                array.copy_from_slice(bytes);
                u64::from_be_bytes(array)
            }
            _ => return Err(NodeError::Unexpected { at, expected: "a definite length" }),
        };
        let minimal = match info {
            24 => value >= 24,
            25 => value > 0xff,
            26 => value > 0xffff,
            27 => value > 0xffff_ffff,
            _ => true,
        };
        if !minimal {
            return Err(NodeError::NotMinimal { at });
        }
        Ok((major, value, at))
    }

    fn byte_string(&mut self, major_wanted: u8, expected: &'static str) -> Result<&'a [u8], NodeError> {
        let (major, length, at) = self.head()?;
        if major != major_wanted {
            return Err(NodeError::Unexpected { at, expected });
        }
        let length = usize::try_from(length).map_err(|_| NodeError::Truncated)?;
        self.take(length)
    }

    fn text(&mut self, slot: u8) -> Result<String, NodeError> {
        let bytes = self.byte_string(3, "a key (text)")?;
        match std::str::from_utf8(bytes) {
            Ok(key) => Ok(key.to_owned()),
            Err(_) => Err(NodeError::KeyNotUtf8 { slot }),
        }
    }

    /// A link: tag 42 around a CID, or a bare multihash (which becomes a CIDv1 of `codec`, the codec its place in
    /// the node implies: DAG-CBOR for children, raw for values).
    fn link(&mut self, codec: u64) -> Result<Cid, NodeError> {
        let at = self.at;
        let bad = NodeError::BadLink { at };
        let (major, value, _) = self.head()?;
        match major {
            6 if value == 42 => {
                let bytes = self.byte_string(2, "a CID (bytes)")?;
                let Some((0, cid_bytes)) = bytes.split_first() else { return Err(bad) };
                let cid = Cid::read_bytes(cid_bytes).map_err(|_| bad.clone())?;
                // Only the one binary form of this CID: varints that overflow or are longer than they need be
                // would let two different blocks decode to the same node. And only the CIDs the format writes
                // (v1, BLAKE3-256, the codec of the link's place), so that every node read can be written in
                // either link form and a block is never reached under a codec it does not have.
                let hash = cid.hash();
                if cid.to_bytes() != cid_bytes
                    || cid.version() != cid::Version::V1
                    || cid.codec() != codec
                    || hash.code() != BLAKE3
                    || hash.size() != 32
                {
                    return Err(bad);
                }
                Ok(cid)
            }
            2 => {
                self.at = at;
                let bytes = self.byte_string(2, "a multihash (bytes)")?;
                let hash = Multihash::<64>::from_bytes(bytes).map_err(|_| bad.clone())?;
                // A bare multihash names no codec of its own, so only py-hamt's (BLAKE3-256) is accepted, in its one
                // binary form.
                if hash.code() != BLAKE3 || hash.size() != 32 || hash.to_bytes() != bytes {
                    return Err(bad);
                }
                Ok(Cid::new_v1(codec, hash))
            }
            _ => Err(NodeError::Unexpected { at, expected: "a link (tag 42 or a multihash)" }),
        }
    }
}

#[cfg(test)]
mod tests;
