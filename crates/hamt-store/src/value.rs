//! Values of stored maps: raw bytes, or DAG-CBOR.

use bytes::Bytes;
use ipld_core::ipld::Ipld;

use crate::StoreError;
use crate::format::{RAW, block_cid};
use cid::Cid;

/// How a map's value blocks hold their values. Nothing in the stored data says which: the reader is told, as with
/// py-hamt.
///
/// # Examples
///
/// See [`Config`](crate::Config) and [`StoredMap::load_with_config`](crate::StoredMap::load_with_config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ValueMode {
    /// Each value block is the DAG-CBOR encoding of the value (py-hamt's default).
    #[default]
    Cbor,
    /// Each value block is the value's bytes as they are (py-hamt's `values_are_bytes=True`, which its Zarr store
    /// uses).
    Bytes,
}

/// A value of a stored map: bytes, or any IPLD value (stored as DAG-CBOR).
///
/// In a map of [`ValueMode::Bytes`], every value is `Bytes`, and an `Ipld` value is refused. In a map of
/// [`ValueMode::Cbor`], `Bytes(b)` is stored as the DAG-CBOR byte string `b`, and a byte string read back is
/// returned as `Bytes`, so that `Bytes` values read back as they were written in both modes; every other IPLD
/// value is returned as `Ipld`.
///
/// # Examples
///
/// ```
/// use hamt_store::Value;
/// use ipld_core::ipld::Ipld;
///
/// let bytes: Value = b"raw".to_vec().into();
/// assert_eq!(bytes.as_bytes(), Some(&b"raw"[..]));
/// let number: Value = Ipld::Integer(7).into();
/// assert_eq!(number.as_bytes(), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Bytes.
    Bytes(Vec<u8>),
    /// Any other IPLD value (never [`Ipld::Bytes`], which is returned as [`Value::Bytes`]).
    Ipld(Ipld),
}

impl Value {
    /// The bytes, if this is a bytes value.
    ///
    /// # Examples
    ///
    /// See [`Value`].
    #[must_use]
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(bytes) => Some(bytes),
            Value::Ipld(Ipld::Bytes(bytes)) => Some(bytes),
            Value::Ipld(_) => None,
        }
    }

    /// The value as IPLD (bytes become [`Ipld::Bytes`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use hamt_store::{Ipld, Value};
    ///
    /// assert_eq!(Value::Bytes(vec![1]).into_ipld(), Ipld::Bytes(vec![1]));
    /// assert_eq!(Value::from(3).into_ipld(), Ipld::Integer(3));
    /// ```
    #[must_use]
    pub fn into_ipld(self) -> Ipld {
        match self {
            Value::Bytes(bytes) => Ipld::Bytes(bytes),
            Value::Ipld(ipld) => ipld,
        }
    }

    /// The value's block in `mode`, with its id.
    pub(crate) fn encode(&self, mode: ValueMode, key: &str) -> Result<(Cid, Vec<u8>), StoreError> {
        let bytes = match (mode, self) {
            (ValueMode::Bytes, _) => {
                self.as_bytes().ok_or_else(|| StoreError::ValueNotBytes { key: key.to_owned() })?.to_vec()
            }
            (ValueMode::Cbor, Value::Bytes(bytes)) => {
                serde_ipld_dagcbor::to_vec(&ByteString(bytes)).map_err(encoding_error)?
            }
            (ValueMode::Cbor, Value::Ipld(ipld)) => serde_ipld_dagcbor::to_vec(ipld).map_err(encoding_error)?,
        };
        Ok((block_cid(RAW, &bytes), bytes))
    }

    /// Reads a value block in `mode`.
    pub(crate) fn decode(mode: ValueMode, cid: &Cid, bytes: Bytes) -> Result<Value, StoreError> {
        match mode {
            ValueMode::Bytes => Ok(Value::Bytes(Vec::from(bytes))),
            ValueMode::Cbor => match serde_ipld_dagcbor::from_slice::<Ipld>(&bytes) {
                Ok(Ipld::Bytes(bytes)) => Ok(Value::Bytes(bytes)),
                Ok(ipld) => Ok(Value::Ipld(ipld)),
                Err(error) => Err(StoreError::BadValue { cid: Box::new(*cid), reason: error.to_string() }),
            },
        }
    }
}

fn encoding_error(error: impl std::fmt::Display) -> StoreError {
    StoreError::ValueEncoding { reason: error.to_string() }
}

/// A byte string for serde (a plain `&[u8]` would serialize as a list of integers), without copying the bytes.
struct ByteString<'a>(&'a [u8]);

impl serde::Serialize for ByteString<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

impl From<Vec<u8>> for Value {
    fn from(bytes: Vec<u8>) -> Self {
        Value::Bytes(bytes)
    }
}

impl From<&[u8]> for Value {
    fn from(bytes: &[u8]) -> Self {
        Value::Bytes(bytes.to_vec())
    }
}

impl From<Ipld> for Value {
    fn from(ipld: Ipld) -> Self {
        match ipld {
            Ipld::Bytes(bytes) => Value::Bytes(bytes),
            ipld => Value::Ipld(ipld),
        }
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Ipld(Ipld::String(text.to_owned()))
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Ipld(Ipld::String(text))
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Self {
        Value::Ipld(Ipld::Integer(number.into()))
    }
}
