//! Version records: one version written as its entries, or as a delta against an earlier version, and read back.
//!
//! A record is the unit every form shares: the binary envelope holds a run of them, a [`VersionLog`] holds one per
//! checksummed frame, and [`VersionSet`]'s serde form holds the same three parts as a struct. Writing a record costs
//! what differs from its parent, because the delta comes from hamt-core's [`diff`](HamtMap::diff), which skips every
//! subtree the two versions share. Reading one replays the delta on a clone of the parent, so that the new version
//! shares every node the delta does not touch, as it did when it was made.
//!
//! [`VersionLog`]: crate::VersionLog
//! [`VersionSet`]: crate::VersionSet

use std::hash::{BuildHasher, Hash};
use std::io::Write;

use hamt_core::{DiffItem, HamtMap, PointerKind};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cbor;
use crate::error::{DecodeError, EncodeError, Part};

/// How keys and values are encoded in a body (docs/format.md, "Bodies").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Body {
    /// postcard 1.x: compact, but not self-describing, so only for types whose `Deserialize` does not ask the
    /// format what comes next.
    Compact,
    /// CBOR (RFC 8949) through ciborium: self-describing, for every type serde's data model can carry.
    SelfDescribing,
}

/// Output is handed to the writer in chunks of about this size, so that streaming an encoding needs a bounded
/// buffer whatever the number of entries.
const FLUSH_AT: usize = 64 * 1024;

/// Where encoded bytes go: a buffer that is either the whole output, or flushed to a writer in chunks. It keeps the
/// CRC-32 of everything written through it.
pub(crate) struct Sink<'w> {
    body: Body,
    buffer: Vec<u8>,
    checksum: crc32fast::Hasher,
    flushed: u64,
    out: Option<&'w mut dyn Write>,
}

impl<'w> Sink<'w> {
    /// A sink whose output is the buffer [`finish`](Self::finish) returns.
    pub(crate) fn buffer(body: Body) -> Self {
        Sink { body, buffer: Vec::new(), checksum: crc32fast::Hasher::new(), flushed: 0, out: None }
    }

    /// A sink that writes to `out` in chunks.
    pub(crate) fn writer(out: &'w mut dyn Write, body: Body) -> Self {
        Sink {
            body,
            buffer: Vec::with_capacity(FLUSH_AT + 1024),
            checksum: crc32fast::Hasher::new(),
            flushed: 0,
            out: Some(out),
        }
    }

    /// How many bytes went through the sink.
    pub(crate) fn position(&self) -> u64 {
        self.flushed + self.buffer.len() as u64
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Writes `value` as a LEB128 varint, as postcard writes lengths: seven bits a byte, least significant first.
    pub(crate) fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.buffer.push(value as u8 | 0x80);
            value >>= 7;
        }
        self.buffer.push(value as u8);
    }

    /// The body this sink writes.
    pub(crate) fn body(&self) -> Body {
        self.body
    }

    /// Writes `value` (a key or a value, as `part` says) in the sink's body, then, if `read_back`, reads it back
    /// from the bytes just written and checks that it is equal to `value` and took exactly those bytes: nothing is
    /// written that would not decode as what it was.
    pub(crate) fn item<T>(&mut self, part: Part, value: &T, read_back: bool) -> Result<(), EncodeError>
    where
        T: Serialize + DeserializeOwned + PartialEq,
    {
        let start = self.buffer.len();
        match self.body {
            Body::Compact => postcard::serialize_with_flavor(value, VecFlavor(&mut self.buffer))
                .map_err(|error| EncodeError::Serialize { part, error: Box::new(error) })?,
            Body::SelfDescribing => ciborium::into_writer(value, &mut self.buffer)
                .map_err(|error| EncodeError::Serialize { part, error: Box::new(error) })?,
        }
        if !read_back {
            return Ok(());
        }
        let mut written = Source::new(&self.buffer[start..], self.body);
        let decoded: T = written.item().map_err(|error| EncodeError::Unreadable {
            part,
            error: match error {
                DecodeError::Entry { error, .. } => error,
                other => Box::new(other),
            },
        })?;
        if written.remaining() != 0 || decoded != *value {
            return Err(EncodeError::Mismatch { part });
        }
        Ok(())
    }

    /// Hands the buffer to the writer if it has grown past a chunk (a buffer sink keeps everything).
    pub(crate) fn flush_if_full(&mut self) -> Result<(), EncodeError> {
        if self.buffer.len() >= FLUSH_AT && self.out.is_some() { self.flush() } else { Ok(()) }
    }

    fn flush(&mut self) -> Result<(), EncodeError> {
        if let Some(out) = self.out.as_mut() {
            self.checksum.update(&self.buffer);
            out.write_all(&self.buffer)?;
            self.flushed += self.buffer.len() as u64;
            self.buffer.clear();
        }
        Ok(())
    }

    /// The CRC-32 of everything written so far.
    pub(crate) fn checksum(&self) -> u32 {
        let mut checksum = self.checksum.clone();
        checksum.update(&self.buffer);
        checksum.finalize()
    }

    /// Flushes what is left and returns the output of a buffer sink (empty for a writer sink).
    pub(crate) fn finish(mut self) -> Result<Vec<u8>, EncodeError> {
        if self.out.is_some() {
            self.flush()?;
            if let Some(out) = self.out {
                out.flush()?;
            }
        }
        Ok(self.buffer)
    }
}

