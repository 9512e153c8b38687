//! The errors of encoding and decoding.

use std::fmt;
use std::io;

/// What a collection of versions holds: map entries, or set elements.
///
/// # Examples
///
/// ```
/// use hamt_serde::{DecodeError, Kind};
///
/// let set: hamt_core::HamtSet<u8> = [1].into();
/// let bytes = hamt_serde::serialize_multiple([&set])?;
/// let read_as_maps = hamt_serde::deserialize_multiple::<hamt_core::HamtMap<u8, u8>>(&bytes);
/// assert!(matches!(read_as_maps, Err(DecodeError::WrongKind { expected: Kind::Map, found: Kind::Set })));
/// # Ok::<(), hamt_serde::EncodeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// [`HamtMap`](hamt_core::HamtMap) versions: every entry is a key and a value.
    Map,
    /// [`HamtSet`](hamt_core::HamtSet) versions: every entry is a key alone.
    Set,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Map => "maps",
            Kind::Set => "sets",
        })
    }
}

/// Why bytes could not be decoded into versions.
///
/// Every way that bytes can be wrong has its own variant, and decoding reports the first one it meets; it never
/// panics and never allocates more than the bytes it has read can justify. Versions are numbered from 0 in the
/// order they were encoded.
///
/// # Examples
///
/// ```
/// use hamt_core::HamtMap;
/// use hamt_serde::DecodeError;
///
/// let map: HamtMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
/// let mut bytes = hamt_serde::serialize_multiple([&map])?;
/// bytes[12] ^= 1; // a bit flipped in the body
/// let damaged = hamt_serde::deserialize_multiple::<HamtMap<u32, u32>>(&bytes);
/// assert!(matches!(damaged, Err(DecodeError::ChecksumMismatch { .. })));
/// let cut = hamt_serde::deserialize_multiple::<HamtMap<u32, u32>>(&bytes[..8]);
/// assert!(matches!(cut, Err(DecodeError::Truncated)));
/// # Ok::<(), hamt_serde::EncodeError>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before the envelope (or a record of a version log) was complete.
    Truncated,
    /// The input does not start with the magic bytes of this format.
    BadMagic,
    /// The input was written in a format version this release cannot read.
    UnsupportedFormat {
        /// The format version the input declares.
        version: u8,
    },
    /// The envelope sets flags this release does not know.
    UnknownFlags {
        /// The flags byte as read.
        flags: u8,
    },
    /// The input holds versions of the other kind (sets where maps were asked for, or the reverse).
    WrongKind {
        /// What the caller asked for.
        expected: Kind,
        /// What the input holds.
        found: Kind,
    },
    /// The body's length in the trailer does not match the bytes between the header and the trailer: the input
    /// was cut short or has bytes appended.
    LengthMismatch {
        /// The body length the trailer declares.
        declared: u64,
        /// The body length the input has.
        actual: u64,
    },
    /// The checksum in the trailer does not match the bytes it covers: the input was damaged.
    ChecksumMismatch {
        /// The checksum the trailer declares.
        expected: u32,
        /// The checksum of the bytes as read.
        actual: u32,
    },
    /// A version names a parent that is not an earlier version.
    BadParent {
        /// The version whose record is wrong.
        version: usize,
        /// How many versions back its parent is said to be.
        distance: u64,
    },
    /// A count read from the input (of versions, keys or entries, or, in the self-describing body, of a string's
    /// bytes or an array's or a map's items) is larger than the bytes that remain could hold.
    LengthTooLarge {
        /// The version whose record is wrong (the envelope's version count is checked as version 0).
        version: usize,
        /// The count the input claims.
        claimed: u64,
        /// The bytes left in the body when it was read.
        remaining: usize,
    },
    /// A version holds the same key twice, or a record both removes and upserts a key.
    DuplicateKey {
        /// The version whose record is wrong.
        version: usize,
    },
    /// A record removes a key that its parent does not hold.
    AbsentKey {
        /// The version whose record is wrong.
        version: usize,
    },
    /// A varint (a count or a parent distance) is longer than 10 bytes or does not fit in 64 bits.
    BadVarint {
        /// The version whose record is wrong.
        version: usize,
    },
    /// A key or a value could not be decoded as the reader's type (by postcard in the compact body, by ciborium in
    /// the self-describing one).
    Entry {
        /// The version whose record is wrong.
        version: usize,
        /// What the decoder reported; [`source`](std::error::Error::source) returns it too.
        error: BoxError,
    },
    /// Bytes remain in the body after the last version's record.
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// Reading the input failed.
    Io(io::Error),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated => f.write_str("the input ends before its envelope is complete"),
            DecodeError::BadMagic => f.write_str("the input does not start with the magic bytes of a hamt encoding"),
            DecodeError::UnsupportedFormat { version } => {
                write!(f, "format version {version} is not supported by this release")
            }
            DecodeError::UnknownFlags { flags } => write!(f, "unknown flags {flags:#04x} in the envelope"),
            DecodeError::WrongKind { expected, found } => write!(f, "expected {expected}, the input holds {found}"),
            DecodeError::LengthMismatch { declared, actual } => {
                write!(f, "the trailer declares a body of {declared} bytes, the input has {actual}")
            }
            DecodeError::ChecksumMismatch { expected, actual } => {
                write!(f, "checksum mismatch: the trailer declares {expected:#010x}, the bytes give {actual:#010x}")
            }
            DecodeError::BadParent { version, distance } => {
                write!(f, "version {version} names a parent {distance} versions back, which is not an earlier version")
            }
            DecodeError::LengthTooLarge { version, claimed, remaining } => {
                write!(
                    f,
                    "version {version} claims a length of {claimed}, more than the {remaining} bytes left could hold"
                )
            }
            DecodeError::DuplicateKey { version } => write!(f, "version {version} holds a key twice"),
            DecodeError::AbsentKey { version } => {
                write!(f, "version {version} removes a key that its parent does not hold")
            }
            DecodeError::BadVarint { version } => write!(f, "a varint in version {version}'s record is malformed"),
            DecodeError::Entry { version, .. } => write!(f, "a key or value of version {version} could not be decoded"),
            DecodeError::TrailingBytes { count } => write!(f, "{count} bytes follow the last version's record"),
            DecodeError::Io(_) => f.write_str("reading the input failed"),
        }
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DecodeError::Entry { error, .. } => Some(&**error),
            DecodeError::Io(error) => Some(error),
            _ => None,
        }
    }
}

