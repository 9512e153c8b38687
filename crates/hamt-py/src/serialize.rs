//! `serialize_multiple` and `deserialize_multiple`: many maps of plain data in one byte string, with what the
//! versions share written once (hamt-serde's format).
//!
//! A Python value becomes a flat list of [`Token`]s in prefix order (a container token gives its length, then its
//! items follow). Flat tokens make decoding iterative: hostile bytes that nest a million tuples deep cannot
//! overflow the stack, and a container never reserves more items than there are tokens left.

use hamt_core::HamtMap;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::{Deserialize, Serialize};

use crate::errors::{DataError, guarded};
use crate::gil::Object;
use crate::map::{Contents, Map};
use crate::object::{Key, PythonHash, Trie, Value};

/// How deep containers may nest in a value that `serialize_multiple` writes.
const MAX_DEPTH: usize = 256;

/// One item of an encoded value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Token {
    None,
    Bool(bool),
    Int(i64),
    /// An `int` outside `i64`, as its decimal digits.
    BigInt(String),
    /// A `float`, as its IEEE 754 bits (so that every value, NaN included, reads back as itself).
    Float(u64),
    Str(String),
    Bytes(Vec<u8>),
    /// A tuple of this many values, which follow.
    Tuple(u64),
    /// A list of this many values, which follow.
    List(u64),
    /// A dict of this many key-value pairs, which follow (key, value, key, value...).
    Dict(u64),
}

/// An encoded value: its tokens, in prefix order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct Encoded(Vec<Token>);

/// A map of encoded keys and values, as hamt-serde writes it.
type EncodedMap = HamtMap<Encoded, Encoded>;

fn encode(object: &Bound<'_, PyAny>) -> Result<Encoded, PyErr> {
    let mut tokens = Vec::new();
    encode_into(object, &mut tokens, 0)?;
    Ok(Encoded(tokens))
}

fn encode_into(object: &Bound<'_, PyAny>, tokens: &mut Vec<Token>, depth: usize) -> PyResult<()> {
    if depth > MAX_DEPTH {
        return Err(DataError::TooDeep(MAX_DEPTH).into());
    }
    let token = if object.is_none() {
        Token::None
    } else if let Ok(boolean) = object.cast_exact::<PyBool>() {
        Token::Bool(boolean.is_true())
    } else if object.is_exact_instance_of::<PyInt>() {
        match object.extract::<i64>() {
            Ok(small) => Token::Int(small),
            Err(_) => Token::BigInt(object.str()?.to_str()?.to_owned()),
        }
    } else if let Ok(float) = object.cast_exact::<PyFloat>() {
        Token::Float(float.value().to_bits())
    } else if let Ok(string) = object.cast_exact::<PyString>() {
        Token::Str(string.to_str()?.to_owned())
    } else if let Ok(bytes) = object.cast_exact::<PyBytes>() {
        Token::Bytes(bytes.as_bytes().to_vec())
    } else if let Ok(tuple) = object.cast_exact::<PyTuple>() {
        tokens.push(Token::Tuple(tuple.len() as u64));
        for item in tuple.iter() {
            encode_into(&item, tokens, depth + 1)?;
        }
        return Ok(());
    } else if let Ok(list) = object.cast_exact::<PyList>() {
        tokens.push(Token::List(list.len() as u64));
        // A list can change while its items' encoding runs no Python code, but iterate a snapshot all the same.
        for item in list.to_tuple().iter() {
            encode_into(&item, tokens, depth + 1)?;
        }
        return Ok(());
    } else if let Ok(dict) = object.cast_exact::<PyDict>() {
        let items = dict.items();
        tokens.push(Token::Dict(items.len() as u64));
        for pair in items.iter() {
            let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair.extract()?;
            encode_into(&key, tokens, depth + 1)?;
            encode_into(&value, tokens, depth + 1)?;
        }
        return Ok(());
    } else {
        return Err(DataError::Unsupported(object.get_type().name()?.to_string()).into());
    };
    tokens.push(token);
    Ok(())
}

/// A container being rebuilt while decoding: what it is, how many items it still needs, and those it has.
struct Open<'py> {
    token: Token,
    missing: u64,
    items: Vec<Bound<'py, PyAny>>,
}

