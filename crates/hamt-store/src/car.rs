//! CARv1 files (IPFS's content-addressed archives): several versions of maps in one file, every shared block once.
//!
//! A CAR file is a header, the DAG-CBOR map `{"roots": [CID, ...], "version": 1}`, followed by one frame per block:
//! `varint(length) CID block`, where the varint is unsigned LEB128 and `length` counts the CID's bytes and the
//! block's: the format `ipfs dag import` reads. The tests check both directions against an independent
//! implementation (iroh-car), which writes the same bytes for the same blocks. The layout is specified in
//! docs/store-format.md.
//!
//! # Examples
//!
//! ```
//! use hamt_store::{MemoryStore, StoredMap, car};
//!
//! let store = MemoryStore::new();
//! let mut map = StoredMap::new(&store);
//! map.insert("a".to_owned(), b"1".to_vec().into())?;
//! let root = map.flush()?;
//!
//! let mut file = Vec::new();
//! let written = car::export(&store, [root], &mut file)?;
//! assert_eq!((written.blocks, written.bytes), (2, file.len() as u64));
//!
//! let elsewhere = MemoryStore::new();
//! assert_eq!(car::import(&elsewhere, file.as_slice())?, vec![root]);
//! assert_eq!(StoredMap::load(&elsewhere, root)?.get("a")?, Some(b"1".to_vec().into()));
//! # Ok::<(), car::CarError>(())
//! ```

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashSet};
use std::error::Error;
use std::fmt;
use std::io::{self, BufReader, BufWriter, Read, Write};

use bytes::Bytes;
use cid::Cid;
use ipld_core::ipld::Ipld;

use crate::gc::{Values, walk};
use crate::{Blockstore, StoreError, verify_block};

/// The largest section (header, or frame of a CID and a block) that [`import`] reads and [`export`] writes: 32 MiB,
/// far above any node and any value a stored map is meant for, and small enough that a length beyond it is refused
/// before anything is read or reserved.
pub const MAX_FRAME_BYTES: u64 = 32 << 20;

/// The longest varint a length may take: 9 bytes carry 63 bits, the most the multiformats varint allows.
const MAX_VARINT_BYTES: u32 = 9;

/// How many imported blocks are gathered before one `put_many` call writes them, and how many bytes at most.
const IMPORT_BATCH_BLOCKS: usize = 256;
const IMPORT_BATCH_BYTES: usize = 8 << 20;

/// What [`export`] wrote.
///
/// # Examples
///
/// ```
/// use hamt_store::{MemoryStore, StoredMap, car};
///
/// let store = MemoryStore::new();
/// let root = StoredMap::new(&store).flush()?;
/// let mut file = Vec::new();
/// let written = car::export(&store, [root], &mut file)?;
/// assert_eq!(written, car::ExportStats { blocks: 1, bytes: file.len() as u64 });
/// # Ok::<(), car::CarError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportStats {
    /// The number of blocks (frames) written.
    pub blocks: usize,
    /// The number of bytes written, header included.
    pub bytes: u64,
}

/// Why a CAR file could not be written or read.
///
/// Offsets (`at`) are byte positions in the file.
///
/// # Examples
///
/// ```
/// use hamt_store::{MemoryStore, car::{self, CarError}};
///
/// // A header that claims 2^40 bytes is refused before anything is reserved for it.
/// let file = [0x80, 0x80, 0x80, 0x80, 0x80, 0x20];
/// assert!(matches!(car::import(&MemoryStore::new(), &file[..]), Err(CarError::TooLarge { at: 0, .. })));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum CarError {
    /// Reading or writing the file failed.
    Io(io::Error),
    /// The store failed, or the blocks are wrong: a block whose bytes do not hash to its id
    /// ([`StoreError::HashMismatch`]), a node that does not decode ([`StoreError::BadNode`]), a block that a root
    /// reaches and neither the file nor the store holds ([`StoreError::MissingBlock`]).
    Store(StoreError),
    /// The file ends in the middle of a varint, the header or a frame.
    Truncated {
        /// Where the unfinished item starts.
        at: u64,
    },
    /// A varint is longer than 9 bytes or not in its shortest form.
    BadVarint {
        /// Where the varint starts.
        at: u64,
    },
    /// A header or frame is longer than [`MAX_FRAME_BYTES`].
    TooLarge {
        /// Where its length starts.
        at: u64,
        /// The length it claims.
        length: u64,
    },
    /// The header is not the DAG-CBOR map `{"roots": [CID, ...], "version": 1}`.
    BadHeader {
        /// What the header should have held.
        expected: &'static str,
    },
    /// The header names a CAR version other than 1 (version 2 wraps a version 1 file in an index, and is not read).
    UnsupportedVersion {
        /// The version the header names.
        version: i128,
    },
    /// The header names no root, or [`export`] was given none: CARv1 requires at least one.
    NoRoots,
    /// A frame does not start with a valid CID.
    BadCid {
        /// Where the frame's length starts.
        at: u64,
    },
}