impl From<io::Error> for DecodeError {
    fn from(error: io::Error) -> Self {
        DecodeError::Io(error)
    }
}

/// Which part of an entry an [`EncodeError`] is about.
///
/// # Examples
///
/// ```
/// assert_eq!(hamt_serde::Part::Key.to_string(), "key");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// A key (or a set's element).
    Key,
    /// A value.
    Value,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Key => "key",
            Part::Value => "value",
        })
    }
}

/// An error from a serde format, boxed so that the formats hamt-serde uses inside do not show in its API.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why versions could not be encoded.
///
/// An encoding is only written if every key and value it holds reads back as itself: the writer decodes each one
/// right after encoding it and compares. A type that the compact body cannot carry is written in the
/// self-describing body instead (see [`serialize_multiple`](crate::serialize_multiple)); the errors below are what
/// remains when neither body can.
///
/// # Examples
///
/// ```
/// use hamt_core::HamtMap;
/// use hamt_serde::{EncodeError, Part};
///
/// // `NaN` is not equal to itself, so no encoding can give back a value equal to it.
/// let map: HamtMap<String, f64> = [("nan".to_owned(), f64::NAN)].into();
/// let result = hamt_serde::serialize_multiple([&map]);
/// assert!(matches!(result, Err(EncodeError::Mismatch { part: Part::Value })));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum EncodeError {
    /// A key's or a value's `Serialize` implementation failed (it reported an error of its own).
    Serialize {
        /// Whether it was a key or a value.
        part: Part,
        /// What the format reported; [`source`](std::error::Error::source) returns it too.
        error: BoxError,
    },
    /// A key or a value serialized, but its `Deserialize` implementation cannot read what it wrote, in either body.
    Unreadable {
        /// Whether it was a key or a value.
        part: Part,
        /// What the decoder reported; [`source`](std::error::Error::source) returns it too.
        error: BoxError,
    },
    /// A key or a value read back as something not equal to it, in either body: its `Serialize` and
    /// `Deserialize` implementations disagree (a field skipped on one side), or its `PartialEq` is not reflexive
    /// (a float `NaN`).
    Mismatch {
        /// Whether it was a key or a value.
        part: Part,
    },
    /// More than `u32::MAX` versions were given.
    TooManyVersions,
    /// Writing the output failed.
    Io(io::Error),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::Serialize { part, .. } => write!(f, "a {part} could not be serialized"),
            EncodeError::Unreadable { part, .. } => {
                write!(f, "a {part} serializes, but cannot be deserialized from what it wrote")
            }
            EncodeError::Mismatch { part } => write!(
                f,
                "a {part} deserializes to a value not equal to it (its Serialize and Deserialize disagree, or its \
                 PartialEq is not reflexive, as for NaN)"
            ),
            EncodeError::TooManyVersions => f.write_str("more than 2^32 - 1 versions"),
            EncodeError::Io(_) => f.write_str("writing the output failed"),
        }
    }
}

impl std::error::Error for EncodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EncodeError::Serialize { error, .. } | EncodeError::Unreadable { error, .. } => Some(&**error),
            EncodeError::Io(error) => Some(error),
            EncodeError::Mismatch { .. } | EncodeError::TooManyVersions => None,
        }
    }
}

impl From<io::Error> for EncodeError {
    fn from(error: io::Error) -> Self {
        EncodeError::Io(error)
    }
}
