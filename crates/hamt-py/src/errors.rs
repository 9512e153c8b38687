//! Where failures become Python exceptions.
//!
//! Most errors are Python exceptions already (a key's `__hash__` raising) and propagate with `?`. The exception
//! that a key's or value's `__eq__` raises is different: it happens inside hamt-core, whose `PartialEq` cannot
//! fail. The comparison records the first such exception in a per-thread slot and answers "not equal"; every
//! comparison after it answers at once without calling Python. The operation then runs to its end on a trie that
//! stays well-formed, and [`guarded`] discards its result and raises the recorded exception, so the map the
//! caller holds is unchanged, as with `dict`.

use std::cell::RefCell;

use pyo3::PyErr;
use pyo3::exceptions::{PyRecursionError, PyTypeError, PyValueError};

thread_local! {
    /// The first exception raised by a comparison during the current operation on this thread.
    static FIRST_ERROR: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

/// Records `error` unless an earlier one is pending: the first exception is the one the caller sees.
pub(crate) fn record(error: PyErr) {
    FIRST_ERROR.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.is_none() {
            *slot = Some(error);
        }
    });
}

/// Whether a comparison of the current operation has raised (later comparisons are then skipped).
pub(crate) fn pending() -> bool {
    FIRST_ERROR.with(|slot| slot.borrow().is_some())
}

/// Runs one trie operation and returns its result, or the first exception a comparison raised during it.
///
/// An operation that a comparison re-enters (a key's `__eq__` that itself uses a map) has its own slot: the outer
/// operation's pending error, if any, is set aside and restored, so that neither sees the other's exception.
pub(crate) fn guarded<T>(operation: impl FnOnce() -> T) -> Result<T, PyErr> {
    let outer = FIRST_ERROR.with(|slot| slot.borrow_mut().take());
    let result = operation();
    let error = FIRST_ERROR.with(|slot| std::mem::replace(&mut *slot.borrow_mut(), outer));
    match error {
        Some(error) => Err(error),
        None => Ok(result),
    }
}

/// Why a Python object cannot be written by `serialize_multiple`, or bytes cannot be read by
/// `deserialize_multiple`.
#[derive(Debug)]
pub(crate) enum DataError {
    /// The object's type is not one of the plain data types (the type's name).
    Unsupported(String),
    /// Containers nest deeper than the limit (which also stops a list that contains itself).
    TooDeep(usize),
    /// Two keys that Python holds apart encode alike (two NaN float objects), so the map cannot round-trip.
    MergedKeys,
    /// The encoder refused the maps (more versions than the format counts).
    Encode(hamt_serde::EncodeError),
    /// The bytes are not the output of `serialize_multiple`.
    Decode(hamt_serde::DecodeError),
    /// A decoded item is not a well-formed value (a container that claims more items than follow it).
    Malformed,
}

impl From<DataError> for PyErr {
    fn from(error: DataError) -> PyErr {
        match error {
            DataError::Unsupported(type_name) => PyTypeError::new_err(format!(
                "serialize_multiple cannot encode an object of type '{type_name}' (only None, bool, int, float, \
                 str, bytes, and tuples, lists and dicts of them)"
            )),
            DataError::TooDeep(limit) => {
                PyRecursionError::new_err(format!("containers nest deeper than {limit} levels"))
            }
            DataError::MergedKeys => PyValueError::new_err(
                "two keys of one map encode alike (distinct NaN floats), so the map cannot be written exactly",
            ),
            DataError::Encode(error) => PyValueError::new_err(format!("cannot encode the versions: {error}")),
            DataError::Decode(message) => PyValueError::new_err(format!("cannot decode the versions: {message}")),
            DataError::Malformed => PyValueError::new_err("cannot decode the versions: a malformed value"),
        }
    }
}