impl fmt::Display for CarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CarError::Io(_) => f.write_str("reading or writing the CAR file failed"),
            CarError::Store(_) => f.write_str("the blocks of the CAR file could not be read or stored"),
            CarError::Truncated { at } => write!(f, "the CAR file ends in the item that starts at offset {at}"),
            CarError::BadVarint { at } => {
                write!(f, "the varint at offset {at} is too long or not in its shortest form")
            }
            CarError::TooLarge { at, length } => {
                write!(f, "the section at offset {at} claims {length} bytes, more than the {MAX_FRAME_BYTES} allowed")
            }
            CarError::BadHeader { expected } => write!(f, "the CAR header is not {expected}"),
            CarError::UnsupportedVersion { version } => write!(f, "CAR version {version} is not supported, only 1"),
            CarError::NoRoots => f.write_str("a CAR file needs at least one root"),
            CarError::BadCid { at } => write!(f, "the frame at offset {at} does not start with a valid CID"),
        }
    }
}

impl Error for CarError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            CarError::Io(error) => Some(error),
            CarError::Store(error) => Some(error),
            _ => None,
        }
    }
}

impl From<StoreError> for CarError {
    fn from(error: StoreError) -> Self {
        CarError::Store(error)
    }
}

impl From<io::Error> for CarError {
    fn from(error: io::Error) -> Self {
        CarError::Io(error)
    }
}

/// Writes the versions `roots` of maps in `store`, with every block they reach, to `writer` as a CARv1 file, and
/// returns how many blocks and bytes it wrote.
///
/// The header names the roots in the order given. The blocks follow level by level from the roots down (the roots
/// first, then at each level the nodes and then the values they name); a block that several roots or keys share
/// is written once. Every block is checked against its id as it is read, so a damaged store is never copied into
/// a file.
///
/// Writes go through a buffer of their own; `writer` is flushed at the end. On an error the file is incomplete.
///
/// # Errors
///
/// [`CarError::NoRoots`] if `roots` is empty; [`CarError::Store`] with [`StoreError::MissingBlock`],
/// [`StoreError::HashMismatch`], [`StoreError::BadNode`] or [`StoreError::Backend`] if a block is missing or
/// damaged or the store fails; [`CarError::TooLarge`] for a header (of about 800 000 roots) or a block larger than
/// [`MAX_FRAME_BYTES`];
/// [`CarError::Io`] if writing fails.
///
/// # Examples
///
/// Two versions that share most of their blocks, in one file:
///
/// ```
/// use hamt_store::{MemoryStore, StoredMap, car};
///
/// let store = MemoryStore::new();
/// let mut map = StoredMap::new(&store);
/// map.insert("a".to_owned(), b"1".to_vec().into())?;
/// let first = map.flush()?;
/// map.insert("b".to_owned(), b"1".to_vec().into())?;
/// let second = map.flush()?;
///
/// let mut file = Vec::new();
/// let written = car::export(&store, [first, second], &mut file)?;
/// // Two roots and one value block, which both keys of both versions share.
/// assert_eq!(written.blocks, 3);
/// # Ok::<(), car::CarError>(())
/// ```
pub fn export<B: Blockstore + ?Sized, W: Write>(
    store: &B,
    roots: impl IntoIterator<Item = impl Borrow<Cid>>,
    writer: W,
) -> Result<ExportStats, CarError> {
    let roots: Vec<Cid> = roots.into_iter().map(|root| *root.borrow()).collect();
    if roots.is_empty() {
        return Err(CarError::NoRoots);
    }
    let mut out = BufWriter::new(writer);
    let header = encode_header(&roots)?;
    if header.len() as u64 > MAX_FRAME_BYTES {
        return Err(CarError::TooLarge { at: 0, length: header.len() as u64 });
    }
    let mut stats = ExportStats { blocks: 0, bytes: 0 };
    stats.bytes += write_varint(&mut out, header.len() as u64)?;
    out.write_all(&header)?;
    stats.bytes += header.len() as u64;

    let mut written: HashSet<Cid> = HashSet::new();
    walk(store, &roots, Values::Read, |cid, bytes| {
        // A block linked both as a node and as a value is visited as each, and written once.
        if !written.insert(*cid) {
            return Ok(());
        }
        let bytes = bytes.unwrap_or_default();
        let cid_bytes = cid.to_bytes();
        let length = (cid_bytes.len() + bytes.len()) as u64;
        if length > MAX_FRAME_BYTES {
            return Err(CarError::TooLarge { at: stats.bytes, length });
        }
        stats.bytes += write_varint(&mut out, length)?;
        out.write_all(&cid_bytes)?;
        out.write_all(bytes)?;
        stats.bytes += length;
        stats.blocks += 1;
        Ok::<(), CarError>(())
    })?;
    out.flush()?;
    Ok(stats)
}

