//! Many versions of one [`HamtMap`] or [`HamtSet`], saved or sent together with their shared structure stored
//! once, and read back with the sharing restored.
//!
//! Undo histories, audit trails, what-if variants and snapshots are many versions of one map that differ in a few
//! entries each. [`serialize_multiple`] writes the first version's entries once and every later version as a
//! delta (the keys it removes, the entries it adds or changes) against an earlier version. Deltas come from
//! hamt-core's [`diff`](HamtMap::diff), which skips every subtree two versions share, so encoding costs what
//! differs, not the size of each version. [`deserialize_multiple`] replays the deltas as updates of the earlier
//! versions, so the decoded versions share their unchanged nodes again, whatever hasher and seed the reader uses.
//!
//! ```
//! use hamt_core::HamtMap;
//!
//! let base: HamtMap<u64, String> = (0..1_000).map(|i| (i, format!("value {i}"))).collect();
//! let edited = base.insert(7, "edited".to_owned());
//! let trimmed = edited.remove(&8);
//!
//! let bytes = hamt_serde::serialize_multiple(&[&base, &edited, &trimmed]);
//! // The two later versions cost a few bytes each on top of the base.
//! assert!(bytes.len() < hamt_serde::serialize_multiple(&[&base]).len() + 40);
//!
//! let versions: Vec<HamtMap<u64, String>> = hamt_serde::deserialize_multiple(&bytes)?;
//! assert_eq!(versions, [base, edited, trimmed]);
//! # Ok::<(), hamt_serde::DecodeError>(())
//! ```
//!
//! Three forms share one record format (specified byte by byte in `docs/format.md`):
//! - the binary form of [`serialize_multiple`] and [`VersionSet::to_bytes`]: an envelope (magic bytes, format
//!   version, flags, and a CRC-32 checksum) around records whose keys and values are encoded with postcard 1.x,
//!   whose wire format is stable and documented;
//! - [`VersionSet`]'s serde implementations, which carry the same records through any serde format (JSON to read
//!   by eye, postcard, bincode, CBOR), and name the parent of each version, for trees of variants;
//! - [`VersionLog`], an append-only file of versions with one checksummed record per version, which survives a
//!   crash in the middle of an append.
//!
//! Decoding checks everything it reads: bad or hostile bytes give a [`DecodeError`] that says what is wrong, never
//! a panic, and no length read from the input allocates more than the bytes that remain could fill.
//!
//! Plain serde support for a single map or set (as a map or a sequence in any format) is hamt-core's `serde`
//! feature, which this crate turns on.

use std::hash::{BuildHasher, Hash};
use std::io::{Read, Write};

use hamt_core::{HamtMap, HamtSet, PointerKind};
use serde::Serialize;
use serde::de::DeserializeOwned;

mod envelope;
mod error;
mod log;
mod record;
mod version_set;

pub use error::{DecodeError, EncodeError, Kind};
pub use log::{LogError, VersionLog};
pub use version_set::{VersionSet, Versioned};

use envelope::Parents;
use record::Sink;

/// The README's examples, compiled and run as doctests so that they never rot. They live here because this crate's
/// tests can reach every crate of the workspace (hamt-sync is a dev-dependency).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

