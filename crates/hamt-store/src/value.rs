//! Values of stored maps: raw bytes, or DAG-CBOR.

use bytes::Bytes;
use ipld_core::ipld::Ipld;

use crate::StoreError;
use crate::format::{RAW, block_cid, lone_byte_string, write_head};
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

    /// The value's block in `mode`, with its id. A bytes value stored as raw bytes becomes its block without a
    /// copy, and one stored as DAG-CBOR is written as a byte string directly (what `serde_ipld_dagcbor` writes, as
    /// a test checks).
    pub(crate) fn into_block(self, mode: ValueMode, key: &str) -> Result<(Cid, Vec<u8>), StoreError> {
        let bytes = match (mode, self) {
            (ValueMode::Bytes, Value::Bytes(bytes) | Value::Ipld(Ipld::Bytes(bytes))) => bytes,
            (ValueMode::Bytes, Value::Ipld(_)) => return Err(StoreError::ValueNotBytes { key: key.to_owned() }),
            (ValueMode::Cbor, Value::Bytes(bytes) | Value::Ipld(Ipld::Bytes(bytes))) => {
                let mut block = Vec::with_capacity(9 + bytes.len());
                write_head(&mut block, 2, bytes.len() as u64);
                block.extend_from_slice(&bytes);
                block
            }
            (ValueMode::Cbor, Value::Ipld(ipld)) => serde_ipld_dagcbor::to_vec(&ipld).map_err(encoding_error)?,
        };
        Ok((block_cid(RAW, &bytes), bytes))
    }

    /// Reads a value block in `mode`.
    pub(crate) fn decode(mode: ValueMode, cid: &Cid, bytes: Bytes) -> Result<Value, StoreError> {
        match mode {
            // A buffer no one else holds becomes the value without a copy.
            ValueMode::Bytes => Ok(Value::Bytes(Vec::from(bytes))),
            ValueMode::Cbor => Self::decode_slice(mode, cid, &bytes),
        }
    }

    /// Reads a value block in `mode` from borrowed bytes.
    pub(crate) fn decode_slice(mode: ValueMode, cid: &Cid, bytes: &[u8]) -> Result<Value, StoreError> {
        match mode {
            ValueMode::Bytes => Ok(Value::Bytes(bytes.to_vec())),
            // A byte string, the common case, is read directly: a head in its shortest form (as DAG-CBOR requires)
            // whose length is the rest of the block.
            ValueMode::Cbor => match lone_byte_string(bytes) {
                Some(content) => Ok(Value::Bytes(content.to_vec())),
                None => match serde_ipld_dagcbor::from_slice::<Ipld>(bytes) {
                    Ok(Ipld::Bytes(bytes)) => Ok(Value::Bytes(bytes)),
                    Ok(ipld) => Ok(Value::Ipld(ipld)),
                    Err(error) => Err(StoreError::BadValue { cid: Box::new(*cid), reason: error.to_string() }),
                },
            },
        }
    }
}

fn encoding_error(error: impl std::fmt::Display) -> StoreError {
    StoreError::ValueEncoding { reason: error.to_string() }
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

#[cfg(test)]
mod tests;