/// The Python value of `encoded`, built with an explicit stack.
fn decode<'py>(py: Python<'py>, encoded: &Encoded) -> PyResult<Bound<'py, PyAny>> {
    let tokens = &encoded.0;
    let mut stack: Vec<Open<'py>> = Vec::new();
    for (position, token) in tokens.iter().enumerate() {
        let remaining = (tokens.len() - position - 1) as u64;
        let mut value = match token {
            Token::None => py.None().into_bound(py),
            Token::Bool(boolean) => PyBool::new(py, *boolean).to_owned().into_any(),
            Token::Int(small) => small.into_pyobject(py)?.into_any(),
            Token::BigInt(digits) => py.get_type::<PyInt>().call1((digits.as_str(),))?,
            Token::Float(bits) => PyFloat::new(py, f64::from_bits(*bits)).into_any(),
            Token::Str(string) => PyString::new(py, string).into_any(),
            Token::Bytes(bytes) => PyBytes::new(py, bytes).into_any(),
            Token::Tuple(count) | Token::List(count) | Token::Dict(count) => {
                let needed = if matches!(token, Token::Dict(_)) { count.checked_mul(2) } else { Some(*count) };
                let needed = needed.filter(|needed| *needed <= remaining).ok_or(DataError::Malformed)?;
                // The capacity is bounded by the tokens that are actually there.
                let items = Vec::with_capacity(needed as usize);
                stack.push(Open { token: token.clone(), missing: needed, items });
                if needed > 0 {
                    continue;
                }
                close(py, stack.pop().ok_or(DataError::Malformed)?)?
            }
        };
        loop {
            let Some(open) = stack.last_mut() else {
                return if position + 1 == tokens.len() { Ok(value) } else { Err(DataError::Malformed.into()) };
            };
            open.items.push(value);
            open.missing -= 1;
            if open.missing > 0 {
                break;
            }
            value = close(py, stack.pop().ok_or(DataError::Malformed)?)?;
        }
    }
    Err(DataError::Malformed.into())
}

/// The Python container of a complete [`Open`].
fn close<'py>(py: Python<'py>, open: Open<'py>) -> PyResult<Bound<'py, PyAny>> {
    Ok(match open.token {
        Token::Tuple(_) => PyTuple::new(py, open.items)?.into_any(),
        Token::List(_) => PyList::new(py, open.items)?.into_any(),
        _ => {
            let dict = PyDict::new(py);
            let mut items = open.items.into_iter();
            while let (Some(key), Some(value)) = (items.next(), items.next()) {
                dict.set_item(key, value)?;
            }
            dict.into_any()
        }
    })
}

/// Writes `maps` (an iterable of `Map`) as bytes in which what the maps share is stored once.
///
/// Keys and values must be `None`, `bool`, `int`, `float`, `str`, `bytes`, or tuples, lists and dicts of them;
/// anything else raises `TypeError` naming its type.
#[pyfunction]
pub(crate) fn serialize_multiple<'py>(maps: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let py = maps.py();
    let mut encoded_maps = Vec::new();
    for map in maps.try_iter()? {
        let map = map?;
        let map = map.cast::<Map>()?.try_borrow()?;
        let mut encoded = EncodedMap::new();
        for (key, value) in map.trie.iter() {
            encoded.insert_mut(encode(key.object().bind(py))?, encode(value.0.bind(py))?);
        }
        if encoded.len() != map.trie.len() {
            return Err(DataError::MergedKeys.into());
        }
        encoded_maps.push(encoded);
    }
    let bytes = hamt_serde::serialize_multiple(&encoded_maps).map_err(DataError::Encode)?;
    Ok(PyBytes::new(py, &bytes))
}

/// Reads the maps that `serialize_multiple` wrote, as a list of `Map`.
///
/// Each map is built from the one before by the differences between them, so the maps share structure again.
/// Raises `ValueError` for bytes that are not such output.
#[pyfunction]
pub(crate) fn deserialize_multiple<'py>(bytes: &[u8], py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
    let versions: Vec<EncodedMap> = hamt_serde::deserialize_multiple(bytes).map_err(DataError::Decode)?;
    let mut maps = Vec::with_capacity(versions.len());
    let empty = EncodedMap::new();
    let mut previous: (&EncodedMap, Trie, Contents) = (&empty, Trie::with_hasher(PythonHash), Contents::EMPTY);
    for version in &versions {
        let (before, mut trie, mut contents) = previous;
        // Removals first: a key can be replaced by one that Python holds equal but that encodes differently.
        let mut added = Vec::new();
        for change in before.diff(version) {
            match change {
                hamt_core::DiffItem::Removed(key, _) => {
                    let key = Key::new(&decode(py, key)?)?;
                    guarded(|| trie.remove_mut(&key))?;
                }
                hamt_core::DiffItem::Added(key, value) | hamt_core::DiffItem::Changed { key, new: value, .. } => {
                    added.push((key, value));
                }
            }
        }
        for (key, value) in added {
            let (key, value) = (decode(py, key)?, decode(py, value)?);
            contents = contents.with_pair(&key, &value);
            let key = Key::new(&key)?;
            guarded(|| trie.insert_mut(key, Value(Object::new(value.unbind()))))?;
        }
        maps.push(Map::from_trie(trie.clone(), contents));
        previous = (version, trie, contents);
    }
    PyList::new(py, maps)
}