/// Encodes `versions`: the first one's entries, then each later version as a delta against the one before it,
/// or against an ancestor of that one (the version it was written against, and so on, a few steps up) when that
/// delta is smaller. A list of what-if variants of one base is therefore written, and decoded, as variants of the
/// base, and a linear history as a chain of small steps.
///
/// Equal versions cost a few bytes each, even ones built separately. To name each version's parent yourself (a
/// tree of versions), use [`VersionSet`]. The bytes decode with [`deserialize_multiple`];
/// docs/format.md specifies them.
///
/// # Complexity
///
/// Writing the first version visits its entries; every later one costs the size of its delta (times the depth of
/// the trie), because subtrees shared with the previous version are skipped. Trying an ancestor costs one more diff,
/// cut short as soon as it cannot give a smaller delta.
///
/// # Panics
///
/// If a key's or a value's `Serialize` implementation fails in postcard (postcard refuses sequences of unknown
/// length, for instance), or if there are more than `u32::MAX` versions. [`try_serialize_multiple`] returns these
/// as errors instead.
///
/// # Examples
///
/// ```
/// use hamt_core::HamtMap;
///
/// let v1: HamtMap<&str, u32> = [("apples", 3)].into();
/// let v2 = v1.insert("pears", 5);
/// let bytes = hamt_serde::serialize_multiple(&[&v1, &v2]);
/// let decoded: Vec<HamtMap<String, u32>> = hamt_serde::deserialize_multiple(&bytes)?;
/// assert_eq!(decoded[1].get("pears"), Some(&5));
/// # Ok::<(), hamt_serde::DecodeError>(())
/// ```
#[must_use]
pub fn serialize_multiple<K, V, P, S>(versions: &[&HamtMap<K, V, P, S>]) -> Vec<u8>
where
    K: Hash + Eq + Serialize,
    V: PartialEq + Serialize,
    P: PointerKind,
    S: BuildHasher,
{
    try_serialize_multiple(versions).unwrap_or_else(|error| panic!("hamt_serde::serialize_multiple: {error}"))
}

/// [`serialize_multiple`], returning the failure of a key's or value's `Serialize` implementation as an error.
///
/// # Errors
///
/// [`EncodeError::Serialize`] if postcard cannot encode a key or a value, [`EncodeError::TooManyVersions`] for more
/// than `u32::MAX` versions.
///
/// # Examples
///
/// ```
/// let map: hamt_core::HamtMap<u8, u8> = [(1, 2)].into();
/// assert!(hamt_serde::try_serialize_multiple(&[&map]).is_ok());
/// ```
pub fn try_serialize_multiple<K, V, P, S>(versions: &[&HamtMap<K, V, P, S>]) -> Result<Vec<u8>, EncodeError>
where
    K: Hash + Eq + Serialize,
    V: PartialEq + Serialize,
    P: PointerKind,
    S: BuildHasher,
{
    let mut sink = Sink::buffer();
    envelope::encode(&mut sink, versions, Parents::Nearest, Kind::Map)?;
    sink.finish()
}

/// [`serialize_multiple`] to a writer, in chunks: the memory it needs does not grow with the number of entries.
///
/// # Errors
///
/// [`EncodeError::Io`] if writing fails, and the errors of [`try_serialize_multiple`].
///
/// # Examples
///
/// ```
/// let map: hamt_core::HamtMap<u8, u8> = [(1, 2)].into();
/// let mut file = Vec::new();
/// hamt_serde::serialize_multiple_into(&mut file, &[&map])?;
/// assert_eq!(file, hamt_serde::serialize_multiple(&[&map]));
/// # Ok::<(), hamt_serde::EncodeError>(())
/// ```
pub fn serialize_multiple_into<W, K, V, P, S>(
    mut writer: W,
    versions: &[&HamtMap<K, V, P, S>],
) -> Result<(), EncodeError>
where
    W: Write,
    K: Hash + Eq + Serialize,
    V: PartialEq + Serialize,
    P: PointerKind,
    S: BuildHasher,
{
    let mut sink = Sink::writer(&mut writer);
    envelope::encode(&mut sink, versions, Parents::Nearest, Kind::Map)?;
    sink.finish().map(drop)
}