/// postcard's output, appended to a `Vec` that outlives the call.
struct VecFlavor<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for VecFlavor<'_> {
    type Output = ();

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// The types whose serde implementations are serde's own and which both bodies carry exactly (integers of up to 64
/// bits, `bool`, `char`, `String` and `()`), named as [`std::any::type_name`] names them. Their items need not be
/// read back: the check would cost as much as the encoding, for nothing.
///
/// `type_name` is the only way to recognise a type without asking for `T: 'static`. Its output is not guaranteed
/// to stay the same across compilers; if it changed, a type would merely stop being recognised and its items would
/// be read back, which is slower but as safe. A user's type never has one of these names, since its name starts
/// with its crate's path.
const CARRIED_EXACTLY: &[&str] = &[
    "bool",
    "char",
    "u8",
    "u16",
    "u32",
    "u64",
    "usize",
    "i8",
    "i16",
    "i32",
    "i64",
    "isize",
    "()",
    "alloc::string::String",
];

/// Whether the items of a type must be read back after they are written (see [`Sink::item`]).
fn must_read_back<T: ?Sized>() -> bool {
    !CARRIED_EXACTLY.contains(&std::any::type_name::<T>())
}

/// Whether entries of these key and value types are known to fit the compact body without writing them: their
/// serde implementations are serde's own, which postcard carries exactly and never refuses.
pub(crate) fn known_to_fit_compact<K, V>() -> bool {
    !must_read_back::<K>() && !must_read_back::<V>()
}

