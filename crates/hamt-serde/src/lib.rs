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
//! let bytes = hamt_serde::serialize_multiple([&base, &edited, &trimmed])?;
//! // The two later versions cost a few bytes each on top of the base.
//! assert!(bytes.len() < hamt_serde::serialize_multiple([&base])?.len() + 40);
//!
//! let versions: Vec<HamtMap<u64, String>> = hamt_serde::deserialize_multiple(&bytes)?;
//! assert_eq!(versions, [base, edited, trimmed]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Three forms share one record format (specified byte by byte in `docs/format.md`):
//! - the binary form of [`serialize_multiple`] and [`VersionSet::to_bytes`]: an envelope (magic bytes, format
//!   version, flags, and a CRC-32 checksum) around records whose keys and values are encoded in one of two
//!   *bodies*, both with a stable, documented wire format: compact (postcard 1.x) when every key and value reads
//!   back from it as itself, self-describing (CBOR) otherwise (see [Bodies](#bodies));
//! - [`VersionSet`]'s serde implementations, which carry the same records through any serde format (JSON to read
//!   by eye, postcard, bincode, CBOR), and name the parent of each version, for trees of variants;
//! - [`VersionLog`], an append-only file of versions with one checksummed record per version, which survives a
//!   crash in the middle of an append.
//!
//! Decoding checks everything it reads: bad or hostile bytes give a [`DecodeError`] that says what is wrong, never
//! a panic, and no length read from the input allocates more than the bytes that remain could fill.
//!
//! # Bodies
//!
//! postcard, the compact body, writes no type information: a value is read back by a `Deserialize` that knows
//! what comes next. Types whose `Deserialize` asks the format instead (`deserialize_any`) cannot be read from
//! it: `serde_json::Value`, `#[serde(flatten)]`, untagged and internally tagged enums. Others write something
//! their `Deserialize` reads differently (`skip_serializing_if`). CBOR (RFC 8949), the self-describing body,
//! carries all of these.
//!
//! The writer does not guess which types fit: it writes each key and value in the compact body and at once reads
//! it back and compares it with the original (`PartialEq`); only integers, `bool`, `char`, `String` and `()`, whose
//! round trip is known, are not checked. If every one of them comes back equal, the compact body is kept;
//! otherwise the whole encoding is written in the self-describing body, checked the same way. A key or value that
//! does not come back equal from either is refused with an [`EncodeError`] that says why, so whatever
//! [`serialize_multiple`] returns decodes to the versions it was given: a type that round-trips through serde_json
//! round-trips here. The flags byte of the envelope names the body, and the readers follow it.
//!
//! ```
//! use hamt_core::HamtMap;
//! use serde_json::{Value, json};
//!
//! let v1: HamtMap<String, Value> = [("config".to_owned(), json!({ "retries": 3, "hosts": ["a", "b"] }))].into();
//! let v2 = v1.insert("owner".to_owned(), json!(null));
//! let bytes = hamt_serde::serialize_multiple([&v1, &v2])?;
//! let decoded: Vec<HamtMap<String, Value>> = hamt_serde::deserialize_multiple(&bytes)?;
//! assert_eq!(decoded, [v1, v2]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Plain serde support for a single map or set (as a map or a sequence in any format) is hamt-core's `serde`
//! feature, which this crate turns on.

use std::hash::{BuildHasher, Hash};
use std::io::{Read, Write};

#[cfg(doc)]
use hamt_core::{HamtMap, HamtSet};
use serde::Serialize;
use serde::de::DeserializeOwned;

mod cbor;
mod envelope;
mod error;
mod log;
mod record;
mod version_set;

pub use error::{BoxError, DecodeError, EncodeError, Kind, Part};
pub use log::{LogError, VersionLog};
pub use version_set::{VersionRef, VersionSet, Versioned};

use envelope::Parents;