/// Decodes the versions that [`serialize_multiple`] (or [`VersionSet::to_bytes`]) encoded, in their order.
///
/// Each version is rebuilt from its parent by persistent updates, so the versions share nodes as updates make
/// them share, with the reader's pointer kind `P` and hasher `S` (which need not match the writer's).
///
/// # Errors
///
/// A [`DecodeError`] naming what is wrong with the bytes: truncation, damage (checksum), another format version,
/// versions of sets, a parent that is not an earlier version, duplicate or absent keys, lengths the input cannot
/// hold, or keys and values postcard cannot decode. It never panics.
///
/// # Examples
///
/// ```
/// use hamt_core::{ArcTK, DefaultHashBuilder, HamtMap};
///
/// let v1: HamtMap<u32, u32> = (0..100).map(|i| (i, i)).collect();
/// let v2 = v1.remove(&50);
/// let bytes = hamt_serde::serialize_multiple(&[&v1, &v2]);
/// // Read back as thread-safe maps.
/// let versions = hamt_serde::deserialize_multiple::<u32, u32, ArcTK, DefaultHashBuilder>(&bytes)?;
/// assert_eq!((versions[0].len(), versions[1].len()), (100, 99));
/// assert!(hamt_serde::deserialize_multiple::<u32, u32, ArcTK, DefaultHashBuilder>(&bytes[..20]).is_err());
/// # Ok::<(), hamt_serde::DecodeError>(())
/// ```
pub fn deserialize_multiple<K, V, P, S>(bytes: &[u8]) -> Result<Vec<HamtMap<K, V, P, S>>, DecodeError>
where
    K: Hash + Eq + Clone + DeserializeOwned,
    V: Clone + DeserializeOwned,
    P: PointerKind,
    S: BuildHasher + Clone + Default,
{
    let (count, body) = envelope::open(bytes, Kind::Map)?;
    Ok(envelope::decode_body(body, count)?.versions)
}

/// [`deserialize_multiple`] from a reader, read to its end. The buffer grows with the bytes actually read, never
/// with a length the input claims.
///
/// # Errors
///
/// [`DecodeError::Io`] if reading fails, and the errors of [`deserialize_multiple`].
///
/// # Examples
///
/// ```
/// use hamt_core::HamtMap;
///
/// let map: HamtMap<u8, u8> = [(1, 2)].into();
/// let bytes = hamt_serde::serialize_multiple(&[&map]);
/// let versions: Vec<HamtMap<u8, u8>> = hamt_serde::deserialize_multiple_from(bytes.as_slice())?;
/// assert_eq!(versions, [map]);
/// # Ok::<(), hamt_serde::DecodeError>(())
/// ```
pub fn deserialize_multiple_from<R, K, V, P, S>(reader: R) -> Result<Vec<HamtMap<K, V, P, S>>, DecodeError>
where
    R: Read,
    K: Hash + Eq + Clone + DeserializeOwned,
    V: Clone + DeserializeOwned,
    P: PointerKind,
    S: BuildHasher + Clone + Default,
{
    deserialize_multiple(&read_all(reader)?)
}

/// Encodes versions of a set, as [`serialize_multiple`] does for maps (the entries are the elements alone).
///
/// # Panics
///
/// As [`serialize_multiple`]; [`try_serialize_multiple_sets`] returns the failures instead.
///
/// # Examples
///
/// ```
/// use hamt_core::HamtSet;
///
/// let v1: HamtSet<u32> = (0..1_000).collect();
/// let v2 = v1.insert(5_000);
/// let bytes = hamt_serde::serialize_multiple_sets(&[&v1, &v2]);
/// let decoded: Vec<HamtSet<u32>> = hamt_serde::deserialize_multiple_sets(&bytes)?;
/// assert_eq!(decoded, [v1, v2]);
/// # Ok::<(), hamt_serde::DecodeError>(())
/// ```
#[must_use]
pub fn serialize_multiple_sets<T, P, S>(versions: &[&HamtSet<T, P, S>]) -> Vec<u8>
where
    T: Hash + Eq + Serialize,
    P: PointerKind,
    S: BuildHasher,
{
    try_serialize_multiple_sets(versions).unwrap_or_else(|error| panic!("hamt_serde::serialize_multiple_sets: {error}"))
}

/// [`serialize_multiple_sets`], returning the failure of an element's `Serialize` implementation as an error.
///
/// # Errors
///
/// As [`try_serialize_multiple`].
///
/// # Examples
///
/// ```
/// let set: hamt_core::HamtSet<u8> = [1].into();
/// assert!(hamt_serde::try_serialize_multiple_sets(&[&set]).is_ok());
/// ```
pub fn try_serialize_multiple_sets<T, P, S>(versions: &[&HamtSet<T, P, S>]) -> Result<Vec<u8>, EncodeError>
where
    T: Hash + Eq + Serialize,
    P: PointerKind,
    S: BuildHasher,
{
    let maps: Vec<&HamtMap<T, (), P, S>> = versions.iter().map(|set| set.as_map()).collect();
    let mut sink = Sink::buffer();
    envelope::encode(&mut sink, &maps, Parents::Nearest, Kind::Set)?;
    sink.finish()
}

