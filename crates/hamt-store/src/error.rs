//! The errors of stores, maps and the node format: each says which block and why.

use std::error::Error;
use std::fmt;

use cid::Cid;

/// Why a store or a stored map could not do what was asked.
///
/// Block ids are boxed so that the error stays small (a `Result` of it is cheap to return on the success path).
///
/// Every variant that concerns one block names it. Bad data (a block whose bytes do not hash to its id, a
/// malformed node, a link to a block the store lacks) is reported here, never by a panic; what was already stored
/// is left as it was.
///
/// # Examples
///
/// ```
/// use hamt_store::{Blockstore, MemoryStore, StoreError, StoredMap};
///
/// let store = MemoryStore::new();
/// let mut map = StoredMap::new(&store);
/// map.insert("a".to_owned(), b"1".to_vec().into())?;
/// let root = map.flush()?;
///
/// // A store that holds other bytes under the root's id.
/// let tampered = MemoryStore::new();
/// tampered.put(&root, b"not a node")?;
/// let damaged = StoredMap::load(&tampered, root);
/// assert!(matches!(damaged, Err(StoreError::HashMismatch { .. })));
/// # Ok::<(), StoreError>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend failed: an I/O error, a database error or a network error.
    Backend {
        /// What the store was doing ("get", "put", "delete", "list", "open"...).
        operation: &'static str,
        /// The backend's own error.
        source: Box<dyn Error + Send + Sync>,
    },
    /// A link names a block that the store does not hold.
    MissingBlock {
        /// The missing block's id.
        cid: Box<Cid>,
    },
    /// A block's bytes do not hash to its id.
    HashMismatch {
        /// The id the block was stored or linked under.
        cid: Box<Cid>,
    },
    /// A backend holds a block larger than it may be read (an object store naming or sending more than
    /// `MAX_BLOCK_BYTES`, 32 MiB); it is refused before more than the limit is held.
    BlockTooLarge {
        /// The block's id.
        cid: Box<Cid>,
        /// The size the backend named, or the bytes it had sent when the limit was passed.
        size: u64,
    },
    /// A block id whose hash function this crate cannot verify (only BLAKE3-256 is supported, as py-hamt writes).
    UnsupportedHash {
        /// The id.
        cid: Box<Cid>,
    },
    /// A node block is not a valid node.
    BadNode {
        /// The node's id, when it has one.
        cid: Option<Box<Cid>>,
        /// What is wrong with it.
        error: NodeError,
    },
    /// A value block does not decode as the map's [`ValueMode`](crate::ValueMode) says it should.
    BadValue {
        /// The value block's id.
        cid: Box<Cid>,
        /// The decoder's message.
        reason: String,
    },
    /// A value cannot be stored in the map's [`ValueMode`](crate::ValueMode): an IPLD value in a map of raw bytes.
    ValueNotBytes {
        /// The key the value was given for.
        key: String,
    },
    /// A value could not be encoded as DAG-CBOR (for instance a float that is NaN or infinite).
    ValueEncoding {
        /// The encoder's message.
        reason: String,
    },
    /// The trie would be deeper than the 32 levels a 256-bit key hash allows (only reachable with corrupted data).
    TooDeep {
        /// The key whose path is too long.
        key: String,
    },
}

impl StoreError {
    /// A backend error, for implementors of [`Blockstore`](crate::Blockstore).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::StoreError;
    ///
    /// let error = StoreError::backend("get", std::io::Error::other("disk on fire"));
    /// assert_eq!(error.to_string(), "the block store failed to get");
    /// ```
    pub fn backend(operation: &'static str, source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        StoreError::Backend { operation, source: source.into() }
    }

