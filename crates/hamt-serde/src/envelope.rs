//! The binary form: a header, the records of every version, and a trailer with the body's length and a checksum.
//! docs/format.md specifies it byte by byte.

use std::hash::{BuildHasher, Hash};
use std::io::{self, Write};

use hamt_core::{HamtMap, PointerKind};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{DecodeError, EncodeError, Kind};
use crate::record::{Body, Delta, Replay, Sink, Source, known_to_fit_compact, write_entries};

/// The first four bytes of every encoding.
pub(crate) const MAGIC: [u8; 4] = *b"HAMT";
/// The format version this release writes, and the only one it reads so far.
pub(crate) const FORMAT: u8 = 1;
/// Flag bit 0: the versions are sets, and their entries are keys alone.
pub(crate) const FLAG_SET: u8 = 0b0000_0001;
/// Flag bit 1: the body is self-describing (keys and values are CBOR items) instead of compact (postcard).
pub(crate) const FLAG_SELF_DESCRIBING: u8 = 0b0000_0010;
/// The flags this release knows; a set bit outside them is refused.
pub(crate) const KNOWN_FLAGS: u8 = FLAG_SET | FLAG_SELF_DESCRIBING;
/// Magic, format version, flags, and the version count as a little-endian `u32`.
pub(crate) const HEADER_LEN: usize = 10;
/// The body's length as a little-endian `u64`, and the CRC-32 of the header and the body as a little-endian `u32`.
pub(crate) const TRAILER_LEN: usize = 12;

/// The flags byte for versions of this kind in this body.
pub(crate) fn flags_of(kind: Kind, body: Body) -> u8 {
    let kind = match kind {
        Kind::Map => 0,
        Kind::Set => FLAG_SET,
    };
    let body = match body {
        Body::Compact => 0,
        Body::SelfDescribing => FLAG_SELF_DESCRIBING,
    };
    kind | body
}

/// The kind and the body a flags byte (with no unknown bit set) names.
pub(crate) fn parse_flags(flags: u8) -> (Kind, Body) {
    let kind = if flags & FLAG_SET != 0 { Kind::Set } else { Kind::Map };
    let body = if flags & FLAG_SELF_DESCRIBING != 0 { Body::SelfDescribing } else { Body::Compact };
    (kind, body)
}

/// Whether an error of the compact body is one the self-describing body may not have: a key or a value that
/// postcard cannot write, or cannot read back as itself.
pub(crate) fn self_describing_may_help(error: &EncodeError) -> bool {
    matches!(error, EncodeError::Serialize { .. } | EncodeError::Unreadable { .. } | EncodeError::Mismatch { .. })
}

/// Writes the whole binary form of `versions` to `out`, or returns it if there is no writer, in the compact body
/// if every key and value reads back from it as itself, and in the self-describing body otherwise.
///
/// Into a buffer, the compact body is written and checked as it goes, and the self-describing one written instead
/// if a check fails. To a writer, nothing can be taken back, so a first pass writes the compact body to nowhere
/// (in chunks, so memory stays bounded) to find out whether it fits, and a second pass writes the chosen body;
/// the first pass is skipped for key and value types known to fit.
pub(crate) fn write<K, V, P, S>(
    out: Option<&mut dyn Write>,
    versions: &[&HamtMap<K, V, P, S>],
    parents: Parents<'_>,
    kind: Kind,
) -> Result<Vec<u8>, EncodeError>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: PartialEq + Serialize + DeserializeOwned,
    P: PointerKind,
    S: BuildHasher,
{
    let compact_fits = match out {
        None => {
            let mut sink = Sink::buffer(Body::Compact);
            match encode(&mut sink, versions, parents, kind) {
                Ok(()) => return sink.finish(),
                Err(error) if self_describing_may_help(&error) => false,
                Err(error) => return Err(error),
            }
        }
        Some(_) if known_to_fit_compact::<K, V>() => true,
        Some(_) => {
            let mut nowhere = io::sink();
            let mut trial = Sink::writer(&mut nowhere, Body::Compact);
            match encode(&mut trial, versions, parents, kind) {
                Ok(()) => true,
                Err(error) if self_describing_may_help(&error) => false,
                Err(error) => return Err(error),
            }
        }
    };
    let body = if compact_fits { Body::Compact } else { Body::SelfDescribing };
    let mut sink = match out {
        None => Sink::buffer(body),
        Some(writer) => Sink::writer(writer, body),
    };
    encode(&mut sink, versions, parents, kind)?;
    sink.finish()
}