/// [`serialize_multiple_sets`] to a writer, in chunks.
///
/// # Errors
///
/// As [`serialize_multiple_into`].
///
/// # Examples
///
/// ```
/// let set: hamt_core::HamtSet<u8> = [1].into();
/// let mut file = Vec::new();
/// hamt_serde::serialize_multiple_sets_into(&mut file, &[&set])?;
/// assert_eq!(file, hamt_serde::serialize_multiple_sets(&[&set]));
/// # Ok::<(), hamt_serde::EncodeError>(())
/// ```
pub fn serialize_multiple_sets_into<W, T, P, S>(
    mut writer: W,
    versions: &[&HamtSet<T, P, S>],
) -> Result<(), EncodeError>
where
    W: Write,
    T: Hash + Eq + Serialize,
    P: PointerKind,
    S: BuildHasher,
{
    let maps: Vec<&HamtMap<T, (), P, S>> = versions.iter().map(|set| set.as_map()).collect();
    let mut sink = Sink::writer(&mut writer);
    envelope::encode(&mut sink, &maps, Parents::Nearest, Kind::Set)?;
    sink.finish().map(drop)
}

/// Decodes the set versions that [`serialize_multiple_sets`] encoded.
///
/// # Errors
///
/// As [`deserialize_multiple`]; bytes that hold maps give [`DecodeError::WrongKind`].
///
/// # Examples
///
/// ```
/// use hamt_core::{HamtMap, HamtSet};
///
/// let set: HamtSet<u8> = [1, 2].into();
/// let bytes = hamt_serde::serialize_multiple_sets(&[&set]);
/// assert_eq!(hamt_serde::deserialize_multiple_sets::<u8, hamt_core::RcK, hamt_core::DefaultHashBuilder>(&bytes)?, [set]);
///
/// let map: HamtMap<u8, u8> = [(1, 2)].into();
/// let map_bytes = hamt_serde::serialize_multiple(&[&map]);
/// assert!(matches!(
///     hamt_serde::deserialize_multiple_sets::<u8, hamt_core::RcK, hamt_core::DefaultHashBuilder>(&map_bytes),
///     Err(hamt_serde::DecodeError::WrongKind { .. })
/// ));
/// # Ok::<(), hamt_serde::DecodeError>(())
/// ```
pub fn deserialize_multiple_sets<T, P, S>(bytes: &[u8]) -> Result<Vec<HamtSet<T, P, S>>, DecodeError>
where
    T: Hash + Eq + Clone + DeserializeOwned,
    P: PointerKind,
    S: BuildHasher + Clone + Default,
{
    let (count, body) = envelope::open(bytes, Kind::Set)?;
    let decoded = envelope::decode_body::<T, (), P, S>(body, count)?;
    Ok(decoded.versions.into_iter().map(HamtSet::<T, P, S>::from).collect())
}

/// [`deserialize_multiple_sets`] from a reader, read to its end.
///
/// # Errors
///
/// As [`deserialize_multiple_from`].
///
/// # Examples
///
/// ```
/// use hamt_core::HamtSet;
///
/// let set: HamtSet<u8> = [1, 2].into();
/// let bytes = hamt_serde::serialize_multiple_sets(&[&set]);
/// let versions: Vec<HamtSet<u8>> = hamt_serde::deserialize_multiple_sets_from(&bytes[..])?;
/// assert_eq!(versions, [set]);
/// # Ok::<(), hamt_serde::DecodeError>(())
/// ```
pub fn deserialize_multiple_sets_from<R, T, P, S>(reader: R) -> Result<Vec<HamtSet<T, P, S>>, DecodeError>
where
    R: Read,
    T: Hash + Eq + Clone + DeserializeOwned,
    P: PointerKind,
    S: BuildHasher + Clone + Default,
{
    deserialize_multiple_sets(&read_all(reader)?)
}

/// Reads `reader` to its end; the buffer grows with what is read.
fn read_all(mut reader: impl Read) -> Result<Vec<u8>, DecodeError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    Ok(bytes)
}