/// Writes every entry of `map`: their count, then each key and value.
pub(crate) fn write_entries<K, V, P, S>(sink: &mut Sink<'_>, map: &HamtMap<K, V, P, S>) -> Result<(), EncodeError>
where
    K: Serialize + DeserializeOwned + PartialEq,
    V: Serialize + DeserializeOwned + PartialEq,
    P: PointerKind,
{
    sink.varint(map.len() as u64);
    let read_back = ReadBack::of::<K, V>();
    for (key, value) in map {
        read_back.entry(sink, key, value)?;
        sink.flush_if_full()?;
    }
    Ok(())
}

/// Whether keys and values of these types are read back after they are written, decided once per list.
#[derive(Clone, Copy)]
struct ReadBack {
    key: bool,
    value: bool,
}

impl ReadBack {
    fn of<K, V>() -> Self {
        ReadBack { key: must_read_back::<K>(), value: must_read_back::<V>() }
    }

    fn key<K>(self, sink: &mut Sink<'_>, key: &K) -> Result<(), EncodeError>
    where
        K: Serialize + DeserializeOwned + PartialEq,
    {
        sink.item(Part::Key, key, self.key)
    }

    /// Writes an entry: its key, then its value. In the compact body a set's value, `()`, takes no byte; in the
    /// self-describing body it is CBOR's `null`.
    fn entry<K, V>(self, sink: &mut Sink<'_>, key: &K, value: &V) -> Result<(), EncodeError>
    where
        K: Serialize + DeserializeOwned + PartialEq,
        V: Serialize + DeserializeOwned + PartialEq,
    {
        if self.key || self.value || sink.body != Body::Compact {
            sink.item(Part::Key, key, self.key)?;
            return sink.item(Part::Value, value, self.value);
        }
        // postcard writes a pair as its two halves one after the other, so one call writes the same bytes as two.
        postcard::serialize_with_flavor(&(key, value), VecFlavor(&mut sink.buffer))
            .map_err(|error| EncodeError::Serialize { part: Part::Key, error: Box::new(error) })
    }
}

/// The keys `version` lacks and the entries it adds or changes, against `parent`.
pub(crate) struct Delta<'a, K, V> {
    pub(crate) removed: Vec<&'a K>,
    pub(crate) upserted: Vec<(&'a K, &'a V)>,
}

impl<'a, K, V> Delta<'a, K, V> {
    /// The delta from `parent` to `version`, in time proportional to what differs (shared subtrees are skipped).
    pub(crate) fn between<P, S>(parent: &'a HamtMap<K, V, P, S>, version: &'a HamtMap<K, V, P, S>) -> Self
    where
        K: Hash + Eq,
        V: PartialEq,
        P: PointerKind,
        S: BuildHasher,
    {
        // No delta can hold `usize::MAX` items: they would not fit in memory.
        Self::smaller_than(parent, version, usize::MAX).expect("a delta smaller than usize::MAX items")
    }

    /// The delta from `parent` to `version` if it has fewer than `limit` items; the diff stops as soon as it
    /// reaches `limit`.
    pub(crate) fn smaller_than<P, S>(
        parent: &'a HamtMap<K, V, P, S>,
        version: &'a HamtMap<K, V, P, S>,
        limit: usize,
    ) -> Option<Self>
    where
        K: Hash + Eq,
        V: PartialEq,
        P: PointerKind,
        S: BuildHasher,
    {
        let mut delta = Delta { removed: Vec::new(), upserted: Vec::new() };
        for item in parent.diff(version) {
            if delta.len() + 1 >= limit {
                return None;
            }
            match item {
                DiffItem::Removed(key, _) => delta.removed.push(key),
                DiffItem::Added(key, value) | DiffItem::Changed { key, new: value, .. } => {
                    delta.upserted.push((key, value));
                }
            }
        }
        Some(delta)
    }

    /// How many keys the delta removes or upserts.
    pub(crate) fn len(&self) -> usize {
        self.removed.len() + self.upserted.len()
    }

    /// Writes the removed keys, then the upserted entries, each list preceded by its count.
    pub(crate) fn write(&self, sink: &mut Sink<'_>) -> Result<(), EncodeError>
    where
        K: Serialize + DeserializeOwned + PartialEq,
        V: Serialize + DeserializeOwned + PartialEq,
    {
        let read_back = ReadBack::of::<K, V>();
        sink.varint(self.removed.len() as u64);
        for key in &self.removed {
            read_back.key(sink, *key)?;
        }
        sink.varint(self.upserted.len() as u64);
        for &(key, value) in &self.upserted {
            read_back.entry(sink, key, value)?;
            sink.flush_if_full()?;
        }
        Ok(())
    }
}

/// Reads the parts of records from a body, keeping track of which version it is in for the errors.
pub(crate) struct Source<'b> {
    bytes: &'b [u8],
    body: Body,
    /// The version whose record is being read.
    pub(crate) version: usize,
}

impl<'b> Source<'b> {
    pub(crate) fn new(bytes: &'b [u8], body: Body) -> Self {
        Source { bytes, body, version: 0 }
    }

    /// The bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len()
    }

    /// Reads a LEB128 varint of at most 64 bits.
    pub(crate) fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for (index, &byte) in self.bytes.iter().enumerate().take(10) {
            let bits = u64::from(byte & 0x7f);
            // The tenth byte holds the 64th bit only.
            if index == 9 && byte > 1 {
                return Err(DecodeError::BadVarint { version: self.version });
            }
            value |= bits << (7 * index);
            if byte & 0x80 == 0 {
                self.bytes = &self.bytes[index + 1..];
                return Ok(value);
            }
        }
        // Ten bytes that all continue, or the input ends inside the varint.
        if self.bytes.len() >= 10 {
            Err(DecodeError::BadVarint { version: self.version })
        } else {
            Err(DecodeError::Entry {
                version: self.version,
                error: Box::new(postcard::Error::DeserializeUnexpectedEnd),
            })
        }
    }

    /// Reads a count of items that follow. Every item but one takes at least a byte (only a type with a single
    /// value, such as `()`, can encode in none, and a key of such a type occurs once), so a count larger than the
    /// bytes left plus one is a lie, and is refused before anything is allocated or looped over for it.
    pub(crate) fn count(&mut self) -> Result<usize, DecodeError> {
        let claimed = self.varint()?;
        let remaining = self.remaining();
        match usize::try_from(claimed) {
            Ok(count) if count <= remaining.saturating_add(1) => Ok(count),
            _ => Err(DecodeError::LengthTooLarge { version: self.version, claimed, remaining }),
        }
    }

    /// Reads an entry: a key, then a value.
    pub(crate) fn entry<K: DeserializeOwned, V: DeserializeOwned>(&mut self) -> Result<(K, V), DecodeError> {
        Ok((self.item()?, self.item()?))
    }

    /// Reads one key or value, in the body's encoding.
    pub(crate) fn item<T: DeserializeOwned>(&mut self) -> Result<T, DecodeError> {
        let version = self.version;
        match self.body {
            Body::Compact => {
                let (value, rest) = postcard::take_from_bytes(self.bytes)
                    .map_err(|error| DecodeError::Entry { version, error: Box::new(error) })?;
                self.bytes = rest;
                Ok(value)
            }
            Body::SelfDescribing => {
                // The item's extent is found first, checking every length it claims against the bytes that are
                // there, so that ciborium is never asked to reserve room for more than the input holds.
                let length = cbor::item_length(self.bytes).map_err(|error| error.at(version))?;
                let (mut item, rest) = self.bytes.split_at(length);
                let value = ciborium::from_reader(&mut item)
                    .map_err(|error| DecodeError::Entry { version, error: Box::new(error) })?;
                if !item.is_empty() {
                    return Err(DecodeError::Entry { version, error: Box::new(cbor::Malformed::Unread) });
                }
                self.bytes = rest;
                Ok(value)
            }
        }
    }

    /// Reads `count` keys or entries, each with `read`. The vector grows with the values actually read.
    pub(crate) fn list<T>(
        &mut self,
        count: usize,
        read: impl Fn(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        // Room is reserved for no more items than the bytes left could hold, and for no more bytes than are left:
        // beyond that the vector grows with the items actually read.
        let room = self.remaining() / std::mem::size_of::<T>().max(1) + 1;
        let mut items = Vec::with_capacity(count.min(room));
        for _ in 0..count {
            items.push(read(self)?);
        }
        Ok(items)
    }
}

/// Builds versions from decoded records, so that they share what their updates left untouched.
///
/// Every version read from one input is derived from the same empty map, so all of them share one hasher (and,
/// for a stateful hasher, one identity): equality, diff and the set operations between them take the structural
/// fast paths.
pub(crate) struct Replay<K, V, P: PointerKind, S> {
    empty: HamtMap<K, V, P, S>,
}

impl<K, V, P, S> Replay<K, V, P, S>
where
    K: Hash + Eq + Clone,
    V: Clone,
    P: PointerKind,
    S: BuildHasher + Clone + Default,
{
    pub(crate) fn new() -> Self {
        Replay { empty: HamtMap::with_hasher(S::default()) }
    }

    /// A version made of `entries`, which must hold distinct keys.
    pub(crate) fn full(&self, entries: Vec<(K, V)>, version: usize) -> Result<HamtMap<K, V, P, S>, DecodeError> {
        let count = entries.len();
        let mut map = self.empty.clone();
        map.extend(entries);
        if map.len() == count { Ok(map) } else { Err(DecodeError::DuplicateKey { version }) }
    }

    /// The version a record describes: `parent` (or the empty map) without the `removed` keys, with the
    /// `upserted` entries.
    pub(crate) fn version(
        &self,
        parent: Option<&HamtMap<K, V, P, S>>,
        removed: Vec<K>,
        upserted: Vec<(K, V)>,
        version: usize,
    ) -> Result<HamtMap<K, V, P, S>, DecodeError> {
        match parent {
            Some(parent) => self.delta(parent, removed, upserted, version),
            None if removed.is_empty() => self.full(upserted, version),
            // Nothing can be removed from the empty map.
            None => Err(DecodeError::AbsentKey { version }),
        }
    }

    /// `parent` without the `removed` keys (which it must hold), and with the `upserted` entries (whose keys must
    /// be distinct, and not among the removed).
    fn delta(
        &self,
        parent: &HamtMap<K, V, P, S>,
        removed: Vec<K>,
        upserted: Vec<(K, V)>,
        version: usize,
    ) -> Result<HamtMap<K, V, P, S>, DecodeError> {
        let mut map = parent.clone();
        for key in &removed {
            if map.remove_mut(key).is_none() {
                return Err(DecodeError::AbsentKey { version });
            }
        }
        // Two or more upserts are checked for distinct keys by building them into a map first.
        let upserted = if upserted.len() > 1 { self.full(upserted, version)?.into_iter().collect() } else { upserted };
        for (key, value) in upserted {
            let in_parent = parent.contains_key(&key);
            let replaced = map.insert_mut(key, value).is_some();
            // A key of the parent that is no longer in the map was removed by this same record.
            if in_parent != replaced {
                return Err(DecodeError::DuplicateKey { version });
            }
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests;
