//! `hamt.MapMutation`: a mutable copy of a map, updated in place, whose `finish()` returns the new map.

use hamt_core::Entry;
use pyo3::exceptions::{PyKeyError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::types::{PyDict, PyTuple};
use pyo3::{PyTraverseError, PyVisit};

use crate::errors::{Failure, guarded, pending, try_guarded};
use crate::gil::{GilGuarded, Object};
use crate::map::{Contents, Map, extend_trie, lookup, trie_repr, with_probe};
use crate::object::{Key, PythonHash, Trie, Value};

/// A mutable copy of a `Map`. Nodes it shares with the map are copied on first write; later writes to them are
/// in place, which is why a batch of updates costs less than as many `Map.set` calls.
#[pyclass(module = "hamt", name = "MapMutation", mapping)]
pub(crate) struct MapMutation {
    trie: GilGuarded<Trie>,
    /// As [`Map::contents`].
    contents: Contents,
    finished: bool,
    /// Set when an in-place operation panicked (keys that compare inconsistently): the trie may count its entries
    /// wrongly, so the mutation refuses every later use, and the collector's traversal skips it.
    abandoned: bool,
}

impl MapMutation {
    pub(crate) fn new(trie: Trie, contents: Contents) -> MapMutation {
        MapMutation { trie: GilGuarded::new(trie), contents, finished: false, abandoned: false }
    }

    /// The mutation, borrowed for a change, or the exception of [`MapMutation::check_open`]. One borrow where a
    /// check and then a change would take three (each an atomic update of PyO3's borrow flag).
    fn open_mut<'py>(slf: &Bound<'py, Self>) -> PyResult<PyRefMut<'py, Self>> {
        let this = slf.try_borrow_mut()?;
        if !this.abandoned && !this.finished {
            return Ok(this);
        }
        // The error message shows the mutation's `repr`, which borrows it: release it first.
        drop(this);
        MapMutation::check_open(slf)?;
        Ok(slf.try_borrow_mut()?)
    }

    fn check_open(slf: &Bound<'_, Self>) -> PyResult<()> {
        slf.try_borrow()?.check_usable()?;
        if slf.try_borrow()?.finished {
            return Err(PyValueError::new_err(format!("mutation {} has been finished", slf.repr()?)));
        }
        Ok(())
    }

    /// Refuses an abandoned mutation.
    fn check_usable(&self) -> PyResult<()> {
        if self.abandoned { Err(Failure::Inconsistent.into()) } else { Ok(()) }
    }

    /// An in-place operation on the trie: a panic abandons the mutation.
    fn in_place<T>(&mut self, operation: impl FnOnce(&mut Trie) -> T) -> PyResult<T> {
        let trie = &mut self.trie;
        try_guarded(|| operation(trie)).map_err(|failure| {
            if matches!(failure, Failure::Inconsistent) {
                self.abandoned = true;
            }
            failure.into()
        })
    }

    /// Sets `key` in place. A key's `__eq__` that raises leaves the mutation unchanged: the entry is looked up
    /// first, and the insertion happens only when no comparison raised.
    ///
    /// When every key, `key` included, is an exact `str`, no comparison can raise or run Python code (as in
    /// [`crate::map::with_probe`]), and the insertion runs unguarded (measured: a sixth of the time of a batch
    /// build of `str` keys).
    fn assign(&mut self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let contents = self.contents.with_pair(key, value);
        let key = Key::new(key)?;
        let value = Value(Object::new(value.clone().unbind()));
        if contents.str_keys {
            // The stored key is kept when present, as `Entry` and `dict` keep it.
            drop(self.trie.insert_mut(key, value));
        } else {
            self.in_place(|trie| match trie.entry(key) {
                _ if pending() => {}
                Entry::Occupied(mut occupied) => drop(occupied.insert(value)),
                Entry::Vacant(vacant) => drop(vacant.insert(value)),
            })?;
        }
        self.contents = contents;
        Ok(())
    }

    /// Removes `key` in place and returns its value, or `None` when it is absent; unchanged when `__eq__` raises.
    ///
    /// The key is looked up first, and removed only when that lookup found it without an exception. (hamt-core's
    /// `OccupiedEntry::remove` would compare the key a second time and panic if the answer changed; a key whose
    /// `__eq__` is inconsistent is the caller's problem, but must never be a crash.)
    fn take(&mut self, key: &Bound<'_, PyAny>) -> PyResult<Option<Py<PyAny>>> {
        let probe = Key::probe(key)?;
        if !guarded(|| self.trie.contains_key(&probe))? {
            return Ok(None);
        }
        Ok(self.in_place(|trie| trie.remove_mut(&probe))?.map(|value| value.0.into_inner()))
    }
}

#[pymethods]
impl MapMutation {
    /// Sets `key` to `value`.
    fn set(slf: &Bound<'_, Self>, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        MapMutation::open_mut(slf)?.assign(key, value)
    }