/// Which earlier version each version is written against.
#[derive(Clone, Copy)]
pub(crate) enum Parents<'p> {
    /// The version before, or an ancestor of it (the version that one was written against, and so on, up to
    /// [`ANCESTORS_TRIED`] candidates) when the delta against it is smaller.
    Nearest,
    /// The parent of each version as the caller named it; `None` for the empty map (always for version 0).
    Named(&'p [Option<usize>]),
}

/// How many candidates [`Parents::Nearest`] tries for each version: enough to find the common base of a list of
/// variants (where the version before is a sibling, and its parent the base), and few enough that writing a list
/// of unrelated versions costs a bounded number of extra diffs, each cut short as soon as it cannot win.
const ANCESTORS_TRIED: usize = 4;

/// Writes the whole binary form of `versions` to `sink`, in the sink's body.
fn encode<K, V, P, S>(
    sink: &mut Sink<'_>,
    versions: &[&HamtMap<K, V, P, S>],
    parents: Parents<'_>,
    kind: Kind,
) -> Result<(), EncodeError>
where
    K: Hash + Eq + Serialize + DeserializeOwned,
    V: PartialEq + Serialize + DeserializeOwned,
    P: PointerKind,
    S: BuildHasher,
{
    let count = u32::try_from(versions.len()).map_err(|_| EncodeError::TooManyVersions)?;
    sink.bytes(&MAGIC);
    sink.bytes(&[FORMAT, flags_of(kind, sink.body())]);
    sink.bytes(&count.to_le_bytes());
    let body_start = sink.position();
    let mut chosen: Vec<Option<usize>> = Vec::with_capacity(versions.len());
    for (index, version) in versions.iter().enumerate() {
        if index == 0 {
            write_entries(sink, version)?;
            chosen.push(None);
            continue;
        }
        let (parent, delta) = match parents {
            Parents::Named(named) => {
                let parent = named[index];
                (parent, parent.map(|parent| Delta::between(versions[parent], version)))
            }
            Parents::Nearest => {
                let (parent, delta) = nearest(versions, &chosen, index);
                (Some(parent), Some(delta))
            }
        };
        match (parent, delta) {
            (Some(parent), Some(delta)) => {
                assert!(parent < index, "version {index} names parent {parent}, which is not an earlier version");
                sink.varint((index - parent) as u64);
                delta.write(sink)?;
            }
            _ => {
                sink.varint(0);
                sink.varint(0);
                write_entries(sink, version)?;
            }
        }
        chosen.push(parent);
        sink.flush_if_full()?;
    }
    let body_len = sink.position() - body_start;
    sink.bytes(&body_len.to_le_bytes());
    let checksum = sink.checksum();
    sink.bytes(&checksum.to_le_bytes());
    Ok(())
}

/// The parent for version `index` among the version before it and that version's ancestors (as `chosen` records
/// them), with the smallest delta; the first candidate wins ties.
fn nearest<'a, K, V, P, S>(
    versions: &[&'a HamtMap<K, V, P, S>],
    chosen: &[Option<usize>],
    index: usize,
) -> (usize, Delta<'a, K, V>)
where
    K: Hash + Eq,
    V: PartialEq,
    P: PointerKind,
    S: BuildHasher,
{
    let version = versions[index];
    let mut best = (index - 1, Delta::between(versions[index - 1], version));
    let mut candidate = chosen[index - 1];
    for _ in 1..ANCESTORS_TRIED {
        let Some(parent) = candidate.filter(|_| best.1.len() > 0) else { break };
        if let Some(delta) = Delta::smaller_than(versions[parent], version, best.1.len()) {
            best = (parent, delta);
        }
        candidate = chosen[parent];
    }
    best
}

/// An envelope's content, once checked.
pub(crate) struct Opened<'b> {
    pub(crate) count: usize,
    pub(crate) body: &'b [u8],
    pub(crate) encoding: Body,
}