/// The README's examples, compiled and run as doctests so that they never rot. They live here because this crate's
/// tests can reach every crate of the workspace (hamt-sync is a dev-dependency).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

/// Encodes versions of a map or a set: the first one's entries, then each later version as a delta against the
/// one before it, or against an ancestor of that one (the version it was written against, and so on, a few steps
/// up) when that delta is smaller. A list of what-if variants of one base is therefore written, and decoded, as
/// variants of the base, and a linear history as a chain of small steps.
///
/// `versions` is anything that iterates over references to [`HamtMap`]s or
/// [`HamtSet`]s (or references to references): an array `[&v1, &v2]`, a slice `&[&v1, &v2]`,
/// a `&Vec` of maps, an iterator. Equal versions cost a few bytes each, even ones built separately. To name each
/// version's parent yourself (a tree of versions), use [`VersionSet`]. The bytes decode with
/// [`deserialize_multiple`]; docs/format.md specifies them.
///
/// Every key and value is read back as it is written and compared with the original, so that the bytes decode to
/// exactly these versions: in the compact body when all of them fit it, in the self-describing body otherwise
/// (see [Bodies](crate#bodies)). This is why the key and value types must also be `DeserializeOwned`.
///
/// # Complexity
///
/// Writing the first version visits its entries; every later one costs the size of its delta (times the depth of
/// the trie), because subtrees shared with the previous version are skipped. Trying an ancestor costs one more diff,
/// cut short as soon as it cannot give a smaller delta. Reading each item back about doubles the cost of encoding
/// it, except for integers, `bool`, `char`, `String` and `()`, which are known to read back and are not checked;
/// types that do not fit the compact body are encoded twice.
///
/// # Errors
///
/// [`EncodeError::Serialize`], [`EncodeError::Unreadable`] or [`EncodeError::Mismatch`] for a key or value that no
/// body can carry (one whose `Serialize` fails, or that does not read back as itself), and
/// [`EncodeError::TooManyVersions`] for more than `u32::MAX` versions.
///
/// # Examples
///
/// ```
/// use hamt_core::{HamtMap, HamtSet};
///
/// let v1: HamtMap<String, u32> = [("apples".to_owned(), 3)].into();
/// let v2 = v1.insert("pears".to_owned(), 5);
/// let bytes = hamt_serde::serialize_multiple([&v1, &v2])?;
/// let decoded: Vec<HamtMap<String, u32>> = hamt_serde::deserialize_multiple(&bytes)?;
/// assert_eq!(decoded[1].get("pears"), Some(&5));
///
/// // A vector of sets, by reference.
/// let history: Vec<HamtSet<u32>> = vec![[1, 2].into(), [1, 2, 3].into()];
/// let bytes = hamt_serde::serialize_multiple(&history)?;
/// assert_eq!(hamt_serde::deserialize_multiple::<HamtSet<u32>>(&bytes)?, history);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn serialize_multiple<'a, C, I>(versions: I) -> Result<Vec<u8>, EncodeError>
where
    I: IntoIterator,
    I::Item: VersionRef<'a, Versioned = C>,
    C: Versioned + 'a,
    C::Key: Hash + Eq + Serialize + DeserializeOwned,
    C::Value: PartialEq + Serialize + DeserializeOwned,
    C::Hasher: BuildHasher,
{
    let maps = version_set::maps_of(versions);
    envelope::write(None, &maps, Parents::Nearest, C::KIND)
}

