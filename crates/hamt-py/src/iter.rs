//! The views (`keys()`, `values()`, `items()`), the iterator over a map, and the lazy `diff` iterator.

use hamt_core::DiffItem;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3::{PyTraverseError, PyVisit};

use crate::errors::guarded;
use std::sync::OnceLock;

use crate::gil::{Exclusive, GilGuarded, Pointers, refill_pair};
use crate::map::Map;
use crate::object::{Key, Trie, Value};

/// What an iterator over a map yields.
#[derive(Clone, Copy)]
pub(crate) enum ItemKind {
    Keys,
    Values,
    Items,
}

/// The iterator of a trie, in the cell that owns the trie it borrows.
type TrieIter<'a> = hamt_core::Iter<'a, Key, Value, Pointers>;

self_cell::self_cell!(
    /// A copy of a map's root (nodes are shared, not copied) and an iterator borrowing it.
    struct IterCell {
        owner: Trie,
        #[covariant]
        dependent: TrieIter,
    }
);

/// An iterator over a map's keys, values or items.
///
/// It walks a copy of the map's root by reference, so that it increments the count of only what it yields, and
/// keeps the map itself, as a list iterator keeps its list, so that the garbage collector sees the objects it can
/// still yield through the map.
///
/// The class is `frozen`: its position changes through [`Exclusive`], which refuses a step taken while another is
/// in progress, and the C slot of `next()` (`crate::gil`) calls [`fast_next`] without PyO3's call wrapper.
#[pyclass(module = "hamt", name = "MapIterator", frozen)]
pub(crate) struct MapIterator {
    map: Py<Map>,
    entries: Exclusive<IterCell>,
    kind: ItemKind,
    /// The first tuple of `(key, value)` yielded, refilled by later steps when the consumer has let it go
    /// ([`refill_pair`]).
    pair: OnceLock<Py<PyTuple>>,
}

impl MapIterator {
    pub(crate) fn new(map: &Bound<'_, Map>, kind: ItemKind) -> PyResult<MapIterator> {
        let entries = Exclusive::new(IterCell::new(map.get().trie.clone(), |trie| trie.iter()));
        Ok(MapIterator { map: map.clone().unbind(), entries, kind, pair: OnceLock::new() })
    }
}

/// The next item of `iterator` (`None` when it is exhausted), or `None` outside when a step is already in progress.
///
/// The step only takes new references to the entry's objects, which runs no Python code; the tuple of an item is
/// made after it, since making it may run the garbage collector and so any finalizer. Everything it owns is a
/// `Bound`, so that its C slot may call it without PyO3's call wrapper (see `crate::gil`).
pub(crate) fn fast_next<'py>(iterator: &MapIterator, py: Python<'py>) -> Option<PyResult<Option<Bound<'py, PyAny>>>> {
    let kind = iterator.kind;
    let entry = iterator.entries.with_mut(|cell| {
        cell.with_dependent_mut(|_, entries| {
            entries.next().map(|(key, value)| (key.object().bind(py).clone(), value.0.bind(py).clone()))
        })
    })?;
    let Some((key, value)) = entry else {
        return Some(Ok(None));
    };
    Some(match kind {
        ItemKind::Keys => Ok(Some(key)),
        ItemKind::Values => Ok(Some(value)),
        ItemKind::Items => new_or_refilled_pair(iterator, key, value).map(|pair| Some(pair.into_any())),
    })
}

/// The tuple `(key, value)`: the iterator's first tuple refilled if nothing else holds it, else a new tuple (the
/// first of which the iterator keeps).
fn new_or_refilled_pair<'py>(
    iterator: &MapIterator,
    key: Bound<'py, PyAny>,
    value: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTuple>> {
    let (key, value) = match iterator.pair.get() {
        Some(cached) => match refill_pair(cached, key, value) {
            Ok(pair) => return Ok(pair),
            Err(objects) => objects,
        },
        None => (key, value),
    };
    let py = key.py();
    // A pair converts to a tuple by filling a new 2-tuple directly.
    let pair = (key, value).into_pyobject(py)?;
    if iterator.pair.get().is_none() {
        // Nothing ran since the test above (the GIL is held), so the cell is still empty; a failed set would
        // hand the reference back, to be released as a `Bound`.
        if let Err(unused) = iterator.pair.set(pair.clone().unbind()) {
            drop(unused.into_bound(py));
        }
    }
    Ok(pair)
}

#[pymethods]
impl MapIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        match fast_next(self, py) {
            Some(item) => Ok(item?.map(Bound::unbind)),
            None => Err(PyRuntimeError::new_err("MapIterator already executing")),
        }
    }

    fn __length_hint__(&self) -> usize {
        self.entries.with_mut(|cell| cell.borrow_dependent().len()).unwrap_or(0)
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.map)?;
        if let Some(pair) = self.pair.get() {
            visit.call(pair)?;
        }
        Ok(())
    }
}