/// Checks the envelope of `bytes` and returns the version count and the body.
pub(crate) fn open(bytes: &[u8], expected: Kind) -> Result<Opened<'_>, DecodeError> {
    if bytes.len() >= MAGIC.len() && bytes[..MAGIC.len()] != MAGIC {
        return Err(DecodeError::BadMagic);
    }
    if bytes.len() < HEADER_LEN + TRAILER_LEN {
        // Input of four bytes or more has passed the magic check above; a shorter one must be a prefix of it.
        let magic_so_far = bytes.len() >= MAGIC.len() || MAGIC.starts_with(bytes);
        return Err(if magic_so_far { DecodeError::Truncated } else { DecodeError::BadMagic });
    }
    let (format, flags) = (bytes[4], bytes[5]);
    if format != FORMAT {
        return Err(DecodeError::UnsupportedFormat { version: format });
    }
    let (covered, trailer) = bytes.split_at(bytes.len() - TRAILER_LEN);
    let declared = u64::from_le_bytes(trailer[..8].try_into().expect("eight bytes"));
    let actual = (covered.len() - HEADER_LEN) as u64;
    if declared != actual {
        return Err(DecodeError::LengthMismatch { declared, actual });
    }
    let expected_checksum = u32::from_le_bytes(trailer[8..].try_into().expect("four bytes"));
    let mut checksum = crc32fast::Hasher::new();
    checksum.update(covered);
    checksum.update(&trailer[..8]);
    let actual_checksum = checksum.finalize();
    if expected_checksum != actual_checksum {
        return Err(DecodeError::ChecksumMismatch { expected: expected_checksum, actual: actual_checksum });
    }
    if flags & !KNOWN_FLAGS != 0 {
        return Err(DecodeError::UnknownFlags { flags });
    }
    let (found, encoding) = parse_flags(flags);
    if found != expected {
        return Err(DecodeError::WrongKind { expected, found });
    }
    let count = u32::from_le_bytes(bytes[6..10].try_into().expect("four bytes"));
    let body = &covered[HEADER_LEN..];
    // Every record takes at least one byte.
    if count as usize > body.len() {
        return Err(DecodeError::LengthTooLarge { version: 0, claimed: count.into(), remaining: body.len() });
    }
    Ok(Opened { count: count as usize, body, encoding })
}

/// Decodes the versions of a body holding `count` records, with the parent each was written against.
pub(crate) fn decode_body<K, V, P, S>(opened: Opened<'_>) -> Result<Decoded<K, V, P, S>, DecodeError>
where
    K: Hash + Eq + Clone + DeserializeOwned,
    V: Clone + DeserializeOwned,
    P: PointerKind,
    S: BuildHasher + Clone + Default,
{
    let replay = Replay::new();
    let mut source = Source::new(opened.body, opened.encoding);
    let mut decoded = Decoded { versions: Vec::new(), parents: Vec::new() };
    for index in 0..opened.count {
        source.version = index;
        let (version, parent) = read_record(&mut source, &replay, &decoded.versions)?;
        decoded.versions.push(version);
        decoded.parents.push(parent);
    }
    match source.remaining() {
        0 => Ok(decoded),
        count => Err(DecodeError::TrailingBytes { count }),
    }
}

/// Versions as decoded, with the parent each one's record names.
pub(crate) struct Decoded<K, V, P: PointerKind, S> {
    pub(crate) versions: Vec<HamtMap<K, V, P, S>>,
    pub(crate) parents: Vec<Option<usize>>,
}

/// A decoded version and the parent its record names.
pub(crate) type WithParent<K, V, P, S> = (HamtMap<K, V, P, S>, Option<usize>);

/// Reads the record of version `source.version`, whose earlier versions are `earlier`.
pub(crate) fn read_record<K, V, P, S>(
    source: &mut Source<'_>,
    replay: &Replay<K, V, P, S>,
    earlier: &[HamtMap<K, V, P, S>],
) -> Result<WithParent<K, V, P, S>, DecodeError>
where
    K: Hash + Eq + Clone + DeserializeOwned,
    V: Clone + DeserializeOwned,
    P: PointerKind,
    S: BuildHasher + Clone + Default,
{
    let index = source.version;
    let parent = if index == 0 {
        None
    } else {
        match source.varint()? {
            0 => None,
            distance => match usize::try_from(distance) {
                Ok(distance) if distance <= index => Some(index - distance),
                _ => return Err(DecodeError::BadParent { version: index, distance }),
            },
        }
    };
    let removed: Vec<K> = if index == 0 {
        Vec::new()
    } else {
        let count = source.count()?;
        source.list(count, Source::item)?
    };
    let count = source.count()?;
    let upserted: Vec<(K, V)> = source.list(count, Source::entry)?;
    let version = replay.version(parent.map(|parent| &earlier[parent]), removed, upserted, index)?;
    Ok((version, parent))
}