    pub(crate) fn bad_node(cid: Option<Cid>, error: NodeError) -> Self {
        StoreError::BadNode { cid: cid.map(Box::new), error }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Backend { operation, .. } => write!(f, "the block store failed to {operation}"),
            StoreError::MissingBlock { cid } => write!(f, "block {cid} is not in the store"),
            StoreError::HashMismatch { cid } => write!(f, "the bytes of block {cid} do not hash to its id"),
            StoreError::BlockTooLarge { cid, size } => {
                write!(f, "block {cid} is {size} bytes, more than a block may be")
            }
            StoreError::UnsupportedHash { cid } => {
                write!(f, "block {cid} uses hash code {:#x}; only BLAKE3-256 can be verified", cid.hash().code())
            }
            StoreError::BadNode { cid: Some(cid), .. } => write!(f, "block {cid} is not a valid node"),
            StoreError::BadNode { cid: None, .. } => f.write_str("the bytes are not a valid node"),
            StoreError::BadValue { cid, reason } => write!(f, "value block {cid} does not decode: {reason}"),
            StoreError::ValueNotBytes { key } => {
                write!(f, "the value of key {key:?} is not bytes, and the map stores values as raw bytes")
            }
            StoreError::ValueEncoding { reason } => write!(f, "the value cannot be encoded as DAG-CBOR: {reason}"),
            StoreError::TooDeep { key } => write!(f, "the path of key {key:?} is deeper than 32 levels"),
        }
    }
}

impl Error for StoreError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            StoreError::Backend { source, .. } => Some(&**source),
            StoreError::BadNode { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// What is wrong with a node block. Positions are byte offsets into the block.
///
/// # Examples
///
/// See [`Node::decode`](crate::Node::decode).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeError {
    /// The block ended in the middle of an item.
    Truncated,
    /// Bytes follow the node's array.
    TrailingBytes {
        /// Where the extra bytes start.
        at: usize,
    },
    /// An item is not what the format allows at this place (the message says what was expected).
    Unexpected {
        /// Where the item starts.
        at: usize,
        /// What the format expects there.
        expected: &'static str,
    },
    /// A length or integer is not in the shortest form, which DAG-CBOR requires.
    NotMinimal {
        /// Where the item starts.
        at: usize,
    },
    /// The node's array does not have 256 slots.
    WrongSlotCount {
        /// The number of slots the block declares.
        found: u64,
    },
    /// A bucket's keys are not in DAG-CBOR's order (shorter first, then bytewise), or one repeats.
    UnsortedBucket {
        /// The slot.
        slot: u8,
    },
    /// A bucket's key is not valid UTF-8.
    KeyNotUtf8 {
        /// The slot.
        slot: u8,
    },
    /// A key's hash does not lead to the slot and node that hold it.
    KeyInWrongSlot {
        /// The slot.
        slot: u8,
        /// The key.
        key: String,
    },
    /// A link does not parse, or is not one the format writes: a CIDv1 (tag 42) or a bare multihash, either with a
    /// BLAKE3-256 hash, and for a CID the codec of the link's place (DAG-CBOR for a child, raw for a value).
    BadLink {
        /// Where the link starts.
        at: usize,
    },
    /// A node sits deeper than a 256-bit hash allows (32 levels).
    TooDeep,
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeError::Truncated => f.write_str("the block ends in the middle of an item"),
            NodeError::TrailingBytes { at } => write!(f, "bytes follow the node at offset {at}"),
            NodeError::Unexpected { at, expected } => write!(f, "expected {expected} at offset {at}"),
            NodeError::NotMinimal { at } => write!(f, "the length at offset {at} is not in its shortest form"),
            NodeError::WrongSlotCount { found } => write!(f, "the node has {found} slots instead of 256"),
            NodeError::UnsortedBucket { slot } => write!(f, "the bucket in slot {slot} is not in canonical order"),
            NodeError::KeyNotUtf8 { slot } => write!(f, "a key in slot {slot} is not UTF-8"),
            NodeError::KeyInWrongSlot { slot, key } => write!(f, "key {key:?} in slot {slot} does not hash there"),
            NodeError::BadLink { at } => write!(
                f,
                "the link at offset {at} is not a BLAKE3-256 CIDv1 of its place's codec or a BLAKE3-256 multihash"
            ),
            NodeError::TooDeep => f.write_str("the node is deeper than 32 levels"),
        }
    }
}

impl Error for NodeError {}