/// [`serialize_multiple`] to a writer, in chunks: the memory it needs does not grow with the number of entries.
///
/// To choose the body without keeping the output, the versions are encoded twice: once to nowhere, to check that
/// every key and value fits the compact body, then to `writer` (integers, `bool`, `char`, `String` and `()` are
/// known to fit, and are encoded once). Into a buffer, [`serialize_multiple`] needs one pass when they fit.
///
/// # Errors
///
/// [`EncodeError::Io`] if writing fails, and the errors of [`serialize_multiple`]. After an error, `writer` may
/// hold part of the output.
///
/// # Examples
///
/// ```
/// let map: hamt_core::HamtMap<u8, u8> = [(1, 2)].into();
/// let mut file = Vec::new();
/// hamt_serde::serialize_multiple_into(&mut file, [&map])?;
/// assert_eq!(file, hamt_serde::serialize_multiple([&map])?);
/// # Ok::<(), hamt_serde::EncodeError>(())
/// ```
pub fn serialize_multiple_into<'a, W, C, I>(mut writer: W, versions: I) -> Result<(), EncodeError>
where
    W: Write,
    I: IntoIterator,
    I::Item: VersionRef<'a, Versioned = C>,
    C: Versioned + 'a,
    C::Key: Hash + Eq + Serialize + DeserializeOwned,
    C::Value: PartialEq + Serialize + DeserializeOwned,
    C::Hasher: BuildHasher,
{
    let maps = version_set::maps_of(versions);
    envelope::write(Some(&mut writer), &maps, Parents::Nearest, C::KIND).map(drop)
}

/// Decodes the versions that [`serialize_multiple`] (or [`VersionSet::to_bytes`]) encoded, in their order, as
/// maps or sets (`C`), in either body.
///
/// Each version is rebuilt from its parent by persistent updates, so the versions share nodes as updates make
/// them share, with the reader's pointer kind and hasher (which need not match the writer's).
///
/// # Errors
///
/// A [`DecodeError`] naming what is wrong with the bytes: truncation, damage (checksum), another format version,
/// versions of the other kind ([`DecodeError::WrongKind`]), a parent that is not an earlier version, duplicate or
/// absent keys, lengths the input cannot hold, or keys and values that do not decode as `C`'s. It never panics.
///
/// # Examples
///
/// ```
/// use hamt_core::{ArcTK, DefaultHashBuilder, HamtMap, HamtSet};
///
/// let v1: HamtMap<u32, u32> = (0..100).map(|i| (i, i)).collect();
/// let v2 = v1.remove(&50);
/// let bytes = hamt_serde::serialize_multiple([&v1, &v2])?;
/// // Read back as thread-safe maps.
/// let versions = hamt_serde::deserialize_multiple::<HamtMap<u32, u32, ArcTK>>(&bytes)?;
/// assert_eq!((versions[0].len(), versions[1].len()), (100, 99));
/// assert!(hamt_serde::deserialize_multiple::<HamtMap<u32, u32>>(&bytes[..20]).is_err());
/// assert!(matches!(
///     hamt_serde::deserialize_multiple::<HamtSet<u32>>(&bytes),
///     Err(hamt_serde::DecodeError::WrongKind { .. })
/// ));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn deserialize_multiple<C>(bytes: &[u8]) -> Result<Vec<C>, DecodeError>
where
    C: Versioned,
    C::Key: Hash + Eq + Clone + DeserializeOwned,
    C::Value: Clone + DeserializeOwned,
    C::Hasher: BuildHasher + Clone + Default,
{
    let opened = envelope::open(bytes, C::KIND)?;
    let decoded = envelope::decode_body(opened)?;
    Ok(decoded.versions.into_iter().map(C::from_map).collect())
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
/// use hamt_core::HamtSet;
///
/// let set: HamtSet<u8> = [1, 2].into();
/// let bytes = hamt_serde::serialize_multiple([&set])?;
/// let versions: Vec<HamtSet<u8>> = hamt_serde::deserialize_multiple_from(bytes.as_slice())?;
/// assert_eq!(versions, [set]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn deserialize_multiple_from<C, R>(mut reader: R) -> Result<Vec<C>, DecodeError>
where
    R: Read,
    C: Versioned,
    C::Key: Hash + Eq + Clone + DeserializeOwned,
    C::Value: Clone + DeserializeOwned,
    C::Hasher: BuildHasher + Clone + Default,
{
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    deserialize_multiple(&bytes)
}