    fn __setitem__(slf: &Bound<'_, Self>, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        MapMutation::set(slf, key, value)
    }

    fn __delitem__(slf: &Bound<'_, Self>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        MapMutation::check_open(slf)?;
        match slf.try_borrow_mut()?.take(key)? {
            Some(_) => Ok(()),
            None => Err(PyKeyError::new_err((key.clone().unbind(),))),
        }
    }

    /// Removes `key` and returns its value; `default` when it is absent, or `KeyError` without a default.
    #[pyo3(signature = (key, *default))]
    fn pop(slf: &Bound<'_, Self>, key: &Bound<'_, PyAny>, default: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        MapMutation::check_open(slf)?;
        if default.len() > 1 {
            return Err(PyTypeError::new_err(format!(
                "pop() accepts 1 to 2 positional arguments, got {}",
                default.len() + 1
            )));
        }
        match slf.try_borrow_mut()?.take(key)? {
            Some(value) => Ok(value),
            None if default.len() == 1 => Ok(default.get_item(0)?.unbind()),
            None => Err(PyKeyError::new_err((key.clone().unbind(),))),
        }
    }

    /// The value for `key`, or `default`.
    #[pyo3(signature = (key, default = None))]
    fn get(&self, py: Python<'_>, key: &Bound<'_, PyAny>, default: Option<Py<PyAny>>) -> PyResult<Py<PyAny>> {
        self.check_usable()?;
        let found = lookup(&self.trie, self.contents, key)?.map(Bound::unbind);
        Ok(found.unwrap_or_else(|| default.unwrap_or_else(|| py.None())))
    }

    fn __getitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.check_usable()?;
        lookup(&self.trie, self.contents, key)?
            .map(Bound::unbind)
            .ok_or_else(|| PyKeyError::new_err((key.clone().unbind(),)))
    }

    fn __contains__(&self, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.check_usable()?;
        with_probe(&self.trie, self.contents, key, |trie, probe| trie.contains_key(probe))
    }

    fn __len__(&self) -> PyResult<usize> {
        self.check_usable()?;
        Ok(self.trie.len())
    }

    fn __iter__(slf: &Bound<'_, Self>) -> PyResult<()> {
        Err(PyTypeError::new_err(format!("{} is not iterable", slf.get_type().repr()?)))
    }

    /// Adds the pairs of a mapping, an iterable of pairs and keywords; on an exception, none of them.
    #[pyo3(signature = (*args, **kwargs))]
    fn update(slf: &Bound<'_, Self>, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
        let col = match args.len() {
            0 => None,
            1 => Some(args.get_item(0)?),
            count => {
                return Err(PyTypeError::new_err(format!("update expected at most 1 arguments, got {count}")));
            }
        };
        MapMutation::check_open(slf)?;
        let (mut trie, mut contents) = {
            let this = slf.try_borrow()?;
            (this.trie.clone(), this.contents)
        };
        extend_trie(&mut trie, &mut contents, col.as_ref(), kwargs)?;
        let mut this = slf.try_borrow_mut()?;
        *this.trie = trie;
        this.contents = contents;
        Ok(())
    }

    /// Ends the mutation and returns the map it built; the mutation then refuses changes.
    fn finish(&mut self) -> PyResult<Map> {
        self.check_usable()?;
        self.finished = true;
        Ok(Map::from_trie(self.trie.clone(), self.contents))
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exception))]
    fn __exit__(&mut self, _exception: &Bound<'_, PyTuple>) -> bool {
        self.finished = true;
        false
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        if slf.try_borrow()?.abandoned {
            return Ok("hamt.MapMutation(<abandoned>)".to_owned());
        }
        trie_repr(slf.as_any(), &slf.try_borrow()?.trie, "hamt.MapMutation")
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let (Ok(other), Some(equal)) = (other.cast::<MapMutation>(), crate::map::equality_asked(op)) else {
            return Ok(py.NotImplemented());
        };
        let other = other.try_borrow()?;
        self.check_usable()?;
        other.check_usable()?;
        let same = guarded(|| *self.trie == *other.trie)?;
        Ok((same == equal).into_pyobject(py)?.to_owned().into_any().unbind())
    }

    fn __hash__(slf: &Bound<'_, Self>) -> PyResult<isize> {
        Err(PyTypeError::new_err(format!("unhashable type: {}", slf.get_type().name()?)))
    }

    fn __reduce__(slf: &Bound<'_, Self>) -> PyResult<()> {
        Err(PyTypeError::new_err(format!("can't pickle {} objects", slf.get_type().name()?)))
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        // An abandoned trie is not walked (its count may be wrong); a cycle through it is then not collected.
        if self.contents.may_hold_cycle && !self.abandoned {
            for (key, value) in self.trie.iter() {
                visit.call(key.object())?;
                visit.call(&*value.0)?;
            }
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        *self.trie = Trie::with_hasher(PythonHash);
        self.contents = Contents::EMPTY;
    }
}
