//! Where failures become Python exceptions.
//!
//! Most errors are Python exceptions already (a key's `__hash__` raising) and propagate with `?`. The exception
//! that a key's or value's `__eq__` raises is different: it happens inside hamt-core, whose `PartialEq` cannot
//! fail. The comparison records the first such exception in a per-thread slot and answers "not equal"; every
//! comparison after it answers at once without calling Python. The operation then runs to its end on a trie that
//! stays well-formed, and [`guarded`] discards its result and raises the recorded exception, so the map the
//! caller holds is unchanged, as with `dict`.
//!
//! hamt-core does not panic when keys compare inconsistently (an `__eq__` that answers at random may lose or
//! repeat such a key, as in `dict`, but leaves the trie whole and its length right: hamt-core's
//! tests/inconsistent_eq.rs). Should a panic still come out of it, [`try_guarded`] turns it into `RuntimeError`, so
//! that it never escapes as PyO3's `PanicException` (which `except Exception` does not catch); a `MapMutation`
//! whose in-place operation panicked is abandoned, and every later use raises.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::PyErr;
use pyo3::exceptions::{PyRecursionError, PyRuntimeError, PyTypeError, PyValueError};

thread_local! {
    /// The first exception raised by a comparison during the current operation on this thread.
    static FIRST_ERROR: RefCell<Option<PyErr>> = const { RefCell::new(None) };
    /// Whether [`FIRST_ERROR`] holds an exception. Every guarded operation reads it twice and almost never finds
    /// it set: a `Cell<bool>` needs no destructor, so reading it is one thread-local load, where reaching the
    /// slot itself (whose `PyErr` must be dropped with the thread) also checks the slot's lifetime state. It cost
    /// a lookup a fifth of its time when every operation took and restored the slot.
    static ERROR_PENDING: Cell<bool> = const { Cell::new(false) };
}

/// Records `error` unless an earlier one is pending: the first exception is the one the caller sees.
pub(crate) fn record(error: PyErr) {
    if pending() {
        return;
    }
    FIRST_ERROR.with(|slot| *slot.borrow_mut() = Some(error));
    ERROR_PENDING.with(|flag| flag.set(true));
}

/// Whether a comparison of the current operation has raised (later comparisons are then skipped).
pub(crate) fn pending() -> bool {
    ERROR_PENDING.with(Cell::get)
}

/// Takes the pending exception out of the slot, if any, leaving none pending.
fn take_pending() -> Option<PyErr> {
    if !pending() {
        return None;
    }
    ERROR_PENDING.with(|flag| flag.set(false));
    FIRST_ERROR.with(|slot| slot.borrow_mut().take())
}

/// Puts `error` (taken by [`take_pending`]) back as the pending exception, or leaves none pending.
fn restore_pending(error: Option<PyErr>) {
    if let Some(error) = error {
        FIRST_ERROR.with(|slot| *slot.borrow_mut() = Some(error));
        ERROR_PENDING.with(|flag| flag.set(true));
    }
}

/// Why a guarded trie operation did not return a result.
pub(crate) enum Failure {
    /// A key's or value's `__eq__` raised this exception.
    Raised(PyErr),
    /// hamt-core panicked because keys compared inconsistently. A trie changed in place may then be left with
    /// its length out of step with its entries (memory stays sound), so its owner must not use it again.
    Inconsistent,
}

impl From<Failure> for PyErr {
    fn from(failure: Failure) -> PyErr {
        match failure {
            Failure::Raised(error) => error,
            Failure::Inconsistent => PyRuntimeError::new_err(
                "the map's keys compared inconsistently (an __eq__ whose answer changed during the operation); \
                 the operation was abandoned",
            ),
        }
    }
}

/// Runs one trie operation and returns its result, or why it has none: the first exception a comparison raised
/// during it, or a panic of hamt-core (keys that compare inconsistently), unless a comparison raised first.
///
/// An operation that a comparison re-enters (a key's `__eq__` that itself uses a map) has its own slot: the outer
/// operation's pending error, if any, is set aside and restored, so that neither sees the other's exception.
pub(crate) fn try_guarded<T>(operation: impl FnOnce() -> T) -> Result<T, Failure> {
    let outer = take_pending();
    // Unwind safety: a persistent operation only reads the trie it starts from; an in-place one may leave its trie
    // inconsistent, which `Failure::Inconsistent` tells its owner.
    let result = catch_unwind(AssertUnwindSafe(operation));
    let error = take_pending();
    restore_pending(outer);
    match (error, result) {
        (Some(error), _) => Err(Failure::Raised(error)),
        (None, Ok(result)) => Ok(result),
        (None, Err(_)) => Err(Failure::Inconsistent),
    }
}

/// [`try_guarded`] for operations whose trie is dropped on failure: the failure as a Python exception.
pub(crate) fn guarded<T>(operation: impl FnOnce() -> T) -> Result<T, PyErr> {
    try_guarded(operation).map_err(PyErr::from)
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