/// Reads a CARv1 file from `reader` into `store` and returns the roots its header names.
///
/// Every block is checked against its CID before it is stored, and once the file is read, every root is walked in
/// the store to check that the whole version is there and well formed (from the file or from blocks the store
/// already held), so that the roots returned can be loaded. Blocks that no root reaches are stored too; [`gc`]
/// removes them. Lengths are checked against [`MAX_FRAME_BYTES`] before anything is reserved, and a frame's buffer
/// grows only with the bytes that actually arrive. Blocks are written in batches through `put_many`.
///
/// [`gc`]: crate::gc
///
/// # Errors
///
/// [`CarError::Truncated`], [`CarError::BadVarint`], [`CarError::TooLarge`], [`CarError::BadHeader`],
/// [`CarError::UnsupportedVersion`], [`CarError::NoRoots`] or [`CarError::BadCid`] if the file is malformed;
/// [`CarError::Store`] with [`StoreError::HashMismatch`] or [`StoreError::UnsupportedHash`] for a block that does not
/// hash to its CID (only BLAKE3-256 can be checked), with [`StoreError::MissingBlock`] or [`StoreError::BadNode`]
/// if a root's version is incomplete or malformed, or with [`StoreError::Backend`] if the store fails;
/// [`CarError::Io`] if reading fails. The blocks checked before the error may have been stored.
///
/// # Examples
///
/// ```
/// use hamt_store::{MemoryStore, StoredMap, car};
///
/// let store = MemoryStore::new();
/// let root = StoredMap::new(&store).flush()?;
/// let mut file = Vec::new();
/// car::export(&store, [root], &mut file)?;
///
/// // One byte changed in the block: the import refuses it.
/// *file.last_mut().unwrap() ^= 1;
/// let result = car::import(&MemoryStore::new(), file.as_slice());
/// assert!(matches!(result, Err(car::CarError::Store(hamt_store::StoreError::HashMismatch { .. }))));
/// # Ok::<(), car::CarError>(())
/// ```
pub fn import<B: Blockstore + ?Sized, R: Read>(store: &B, reader: R) -> Result<Vec<Cid>, CarError> {
    // Varints are read a byte at a time, so the reader gets a buffer of its own.
    let mut input = Input { reader: BufReader::new(reader), at: 0 };
    let Some(header) = input.section()? else { return Err(CarError::Truncated { at: 0 }) };
    let roots = decode_header(&header)?;

    let mut batch: Vec<(Cid, Bytes)> = Vec::new();
    let mut batch_bytes = 0;
    let mut imported: HashSet<Cid> = HashSet::new();
    loop {
        let at = input.at;
        let Some(mut frame) = input.section()? else { break };
        let mut rest = frame.as_slice();
        let cid = Cid::read_bytes(&mut rest).map_err(|_| CarError::BadCid { at })?;
        verify_block(&cid, rest)?;
        if imported.insert(cid) {
            // The block is the frame without its CID, moved down in place rather than copied.
            frame.drain(..frame.len() - rest.len());
            batch_bytes += frame.len();
            batch.push((cid, Bytes::from(frame)));
        }
        if batch.len() >= IMPORT_BATCH_BLOCKS || batch_bytes >= IMPORT_BATCH_BYTES {
            store.put_many(&batch)?;
            batch.clear();
            batch_bytes = 0;
        }
    }
    if !batch.is_empty() {
        store.put_many(&batch)?;
    }

    // The nodes are read back, checked and decoded; the values need only be there, and most came in the file.
    walk(store, &roots, Values::Name, |cid, bytes| {
        if bytes.is_none() && !imported.contains(cid) && !store.has(cid)? {
            return Err(StoreError::MissingBlock { cid: Box::new(*cid) });
        }
        Ok(())
    })?;
    Ok(roots)
}