/// Defines a view class: its length, its iterator, and a `repr` that lists what it yields.
macro_rules! view {
    ($(#[$doc:meta])* $name:ident, $python_name:literal, $kind:expr) => {
        $(#[$doc])*
        #[pyclass(module = "hamt", name = $python_name, sequence)]
        pub(crate) struct $name {
            map: Py<Map>,
        }

        impl $name {
            pub(crate) fn new(map: &Bound<'_, Map>) -> $name {
                $name { map: map.clone().unbind() }
            }
        }

        #[pymethods]
        impl $name {
            fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
                Ok(self.map.bind(py).try_borrow()?.trie.len())
            }

            fn __iter__(&self, py: Python<'_>) -> PyResult<MapIterator> {
                MapIterator::new(self.map.bind(py), $kind)
            }

            fn __contains__(&self, item: &Bound<'_, PyAny>) -> PyResult<bool> {
                contains(self.map.bind(item.py()), $kind, item)
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let items = pyo3::types::PyList::new(py, MapIterator::new(self.map.bind(py), $kind)?.entries_of(py)?)?;
                Ok(format!("{}({})", $python_name, items.repr()?))
            }

            fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
                visit.call(&self.map)
            }
        }
    };
}

impl MapIterator {
    /// Everything the iterator yields, for a `repr`.
    fn entries_of(self, py: Python<'_>) -> PyResult<Vec<Py<PyAny>>> {
        let mut all = Vec::with_capacity(self.__length_hint__());
        while let Some(item) = self.__next__(py)? {
            all.push(item);
        }
        Ok(all)
    }
}

/// `item in view`: a lookup for keys and items, a scan (as in `dict`'s values view) for values.
fn contains(map: &Bound<'_, Map>, kind: ItemKind, item: &Bound<'_, PyAny>) -> PyResult<bool> {
    let map = map.try_borrow()?;
    match kind {
        ItemKind::Keys => {
            let key = Key::probe(item)?;
            guarded(|| map.trie.contains_key(&key))
        }
        ItemKind::Items => {
            let Ok(pair) = item.cast::<PyTuple>() else { return Ok(false) };
            if pair.len() != 2 {
                return Ok(false);
            }
            let key = pair.get_item(0)?;
            let key = Key::probe(&key)?;
            let Some(value) = guarded(|| map.trie.get(&key).map(|value| value.0.clone_ref(item.py())))? else {
                return Ok(false);
            };
            value.bind(item.py()).eq(pair.get_item(1)?)
        }
        ItemKind::Values => {
            for value in map.trie.values() {
                if value.0.bind(item.py()).eq(item)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
}

view!(
    /// `Map.keys()`: iterable, sized, and `key in view` is a lookup.
    MapKeys,
    "MapKeys",
    ItemKind::Keys
);
view!(
    /// `Map.values()`: iterable and sized.
    MapValues,
    "MapValues",
    ItemKind::Values
);
view!(
    /// `Map.items()`: iterable over `(key, value)` tuples, and sized.
    MapItems,
    "MapItems",
    ItemKind::Items
);

/// The diff of two tries, in the cell that owns the tries it borrows.
type TrieDiff<'a> = hamt_core::Diff<'a, Key, Value, Pointers, crate::object::PythonHash>;

self_cell::self_cell!(
    /// Two tries and the diff iterator that walks them.
    struct DiffCell {
        owner: (Trie, Trie),
        #[covariant]
        dependent: TrieDiff,
    }
);

/// The lazy iterator of `Map.diff(other)`.
#[pyclass(module = "hamt", name = "DiffIterator")]
pub(crate) struct DiffIterator {
    maps: (Py<Map>, Py<Map>),
    cell: GilGuarded<DiffCell>,
}

impl DiffIterator {
    pub(crate) fn new(first: &Bound<'_, Map>, second: &Bound<'_, Map>) -> PyResult<DiffIterator> {
        let tries = (first.try_borrow()?.trie.clone(), second.try_borrow()?.trie.clone());
        let cell = GilGuarded::new(DiffCell::new(tries, |(first, second)| first.diff(second)));
        Ok(DiffIterator { maps: (first.clone().unbind(), second.clone().unbind()), cell })
    }
}

#[pymethods]
impl DiffIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next difference. When a value's `__eq__` raises, the exception propagates and the pair is skipped.
    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyTuple>>> {
        let item = guarded(|| {
            self.cell.with_dependent_mut(|_, diff| {
                diff.next().map(|item| match item {
                    DiffItem::Added(key, value) => ("added", key.object().clone_ref(py), value.0.clone_ref(py), None),
                    DiffItem::Removed(key, value) => {
                        ("removed", key.object().clone_ref(py), value.0.clone_ref(py), None)
                    }
                    DiffItem::Changed { key, old, new } => {
                        ("changed", key.object().clone_ref(py), old.0.clone_ref(py), Some(new.0.clone_ref(py)))
                    }
                })
            })
        })?;
        let Some((kind, key, value, new)) = item else {
            return Ok(None);
        };
        let kind = kind.into_pyobject(py)?.into_any().unbind();
        let tuple = match new {
            Some(new) => PyTuple::new(py, [kind, key, value, new])?,
            None => PyTuple::new(py, [kind, key, value])?,
        };
        Ok(Some(tuple.unbind()))
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.maps.0)?;
        visit.call(&self.maps.1)
    }
}