/// The header's DAG-CBOR bytes: `{"roots": [...], "version": 1}`, keys in canonical order.
fn encode_header(roots: &[Cid]) -> Result<Vec<u8>, CarError> {
    let header = Ipld::Map(BTreeMap::from([
        ("roots".to_owned(), Ipld::List(roots.iter().copied().map(Ipld::Link).collect())),
        ("version".to_owned(), Ipld::Integer(1)),
    ]));
    // Links and small integers always encode; a failure here could only be a failure to allocate.
    serde_ipld_dagcbor::to_vec(&header)
        .map_err(|error| CarError::Io(io::Error::new(io::ErrorKind::OutOfMemory, error.to_string())))
}

/// The roots a header names, once it is known to be a version 1 header.
fn decode_header(bytes: &[u8]) -> Result<Vec<Cid>, CarError> {
    const SHAPE: &str = "a DAG-CBOR map with \"roots\" and \"version\"";
    let header: Ipld = serde_ipld_dagcbor::from_slice(bytes).map_err(|_| CarError::BadHeader { expected: SHAPE })?;
    let Ipld::Map(mut fields) = header else { return Err(CarError::BadHeader { expected: SHAPE }) };
    // The version is checked first, so that a CARv2 file (whose header has no roots) is named as such.
    match fields.remove("version") {
        Some(Ipld::Integer(1)) => {}
        Some(Ipld::Integer(version)) => return Err(CarError::UnsupportedVersion { version }),
        _ => return Err(CarError::BadHeader { expected: "a header with an integer \"version\"" }),
    }
    let Some(Ipld::List(roots)) = fields.remove("roots") else {
        return Err(CarError::BadHeader { expected: "a header with a list of \"roots\"" });
    };
    if roots.is_empty() {
        return Err(CarError::NoRoots);
    }
    roots
        .into_iter()
        .map(|root| match root {
            Ipld::Link(cid) => Ok(cid),
            _ => Err(CarError::BadHeader { expected: "a header whose roots are CIDs" }),
        })
        .collect()
}

/// Writes `value` as an unsigned LEB128 varint and returns how many bytes it took.
fn write_varint(out: &mut impl Write, mut value: u64) -> Result<u64, CarError> {
    let mut buffer = [0u8; 10];
    let mut length = 0;
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            buffer[length] = byte;
            length += 1;
            break;
        }
        buffer[length] = byte | 0x80;
        length += 1;
    }
    out.write_all(&buffer[..length])?;
    Ok(length as u64)
}

/// The file being imported, with the offset of the next byte.
struct Input<R> {
    reader: R,
    at: u64,
}

impl<R: Read> Input<R> {
    /// One byte, or `None` at the end of the file.
    fn byte(&mut self) -> Result<Option<u8>, CarError> {
        let mut byte = [0u8];
        loop {
            match self.reader.read(&mut byte) {
                Ok(0) => return Ok(None),
                Ok(_) => {
                    self.at += 1;
                    return Ok(Some(byte[0]));
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(CarError::Io(error)),
            }
        }
    }

    /// A length-prefixed section (the header or a frame), or `None` if the file ends cleanly before it.
    fn section(&mut self) -> Result<Option<Vec<u8>>, CarError> {
        let start = self.at;
        let Some(first) = self.byte()? else { return Ok(None) };
        let mut length = u64::from(first & 0x7f);
        let mut last = first;
        let mut count = 1;
        while last & 0x80 != 0 {
            if count == MAX_VARINT_BYTES {
                return Err(CarError::BadVarint { at: start });
            }
            last = self.byte()?.ok_or(CarError::Truncated { at: start })?;
            length |= u64::from(last & 0x7f) << (7 * count);
            count += 1;
        }
        // A last byte of zero after the first adds nothing: the same length has a shorter form.
        if count > 1 && last == 0 {
            return Err(CarError::BadVarint { at: start });
        }
        if length > MAX_FRAME_BYTES {
            return Err(CarError::TooLarge { at: start, length });
        }
        // `take` and `read_to_end` grow the buffer with the bytes that arrive, never to the length claimed.
        let mut section = Vec::new();
        (&mut self.reader).take(length).read_to_end(&mut section)?;
        self.at += section.len() as u64;
        if (section.len() as u64) < length {
            return Err(CarError::Truncated { at: start });
        }
        Ok(Some(section))
    }
}

#[cfg(test)]
mod tests;
